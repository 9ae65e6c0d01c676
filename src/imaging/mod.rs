//! Image checks on captured biometrics: the fingerprint quality score ([`quality`]; the capture
//! policy that uses it is not wired in yet), the face photo checks and stored JPEG ([`face`]), and
//! the signature image rendered from the pen trace ([`signature`]).

pub mod face;
pub mod quality;
pub mod signature;

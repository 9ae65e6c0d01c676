//! Image checks on captured biometrics: the fingerprint quality score ([`quality`]), which the
//! capture policy (`crate::visit::policy`) applies to every finger attempt, the face photo checks
//! and stored JPEG ([`face`]), and the signature image rendered from the pen trace ([`signature`]).

pub mod face;
pub mod quality;
pub mod signature;

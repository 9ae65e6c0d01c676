//! Image checks on captured biometrics. For now: the fingerprint quality score ([`quality`]); the
//! capture policy that uses it is not wired in yet.

pub mod quality;

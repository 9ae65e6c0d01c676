//! Image checks on captured biometrics. For now: the fingerprint quality score ([`quality`]), which
//! the capture policy (`crate::visit::policy`) applies to every finger attempt.

pub mod quality;

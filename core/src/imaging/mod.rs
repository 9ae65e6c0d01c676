//! Image checks on captured biometrics: the fingerprint quality score ([`quality`]), which the
//! capture policy ([`crate::visit::policy`]) applies to every finger attempt, the face photo checks
//! and stored JPEG ([`face`]), the signature's pen trace, its image and its quality ([`signature`]), and the
//! stored fingerprint file ([`finger`]).

pub mod face;
pub mod finger;
mod pen;
pub mod quality;
pub mod signature;

//! A visit on the kit: its encrypted draft ([`draft`]), the captures taken from devices
//! ([`capture`], [`face`], [`fingers`], [`signature`]) and synthetic visits ([`sample`]). The
//! visit's data model is `jemput_core::visit`.

pub mod capture;
pub mod draft;
pub mod error;
pub mod face;
pub mod fingers;
pub mod sample;
pub mod signature;

pub use draft::{DraftError, Drafts};
pub use error::CaptureError;
pub use jemput_drivers::synth;

//! A visit: resident, consent, captures, exceptions, synthetic generators and encrypted drafts.

pub mod capture;
pub mod check;
pub mod draft;
pub mod face;
pub mod fingers;
pub mod model;
pub mod nik;
pub mod policy;
pub mod signature;

pub use check::Problem;
pub use draft::{DraftError, Drafts};
pub use jemput_drivers::synth;
pub use model::*;
pub mod sample;

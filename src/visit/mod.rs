//! A visit: resident, consent, captures, exceptions, synthetic generators and encrypted drafts.

pub mod check;
pub mod draft;
pub mod model;
pub mod nik;
pub mod synth;

pub use check::Problem;
pub use draft::{DraftError, Drafts};
pub use model::*;
pub mod sample;

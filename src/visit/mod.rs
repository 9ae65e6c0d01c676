//! A visit: resident, consent, captures, exceptions, synthetic generators and encrypted drafts.

pub mod model;
pub mod synth;

pub use model::*;

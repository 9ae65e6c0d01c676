//! A visit: resident, consent, captures and exceptions ([`model`]), the NIK ([`nik`]), what blocks
//! sealing ([`check`]) and the capture policy ([`policy`]). Synthetic visits are
//! [`crate::sample`]; taking the captures from devices and keeping the encrypted draft are the
//! kit's (`jemput_kit::visit`).

pub mod check;
pub mod model;
pub mod nik;
pub mod policy;

pub use check::{DocumentExceptionError, Problem};
pub use model::*;

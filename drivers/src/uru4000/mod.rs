//! DigitalPersona U.are.U 4000 / 4000B (and 4500) USB fingerprint readers (docs/devices.md §3): the
//! pure codec ([`protocol`]), the driver ([`Uru4000`], and [`replugging`] which finds the reader
//! again after an unplug) over any [`crate::usb::UsbTransport`], the reader model ([`UruModel`])
//! and the ids ([`ids`]).
//!
//! Implemented from the facts in docs/devices.md §3 and public protocol descriptions only; libfprint's
//! `uru4000` driver (LGPL-2.1) was neither read nor translated.
//!
//! **Not done yet:** image descrambling. Firmware that scrambles its images is refused with a
//! clear error ([`UruError::Scrambled`]); the keystream of docs/devices.md is unverified, so only the
//! [`Identity`] descrambler ships and a verified one plugs in through [`Descrambler`]. Also
//! unverified on hardware: the byte order of the header's line count, the meaning of the 0xF0
//! device-info register (not read), and the image's orientation and polarity (passed through as
//! sent). The Microsoft readers of the same family (AES challenge/response) are not supported.

mod descramble;
mod driver;
mod error;
pub mod factory;
pub mod ids;
pub mod model;
pub mod protocol;

pub use descramble::{Descrambler, Identity};
pub use driver::{device_info, replugging, Uru4000, UruConfig};
pub use error::UruError;
pub use factory::{is_sim, open, OpenReaderError, UruFactory, SIM_NAME};
pub use model::{UruFault, UruHandle, UruModel, UruModelConfig, UruOp};

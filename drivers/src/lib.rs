//! Device traits and selectors for jemput's capture devices.
//!
//! This crate holds the *shape* every driver will fill: what a device reports about itself
//! ([`DeviceInfo`]), the capabilities a visit uses (fingerprint scanner, signature pad, location
//! source, calibration) and how a technician names a device ([`Selector`]).
//!
//! Drivers so far, each with its device model (the device's side of the same wire protocol, for
//! running without hardware): [`isdv4`] (Wacom ISDV4/W8001 serial pen digitizers, signature pads)
//! and [`nmea`] (NMEA-0183 GPS receivers, a location source).
//!
//! **Not here yet:** the other drivers (EF01 fingerprint modules over serial; PTP cameras, UVC
//! webcams and U.are.U 4000-class readers over USB), the factory registry and discovery.

#![forbid(unsafe_code)]

mod finger;
pub mod isdv4;
pub mod nmea;
mod selector;
pub mod synth;
mod traits;
pub mod transport;

pub use finger::FingerPosition;
pub use selector::{Selector, SelectorError};
pub use traits::*;
pub use transport::{LinkError, MemLink, PortLink, SerialLink};

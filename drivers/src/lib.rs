//! Device traits and selectors for jemput's capture devices.
//!
//! This crate holds the *shape* every driver will fill: what a device reports about itself
//! ([`DeviceInfo`]), the capabilities a visit uses (fingerprint scanner, signature pad, location
//! source, calibration) and how a technician names a device ([`Selector`]).
//!
//! **Not here yet:** the drivers themselves (EF01 fingerprint modules, ISDV4 pens and NMEA GPS over
//! serial; PTP cameras, UVC webcams and U.are.U 4000-class readers over USB) and their device models
//! come next, in the "serial devices" and "USB devices" issues. Until then jemput's captures come
//! from the synthetic generators in the `jemput` crate, which report a `synthetic` [`DeviceInfo`].

#![forbid(unsafe_code)]

mod finger;
pub mod isdv4;
mod selector;
pub mod synth;
mod traits;
pub mod transport;

pub use finger::FingerPosition;
pub use selector::{Selector, SelectorError};
pub use traits::*;
pub use transport::{LinkError, MemLink, PortLink, SerialLink};

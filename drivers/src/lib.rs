//! Device traits and selectors for jemput's capture devices.
//!
//! This crate holds the *shape* every driver will fill: what a device reports about itself
//! ([`DeviceInfo`]), the capabilities a visit uses (fingerprint scanner, signature pad, location
//! source, calibration) and how a technician names a device ([`Selector`]).
//!
//! Drivers, each with its device model (the device's side of the same wire protocol, for running
//! without hardware): [`ef01`] (EF01 serial fingerprint modules), [`isdv4`] (Wacom ISDV4/W8001
//! serial pen digitizers, signature pads) and [`nmea`] (NMEA-0183 GPS receivers, a location
//! source). [`discover`] lists serial ports with their access status; [`registry`] holds a factory
//! per driver, lists what each finds and opens a device by selector (including `sim:` selectors
//! that start a device model in-process); [`udev`] writes the udev rules for all of them from
//! their ID tables.
//!
//! [`usb`] is the small USB transport (libusb through `rusb`, or an in-memory link to a device
//! model) and the listing of USB devices with their access status; [`ptp`] drives PTP still
//! cameras over it, with its camera model, and [`uru4000`] the DigitalPersona U.are.U 4000-class
//! fingerprint readers, with their reader model.
//!
//! [`v4l2`] drives UVC webcams (and any V4L2 video capture node) through the kernel's V4L2
//! interface. Captures the kit cannot take from a device yet come from the synthetic generators
//! in [`synth`].

// Unsafe code is denied everywhere but in `v4l2::sys` (the V4L2 ioctls), which allows it.
#![deny(unsafe_code)]

pub mod discover;
pub mod ef01;
mod finger;
pub mod isdv4;
pub mod nmea;
pub mod ptp;
pub mod registry;
pub mod replug;
mod selector;
pub mod synth;
mod traits;
pub mod transport;
pub mod udev;
pub mod uru4000;
pub mod usb;
pub mod usb_registry;
pub mod usbip;
pub mod v4l2;

pub use finger::FingerPosition;
pub use selector::{Selector, SelectorError};
pub use traits::*;
pub use transport::{LinkError, MemLink, PortLink, SerialLink};

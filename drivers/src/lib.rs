//! jemput's capture devices: the device traits, one registry of driver factories, selectors,
//! transports, and the drivers with their device models.
//!
//! This crate holds the *shape* every driver fills: what a device reports about itself
//! ([`DeviceInfo`]), the capabilities a visit uses (fingerprint scanner, camera, signature pad,
//! location source, and calibration: an optional capability of the first three, see
//! [`calibration`]) and how a technician names a device ([`Selector`]).
//!
//! **One registry.** Every driver has one [`factory::DeviceFactory`] in its own folder, and
//! [`registry`] holds them all in one list: it lists what they find (serial ports, USB devices,
//! V4L2 nodes, in one call), resolves selectors, probes shared serial ports, and opens a device
//! by selector — including `sim:` selectors, which start the driver's device model in-process.
//! Every device model starts through one trait ([`sim::DeviceModel`]): a serial model on a pty, a
//! USB model over USB/IP or in memory ([`sim::SimModel`]). Why a device could not be opened is an
//! [`error::OpenError`] that says what to do next.
//!
//! Drivers, each with the same files (`protocol.rs`: the pure codec shared by the driver and the
//! model; `driver.rs`; `model.rs`: the device's side of the same wire protocol, for running
//! without hardware; `ids.rs`; `error.rs`; `factory.rs`: how the registry knows it):
//!
//! * serial, over [`transport`] (`serialport` on a tty or pty): [`ef01`] (EF01 fingerprint
//!   modules), [`isdv4`] (Wacom ISDV4/W8001 pen digitizers, signature pads), [`nmea`] (NMEA-0183
//!   GPS receivers, a location source); [`discover`] lists serial ports with their access status,
//!   their USB identities read from sysfs by [`tty_sysfs`] (no libudev);
//! * USB, over the small transport in [`usb`] (libusb through `rusb`, or an in-memory link to a
//!   device model; [`usbip`] serves a model to a real USB stack): [`uru4000`] (DigitalPersona
//!   U.are.U 4000-class fingerprint readers), [`ptp`] (PTP still cameras);
//! * [`v4l2`]: UVC webcams (any V4L2 video capture node), through the kernel's V4L2 interface.
//!
//! [`udev`] writes the udev rules for all of them from their ID tables; [`replug`] reopens a
//! device by its selector after a replug. Captures the kit cannot take from a device yet come
//! from the synthetic generators in [`synth`].
//!
//! # How to add a driver (one factory, one folder)
//!
//! 1. Make the folder `src/<driver>/` with the usual files: `protocol.rs` (bytes in, frames out;
//!    no I/O), `driver.rs` (generic over the smallest transport it needs: a
//!    [`SerialLink`] or a [`usb::UsbTransport`]) implementing the capability trait
//!    ([`FingerprintScanner`], [`Camera`], [`SignaturePad`] or [`LocationSource`]), `model.rs`
//!    (the device's side of the protocol: a serial model runs on any [`SerialLink`], a USB model
//!    is a [`usb::UsbDevice`]), `ids.rs` (one commented line per device, sorted), `error.rs`.
//! 2. Write `factory.rs`: a unit struct implementing [`factory::DeviceFactory`] — its name,
//!    capability and [`factory::Transport`]; `recognise` (whether a device the transport lists is
//!    one of its own, from `ids.rs`); `open` (on a port the registry opened, on the device its
//!    selector names, or on its model in memory, as the transport has it) — and
//!    [`sim::DeviceModel`] (the model's `sim:` name, its faults, and `start`, which makes the
//!    model from [`sim::SimOptions`] without caring where it will run).
//! 3. Add the factory to the list in `registry/mod.rs` (serial drivers in probe order). Listing,
//!    selectors, `--driver` (serial drivers), `jemput devices`, `devices test`, `capture`, `sim:`
//!    selectors and `jemput sim` pick it up from there; `drivers/tests/registry_factories.rs`
//!    checks it has names of its own and that its model opens behind it.
//! 4. Add its ID table to [`udev`] when its devices need seat access, then regenerate the rules.

// Unsafe code is denied everywhere but in `v4l2::sys` (the V4L2 ioctls), which allows it.
#![deny(unsafe_code)]

pub mod calibration;
mod captures;
pub mod discover;
pub mod ef01;
pub mod error;
pub mod factory;
pub mod fault;
mod finger;
pub mod isdv4;
pub mod nmea;
pub mod ptp;
pub mod registry;
pub mod replug;
mod selector;
pub mod sim;
pub mod synth;
mod traits;
pub mod transport;
pub mod tty_sysfs;
pub mod udev;
pub mod uru4000;
pub mod usb;
pub mod usbip;
pub mod v4l2;

pub use captures::{FingerImage, Fix, FrameMeta, PenPoint, PenTrace, Photo, PreviewStats, Size};
pub use finger::FingerPosition;
pub use selector::{Selector, SelectorError};
pub use traits::*;
pub use transport::{LinkError, MemLink, PortLink, SerialLink};

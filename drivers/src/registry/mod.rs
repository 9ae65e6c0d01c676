//! The driver registry: one list of every driver's [`DeviceFactory`], what they find on this
//! machine, and opening a device by [`Selector`](crate::Selector).
//!
//! * [`list_all`] reports, in this order, every serial port, every USB device and every V4L2 node
//!   some driver's factory recognises, with its [`Access`](crate::discover::Access) status and the
//!   drivers that may talk to it; [`list`] keeps those with a driver. USB-serial bridges (CH340,
//!   CP210x, FT232, PL2303) sit in front of fingerprint modules, pen pads and GPS receivers alike,
//!   so one port often names several candidate drivers.
//! * [`open`] turns a selector into an [`OpenedDevice`]:
//!   - `sim:<model>[:n]` starts that driver's device model in-process (fast pacing; `n` picks the
//!     simulated person or place) — a serial model on a new pty, a USB model on the in-memory USB
//!     transport — and opens the real driver on it. The model lives inside the opened device and
//!     stops when it is dropped.
//!   - `v4l2:<node>` is opened by the V4L2 driver.
//!   - `VID:PID[:SERIAL]` and `usb:<port path>` name a USB device when a USB driver's ID table has
//!     the VID:PID or libusb lists a device there some USB driver recognises: that driver finds it
//!     by the selector. Otherwise (and always with `--driver`, which names a serial driver) they
//!     are resolved among the serial ports: exactly one port must match. Several matches are an
//!     error that lists them ([`OpenError::Ambiguous`]); none is an error saying what was looked
//!     for ([`OpenError::NotFound`]). Nothing is guessed.
//!   - a tty path is opened directly.
//! * Which serial driver talks to a port: the one named in [`OpenOptions::driver`]; else the only
//!   candidate the ID tables give; else a short **probe**, in the registry's order, each on a
//!   fresh open of the port:
//!   1. `ef01`: VfyPwd then ReadSysPara at 57 600 baud (an EF01 module answers within ~0.5 s);
//!   2. `isdv4`: stop, then the pen query `*` at 19 200 baud (an ISDV4 pad answers within 1 s);
//!   3. `nmea`: listen for up to 2.5 s for one NMEA sentence with a valid checksum (`$…*hh`).
//!
//!   The first that answers is used; a device that answers but fails (a wrong password, say) stops
//!   the probe with that error. If none answers the error asks for `--driver`.
//! * [`OpenOptions::wanted`] narrows all of this to the drivers of one capability (`capture face`
//!   opens cameras only): a selector that names another kind of device is refused before anything
//!   is opened.
//! * [`start_sim`] starts a device model for `jemput sim`: a serial model on a pty, a USB model
//!   behind a USB/IP server.

mod list;
mod open;
mod opened;

use crate::ef01::factory::Ef01Factory;
use crate::isdv4::factory::Isdv4Factory;
use crate::nmea::factory::NmeaFactory;
use crate::ptp::factory::PtpFactory;
use crate::uru4000::factory::UruFactory;
use crate::v4l2::factory::V4l2Factory;

pub use crate::error::{Candidate, NotCapable, OpenError};
pub use crate::factory::{
    Attempt, CameraOptions, DeviceFactory, DriverOptions, Recognised, Seen, Target, Transport,
};
pub use crate::sim::{DeviceModel, ModelDevice, SimFault, SimModel, SimOptions};
pub use crate::traits::{Capabilities, Capability};
pub use list::{
    list, list_all, list_serial, list_usb, list_video, resolve, usb_found, video_found,
    with_selectors, DriverCandidate, FoundDevice,
};
pub use open::{open, open_model, OpenOptions};
pub use opened::{Identified, OpenedDevice};

/// Every driver, once. Serial drivers come first, in probe order; the order is also the order of
/// candidate drivers in listings and of the models in messages.
static FACTORIES: &[&dyn DeviceFactory] = &[
    &Ef01Factory,
    &Isdv4Factory,
    &NmeaFactory,
    &UruFactory,
    &PtpFactory,
    &V4l2Factory,
];

/// Every driver.
pub fn factories() -> &'static [&'static dyn DeviceFactory] {
    FACTORIES
}

/// The driver with this name or alias.
pub fn factory(name: &str) -> Option<&'static dyn DeviceFactory> {
    FACTORIES.iter().copied().find(|f| f.is_named(name))
}

/// The drivers `--driver` picks from, in probe order: the serial drivers, as a serial port's USB
/// id often names a bridge several of them sit behind (USB and V4L2 devices say what they are).
pub fn port_drivers() -> impl Iterator<Item = &'static dyn DeviceFactory> {
    FACTORIES
        .iter()
        .copied()
        .filter(|f| matches!(f.transport(), Transport::Serial { .. }))
}

/// The serial driver with this name or alias (what `--driver` takes).
pub fn port_driver(name: &str) -> Option<&'static dyn DeviceFactory> {
    port_drivers().find(|f| f.is_named(name))
}

/// The driver whose model is `sim:<name>` (by the model's name, or the driver's name or alias).
pub fn sim_factory(name: &str) -> Option<&'static dyn DeviceFactory> {
    FACTORIES.iter().copied().find(|f| {
        f.model()
            .is_some_and(|m| m.model_name().eq_ignore_ascii_case(name) || f.is_named(name))
    })
}

/// Every device model, in the registry's order.
pub fn models() -> impl Iterator<Item = &'static dyn DeviceModel> {
    FACTORIES.iter().filter_map(|f| f.model())
}

/// Starts the device model `sim:<name>` for `jemput sim` (see [`SimModel::start`]).
pub fn start_sim(name: &str, options: &SimOptions) -> Result<SimModel, OpenError> {
    let f = sim_factory(name).ok_or_else(|| OpenError::UnknownModel {
        name: name.into(),
        known: known_models(),
    })?;
    let model = f.model().expect("sim_factory finds drivers with a model");
    SimModel::start(model, f.name(), options)
}

/// The names `--driver` takes, as error messages list them: `ef01, isdv4 (w8001), nmea (gps)`.
fn known_drivers() -> String {
    port_drivers()
        .map(|f| match f.aliases() {
            [] => f.name().to_string(),
            a => format!("{} ({})", f.name(), a.join(", ")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every `sim:` selector, as error messages list them.
fn known_models() -> String {
    models()
        .map(|m| format!("sim:{}", m.model_name()))
        .collect::<Vec<_>>()
        .join(", ")
}

//! The one trait every driver implements ([`DeviceFactory`]): what it drives and over which
//! [`Transport`], how it recognises its devices among those the transport lists, how it opens one
//! ([`Target`]), and its device model ([`DeviceModel`]). The registry holds one factory per
//! driver in one list; each driver's factory lives in its own folder (`<driver>/factory.rs`).

use std::fmt;

use crate::sim::DeviceModel;
use crate::transport::{PortLink, SerialLink};
use crate::usb::MemPlug;
use crate::{Capabilities, Capability, Selector, Size};

/// How a driver's devices are attached, listed and told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A serial port (a tty): recognised by the USB id of the bridge or receiver in front of it,
    /// or by the ACPI/PNP id of a built-in port, and opened at a line speed. Cheap bridges sit in
    /// front of several kinds of device, so a port may have several candidate drivers: `--driver`
    /// names one of them, else a probe decides.
    Serial {
        /// The line speed to open a port at when neither `--baud` nor the ID table says.
        default_baud: u32,
    },
    /// A USB device driven through libusb: recognised by VID:PID or by interface class. The
    /// driver finds the device by its selector itself (and again after a replug).
    Usb,
    /// A V4L2 video node, recognised by what the node says it does and opened by its path.
    V4l2,
}

impl Transport {
    /// The selector forms that name a device on this transport, as messages list them.
    pub fn selector_forms(self) -> &'static [&'static str] {
        match self {
            Transport::Serial { .. } => &["VID:PID[:SERIAL]", "usb:<port path>", "a tty path"],
            Transport::Usb => &["VID:PID[:SERIAL]", "usb:<port path>"],
            Transport::V4l2 => &["v4l2:/dev/videoN (a webcam)"],
        }
    }
}

/// A device as its transport lists it, before any driver is chosen.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Seen<'a> {
    /// A serial port, with the USB VID:PID of the adapter in front of it and the ACPI/PNP ids of
    /// a built-in port.
    SerialPort {
        usb: Option<(u16, u16)>,
        pnp_ids: &'a [String],
    },
    /// A USB device, with (class, subclass, protocol) of each interface (none when only the id is
    /// known, as from a `VID:PID` selector).
    Usb {
        vid: u16,
        pid: u16,
        interfaces: &'a [(u8, u8, u8)],
    },
    /// A V4L2 node, with what QUERYCAP said when it could be opened.
    VideoNode {
        /// Whether it is a streaming video capture node (`None`: it could not be opened).
        capture: Option<bool>,
        card: Option<&'a str>,
        driver: Option<&'a str>,
    },
}

/// What a driver's ID table (or class match) says of a device it recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    /// The entry that matched (a bridge chip, a receiver, a reader, an interface class).
    pub matched: String,
    /// The line speed devices behind it usually run at, when the table says (serial).
    pub baud: Option<u32>,
}

impl Recognised {
    /// A match with no line speed to tell.
    pub fn named(matched: impl Into<String>) -> Self {
        Recognised {
            matched: matched.into(),
            baud: None,
        }
    }
}

/// Where a driver is to open its device.
#[derive(Debug)]
#[non_exhaustive]
pub enum Target<'a> {
    /// A serial port the registry opened at [`DriverOptions::baud`] (afresh for each driver a probe
    /// tries).
    Port(PortLink),
    /// A device the driver finds by the selector itself (a USB VID:PID or port, a V4L2 node), and
    /// finds again by it after a replug.
    Selector(&'a Selector),
    /// A USB device model plugged in to this process (`sim:` selectors).
    Memory(&'a MemPlug),
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Port(link) => write!(f, "the serial port {}", link.describe()),
            Target::Selector(s) => write!(f, "{s}"),
            Target::Memory(_) => f.write_str("a USB device model in memory"),
        }
    }
}

/// Settings of camera drivers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CameraOptions {
    /// Webcams: the largest frame size to negotiate (`None`: the driver's default).
    pub max_size: Option<Size>,
}

/// How a driver should open its device (filled in by the registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverOptions {
    /// Serial ports: the line speed.
    pub baud: u32,
    /// Opening a device model started by `sim:` (shorter waits where the model allows them).
    pub simulated: bool,
    pub camera: CameraOptions,
}

/// What came of trying a driver on a device.
#[derive(Debug)]
pub enum Attempt {
    /// The driver opened the device.
    Opened(Capabilities),
    /// The device did not answer as this driver's devices do: another driver may fit.
    NoAnswer(Box<dyn std::error::Error + Send + Sync>),
    /// The device answered as this driver's devices do, then failed (or could not be reached).
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl Attempt {
    /// The device opened, or the driver failed with the error.
    pub fn of(
        result: Result<Capabilities, impl Into<Box<dyn std::error::Error + Send + Sync>>>,
    ) -> Self {
        match result {
            Ok(d) => Attempt::Opened(d),
            Err(e) => Attempt::Failed(e.into()),
        }
    }

    /// A driver failed with `e`.
    pub fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Attempt::Failed(Box::new(e))
    }

    /// A driver was handed a target of another transport (the registry never does this).
    pub fn wrong_target(driver: &str, target: &Target<'_>) -> Self {
        Attempt::Failed(format!("the {driver} driver cannot open {target}").into())
    }
}

/// A driver: what it drives, how it finds and opens its devices, and its device model.
pub trait DeviceFactory: Send + Sync + fmt::Debug {
    /// The driver's name: what `DeviceInfo::driver` reports (and `--driver` takes for serial
    /// drivers).
    fn name(&self) -> &'static str;
    /// Other names `--driver` accepts.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// What the driver drives, for listings.
    fn description(&self) -> &'static str;
    fn capability(&self) -> Capability;
    fn transport(&self) -> Transport;
    /// Whether a device its transport lists is one of this driver's, and what says so. Only
    /// devices of the driver's own transport are asked about.
    fn recognise(&self, seen: &Seen<'_>) -> Option<Recognised>;
    /// Opens the driver on `target`: a port for serial drivers, a selector (or a model in memory)
    /// for the others.
    fn open(&self, target: Target<'_>, options: &DriverOptions) -> Attempt;
    /// The driver's device model, for `sim:` selectors and `jemput sim`.
    fn model(&self) -> Option<&dyn DeviceModel> {
        None
    }

    /// Whether `name` names this driver.
    fn is_named(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name)
            || self.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

//! Device models as `sim:` selectors and `jemput sim` start them: the one trait every model
//! starts through ([`DeviceModel`]), and where a started model runs ([`SimModel`]):
//!
//! * a serial model on the master end of a new pty, whose slave a driver (or any program) opens
//!   as the device's tty;
//! * a USB model behind a USB/IP server, for a real USB stack (vhci-hcd) to attach
//!   ([`SimOptions::usbip`]);
//! * a USB model in this process, on the in-memory USB transport to its driver ([`MemPlug`]).
//!
//! A model says what it is and what it plays ([`ModelDevice`]); where it runs is decided here, once
//! for every model.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::OpenError;
use crate::transport::{pty_pair, PortLink};
use crate::usb::{MemPlug, UsbDevice};
use crate::usbip::UsbIpServer;

/// A fault a device model can inject, by the name `jemput sim --fault` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimFault {
    pub name: &'static str,
    pub help: &'static str,
}

/// How to start a device model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// No pacing, no waiting for the operator: for tests and `--fast`.
    pub fast: bool,
    /// Which simulated person (fingerprints, signature, face) or place (GPS): `sim:<model>:<n>`.
    pub index: u32,
    /// Fault names from [`DeviceModel::faults`].
    pub faults: Vec<String>,
    /// USB models: serve the model over USB/IP at this address (loopback; port 0 picks a free
    /// one). `None`: in this process only, for a driver here to open (`sim:` selectors). Serial
    /// models run on a pty either way.
    pub usbip: Option<SocketAddr>,
}

/// Runs a serial model on the link it is given; what it returns keeps the model running.
pub type RunSerial = Box<dyn FnOnce(PortLink) -> Box<dyn fmt::Debug + Send> + Send>;

/// What a started model plays, before it is given a place to run.
#[non_exhaustive]
pub enum ModelDevice {
    /// A serial device: runs on whatever link it is given (the master end of a new pty).
    Serial {
        /// The line speed it paces its output at (unpaced when fast).
        baud: u32,
        run: RunSerial,
    },
    /// A USB device: its descriptors and its side of the transfers.
    Usb(Box<dyn UsbDevice>),
}

impl fmt::Debug for ModelDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelDevice::Serial { baud, .. } => write!(f, "ModelDevice::Serial({baud} baud)"),
            ModelDevice::Usb(d) => {
                let d = d.description();
                write!(
                    f,
                    "ModelDevice::Usb({:04x}:{:04x})",
                    d.vendor_id, d.product_id
                )
            }
        }
    }
}

/// A device model: the device's side of a driver's wire protocol, with faults on request.
pub trait DeviceModel: Send + Sync + fmt::Debug {
    /// The model's name after `sim:` and in `jemput sim`.
    fn model_name(&self) -> &'static str;
    /// The faults it can inject, sorted by name.
    fn faults(&self) -> &'static [SimFault];
    /// Makes the model for `options` (person, pacing, faults; an unknown fault is an error naming
    /// the known ones).
    fn start(&self, options: &SimOptions) -> Result<ModelDevice, OpenError>;
}

/// Where a started model runs; dropping it stops the model.
enum Host {
    Pty { _model: Box<dyn fmt::Debug + Send> },
    UsbIp(UsbIpServer),
    Memory(MemPlug),
}

/// A running device model, for `sim:` selectors and `jemput sim`. Dropping it stops the model.
pub struct SimModel {
    /// The model's name after `sim:` (`ef01`, `isdv4`, `gps`, `uru4000`, `ptp`).
    pub model: &'static str,
    /// The driver that talks to it.
    pub driver: &'static str,
    /// The pty a serial model runs on (open it as a real device's tty); `memory:<model>` for a
    /// model in this process, `usbip:<address>` for one behind a USB/IP server.
    pub path: PathBuf,
    /// The line speed a serial model paces its output at (unpaced when `fast`); 0 for USB.
    pub baud: u32,
    pub fast: bool,
    pub faults: Vec<String>,
    host: Host,
}

impl fmt::Debug for SimModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimModel")
            .field("model", &self.model)
            .field("driver", &self.driver)
            .field("path", &self.path)
            .field("transport", &self.transport())
            .finish_non_exhaustive()
    }
}

impl SimModel {
    /// Starts `model` (talked to by `driver`) where `options` says: a serial model on a new pty,
    /// a USB model behind a USB/IP server or in this process.
    pub fn start(
        model: &dyn DeviceModel,
        driver: &'static str,
        options: &SimOptions,
    ) -> Result<SimModel, OpenError> {
        SimModel::run(model.model_name(), driver, model.start(options)?, options)
    }

    /// Runs a model already made (`device`, the `name` model talked to by `driver`) where
    /// `options` says, as [`SimModel::start`] does with the model it makes.
    pub fn run(
        name: &'static str,
        driver: &'static str,
        device: ModelDevice,
        options: &SimOptions,
    ) -> Result<SimModel, OpenError> {
        let (path, baud, host) = match (device, options.usbip) {
            (ModelDevice::Serial { baud, run }, _) => {
                let (link, path) = pty_pair().map_err(|source| OpenError::Sim {
                    model: name,
                    source,
                })?;
                (path, baud, Host::Pty { _model: run(link) })
            }
            (ModelDevice::Usb(device), Some(at)) => {
                let server =
                    UsbIpServer::start_boxed(at, device).map_err(|e| OpenError::UsbIp {
                        model: name,
                        source: Box::new(e),
                    })?;
                let path = PathBuf::from(format!("usbip:{}", server.address()));
                (path, 0, Host::UsbIp(server))
            }
            (ModelDevice::Usb(device), None) => (
                PathBuf::from(format!("memory:{name}")),
                0,
                Host::Memory(MemPlug::new(device)),
            ),
        };
        Ok(SimModel {
            model: name,
            driver,
            path,
            baud,
            fast: options.fast,
            faults: options.faults.clone(),
            host,
        })
    }

    /// How it is reached: `pty`, `usbip` or `memory`.
    pub fn transport(&self) -> &'static str {
        match self.host {
            Host::Pty { .. } => "pty",
            Host::UsbIp(_) => "usbip",
            Host::Memory(_) => "memory",
        }
    }

    /// The USB/IP server of a USB model started with [`SimOptions::usbip`].
    pub fn usbip(&self) -> Option<&UsbIpServer> {
        match &self.host {
            Host::UsbIp(s) => Some(s),
            _ => None,
        }
    }

    /// The plug of a USB model running in this process.
    pub fn in_memory(&self) -> Option<&MemPlug> {
        match &self.host {
            Host::Memory(p) => Some(p),
            _ => None,
        }
    }
}

/// The error for a fault name `model` does not know, listing the ones it does.
pub(crate) fn unknown_fault(model: &'static str, fault: &str, known: &[SimFault]) -> OpenError {
    OpenError::UnknownFault {
        model,
        fault: fault.into(),
        known: known.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
    }
}

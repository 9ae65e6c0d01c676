//! The driver registry: one [`DeviceFactory`] per driver, what each finds on this machine, and
//! opening a device by [`Selector`].
//!
//! * [`list`] reports every serial port whose USB VID:PID (or ACPI/PNP id) is in some driver's ID
//!   table, with its [`Access`] status. USB-serial bridges (CH340, CP210x, FT232, PL2303) sit in
//!   front of fingerprint modules, pen pads and GPS receivers alike, so one port often names
//!   several candidate drivers.
//! * [`open`] turns a selector into an [`OpenedDevice`]:
//!   - `VID:PID[:SERIAL]` and `usb:<port path>` are resolved through discovery: exactly one port
//!     must match. Several matches are an error that lists them ([`OpenError::Ambiguous`]); none is
//!     an error saying what was looked for ([`OpenError::NotFound`]). Nothing is guessed.
//!   - a tty path is opened directly.
//!   - `sim:<ef01|isdv4|gps>[:n]` starts that device model in-process on a new pty (fast pacing;
//!     `n` picks the simulated person) and opens the real driver on the pty. The model lives inside
//!     the opened device and stops when it is dropped.
//! * Which driver talks to the port: the one named in [`OpenOptions::driver`]; else the only
//!   candidate the ID tables give; else a short **probe**, in this order, each on a fresh open of
//!   the port:
//!   1. `ef01`: VfyPwd then ReadSysPara at 57 600 baud (an EF01 module answers within ~0.5 s);
//!   2. `isdv4`: stop, then the pen query `*` at 19 200 baud (an ISDV4 pad answers within 1 s);
//!   3. `nmea`: listen for up to 2.5 s for one NMEA sentence with a valid checksum (`$…*hh`).
//!
//!   The first that answers is used; a device that answers but fails (a wrong password, say) stops
//!   the probe with that error. If none answers the error asks for `--driver`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;

use crate::discover::{self, Access, UsbIdentity};
use crate::transport::{LinkError, PortLink, SerialLink};
pub use crate::traits::{Capabilities, Capability};
use crate::{
    ef01, isdv4, nmea, usb_registry, Camera, DeviceInfo, FingerPosition, FingerprintScanner,
    LocationSource, Selector, SignaturePad,
};

/// One line of a driver's USB ID table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbMatch {
    pub vid: u16,
    pub pid: u16,
    /// What the table calls it (bridge chip or receiver).
    pub name: &'static str,
    /// The line speed devices behind it usually run at, when the table says.
    pub baud: Option<u32>,
}

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
    /// Which simulated person (fingerprints, signature) or place (GPS): `sim:<model>:<n>`.
    pub index: u32,
    /// Fault names from [`DeviceFactory::sim_faults`].
    pub faults: Vec<String>,
}

/// How a driver should open a port (filled in by [`open`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverOptions {
    pub baud: u32,
    /// Opening a device model started by `sim:` (shorter waits where the model allows them).
    pub simulated: bool,
}

/// What came of trying a driver on a port.
#[derive(Debug)]
pub enum Attempt {
    /// The driver opened the device.
    Opened(Capabilities),
    /// The device did not answer as this driver's devices do: another driver may fit.
    NoAnswer(Box<dyn std::error::Error + Send + Sync>),
    /// The device answered as this driver's devices do, then failed.
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// A driver: its ID table, how to open its devices on a port, and its device model.
pub trait DeviceFactory: Send + Sync + fmt::Debug {
    /// The driver's name: what `--driver` takes and `DeviceInfo::driver` reports.
    fn name(&self) -> &'static str;
    /// Other names `--driver` accepts.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// What the driver drives, for listings.
    fn description(&self) -> &'static str;
    fn capability(&self) -> Capability;
    /// The USB ids its devices show up with (mostly USB-serial bridges).
    fn usb_ids(&self) -> Vec<UsbMatch>;
    /// The table entry for an ACPI/PNP id of a built-in port, with its line speed.
    fn pnp_match(&self, id: &str) -> Option<(&'static str, u32)> {
        let _ = id;
        None
    }
    /// The line speed to open a port at when nothing else says.
    fn default_baud(&self) -> u32;
    /// Opens the driver on `link`.
    fn open_link(&self, link: PortLink, options: &DriverOptions) -> Attempt;
    /// The model's name after `sim:`.
    fn sim_name(&self) -> &'static str;
    /// Faults the model can inject.
    fn sim_faults(&self) -> &'static [SimFault];
    /// Starts the device model on a new pty.
    fn start_sim(&self, options: &SimOptions) -> Result<SimModel, OpenError>;

    /// The ID table entry for `vid:pid`, if any.
    fn usb_match(&self, vid: u16, pid: u16) -> Option<UsbMatch> {
        self.usb_ids()
            .into_iter()
            .find(|m| m.vid == vid && m.pid == pid)
    }
    /// Whether `name` names this driver.
    fn is_named(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name)
            || self.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// A device model running on a pty, for `sim:` selectors and `jemput sim`. Dropping it stops the
/// model.
#[derive(Debug)]
pub struct SimModel {
    /// The model's name after `sim:` (`ef01`, `isdv4`, `gps`).
    pub model: &'static str,
    /// The driver that talks to it.
    pub driver: &'static str,
    /// The pty to open, as a real device's tty.
    pub path: PathBuf,
    /// The line speed it paces its output at (unpaced when `fast`).
    pub baud: u32,
    pub fast: bool,
    pub faults: Vec<String>,
    /// Keeps the model running; dropping it stops the model thread.
    _handle: Box<dyn fmt::Debug + Send>,
}

impl SimModel {
    /// A device model on the in-memory USB transport (`sim:uru4000`, `sim:ptp`); `path` names
    /// the link, as there is no tty.
    pub(crate) fn in_memory(
        model: &'static str,
        driver: &'static str,
        keep: Box<dyn fmt::Debug + Send>,
    ) -> Self {
        SimModel {
            model,
            driver,
            path: PathBuf::from(format!("memory:{model}")),
            baud: 0,
            fast: true,
            faults: Vec::new(),
            _handle: keep,
        }
    }
}

/// How the driver of an opened device was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Identified {
    /// A `sim:` selector names its model.
    Sim,
    /// `--driver` named it.
    Hint,
    /// The port's USB or PNP id is in one driver's table only.
    IdTable,
    /// The device answered a probe.
    Probe,
    /// The device's own description says what it is (a V4L2 node's capabilities).
    DeviceClass,
}

/// An opened device: the driver behind its capability, where it is, and (for `sim:`) the device
/// model it talks to, which lives exactly as long as the device.
#[derive(Debug)]
pub struct OpenedDevice {
    // Declared before `sim`: the driver leaves the device idle on drop while the model still runs.
    device: Capabilities,
    path: PathBuf,
    identified: Identified,
    sim: Option<SimModel>,
}

/// A device was asked for a capability it does not have.
#[derive(Debug, thiserror::Error)]
#[error("{path} is a {has} ({driver}), not a {wanted}; pick the {wanted}'s selector from `jemput devices`, or `sim:{sim}` to try one without hardware")]
pub struct NotCapable {
    pub path: PathBuf,
    pub driver: String,
    pub has: Capability,
    pub wanted: Capability,
    sim: &'static str,
}

impl OpenedDevice {
    pub fn info(&self) -> &DeviceInfo {
        self.device.info()
    }
    /// The tty the driver talks over (a pty for `sim:`).
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn capability(&self) -> Capability {
        self.device.capability()
    }
    pub fn identified_by(&self) -> Identified {
        self.identified
    }
    /// The device model behind a `sim:` selector.
    pub fn sim(&self) -> Option<&SimModel> {
        self.sim.as_ref()
    }
    pub fn capabilities(&mut self) -> &mut Capabilities {
        &mut self.device
    }

    fn not(&self, wanted: Capability) -> NotCapable {
        NotCapable {
            path: self.path.clone(),
            driver: self.info().driver.clone(),
            has: self.capability(),
            wanted,
            sim: match wanted {
                Capability::Fingerprint => "ef01",
                Capability::Signature => "isdv4",
                Capability::Location => "gps",
                Capability::Camera => "ptp",
            },
        }
    }

    pub fn scanner(&mut self) -> Result<&mut (dyn FingerprintScanner + Send), NotCapable> {
        let err = self.not(Capability::Fingerprint);
        match &mut self.device {
            Capabilities::Fingerprint(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }

    pub fn pad(&mut self) -> Result<&mut (dyn SignaturePad + Send), NotCapable> {
        let err = self.not(Capability::Signature);
        match &mut self.device {
            Capabilities::Signature(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }

    pub fn location(&mut self) -> Result<&mut (dyn LocationSource + Send), NotCapable> {
        let err = self.not(Capability::Location);
        match &mut self.device {
            Capabilities::Location(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }

    pub fn camera(&mut self) -> Result<&mut (dyn Camera + Send), NotCapable> {
        let err = self.not(Capability::Camera);
        match &mut self.device {
            Capabilities::Camera(d) => Ok(d.as_mut()),
            _ => Err(err),
        }
    }

    /// An opened USB device (see [`crate::usb_registry`]).
    pub(crate) fn usb(
        device: Capabilities,
        path: PathBuf,
        identified: Identified,
        sim: Option<SimModel>,
    ) -> Self {
        OpenedDevice {
            device,
            path,
            identified,
            sim,
        }
    }
}

/// What opening a device asks for beyond the selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The driver to use (a name or alias); `None`: from the ID tables, or probe.
    pub driver: Option<String>,
    /// Line speed; `None`: from the ID tables, else the driver's default.
    pub baud: Option<u32>,
}

/// A port a selector matched, as listed in an ambiguity error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub usb_port: Option<String>,
    pub serial: Option<String>,
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(p) = &self.usb_port {
            write!(f, " (usb:{p}")?;
            match &self.serial {
                Some(s) => write!(f, ", serial {s})")?,
                None => write!(f, ", no serial)")?,
            }
        }
        Ok(())
    }
}

fn list_candidates(c: &[Candidate]) -> String {
    c.iter()
        .map(Candidate::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a device could not be opened; every message says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error("no device matches {selector}: looked for {looked_for}; run `jemput devices` to see what is connected (plug the device in, or check the cable and hub)")]
    NotFound {
        selector: String,
        looked_for: String,
    },
    #[error("{selector} matches {} devices: {}; name one by VID:PID:SERIAL, usb:<port path> or its tty path", candidates.len(), list_candidates(candidates))]
    Ambiguous {
        selector: String,
        candidates: Vec<Candidate>,
    },
    #[error("unknown driver `{name}`; use one of: {}", known_drivers())]
    UnknownDriver { name: String },
    #[error("unknown device model `sim:{name}`; use one of: {}", known_models())]
    UnknownModel { name: String },
    #[error(
        "`sim:{model}` is talked to by the {model_driver} driver, not `{hint}`; drop --driver"
    )]
    SimDriverMismatch {
        model: String,
        model_driver: &'static str,
        hint: String,
    },
    #[error("the {model} model has no fault `{fault}`; it knows: {known}")]
    UnknownFault {
        model: &'static str,
        fault: String,
        known: String,
    },
    #[error("nothing on {path} answered as {}: {reasons}; check power, cable and baud rate, or name the driver with --driver", tried.join(", then "))]
    NotIdentified {
        path: PathBuf,
        tried: Vec<&'static str>,
        reasons: String,
    },
    #[error("permission denied opening {path}: {fix}")]
    PermissionDenied { path: PathBuf, fix: String },
    #[error("{path} is busy: {} has it open; close that program (or stop ModemManager probing it) and retry", held_by.as_deref().unwrap_or("another program"))]
    Busy {
        path: PathBuf,
        held_by: Option<String>,
    },
    #[error("{path} does not exist: the device was unplugged or the path is wrong; run `jemput devices`, and after a replug open it by VID:PID or usb:<port> rather than by its old path")]
    Gone { path: PathBuf },
    #[error("cannot open {path}: {source}")]
    Link {
        path: PathBuf,
        #[source]
        source: LinkError,
    },
    #[error("the {driver} device on {path} failed to open: {source}")]
    Driver {
        driver: &'static str,
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("could not start the {model} device model on a pty: {source}; check that /dev/ptmx is usable")]
    Sim {
        model: &'static str,
        #[source]
        source: LinkError,
    },
}

fn known_drivers() -> String {
    factories()
        .iter()
        .map(|f| match f.aliases() {
            [] => f.name().to_string(),
            a => format!("{} ({})", f.name(), a.join(", ")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn known_models() -> String {
    factories()
        .iter()
        .map(|f| format!("sim:{}", f.sim_name()))
        .chain(usb_registry::SIM_MODELS.iter().map(|m| format!("sim:{m}")))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// The registry

static FACTORIES: &[&dyn DeviceFactory] = &[&Ef01Factory, &Isdv4Factory, &NmeaFactory];

/// Every driver, in probe order.
pub fn factories() -> &'static [&'static dyn DeviceFactory] {
    FACTORIES
}

/// The driver with this name or alias.
pub fn factory(name: &str) -> Option<&'static dyn DeviceFactory> {
    FACTORIES.iter().copied().find(|f| f.is_named(name))
}

/// The driver whose model is `sim:<name>`.
pub fn sim_factory(name: &str) -> Option<&'static dyn DeviceFactory> {
    FACTORIES
        .iter()
        .copied()
        .find(|f| f.sim_name().eq_ignore_ascii_case(name) || f.is_named(name))
}

/// A driver that may talk to a port, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DriverCandidate {
    pub driver: String,
    pub capability: Capability,
    /// The ID table entry that matched (a bridge chip, a receiver, a PNP digitizer).
    pub matched: String,
}

/// A serial port, what may be behind it, and whether this user can open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FoundDevice {
    /// The tty, e.g. `/dev/ttyUSB0`.
    pub path: PathBuf,
    /// Present for USB-serial adapters.
    pub usb: Option<UsbIdentity>,
    /// The USB port path (`1-2.3`) for `usb:` selectors.
    pub usb_port: Option<String>,
    /// ACPI/PNP ids of a built-in port (TabletPC digitizers).
    pub pnp_ids: Vec<String>,
    /// Drivers whose ID tables list this port; several when a bridge chip is shared.
    pub drivers: Vec<DriverCandidate>,
    /// A selector naming this port alone: VID:PID:SERIAL when the serial is unique here, else
    /// `usb:<port path>`, else the tty path.
    pub selector: String,
    pub access: Access,
    /// For a V4L2 node (`v4l2:` selectors): its name, driver, capabilities and formats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v4l2: Option<crate::v4l2::V4l2Node>,
}

fn candidates(usb: Option<&UsbIdentity>, pnp_ids: &[String]) -> Vec<DriverCandidate> {
    let ids = usb.and_then(|u| {
        Some((
            u16::from_str_radix(&u.vid, 16).ok()?,
            u16::from_str_radix(&u.pid, 16).ok()?,
        ))
    });
    FACTORIES
        .iter()
        .filter_map(|f| {
            let matched = ids
                .and_then(|(v, p)| f.usb_match(v, p).map(|m| m.name))
                .or_else(|| pnp_ids.iter().find_map(|id| f.pnp_match(id).map(|m| m.0)))?;
            Some(DriverCandidate {
                driver: f.name().into(),
                capability: f.capability(),
                matched: matched.into(),
            })
        })
        .collect()
}

/// Every serial port the OS reports, without opening any, with candidate drivers (access not
/// checked: `Access::Accessible` is a placeholder here).
fn enumerate() -> Vec<FoundDevice> {
    let ports: Vec<FoundDevice> = discover::port_identities()
        .into_iter()
        .map(|(path, usb)| {
            let pnp_ids = discover::pnp_ids_of(&path);
            FoundDevice {
                drivers: candidates(usb.as_ref(), &pnp_ids),
                usb_port: usb.as_ref().and_then(|_| discover::usb_port_of(&path)),
                selector: String::new(),
                path,
                usb,
                pnp_ids,
                access: Access::Accessible,
                v4l2: None,
            }
        })
        .collect();
    with_selectors(ports)
}

/// Fills in each port's shortest unambiguous selector.
pub fn with_selectors(mut ports: Vec<FoundDevice>) -> Vec<FoundDevice> {
    let key = |d: &FoundDevice| {
        d.usb
            .as_ref()
            .and_then(|u| Some(format!("{}:{}:{}", u.vid, u.pid, u.serial.as_deref()?)))
    };
    let keys: Vec<_> = ports.iter().map(key).collect();
    let ports_seen: Vec<_> = ports.iter().map(|d| d.usb_port.clone()).collect();
    for (i, d) in ports.iter_mut().enumerate() {
        let serial_unique = keys[i]
            .as_ref()
            .is_some_and(|k| keys.iter().filter(|o| o.as_ref() == Some(k)).count() == 1);
        let port_unique = d
            .usb_port
            .as_ref()
            .is_some_and(|p| ports_seen.iter().filter(|o| o.as_ref() == Some(p)).count() == 1);
        d.selector = match (&keys[i], &d.usb_port) {
            (Some(k), _) if serial_unique => k.clone(),
            (_, Some(p)) if port_unique => format!("usb:{p}"),
            _ => d.path.display().to_string(),
        };
    }
    ports
}

/// Every serial port, with candidate drivers and access status (each port is opened briefly).
pub fn list_all() -> Vec<FoundDevice> {
    enumerate()
        .into_iter()
        .map(|mut d| {
            d.access = discover::check_access(&d.path);
            d
        })
        .collect()
}

/// What the drivers find: the serial ports some driver's ID table lists, with access status.
pub fn list() -> Vec<FoundDevice> {
    list_all()
        .into_iter()
        .filter(|d| !d.drivers.is_empty())
        .collect()
}

/// The one port among `found` that `selector` (`VID:PID[:SERIAL]` or `usb:<port>`) names.
/// Tty paths and `sim:` need no discovery and are refused here.
pub fn resolve<'a>(
    selector: &Selector,
    found: &'a [FoundDevice],
) -> Result<&'a FoundDevice, OpenError> {
    let (matches, looked_for): (Vec<&FoundDevice>, String) = match selector {
        Selector::UsbId { vid, pid, serial } => {
            let (v, p) = (format!("{vid:04x}"), format!("{pid:04x}"));
            let m = found
                .iter()
                .filter(|d| {
                    d.usb.as_ref().is_some_and(|u| {
                        u.vid == v
                            && u.pid == p
                            && serial.as_ref().is_none_or(|s| u.serial.as_ref() == Some(s))
                    })
                })
                .collect();
            let what = match serial {
                Some(s) => format!("a serial port with USB id {v}:{p} and serial {s}"),
                None => format!("a serial port with USB id {v}:{p}"),
            };
            (m, what)
        }
        Selector::UsbPort(port) => (
            found
                .iter()
                .filter(|d| d.usb_port.as_deref() == Some(port.as_str()))
                .collect(),
            format!("a serial port on USB port {port}"),
        ),
        Selector::Tty(_) | Selector::V4l2(_) | Selector::Sim { .. } => {
            return Err(OpenError::NotFound {
                selector: selector.to_string(),
                looked_for: "a USB device (tty paths and sim: are opened directly)".into(),
            })
        }
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(OpenError::NotFound {
            selector: selector.to_string(),
            looked_for,
        }),
        many => Err(OpenError::Ambiguous {
            selector: selector.to_string(),
            candidates: many
                .iter()
                .map(|d| Candidate {
                    path: d.path.clone(),
                    usb_port: d.usb_port.clone(),
                    serial: d.usb.as_ref().and_then(|u| u.serial.clone()),
                })
                .collect(),
        }),
    }
}

/// Opens the device `selector` names (see the module docs for how the driver is chosen).
pub fn open(selector: &Selector, options: &OpenOptions) -> Result<OpenedDevice, OpenError> {
    let hint = match &options.driver {
        Some(name) => {
            Some(factory(name).ok_or_else(|| OpenError::UnknownDriver { name: name.clone() })?)
        }
        None => None,
    };
    if let Some(opened) = usb_registry::open(selector, options)? {
        return Ok(opened);
    }
    match selector {
        Selector::Sim { model, index } => {
            let f = sim_factory(model).ok_or_else(|| OpenError::UnknownModel {
                name: model.clone(),
            })?;
            if let Some(h) = hint.filter(|h| h.name() != f.name()) {
                return Err(OpenError::SimDriverMismatch {
                    model: model.clone(),
                    model_driver: f.name(),
                    hint: h.name().into(),
                });
            }
            let sim = f.start_sim(&SimOptions {
                fast: true,
                index: *index,
                faults: Vec::new(),
            })?;
            let driver_options = DriverOptions {
                baud: sim.baud,
                simulated: true,
            };
            let device = open_with(f, &sim.path, &driver_options)?;
            Ok(OpenedDevice {
                device,
                path: sim.path.clone(),
                identified: Identified::Sim,
                sim: Some(sim),
            })
        }
        Selector::V4l2(path) => open_v4l2(path, hint),
        Selector::Tty(path) => {
            let found = enumerate();
            let port = canonical(path);
            let known = found.iter().find(|d| canonical(&d.path) == port);
            open_port(path, known, hint, options)
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
            let found = enumerate();
            let d = resolve(selector, &found)?;
            open_port(&d.path, Some(d), hint, options)
        }
    }
}

/// Opens a V4L2 node (`v4l2:` selectors); `--driver` may only name `v4l2`. A camera unplugged
/// mid-capture is opened again by the same path at the next capture (a `/dev/v4l/by-id/…` path
/// keeps its name across a replug; `/dev/videoN` may not).
fn open_v4l2(
    path: &Path,
    hint: Option<&'static dyn DeviceFactory>,
) -> Result<OpenedDevice, OpenError> {
    if let Some(h) = hint {
        return Err(OpenError::UnknownDriver {
            name: format!(
                "{} (a V4L2 node is opened by the v4l2 driver: drop --driver)",
                h.name()
            ),
        });
    }
    let config = crate::v4l2::V4l2Config::default();
    let cam = crate::v4l2::open(path, config.clone()).map_err(|e| OpenError::Driver {
        driver: "v4l2",
        path: path.to_path_buf(),
        source: Box::new(e),
    })?;
    let again = path.to_path_buf();
    let reopen = Box::new(move || {
        crate::v4l2::open(&again, config.clone()).map_err(crate::DeviceError::from)
    });
    Ok(OpenedDevice::usb(
        Capabilities::Camera(Box::new(crate::replug::Replugging::new(cam, reopen))),
        path.to_path_buf(),
        Identified::DeviceClass,
        None,
    ))
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The line speed for `f` on a port: `--baud`, else the ID table's, else the driver's default.
fn baud_for(f: &dyn DeviceFactory, known: Option<&FoundDevice>, options: &OpenOptions) -> u32 {
    if let Some(b) = options.baud {
        return b;
    }
    let from_usb = known.and_then(|d| {
        let u = d.usb.as_ref()?;
        let (v, p) = (
            u16::from_str_radix(&u.vid, 16).ok()?,
            u16::from_str_radix(&u.pid, 16).ok()?,
        );
        f.usb_match(v, p)?.baud
    });
    let from_pnp = known.and_then(|d| d.pnp_ids.iter().find_map(|id| f.pnp_match(id).map(|m| m.1)));
    from_usb.or(from_pnp).unwrap_or_else(|| f.default_baud())
}

fn open_port(
    path: &Path,
    known: Option<&FoundDevice>,
    hint: Option<&'static dyn DeviceFactory>,
    options: &OpenOptions,
) -> Result<OpenedDevice, OpenError> {
    let listed: Vec<&'static dyn DeviceFactory> = known
        .map(|d| {
            d.drivers
                .iter()
                .filter_map(|c| factory(&c.driver))
                .collect()
        })
        .unwrap_or_default();
    let driver_options = |f: &dyn DeviceFactory| DriverOptions {
        baud: baud_for(f, known, options),
        simulated: false,
    };
    let (device, identified) = match (hint, listed.as_slice()) {
        (Some(f), _) => (open_with(f, path, &driver_options(f))?, Identified::Hint),
        (None, [f]) => (
            open_with(*f, path, &driver_options(*f))?,
            Identified::IdTable,
        ),
        (None, []) => (probe(path, FACTORIES, &driver_options)?, Identified::Probe),
        (None, several) => (probe(path, several, &driver_options)?, Identified::Probe),
    };
    Ok(OpenedDevice {
        device,
        path: path.to_path_buf(),
        identified,
        sim: None,
    })
}

fn open_link(path: &Path, baud: u32) -> Result<PortLink, OpenError> {
    PortLink::open(path, baud).map_err(|e| match e {
        LinkError::PermissionDenied(_) => OpenError::PermissionDenied {
            path: path.into(),
            fix: discover::permission_fix(path),
        },
        LinkError::Busy(_) => OpenError::Busy {
            path: path.into(),
            held_by: discover::holder_of(path),
        },
        LinkError::NotFound(_) | LinkError::Disconnected => OpenError::Gone { path: path.into() },
        source => OpenError::Link {
            path: path.into(),
            source,
        },
    })
}

fn open_with(
    f: &'static dyn DeviceFactory,
    path: &Path,
    options: &DriverOptions,
) -> Result<Capabilities, OpenError> {
    let link = open_link(path, options.baud)?;
    match f.open_link(link, options) {
        Attempt::Opened(d) => Ok(d),
        Attempt::NoAnswer(source) | Attempt::Failed(source) => Err(OpenError::Driver {
            driver: f.name(),
            path: path.into(),
            source,
        }),
    }
}

fn probe(
    path: &Path,
    order: &[&'static dyn DeviceFactory],
    options: &dyn Fn(&dyn DeviceFactory) -> DriverOptions,
) -> Result<Capabilities, OpenError> {
    let mut reasons = Vec::new();
    for f in order {
        let link = open_link(path, options(*f).baud)?;
        let begun = Instant::now();
        match f.open_link(link, &options(*f)) {
            Attempt::Opened(d) => {
                tracing::info!(path = %path.display(), driver = f.name(), took = ?begun.elapsed(), "the device answered the probe");
                return Ok(d);
            }
            Attempt::NoAnswer(why) => {
                tracing::debug!(path = %path.display(), driver = f.name(), %why, "no answer to the probe");
                reasons.push(format!("{}: {why}", f.name()));
            }
            Attempt::Failed(source) => {
                return Err(OpenError::Driver {
                    driver: f.name(),
                    path: path.into(),
                    source,
                })
            }
        }
    }
    Err(OpenError::NotIdentified {
        path: path.into(),
        tried: order.iter().map(|f| f.name()).collect(),
        reasons: reasons.join("; "),
    })
}

/// Starts the device model `sim:<name>` on a new pty, for `jemput sim`.
pub fn start_sim(name: &str, options: &SimOptions) -> Result<SimModel, OpenError> {
    sim_factory(name)
        .ok_or_else(|| OpenError::UnknownModel { name: name.into() })?
        .start_sim(options)
}

fn unknown_fault(model: &'static str, fault: &str, known: &[SimFault]) -> OpenError {
    OpenError::UnknownFault {
        model,
        fault: fault.into(),
        known: known.iter().map(|f| f.name).collect::<Vec<_>>().join(", "),
    }
}

fn boxed<E: std::error::Error + Send + Sync + 'static>(
    e: E,
) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

// ---------------------------------------------------------------------------------------------
// EF01 fingerprint modules

/// EF01 serial fingerprint modules (ZFM-20, R30x, R50x, AS608).
#[derive(Debug)]
pub struct Ef01Factory;

static EF01_FAULTS: &[SimFault] = &[
    SimFault {
        name: "checksum",
        help: "the next image transfer has a damaged packet (the driver retries)",
    },
    SimFault {
        name: "garbage",
        help: "junk bytes before the next reply",
    },
    SimFault {
        name: "truncated",
        help: "the next image transfer is cut short mid-packet (the driver retries)",
    },
    SimFault {
        name: "unplug",
        help: "the module is unplugged during the next image transfer",
    },
    SimFault {
        name: "wrong-password",
        help: "the next password check fails",
    },
];

impl DeviceFactory for Ef01Factory {
    fn name(&self) -> &'static str {
        "ef01"
    }
    fn description(&self) -> &'static str {
        "EF01 serial fingerprint module (ZFM-20, R30x, R50x, AS608)"
    }
    fn capability(&self) -> Capability {
        Capability::Fingerprint
    }
    fn usb_ids(&self) -> Vec<UsbMatch> {
        ef01::USB_BRIDGES
            .iter()
            .map(|b| UsbMatch {
                vid: b.vid,
                pid: b.pid,
                name: b.chip,
                baud: None,
            })
            .collect()
    }
    fn default_baud(&self) -> u32 {
        57_600
    }
    fn open_link(&self, link: PortLink, options: &DriverOptions) -> Attempt {
        let config = ef01::Ef01Config {
            line_baud: options.baud,
            ..ef01::Ef01Config::default()
        };
        match ef01::Ef01::open_with(link, config) {
            Ok(d) => Attempt::Opened(Capabilities::Fingerprint(Box::new(d))),
            // Silence or bytes that are not EF01 frames: not a module (or not at this speed).
            Err(
                e @ (ef01::Ef01Error::Timeout { .. }
                | ef01::Ef01Error::Checksum { .. }
                | ef01::Ef01Error::Truncated { .. }
                | ef01::Ef01Error::UnexpectedReply { .. }),
            ) => Attempt::NoAnswer(boxed(e)),
            Err(e) => Attempt::Failed(boxed(e)),
        }
    }
    fn sim_name(&self) -> &'static str {
        "ef01"
    }
    fn sim_faults(&self) -> &'static [SimFault] {
        EF01_FAULTS
    }
    fn start_sim(&self, options: &SimOptions) -> Result<SimModel, OpenError> {
        let mut model = if options.fast {
            ef01::ModelOptions::fast()
        } else {
            ef01::ModelOptions::default()
        };
        model.person_seed = 1 + u64::from(options.index);
        model.first_finger = FingerPosition::new(2).expect("right index");
        for name in &options.faults {
            model.faults.push(match name.as_str() {
                "checksum" => ef01::Fault::ChecksumError { packet: 3 },
                "garbage" => ef01::Fault::Garbage(vec![0x00, 0x55, 0xEF, 0x13, 0x37]),
                "truncated" => ef01::Fault::TruncatedPacket { packet: 3 },
                "unplug" => ef01::Fault::UnplugMidTransfer { packet: 10 },
                "wrong-password" => ef01::Fault::WrongPassword,
                other => return Err(unknown_fault("ef01", other, EF01_FAULTS)),
            });
        }
        let baud = model.baud;
        let (handle, path) =
            ef01::Ef01Model::spawn_on_pty(model).map_err(|source| OpenError::Sim {
                model: "ef01",
                source,
            })?;
        Ok(SimModel {
            model: "ef01",
            driver: "ef01",
            path,
            baud,
            fast: options.fast,
            faults: options.faults.clone(),
            _handle: Box::new(handle),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// ISDV4 pen digitizers

/// Wacom ISDV4 / W8001 serial pen digitizers (signature pads, TabletPC screens).
#[derive(Debug)]
pub struct Isdv4Factory;

static ISDV4_FAULTS: &[SimFault] = &[
    SimFault {
        name: "garbage",
        help: "junk bytes before every 7th pen packet (the driver resynchronises)",
    },
    SimFault {
        name: "no-reply",
        help: "the pad ignores the pen query",
    },
    SimFault {
        name: "truncate",
        help: "every 11th pen packet is cut short",
    },
    SimFault {
        name: "unplug",
        help: "the pad goes away after 50 pen packets",
    },
];

impl DeviceFactory for Isdv4Factory {
    fn name(&self) -> &'static str {
        "isdv4"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["w8001"]
    }
    fn description(&self) -> &'static str {
        "Wacom ISDV4/W8001 serial pen digitizer (signature pad)"
    }
    fn capability(&self) -> Capability {
        Capability::Signature
    }
    fn usb_ids(&self) -> Vec<UsbMatch> {
        isdv4::ids::USB_SERIAL_IDS
            .iter()
            .map(|i| UsbMatch {
                vid: i.vid,
                pid: i.pid,
                name: i.name,
                baud: None,
            })
            .collect()
    }
    fn pnp_match(&self, id: &str) -> Option<(&'static str, u32)> {
        isdv4::ids::PNP_IDS
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(id))
            .map(|p| (p.name, p.baud))
    }
    fn default_baud(&self) -> u32 {
        19_200
    }
    fn open_link(&self, link: PortLink, options: &DriverOptions) -> Attempt {
        let mut config = isdv4::Isdv4Config {
            baud: options.baud,
            ..isdv4::Isdv4Config::default()
        };
        if options.simulated {
            // The fast model plays a signature at once: no need to wait long for the pen to lift.
            config.idle_end = Duration::from_millis(400);
        }
        match isdv4::Isdv4::new(link, config) {
            Ok(d) => Attempt::Opened(Capabilities::Signature(Box::new(d))),
            Err(
                e @ (isdv4::Isdv4Error::NoReply { .. }
                | isdv4::Isdv4Error::BadReply { .. }
                | isdv4::Isdv4Error::BadCaps { .. }),
            ) => Attempt::NoAnswer(boxed(e)),
            Err(e) => Attempt::Failed(boxed(e)),
        }
    }
    fn sim_name(&self) -> &'static str {
        "isdv4"
    }
    fn sim_faults(&self) -> &'static [SimFault] {
        ISDV4_FAULTS
    }
    fn start_sim(&self, options: &SimOptions) -> Result<SimModel, OpenError> {
        const NAMES: &[&str] = &[
            "Siti Aminah",
            "La Ode Rahman",
            "Wa Ode Nurhaya",
            "Andi Baso",
        ];
        let mut model = isdv4::Isdv4ModelConfig {
            handwriting: isdv4::Handwriting::Signature {
                seed: 1 + u64::from(options.index),
                name: NAMES[options.index as usize % NAMES.len()].into(),
            },
            // `jemput sim` runs for a while: sign again for every new session.
            repeat_after: Some(Duration::from_secs(5)),
            ..isdv4::Isdv4ModelConfig::default()
        };
        if options.fast {
            model = model.fast();
        }
        for name in &options.faults {
            model.faults.push(match name.as_str() {
                "garbage" => isdv4::Isdv4Fault::Garbage { every: 7 },
                "no-reply" => isdv4::Isdv4Fault::NoReply,
                "truncate" => isdv4::Isdv4Fault::Truncate { every: 11 },
                "unplug" => isdv4::Isdv4Fault::Unplug { after: 50 },
                other => return Err(unknown_fault("isdv4", other, ISDV4_FAULTS)),
            });
        }
        let baud = model.baud;
        let (handle, path) = isdv4::Isdv4Model::on_pty(model).map_err(|source| OpenError::Sim {
            model: "isdv4",
            source,
        })?;
        Ok(SimModel {
            model: "isdv4",
            driver: "isdv4",
            path,
            baud,
            fast: options.fast,
            faults: options.faults.clone(),
            _handle: Box::new(handle),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// NMEA-0183 GPS receivers

/// NMEA-0183 GPS receivers (location source).
#[derive(Debug)]
pub struct NmeaFactory;

/// How long the probe listens for one valid NMEA sentence (receivers talk at least once a second).
pub const NMEA_PROBE: Duration = Duration::from_millis(2_500);

static NMEA_FAULTS: &[SimFault] = &[
    SimFault {
        name: "bad-checksum",
        help: "every 3rd sentence has a wrong checksum",
    },
    SimFault {
        name: "cold-start",
        help: "no fix for the first 10 epochs",
    },
    SimFault {
        name: "garbage",
        help: "junk and a cut-off sentence before every 2nd epoch",
    },
    SimFault {
        name: "silent",
        help: "the receiver writes nothing",
    },
];

/// Listens on `link` until one NMEA sentence with a valid checksum arrives, or `within`.
fn hears_nmea(link: &mut PortLink, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let mut reader = nmea::protocol::LineReader::new();
    let mut buf = [0u8; 256];
    let mut rejected = 0;
    loop {
        match link.read_some(&mut buf, deadline) {
            Ok(n) => {
                for line in reader.push(&buf[..n]) {
                    if nmea::protocol::parse(&line).is_ok() {
                        return Ok(());
                    }
                    rejected += 1;
                }
            }
            Err(LinkError::Timeout(_)) => {
                return Err(format!(
                    "no NMEA sentence within {within:?} ({rejected} lines rejected, {} bytes of noise); \
                     check the cable and the baud rate (most receivers use 4800 or 9600: --baud)",
                    reader.dropped()
                ))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

impl DeviceFactory for NmeaFactory {
    fn name(&self) -> &'static str {
        "nmea"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["gps"]
    }
    fn description(&self) -> &'static str {
        "NMEA-0183 GPS receiver (location source)"
    }
    fn capability(&self) -> Capability {
        Capability::Location
    }
    fn usb_ids(&self) -> Vec<UsbMatch> {
        nmea::ids::USB_IDS
            .iter()
            .map(|i| UsbMatch {
                vid: i.vid,
                pid: i.pid,
                name: i.name,
                baud: Some(i.baud),
            })
            .collect()
    }
    fn default_baud(&self) -> u32 {
        nmea::NmeaConfig::default().baud
    }
    fn open_link(&self, mut link: PortLink, options: &DriverOptions) -> Attempt {
        // A receiver needs no initialisation, so opening proves nothing: listen for a sentence.
        if let Err(why) = link.set_baud(options.baud) {
            return Attempt::Failed(boxed(why));
        }
        if let Err(why) = hears_nmea(&mut link, NMEA_PROBE) {
            return Attempt::NoAnswer(why.into());
        }
        let config = nmea::NmeaConfig { baud: options.baud };
        match nmea::NmeaGps::new(link, config) {
            Ok(d) => Attempt::Opened(Capabilities::Location(Box::new(d))),
            Err(e) => Attempt::Failed(boxed(e)),
        }
    }
    fn sim_name(&self) -> &'static str {
        "gps"
    }
    fn sim_faults(&self) -> &'static [SimFault] {
        NMEA_FAULTS
    }
    fn start_sim(&self, options: &SimOptions) -> Result<SimModel, OpenError> {
        let mut model = nmea::NmeaModelConfig::default();
        // Each index a village further east along the coast.
        model.lon += 0.01 * f64::from(options.index);
        if options.fast {
            model = model.fast();
        }
        for name in &options.faults {
            match name.as_str() {
                "bad-checksum" => model.faults.push(nmea::NmeaFault::BadChecksum { every: 3 }),
                "cold-start" => model.no_fix_epochs = 10,
                "garbage" => model.faults.push(nmea::NmeaFault::Garbage { every: 2 }),
                "silent" => model.faults.push(nmea::NmeaFault::Silent),
                other => return Err(unknown_fault("gps", other, NMEA_FAULTS)),
            }
        }
        let baud = model.baud;
        let (handle, path) = nmea::NmeaModel::on_pty(model).map_err(|source| OpenError::Sim {
            model: "gps",
            source,
        })?;
        Ok(SimModel {
            model: "gps",
            driver: "nmea",
            path,
            baud,
            fast: options.fast,
            faults: options.faults.clone(),
            _handle: Box::new(handle),
        })
    }
}

//! Opening a device by selector, through the factories (see the registry's module docs for how
//! the driver is chosen).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::list::{resolve, seen_port, serial_ports, FoundDevice};
use super::opened::{Identified, OpenedDevice};
use super::{factories, factory, known_drivers, known_models, port_driver, sim_factory};
use crate::discover;
use crate::error::OpenError;
use crate::factory::{
    Attempt, CameraOptions, DeviceFactory, DriverOptions, Seen, Target, Transport,
};
use crate::sim::{ModelDevice, SimModel, SimOptions};
use crate::transport::{LinkError, PortLink};
use crate::{Capabilities, Capability, Selector};

/// What opening a device asks for beyond the selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The serial driver to use (a name or alias); `None`: from the ID tables, or probe.
    pub driver: Option<String>,
    /// Line speed; `None`: from the ID tables, else the driver's default.
    pub baud: Option<u32>,
    /// What the device will be used as: only drivers of this capability are tried, and a
    /// selector that names another kind of device is refused before anything is opened.
    pub wanted: Option<Capability>,
    /// Settings of camera drivers (a webcam's largest frame size).
    pub camera: CameraOptions,
}

/// The factories `options` allows: all, or those of the wanted capability.
fn allowed(options: &OpenOptions) -> impl Iterator<Item = &'static dyn DeviceFactory> + '_ {
    factories()
        .iter()
        .copied()
        .filter(|f| options.wanted.is_none_or(|c| f.capability() == c))
}

fn is_serial(f: &dyn DeviceFactory) -> bool {
    matches!(f.transport(), Transport::Serial { .. })
}

/// The error for a selector that cannot name a device of the wanted capability, listing the
/// selectors that can.
fn not_a(selector: &Selector, options: &OpenOptions) -> OpenError {
    let wanted = options
        .wanted
        .expect("only refused for a wanted capability");
    let mut forms: Vec<String> = Vec::new();
    for f in allowed(options) {
        for form in f.transport().selector_forms() {
            if !forms.iter().any(|s| s == form) {
                forms.push((*form).to_string());
            }
        }
    }
    forms.extend(
        allowed(options)
            .filter_map(|f| f.model())
            .map(|m| format!("sim:{}[:n]", m.model_name())),
    );
    let forms = match forms.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{}, or {last}", rest.join(", ")),
        None => "nothing jemput drives yet".into(),
    };
    OpenError::NotA {
        selector: selector.to_string(),
        wanted,
        forms,
    }
}

/// Opens the device `selector` names (see the module docs for how the driver is chosen).
pub fn open(selector: &Selector, options: &OpenOptions) -> Result<OpenedDevice, OpenError> {
    let hint = match &options.driver {
        Some(name) => Some(port_driver(name).ok_or_else(|| OpenError::UnknownDriver {
            name: name.clone(),
            known: known_drivers(),
        })?),
        None => None,
    };
    match selector {
        Selector::Sim { model, index } => open_sim(selector, model, *index, hint, options),
        Selector::V4l2(path) => {
            let Some(f) = allowed(options).find(|f| f.transport() == Transport::V4l2) else {
                return Err(not_a(selector, options));
            };
            if let Some(h) = hint {
                return Err(OpenError::UnknownDriver {
                    name: format!(
                        "{} (a V4L2 node is opened by the {} driver: drop --driver)",
                        h.name(),
                        f.name()
                    ),
                    known: known_drivers(),
                });
            }
            let device = by_selector(f, selector, options)?;
            Ok(OpenedDevice {
                device,
                path: path.clone(),
                identified: Identified::DeviceClass,
                sim: None,
            })
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
            // A serial driver named with --driver looks among the serial ports only.
            let usb = match hint {
                None => usb_factory_for(selector, options),
                Some(_) => None,
            };
            if let Some(f) = usb {
                let device = by_selector(f, selector, options)?;
                return Ok(OpenedDevice {
                    device,
                    path: PathBuf::from(selector.to_string()),
                    identified: Identified::IdTable,
                    sim: None,
                });
            }
            if !allowed(options).any(is_serial) {
                return Err(not_a(selector, options));
            }
            let found = serial_ports();
            let d = resolve(selector, &found)?;
            open_port(&d.path, Some(d), hint, options)
        }
        Selector::Tty(path) => {
            if !allowed(options).any(is_serial) {
                return Err(not_a(selector, options));
            }
            let found = serial_ports();
            let port = canonical(path);
            let known = found.iter().find(|d| canonical(&d.path) == port);
            open_port(path, known, hint, options)
        }
    }
}

/// The USB driver a `VID:PID` or `usb:` selector names: one whose ID table has the VID:PID, else
/// the first driver of the matching device libusb lists. When only USB drivers are allowed and
/// the first of them is the only one, it looks for the device itself (and says so when it finds
/// none).
fn usb_factory_for(
    selector: &Selector,
    options: &OpenOptions,
) -> Option<&'static dyn DeviceFactory> {
    let usb: Vec<_> = allowed(options)
        .filter(|f| f.transport() == Transport::Usb)
        .collect();
    if let Selector::UsbId { vid, pid, .. } = selector {
        let seen = Seen::Usb {
            vid: *vid,
            pid: *pid,
            interfaces: &[],
        };
        if let Some(f) = usb.iter().find(|f| f.recognise(&seen).is_some()) {
            return Some(*f);
        }
    }
    let only_usb = !allowed(options).any(is_serial);
    if let ([only], true) = (usb.as_slice(), only_usb) {
        return Some(*only);
    }
    let listed = super::list_usb();
    let named = listed
        .iter()
        .filter(|d| match selector {
            Selector::UsbId { vid, pid, .. } => d
                .usb
                .as_ref()
                .is_some_and(|u| u.vid == format!("{vid:04x}") && u.pid == format!("{pid:04x}")),
            Selector::UsbPort(p) => d.usb_port.as_deref() == Some(p.as_str()),
            _ => false,
        })
        .flat_map(|d| d.drivers.iter())
        .find_map(|c| usb.iter().find(|f| f.name() == c.driver).copied());
    named.or_else(|| usb.first().copied().filter(|_| only_usb))
}

/// Opens a driver that finds its device by the selector itself (USB, V4L2).
fn by_selector(
    f: &'static dyn DeviceFactory,
    selector: &Selector,
    options: &OpenOptions,
) -> Result<Capabilities, OpenError> {
    let driver_options = DriverOptions {
        baud: 0,
        simulated: false,
        camera: options.camera.clone(),
    };
    match f.open(Target::Selector(selector), &driver_options) {
        Attempt::Opened(d) => Ok(d),
        Attempt::NoAnswer(source) | Attempt::Failed(source) => Err(OpenError::Device {
            driver: f.name(),
            selector: selector.to_string(),
            source,
        }),
    }
}

/// `sim:<model>[:n]`: starts the model in this process (fast) and opens its driver on it.
fn open_sim(
    selector: &Selector,
    model: &str,
    index: u32,
    hint: Option<&'static dyn DeviceFactory>,
    options: &OpenOptions,
) -> Result<OpenedDevice, OpenError> {
    let f = match sim_factory(model) {
        Some(f) if allowed(options).any(|a| a.name() == f.name()) => f,
        _ if options.wanted.is_some() => return Err(not_a(selector, options)),
        _ => {
            return Err(OpenError::UnknownModel {
                name: model.into(),
                known: known_models(),
            })
        }
    };
    if let Some(h) = hint.filter(|h| h.name() != f.name()) {
        return Err(OpenError::SimDriverMismatch {
            model: model.into(),
            model_driver: f.name(),
            hint: h.name().into(),
        });
    }
    let m = f.model().expect("sim_factory finds drivers with a model");
    let sim = SimModel::start(
        m,
        f.name(),
        &SimOptions {
            fast: true,
            index,
            ..SimOptions::default()
        },
    )?;
    on_model(f, sim, &selector.to_string(), options)
}

/// Opens the driver `driver` on a device model the caller made itself — a demo's resident, whose
/// fingers, signature and backdrop belong to the visit, or a test's scripted faults — exactly as
/// a `sim:` selector opens its own: a serial model on a new pty, a USB model in this process. The
/// opened device keeps the model running until it is dropped. `fast` is the model's pacing: the
/// driver then waits less where the model allows it (a pad's pen-up pause).
pub fn open_model(
    driver: &str,
    device: ModelDevice,
    fast: bool,
    options: &OpenOptions,
) -> Result<OpenedDevice, OpenError> {
    let f = factory(driver).ok_or_else(|| OpenError::UnknownDriver {
        name: driver.into(),
        known: known_drivers(),
    })?;
    let name = f.model().map_or(f.name(), |m| m.model_name());
    let sim = SimModel::run(
        name,
        f.name(),
        device,
        &SimOptions {
            fast,
            ..SimOptions::default()
        },
    )?;
    on_model(f, sim, &format!("a {name} model"), options)
}

/// Opens `f` on a running model: over the in-memory USB transport, or on the model's pty.
fn on_model(
    f: &'static dyn DeviceFactory,
    sim: SimModel,
    named: &str,
    options: &OpenOptions,
) -> Result<OpenedDevice, OpenError> {
    let driver_options = DriverOptions {
        baud: sim.baud,
        simulated: sim.fast,
        camera: options.camera.clone(),
    };
    let device = match sim.in_memory() {
        Some(plug) => match f.open(Target::Memory(plug), &driver_options) {
            Attempt::Opened(d) => d,
            Attempt::NoAnswer(source) | Attempt::Failed(source) => {
                return Err(OpenError::Device {
                    driver: f.name(),
                    selector: named.to_string(),
                    source,
                })
            }
        },
        None => on_port(f, &sim.path, &driver_options)?,
    };
    Ok(OpenedDevice {
        device,
        path: sim.path.clone(),
        identified: Identified::Sim,
        sim: Some(sim),
    })
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The line speed for `f` on a port: `--baud`, else the ID table's, else the driver's default.
fn baud_for(f: &dyn DeviceFactory, known: Option<&FoundDevice>, options: &OpenOptions) -> u32 {
    if let Some(b) = options.baud {
        return b;
    }
    let from_table = known.and_then(|d| f.recognise(&seen_port(d))?.baud);
    from_table.unwrap_or(match f.transport() {
        Transport::Serial { default_baud } => default_baud,
        _ => 0,
    })
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
                .filter(|f| allowed(options).any(|a| a.name() == f.name()))
                .collect()
        })
        .unwrap_or_default();
    let driver_options = |f: &dyn DeviceFactory| DriverOptions {
        baud: baud_for(f, known, options),
        simulated: false,
        camera: options.camera.clone(),
    };
    let (device, identified) = match (hint, listed.as_slice()) {
        (Some(f), _) => (on_port(f, path, &driver_options(f))?, Identified::Hint),
        (None, [f]) => (on_port(*f, path, &driver_options(*f))?, Identified::IdTable),
        (None, []) => {
            let every: Vec<_> = allowed(options).filter(|f| is_serial(*f)).collect();
            (probe(path, &every, &driver_options)?, Identified::Probe)
        }
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

/// Opens the serial driver `f` on the port at `path`.
fn on_port(
    f: &'static dyn DeviceFactory,
    path: &Path,
    options: &DriverOptions,
) -> Result<Capabilities, OpenError> {
    let link = open_link(path, options.baud)?;
    match f.open(Target::Port(link), options) {
        Attempt::Opened(d) => Ok(d),
        Attempt::NoAnswer(source) | Attempt::Failed(source) => Err(OpenError::Driver {
            driver: f.name(),
            path: path.into(),
            source,
        }),
    }
}

/// Tries each driver of `order` on a fresh open of the port; the first that answers is used.
fn probe(
    path: &Path,
    order: &[&'static dyn DeviceFactory],
    options: &dyn Fn(&dyn DeviceFactory) -> DriverOptions,
) -> Result<Capabilities, OpenError> {
    let mut reasons = Vec::new();
    for f in order {
        let link = open_link(path, options(*f).baud)?;
        let begun = Instant::now();
        match f.open(Target::Port(link), &options(*f)) {
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

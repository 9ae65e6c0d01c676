//! How the registry knows U.are.U readers: their factory (recognised by VID:PID from [`ids`]),
//! opening one by selector — `VID:PID[:SERIAL]` and `usb:<port path>` find the reader through
//! libusb, and the reader opened is a [`replugging`] one, found again by the same selector after
//! an unplug; several matching readers are an error that lists them — or on its model in memory
//! (`sim:uru4000[:n]`), and the model's entry with its faults.

use super::driver::{device_info, replugging, UruConfig};
use super::error::UruError;
use super::ids;
use super::model::{UruFault, UruModel, UruModelConfig};
use crate::error::OpenError;
use crate::factory::{Attempt, DeviceFactory, DriverOptions, Recognised, Seen, Target, Transport};
use crate::sim::{unknown_fault, DeviceModel, ModelDevice, SimFault, SimOptions};
use crate::usb::{self, MemPlug, RusbLink, UsbDeviceEntry, UsbError};
use crate::{Capabilities, Capability, FingerprintScanner, Selector};

/// The model's name after `sim:`.
pub const SIM_NAME: &str = "uru4000";

/// DigitalPersona U.are.U 4000-class USB fingerprint readers.
#[derive(Debug)]
pub struct UruFactory;

static FAULTS: &[SimFault] = &[
    SimFault {
        name: "no-finger",
        help: "the first finger arrives only after 200 event polls",
    },
    SimFault {
        name: "fault-event",
        help: "the first wait for a finger ends with a fault event",
    },
    SimFault {
        name: "short-image",
        help: "the first image transfer ends after 1000 bytes",
    },
    SimFault {
        name: "stuck",
        help: "HWSTAT reads 0x84 at power-up until the low nibble is written back",
    },
];

/// Why a reader could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenReaderError {
    #[error("no U.are.U reader matches {selector}; plug the reader in (it lights up red when powered) and retry; `jemput devices` lists what is connected")]
    NotFound { selector: String },
    #[error("{selector} matches {} readers: {}; name one by VID:PID:SERIAL or usb:<port path>", candidates.len(), candidates.join("; "))]
    Ambiguous {
        selector: String,
        candidates: Vec<String>,
    },
    #[error("{selector} is not a U.are.U selector: use VID:PID[:SERIAL], usb:<port path>, or sim:uru4000[:n]")]
    NotAReader { selector: String },
    #[error("cannot list USB devices: {0}")]
    Usb(#[source] UsbError),
    #[error("the reader at {at} failed to open: {source}")]
    Driver {
        at: String,
        #[source]
        source: UruError,
    },
}

/// Whether `selector` names the reader model.
pub fn is_sim(selector: &Selector) -> bool {
    matches!(selector, Selector::Sim { model, .. } if model.eq_ignore_ascii_case(SIM_NAME))
}

/// Whether a listed device is one of ours.
pub fn is_reader(vid: u16, pid: u16) -> bool {
    ids::lookup(vid, pid).is_some()
}

/// The readers among `found` that `selector` names.
pub fn matching<'a>(selector: &Selector, found: &'a [UsbDeviceEntry]) -> Vec<&'a UsbDeviceEntry> {
    found
        .iter()
        .filter(|d| is_reader(d.vid, d.pid))
        .filter(|d| match selector {
            Selector::UsbId { vid, pid, serial } => {
                d.vid == *vid
                    && d.pid == *pid
                    && serial
                        .as_ref()
                        .is_none_or(|s| d.serial.as_deref() == Some(s.as_str()))
            }
            Selector::UsbPort(p) => &d.port_path == p,
            _ => false,
        })
        .collect()
}

fn list_readers() -> Result<Vec<UsbDeviceEntry>, UsbError> {
    usb::list_devices(|vid, pid, _| is_reader(vid, pid))
}

/// Opens the reader `selector` names: `sim:uru4000[:n]` starts the reader model in memory (the
/// model lives as long as the reader).
pub fn open(
    selector: &Selector,
    config: UruConfig,
) -> Result<Box<dyn FingerprintScanner + Send>, OpenReaderError> {
    match selector {
        Selector::Sim { index, .. } if is_sim(selector) => {
            let options = SimOptions {
                fast: true,
                index: *index,
                ..SimOptions::default()
            };
            let plug = MemPlug::new(Box::new(
                model(&options).expect("a model without faults starts"),
            ));
            on_plug(&plug, config).map_err(|source| OpenReaderError::Driver {
                at: selector.to_string(),
                source,
            })
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => on_bus(selector, config),
        Selector::Tty(_) | Selector::V4l2(_) | Selector::Sim { .. } => {
            Err(OpenReaderError::NotAReader {
                selector: selector.to_string(),
            })
        }
    }
}

/// The reader on a model plugged in to this process.
fn on_plug(
    plug: &MemPlug,
    config: UruConfig,
) -> Result<Box<dyn FingerprintScanner + Send>, UruError> {
    let d = plug.description();
    let info = device_info(d.vendor_id, d.product_id, Some(d.serial.clone()));
    let plug = plug.clone();
    Ok(Box::new(replugging(
        move || Ok(plug.connect()),
        info,
        config,
    )?))
}

/// The reader `selector` names on the USB bus, found through libusb by the ID table.
fn on_bus(
    selector: &Selector,
    config: UruConfig,
) -> Result<Box<dyn FingerprintScanner + Send>, OpenReaderError> {
    let found = list_readers().map_err(OpenReaderError::Usb)?;
    let d = match matching(selector, &found).as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(OpenReaderError::NotFound {
                selector: selector.to_string(),
            })
        }
        many => {
            return Err(OpenReaderError::Ambiguous {
                selector: selector.to_string(),
                candidates: many
                    .iter()
                    .map(|d| {
                        format!(
                            "{:04x}:{:04x} on usb:{} (serial {})",
                            d.vid,
                            d.pid,
                            d.port_path,
                            d.serial.as_deref().unwrap_or("unknown")
                        )
                    })
                    .collect(),
            })
        }
    };
    let info = device_info(d.vid, d.pid, d.serial.clone());
    let at = format!("usb:{} ({:04x}:{:04x})", d.port_path, d.vid, d.pid);
    let sel = selector.clone();
    // After a replug the reader has a new bus address: find it again by the selector.
    let connect = move || {
        let found = list_readers()?;
        match matching(&sel, &found).as_slice() {
            [one] => RusbLink::open_at(
                one.bus,
                one.address,
                format!("usb {} {:04x}:{:04x}", one.port_path, one.vid, one.pid),
            ),
            [] => Err(UsbError::NotFound(sel.to_string())),
            _ => Err(UsbError::Io(format!("{sel} matches several readers"))),
        }
    };
    let reader = replugging(connect, info, config)
        .map_err(|source| OpenReaderError::Driver { at, source })?;
    Ok(Box::new(reader))
}

/// The reader model for `options`.
fn model(options: &SimOptions) -> Result<UruModel, OpenError> {
    let mut cfg = UruModelConfig {
        person_seed: 1 + u64::from(options.index),
        serial: format!("SIMURU{:04}", options.index + 1),
        ..UruModelConfig::default()
    };
    if options.fast {
        cfg.finger_after_polls = 0;
    }
    for f in &options.faults {
        cfg.faults.push(match f.as_str() {
            "no-finger" => UruFault::NoFinger { polls: 200 },
            "fault-event" => UruFault::FaultEvent,
            "short-image" => UruFault::ShortImage { bytes: 1000 },
            "stuck" => UruFault::Stuck { reads: 2 },
            other => return Err(unknown_fault(SIM_NAME, other, FAULTS)),
        });
    }
    Ok(UruModel::new(cfg))
}

impl DeviceFactory for UruFactory {
    fn name(&self) -> &'static str {
        "uru4000"
    }
    fn description(&self) -> &'static str {
        "DigitalPersona U.are.U 4000-class USB fingerprint reader"
    }
    fn capability(&self) -> Capability {
        Capability::Fingerprint
    }
    fn transport(&self) -> Transport {
        Transport::Usb
    }
    fn recognise(&self, seen: &Seen<'_>) -> Option<Recognised> {
        let Seen::Usb { vid, pid, .. } = seen else {
            return None;
        };
        ids::lookup(*vid, *pid).map(|i| Recognised::named(i.name))
    }
    fn open(&self, target: Target<'_>, _options: &DriverOptions) -> Attempt {
        let config = UruConfig::default();
        let reader: Result<_, Box<dyn std::error::Error + Send + Sync>> = match target {
            Target::Selector(s) => open(s, config).map_err(Box::from),
            Target::Memory(plug) => on_plug(plug, config).map_err(Box::from),
            Target::Port(_) => return Attempt::wrong_target(self.name(), &target),
        };
        Attempt::of(reader.map(Capabilities::Fingerprint))
    }
    fn model(&self) -> Option<&dyn DeviceModel> {
        Some(self)
    }
}

impl DeviceModel for UruFactory {
    fn model_name(&self) -> &'static str {
        SIM_NAME
    }
    fn faults(&self) -> &'static [SimFault] {
        FAULTS
    }
    fn start(&self, options: &SimOptions) -> Result<ModelDevice, OpenError> {
        Ok(ModelDevice::Usb(Box::new(model(options)?)))
    }
}

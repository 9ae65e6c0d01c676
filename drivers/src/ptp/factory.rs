//! How the registry knows PTP cameras: their factory (recognised by a still image interface
//! 06/01/01, whatever their vendor), opening one by selector — `VID:PID[:SERIAL]` and
//! `usb:<port path>` find the interface through libusb, and the camera opened is found again by
//! the same selector after a replug; nothing is guessed: several matching cameras are an error
//! that lists them — or on its model in memory (`sim:ptp[:n]`), and the model's entry with its
//! faults.

use super::driver::{PtpCamera, PtpConfig, PtpEndpoints};
use super::error::PtpError;
use super::ids;
use super::model::{PtpFault, PtpModel, PtpModelConfig};
use crate::error::OpenError;
use crate::factory::{Attempt, DeviceFactory, DriverOptions, Recognised, Seen, Target, Transport};
use crate::replug::Replugging;
use crate::sim::{unknown_fault, DeviceModel, ModelDevice, SimFault, SimOptions};
use crate::usb::{self, EndpointKind, MemPlug, RusbLink, UsbDescription, UsbError, UsbTransport};
use crate::{Camera, Capabilities, Capability, DeviceError, Selector};

/// The model's name after `sim:`.
pub const SIM_NAME: &str = "ptp";

/// PTP still cameras (any USB interface of class 06/01/01).
#[derive(Debug)]
pub struct PtpFactory;

const PTP_CLASS: (u8, u8, u8) = (
    ids::INTERFACE_CLASS,
    ids::INTERFACE_SUBCLASS,
    ids::INTERFACE_PROTOCOL,
);

static FAULTS: &[SimFault] = &[
    SimFault {
        name: "busy",
        help: "InitiateCapture answers DeviceBusy twice before it works",
    },
    SimFault {
        name: "store-full",
        help: "the memory card is full: InitiateCapture answers StoreFull",
    },
    SimFault {
        name: "cancel",
        help: "the camera cancels the first GetObject after 1000 bytes",
    },
    SimFault {
        name: "no-initiate-capture",
        help: "a body that captures only through vendor operations",
    },
];

/// Why a camera could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenCameraError {
    #[error("no PTP camera matches {selector}; connect the camera, switch it on and set its USB mode to PTP (\"PTP\", \"PC connect\" or \"camera\"), then retry; `lsusb` shows whether it is connected")]
    NotFound { selector: String },
    #[error("{selector} matches {} cameras: {}; name one by VID:PID:SERIAL or usb:<port path>", candidates.len(), candidates.join("; "))]
    Ambiguous {
        selector: String,
        candidates: Vec<String>,
    },
    #[error("{selector} is not a camera selector: use VID:PID[:SERIAL], usb:<port path>, v4l2:/dev/videoN (a webcam), or sim:ptp[:n]")]
    NotACamera { selector: String },
    #[error("cannot list USB devices: {0}")]
    Usb(#[source] UsbError),
    #[error("cannot open the camera at {at}: {source}")]
    Open {
        at: String,
        #[source]
        source: UsbError,
    },
    #[error("the camera at {at} failed to open: {source}")]
    Driver {
        at: String,
        #[source]
        source: PtpError,
    },
}

/// Whether `selector` names the PTP camera model.
pub fn is_sim(selector: &Selector) -> bool {
    matches!(selector, Selector::Sim { model, .. } if model.eq_ignore_ascii_case(SIM_NAME))
}

/// Opens the camera `selector` names; `config` tunes the driver. A camera unplugged and plugged
/// back in is found again by the same selector at the next capture ([`Replugging`]).
pub fn open(
    selector: &Selector,
    config: PtpConfig,
) -> Result<Box<dyn Camera + Send>, OpenCameraError> {
    let camera = open_camera(selector, config.clone())?;
    let again = selector.clone();
    let reopen = Box::new(move || {
        open_camera(&again, config.clone()).map_err(|e| match e {
            OpenCameraError::NotFound { .. }
            | OpenCameraError::Open {
                source: UsbError::NotFound(_) | UsbError::Disconnected,
                ..
            } => DeviceError::Disconnected,
            OpenCameraError::Driver { source, .. } => source.into(),
            other => crate::fault::unusable(other.fault(), other.to_string()),
        })
    });
    Ok(Box::new(Replugging::new(camera, reopen)))
}

/// A camera over whichever USB transport its selector needs.
pub type AnyCamera = PtpCamera<Box<dyn UsbTransport>>;

/// Opens the camera `selector` names as the PTP driver itself (for device properties, say):
/// `sim:ptp[:n]` starts the camera model in memory (it lives as long as the camera).
pub fn open_camera(selector: &Selector, config: PtpConfig) -> Result<AnyCamera, OpenCameraError> {
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
            on_plug(&plug, config).map_err(|source| OpenCameraError::Driver {
                at: selector.to_string(),
                source,
            })
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => on_bus(selector, config),
        Selector::Tty(_) | Selector::V4l2(_) | Selector::Sim { .. } => {
            Err(OpenCameraError::NotACamera {
                selector: selector.to_string(),
            })
        }
    }
}

/// Where the PTP interface of a described device is: the first still image interface, its bulk
/// and interrupt endpoints.
fn endpoints_of(d: &UsbDescription) -> Option<PtpEndpoints> {
    let (number, interface) = d
        .interfaces
        .iter()
        .enumerate()
        .find(|(_, i)| (i.class, i.subclass, i.protocol) == PTP_CLASS)?;
    let find = |kind: EndpointKind, is_in: bool| {
        interface
            .endpoints
            .iter()
            .find(|e| e.kind == kind && (e.address & 0x80 != 0) == is_in)
    };
    let bulk_in = find(EndpointKind::Bulk, true)?;
    Some(PtpEndpoints {
        interface: u8::try_from(number).ok()?,
        bulk_in: bulk_in.address,
        bulk_out: find(EndpointKind::Bulk, false)?.address,
        interrupt_in: find(EndpointKind::Interrupt, true).map_or(0x83, |e| e.address),
        max_packet: usize::from(bulk_in.max_packet.max(8)),
    })
}

/// The camera on a model plugged in to this process.
fn on_plug(plug: &MemPlug, config: PtpConfig) -> Result<AnyCamera, PtpError> {
    let ep = endpoints_of(plug.description()).unwrap_or_default();
    let link: Box<dyn UsbTransport> = Box::new(plug.connect());
    PtpCamera::open(link, ep, config)
}

/// The camera on a model plugged in to this process, connected again after an unplug.
fn replugging_on_plug(
    plug: &MemPlug,
    config: PtpConfig,
) -> Result<Box<dyn Camera + Send>, PtpError> {
    let camera = on_plug(plug, config.clone())?;
    let plug = plug.clone();
    let reopen = Box::new(move || on_plug(&plug, config.clone()).map_err(DeviceError::from));
    Ok(Box::new(Replugging::new(camera, reopen)))
}

/// The camera `selector` names on the USB bus, found through libusb by interface class.
fn on_bus(selector: &Selector, config: PtpConfig) -> Result<AnyCamera, OpenCameraError> {
    let found = usb::list_interfaces(
        ids::INTERFACE_CLASS,
        ids::INTERFACE_SUBCLASS,
        ids::INTERFACE_PROTOCOL,
    )
    .map_err(OpenCameraError::Usb)?;
    let matches = match selector {
        Selector::UsbId { vid, pid, serial } => {
            usb::find_interface(&found, Some((*vid, *pid, serial.as_deref())), None)
        }
        Selector::UsbPort(p) => usb::find_interface(&found, None, Some(p)),
        _ => Vec::new(),
    };
    let f = match matches.as_slice() {
        [one] => *one,
        [] => {
            return Err(OpenCameraError::NotFound {
                selector: selector.to_string(),
            })
        }
        many => {
            return Err(OpenCameraError::Ambiguous {
                selector: selector.to_string(),
                candidates: many
                    .iter()
                    .map(|f| {
                        format!(
                            "{:04x}:{:04x} on usb:{} (serial {})",
                            f.vid,
                            f.pid,
                            f.port_path,
                            f.serial.as_deref().unwrap_or("unknown")
                        )
                    })
                    .collect(),
            })
        }
    };
    let at = format!("usb:{} ({:04x}:{:04x})", f.port_path, f.vid, f.pid);
    let link = RusbLink::open(f).map_err(|source| OpenCameraError::Open {
        at: at.clone(),
        source,
    })?;
    let ep = PtpEndpoints {
        interface: f.interface,
        bulk_in: f.bulk_in,
        bulk_out: f.bulk_out,
        // A PTP interface without an interrupt endpoint cannot report ObjectAdded; the driver
        // then times out waiting for the photo with a clear error.
        interrupt_in: f.interrupt_in.unwrap_or(0x83),
        max_packet: usize::from(f.max_packet.max(8)),
    };
    let link: Box<dyn UsbTransport> = Box::new(link);
    PtpCamera::open(link, ep, config).map_err(|source| OpenCameraError::Driver { at, source })
}

/// The camera model for `options`.
fn model(options: &SimOptions) -> Result<PtpModel, OpenError> {
    let base = PtpModelConfig::default();
    let mut cfg = PtpModelConfig {
        person_seed: 1 + u64::from(options.index),
        serial: format!("SIMPTP{:04}", options.index + 1),
        ..if options.fast { base.fast() } else { base }
    };
    for f in &options.faults {
        cfg.faults.push(match f.as_str() {
            "busy" => PtpFault::Busy { times: 2 },
            "store-full" => PtpFault::StoreFull,
            "cancel" => PtpFault::CancelTransfer { after: 1000 },
            "no-initiate-capture" => PtpFault::NoInitiateCapture {
                vendor_extension: 0x0000_000B,
                vendor_ops: vec![0x9008],
            },
            other => return Err(unknown_fault(SIM_NAME, other, FAULTS)),
        });
    }
    Ok(PtpModel::new(cfg))
}

impl DeviceFactory for PtpFactory {
    fn name(&self) -> &'static str {
        "ptp"
    }
    fn description(&self) -> &'static str {
        "PTP still camera (USB still image capture class)"
    }
    fn capability(&self) -> Capability {
        Capability::Camera
    }
    fn transport(&self) -> Transport {
        Transport::Usb
    }
    fn recognise(&self, seen: &Seen<'_>) -> Option<Recognised> {
        let Seen::Usb { interfaces, .. } = seen else {
            return None;
        };
        interfaces
            .contains(&PTP_CLASS)
            .then(|| Recognised::named("still image interface 06/01/01 (PTP)"))
    }
    fn open(&self, target: Target<'_>, _options: &DriverOptions) -> Attempt {
        let config = PtpConfig::default();
        let camera: Result<_, Box<dyn std::error::Error + Send + Sync>> = match target {
            Target::Selector(s) => open(s, config).map_err(Box::from),
            Target::Memory(plug) => replugging_on_plug(plug, config).map_err(Box::from),
            Target::Port(_) => return Attempt::wrong_target(self.name(), &target),
        };
        Attempt::of(camera.map(Capabilities::Camera))
    }
    fn model(&self) -> Option<&dyn DeviceModel> {
        Some(self)
    }
}

impl DeviceModel for PtpFactory {
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

/// A camera model as the registry starts it (in this process): `sim:ptp`, or a caller's own
/// (`registry::open_model`).
impl From<PtpModelConfig> for ModelDevice {
    fn from(cfg: PtpModelConfig) -> ModelDevice {
        ModelDevice::Usb(Box::new(PtpModel::new(cfg)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn sim_ptp_opens_the_model_and_captures_a_jpeg() {
        let sel: Selector = "sim:ptp:2".parse().unwrap();
        let mut cam = open(&sel, PtpConfig::default()).unwrap();
        assert_eq!(cam.info().driver, "ptp");
        let photo = cam
            .capture_photo(&crate::CaptureControl {
                timeout: Duration::from_secs(10),
                cancel: Arc::default(),
            })
            .unwrap();
        assert!(photo.jpeg.starts_with(&[0xFF, 0xD8]));
    }

    #[test]
    fn a_tty_or_another_model_is_not_a_camera() {
        for s in ["/dev/ttyUSB0", "sim:ef01"] {
            let Err(err) = open(&s.parse().unwrap(), PtpConfig::default()) else {
                panic!("{s} opened as a camera");
            };
            assert!(matches!(err, OpenCameraError::NotACamera { .. }), "{err}");
        }
    }
}

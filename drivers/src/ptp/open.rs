//! Opening a PTP camera by selector: `sim:ptp[:n]` starts the camera model in-process on the
//! in-memory USB transport; `VID:PID[:SERIAL]` and `usb:<port path>` find a still image interface
//! through libusb. Nothing is guessed: several matching cameras are an error that lists them.

use super::driver::{PtpCamera, PtpConfig, PtpEndpoints};
use super::error::PtpError;
use super::ids;
use super::model::{PtpModel, PtpModelConfig};
use crate::replug::Replugging;
use crate::usb::{self, RusbLink, UsbError, UsbTransport};
use crate::{Camera, DeviceError, Selector};

/// The model's name after `sim:`.
pub const SIM_NAME: &str = "ptp";

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
            other => DeviceError::Protocol(other.to_string()),
        })
    });
    Ok(Box::new(Replugging::new(camera, reopen)))
}

/// A camera over whichever USB transport its selector needs.
pub type AnyCamera = PtpCamera<Box<dyn UsbTransport>>;

/// Opens the camera `selector` names as the PTP driver itself (for device properties, say).
pub fn open_camera(selector: &Selector, config: PtpConfig) -> Result<AnyCamera, OpenCameraError> {
    match selector {
        Selector::Sim { index, .. } if is_sim(selector) => {
            let model = PtpModelConfig {
                person_seed: 1 + u64::from(*index),
                ..PtpModelConfig::default().fast()
            };
            let (link, _log, ep) = PtpModel::transport(model);
            let link: Box<dyn UsbTransport> = Box::new(link);
            PtpCamera::open(link, ep, config).map_err(|source| OpenCameraError::Driver {
                at: selector.to_string(),
                source,
            })
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
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
                _ => unreachable!("matched above"),
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
                // A PTP interface without an interrupt endpoint cannot report ObjectAdded; the
                // driver then times out waiting for the photo with a clear error.
                interrupt_in: f.interrupt_in.unwrap_or(0x83),
                max_packet: usize::from(f.max_packet.max(8)),
            };
            let link: Box<dyn UsbTransport> = Box::new(link);
            PtpCamera::open(link, ep, config)
                .map_err(|source| OpenCameraError::Driver { at, source })
        }
        Selector::Tty(_) | Selector::V4l2(_) | Selector::Sim { .. } => {
            Err(OpenCameraError::NotACamera {
                selector: selector.to_string(),
            })
        }
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

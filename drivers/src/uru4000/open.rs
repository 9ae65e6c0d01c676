//! Opening a U.are.U reader by selector: `sim:uru4000[:n]` starts the reader model in-process on
//! the in-memory USB transport; `VID:PID[:SERIAL]` and `usb:<port path>` find the reader through
//! libusb, by its id table. The opened reader is a [`replugging`] one: after an unplug it is
//! found again by the same selector. Several matching readers are an error that lists them.

use super::driver::{device_info, replugging, UruConfig};
use super::error::UruError;
use super::ids;
use super::model::{UruHandle, UruModelConfig};
use crate::usb::{self, RusbLink, UsbDeviceEntry, UsbError};
use crate::{FingerprintScanner, Selector};

/// The model's name after `sim:`.
pub const SIM_NAME: &str = "uru4000";

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

/// Opens the reader `selector` names, and returns the model's handle for `sim:` (to unplug it,
/// say).
pub fn open(
    selector: &Selector,
    config: UruConfig,
) -> Result<(Box<dyn FingerprintScanner + Send>, Option<UruHandle>), OpenReaderError> {
    match selector {
        Selector::Sim { index, .. } if is_sim(selector) => {
            let cfg = UruModelConfig {
                person_seed: 1 + u64::from(*index),
                serial: format!("SIMURU{:04}", index + 1),
                ..UruModelConfig::default()
            };
            let info = device_info(cfg.vid, cfg.pid, Some(cfg.serial.clone()));
            let handle = UruHandle::new(cfg);
            let h = handle.clone();
            let reader = replugging(move || h.transport(), info, config).map_err(|source| {
                OpenReaderError::Driver {
                    at: selector.to_string(),
                    source,
                }
            })?;
            Ok((Box::new(reader), Some(handle)))
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
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
            Ok((Box::new(reader), None))
        }
        Selector::Tty(_) | Selector::V4l2(_) | Selector::Sim { .. } => {
            Err(OpenReaderError::NotAReader {
                selector: selector.to_string(),
            })
        }
    }
}

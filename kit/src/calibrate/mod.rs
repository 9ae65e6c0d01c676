//! `jemput calibrate`'s procedures: which procedure a selector calls for, and the procedures
//! themselves — the pad's two-corner tap ([`pad`]), the EF01 module's settings and blank-sensor
//! baseline ([`ef01`]), the PTP camera's exposure and white balance properties ([`camera`]). Each
//! keeps its record in the kit home ([`crate::calibration`]), which later captures with the device
//! reference, and returns what the CLI prints.

pub mod camera;
pub mod ef01;
mod error;
pub mod pad;
mod shared;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jemput_drivers::ef01::{Ef01Model, ModelHandle, ModelOptions};
use jemput_drivers::isdv4::{Handwriting, Isdv4Model, Isdv4ModelConfig};
use jemput_drivers::{CaptureControl, Selector};

use crate::calibration::{self, CalibrationRecord};
pub use camera::{CameraReport, CameraSettings, PropertyLine, WhiteBalance};
pub use error::CalibrateError;
pub use shared::{calibration_id, CalDriver, Prompt};

/// What to calibrate and how.
#[derive(Debug, Clone)]
pub struct CalibrateRequest {
    /// A tty path (with `driver`), `VID:PID[:SERIAL]` or `usb:<port>` of a serial device or a PTP
    /// camera, or `sim:ef01` / `sim:isdv4` / `sim:ptp`.
    pub selector: Selector,
    /// The driver of a tty path (or of a USB adapter several drivers share).
    pub driver: Option<CalDriver>,
    /// Line speed of a tty path (default: 57 600 for the EF01, 19 200 for the ISDV4).
    pub baud: Option<u32>,
    /// How long to wait for the operator.
    pub timeout: Duration,
    /// What to set on a camera.
    pub camera: CameraSettings,
}

/// A calibration done and saved.
#[derive(Debug, Clone)]
pub struct Calibrated {
    pub record: CalibrationRecord,
    /// Where the record was saved.
    pub file: PathBuf,
    /// For a camera: each property it exposes, and those it does not.
    pub camera: Option<CameraReport>,
}

/// Calibrates the device `request` names, telling the operator what to do through `prompt`, and
/// saves the record in the kit `home` as the one in force for the device.
pub fn calibrate(
    home: &Path,
    request: &CalibrateRequest,
    prompt: &mut dyn FnMut(Prompt),
) -> Result<Calibrated, CalibrateError> {
    if camera::is_camera(&request.selector, request.driver) {
        let (record, report) = camera::calibrate(&request.selector, &request.camera)?;
        let file = calibration::save(home, &record)?;
        return Ok(Calibrated {
            record,
            file,
            camera: Some(report),
        });
    }
    if !request.camera.is_empty() {
        return Err(CalibrateError::CameraSettings(request.selector.to_string()));
    }
    let control = CaptureControl {
        timeout: request.timeout,
        cancel: Default::default(),
    };
    // A simulated device stays alive for the whole calibration.
    let (driver, path, _sim) = target(request)?;
    let record = match driver {
        // Cameras were handled above.
        CalDriver::Ptp => return Err(CalibrateError::NotACamera(request.selector.to_string())),
        CalDriver::Isdv4 => pad::calibrate(&path, request.baud, &control, prompt)?,
        CalDriver::Ef01 => ef01::calibrate(&path, request.baud)?,
    };
    let file = calibration::save(home, &record)?;
    Ok(Calibrated {
        record,
        file,
        camera: None,
    })
}

/// A device model started for a `sim:` selector; dropping it stops the model.
#[derive(Debug)]
enum Sim {
    Isdv4(#[allow(dead_code)] Isdv4Model),
    Ef01(#[allow(dead_code)] ModelHandle),
}

/// The serial device `request` names: its driver, its tty, and the model behind a `sim:` one.
fn target(request: &CalibrateRequest) -> Result<(CalDriver, PathBuf, Option<Sim>), CalibrateError> {
    Ok(match &request.selector {
        Selector::Tty(p) => {
            let d = request
                .driver
                .ok_or_else(|| CalibrateError::DriverNeeded(p.clone()))?;
            (d, p.clone(), None)
        }
        Selector::Sim { model, .. } if model == "isdv4" => {
            let cfg = Isdv4ModelConfig {
                handwriting: Handwriting::CornerTaps,
                ..Default::default()
            }
            .fast();
            let (m, p) = Isdv4Model::on_pty(cfg)?;
            (CalDriver::Isdv4, p, Some(Sim::Isdv4(m)))
        }
        Selector::Sim { model, .. } if model == "ef01" => {
            let opts = ModelOptions {
                finger_after_polls: u32::MAX,
                ..ModelOptions::fast()
            };
            let (m, p) = Ef01Model::spawn_on_pty(opts)?;
            (CalDriver::Ef01, p, Some(Sim::Ef01(m)))
        }
        sel @ (Selector::UsbId { .. } | Selector::UsbPort(_)) => {
            let found = jemput_drivers::registry::list_serial();
            let dev = jemput_drivers::registry::resolve(sel, &found)?;
            let d = match request.driver {
                Some(d) => d,
                None => {
                    let names: Vec<&str> = dev.drivers.iter().map(|c| c.driver.as_str()).collect();
                    match names.as_slice() {
                        ["ef01"] => CalDriver::Ef01,
                        ["isdv4"] => CalDriver::Isdv4,
                        many => {
                            return Err(CalibrateError::AmbiguousDriver {
                                path: dev.path.clone(),
                                drivers: many.iter().map(|s| s.to_string()).collect(),
                            })
                        }
                    }
                }
            };
            (d, dev.path.clone(), None)
        }
        other => return Err(CalibrateError::Unsupported(other.to_string())),
    })
}

#[cfg(test)]
mod tests;

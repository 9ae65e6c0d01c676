//! `jemput calibrate`: which device a selector names (`choose.rs`), opened through the driver
//! registry like every other device, then calibrated by its own driver — the capability's
//! `calibrate` (a pad's two corner taps, an EF01 module's settings and blank-sensor baseline, a
//! PTP camera's exposure and white balance properties) — and the record of it kept in the kit
//! home ([`crate::calibration`]), which later captures with the device reference. Returns what
//! the CLI prints.

mod choose;
mod error;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jemput_drivers::registry::{Capability, OpenedDevice};
use jemput_drivers::{CaptureControl, DeviceError, DeviceInfo, Selector};
use sha2::{Digest, Sha256};

use crate::calibration::{self, CalibrationRecord};
pub use choose::{is_camera, CalDriver};
pub use error::CalibrateError;
pub use jemput_drivers::calibration::{
    CameraReport, CameraSettings, DeviceCalibration, Prompt, PropertyLine, WhiteBalance,
};

/// What to calibrate and how.
#[derive(Debug, Clone)]
pub struct CalibrateRequest {
    /// A tty path (with `driver`), `VID:PID[:SERIAL]` or `usb:<port>` of a serial device or a PTP
    /// camera, or `sim:ef01` / `sim:isdv4` / `sim:ptp`.
    pub selector: Selector,
    /// The driver of a tty path (or of a USB adapter several drivers share).
    pub driver: Option<CalDriver>,
    /// Line speed of a tty path (default: the port's ID table's, else 57 600 for the EF01,
    /// 19 200 for the ISDV4).
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
    let control = CaptureControl {
        timeout: request.timeout,
        cancel: Default::default(),
    };
    // A device model behind a `sim:` selector runs as long as the opened device.
    let opened = if is_camera(&request.selector, request.driver) {
        if !request.camera.exposure_bias_in_range() {
            return Err(CalibrateError::ExposureBiasRange);
        }
        choose::open_camera(&request.selector)?
    } else if !request.camera.is_empty() {
        return Err(CalibrateError::CameraSettings(request.selector.to_string()));
    } else {
        choose::open_serial(&request.selector, request.driver, request.baud)?
    };
    calibrate_opened(home, opened, &request.camera, &control, prompt)
}

/// Calibrates a device opened through the registry as the capability it offers — a camera with
/// `settings`, a pad or a scanner asking the operator through `prompt` — and keeps the record.
fn calibrate_opened(
    home: &Path,
    mut opened: OpenedDevice,
    settings: &CameraSettings,
    control: &CaptureControl,
    prompt: &mut dyn FnMut(Prompt),
) -> Result<Calibrated, CalibrateError> {
    let (done, report) = match opened.capability() {
        Capability::Camera => {
            let c = opened.camera()?.calibrate(settings, control)?;
            (c.calibration, Some(c.report))
        }
        Capability::Signature => (opened.pad()?.calibrate(control, prompt)?, None),
        Capability::Fingerprint => (opened.scanner()?.calibrate(control, prompt)?, None),
        Capability::Location => return Err(DeviceError::NotSupported("calibration").into()),
    };
    let record = record(opened.info(), done);
    let file = calibration::save(home, &record)?;
    Ok(Calibrated {
        record,
        file,
        camera: report,
    })
}

/// The record of a calibration of `device`, under the driver's id for it, else one made of its
/// data ([`calibration_id`]).
fn record(device: &DeviceInfo, done: DeviceCalibration) -> CalibrationRecord {
    let id = done
        .id
        .unwrap_or_else(|| calibration_id(&device.driver, &done.data));
    CalibrationRecord {
        id,
        device: device.clone(),
        created_at: jiff::Timestamp::now(),
        data: done.data,
    }
}

/// The id of a record of `data` from a `prefix` driver: `<prefix>-cal-<12 hex digits of its
/// SHA-256>`.
pub fn calibration_id(prefix: &str, data: &serde_json::Value) -> String {
    let d = Sha256::digest(data.to_string().as_bytes());
    format!("{prefix}-cal-{}", hex::encode(&d[..6]))
}

#[cfg(test)]
mod tests;

//! A PTP camera's calibration: reads the exposure and white balance device properties the camera
//! exposes (GetDevicePropDesc), sets the ones asked for (SetDevicePropValue), and keeps the record
//! under the camera's identity. Properties the camera does not expose over PTP are listed as such:
//! they are set in the camera's own menu. A visit's face photo taken with that camera then records
//! the record's id as its `calibration_id` (looked up by the camera's identity,
//! [`crate::calibration::current_id`]).

use jemput_drivers::ptp::props::{code, CALIBRATION_PROPERTIES, WHITE_BALANCE_NAMES};
use jemput_drivers::ptp::{self, AnyCamera, DevicePropDesc, PropForm, PropValue, PtpConfig};
use jemput_drivers::registry::Capability;
use jemput_drivers::{Device, Selector};

use super::error::CalibrateError;
use super::shared::{calibration_id, CalDriver};
use crate::calibration::CalibrationRecord;

/// White balance settings (PTP WhiteBalance values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteBalance {
    Auto,
    Daylight,
    Fluorescent,
    Tungsten,
    Flash,
}

impl WhiteBalance {
    fn value(self) -> i128 {
        match self {
            WhiteBalance::Auto => 2,
            WhiteBalance::Daylight => 4,
            WhiteBalance::Fluorescent => 5,
            WhiteBalance::Tungsten => 6,
            WhiteBalance::Flash => 7,
        }
    }
}

/// What to set on the camera; nothing set just reads the properties.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CameraSettings {
    pub white_balance: Option<WhiteBalance>,
    /// Exposure bias in EV, -10 to 10 (e.g. -0.5, 1).
    pub exposure_bias: Option<f64>,
    /// ISO speed.
    pub iso: Option<u32>,
}

impl CameraSettings {
    /// Whether nothing is to be set.
    pub fn is_empty(&self) -> bool {
        self.white_balance.is_none() && self.exposure_bias.is_none() && self.iso.is_none()
    }
}

/// One property the camera exposes, as the operator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyLine {
    /// E.g. `white_balance`.
    pub name: &'static str,
    /// The current value, e.g. `auto (2)`, `-0.50 EV`.
    pub current: String,
    pub writable: bool,
    /// The values the camera allows, e.g. `100, 200, 400`.
    pub allowed: String,
}

/// What the camera showed of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CameraReport {
    /// Every calibration property the camera exposes, read after setting.
    pub properties: Vec<PropertyLine>,
    /// The calibration properties it does not expose over PTP.
    pub not_exposed: Vec<&'static str>,
}

/// Whether the selector names a camera: `sim:ptp`, `--driver ptp`, or a USB selector that the
/// USB listing shows as a PTP camera.
pub fn is_camera(selector: &Selector, driver: Option<CalDriver>) -> bool {
    if driver == Some(CalDriver::Ptp) || ptp::is_sim(selector) {
        return true;
    }
    if driver.is_some() {
        return false;
    }
    match selector {
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
            jemput_drivers::registry::list_usb().iter().any(|d| {
                d.drivers.iter().any(|c| c.capability == Capability::Camera)
                    && match selector {
                        Selector::UsbId { vid, pid, .. } => d.usb.as_ref().is_some_and(|u| {
                            u.vid == format!("{vid:04x}") && u.pid == format!("{pid:04x}")
                        }),
                        Selector::UsbPort(p) => d.usb_port.as_deref() == Some(p.as_str()),
                        _ => false,
                    }
            })
        }
        _ => false,
    }
}

fn name_of(code: u16) -> &'static str {
    CALIBRATION_PROPERTIES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("property", |(_, n)| n)
}

/// A property's value as the operator reads it.
fn show(code_: u16, v: &PropValue) -> String {
    match (code_, v.as_int()) {
        (code::WHITE_BALANCE, Some(n)) => WHITE_BALANCE_NAMES
            .iter()
            .find(|(k, _)| i128::from(*k) == n)
            .map_or(format!("{n}"), |(_, name)| format!("{name} ({n})")),
        (code::EXPOSURE_BIAS_COMPENSATION, Some(n)) => format!("{:+.2} EV", n as f64 / 1000.0),
        _ => v.to_string(),
    }
}

fn allowed(desc: &DevicePropDesc) -> String {
    match &desc.form {
        PropForm::None => "any value of its type".into(),
        PropForm::Range { min, max, step } => format!(
            "{} to {} in steps of {}",
            show(desc.code, min),
            show(desc.code, max),
            show(desc.code, step).trim_start_matches('+')
        ),
        PropForm::Enumeration(v) => v
            .iter()
            .map(|v| show(desc.code, v))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Sets `code` to `value` where the camera exposes it, allows it and lets the host write it.
fn set(cam: &mut AnyCamera, code_: u16, value: PropValue) -> Result<(), CalibrateError> {
    let name = name_of(code_);
    if !cam.has_property(code_) {
        return Err(CalibrateError::NotExposed { name, code: code_ });
    }
    let desc = cam
        .property_desc(code_)
        .map_err(|source| CalibrateError::Read { name, source })?;
    if !desc.writable {
        return Err(CalibrateError::ReadOnly { name });
    }
    if !desc.allows(&value) {
        return Err(CalibrateError::NotAllowed {
            name,
            value: show(code_, &value),
            allowed: allowed(&desc),
        });
    }
    cam.set_property(code_, desc.data_type, &value)
        .map_err(|source| CalibrateError::Set { name, source })
}

/// Opens the camera `selector` names, sets what `settings` asks for, reads every calibration
/// property back, and returns the record (not saved yet) with what the camera showed.
pub fn calibrate(
    selector: &Selector,
    settings: &CameraSettings,
) -> Result<(CalibrationRecord, CameraReport), CalibrateError> {
    let mut cam = ptp::open_camera(selector, PtpConfig::default())?;
    let mut wanted: Vec<(u16, PropValue)> = Vec::new();
    if let Some(wb) = settings.white_balance {
        wanted.push((code::WHITE_BALANCE, PropValue::Int(wb.value())));
    }
    if let Some(ev) = settings.exposure_bias {
        if !(ev.is_finite() && ev.abs() <= 10.0) {
            return Err(CalibrateError::ExposureBiasRange);
        }
        wanted.push((
            code::EXPOSURE_BIAS_COMPENSATION,
            PropValue::Int((ev * 1000.0).round() as i128),
        ));
    }
    if let Some(iso) = settings.iso {
        wanted.push((code::EXPOSURE_INDEX, PropValue::Int(iso.into())));
    }
    let mut set_values = serde_json::Map::new();
    for (c, v) in wanted {
        set(&mut cam, c, v.clone())?;
        set_values.insert(name_of(c).into(), serde_json::to_value(&v)?);
    }

    let mut properties = serde_json::Map::new();
    let mut report = CameraReport::default();
    for &(c, name) in CALIBRATION_PROPERTIES {
        if !cam.has_property(c) {
            report.not_exposed.push(name);
            continue;
        }
        let desc = cam
            .property_desc(c)
            .map_err(|source| CalibrateError::Read { name, source })?;
        report.properties.push(PropertyLine {
            name,
            current: show(c, &desc.current),
            writable: desc.writable,
            allowed: allowed(&desc),
        });
        properties.insert(name.into(), serde_json::to_value(&desc)?);
    }
    let data = serde_json::json!({
        "properties": properties,
        "set": set_values,
        "not_exposed": report.not_exposed,
    });
    let record = CalibrationRecord {
        id: calibration_id("ptp", &data),
        device: cam.info().clone(),
        created_at: jiff::Timestamp::now(),
        data,
    };
    Ok((record, report))
}

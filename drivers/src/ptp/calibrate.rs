//! A PTP camera's calibration ([`PtpCamera::calibrate_properties`]): reads the exposure and white
//! balance device properties the camera exposes (GetDevicePropDesc), sets the ones asked for
//! (SetDevicePropValue) where the camera exposes, allows and lets the host write them, and reads
//! them all back. Properties the camera does not expose over PTP are listed as such: they are set
//! in the camera's own menu. The record's data holds every property's description, what was set
//! and what is not exposed; the report shows the same to the operator.

use super::driver::PtpCamera;
use super::error::PropertyError;
use super::props::{code, DevicePropDesc, PropForm, PropValue};
use super::props::{CALIBRATION_PROPERTIES, WHITE_BALANCE_NAMES};
use crate::calibration::{
    CameraCalibration, CameraReport, CameraSettings, DeviceCalibration, PropertyLine, WhiteBalance,
};
use crate::usb::UsbTransport;

/// The PTP WhiteBalance value of a setting.
fn white_balance(wb: WhiteBalance) -> i128 {
    match wb {
        WhiteBalance::Auto => 2,
        WhiteBalance::Daylight => 4,
        WhiteBalance::Fluorescent => 5,
        WhiteBalance::Tungsten => 6,
        WhiteBalance::Flash => 7,
    }
}

/// The property values `settings` asks for, in the order they are set.
fn wanted(settings: &CameraSettings) -> Result<Vec<(u16, PropValue)>, PropertyError> {
    let mut wanted = Vec::new();
    if let Some(wb) = settings.white_balance {
        wanted.push((code::WHITE_BALANCE, PropValue::Int(white_balance(wb))));
    }
    if let Some(ev) = settings.exposure_bias {
        if !settings.exposure_bias_in_range() {
            return Err(PropertyError::ExposureBiasRange { ev });
        }
        wanted.push((
            code::EXPOSURE_BIAS_COMPENSATION,
            PropValue::Int((ev * 1000.0).round() as i128),
        ));
    }
    if let Some(iso) = settings.iso {
        wanted.push((code::EXPOSURE_INDEX, PropValue::Int(iso.into())));
    }
    Ok(wanted)
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

/// The values a property allows, as the operator reads them.
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

impl<T: UsbTransport> PtpCamera<T> {
    /// Sets what `settings` asks for, then reads every calibration property back. A value is
    /// set only where the camera exposes the property, allows the value and lets the host write
    /// it; otherwise nothing further is set and the error says where to set it instead.
    pub fn calibrate_properties(
        &mut self,
        settings: &CameraSettings,
    ) -> Result<CameraCalibration, PropertyError> {
        let mut set_values = serde_json::Map::new();
        for (c, v) in wanted(settings)? {
            self.set_checked(c, &v)?;
            set_values.insert(name_of(c).into(), serde_json::to_value(&v)?);
        }

        let mut properties = serde_json::Map::new();
        let mut report = CameraReport::default();
        for &(c, name) in CALIBRATION_PROPERTIES {
            if !self.has_property(c) {
                report.not_exposed.push(name);
                continue;
            }
            let desc = self
                .property_desc(c)
                .map_err(|source| PropertyError::Read { name, source })?;
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
        Ok(CameraCalibration {
            calibration: DeviceCalibration { data, id: None },
            report,
        })
    }

    /// Sets `code_` to `value` where the camera exposes it, allows it and lets the host write it.
    fn set_checked(&mut self, code_: u16, value: &PropValue) -> Result<(), PropertyError> {
        let name = name_of(code_);
        if !self.has_property(code_) {
            return Err(PropertyError::NotExposed { name, code: code_ });
        }
        let desc = self
            .property_desc(code_)
            .map_err(|source| PropertyError::Read { name, source })?;
        if !desc.writable {
            return Err(PropertyError::ReadOnly { name });
        }
        if !desc.allows(value) {
            return Err(PropertyError::NotAllowed {
                name,
                value: show(code_, value),
                allowed: allowed(&desc),
            });
        }
        self.set_property(code_, desc.data_type, value)
            .map_err(|source| PropertyError::Set { name, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_the_operator_says_them() {
        let wb = PropValue::Int(4);
        assert_eq!(show(code::WHITE_BALANCE, &wb), "daylight (4)");
        assert_eq!(show(code::WHITE_BALANCE, &PropValue::Int(99)), "99");
        let ev = PropValue::Int(-500);
        assert_eq!(show(code::EXPOSURE_BIAS_COMPENSATION, &ev), "-0.50 EV");
        assert_eq!(show(code::EXPOSURE_INDEX, &PropValue::Int(400)), "400");
        assert_eq!(name_of(code::EXPOSURE_INDEX), "iso");
    }

    #[test]
    fn settings_become_ptp_values_and_an_exposure_bias_out_of_range_is_refused() {
        let settings = CameraSettings {
            white_balance: Some(WhiteBalance::Tungsten),
            exposure_bias: Some(-0.5),
            iso: Some(800),
        };
        assert_eq!(
            wanted(&settings).unwrap(),
            [
                (code::WHITE_BALANCE, PropValue::Int(6)),
                (code::EXPOSURE_BIAS_COMPENSATION, PropValue::Int(-500)),
                (code::EXPOSURE_INDEX, PropValue::Int(800)),
            ]
        );
        let far = CameraSettings {
            exposure_bias: Some(12.0),
            ..Default::default()
        };
        let e = wanted(&far).unwrap_err();
        assert_eq!(
            e.to_string(),
            "an exposure bias of 12 EV is out of range: cameras are asked for -10 to 10 EV"
        );
    }
}

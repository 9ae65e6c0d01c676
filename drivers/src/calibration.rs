//! What calibrating a device asks and gives back. Calibration is an optional capability of the
//! capture traits — `SignaturePad::calibrate`, `FingerprintScanner::calibrate`,
//! `Camera::calibrate` — each answering "not supported" unless the driver owns a procedure:
//!
//! - what a procedure asks the operator to do ([`Prompt`]);
//! - what it returns: the record's data as the driver writes it, with the driver's own id for it
//!   when it has one ([`DeviceCalibration`]); the caller keeps the record;
//! - for a camera, the settings asked for ([`CameraSettings`]) and what the camera showed of
//!   itself ([`CameraReport`], [`CameraCalibration`]).

/// What a procedure asks the operator to do, as it starts waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Tap the top-left, then the bottom-right corner of the pad's signing area.
    TapCorners,
}

/// A calibration a driver made, for the caller to keep as a record.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceCalibration {
    /// Driver-specific content: a pad's corner mapping, a scanner's settings and baseline, a
    /// camera's properties. What a driver's `apply_calibration` takes back.
    pub data: serde_json::Value,
    /// The id the driver gives the calibration (a pad's, which it checks against the data when
    /// the calibration is applied); `None`: the caller names it.
    pub id: Option<String>,
}

/// White balance settings a camera can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteBalance {
    Auto,
    Daylight,
    Fluorescent,
    Tungsten,
    Flash,
}

/// The largest exposure bias, in EV either way, a camera is asked for.
pub const MAX_EXPOSURE_BIAS: f64 = 10.0;

/// What to set on a camera; nothing set just reads its properties.
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

    /// Whether the exposure bias asked for (if any) is a number of EV within
    /// ±[`MAX_EXPOSURE_BIAS`].
    pub fn exposure_bias_in_range(&self) -> bool {
        self.exposure_bias
            .is_none_or(|ev| ev.is_finite() && ev.abs() <= MAX_EXPOSURE_BIAS)
    }
}

/// One property a camera exposes, as the operator reads it.
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

/// What a camera showed of itself while it was calibrated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CameraReport {
    /// Every calibration property the camera exposes, read after setting.
    pub properties: Vec<PropertyLine>,
    /// The calibration properties it does not expose (they are set in its own menu).
    pub not_exposed: Vec<&'static str>,
}

/// A camera's calibration: the record's data, and what the camera showed for the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraCalibration {
    pub calibration: DeviceCalibration,
    pub report: CameraReport,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposure_bias_is_in_range_within_ten_ev_either_way_and_when_not_asked_for() {
        let with = |ev| CameraSettings {
            exposure_bias: Some(ev),
            ..Default::default()
        };
        assert!(CameraSettings::default().exposure_bias_in_range());
        assert!(CameraSettings::default().is_empty());
        assert!(with(-10.0).exposure_bias_in_range());
        assert!(with(0.5).exposure_bias_in_range());
        assert!(!with(10.5).exposure_bias_in_range());
        assert!(!with(f64::NAN).exposure_bias_in_range());
        assert!(!with(0.5).is_empty());
    }
}

//! Calibration records kept in the kit home: what was measured or set on a device, under an id that
//! every later capture with that device references.
//!
//! `<home>/calibrations/<id>.json` holds each record; `<home>/calibrations/current-<key>.json` the
//! one in force for a device, where the key is the driver and the device's serial (or model).

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use jemput_core::fsutil;
use jemput_drivers::DeviceInfo;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalibrationRecord {
    /// Referenced by captures as `calibration_id`.
    pub id: String,
    pub device: DeviceInfo,
    pub created_at: jiff::Timestamp,
    /// Driver-specific content (e.g. a pad's corner mapping, a scanner's settings and baseline).
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalibrationError {
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("calibration record {path} is damaged: {why}; run `jemput calibrate` again")]
    Damaged { path: PathBuf, why: String },
}

fn dir(home: &Path) -> PathBuf {
    home.join("calibrations")
}

/// The key of the record in force for a device: driver and serial (else model), file-name safe.
pub fn device_key(info: &DeviceInfo) -> String {
    let who = info.serial.as_deref().unwrap_or(&info.model);
    format!("{}-{}", info.driver, who)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Saves a record and makes it the one in force for its device.
pub fn save(home: &Path, record: &CalibrationRecord) -> Result<PathBuf, CalibrationError> {
    let d = dir(home);
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |source| CalibrationError::Io { what, path, source }
    };
    fsutil::ensure_dir(&d, 0o700).map_err(io("create", &d))?;
    let json = serde_json::to_vec_pretty(record).expect("a record serialises");
    let path = d.join(format!("{}.json", record.id));
    fsutil::write_atomic(&path, &json, 0o600).map_err(io("write", &path))?;
    let current = d.join(format!("current-{}.json", device_key(&record.device)));
    fsutil::write_atomic(&current, &json, 0o600).map_err(io("write", &current))?;
    Ok(path)
}

/// The record in force for a device, if it was calibrated.
pub fn current(
    home: &Path,
    info: &DeviceInfo,
) -> Result<Option<CalibrationRecord>, CalibrationError> {
    let path = dir(home).join(format!("current-{}.json", device_key(info)));
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CalibrationError::Io {
                what: "read",
                path,
                source,
            })
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| CalibrationError::Damaged {
            path,
            why: e.to_string(),
        })
}

/// The id of the record in force for a device, which its captures reference; `None` when it was
/// never calibrated.
pub fn current_id(home: &Path, info: &DeviceInfo) -> Result<Option<String>, CalibrationError> {
    Ok(current(home, info)?.map(|r| r.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(serial: Option<&str>) -> DeviceInfo {
        DeviceInfo {
            driver: "isdv4".into(),
            model: "Wacom ISDV4".into(),
            serial: serial.map(String::from),
            firmware: None,
        }
    }

    #[test]
    fn a_saved_record_is_in_force_for_its_device_only() {
        let d = tempfile::tempdir().unwrap();
        let r = CalibrationRecord {
            id: "isdv4-cal-1".into(),
            device: info(Some("SN/1")),
            created_at: jiff::Timestamp::now(),
            data: serde_json::json!({"top_left": [10, 20]}),
        };
        save(d.path(), &r).unwrap();
        assert_eq!(
            current(d.path(), &info(Some("SN/1"))).unwrap(),
            Some(r.clone())
        );
        assert_eq!(current(d.path(), &info(Some("SN/2"))).unwrap(), None);
        assert_eq!(
            current_id(d.path(), &info(Some("SN/1")))
                .unwrap()
                .as_deref(),
            Some("isdv4-cal-1")
        );
        assert_eq!(current_id(d.path(), &info(Some("SN/2"))).unwrap(), None);
        assert!(d.path().join("calibrations/isdv4-cal-1.json").is_file());
        // A damaged record is named, not silently ignored.
        std::fs::write(
            d.path()
                .join("calibrations")
                .join(format!("current-{}.json", device_key(&info(Some("SN/1"))))),
            b"{",
        )
        .unwrap();
        assert!(matches!(
            current(d.path(), &info(Some("SN/1"))),
            Err(CalibrationError::Damaged { .. })
        ));
    }

    #[test]
    fn device_keys_are_file_name_safe() {
        assert_eq!(device_key(&info(Some("../x y"))), "isdv4-___x_y");
        assert_eq!(device_key(&info(None)), "isdv4-Wacom_ISDV4");
    }
}

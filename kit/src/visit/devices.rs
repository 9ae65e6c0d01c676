//! The devices a visit captures with ([`SessionDevices`]): owned, each with the calibration in
//! force for it, and most often chosen from the driver registry ([`SessionDevices::from_opened`]).

use std::fmt;
use std::path::Path;

use jemput_drivers::registry::OpenedDevice;
use jemput_drivers::{
    Camera, Capabilities, Capability, DeviceError, FingerprintScanner, LocationSource, SignaturePad,
};

use crate::calibration::{self, CalibrationError};

/// The devices a visit captures with, owned by the session (so it can move between threads), and
/// the calibration in force for each (`jemput calibrate`), recorded with its captures. A device
/// left out leaves its steps out of the session's plan.
#[derive(Default)]
pub struct SessionDevices {
    /// The camera for the face photo and the document photos.
    pub camera: Option<Box<dyn Camera + Send>>,
    pub camera_calibration: Option<String>,
    pub scanner: Option<Box<dyn FingerprintScanner + Send>>,
    pub scanner_calibration: Option<String>,
    pub pad: Option<Box<dyn SignaturePad + Send>>,
    pub pad_calibration: Option<String>,
    pub gps: Option<Box<dyn LocationSource + Send>>,
    /// An SBI slap scanner (`crate::sbi`): the fingers by slap, 4-4-2
    /// ([`super::session::VisitSession::run_slap`]).
    pub slap_scanner: Option<crate::sbi::SbiSlapScanner>,
}

impl fmt::Debug for SessionDevices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionDevices")
            .field("camera", &self.camera.as_ref().map(|d| d.info()))
            .field("scanner", &self.scanner.as_ref().map(|d| d.info()))
            .field("pad", &self.pad.as_ref().map(|d| d.info()))
            .field("gps", &self.gps.as_ref().map(|d| d.info()))
            .field(
                "slap_scanner",
                &self.slap_scanner.as_ref().map(|d| d.info()),
            )
            .finish()
    }
}

/// The devices chosen cannot serve one visit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevicesError {
    #[error("two {capability}s were chosen for one visit, {first} and {second}; choose one")]
    Twice {
        capability: Capability,
        first: String,
        second: String,
    },
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    #[error("the calibration recorded for the pad {pad} cannot be used: {source}; calibrate it again (`jemput calibrate`)")]
    PadCalibration {
        pad: String,
        #[source]
        source: DeviceError,
    },
}

impl SessionDevices {
    /// Devices opened through the registry, each kept as the capability it offers, with the
    /// calibration `jemput calibrate` recorded at `home` for it by its identity (a pad's is
    /// applied to the pad, so its traces are in signing-area units).
    pub fn from_opened(home: &Path, opened: Vec<OpenedDevice>) -> Result<Self, DevicesError> {
        let mut devices = SessionDevices::default();
        let mut names: Vec<(Capability, String)> = Vec::new();
        for d in opened {
            let name = format!("{} ({})", d.path().display(), d.info().driver);
            let capability = d.capability();
            if let Some((_, first)) = names.iter().find(|(c, _)| *c == capability) {
                return Err(DevicesError::Twice {
                    capability,
                    first: first.clone(),
                    second: name,
                });
            }
            names.push((capability, name.clone()));
            let calibration = calibration::current(home, d.info())?;
            let id = calibration.as_ref().map(|r| r.id.clone());
            match d.into_capabilities() {
                Capabilities::Camera(c) => {
                    devices.camera = Some(c);
                    devices.camera_calibration = id;
                }
                Capabilities::Fingerprint(s) => {
                    devices.scanner = Some(s);
                    devices.scanner_calibration = id;
                }
                Capabilities::Signature(mut p) => {
                    devices.pad_calibration = match &calibration {
                        Some(r) => Some(p.apply_calibration(&r.data).map_err(|source| {
                            DevicesError::PadCalibration { pad: name, source }
                        })?),
                        None => None,
                    };
                    devices.pad = Some(p);
                }
                Capabilities::Location(g) => devices.gps = Some(g),
                _ => {}
            }
        }
        Ok(devices)
    }

    /// Makes the SBI Finger device `device` the visit's fingerprint scanner in place of any other:
    /// a single-finger scanner as [`Self::scanner`], the finger steps' ordinary scanner; a slap
    /// scanner as [`Self::slap_scanner`]. SBI devices take no `jemput calibrate` record.
    pub fn set_sbi_scanner(&mut self, device: crate::sbi::SbiFingerDevice) {
        self.scanner = None;
        self.scanner_calibration = None;
        self.slap_scanner = None;
        match device {
            crate::sbi::SbiFingerDevice::Single(s) => self.scanner = Some(Box::new(s)),
            crate::sbi::SbiFingerDevice::Slap(s) => self.slap_scanner = Some(s),
        }
    }

    /// Drops the device of `capability` and its calibration, closing it (a serial port is free to
    /// be opened again): before opening a device afresh by its selector, e.g. after a replug.
    pub fn remove(&mut self, capability: Capability) {
        match capability {
            Capability::Camera => {
                self.camera = None;
                self.camera_calibration = None;
            }
            Capability::Fingerprint => {
                self.scanner = None;
                self.scanner_calibration = None;
            }
            Capability::Signature => {
                self.pad = None;
                self.pad_calibration = None;
            }
            Capability::Location => self.gps = None,
        }
    }

    /// Moves every device `fresh` holds into these devices, with its calibration, in place of the
    /// device of the same capability; the others stay.
    pub fn replace_with(&mut self, fresh: SessionDevices) {
        if fresh.camera.is_some() {
            self.camera = fresh.camera;
            self.camera_calibration = fresh.camera_calibration;
        }
        if fresh.scanner.is_some() {
            self.scanner = fresh.scanner;
            self.scanner_calibration = fresh.scanner_calibration;
        }
        if fresh.pad.is_some() {
            self.pad = fresh.pad;
            self.pad_calibration = fresh.pad_calibration;
        }
        if fresh.gps.is_some() {
            self.gps = fresh.gps;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::CalibrationRecord;
    use jemput_drivers::isdv4::PadCalibration;
    use jemput_drivers::registry::{self, OpenOptions};
    use jemput_drivers::CaptureControl;

    fn sim(selector: &str) -> OpenedDevice {
        registry::open(&selector.parse().unwrap(), &OpenOptions::default()).unwrap()
    }

    #[test]
    fn devices_from_the_registry_take_their_places_and_two_of_a_kind_are_refused() {
        let home = tempfile::tempdir().unwrap();
        let d = SessionDevices::from_opened(
            home.path(),
            vec![
                sim("sim:ptp"),
                sim("sim:ef01"),
                sim("sim:isdv4"),
                sim("sim:gps"),
            ],
        )
        .unwrap();
        assert_eq!(d.camera.as_ref().unwrap().info().driver, "ptp");
        assert_eq!(d.scanner.as_ref().unwrap().info().driver, "ef01");
        assert_eq!(d.pad.as_ref().unwrap().info().driver, "isdv4");
        assert_eq!(d.gps.as_ref().unwrap().info().driver, "nmea");
        assert_eq!(d.pad_calibration, None, "never calibrated");

        let e = SessionDevices::from_opened(home.path(), vec![sim("sim:ef01"), sim("sim:uru4000")])
            .unwrap_err();
        assert!(
            matches!(
                e,
                DevicesError::Twice {
                    capability: Capability::Fingerprint,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("choose one"), "{e}");
    }

    #[test]
    fn a_device_is_removed_and_replaced_alone() {
        let home = tempfile::tempdir().unwrap();
        let mut d =
            SessionDevices::from_opened(home.path(), vec![sim("sim:ef01"), sim("sim:isdv4")])
                .unwrap();
        d.remove(Capability::Fingerprint);
        assert!(d.scanner.is_none());
        assert!(d.pad.is_some(), "the pad stays");
        let fresh = SessionDevices::from_opened(home.path(), vec![sim("sim:uru4000")]).unwrap();
        d.replace_with(fresh);
        assert_eq!(d.scanner.as_ref().unwrap().info().driver, "uru4000");
        assert_eq!(d.pad.as_ref().unwrap().info().driver, "isdv4");
    }

    #[test]
    fn a_pads_recorded_calibration_is_applied_and_its_id_kept_for_the_captures() {
        let home = tempfile::tempdir().unwrap();
        let pad = sim("sim:isdv4");
        let cal = PadCalibration::from_taps((500, 300), (9_500, 2_700), (2_000, 600)).unwrap();
        crate::calibration::save(
            home.path(),
            &CalibrationRecord {
                id: cal.id.clone(),
                device: pad.info().clone(),
                created_at: jiff::Timestamp::now(),
                data: serde_json::to_value(&cal).unwrap(),
            },
        )
        .unwrap();
        let mut d = SessionDevices::from_opened(home.path(), vec![pad]).unwrap();
        assert_eq!(d.pad_calibration.as_deref(), Some(cal.id.as_str()));
        let trace = d
            .pad
            .as_mut()
            .unwrap()
            .record_signature(&CaptureControl {
                timeout: std::time::Duration::from_secs(20),
                cancel: Default::default(),
            })
            .unwrap();
        assert_eq!(
            (trace.extent_x, trace.extent_y),
            (2_000, 600),
            "in signing-area units"
        );
        assert!(trace.points.iter().all(|p| p.x <= 2_000 && p.y <= 600));
    }
}

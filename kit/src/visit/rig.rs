//! A visit on the device models: the EF01 fingerprint module, the ISDV4 pen pad and the NMEA GPS
//! receiver on fresh ptys, the PTP camera on the in-memory USB transport, and the real drivers
//! opened on them — the same code path as a scanner, pen and GPS receiver on USB-serial adapters
//! and a camera on USB. `jemput demo` captures its visits here, through a [`VisitSession`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use jemput_core::imaging::face::FaceSettings;
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::policy::CapturePolicy;
use jemput_core::visit::{ExceptionReason, FingerPosition, Permanence, Visit};
use jemput_drivers::ef01::{self, Degradation, Ef01, Ef01Model, ModelOptions, PoorPrint};
use jemput_drivers::isdv4::{Handwriting, Isdv4, Isdv4Config, Isdv4Model, Isdv4ModelConfig};
use jemput_drivers::nmea::{NmeaConfig, NmeaGps, NmeaModel, NmeaModelConfig};
use jemput_drivers::ptp::{PtpCamera, PtpConfig, PtpModel, PtpModelConfig};
use jemput_drivers::{Device, LinkError, PortLink};

use super::attempt::{AttemptEvent, AttemptNext, AttemptResult, CaptureObserver};
use super::draft::Drafts;
use super::error::CaptureError;
use super::face::context_of;
use super::location::FixOutcome;
use super::plan::CapturePlan;
use super::session::{SessionDevices, VisitSession};
use crate::calibration::{self, CalibrationError};

/// Starting the models, opening the drivers on them, or the visit's capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RigError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Ef01(#[from] ef01::Ef01Error),
    #[error(transparent)]
    Isdv4(#[from] jemput_drivers::isdv4::Isdv4Error),
    #[error(transparent)]
    Nmea(#[from] jemput_drivers::nmea::NmeaError),
    #[error(transparent)]
    Ptp(#[from] jemput_drivers::ptp::PtpError),
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    /// The pad's calibration record does not hold a pad calibration.
    #[error(transparent)]
    PadCalibration(#[from] serde_json::Error),
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// Running models for one visit, and where they are. Dropping it stops them.
pub struct SimRig {
    ef01: Option<ef01::ModelHandle>,
    isdv4: Option<Isdv4Model>,
    gps: Option<NmeaModel>,
    pub ef01_path: PathBuf,
    pub isdv4_path: PathBuf,
    pub gps_path: PathBuf,
    realtime: bool,
    seed: u64,
}

impl std::fmt::Debug for SimRig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimRig")
            .field("ef01", &self.ef01_path)
            .field("isdv4", &self.isdv4_path)
            .field("gps", &self.gps_path)
            .finish()
    }
}

/// The real drivers opened on the rig's models, ready for a [`VisitSession`], and how to name
/// each.
#[derive(Debug)]
pub struct RigDevices {
    pub devices: SessionDevices,
    /// E.g. `ef01 R307 on /dev/pts/7`.
    pub scanner: String,
    pub pad: String,
    pub camera: String,
}

/// What the devices did for one visit.
#[derive(Debug)]
pub struct RigReport {
    pub scanner: String,
    pub pad: String,
    pub camera: String,
    pub fix: FixOutcome,
    /// Every attempt (face, fingers, signature), in order.
    pub attempts: Vec<AttemptEvent>,
}

impl RigReport {
    /// A summary of the fingers for the demo: the kept scores, retries and forced captures.
    pub fn fingers_summary(&self) -> String {
        let fingers: Vec<(FingerPosition, &AttemptEvent)> = self
            .attempts
            .iter()
            .filter_map(|e| e.finger().map(|f| (f, e)))
            .collect();
        let kept: Vec<String> = fingers
            .iter()
            .filter_map(|(f, e)| match (&e.next, &e.result) {
                (AttemptNext::Accepted, AttemptResult::Scored { score, .. }) => {
                    Some(format!("{:02}:{score}", f.code()))
                }
                (AttemptNext::Forced { .. }, _) => Some(format!("{:02}:forced", f.code())),
                _ => None,
            })
            .collect();
        let retries = fingers
            .iter()
            .filter(|(_, e)| e.next == AttemptNext::Retry)
            .count();
        let algorithm = fingers
            .first()
            .map(|(_, e)| e.algorithm.as_str())
            .unwrap_or("-");
        format!(
            "finger scores ({algorithm}) {}; retries: {retries}",
            kept.join(" ")
        )
    }
}

/// Passes every attempt on and keeps a copy.
struct Keep<'a> {
    on: &'a mut dyn CaptureObserver,
    seen: Vec<AttemptEvent>,
}

impl CaptureObserver for Keep<'_> {
    fn attempt(&mut self, e: &AttemptEvent) {
        self.on.attempt(e);
        self.seen.push(e.clone());
    }
}

impl SimRig {
    /// Starts a fingerprint module, a pen pad and a GPS receiver for one resident (`seed`, who
    /// signs as `name`, near `near` (lat, lon)). `skipped` are the fingers recorded as
    /// exceptions: the operator does not ask for them. Unless `realtime`, the models run fast.
    pub fn start(
        seed: u64,
        name: &str,
        near: (f64, f64),
        realtime: bool,
        skipped: &[FingerPosition],
    ) -> Result<Self, RigError> {
        let mut fp = if realtime {
            ModelOptions::default()
        } else {
            // Fast: no line pacing, and the finger is already on the sensor.
            ModelOptions {
                finger_after_polls: 0,
                ..ModelOptions::fast()
            }
        };
        fp.person_seed = seed;
        fp.first_finger = jemput_drivers::FingerPosition::new(1).expect("1-10");
        // The resident's right index touches the sensor with its tip only the first time, so
        // the capture policy retries it (and the demo shows the policy at work).
        fp.poor_prints = vec![PoorPrint::repeated(
            jemput_drivers::FingerPosition::new(2).expect("1-10"),
            1,
            Degradation::PartialContact,
        )];
        fp.skipped_fingers = skipped
            .iter()
            .map(|&f| crate::devices::finger_of(f))
            .collect();
        let (ef01, ef01_path) = Ef01Model::spawn_on_pty(fp)?;

        let mut pen = Isdv4ModelConfig {
            handwriting: Handwriting::Signature {
                seed,
                name: name.to_string(),
            },
            ..Default::default()
        };
        if !realtime {
            pen = pen.fast();
        }
        let (isdv4, isdv4_path) = Isdv4Model::on_pty(pen)?;

        let mut gps = NmeaModelConfig {
            lat: near.0,
            lon: near.1,
            ..Default::default()
        };
        if !realtime {
            gps = gps.fast();
        }
        let (gps, gps_path) = NmeaModel::on_pty(gps)?;
        Ok(SimRig {
            ef01: Some(ef01),
            isdv4: Some(isdv4),
            gps: Some(gps),
            ef01_path,
            isdv4_path,
            gps_path,
            realtime,
            seed,
        })
    }

    /// Opens the real drivers on the models' ttys, and the PTP driver on a camera model (standing
    /// the resident in front of `backdrop`) over the in-memory USB transport, each with the
    /// calibration `jemput calibrate` recorded for it in the kit `home`.
    pub fn open_devices(&self, home: &Path, backdrop: [u8; 3]) -> Result<RigDevices, RigError> {
        let mut camera_model = PtpModelConfig {
            person_seed: self.seed,
            background: backdrop,
            ..Default::default()
        };
        if !self.realtime {
            camera_model = camera_model.fast();
        }
        let (usb, _log, endpoints) = PtpModel::transport(camera_model);
        let camera = PtpCamera::open(usb, endpoints, PtpConfig::default())?;
        let camera_name = format!(
            "{} {} over in-memory USB",
            camera.info().driver,
            camera.info().model
        );
        let link = PortLink::open(&self.ef01_path, 57_600)?;
        let scanner = Ef01::open(link, ef01::DEFAULT_ADDRESS, ef01::DEFAULT_PASSWORD)?;
        let mut pad = Isdv4::open(
            &self.isdv4_path,
            Isdv4Config {
                idle_end: if self.realtime {
                    Duration::from_millis(1500)
                } else {
                    Duration::from_millis(300)
                },
                ..Default::default()
            },
        )?;
        let gps = NmeaGps::open(&self.gps_path, NmeaConfig { baud: 4_800 })?;
        let scanner_name = describe(&scanner, &self.ef01_path);
        let pad_name = describe(&pad, &self.isdv4_path);
        // A pad calibrated with `jemput calibrate` maps its traces onto the signing area.
        if let Some(rec) = calibration::current(home, pad.info())? {
            pad.set_calibration(Some(serde_json::from_value(rec.data)?))?;
        }
        let pad_calibration = pad.calibration().map(|c| c.id.clone());
        // The camera and the scanner: whatever `jemput calibrate` recorded for them, by identity.
        let camera_calibration = calibration::current_id(home, camera.info())?;
        let scanner_calibration = calibration::current_id(home, scanner.info())?;
        Ok(RigDevices {
            devices: SessionDevices {
                camera: Some(Box::new(camera)),
                camera_calibration,
                scanner: Some(Box::new(scanner)),
                scanner_calibration,
                pad: Some(Box::new(pad)),
                pad_calibration,
                gps: Some(Box::new(gps)),
            },
            scanner: scanner_name,
            pad: pad_name,
            camera: camera_name,
        })
    }

    /// The plan of a visit on the rig: the kit's `policy` and `face` settings, a usual
    /// signature, and waits that suit the models' speed.
    pub fn plan(
        &self,
        finger_exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
        policy: &CapturePolicy,
        face: &FaceSettings,
    ) -> CapturePlan {
        CapturePlan {
            finger_exceptions,
            timeout: Duration::from_secs(if self.realtime { 60 } else { 20 }),
            fix_timeout: Duration::from_secs(if self.realtime { 10 } else { 3 }),
            policy: policy.clone(),
            face: face.clone(),
            signature_kind: SignatureKind::Signature,
            documents: 0,
        }
    }

    /// Captures `visit`'s location, face, fingers and signature through the rig's devices, step
    /// by step into its encrypted draft, telling `observer` about every attempt. `visit` ends
    /// as saved in the draft, also when a step fails.
    #[allow(clippy::too_many_arguments)]
    pub fn capture(
        &self,
        home: &Path,
        visit: &mut Visit,
        drafts: &Drafts,
        finger_exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
        policy: &CapturePolicy,
        face: &FaceSettings,
        observer: &mut dyn CaptureObserver,
    ) -> Result<RigReport, RigError> {
        // The resident stands in front of the backdrop the colour rule asks for.
        let backdrop = face
            .background
            .expected(&context_of(visit))
            .map_or(PtpModelConfig::default().background, |(c, _)| c);
        let rig = self.open_devices(home, backdrop)?;
        let plan = self.plan(finger_exceptions, policy, face);
        let mut session = VisitSession::start(drafts.clone(), visit.clone(), rig.devices, plan)?;
        let mut keep = Keep {
            on: observer,
            seen: Vec::new(),
        };
        let ran = session.run_all(&mut keep);
        let fix = session.fix().cloned();
        *visit = session.into_parts().0;
        ran?;
        Ok(RigReport {
            scanner: rig.scanner,
            pad: rig.pad,
            camera: rig.camera,
            fix: fix.expect("every visit runs the location step"),
            attempts: keep.seen,
        })
    }
}

fn describe(d: &dyn Device, path: &Path) -> String {
    let i = d.info();
    format!("{} {} on {}", i.driver, i.model, path.display())
}

impl Drop for SimRig {
    fn drop(&mut self) {
        if let Some(m) = self.ef01.take() {
            m.stop();
        }
        if let Some(m) = self.isdv4.take() {
            m.stop();
        }
        if let Some(m) = self.gps.take() {
            m.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::attempt::Subject;

    fn event(subject: Subject, score: u8, next: AttemptNext) -> AttemptEvent {
        AttemptEvent {
            subject,
            attempt: 1,
            max_attempts: 3,
            algorithm: match subject {
                Subject::Face => "jemput-faceq/1",
                Subject::Finger(_) => "jemput-fq/1",
                Subject::Signature => "jemput-sigq/1",
            }
            .into(),
            result: AttemptResult::Scored {
                score,
                threshold: 40,
            },
            next,
            failed_checks: Vec::new(),
        }
    }

    #[test]
    fn the_fingers_summary_counts_finger_attempts_only() {
        let f = |c| Subject::Finger(FingerPosition::new(c).unwrap());
        let report = RigReport {
            scanner: String::new(),
            pad: String::new(),
            camera: String::new(),
            fix: FixOutcome::NoFix("none".into()),
            attempts: vec![
                event(Subject::Face, 20, AttemptNext::Retry),
                event(Subject::Face, 60, AttemptNext::Accepted),
                event(f(1), 61, AttemptNext::Accepted),
                event(f(2), 11, AttemptNext::Retry),
                event(f(2), 30, AttemptNext::Forced { kept_attempt: 2 }),
                event(Subject::Signature, 5, AttemptNext::Retry),
                event(Subject::Signature, 90, AttemptNext::Accepted),
            ],
        };
        assert_eq!(
            report.fingers_summary(),
            "finger scores (jemput-fq/1) 01:61 02:forced; retries: 1"
        );
    }
}

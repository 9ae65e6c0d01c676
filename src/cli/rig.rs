//! The demo's device rig: device models on fresh ptys, and the real drivers opened on their tty
//! paths — the same code path as a scanner, pen and GPS receiver on USB-serial adapters.

use std::path::PathBuf;
use std::time::Duration;

use jemput_core::imaging::face::FaceSettings;
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::policy::CapturePolicy;
use jemput_core::visit::{ExceptionReason, FingerPosition, Permanence, Visit};
use jemput_drivers::ef01::{self, Degradation, Ef01, Ef01Model, ModelOptions, PoorPrint};
use jemput_drivers::isdv4::{Handwriting, Isdv4, Isdv4Config, Isdv4Model, Isdv4ModelConfig};
use jemput_drivers::nmea::{NmeaConfig, NmeaGps, NmeaModel, NmeaModelConfig};
use jemput_drivers::ptp::{PtpCamera, PtpConfig, PtpModel, PtpModelConfig};
use jemput_drivers::{Device, PortLink};
use jemput_kit::visit::attempt::{AttemptEvent, AttemptNext, CaptureObserver};
use jemput_kit::visit::face::context_of;
use jemput_kit::visit::location::FixOutcome;
use jemput_kit::visit::plan::CapturePlan;
use jemput_kit::visit::{Drafts, SessionDevices, VisitSession};

/// Running models for one visit, and where they are.
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

/// What the devices did for one visit.
#[derive(Debug)]
pub struct RigReport {
    pub scanner: String,
    pub pad: String,
    pub camera: String,
    pub fix: FixOutcome,
    /// Every finger attempt, in order.
    pub attempts: Vec<AttemptEvent>,
}

impl RigReport {
    /// A summary of the fingers for the demo: the kept scores, retries and forced captures.
    pub fn fingers_summary(&self) -> String {
        let kept: Vec<String> = self
            .attempts
            .iter()
            .filter_map(|e| match (&e.next, &e.result, e.finger()) {
                (
                    AttemptNext::Accepted,
                    jemput_kit::visit::attempt::AttemptResult::Scored { score, .. },
                    Some(f),
                ) => Some(format!("{:02}:{score}", f.code())),
                (AttemptNext::Forced { .. }, _, Some(f)) => Some(format!("{:02}:forced", f.code())),
                _ => None,
            })
            .collect();
        let retries = self
            .attempts
            .iter()
            .filter(|e| e.finger().is_some() && e.next == AttemptNext::Retry)
            .count();
        let algorithm = self
            .attempts
            .iter()
            .find(|e| e.finger().is_some())
            .map(|e| e.algorithm.as_str())
            .unwrap_or("-");
        format!(
            "finger scores ({algorithm}) {}; retries: {retries}",
            kept.join(" ")
        )
    }
}

/// Prints one line per finger attempt for the operator (Indonesian, then English) and keeps every
/// attempt.
struct PrintAttempts(Vec<AttemptEvent>);

impl CaptureObserver for PrintAttempts {
    fn attempt(&mut self, e: &AttemptEvent) {
        if e.finger().is_some() {
            super::output::note(&format!("  {}\n    {}", e.line_id(), e.line_en()));
        }
        self.0.push(e.clone());
    }
}

impl SimRig {
    /// Starts a fingerprint module, a pen pad and a GPS receiver for one resident (`seed`).
    /// `skipped` are the fingers recorded as exceptions: the operator does not ask for them.
    pub fn start(
        seed: u64,
        name: &str,
        near: (f64, f64),
        realtime: bool,
        skipped: &[FingerPosition],
    ) -> anyhow::Result<Self> {
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
            .map(|&f| jemput_kit::devices::finger_of(f))
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

    /// Opens the real drivers on the models' ttys (and the PTP driver on the camera model over
    /// the in-memory USB transport) and captures the visit's biometrics.
    pub fn capture(
        &self,
        home: &std::path::Path,
        visit: &mut Visit,
        drafts: &Drafts,
        finger_exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
        policy: &CapturePolicy,
        face: &FaceSettings,
    ) -> anyhow::Result<RigReport> {
        // The resident stands in front of the backdrop the colour rule asks for.
        let background = face
            .background
            .expected(&context_of(visit))
            .map_or(PtpModelConfig::default().background, |(c, _)| c);
        let mut camera_model = PtpModelConfig {
            person_seed: self.seed,
            background,
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
        if let Some(rec) = jemput_kit::calibration::current(home, pad.info())? {
            pad.set_calibration(Some(serde_json::from_value(rec.data)?))?;
        }
        let pad_calibration = pad.calibration().map(|c| c.id.clone());
        // The camera and the scanner: whatever `jemput calibrate` recorded for them, by identity.
        let camera_calibration = jemput_kit::calibration::current_id(home, camera.info())?;
        let scanner_calibration = jemput_kit::calibration::current_id(home, scanner.info())?;
        let mut printer = PrintAttempts(Vec::new());
        let mut session = VisitSession::start(
            drafts.clone(),
            visit.clone(),
            SessionDevices {
                camera: Some(Box::new(camera)),
                camera_calibration,
                scanner: Some(Box::new(scanner)),
                scanner_calibration,
                pad: Some(Box::new(pad)),
                pad_calibration,
                gps: Some(Box::new(gps)),
            },
            CapturePlan {
                finger_exceptions,
                timeout: Duration::from_secs(if self.realtime { 60 } else { 20 }),
                fix_timeout: Duration::from_secs(if self.realtime { 10 } else { 3 }),
                policy: policy.clone(),
                face: face.clone(),
                signature_kind: SignatureKind::Signature,
                documents: 0,
            },
        )?;
        let ran = session.run_all(&mut printer);
        let fix = session.fix().cloned();
        *visit = session.into_parts().0;
        ran?;
        let fix = fix.expect("every visit runs the location step");
        Ok(RigReport {
            scanner: scanner_name,
            pad: pad_name,
            camera: camera_name,
            fix,
            attempts: printer.0,
        })
    }
}

fn describe(d: &dyn Device, path: &std::path::Path) -> String {
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

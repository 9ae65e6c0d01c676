//! A visit on the device models: the EF01 fingerprint module, the ISDV4 pen pad and the NMEA GPS
//! receiver on fresh ptys, the PTP camera on the in-memory USB transport, each made for the
//! resident (their fingers, signature, village and backdrop) and opened through the driver
//! registry ([`registry::open_model`]) — the same drivers and the same opening as a scanner, pen
//! and GPS receiver on USB-serial adapters and a camera on USB. `jemput demo` captures its visits
//! here, through a [`VisitSession`].

use std::path::Path;
use std::time::Duration;

use jemput_core::imaging::face::FaceSettings;
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::policy::CapturePolicy;
use jemput_core::visit::{ExceptionReason, FingerPosition, Permanence, Visit};
use jemput_drivers::ef01::{Degradation, Fault, ModelOptions, PoorPrint};
use jemput_drivers::isdv4::{Handwriting, Isdv4Fault, Isdv4ModelConfig};
use jemput_drivers::nmea::NmeaModelConfig;
use jemput_drivers::ptp::{PtpFault, PtpModelConfig};
use jemput_drivers::registry::{self, ModelDevice, OpenError, OpenOptions, OpenedDevice};

use super::attempt::{AttemptEvent, AttemptNext, AttemptResult, CaptureObserver};
use super::devices::{DevicesError, SessionDevices};
use super::draft::Drafts;
use super::error::CaptureError;
use super::face::context_of;
use super::location::FixOutcome;
use super::plan::CapturePlan;
use super::problem::DeviceRole;
use super::session::VisitSession;

/// Starting the models, opening the drivers on them, or the visit's capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RigError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Devices(#[from] DevicesError),
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// The models for one visit's resident, not started yet: [`SimRig::open_devices`] starts each and
/// opens its driver on it.
#[derive(Debug, Clone)]
pub struct SimRig {
    scanner: ModelOptions,
    pad: Isdv4ModelConfig,
    gps: NmeaModelConfig,
    /// Faults of the camera model (set through [`SimRig::unplug_mid_capture`]).
    camera_faults: Vec<PtpFault>,
    realtime: bool,
    seed: u64,
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
    /// The camera, fingerprint module, pen pad and GPS receiver for one resident (`seed`, who
    /// signs as `name`, near `near` (lat, lon)). `skipped` are the fingers recorded as
    /// exceptions: the operator does not ask for them. Unless `realtime`, the models run fast.
    pub fn start(
        seed: u64,
        name: &str,
        near: (f64, f64),
        realtime: bool,
        skipped: &[FingerPosition],
    ) -> Self {
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

        let mut gps = NmeaModelConfig {
            lat: near.0,
            lon: near.1,
            ..Default::default()
        };
        if !realtime {
            gps = gps.fast();
        }
        SimRig {
            scanner: fp,
            pad: pen,
            gps,
            camera_faults: Vec::new(),
            realtime,
            seed,
        }
    }

    /// The device model of `role` is unplugged in the middle of its next capture, as a cable
    /// pulled out would: the fingerprint module before the fourth packet of its image, the pen
    /// pad after 20 pen packets of the signature, the camera after 4 KiB of the photo. The link
    /// closes and the driver reports the device gone. `false` for the GPS receiver, whose model
    /// has no such fault (the location is never required).
    pub fn unplug_mid_capture(&mut self, role: DeviceRole) -> bool {
        match role {
            DeviceRole::Scanner => self
                .scanner
                .faults
                .push(Fault::UnplugMidTransfer { packet: 3 }),
            DeviceRole::Pad => self.pad.faults.push(Isdv4Fault::Unplug { after: 20 }),
            DeviceRole::Camera => self
                .camera_faults
                .push(PtpFault::UnplugMidTransfer { after: 4096 }),
            DeviceRole::Gps => return false,
        }
        true
    }

    /// Starts the models and opens the real drivers on them through the registry (the camera in
    /// front of `backdrop`), with the calibrations `jemput calibrate` recorded at `home`.
    pub fn open_devices(&self, home: &Path, backdrop: [u8; 3]) -> Result<RigDevices, RigError> {
        let mut camera = PtpModelConfig {
            person_seed: self.seed,
            background: backdrop,
            faults: self.camera_faults.clone(),
            ..Default::default()
        };
        if !self.realtime {
            camera = camera.fast();
        }
        let open = |driver: &str, model: ModelDevice| {
            registry::open_model(driver, model, !self.realtime, &OpenOptions::default())
        };
        let camera = open("ptp", camera.into())?;
        let scanner = open("ef01", self.scanner.clone().into())?;
        let pad = open("isdv4", self.pad.clone().into())?;
        let gps = open("nmea", self.gps.clone().into())?;
        let camera_name = format!(
            "{} {} over in-memory USB",
            camera.info().driver,
            camera.info().model
        );
        let (scanner_name, pad_name) = (describe(&scanner), describe(&pad));
        Ok(RigDevices {
            devices: SessionDevices::from_opened(home, vec![camera, scanner, pad, gps])?,
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

fn describe(d: &OpenedDevice) -> String {
    let i = d.info();
    format!("{} {} on {}", i.driver, i.model, d.path().display())
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

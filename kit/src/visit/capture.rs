//! Taking a visit's captures from devices: a location fix, the face (through the PTP camera and
//! the face checks, [`super::face`]), each finger (through the capture policy, [`super::fingers`],
//! stored as WSQ), the signature. Every capture is saved to the encrypted draft the moment it is
//! taken, so a crash or a flat battery mid-visit loses nothing already captured.

use std::time::Duration;

use jemput_drivers::{Camera, CaptureControl, FingerprintScanner, LocationSource, SignaturePad};

use super::error::CaptureError;
use super::fingers::{capture_finger, CaptureObserver, FingerOutcome};
use super::Drafts;
use jemput_core::imaging::finger::{encode_wsq, wsq_file_name, WSQ_MEDIA_TYPE};
use jemput_core::imaging::quality::FingerQuality;
use jemput_core::visit::policy::{CapturePolicy, Failure};
use jemput_core::visit::*;

/// The devices a visit captures with.
pub struct Devices<'a> {
    /// The camera for the face photo ([`super::face`]); `None` leaves the face slot as it is.
    pub camera: Option<&'a mut dyn Camera>,
    /// The camera's calibration in force (`jemput calibrate CAMERA`), recorded with the face.
    pub camera_calibration: Option<String>,
    pub scanner: &'a mut dyn FingerprintScanner,
    /// The scanner's calibration in force, recorded with each capture.
    pub scanner_calibration: Option<String>,
    pub pad: &'a mut dyn SignaturePad,
    /// The pad's calibration in force.
    pub pad_calibration: Option<String>,
    pub gps: Option<&'a mut dyn LocationSource>,
}

impl std::fmt::Debug for Devices<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("scanner", self.scanner.info())
            .field("pad", self.pad.info())
            .finish_non_exhaustive()
    }
}

/// What to capture and how long to wait for each capture.
#[derive(Debug, Clone)]
pub struct CapturePlan {
    /// Fingers recorded as exceptions instead of being captured.
    pub finger_exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
    /// Wait for a finger, a signature or a fix at most this long.
    pub timeout: Duration,
    /// Wait for a GPS fix at most this long (a fix is logged, never required).
    pub fix_timeout: Duration,
    /// Thresholds, attempts, keep-best, forcing, and the WSQ bit rate (the kit's `[capture]`).
    pub policy: CapturePolicy,
    /// What the face photo is held to and how it is stored.
    pub face: jemput_core::imaging::face::FaceSettings,
    /// What the operator said the resident will write on the pad.
    pub signature_kind: jemput_core::imaging::signature::SignatureKind,
}

/// The fingerprint quality algorithm in use and who hears about each attempt.
pub struct CaptureHooks<'a> {
    pub quality: &'a dyn FingerQuality,
    pub observer: &'a mut dyn CaptureObserver,
}

impl std::fmt::Debug for CaptureHooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureHooks")
            .field("quality", &self.quality.algorithm_id())
            .finish_non_exhaustive()
    }
}

/// What the visit learned about its location.
#[derive(Debug, Clone, PartialEq)]
pub enum FixOutcome {
    Fix(GeoPoint),
    /// No fix within the timeout (or no receiver): the visit says so and goes on.
    NoFix(String),
}

/// Captures location, fingers and signature into `visit`, saving each to the draft at once.
/// Each finger goes through `plan.policy` (scored by `hooks.quality`, every attempt reported to
/// `hooks.observer`) and is stored as `finger-NN.wsq`.
pub fn capture_with_devices(
    visit: &mut Visit,
    drafts: &Drafts,
    devices: Devices<'_>,
    plan: &CapturePlan,
    hooks: CaptureHooks<'_>,
) -> Result<FixOutcome, CaptureError> {
    let control = |timeout| CaptureControl {
        timeout,
        cancel: Default::default(),
    };
    plan.policy.validate()?;
    drafts.save_visit(visit)?;

    let mut hooks = hooks;
    let fix = match devices.gps {
        Some(gps) => match gps.fix(&control(plan.fix_timeout)) {
            Ok(f) => {
                let p = GeoPoint {
                    lat: f.lat,
                    lon: f.lon,
                    accuracy_m: f.accuracy_m,
                };
                visit.place.location = Some(p);
                FixOutcome::Fix(p)
            }
            Err(e) => FixOutcome::NoFix(e.to_string()),
        },
        None => FixOutcome::NoFix("no GPS receiver".into()),
    };

    if let Some(camera) = devices.camera {
        super::face::capture_face(
            visit,
            drafts,
            camera,
            devices.camera_calibration.clone(),
            &plan.face,
            &super::face::FacePolicy::from(&plan.policy.face),
            &control(plan.timeout),
        )?;
    }

    for pos in FingerPosition::all() {
        let now = jiff::Timestamp::now();
        let slot = match plan.finger_exceptions.iter().find(|(p, _, _)| *p == pos) {
            Some((_, reason, permanence)) => Slot::Exception(Exception {
                reason: reason.clone(),
                permanence: *permanence,
                proof_file: None,
                noted_at: now,
            }),
            None => finger_slot(
                visit,
                drafts,
                &mut *devices.scanner,
                devices.scanner_calibration.clone(),
                pos,
                plan,
                &mut hooks,
            )?,
        };
        visit.captures.fingers.insert(pos, slot);
        drafts.save_visit(visit)?;
    }

    super::signature::capture_signature(
        visit,
        drafts,
        devices.pad,
        devices.pad_calibration.clone(),
        plan.signature_kind,
        &plan.policy.signature,
        &control(plan.timeout),
    )?;
    Ok(fix)
}

/// One finger through the policy: the kept image saved to the draft as WSQ, or an exception.
fn finger_slot(
    visit: &Visit,
    drafts: &Drafts,
    scanner: &mut dyn FingerprintScanner,
    calibration: Option<String>,
    pos: FingerPosition,
    plan: &CapturePlan,
    hooks: &mut CaptureHooks<'_>,
) -> Result<Slot, CaptureError> {
    let started = jiff::Timestamp::now();
    let outcome = capture_finger(
        scanner,
        pos,
        &plan.policy.finger,
        hooks.quality,
        plan.timeout,
        &mut *hooks.observer,
    )?;
    Ok(match outcome {
        FingerOutcome::Kept {
            image,
            score,
            attempts,
            forced,
        } => {
            let wsq = encode_wsq(
                image.width,
                image.height,
                image.ppi,
                image.pixels.clone(),
                plan.policy.wsq_bitrate,
            )
            .map_err(|source| CaptureError::Wsq {
                finger: pos.code(),
                source,
            })?;
            let name = wsq_file_name(pos);
            drafts.save_file(visit.id, &name, &wsq)?;
            Slot::Captured(Capture {
                file: name,
                media_type: WSQ_MEDIA_TYPE.into(),
                extra_files: Vec::new(),
                captured_at: started,
                device: crate::devices::record(scanner.info()),
                calibration_id: calibration,
                quality: Some(Quality {
                    score,
                    algorithm: hooks.quality.algorithm_id().to_string(),
                }),
                retries: attempts.saturating_sub(1),
                forced,
                width: Some(image.width),
                height: Some(image.height),
                ppi: Some(image.ppi),
                face_checks: None,
                signature_kind: None,
            })
        }
        FingerOutcome::Exception { failure, .. } => Slot::Exception(Exception {
            reason: match failure {
                Failure::BelowThreshold { .. } => ExceptionReason::PoorQuality,
                Failure::NothingDetected => ExceptionReason::NotDetected,
            },
            permanence: Permanence::Temporary,
            proof_file: None,
            noted_at: jiff::Timestamp::now(),
        }),
    })
}

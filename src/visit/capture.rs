//! Taking a visit's captures from devices: a location fix, the face, each finger, the signature. Every capture
//! is saved to the encrypted draft the moment it is taken, so a crash or a flat battery mid-visit
//! loses nothing already captured.

use std::time::Duration;

use jemput_drivers::{
    Camera, CaptureControl, DeviceError, FingerprintScanner, LocationSource, SignaturePad,
};

use super::model::*;
use super::synth;
use super::{DraftError, Drafts};

/// The devices a visit captures with.
pub struct Devices<'a> {
    /// The camera for the face photo ([`super::face`]); `None` leaves the face slot as it is.
    pub camera: Option<&'a mut dyn Camera>,
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
    /// What the face photo is held to and how it is stored.
    pub face: crate::imaging::face::FaceSettings,
    /// Face photo attempts and what to keep.
    pub face_policy: super::face::FacePolicy,
    /// What the operator said the resident will write on the pad.
    pub signature_kind: crate::imaging::signature::SignatureKind,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    #[error("{what} failed: {source}")]
    Device {
        what: String,
        #[source]
        source: DeviceError,
    },
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error(transparent)]
    Face(#[from] crate::imaging::face::FaceError),
    #[error("the face photo failed its checks in {attempts} attempts: {}", failed.join("; "))]
    FaceChecks { attempts: u32, failed: Vec<String> },
}

/// What the visit learned about its location.
#[derive(Debug, Clone, PartialEq)]
pub enum FixOutcome {
    Fix(GeoPoint),
    /// No fix within the timeout (or no receiver): the visit says so and goes on.
    NoFix(String),
}

/// Captures location, fingers and signature into `visit`, saving each to the draft at once.
pub fn capture_with_devices(
    visit: &mut Visit,
    drafts: &Drafts,
    devices: Devices<'_>,
    plan: &CapturePlan,
) -> Result<FixOutcome, CaptureError> {
    let control = |timeout| CaptureControl {
        timeout,
        cancel: Default::default(),
    };
    drafts.save_visit(visit)?;

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
            &plan.face,
            &plan.face_policy,
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
            None => {
                let img = devices
                    .scanner
                    .capture_finger(&control(plan.timeout))
                    .map_err(|source| CaptureError::Device {
                        what: format!("capturing finger {} ({})", pos.code(), pos.name_en()),
                        source,
                    })?;
                let name = format!("finger-{:02}.png", pos.code());
                drafts.save_file(
                    visit.id,
                    &name,
                    &synth::png_gray(img.width, img.height, &img.pixels),
                )?;
                Slot::Captured(Capture {
                    file: name.clone(),
                    media_type: "image/png".into(),
                    extra_files: Vec::new(),
                    captured_at: now,
                    device: devices.scanner.info().clone(),
                    calibration_id: devices.scanner_calibration.clone(),
                    // No quality measure yet (imaging issue): none is claimed.
                    quality: None,
                    retries: 0,
                    forced: false,
                    width: Some(img.width),
                    height: Some(img.height),
                    ppi: Some(img.ppi),
                    face_checks: None,
                    signature_kind: None,
                })
            }
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
        &control(plan.timeout),
    )?;
    Ok(fix)
}

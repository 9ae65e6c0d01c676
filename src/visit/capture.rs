//! Taking a visit's captures from devices: a location fix, each finger, the signature. Every capture
//! is saved to the encrypted draft the moment it is taken, so a crash or a flat battery mid-visit
//! loses nothing already captured.

use std::time::Duration;

use jemput_drivers::{
    CaptureControl, DeviceError, FingerprintScanner, LocationSource, PenTrace, SignaturePad,
};

use super::model::*;
use super::synth;
use super::{DraftError, Drafts};

/// The devices a visit captures with. The face stays synthetic until the camera drivers land.
pub struct Devices<'a> {
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
                })
            }
        };
        visit.captures.fingers.insert(pos, slot);
        drafts.save_visit(visit)?;
    }

    let trace: PenTrace = devices
        .pad
        .record_signature(&control(plan.timeout))
        .map_err(|source| CaptureError::Device {
            what: "recording the signature".into(),
            source,
        })?;
    let img = synth::render_signature(&trace, 600, 180);
    drafts.save_file(visit.id, "signature.png", &synth::png_gray_image(&img))?;
    drafts.save_file(
        visit.id,
        "signature-trace.json",
        &serde_json::to_vec(&trace).expect("a trace serialises"),
    )?;
    visit.captures.signature = Some(Slot::Captured(Capture {
        file: "signature.png".into(),
        media_type: "image/png".into(),
        extra_files: vec!["signature-trace.json".into()],
        captured_at: jiff::Timestamp::now(),
        device: devices.pad.info().clone(),
        calibration_id: devices.pad_calibration.clone(),
        quality: None,
        retries: 0,
        forced: false,
        width: Some(img.width()),
        height: Some(img.height()),
        ppi: None,
    }));
    drafts.save_visit(visit)?;
    Ok(fix)
}

//! The visit's signature: the pen trace recorded by the pad is saved as the primary record
//! (`signature-trace.json`, [`SignatureTrace`]), and `signature.png` is rendered from it.

use jemput_drivers::{CaptureControl, SignaturePad};

use super::capture::CaptureError;
use super::model::*;
use super::Drafts;
use crate::imaging::signature::{self, RenderOptions, SignatureKind, SignatureTrace};

/// Name of the rendered signature inside the packet.
pub const SIGNATURE_FILE: &str = "signature.png";
/// Name of the pen trace inside the packet.
pub const TRACE_FILE: &str = "signature-trace.json";

/// Records the signature (or the simple mark or written name `kind` says) from `pad`, saves the
/// trace and its rendering to the draft, and records the capture in `visit`.
pub fn capture_signature(
    visit: &mut Visit,
    drafts: &Drafts,
    pad: &mut dyn SignaturePad,
    calibration_id: Option<String>,
    kind: SignatureKind,
    control: &CaptureControl,
) -> Result<(), CaptureError> {
    let trace = pad
        .record_signature(control)
        .map_err(|source| CaptureError::Device {
            what: "recording the signature".into(),
            source,
        })?;
    let file = SignatureTrace::new(
        trace,
        kind,
        Some(pad.info().clone()),
        calibration_id.clone(),
    );
    // The trace first: it is the record; the picture can always be rendered again from it.
    drafts.save_file(visit.id, TRACE_FILE, &file.to_json())?;
    let img = signature::render(&file, &RenderOptions::default());
    drafts.save_file(visit.id, SIGNATURE_FILE, &signature::png(&img))?;
    visit.captures.signature = Some(Slot::Captured(Capture {
        file: SIGNATURE_FILE.into(),
        media_type: "image/png".into(),
        extra_files: vec![TRACE_FILE.into()],
        captured_at: jiff::Timestamp::now(),
        device: pad.info().clone(),
        calibration_id,
        quality: None,
        retries: 0,
        forced: false,
        width: Some(img.width()),
        height: Some(img.height()),
        ppi: None,
        face_checks: None,
        signature_kind: Some(kind),
    }));
    drafts.save_visit(visit)?;
    Ok(())
}

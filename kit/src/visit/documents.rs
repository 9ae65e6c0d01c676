//! Photos of the resident's documents (family card, birth letter, a hospital's referral) taken with
//! the camera: kept as the camera wrote them, `document-N.jpg`, without the face's checks.

use std::io::Cursor;

use jemput_drivers::{Camera, CaptureControl};

use super::draft::Drafts;
use super::error::CaptureError;
use jemput_core::visit::{Capture, Visit};

/// Name of the `n`th (1-based) document photo inside the packet.
pub fn document_file(n: u32) -> String {
    format!("document-{n}.jpg")
}

/// Takes the `n`th document photo of `visit` with `camera` and saves it to the draft; returns the
/// capture for the caller to record in the visit (and save the record).
pub fn capture_document(
    visit: &Visit,
    drafts: &Drafts,
    camera: &mut dyn Camera,
    n: u32,
    calibration_id: Option<String>,
    control: &CaptureControl,
) -> Result<Capture, CaptureError> {
    let what = format!("document photo {n}");
    let shot = camera
        .capture_photo(control)
        .map_err(|source| CaptureError::Device {
            what: format!("taking {what}"),
            source,
        })?;
    let (width, height) =
        image::ImageReader::with_format(Cursor::new(&shot.jpeg), image::ImageFormat::Jpeg)
            .into_dimensions()
            .map_err(|e| CaptureError::UnreadablePhoto {
                what: what.clone(),
                why: e.to_string(),
            })?;
    let file = document_file(n);
    drafts.save_file(visit.id, &file, &shot.jpeg)?;
    Ok(Capture {
        file,
        media_type: "image/jpeg".into(),
        extra_files: Vec::new(),
        captured_at: jiff::Timestamp::now(),
        device: crate::devices::record(camera.info()),
        calibration_id,
        device_quality: None,
        quality: None,
        retries: 0,
        forced: false,
        width: Some(width),
        height: Some(height),
        ppi: None,
        face_checks: None,
        signature_kind: None,
    })
}

//! The pen pad's calibration: the operator taps the top-left, then the bottom-right corner of the
//! signing area, and the mapping from digitizer units onto the area is kept.

use std::path::Path;

use jemput_drivers::isdv4::{Isdv4, Isdv4Config};
use jemput_drivers::{CaptureControl, Device};

use super::error::CalibrateError;
use super::shared::Prompt;
use crate::calibration::CalibrationRecord;

/// The signing area traces are mapped onto, in pixels.
pub const SIGNING_AREA: (u32, u32) = (600, 180);

/// Opens the ISDV4 pad on `path` (at `baud`, default 19 200), asks the operator for the two
/// corner taps through `prompt`, and waits for them within `control`'s timeout.
pub fn calibrate(
    path: &Path,
    baud: Option<u32>,
    control: &CaptureControl,
    prompt: &mut dyn FnMut(Prompt),
) -> Result<CalibrationRecord, CalibrateError> {
    let mut pad = Isdv4::open(
        path,
        Isdv4Config {
            baud: baud.unwrap_or(19_200),
            ..Default::default()
        },
    )?;
    prompt(Prompt::TapCorners);
    let cal = pad.calibrate(control, SIGNING_AREA)?;
    Ok(CalibrationRecord {
        id: cal.id.clone(),
        device: pad.info().clone(),
        created_at: jiff::Timestamp::now(),
        data: serde_json::to_value(&cal)?,
    })
}

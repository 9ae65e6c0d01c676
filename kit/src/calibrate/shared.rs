//! What the procedures share, below them all: the drivers that can be calibrated, what a procedure
//! asks the operator, and how a record's id is made.

use sha2::{Digest, Sha256};

/// The driver of the device to calibrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalDriver {
    Ef01,
    Isdv4,
    /// A PTP camera (exposure and white balance).
    Ptp,
}

/// What a procedure asks the operator to do, as it starts waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Tap the top-left, then the bottom-right corner of the pad's signing area.
    TapCorners,
}

/// The id of a record of `data` from a `prefix` driver: `<prefix>-cal-<12 hex digits of its
/// SHA-256>`.
pub fn calibration_id(prefix: &str, data: &serde_json::Value) -> String {
    let d = Sha256::digest(data.to_string().as_bytes());
    format!("{prefix}-cal-{}", hex::encode(&d[..6]))
}

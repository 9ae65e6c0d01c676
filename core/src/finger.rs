//! Standard finger positions: which finger a capture is of. The drivers have their own
//! `FingerPosition` (which finger a device model plays); the kit converts by code.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Standard finger positions (ANSI/NIST-ITL and ISO/IEC 19794-4): 1 right thumb … 10 left little.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct FingerPosition(u8);

impl FingerPosition {
    pub fn new(code: u8) -> Option<Self> {
        (1..=10).contains(&code).then_some(FingerPosition(code))
    }
    pub fn code(self) -> u8 {
        self.0
    }
    pub fn all() -> impl Iterator<Item = FingerPosition> {
        (1..=10).map(FingerPosition)
    }
    /// English name, as in ANSI/NIST-ITL Table 8.
    pub fn name_en(self) -> &'static str {
        [
            "right thumb",
            "right index",
            "right middle",
            "right ring",
            "right little",
            "left thumb",
            "left index",
            "left middle",
            "left ring",
            "left little",
        ][usize::from(self.0 - 1)]
    }
    /// Name in Bahasa Indonesia.
    pub fn name_id(self) -> &'static str {
        [
            "ibu jari kanan",
            "telunjuk kanan",
            "jari tengah kanan",
            "jari manis kanan",
            "kelingking kanan",
            "ibu jari kiri",
            "telunjuk kiri",
            "jari tengah kiri",
            "jari manis kiri",
            "kelingking kiri",
        ][usize::from(self.0 - 1)]
    }
}

impl TryFrom<u8> for FingerPosition {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        FingerPosition::new(v).ok_or_else(|| format!("finger position {v} is not 1–10"))
    }
}

impl From<FingerPosition> for u8 {
    fn from(f: FingerPosition) -> u8 {
        f.0
    }
}

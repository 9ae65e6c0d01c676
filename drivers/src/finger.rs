//! Standard finger positions: which finger a device model plays. The shared formats keep their
//! own (`jemput_core::finger::FingerPosition`, with the fingers' names); the kit converts by code.

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

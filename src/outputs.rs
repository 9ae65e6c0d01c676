//! The JSON shapes printed by `--json` commands (their schemas are in `schemas/`).

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

use crate::packet::Header;

/// `jemput packet inspect --json`: the header and where it sits in the file.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InspectOutput {
    pub file: PathBuf,
    pub file_size: u64,
    pub header: Header,
    pub payload_offset: u64,
}

/// `jemput packet verify --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyOutput {
    pub file: PathBuf,
    pub ok: bool,
    pub packet_id: Option<String>,
    pub kit_id: Option<String>,
    pub kit_key: Option<String>,
    /// Stable code of the failure (e.g. `tampered_header`, `truncated_payload`), when not ok.
    pub error_code: Option<String>,
    pub error: Option<String>,
}

/// `jemput demo --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DemoOutput {
    pub kit_home: PathBuf,
    /// Path of the office's age identity file.
    pub office_identity: PathBuf,
    /// Paths of the packets sealed in this run.
    pub packets: Vec<PathBuf>,
    /// Paths of the hub receipts of this run's packets (empty with `--offline`).
    pub receipts: Vec<PathBuf>,
    /// URL of the embedded hub the demo uploaded to (absent with `--offline`).
    pub hub_url: Option<String>,
    /// Number of visits run.
    pub visits: u32,
    /// Directory the first packet was opened into with the office identity.
    pub opened: PathBuf,
}

/// `jemput seal --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SealOutput {
    pub sealed: Vec<crate::kit::SealOutcome>,
    pub failed: Vec<SealFailure>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SealFailure {
    pub visit_id: uuid::Uuid,
    pub error: String,
}

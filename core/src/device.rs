//! The record of the device that took a capture, as the manifest and the pen trace file carry it.
//! The kit fills it in from what its driver reports (`jemput_drivers::DeviceInfo`); the hub and the
//! shared formats never see a driver type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What an opened device reports about itself; recorded with every capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The schemas name it as the drivers do: one device identity, whichever crate holds it.
#[schemars(rename = "DeviceInfo")]
pub struct DeviceRecord {
    /// Driver name, e.g. `ef01`, `isdv4`, or `synthetic` for the built-in generators.
    pub driver: String,
    /// Model name as the device reports it (or as its ID table names it).
    pub model: String,
    /// Serial number, when the device reports one.
    pub serial: Option<String>,
    /// Firmware version, when the device reports one.
    pub firmware: Option<String>,
}

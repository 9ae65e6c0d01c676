//! A pen trace as the signature file records it: the pad's samples and its extents. The kit fills
//! it in from what its pad driver reports (`jemput_drivers::PenTrace`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One sample of a pen trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PenPoint {
    /// Horizontal position in device units, 0 (left) … `extent_x` (right).
    pub x: u32,
    /// Vertical position in device units, 0 (top) … `extent_y` (bottom).
    pub y: u32,
    /// Pressure in device units, 0 … `max_pressure`.
    pub pressure: u32,
    /// Milliseconds since the start of the trace.
    pub t_ms: u32,
    /// Whether the pen touched the surface (pen down).
    pub touching: bool,
}

/// A signature as recorded by a pad: the points and the device's extents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PenTrace {
    /// Width of the coordinate space: `x` runs from 0 to this.
    pub extent_x: u32,
    /// Height of the coordinate space: `y` runs from 0 to this.
    pub extent_y: u32,
    /// Full-scale pressure: `pressure` runs from 0 (pen up) to this.
    pub max_pressure: u32,
    /// The samples in the order the pad reported them.
    pub points: Vec<PenPoint>,
}

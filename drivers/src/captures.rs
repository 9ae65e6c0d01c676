//! What devices deliver: a fingerprint image, a pen trace, a position fix, a photo, and a
//! camera's frames (their size, what each preview frame reports, a preview run's figures).

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An 8-bit greyscale fingerprint image.
#[derive(Clone, PartialEq, Eq)]
pub struct FingerImage {
    pub width: u32,
    pub height: u32,
    /// Resolution in pixels per inch (500 for most scanners).
    pub ppi: u32,
    /// Row-major, one byte per pixel, 0 = black.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for FingerImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print biometric bytes.
        f.debug_struct("FingerImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("ppi", &self.ppi)
            .finish_non_exhaustive()
    }
}

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

/// A position fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Fix {
    /// Seconds since the Unix epoch (UTC) of the fix.
    pub unix_time: i64,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

/// A photo as a camera delivered it.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    /// The JPEG file the camera wrote.
    pub jpeg: Vec<u8>,
    /// Pixels, as the camera reports them (0 when it does not say).
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print biometric bytes.
        f.debug_struct("Photo")
            .field("bytes", &self.jpeg.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// A frame size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

impl Size {
    /// `width × height`.
    pub fn pixels(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Whether both sides are within `max`.
    pub fn fits(self, max: Size) -> bool {
        self.width <= max.width && self.height <= max.height
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl std::str::FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (w, h) = s
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("{s:?} is not a size; write WIDTHxHEIGHT, e.g. 1280x720"))?;
        let n = |t: &str| {
            t.trim()
                .parse::<u32>()
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("{s:?}: {t:?} is not a positive whole number of pixels"))
        };
        Ok(Size {
            width: n(w)?,
            height: n(h)?,
        })
    }
}

/// One preview frame as it left the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameMeta {
    /// Frames received in this stream so far, this one included.
    pub count: u64,
    /// The driver's frame sequence number.
    pub sequence: u32,
    /// The driver's timestamp (monotonic clock for UVC and vivid).
    pub timestamp: Duration,
    /// Bytes in the frame.
    pub bytes: usize,
}

/// A preview run's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreviewStats {
    pub frames: u64,
    pub elapsed: Duration,
    /// Frames a second by the driver's timestamps (first to last), else by the wall clock.
    pub fps: f64,
}

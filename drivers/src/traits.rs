//! Capability traits and the data they return.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What an opened device reports about itself; recorded with every capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Driver name, e.g. `ef01`, `isdv4`, or `synthetic` for the built-in generators.
    pub driver: String,
    /// Model name as the device reports it (or as its ID table names it).
    pub model: String,
    /// Serial number, when the device reports one.
    pub serial: Option<String>,
    /// Firmware version, when the device reports one.
    pub firmware: Option<String>,
}

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

/// How a capture may be cut short: a deadline and a cancel flag the driver polls.
#[derive(Debug, Clone)]
pub struct CaptureControl {
    pub timeout: Duration,
    pub cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Errors common to every device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    #[error("the device is busy (in use by another program)")]
    Busy,
    #[error("permission denied opening the device")]
    PermissionDenied,
    #[error("the device was disconnected")]
    Disconnected,
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, &'static str),
    #[error("cancelled")]
    Cancelled,
    #[error("{0} is not supported by this device")]
    NotSupported(&'static str),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a [`DeviceError::Timeout`] says it waited for when no finger came to the sensor: capture
/// policies count that as an attempt that detected nothing, not as a device fault.
pub const NO_FINGER: &str = "a finger on the sensor";

/// Every opened device.
pub trait Device {
    fn info(&self) -> &DeviceInfo;
}

/// Called during a long transfer (an image upload) with (bytes received, bytes expected).
pub type TransferProgress = Box<dyn FnMut(usize, usize) + Send>;

/// A scanner that captures one finger at a time.
pub trait FingerprintScanner: Device {
    fn capture_finger(&mut self, control: &CaptureControl) -> Result<FingerImage, DeviceError>;

    /// Reports the progress of image transfers to `progress` (`None`: stop reporting). Scanners
    /// whose images arrive at once ignore it.
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        let _ = progress;
    }
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

/// A camera that takes the face photo.
pub trait Camera: Device {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError>;

    /// Reports the progress of the photo's download to `progress` (`None`: stop reporting).
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        let _ = progress;
    }
}

/// A pad that records a signature.
pub trait SignaturePad: Device {
    fn record_signature(&mut self, control: &CaptureControl) -> Result<PenTrace, DeviceError>;
}

/// A source of position fixes (GPS receiver).
pub trait LocationSource: Device {
    fn fix(&mut self, control: &CaptureControl) -> Result<Fix, DeviceError>;
}

/// A device that can be calibrated; the id of the calibration is recorded with each capture.
pub trait Calibration: Device {
    /// Id of the calibration in force, if any.
    fn calibration_id(&self) -> Option<String> {
        None
    }
}

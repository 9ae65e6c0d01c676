//! Capability traits — what every device reports about itself, the capture traits with their
//! optional capabilities (each with a default that answers "not supported"), and the errors
//! common to every device — and what a driver's devices do for a visit ([`Capability`],
//! [`Capabilities`]). What the captures deliver is in `captures.rs`.

use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::calibration::{CameraCalibration, CameraSettings, DeviceCalibration, Prompt};
use crate::captures::{FingerImage, Fix, FrameMeta, PenPoint, PenTrace, Photo, PreviewStats};

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
    /// The device sent data that cannot be used (an image of the wrong size, a photo that is not
    /// a JPEG, a damaged frame): worded as a protocol error, told apart for the operator
    /// (`fault()`: take it again).
    #[error("protocol error: {0}")]
    BadData(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The device could not be calibrated: the driver's own error, kept whole, says why and what
    /// to do next.
    #[error(transparent)]
    Calibration(Box<dyn std::error::Error + Send + Sync>),
}

impl DeviceError {
    /// A calibration that failed with the driver's error `e`.
    pub fn calibration(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        DeviceError::Calibration(Box::new(e))
    }
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

    /// Names the finger the next captures are of, by its ISO/IEC 19794-4 position code (1 right
    /// thumb … 10 left little; 0 not known), for a scanner that asks its device for a named finger
    /// (an SBI single-finger scanner names it in its capture request). Other scanners ignore it.
    fn set_finger(&mut self, position: u8) {
        let _ = position;
    }

    /// The device's own quality score (0–100) of the last finger captured, for a scanner that
    /// gives one (an SBI scanner's `qualityScore`); `None` for the others.
    fn last_device_quality(&self) -> Option<f32> {
        None
    }

    /// The record the device gave for the last finger captured, byte for byte (an SBI scanner's
    /// signed ISO/IEC 19794-4 record), for the capture to keep as its original; `None` for a
    /// scanner that gives only the image.
    fn last_record(&self) -> Option<&[u8]> {
        None
    }

    /// Reports the progress of image transfers to `progress` (`None`: stop reporting). Scanners
    /// whose images arrive at once ignore it.
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        let _ = progress;
    }

    /// Calibrates the scanner (the settings it should hold, a baseline of the empty sensor),
    /// asking the operator through `prompt` for what it needs within `control`, and returns the
    /// record's data. Scanners that take no calibration answer [`DeviceError::NotSupported`].
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        let _ = (control, prompt);
        Err(DeviceError::NotSupported("scanner calibration"))
    }
}

/// A camera that takes the face photo.
pub trait Camera: Device {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError>;

    /// The device's own quality score (0–100) of the last photo taken, for a camera that gives
    /// one (an SBI camera's `qualityScore`); `None` for the others.
    fn last_device_quality(&self) -> Option<f32> {
        None
    }

    /// Reports the progress of the photo's download to `progress` (`None`: stop reporting).
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        let _ = progress;
    }

    /// The format a camera that streams (a webcam) streams in, e.g. `YUYV 640x480`; `None` for a
    /// camera that only takes stills.
    fn stream_format(&self) -> Option<String> {
        None
    }

    /// Streams `frames` preview frames, calling `each` for every one, and returns the rate.
    /// Cameras without a preview stream answer [`DeviceError::NotSupported`].
    fn preview(
        &mut self,
        frames: u64,
        control: &CaptureControl,
        each: &mut dyn FnMut(&FrameMeta),
    ) -> Result<PreviewStats, DeviceError> {
        let _ = (frames, control, each);
        Err(DeviceError::NotSupported("preview frames"))
    }

    /// Live frames as JPEGs, for a preview shown elsewhere (an SBI device service's `STREAM`):
    /// calls `each` with a frame at most every `interval` (the camera's frames in between are let
    /// pass, so the one given is fresh) until `each` returns `false` or `control`'s cancel flag is
    /// raised; `control.timeout` bounds the wait for one frame. Returns the frames given. Cameras
    /// without a live stream (a PTP camera here: jemput's driver takes stills only) answer
    /// [`DeviceError::NotSupported`].
    fn live_jpeg(
        &mut self,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Photo) -> bool,
    ) -> Result<u64, DeviceError> {
        let _ = (interval, control, each);
        Err(DeviceError::NotSupported("live frames"))
    }

    /// Sets what `settings` asks for (white balance, exposure bias, ISO) and reads back the
    /// exposure and white balance properties, for the record and for the operator; `control`
    /// bounds waiting for a camera that went away. Cameras that take no calibration answer
    /// [`DeviceError::NotSupported`].
    fn calibrate(
        &mut self,
        settings: &CameraSettings,
        control: &CaptureControl,
    ) -> Result<CameraCalibration, DeviceError> {
        let _ = (settings, control);
        Err(DeviceError::NotSupported("camera calibration"))
    }
}

/// A pad that records a signature.
pub trait SignaturePad: Device {
    fn record_signature(&mut self, control: &CaptureControl) -> Result<PenTrace, DeviceError>;

    /// Records a signature as [`SignaturePad::record_signature`] does, handing `live` each pen
    /// sample as the pad reports it — in the pad's own units (`extent` is its width and height),
    /// before any calibration — so a screen can draw the trace while the resident signs. A pad
    /// that cannot report samples as they come hands the whole trace over at the end only (the
    /// default).
    fn record_signature_live(
        &mut self,
        control: &CaptureControl,
        live: &mut dyn FnMut(&PenPoint, (u32, u32)),
    ) -> Result<PenTrace, DeviceError> {
        let _ = live;
        self.record_signature(control)
    }

    /// Uses a calibration `jemput calibrate` recorded for this pad (the record's data, as the
    /// driver wrote it) for later signatures, and says its id. Pads that take no calibration
    /// refuse with [`DeviceError::NotSupported`].
    fn apply_calibration(&mut self, data: &serde_json::Value) -> Result<String, DeviceError> {
        let _ = data;
        Err(DeviceError::NotSupported("pad calibration"))
    }

    /// Calibrates the pad (where its signing area lies), asking the operator through `prompt`
    /// and waiting for them within `control`, and returns the record's data, which
    /// [`SignaturePad::apply_calibration`] takes. Does not apply it. Pads that take no
    /// calibration answer [`DeviceError::NotSupported`].
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        let _ = (control, prompt);
        Err(DeviceError::NotSupported("pad calibration"))
    }
}

// A boxed capability is the capability: devices kept as trait objects (a visit's devices, an
// opened device's) go wherever a device goes.
impl<T: Device + ?Sized> Device for Box<T> {
    fn info(&self) -> &DeviceInfo {
        (**self).info()
    }
}

impl<T: FingerprintScanner + ?Sized> FingerprintScanner for Box<T> {
    fn capture_finger(&mut self, control: &CaptureControl) -> Result<FingerImage, DeviceError> {
        (**self).capture_finger(control)
    }
    fn set_finger(&mut self, position: u8) {
        (**self).set_finger(position)
    }
    fn last_device_quality(&self) -> Option<f32> {
        (**self).last_device_quality()
    }
    fn last_record(&self) -> Option<&[u8]> {
        (**self).last_record()
    }
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        (**self).set_transfer_progress(progress)
    }
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        (**self).calibrate(control, prompt)
    }
}

impl<T: SignaturePad + ?Sized> SignaturePad for Box<T> {
    fn record_signature(&mut self, control: &CaptureControl) -> Result<PenTrace, DeviceError> {
        (**self).record_signature(control)
    }
    fn record_signature_live(
        &mut self,
        control: &CaptureControl,
        live: &mut dyn FnMut(&PenPoint, (u32, u32)),
    ) -> Result<PenTrace, DeviceError> {
        (**self).record_signature_live(control, live)
    }
    fn apply_calibration(&mut self, data: &serde_json::Value) -> Result<String, DeviceError> {
        (**self).apply_calibration(data)
    }
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        (**self).calibrate(control, prompt)
    }
}

impl<T: LocationSource + ?Sized> LocationSource for Box<T> {
    fn fix(&mut self, control: &CaptureControl) -> Result<Fix, DeviceError> {
        (**self).fix(control)
    }
}

impl<T: Camera + ?Sized> Camera for Box<T> {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError> {
        (**self).capture_photo(control)
    }
    fn last_device_quality(&self) -> Option<f32> {
        (**self).last_device_quality()
    }
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        (**self).set_transfer_progress(progress)
    }
    fn stream_format(&self) -> Option<String> {
        (**self).stream_format()
    }
    fn preview(
        &mut self,
        frames: u64,
        control: &CaptureControl,
        each: &mut dyn FnMut(&FrameMeta),
    ) -> Result<PreviewStats, DeviceError> {
        (**self).preview(frames, control, each)
    }
    fn live_jpeg(
        &mut self,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Photo) -> bool,
    ) -> Result<u64, DeviceError> {
        (**self).live_jpeg(interval, control, each)
    }
    fn calibrate(
        &mut self,
        settings: &CameraSettings,
        control: &CaptureControl,
    ) -> Result<CameraCalibration, DeviceError> {
        (**self).calibrate(settings, control)
    }
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

/// What a driver's devices do for a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Fingerprint,
    Signature,
    Location,
    /// A camera for the face photo (PTP over USB).
    Camera,
}

impl Capability {
    /// As a technician says it.
    pub fn noun(self) -> &'static str {
        match self {
            Capability::Fingerprint => "fingerprint scanner",
            Capability::Signature => "signature pad",
            Capability::Location => "GPS receiver",
            Capability::Camera => "camera",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// A capture device, opened, as the capability it offers.
#[non_exhaustive]
pub enum Capabilities {
    Fingerprint(Box<dyn FingerprintScanner + Send>),
    Signature(Box<dyn SignaturePad + Send>),
    Location(Box<dyn LocationSource + Send>),
    Camera(Box<dyn Camera + Send>),
}

impl Capabilities {
    pub fn capability(&self) -> Capability {
        match self {
            Capabilities::Fingerprint(_) => Capability::Fingerprint,
            Capabilities::Signature(_) => Capability::Signature,
            Capabilities::Location(_) => Capability::Location,
            Capabilities::Camera(_) => Capability::Camera,
        }
    }

    pub fn info(&self) -> &DeviceInfo {
        match self {
            Capabilities::Fingerprint(d) => d.info(),
            Capabilities::Signature(d) => d.info(),
            Capabilities::Location(d) => d.info(),
            Capabilities::Camera(d) => d.info(),
        }
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(self.capability().noun())
            .field(self.info())
            .finish()
    }
}

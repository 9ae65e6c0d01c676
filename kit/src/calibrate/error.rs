//! What can go wrong calibrating a device, each saying what to do next: the refusals made before
//! anything is opened, and what opening the device, its driver's calibration or keeping the
//! record said.

use std::path::PathBuf;

use jemput_drivers::ptp::OpenCameraError;
use jemput_drivers::registry::{NotCapable, OpenError};
use jemput_drivers::DeviceError;

use crate::calibration::CalibrationError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalibrateError {
    #[error("--white-balance, --exposure-bias and --iso are camera settings; {0} is not a camera")]
    CameraSettings(String),
    #[error("name the driver of {}: --driver ef01 or --driver isdv4", .0.display())]
    DriverNeeded(PathBuf),
    #[error("{} may be any of {}: name the driver with --driver ef01 or --driver isdv4", path.display(), drivers.join(", "))]
    AmbiguousDriver { path: PathBuf, drivers: Vec<String> },
    #[error("cannot calibrate {0}: use VID:PID, usb:<port>, a tty path with --driver, or sim:ef01 / sim:isdv4 / sim:ptp")]
    Unsupported(String),
    /// `--driver ptp` with a selector that names no PTP camera.
    #[error(transparent)]
    NotACamera(OpenCameraError),
    #[error("--exposure-bias takes EV between -10 and 10")]
    ExposureBiasRange,
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    NotCapable(#[from] NotCapable),
    /// The device's own calibration failed (in its driver's words), or it has none.
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Record(#[from] CalibrationError),
}

//! What can go wrong calibrating a device, each saying what to do next.

use std::path::PathBuf;

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
    #[error("{0} is not a PTP camera selector")]
    NotACamera(String),
    #[error("the sensor reports a finger on blank poll {poll}: clean the sensor, keep fingers off, and calibrate again")]
    FingerOnSensor { poll: u32 },
    #[error("--exposure-bias takes EV between -10 and 10")]
    ExposureBiasRange,
    #[error(
        "the camera does not expose {name} ({code:#06x}) over PTP; set it in the camera's own menu"
    )]
    NotExposed { name: &'static str, code: u16 },
    #[error("the camera lets jemput read {name} but not set it; set it in the camera's own menu")]
    ReadOnly { name: &'static str },
    #[error("the camera does not allow {name} {value}; it allows {allowed}")]
    NotAllowed {
        name: &'static str,
        value: String,
        allowed: String,
    },
    #[error("reading {name}")]
    Read {
        name: &'static str,
        #[source]
        source: jemput_drivers::ptp::PtpError,
    },
    #[error("setting {name}")]
    Set {
        name: &'static str,
        #[source]
        source: jemput_drivers::ptp::PtpError,
    },
    #[error(transparent)]
    Find(#[from] jemput_drivers::registry::OpenError),
    #[error(transparent)]
    OpenCamera(#[from] jemput_drivers::ptp::OpenCameraError),
    #[error(transparent)]
    Link(#[from] jemput_drivers::LinkError),
    #[error(transparent)]
    Isdv4(#[from] jemput_drivers::isdv4::Isdv4Error),
    #[error(transparent)]
    Ef01(#[from] jemput_drivers::ef01::Ef01Error),
    #[error(transparent)]
    Record(#[from] CalibrationError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

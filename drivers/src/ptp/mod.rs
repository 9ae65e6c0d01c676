//! PTP still cameras over USB (ISO 15740, USB Still Image Capture class): the pure codec
//! ([`protocol`], [`dataset`]), the driver ([`PtpCamera`]) over any [`crate::usb::UsbTransport`],
//! its calibration of exposure and white balance ([`PtpCamera::calibrate_properties`]), the
//! camera model ([`PtpModel`]) and how cameras are recognised ([`ids`]). docs/devices.md §5.
//!
//! ```no_run
//! use jemput_drivers::ptp::{PtpCamera, PtpConfig, PtpModel, PtpModelConfig};
//! use jemput_drivers::{Camera, CaptureControl};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (usb, _log, endpoints) = PtpModel::transport(PtpModelConfig::default().fast());
//! let mut camera = PtpCamera::open(usb, endpoints, PtpConfig::default())?;
//! let control = CaptureControl {
//!     timeout: std::time::Duration::from_secs(10),
//!     cancel: Default::default(),
//! };
//! let photo = camera.capture_photo(&control)?; // JPEG bytes of a synthetic face
//! # let _ = photo; Ok(()) }
//! ```
//!
//! **Not done yet:** no vendor capture hook ships (Canon EOS, Nikon and Sony bodies that need
//! vendor operations get a clear error naming them); GetPartialObject is not used (GetObject is
//! read in many bulk transfers instead). Device properties ([`props`]): integers up to 64 bits
//! and strings only. The model is served over USB/IP by [`crate::usbip`] (`jemput sim ptp`).

mod calibrate;
pub mod dataset;
mod driver;
mod error;
pub mod factory;
pub mod ids;
pub mod model;
pub mod props;
pub mod protocol;

pub use dataset::{DeviceInfo, ObjectInfo, StorageInfo};
pub use driver::{Event, PtpCamera, PtpConfig, PtpEndpoints, PtpSession, Reply, VendorCapture};
pub use error::{explain, PropertyError, PtpError};
pub use factory::{is_sim, open, open_camera, AnyCamera, OpenCameraError, PtpFactory, SIM_NAME};
pub use model::{ModelLog, PtpFault, PtpModel, PtpModelConfig, STORAGE_ID};
pub use props::{DevicePropDesc, PropForm, PropValue};
pub use protocol::{CodecError, EventCode, FormatCode, OperationCode, ResponseCode};

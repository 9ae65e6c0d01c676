//! EF01 serial fingerprint modules (ZhianTec ZFM-20, Hangzhou Grow R30x/R50x, Synochip AS608): the
//! pure wire codec, the driver, its calibration, the device model and the ID tables (docs/devices.md
//! §1).
//!
//! ```no_run
//! use jemput_drivers::ef01::{Ef01, DEFAULT_ADDRESS, DEFAULT_PASSWORD};
//! use jemput_drivers::{CaptureControl, PortLink};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let link = PortLink::open(std::path::Path::new("/dev/ttyUSB0"), 57_600)?;
//! let mut scanner = Ef01::open(link, DEFAULT_ADDRESS, DEFAULT_PASSWORD)?;
//! scanner.set_progress(|done, total| eprintln!("{done}/{total} bytes"));
//! let control = CaptureControl {
//!     timeout: std::time::Duration::from_secs(30),
//!     cancel: Default::default(),
//! };
//! let image = scanner.capture(&control)?; // 256 × 288, 8-bit grey (16 levels)
//! # let _ = image; Ok(()) }
//! ```

mod calibrate;
mod driver;
mod error;
pub mod factory;
pub mod ids;
pub mod model;
pub mod protocol;

pub use calibrate::{ModuleCalibration, BLANK_POLLS, PACKET_SIZE, SECURITY_LEVEL};
pub use driver::{AuraLed, Ef01, Ef01Config, LedColour, LedMode, Progress};
pub use error::{explain, Ef01Error};
pub use factory::Ef01Factory;
pub use ids::{ModuleModel, UsbBridge, MODULES, USB_BRIDGES};
pub use model::{Degradation, Ef01Model, Fault, ModelHandle, ModelOptions, PoorPrint};
pub use protocol::{
    Confirmation, Decoder, Frame, FrameError, Instruction, PacketSize, Pid, SysParams,
    DEFAULT_ADDRESS, DEFAULT_PASSWORD,
};

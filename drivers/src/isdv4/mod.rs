//! Wacom ISDV4 / W8001 serial pen digitizers (signature pads): the wire codec, the driver, pad
//! calibration, the device model and the ports such pads are found on. Facts: docs/devices.md §4.
//!
//! ```no_run
//! use jemput_drivers::isdv4::{Isdv4, Isdv4Config};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut pad = Isdv4::open("/dev/ttyS4".as_ref(), Isdv4Config { baud: 38_400, ..Default::default() })?;
//! let control = jemput_drivers::CaptureControl {
//!     timeout: std::time::Duration::from_secs(60),
//!     cancel: Default::default(),
//! };
//! let trace = pad.record(&control)?;
//! println!("{} points", trace.points.len());
//! # Ok(()) }
//! ```

mod calibration;
mod driver;
mod error;
pub mod factory;
pub mod ids;
mod model;
pub mod protocol;

pub use calibration::{PadCalibration, SIGNING_AREA};
pub use driver::{Isdv4, Isdv4Config};
pub use error::{CodecError, Isdv4Error};
pub use factory::Isdv4Factory;
pub use model::{
    script, truncated_indices, Handwriting, Isdv4Fault, Isdv4Model, Isdv4ModelConfig, GARBAGE,
    REPORT_HZ,
};

#[cfg(test)]
mod tests;

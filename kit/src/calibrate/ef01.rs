//! The EF01 module's calibration: packet size and security level are checked and set (persisted)
//! to the kit's values, and a blank-sensor baseline is taken: the sensor must report "no finger"
//! on three polls.

use std::path::Path;
use std::time::Duration;

use jemput_drivers::ef01::{self, Ef01, PacketSize};
use jemput_drivers::{Device, PortLink};

use super::error::CalibrateError;
use super::shared::calibration_id;
use crate::calibration::CalibrationRecord;

/// Polls of the empty sensor that must all report no finger.
const BLANK_POLLS: u32 = 3;

/// Calibrates the EF01 module on `path` (at `baud`, default 57 600).
pub fn calibrate(path: &Path, baud: Option<u32>) -> Result<CalibrationRecord, CalibrateError> {
    let link = PortLink::open(path, baud.unwrap_or(57_600))?;
    let mut m = Ef01::open(link, ef01::DEFAULT_ADDRESS, ef01::DEFAULT_PASSWORD)?;
    let before = *m.sys_params();
    if before.packet_size_code != 2 {
        m.set_packet_size(PacketSize::B128)?;
    }
    if before.security_level != 3 {
        m.set_security_level(3)?;
    }
    let after = m.read_sys_params()?;
    for poll in 1..=BLANK_POLLS {
        if m.gen_img()? {
            return Err(CalibrateError::FingerOnSensor { poll });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let data = serde_json::json!({
        "packet_size_bytes": 32u32 << after.packet_size_code,
        "security_level": after.security_level,
        "baud": 9600 * u32::from(after.baud_n),
        "capacity": after.capacity,
        "blank_polls_without_finger": BLANK_POLLS,
        "changed": before != after,
    });
    Ok(CalibrationRecord {
        id: calibration_id("ef01", &data),
        device: m.info().clone(),
        created_at: jiff::Timestamp::now(),
        data,
    })
}

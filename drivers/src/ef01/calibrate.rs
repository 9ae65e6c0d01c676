//! The EF01 module's calibration ([`Ef01::calibrate`]): packet size and security level are
//! checked and set (persisted) to the values jemput captures with, and a blank-sensor baseline
//! is taken: the sensor must report "no finger" on three polls. What it found and left on the
//! module is the record's data ([`ModuleCalibration`]).

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;

use super::driver::Ef01;
use super::error::Ef01Error;
use super::protocol::PacketSize;
use crate::transport::SerialLink;
use crate::CaptureControl;

/// Polls of the empty sensor that must all report no finger.
pub const BLANK_POLLS: u32 = 3;

/// The packet size a calibrated module sends images in.
pub const PACKET_SIZE: PacketSize = PacketSize::B128;

/// The security level a calibrated module matches at (1 most permissive … 5 strictest).
pub const SECURITY_LEVEL: u8 = 3;

/// The pause between two blank polls.
const BLANK_POLL_PAUSE: Duration = Duration::from_millis(100);

/// What a calibration left on the module, and the baseline it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleCalibration {
    /// Data bytes per packet, as the module reads back after setting.
    pub packet_size_bytes: u32,
    /// As the module reads back after setting.
    pub security_level: u16,
    /// The module's own line speed.
    pub baud: u32,
    /// Templates its library holds.
    pub capacity: u16,
    /// Polls of the empty sensor that reported no finger.
    pub blank_polls_without_finger: u32,
    /// Whether the calibration changed a setting.
    pub changed: bool,
}

impl<L: SerialLink> Ef01<L> {
    /// Calibrates the module: sets the packet size and security level where they differ from
    /// [`PACKET_SIZE`] and [`SECURITY_LEVEL`], reads the settings back, and polls the empty
    /// sensor [`BLANK_POLLS`] times; a finger on it fails the calibration. `control`'s cancel
    /// flag stops it between polls.
    pub fn calibrate(&mut self, control: &CaptureControl) -> Result<ModuleCalibration, Ef01Error> {
        let before = *self.sys_params();
        if before.packet_size_code != u16::from(PACKET_SIZE.code()) {
            self.set_packet_size(PACKET_SIZE)?;
        }
        if before.security_level != u16::from(SECURITY_LEVEL) {
            self.set_security_level(SECURITY_LEVEL)?;
        }
        let after = self.read_sys_params()?;
        for poll in 1..=BLANK_POLLS {
            if control.cancel.load(Ordering::SeqCst) {
                return Err(Ef01Error::Cancelled);
            }
            if self.gen_img()? {
                return Err(Ef01Error::FingerOnSensor { poll });
            }
            std::thread::sleep(BLANK_POLL_PAUSE);
        }
        Ok(ModuleCalibration {
            packet_size_bytes: 32u32
                .checked_shl(u32::from(after.packet_size_code))
                .unwrap_or(0),
            security_level: after.security_level,
            baud: 9600 * u32::from(after.baud_n),
            capacity: after.capacity,
            blank_polls_without_finger: BLANK_POLLS,
            changed: before != after,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ef01::{Ef01Model, ModelHandle, ModelOptions, DEFAULT_ADDRESS, DEFAULT_PASSWORD};
    use crate::MemLink;

    fn control() -> CaptureControl {
        CaptureControl {
            timeout: Duration::from_secs(5),
            cancel: Arc::default(),
        }
    }

    /// The module model in memory, and the driver opened on it.
    fn module(options: ModelOptions) -> (ModelHandle, Ef01<MemLink>) {
        let (host, device) = MemLink::pair();
        let model = Ef01Model::spawn(device, options);
        (
            model,
            Ef01::open(host, DEFAULT_ADDRESS, DEFAULT_PASSWORD).unwrap(),
        )
    }

    #[test]
    fn a_module_off_the_kits_settings_is_set_and_says_it_changed() {
        let (_model, mut m) = module(ModelOptions {
            finger_after_polls: u32::MAX,
            ..ModelOptions::fast()
        });
        m.set_packet_size(PacketSize::B32).unwrap();
        m.set_security_level(5).unwrap();
        m.read_sys_params().unwrap();
        let cal = m.calibrate(&control()).unwrap();
        assert_eq!(cal.packet_size_bytes, 128);
        assert_eq!(cal.security_level, 3);
        assert_eq!(cal.blank_polls_without_finger, BLANK_POLLS);
        assert!(cal.changed);
        // Calibrated again, nothing changes.
        assert!(!m.calibrate(&control()).unwrap().changed);
    }

    #[test]
    fn a_finger_on_the_sensor_spoils_the_baseline() {
        let (_model, mut m) = module(ModelOptions {
            finger_after_polls: 0,
            ..ModelOptions::fast()
        });
        let e = m.calibrate(&control()).unwrap_err();
        assert!(matches!(e, Ef01Error::FingerOnSensor { poll: 1 }), "{e}");
        assert!(e.to_string().contains("clean the sensor"), "{e}");
    }
}

//! Calibration as an optional capability, on devices opened through the registry: the drivers
//! that own a procedure run it on their device models (the pad's corner taps, the EF01 module's
//! settings and blank-sensor baseline, the PTP camera's properties), and a device without one
//! answers "not supported" through its trait, however it is wrapped.

use std::time::Duration;

use jemput_drivers::calibration::Prompt;
use jemput_drivers::registry::{self, OpenOptions, OpenedDevice};
use jemput_drivers::{Capabilities, CaptureControl, DeviceError, FingerprintScanner};

fn control() -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_secs(20),
        cancel: Default::default(),
    }
}

fn open(selector: &str) -> OpenedDevice {
    registry::open(&selector.parse().unwrap(), &OpenOptions::default()).unwrap()
}

fn no_prompt(p: Prompt) {
    panic!("nothing to ask, yet asked {p:?}");
}

#[test]
fn a_reader_without_a_procedure_answers_not_supported_opened_or_kept_as_its_capability() {
    let mut reader = open("sim:uru4000");
    let e = reader
        .scanner()
        .unwrap()
        .calibrate(&control(), &mut no_prompt)
        .unwrap_err();
    assert!(matches!(e, DeviceError::NotSupported(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "scanner calibration is not supported by this device"
    );

    // Kept as the capability it offers (boxed, with its model behind it), it says the same.
    let Capabilities::Fingerprint(mut s) = reader.into_capabilities() else {
        panic!("not a scanner")
    };
    let e = s.calibrate(&control(), &mut no_prompt).unwrap_err();
    assert!(matches!(e, DeviceError::NotSupported(_)), "{e}");
}

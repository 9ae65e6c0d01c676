//! USB devices through the registry: `sim:uru4000` and `sim:ptp` open the real drivers on their
//! models in-process, with the capability each offers, and wrong asks are clear errors.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use jemput_drivers::registry::{self, Capability, Identified, OpenError, OpenOptions};
use jemput_drivers::CaptureControl;

fn control() -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_secs(10),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

#[test]
fn sim_uru4000_opens_the_reader_model_and_captures_a_512_ppi_finger() {
    let mut dev = registry::open(&"sim:uru4000".parse().unwrap(), &OpenOptions::default()).unwrap();
    assert_eq!(dev.capability(), Capability::Fingerprint);
    assert_eq!(dev.identified_by(), Identified::Sim);
    assert_eq!(dev.info().driver, "uru4000");
    assert!(dev.sim().is_some());
    let img = dev.scanner().unwrap().capture_finger(&control()).unwrap();
    assert_eq!((img.width, img.height, img.ppi), (384, 290, 512));
    let err = dev.pad().err().expect("a reader is no pen pad");
    assert!(err.to_string().contains("sim:isdv4"), "{err}");
}

#[test]
fn sim_ptp_opens_the_camera_model_as_a_camera() {
    let mut dev = registry::open(&"sim:ptp:1".parse().unwrap(), &OpenOptions::default()).unwrap();
    assert_eq!(dev.capability(), Capability::Camera);
    assert_eq!(dev.info().driver, "ptp");
    let photo = dev.camera().unwrap().capture_photo(&control()).unwrap();
    assert!(photo.jpeg.starts_with(&[0xFF, 0xD8]));
    let err = dev.scanner().err().expect("a camera is no scanner");
    assert!(
        err.to_string().contains("not a fingerprint scanner"),
        "{err}"
    );
}

#[test]
fn a_serial_driver_hint_on_a_usb_model_is_refused() {
    let options = OpenOptions {
        driver: Some("ef01".into()),
        baud: None,
    };
    let err = registry::open(&"sim:uru4000".parse().unwrap(), &options).unwrap_err();
    assert!(matches!(err, OpenError::SimDriverMismatch { .. }), "{err}");
    assert!(err.to_string().contains("drop --driver"), "{err}");
}

#[test]
fn an_unknown_model_lists_the_usb_models_too() {
    let err = registry::open(&"sim:nope".parse().unwrap(), &OpenOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("sim:uru4000") && msg.contains("sim:ptp"),
        "{msg}"
    );
}

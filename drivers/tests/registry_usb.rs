//! USB devices through the registry: `sim:uru4000` and `sim:ptp` open the real drivers on their
//! models in-process, with the capability each offers; the USB listing is a pure function of
//! what libusb found; asking for a camera refuses selectors that cannot name one; wrong asks are
//! clear errors.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use jemput_drivers::discover::Access;
use jemput_drivers::registry::{self, Capability, Identified, OpenError, OpenOptions};
use jemput_drivers::usb::UsbDeviceEntry;
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
        ..OpenOptions::default()
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

// ---- listing: a pure function of what libusb found ----------------------------------------------

fn entry(
    vid: u16,
    pid: u16,
    serial: Option<&str>,
    port: &str,
    ifs: &[(u8, u8, u8)],
) -> UsbDeviceEntry {
    UsbDeviceEntry {
        bus: 1,
        address: 2,
        port_path: port.into(),
        vid,
        pid,
        serial: serial.map(Into::into),
        manufacturer: None,
        product: None,
        interfaces: ifs.to_vec(),
        devnode: PathBuf::from(format!("/dev/bus/usb/001/{}", port.len())),
        access: Access::Accessible,
    }
}

#[test]
fn readers_by_id_and_cameras_by_class_are_listed_and_nothing_else() {
    let list = registry::usb_found(&[
        entry(0x05ba, 0x000a, Some("UR1"), "1-1", &[(0xff, 0xff, 0xff)]),
        entry(0x04a9, 0x31bc, None, "1-2", &[(6, 1, 1)]),
        entry(0x046d, 0xc52b, None, "1-3", &[(3, 1, 1)]), // a keyboard receiver
    ]);
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].drivers[0].driver, "uru4000");
    assert_eq!(list[0].drivers[0].capability, Capability::Fingerprint);
    assert_eq!(
        list[0].drivers[0].matched,
        "DigitalPersona U.are.U 4000B / 4500"
    );
    assert_eq!(list[0].selector, "05ba:000a:UR1");
    assert_eq!(list[1].drivers[0].driver, "ptp");
    assert_eq!(list[1].drivers[0].capability, Capability::Camera);
    assert_eq!(
        list[1].selector, "usb:1-2",
        "no serial: the port path names it"
    );
    assert!(list[1].path.starts_with("/dev/bus/usb"));
    assert!(list
        .iter()
        .all(|d| d.v4l2.is_none() && d.pnp_ids.is_empty()));
}

#[test]
fn two_readers_with_the_same_serial_are_named_by_port_and_access_is_kept() {
    let mut a = entry(0x05ba, 0x0007, Some("X"), "2-1", &[]);
    a.access = Access::PermissionDenied {
        fix: "install jemput's udev rules".into(),
    };
    let b = entry(0x05ba, 0x0007, Some("X"), "2-2", &[]);
    let list = registry::usb_found(&[a, b]);
    let sels: Vec<_> = list.iter().map(|d| d.selector.as_str()).collect();
    assert_eq!(sels, ["usb:2-1", "usb:2-2"]);
    assert!(matches!(list[0].access, Access::PermissionDenied { .. }));
}

// ---- opening for a wanted capability (`capture face`) -------------------------------------------

fn camera_only() -> OpenOptions {
    OpenOptions {
        wanted: Some(Capability::Camera),
        ..OpenOptions::default()
    }
}

#[test]
fn a_selector_that_cannot_name_a_camera_is_refused_before_anything_is_opened() {
    for s in ["sim:ef01", "/dev/ttyUSB-jemput-none", "sim:nope"] {
        let err = registry::open(&s.parse().unwrap(), &camera_only()).unwrap_err();
        assert!(matches!(err, OpenError::NotA { .. }), "{s}: {err:?}");
        let shown: jemput_drivers::Selector = s.parse().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{shown} is not a camera selector: use VID:PID[:SERIAL], usb:<port path>, \
                 v4l2:/dev/videoN (a webcam), or sim:ptp[:n]"
            )
        );
    }
}

#[test]
fn a_camera_selector_opens_the_camera_model_and_a_usb_id_is_looked_for_by_the_camera_driver() {
    let mut dev = registry::open(&"sim:ptp".parse().unwrap(), &camera_only()).unwrap();
    assert_eq!(dev.capability(), Capability::Camera);
    assert_eq!(
        dev.camera().unwrap().stream_format(),
        None,
        "a PTP camera takes stills"
    );
    // A reader's id is no camera: the PTP driver looks for a camera there and says it found none
    // (or that it cannot list USB devices here) in its own words.
    let err = registry::open(&"05ba:000a".parse().unwrap(), &camera_only()).unwrap_err();
    let OpenError::Device { driver, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*driver, "ptp");
    let msg = err.to_string();
    assert!(
        msg.starts_with("no PTP camera matches 05ba:000a") || msg.starts_with("cannot list USB"),
        "{msg}"
    );
}

#[test]
fn a_readers_usb_id_goes_to_the_reader_driver_and_with_a_serial_driver_named_to_the_serial_ports() {
    let sel = "05ba:000a".parse().unwrap();
    let err = registry::open(&sel, &OpenOptions::default()).unwrap_err();
    let OpenError::Device { driver, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*driver, "uru4000", "the ID table names the reader");
    let msg = err.to_string();
    assert!(
        msg.starts_with("no U.are.U reader matches 05ba:000a")
            || msg.starts_with("cannot list USB"),
        "{msg}"
    );
    let ef01 = OpenOptions {
        driver: Some("ef01".into()),
        ..OpenOptions::default()
    };
    let err = registry::open(&sel, &ef01).unwrap_err();
    assert!(
        err.to_string()
            .contains("looked for a serial port with USB id 05ba:000a"),
        "{err}"
    );
}

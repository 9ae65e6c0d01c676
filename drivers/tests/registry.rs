//! The driver registry: selectors resolved through discovery (never a guess), `sim:` selectors
//! opening the real driver on an in-process device model, and tty paths opened with and without a
//! driver hint (the probe).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jemput_drivers::discover::{Access, UsbIdentity};
use jemput_drivers::ef01::model::uploaded_image;
use jemput_drivers::registry::{
    self, Capability, FoundDevice, Identified, OpenError, OpenOptions, Recognised, Seen, SimOptions,
};
use jemput_drivers::{ef01, CaptureControl, FingerPosition, Selector};

fn control(secs: u64) -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_secs(secs),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

fn sel(s: &str) -> Selector {
    s.parse().unwrap()
}

fn port(path: &str, vid: &str, pid: &str, serial: Option<&str>, usb_port: &str) -> FoundDevice {
    FoundDevice {
        path: PathBuf::from(path),
        usb: Some(UsbIdentity {
            vid: vid.into(),
            pid: pid.into(),
            serial: serial.map(Into::into),
            manufacturer: None,
            product: None,
        }),
        usb_port: Some(usb_port.into()),
        pnp_ids: vec![],
        drivers: vec![],
        selector: String::new(),
        access: Access::Accessible,
        v4l2: None,
    }
}

/// Two CH340 cables (no serials, as is usual for them), a CP2102 board with a serial, and an
/// FT2232-style adapter with two ttys on one USB port.
fn bench() -> Vec<FoundDevice> {
    registry::with_selectors(vec![
        port("/dev/ttyUSB0", "1a86", "7523", None, "1-1"),
        port("/dev/ttyUSB1", "1a86", "7523", None, "1-2"),
        port("/dev/ttyUSB2", "10c4", "ea60", Some("0001"), "1-3.1"),
        port("/dev/ttyUSB3", "0403", "6010", Some("FT1"), "1-4"),
        port("/dev/ttyUSB4", "0403", "6010", Some("FT1"), "1-4"),
    ])
}

#[test]
fn a_vid_pid_matching_two_ports_is_an_error_listing_both() {
    let found = bench();
    let e = registry::resolve(&sel("1a86:7523"), &found).unwrap_err();
    let OpenError::Ambiguous {
        selector,
        candidates,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(selector, "1a86:7523");
    let paths: Vec<_> = candidates.iter().map(|c| c.path.clone()).collect();
    assert_eq!(
        paths,
        [PathBuf::from("/dev/ttyUSB0"), PathBuf::from("/dev/ttyUSB1")]
    );
    let msg = e.to_string();
    for want in [
        "matches 2 devices",
        "/dev/ttyUSB0 (usb:1-1, no serial)",
        "/dev/ttyUSB1 (usb:1-2, no serial)",
        "VID:PID:SERIAL",
        "usb:<port path>",
    ] {
        assert!(msg.contains(want), "{want:?} missing from: {msg}");
    }
    // The same cables told apart by their USB port.
    assert_eq!(
        registry::resolve(&sel("usb:1-2"), &found).unwrap().path,
        PathBuf::from("/dev/ttyUSB1")
    );
}

#[test]
fn a_serial_narrows_a_vid_pid_and_a_shared_usb_port_is_ambiguous() {
    let found = bench();
    let d = registry::resolve(&sel("10c4:ea60:0001"), &found).unwrap();
    assert_eq!(d.path, PathBuf::from("/dev/ttyUSB2"));
    assert_eq!(
        registry::resolve(&sel("10C4:EA60"), &found).unwrap().path,
        d.path
    );
    let e = registry::resolve(&sel("usb:1-4"), &found).unwrap_err();
    assert!(
        matches!(&e, OpenError::Ambiguous { candidates, .. } if candidates.len() == 2),
        "{e:?}"
    );
    assert!(e.to_string().contains("serial FT1"), "{e}");
}

#[test]
fn no_match_says_what_was_looked_for_and_to_run_jemput_devices() {
    let found = bench();
    for (s, looked) in [
        ("10c4:ea60:0002", "USB id 10c4:ea60 and serial 0002"),
        ("067b:2303", "USB id 067b:2303"),
        ("usb:2-1", "USB port 2-1"),
    ] {
        let e = registry::resolve(&sel(s), &found).unwrap_err();
        assert!(matches!(e, OpenError::NotFound { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains(looked), "{msg}");
        assert!(msg.contains("`jemput devices`"), "{msg}");
    }
}

#[test]
fn each_port_gets_the_shortest_selector_that_names_it_alone() {
    let found = bench();
    let selectors: Vec<_> = found.iter().map(|d| d.selector.as_str()).collect();
    assert_eq!(
        selectors,
        [
            "usb:1-1",
            "usb:1-2",
            "10c4:ea60:0001",
            "/dev/ttyUSB3",
            "/dev/ttyUSB4"
        ]
    );
    for d in &found[..3] {
        let back = registry::resolve(&sel(&d.selector), &found).unwrap();
        assert_eq!(back.path, d.path);
    }
}

#[test]
fn shared_bridges_name_every_candidate_driver() {
    let names = |vid, pid| -> Vec<&str> {
        let seen = Seen::SerialPort {
            usb: Some((vid, pid)),
            pnp_ids: &[],
        };
        registry::factories()
            .iter()
            .filter(|f| f.recognise(&seen).is_some())
            .map(|f| f.name())
            .collect()
    };
    assert_eq!(names(0x1a86, 0x7523), ["ef01", "isdv4", "nmea"]);
    assert_eq!(names(0x1546, 0x01a7), ["nmea"]);
    assert_eq!(names(0x1a86, 0x5523), ["isdv4"]);
    let isdv4 = registry::factory("w8001").unwrap();
    let pnp = ["wacf008".to_string()];
    assert_eq!(
        isdv4.recognise(&Seen::SerialPort {
            usb: None,
            pnp_ids: &pnp
        }),
        Some(Recognised {
            matched: "Wacom Serial Penabled (pen + touch)".into(),
            baud: Some(38_400)
        })
    );
    assert_eq!(registry::factory("gps").unwrap().name(), "nmea");
}

#[test]
fn sim_ef01_opens_the_real_driver_and_captures_the_models_finger() {
    let mut dev = registry::open(&sel("sim:ef01"), &OpenOptions::default()).unwrap();
    assert_eq!(dev.identified_by(), Identified::Sim);
    assert_eq!(dev.capability(), Capability::Fingerprint);
    assert_eq!(dev.info().driver, "ef01");
    assert_eq!(dev.sim().unwrap().path, dev.path());
    assert!(
        dev.path().starts_with("/dev/pts"),
        "{}",
        dev.path().display()
    );
    let img = dev.scanner().unwrap().capture_finger(&control(10)).unwrap();
    let want = uploaded_image(
        ef01::ids::default_module(),
        1,
        FingerPosition::new(2).unwrap(),
        0.8,
    );
    assert_eq!((img.width, img.height, img.ppi), (256, 288, 500));
    assert!(img.pixels == want.pixels, "the image is not the model's");
    // The model keeps running with the device: a second capture works (the next finger).
    let again = dev.scanner().unwrap().capture_finger(&control(10)).unwrap();
    assert_ne!(again.pixels, img.pixels);
}

#[test]
fn sim_indices_are_different_people() {
    let mut a = registry::open(&sel("sim:ef01:0"), &OpenOptions::default()).unwrap();
    let mut b = registry::open(&sel("sim:ef01:1"), &OpenOptions::default()).unwrap();
    let ia = a.scanner().unwrap().capture_finger(&control(10)).unwrap();
    let ib = b.scanner().unwrap().capture_finger(&control(10)).unwrap();
    assert_ne!(ia.pixels, ib.pixels);
}

#[test]
fn sim_isdv4_records_a_signature_through_the_real_driver() {
    let mut dev = registry::open(&sel("sim:isdv4"), &OpenOptions::default()).unwrap();
    assert_eq!(dev.capability(), Capability::Signature);
    assert_eq!(dev.info().driver, "isdv4");
    let trace = dev.pad().unwrap().record_signature(&control(10)).unwrap();
    assert_eq!((trace.extent_x, trace.extent_y), (26_312, 16_520));
    let down = trace.points.iter().filter(|p| p.touching).count();
    assert!(down > 50, "{down} pen-down points");
    assert!(trace.points.iter().all(|p| p.x <= 26_312 && p.y <= 16_520));
}

#[test]
fn sim_gps_gives_the_models_fix() {
    let mut dev = registry::open(&sel("sim:gps:1"), &OpenOptions::default()).unwrap();
    assert_eq!(dev.capability(), Capability::Location);
    assert_eq!(dev.info().driver, "nmea");
    let fix = dev.location().unwrap().fix(&control(10)).unwrap();
    assert!((fix.lat - -3.1).abs() < 1e-4, "{fix:?}");
    assert!((fix.lon - 121.11).abs() < 1e-4, "{fix:?}");
    assert_eq!(fix.accuracy_m, Some(6.0));
}

#[test]
fn asking_a_device_for_a_capability_it_lacks_names_the_right_selector() {
    let mut dev = registry::open(&sel("sim:gps"), &OpenOptions::default()).unwrap();
    let Err(e) = dev.scanner() else {
        panic!("a GPS receiver offered itself as a scanner")
    };
    let msg = e.to_string();
    assert!(
        msg.contains("is a GPS receiver (nmea), not a fingerprint scanner"),
        "{msg}"
    );
    assert!(msg.contains("sim:ef01"), "{msg}");
}

#[test]
fn unknown_names_are_errors_listing_the_known_ones() {
    let e = registry::open(&sel("sim:camera"), &OpenOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("sim:ef01, sim:isdv4, sim:gps"),
        "{e}"
    );
    let hint = OpenOptions {
        driver: Some("uareu".into()),
        ..Default::default()
    };
    let e = registry::open(&sel("sim:ef01"), &hint).unwrap_err();
    assert!(
        e.to_string().contains("ef01, isdv4 (w8001), nmea (gps)"),
        "{e}"
    );
    let wrong = OpenOptions {
        driver: Some("isdv4".into()),
        ..Default::default()
    };
    let e = registry::open(&sel("sim:ef01"), &wrong).unwrap_err();
    assert!(matches!(e, OpenError::SimDriverMismatch { .. }), "{e:?}");
    let e = registry::start_sim(
        "gps",
        &SimOptions {
            faults: vec!["checksum".into()],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the gps model has no fault `checksum`; it knows: bad-checksum, cold-start, garbage, silent"
    );
}

fn fast_model(name: &str) -> registry::SimModel {
    registry::start_sim(
        name,
        &SimOptions {
            fast: true,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn a_tty_opens_with_the_named_driver() {
    for (model, driver, cap) in [
        ("ef01", "ef01", Capability::Fingerprint),
        ("isdv4", "isdv4", Capability::Signature),
        ("gps", "gps", Capability::Location),
    ] {
        let sim = fast_model(model);
        let opts = OpenOptions {
            driver: Some(driver.into()),
            ..Default::default()
        };
        let dev = registry::open(&Selector::Tty(sim.path.clone()), &opts).unwrap();
        assert_eq!(dev.identified_by(), Identified::Hint);
        assert_eq!(dev.capability(), cap);
        assert!(dev.sim().is_none());
        assert_eq!(dev.path(), sim.path);
    }
}

#[test]
fn a_tty_without_a_driver_is_identified_by_the_probe() {
    for (model, driver) in [("ef01", "ef01"), ("isdv4", "isdv4"), ("gps", "nmea")] {
        let sim = fast_model(model);
        let mut dev =
            registry::open(&Selector::Tty(sim.path.clone()), &OpenOptions::default()).unwrap();
        assert_eq!(dev.identified_by(), Identified::Probe, "{model}");
        assert_eq!(dev.info().driver, driver);
        if model == "ef01" {
            let img = dev.scanner().unwrap().capture_finger(&control(10)).unwrap();
            assert_eq!((img.width, img.height), (256, 288));
        }
    }
}

#[test]
fn a_tty_where_nothing_answers_asks_for_the_driver() {
    let sim = registry::start_sim(
        "gps",
        &SimOptions {
            fast: true,
            faults: vec!["silent".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let begun = Instant::now();
    let e = registry::open(&Selector::Tty(sim.path.clone()), &OpenOptions::default()).unwrap_err();
    assert!(
        begun.elapsed() < Duration::from_secs(8),
        "{:?}",
        begun.elapsed()
    );
    let OpenError::NotIdentified { tried, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(tried, &["ef01", "isdv4", "nmea"]);
    let msg = e.to_string();
    assert!(msg.contains("name the driver with --driver"), "{msg}");
    assert!(msg.contains("nmea: no NMEA sentence"), "{msg}");
}

#[test]
fn a_module_that_answers_but_fails_stops_the_probe_with_its_error() {
    let sim = registry::start_sim(
        "ef01",
        &SimOptions {
            fast: true,
            faults: vec!["wrong-password".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let e = registry::open(&Selector::Tty(sim.path.clone()), &OpenOptions::default()).unwrap_err();
    assert!(
        matches!(e, OpenError::Driver { driver: "ef01", .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("rejected the password"), "{e}");
}

#[test]
fn a_missing_tty_says_so_and_how_to_reopen() {
    let e = registry::open(
        &sel("/dev/ttyUSB-jemput-missing"),
        &OpenOptions {
            driver: Some("ef01".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, OpenError::Gone { .. }), "{e:?}");
    assert!(e.to_string().contains("jemput devices"), "{e}");
}

#[test]
fn a_held_tty_is_busy() {
    let sim = fast_model("ef01");
    let _held = jemput_drivers::PortLink::open(&sim.path, 57_600).unwrap();
    let opts = OpenOptions {
        driver: Some("ef01".into()),
        ..Default::default()
    };
    let e = registry::open(&Selector::Tty(sim.path.clone()), &opts).unwrap_err();
    assert!(matches!(e, OpenError::Busy { .. }), "{e:?}");
    assert!(e.to_string().contains("close that program"), "{e}");
}

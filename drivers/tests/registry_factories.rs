//! The one list of driver factories: every driver (serial, USB, V4L2) is in it once, under a
//! name of its own; every device model starts through it — on a pty, over USB/IP or in memory —
//! and opens behind its real driver through `registry::open`; unknown names are errors that list
//! every known one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use jemput_drivers::discover::Access;
use jemput_drivers::registry::{
    self, Capability, Identified, OpenError, OpenOptions, SimOptions, Transport,
};
use jemput_drivers::v4l2::list::SysfsNode;
use jemput_drivers::v4l2::V4l2Node;
use jemput_drivers::{Camera, Capabilities, CaptureControl, FingerprintScanner, Selector};

#[test]
fn every_driver_is_listed_once_under_names_and_model_names_of_its_own() {
    let names: Vec<&str> = registry::factories().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["ef01", "isdv4", "nmea", "uru4000", "ptp", "v4l2"]);
    let mut seen = HashSet::new();
    for f in registry::factories() {
        for n in std::iter::once(f.name()).chain(f.aliases().iter().copied()) {
            assert!(seen.insert(n.to_ascii_lowercase()), "{n} names two drivers");
            assert_eq!(registry::factory(n).unwrap().name(), f.name());
        }
    }
    let models: Vec<&str> = registry::models().map(|m| m.model_name()).collect();
    assert_eq!(models, ["ef01", "isdv4", "gps", "uru4000", "ptp"]);
    let distinct: HashSet<_> = models.iter().collect();
    assert_eq!(distinct.len(), models.len(), "{models:?}");
    for m in &models {
        let f = registry::sim_factory(m).unwrap();
        assert_eq!(f.model().unwrap().model_name(), *m);
    }
    // Only serial drivers share ports, so only they are what `--driver` names.
    let hints: Vec<&str> = registry::port_drivers().map(|f| f.name()).collect();
    assert_eq!(hints, ["ef01", "isdv4", "nmea"]);
    assert!(registry::port_driver("ptp").is_none());
}

#[test]
fn every_model_opens_behind_its_real_driver_through_the_registry() {
    for f in registry::factories() {
        let Some(model) = f.model() else {
            assert_eq!(f.transport(), Transport::V4l2, "{} has no model", f.name());
            continue;
        };
        let selector: Selector = format!("sim:{}:1", model.model_name()).parse().unwrap();
        let dev = registry::open(&selector, &OpenOptions::default())
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        assert_eq!(dev.identified_by(), Identified::Sim, "{selector}");
        assert_eq!(dev.capability(), f.capability(), "{selector}");
        assert_eq!(dev.info().driver, f.name(), "{selector}");
        let sim = dev.sim().expect("the model lives with the device");
        assert_eq!((sim.model, sim.driver), (model.model_name(), f.name()));
        let wanted = OpenOptions {
            wanted: Some(f.capability()),
            ..OpenOptions::default()
        };
        assert!(registry::open(&selector, &wanted).is_ok(), "{selector}");
    }
}

#[test]
fn every_model_starts_through_the_registry_on_a_pty_over_usbip_or_in_memory() {
    for f in registry::factories() {
        let Some(model) = f.model() else { continue };
        let all_faults = SimOptions {
            fast: true,
            faults: model.faults().iter().map(|k| k.name.to_string()).collect(),
            usbip: Some("127.0.0.1:0".parse().unwrap()),
            ..SimOptions::default()
        };
        let sim = registry::start_sim(model.model_name(), &all_faults).unwrap();
        assert_eq!(sim.faults, all_faults.faults);
        match f.transport() {
            Transport::Serial { .. } => {
                assert_eq!(sim.transport(), "pty");
                assert!(sim.path.starts_with("/dev/pts"), "{}", sim.path.display());
                assert!(sim.usbip().is_none());
            }
            Transport::Usb => {
                assert_eq!(sim.transport(), "usbip");
                let server = sim.usbip().expect("a USB/IP server");
                assert_ne!(server.address().port(), 0);
                assert_eq!(server.busid(), "1-1");
                let here = registry::start_sim(model.model_name(), &SimOptions::default()).unwrap();
                assert_eq!(here.transport(), "memory");
                assert_eq!(
                    here.path,
                    PathBuf::from(format!("memory:{}", model.model_name()))
                );
            }
            other => unreachable!("no model on {other:?}"),
        }
        let melt = SimOptions {
            faults: vec!["melt".into()],
            ..SimOptions::default()
        };
        let err = registry::start_sim(model.model_name(), &melt).unwrap_err();
        let known: Vec<_> = model.faults().iter().map(|k| k.name).collect();
        assert_eq!(
            err.to_string(),
            format!(
                "the {} model has no fault `melt`; it knows: {}",
                model.model_name(),
                known.join(", ")
            )
        );
    }
}

#[test]
fn unknown_drivers_and_models_are_errors_listing_every_known_one() {
    let err = registry::open(&"sim:camera".parse().unwrap(), &OpenOptions::default()).unwrap_err();
    assert!(matches!(err, OpenError::UnknownModel { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "unknown device model `sim:camera`; use one of: sim:ef01, sim:isdv4, sim:gps, \
         sim:uru4000, sim:ptp"
    );
    assert_eq!(
        registry::start_sim("camera", &SimOptions::default())
            .unwrap_err()
            .to_string(),
        err.to_string()
    );
    assert!(
        registry::open(&"sim:v4l2".parse().unwrap(), &OpenOptions::default()).is_err(),
        "V4L2 has no model"
    );
    let hint = OpenOptions {
        driver: Some("uareu".into()),
        ..OpenOptions::default()
    };
    let err = registry::open(&"/dev/ttyUSB0".parse().unwrap(), &hint).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown driver `uareu`; use one of: ef01, isdv4 (w8001), nmea (gps)"
    );
}

#[test]
fn a_driver_hint_on_a_webcam_is_refused_naming_the_webcam_driver() {
    let hint = OpenOptions {
        driver: Some("ef01".into()),
        ..OpenOptions::default()
    };
    let err = registry::open(&"v4l2:/dev/video0".parse().unwrap(), &hint).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "unknown driver `ef01 (a V4L2 node is opened by the v4l2 driver: drop --driver)`"
        ),
        "{err}"
    );
}

#[test]
fn video_nodes_that_do_not_capture_are_left_out_and_unopenable_ones_kept_with_the_fix() {
    let node = SysfsNode {
        dev: "/dev/video1".into(),
        name: "HD Webcam".into(),
        driver: Some("uvcvideo".into()),
        usb_port: Some("1-2".into()),
    };
    let mut v = V4l2Node {
        name: node.name.clone(),
        driver: node.driver.clone(),
        card: None,
        bus_info: None,
        capture: Some(false),
        capabilities: Some("metadata capture, streaming".into()),
        formats: Vec::new(),
    };
    assert!(registry::video_found(&node, v.clone(), Access::Accessible).is_none());
    v.capture = None;
    let fix = "add the operator to the `video` group".to_string();
    let d = registry::video_found(&node, v, Access::PermissionDenied { fix: fix.clone() }).unwrap();
    assert_eq!(d.selector, "v4l2:/dev/video1");
    assert_eq!(d.drivers.len(), 1);
    assert_eq!(d.drivers[0].driver, "v4l2");
    assert_eq!(d.drivers[0].capability, Capability::Camera);
    assert_eq!(d.drivers[0].matched, "V4L2 video node (uvcvideo)");
    assert_eq!(d.usb_port.as_deref(), Some("1-2"));
    assert_eq!(d.access, Access::PermissionDenied { fix });
    assert!(Path::new(&d.path).ends_with("video1"));
}

fn control() -> CaptureControl {
    CaptureControl {
        timeout: std::time::Duration::from_secs(20),
        cancel: Default::default(),
    }
}

#[test]
fn a_model_made_by_the_caller_opens_through_the_registry_and_runs_as_long_as_its_device() {
    use jemput_drivers::ef01::ModelOptions;
    use jemput_drivers::ptp::PtpModelConfig;
    let scanner = registry::open_model(
        "ef01",
        ModelOptions {
            finger_after_polls: 0,
            ..ModelOptions::fast()
        }
        .into(),
        true,
        &OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(scanner.identified_by(), Identified::Sim);
    assert_eq!(scanner.capability(), Capability::Fingerprint);
    assert_eq!(scanner.sim().unwrap().transport(), "pty");
    // Kept as the capability it offers, the device still has its model behind it.
    let Capabilities::Fingerprint(mut s) = scanner.into_capabilities() else {
        panic!("not a scanner")
    };
    let img = s.capture_finger(&control()).unwrap();
    assert_eq!(img.pixels.len() as u32, img.width * img.height);

    // A camera model in this process, in front of the backdrop the caller chose.
    let camera = registry::open_model(
        "ptp",
        PtpModelConfig {
            background: [30, 70, 200],
            ..PtpModelConfig::default().fast()
        }
        .into(),
        true,
        &OpenOptions::default(),
    )
    .unwrap();
    assert_eq!(camera.sim().unwrap().transport(), "memory");
    let Capabilities::Camera(mut c) = camera.into_capabilities() else {
        panic!("not a camera")
    };
    let photo = c.capture_photo(&control()).unwrap();
    assert!(photo.jpeg.starts_with(&[0xFF, 0xD8]));

    let err = registry::open_model(
        "nope",
        ModelOptions::fast().into(),
        true,
        &OpenOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, OpenError::UnknownDriver { .. }), "{err}");
}

#[test]
fn a_callers_serial_model_waits_on_its_pty_for_a_driver_that_opens_it_late() {
    use jemput_drivers::isdv4::Isdv4ModelConfig;
    use jemput_drivers::nmea::NmeaModelConfig;
    use jemput_drivers::registry::SimModel;
    let models = [
        (
            "isdv4",
            SimModel::run(
                "isdv4",
                "isdv4",
                Isdv4ModelConfig::default().fast().into(),
                &SimOptions::default(),
            )
            .unwrap(),
        ),
        (
            "gps",
            SimModel::run(
                "gps",
                "nmea",
                NmeaModelConfig::default().fast().into(),
                &SimOptions::default(),
            )
            .unwrap(),
        ),
    ];
    // Nobody has the slave open yet: the model's reads of the master fail (EIO) meanwhile. It
    // must keep the pty (and so the slave's path) until a driver comes.
    std::thread::sleep(std::time::Duration::from_millis(300));
    for (name, m) in &models {
        assert!(m.path.exists(), "{name}: {} is gone", m.path.display());
        jemput_drivers::PortLink::open(&m.path, 19_200).unwrap();
    }
}

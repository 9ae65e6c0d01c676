//! Calibration as an optional capability, on devices opened through the registry: the drivers
//! that own a procedure run it on their device models (the pad's corner taps, the EF01 module's
//! settings and blank-sensor baseline, the PTP camera's properties), and a device without one
//! answers "not supported" through its trait, however it is wrapped.

use std::time::Duration;

use jemput_drivers::calibration::{CameraSettings, Prompt, WhiteBalance};
use jemput_drivers::ef01::ModelOptions;
use jemput_drivers::isdv4::{Handwriting, Isdv4ModelConfig, PadCalibration, SIGNING_AREA};
use jemput_drivers::registry::{self, Capability, OpenOptions, OpenedDevice};
use jemput_drivers::{
    Camera, Capabilities, CaptureControl, DeviceError, FingerprintScanner, PenPoint, PenTrace,
};

fn control() -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_secs(20),
        cancel: Default::default(),
    }
}

fn open(selector: &str) -> OpenedDevice {
    registry::open(&selector.parse().unwrap(), &OpenOptions::default()).unwrap()
}

/// Opens a model the test configured through the registry, as `wanted`.
fn model(driver: &str, device: registry::ModelDevice, wanted: Capability) -> OpenedDevice {
    let options = OpenOptions {
        wanted: Some(wanted),
        ..OpenOptions::default()
    };
    registry::open_model(driver, device, true, &options).unwrap()
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

#[test]
fn the_pad_asks_for_the_corner_taps_and_its_data_maps_traces_onto_the_signing_area() {
    let config = Isdv4ModelConfig {
        handwriting: Handwriting::CornerTaps,
        ..Isdv4ModelConfig::default()
    }
    .fast();
    let (max_x, max_y) = (u32::from(config.caps.max_x), u32::from(config.caps.max_y));
    let mut opened = model("isdv4", config.into(), Capability::Signature);
    let pad = opened.pad().unwrap();
    let mut asked = Vec::new();
    let done = pad.calibrate(&control(), &mut |p| asked.push(p)).unwrap();
    assert_eq!(asked, [Prompt::TapCorners]);

    // The data is the pad's calibration, under its own id, which the pad takes back.
    let cal: PadCalibration = serde_json::from_value(done.data.clone()).unwrap();
    assert_eq!(done.id.as_deref(), Some(cal.id.as_str()));
    assert!(cal.id.starts_with("isdv4-cal-"), "{}", cal.id);
    assert_eq!(cal.area, [SIGNING_AREA.0, SIGNING_AREA.1]);
    assert_eq!(cal.top_left, [max_x / 20, max_y / 20]);
    assert_eq!(pad.apply_calibration(&done.data).unwrap(), cal.id);

    // A trace from corner to corner maps onto the whole signing area.
    let point = |x, y| PenPoint {
        x,
        y,
        pressure: 500,
        t_ms: 0,
        touching: true,
    };
    let trace = PenTrace {
        extent_x: max_x,
        extent_y: max_y,
        max_pressure: 1023,
        points: vec![
            point(max_x / 20, max_y / 20),
            point(max_x - max_x / 20, max_y - max_y / 20),
        ],
    };
    let mapped = cal.apply(&trace);
    assert_eq!((mapped.extent_x, mapped.extent_y), SIGNING_AREA);
    assert_eq!((mapped.points[0].x, mapped.points[0].y), (0, 0));
    assert_eq!((mapped.points[1].x, mapped.points[1].y), SIGNING_AREA);
}

#[test]
fn no_tap_in_time_fails_with_the_pads_own_words() {
    let config = Isdv4ModelConfig {
        handwriting: Handwriting::CornerTaps,
        ..Isdv4ModelConfig::default()
    }
    .fast();
    let mut opened = model("isdv4", config.into(), Capability::Signature);
    let quick = CaptureControl {
        timeout: Duration::ZERO,
        cancel: Default::default(),
    };
    let e = opened
        .pad()
        .unwrap()
        .calibrate(&quick, &mut |_| {})
        .unwrap_err();
    assert!(matches!(e, DeviceError::Calibration(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "calibration rejected: no tap on the top-left corner within 0ns; tap the two corners \
         again, firmly and apart"
    );
}

/// The EF01 module model with nothing on its sensor, or a finger from the first poll.
fn ef01(finger_after_polls: u32) -> OpenedDevice {
    let options = ModelOptions {
        finger_after_polls,
        ..ModelOptions::fast()
    };
    model("ef01", options.into(), Capability::Fingerprint)
}

#[test]
fn the_ef01_module_gets_the_kits_settings_and_a_blank_baseline_without_asking() {
    let mut opened = ef01(u32::MAX);
    let done = opened
        .scanner()
        .unwrap()
        .calibrate(&control(), &mut no_prompt)
        .unwrap();
    let d = &done.data;
    assert_eq!(d["packet_size_bytes"], 128);
    assert_eq!(d["security_level"], 3);
    assert_eq!(d["baud"], 57_600);
    assert_eq!(d["blank_polls_without_finger"], 3);
    assert_eq!(
        d["changed"], false,
        "the model starts at the kit's settings"
    );
    assert_eq!(done.id, None, "the module names no calibration of its own");
}

#[test]
fn a_finger_on_the_ef01_sensor_spoils_the_baseline_in_the_modules_own_words() {
    let mut opened = ef01(0);
    let e = opened
        .scanner()
        .unwrap()
        .calibrate(&control(), &mut no_prompt)
        .unwrap_err();
    assert!(matches!(e, DeviceError::Calibration(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "the sensor reports a finger on blank poll 1: clean the sensor, keep fingers off, and \
         calibrate again"
    );
}

#[test]
fn the_camera_sets_what_is_asked_and_reads_every_property_back() {
    let mut camera = open("sim:ptp");
    let settings = CameraSettings {
        white_balance: Some(WhiteBalance::Daylight),
        exposure_bias: Some(-0.5),
        iso: Some(400),
    };
    let done = camera
        .camera()
        .unwrap()
        .calibrate(&settings, &control())
        .unwrap();
    let d = &done.calibration.data;
    // Read back from the camera after setting: it holds the new values.
    assert_eq!(d["properties"]["white_balance"]["current"], 4);
    assert_eq!(d["properties"]["exposure_bias_mev"]["current"], -500);
    assert_eq!(d["properties"]["iso"]["current"], 400);
    assert_eq!(d["set"]["white_balance"], 4);
    assert_eq!(d["set"]["iso"], 400);
    assert_eq!(done.calibration.id, None, "the camera names no calibration");

    let line = |name| {
        done.report
            .properties
            .iter()
            .find(|p| p.name == name)
            .unwrap()
    };
    assert_eq!(line("white_balance").current, "daylight (4)");
    assert!(line("white_balance").writable);
    assert_eq!(line("exposure_bias_mev").current, "-0.50 EV");
    assert_eq!(
        line("exposure_bias_mev").allowed,
        "-3.00 EV to +3.00 EV in steps of 0.50 EV"
    );
    assert_eq!(
        done.report.not_exposed,
        ["exposure_time_100us", "f_number_x100"]
    );
    assert_eq!(d["not_exposed"], serde_json::json!(done.report.not_exposed));
}

#[test]
fn a_value_the_camera_does_not_allow_is_refused_with_the_allowed_ones_and_nothing_is_set() {
    let Capabilities::Camera(mut camera) = open("sim:ptp").into_capabilities() else {
        panic!("not a camera")
    };
    let mut settings = CameraSettings {
        white_balance: Some(WhiteBalance::Tungsten),
        iso: Some(333),
        ..Default::default()
    };
    let e = camera.calibrate(&settings, &control()).unwrap_err();
    assert!(matches!(e, DeviceError::Calibration(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "the camera does not allow iso 333; it allows 100, 200, 400, 800, 1600"
    );

    settings.iso = None;
    settings.exposure_bias = Some(11.0);
    let e = camera.calibrate(&settings, &control()).unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    // Only the white balance asked for before the refused value was set.
    let read = camera
        .calibrate(&CameraSettings::default(), &control())
        .unwrap();
    assert_eq!(read.calibration.data["properties"]["iso"]["current"], 200);
    assert_eq!(read.calibration.data["set"], serde_json::json!({}));
}

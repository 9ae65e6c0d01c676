//! Calibration on the device models, opened through the registry and calibrated by the real
//! drivers.

use jemput_drivers::ef01::ModelOptions;
use jemput_drivers::registry::{self, OpenOptions};

use super::*;

fn request(selector: &str) -> CalibrateRequest {
    CalibrateRequest {
        selector: selector.parse().unwrap(),
        driver: None,
        baud: None,
        timeout: Duration::from_secs(20),
        camera: CameraSettings::default(),
    }
}

#[test]
fn the_pad_asks_for_the_corners_and_its_record_is_in_force() {
    let home = tempfile::tempdir().unwrap();
    let mut asked = Vec::new();
    let done = calibrate(home.path(), &request("sim:isdv4"), &mut |p| asked.push(p)).unwrap();
    assert_eq!(asked, [Prompt::TapCorners]);
    assert!(
        done.record.id.starts_with("isdv4-cal-"),
        "{}",
        done.record.id
    );
    assert_eq!(done.record.data["area"], serde_json::json!([600, 180]));
    assert!(done.camera.is_none());
    assert_eq!(
        calibration::current_id(home.path(), &done.record.device).unwrap(),
        Some(done.record.id.clone())
    );
    assert_eq!(
        done.file,
        home.path()
            .join(format!("calibrations/{}.json", done.record.id))
    );
}

#[test]
fn the_ef01_gets_the_kits_settings_and_a_blank_baseline_with_an_id_of_its_data() {
    let home = tempfile::tempdir().unwrap();
    let done = calibrate(home.path(), &request("sim:ef01"), &mut |_| {}).unwrap();
    let d = &done.record.data;
    assert_eq!(d["packet_size_bytes"], 128);
    assert_eq!(d["security_level"], 3);
    assert_eq!(d["blank_polls_without_finger"], 3);
    assert_eq!(done.record.id, calibration_id("ef01", d));
    assert!(done.file.is_file());
}

/// A device opened through the registry: a `sim:` selector, or a model the test configured.
fn opened(driver: &str, model: Option<registry::ModelDevice>) -> OpenedDevice {
    let options = OpenOptions::default();
    match model {
        Some(m) => registry::open_model(driver, m, true, &options).unwrap(),
        None => registry::open(&format!("sim:{driver}").parse().unwrap(), &options).unwrap(),
    }
}

fn control() -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_secs(20),
        cancel: Default::default(),
    }
}

#[test]
fn a_finger_on_the_sensor_spoils_the_baseline() {
    let home = tempfile::tempdir().unwrap();
    let finger = ModelOptions {
        finger_after_polls: 0,
        ..ModelOptions::fast()
    };
    let scanner = opened("ef01", Some(finger.into()));
    let settings = CameraSettings::default();
    let e = calibrate_opened(home.path(), scanner, &settings, &control(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, CalibrateError::Device(_)), "{e}");
    assert_eq!(
        e.to_string(),
        "the sensor reports a finger on blank poll 1: clean the sensor, keep fingers off, and \
         calibrate again"
    );
    assert!(!home.path().join("calibrations").exists());
}

#[test]
fn a_device_whose_driver_has_no_calibration_says_so_and_nothing_is_saved() {
    let home = tempfile::tempdir().unwrap();
    let settings = CameraSettings::default();
    for (driver, says) in [
        (
            "uru4000",
            "scanner calibration is not supported by this device",
        ),
        ("gps", "calibration is not supported by this device"),
    ] {
        let device = opened(driver, None);
        let e =
            calibrate_opened(home.path(), device, &settings, &control(), &mut |_| {}).unwrap_err();
        assert!(
            matches!(e, CalibrateError::Device(DeviceError::NotSupported(_))),
            "{e}"
        );
        assert_eq!(e.to_string(), says);
    }
    assert!(!home.path().join("calibrations").exists());
}

#[test]
fn the_camera_sets_what_is_asked_and_reports_every_property() {
    let home = tempfile::tempdir().unwrap();
    let mut r = request("sim:ptp");
    r.camera = CameraSettings {
        white_balance: Some(WhiteBalance::Daylight),
        exposure_bias: Some(-0.5),
        iso: Some(400),
    };
    let done = calibrate(home.path(), &r, &mut |_| panic!("a camera asks nothing")).unwrap();
    assert!(done.record.id.starts_with("ptp-cal-"));
    let report = done.camera.unwrap();
    let wb = report
        .properties
        .iter()
        .find(|p| p.name == "white_balance")
        .unwrap();
    assert_eq!(wb.current, "daylight (4)");
    assert!(wb.writable);
    assert_eq!(
        report
            .properties
            .iter()
            .find(|p| p.name == "exposure_bias_mev")
            .unwrap()
            .current,
        "-0.50 EV"
    );
    assert_eq!(report.not_exposed, ["exposure_time_100us", "f_number_x100"]);
    assert_eq!(done.record.data["set"]["iso"], 400);

    r.camera = CameraSettings {
        iso: Some(333),
        ..Default::default()
    };
    let e = calibrate(home.path(), &r, &mut |_| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the camera does not allow iso 333; it allows 100, 200, 400, 800, 1600"
    );
    r.camera = CameraSettings {
        exposure_bias: Some(11.0),
        ..Default::default()
    };
    let e = calibrate(home.path(), &r, &mut |_| {}).unwrap_err();
    assert!(matches!(e, CalibrateError::ExposureBiasRange), "{e}");
}

#[test]
fn selectors_the_procedures_cannot_take_say_what_would_do() {
    let home = tempfile::tempdir().unwrap();
    let e = calibrate(home.path(), &request("/dev/ttyUSB9"), &mut |_| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "name the driver of /dev/ttyUSB9: --driver ef01 or --driver isdv4"
    );
    let mut r = request("sim:ef01");
    r.camera.iso = Some(400);
    let e = calibrate(home.path(), &r, &mut |_| {}).unwrap_err();
    assert!(matches!(e, CalibrateError::CameraSettings(_)), "{e}");
    assert!(e.to_string().ends_with("is not a camera"), "{e}");
    let e = calibrate(home.path(), &request("sim:gps"), &mut |_| {}).unwrap_err();
    assert!(e.to_string().starts_with("cannot calibrate sim:gps"), "{e}");
    assert!(e.to_string().contains("use VID:PID"), "{e}");
    // Nothing was saved.
    assert!(!home.path().join("calibrations").exists());
}

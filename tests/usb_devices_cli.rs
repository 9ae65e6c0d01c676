//! USB devices at the command line, hardware-free: `sim:uru4000` (the U.are.U reader model) and
//! `sim:ptp` (the camera model) behind the real drivers on the in-memory USB transport, through
//! `jemput devices test` and `jemput capture finger`, and USB entries in `jemput devices --json`.

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    assert_success(out);
    stdout_json(out)
}

#[test]
fn devices_test_sim_uru4000_captures_an_8_bit_512_ppi_image_through_the_usb_driver() {
    let out = jemput()
        .args(["devices", "test", "sim:uru4000", "--json"])
        .output()
        .unwrap();
    let r = json_of(&out);
    assert_eq!(r["ok"], true);
    assert_eq!(r["simulated"], true);
    assert_eq!(r["identified_by"], "sim");
    assert_eq!(r["capability"], "fingerprint");
    assert_eq!(r["info"]["driver"], "uru4000");
    assert_eq!(r["info"]["model"], "DigitalPersona U.are.U 4000B / 4500");
    assert_eq!(r["capture"]["kind"], "finger");
    assert_eq!(
        (
            &r["capture"]["width"],
            &r["capture"]["height"],
            &r["capture"]["ppi"]
        ),
        (&Value::from(384), &Value::from(290), &Value::from(512))
    );
    assert!(
        r["capture"]["grey_levels"].as_u64().unwrap() > 16,
        "8-bit: {r}"
    );
}

#[test]
fn devices_test_sim_ptp_takes_a_photo() {
    jemput()
        .args(["devices", "test", "sim:ptp"])
        .assert()
        .success()
        .stdout(predicate::str::contains("identity   ptp"))
        .stdout(predicate::str::is_match(r"capture    photo 480 × 640 JPEG \(\d+ bytes\)").unwrap())
        .stdout(predicate::str::contains("result     ok"));
}

#[test]
fn capture_finger_from_the_reader_model_writes_a_384_by_290_png() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("f.png");
    let out = jemput()
        .args(["capture", "finger", "sim:uru4000:2", "--json", "--out"])
        .arg(&png)
        .output()
        .unwrap();
    let r = json_of(&out);
    assert_eq!(r["device"]["driver"], "uru4000");
    assert_eq!(r["device"]["serial"], "SIMURU0003");
    assert_eq!(r["ppi"], 512);
    let img = image::open(&png).expect("a PNG").into_luma8();
    assert_eq!(img.dimensions(), (384, 290));
}

#[test]
fn capture_finger_with_a_camera_says_it_is_not_a_scanner() {
    let dir = tempfile::tempdir().unwrap();
    jemput()
        .args(["capture", "finger", "sim:ptp", "--out"])
        .arg(dir.path().join("f.png"))
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is a camera (ptp), not a fingerprint scanner",
        ));
}

#[test]
fn devices_json_lists_usb_entries_with_a_driver_and_an_access_status() {
    let out = jemput().args(["devices", "--json"]).output().unwrap();
    let list = json_of(&out);
    for d in list.as_array().expect("an array") {
        let path = d["path"].as_str().unwrap();
        if !path.starts_with("/dev/bus/usb/") {
            continue;
        }
        // Only reader and camera entries come from the USB listing, each with its selector.
        let drivers: Vec<&str> = d["drivers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["driver"].as_str().unwrap())
            .collect();
        assert!(
            drivers.iter().all(|n| ["uru4000", "ptp"].contains(n)),
            "{d}"
        );
        assert!(d["selector"].as_str().unwrap().contains(':'), "{d}");
        assert!(d["access"]["status"].is_string(), "{d}");
    }
}

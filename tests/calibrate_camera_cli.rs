//! `jemput calibrate sim:ptp`: the camera's exposure and white balance properties read and set
//! through the real PTP driver (GetDevicePropDesc / SetDevicePropValue) on the camera model, the
//! record kept in the kit home, and clear refusals of values the camera does not allow.

mod common;

use common::*;
use predicates::prelude::*;

fn kit() -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let home = d.path().join("kit");
    jemput()
        .arg("--home")
        .arg(&home)
        .arg("init")
        .assert()
        .success();
    (d, home)
}

#[test]
fn calibrate_sim_ptp_sets_white_balance_and_exposure_and_records_them() {
    let (_d, home) = kit();
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args([
            "calibrate",
            "sim:ptp",
            "--white-balance",
            "daylight",
            "--exposure-bias",
            "-0.5",
            "--iso",
            "400",
            "--json",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let rec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = rec["id"].as_str().unwrap();
    assert!(id.starts_with("ptp-cal-"), "{id}");
    assert_eq!(rec["device"]["driver"], "ptp");
    let p = &rec["data"]["properties"];
    // Read back from the camera after setting: the camera holds the new values.
    assert_eq!(p["white_balance"]["current"], 4);
    assert_eq!(p["exposure_bias_mev"]["current"], -500);
    assert_eq!(p["iso"]["current"], 400);
    assert_eq!(p["white_balance"]["writable"], true);
    assert_eq!(rec["data"]["set"]["white_balance"], 4);
    assert!(rec["data"]["not_exposed"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("exposure_time_100us")));
    assert!(home
        .join("calibrations")
        .join(format!("{id}.json"))
        .is_file());
}

#[test]
fn calibrate_sim_ptp_in_plain_text_lists_each_property_with_what_it_allows() {
    let (_d, home) = kit();
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["calibrate", "sim:ptp"])
        .assert()
        .success()
        .stdout(predicate::str::contains("white_balance        auto (2)"))
        .stdout(predicate::str::contains(
            "allowed: auto (2), daylight (4), fluorescent (5), tungsten (6), flash (7)",
        ))
        .stdout(predicate::str::contains(
            "-3.00 EV to +3.00 EV in steps of 0.50 EV",
        ))
        .stdout(predicate::str::contains(
            "not exposed over PTP: exposure_time_100us, f_number_x100",
        ));
}

#[test]
fn a_value_the_camera_does_not_allow_is_refused_with_the_allowed_ones() {
    let (_d, home) = kit();
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["calibrate", "sim:ptp", "--iso", "333"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "the camera does not allow iso 333; it allows 100, 200, 400, 800, 1600",
        ));
    // Camera settings on a device that is no camera.
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["calibrate", "sim:ef01", "--iso", "400"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a camera"));
}

#[test]
fn a_calibrated_camera_says_its_face_photos_record_the_calibration() {
    let (_d, home) = kit();
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["calibrate", "sim:ptp", "--white-balance", "flash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("white_balance        flash (7)"))
        .stdout(predicate::str::contains(
            "the record is kept under this camera's identity: the face photos it takes record the \
             calibration's id",
        ));
}

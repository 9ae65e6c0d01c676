//! The technician's device commands, hardware-free: `sim:` selectors and `jemput sim` put device
//! models on ptys behind the real drivers. Each test checks what a technician sees: exit codes,
//! the JSON on stdout, the files written and the error messages.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use predicates::prelude::*;
use serde_json::Value;

/// Every member the committed schema requires is present in `value`.
fn has_schema_members(schema_file: &str, value: &Value) {
    let schema = jemput::schemas::all()
        .into_iter()
        .find(|(n, _)| *n == schema_file)
        .unwrap_or_else(|| panic!("no schema {schema_file}"))
        .1;
    let schema = serde_json::to_value(&schema).unwrap();
    for key in schema["required"].as_array().unwrap() {
        let key = key.as_str().unwrap();
        assert!(value.get(key).is_some(), "{key} missing from {value}");
    }
}

fn grey_png(path: &Path) -> image::GrayImage {
    let img = image::open(path).unwrap();
    assert_eq!(img.color(), image::ColorType::L8, "{}", path.display());
    img.into_luma8()
}

#[test]
fn devices_lists_json_with_drivers_and_access_for_every_port() {
    let out = jemput().args(["devices", "--json"]).output().unwrap();
    assert!(out.status.success());
    let list = stdout_json(&out);
    // This machine may have no devices at all: the members are checked on a recorded U.are.U
    // reader listed under umockdev-run, which is never an empty list.
    let Some(recorded) = devices_under_umockdev("uru4000-finger.umockdev") else {
        return;
    };
    assert_eq!(recorded[0]["drivers"][0]["driver"], "uru4000", "{recorded}");
    assert_eq!(recorded[0]["selector"], "usb:1-2", "{recorded}");
    for port in list
        .as_array()
        .expect("an array")
        .iter()
        .chain(recorded.as_array().unwrap())
    {
        for key in ["path", "drivers", "access", "selector"] {
            assert!(port.get(key).is_some(), "{key} missing from {port}");
        }
        assert!(port["access"]["status"].is_string(), "{port}");
    }
    let all = stdout_json(
        &jemput()
            .args(["devices", "--all", "--json"])
            .output()
            .unwrap(),
    );
    assert!(all.as_array().unwrap().len() >= list.as_array().unwrap().len());
}

#[test]
fn devices_test_sim_ef01_reports_identity_capture_and_timings() {
    let out = jemput()
        .args(["devices", "test", "sim:ef01", "--json"])
        .output()
        .unwrap();
    assert_success(&out);
    let r = stdout_json(&out);
    has_schema_members("devices-test.schema.json", &r);
    assert_eq!(r["ok"], true);
    assert_eq!(r["simulated"], true);
    assert_eq!(r["identified_by"], "sim");
    assert_eq!(r["capability"], "fingerprint");
    assert_eq!(r["info"]["driver"], "ef01");
    assert_eq!(r["info"]["model"], "R30x");
    assert_eq!(r["capture"]["kind"], "finger");
    assert_eq!(r["capture"]["width"], 256);
    assert_eq!(r["capture"]["height"], 288);
    assert_eq!(r["capture"]["ppi"], 500);
    // The module uploads 4 bits per pixel.
    assert!(r["capture"]["grey_levels"].as_u64().unwrap() <= 16, "{r}");
    assert!(r["capture_ms"].is_u64() && r["open_ms"].is_u64());
}

#[test]
fn devices_test_covers_the_pad_and_the_gps_in_plain_text() {
    jemput()
        .args(["devices", "test", "sim:isdv4"])
        .assert()
        .success()
        .stdout(predicate::str::contains("identity   isdv4 Wacom ISDV4"))
        .stdout(predicate::str::is_match(r"capture    signature of \d+ points").unwrap())
        .stdout(predicate::str::contains("result     ok"));
    jemput()
        .args(["devices", "test", "sim:gps"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "capture    fix -3.100000, 121.100000 ±6 m",
        ));
}

#[test]
fn devices_test_of_a_failing_capture_exits_1_with_the_reason_in_json() {
    // A GPS with no fix for 10 epochs (200 ms at fast pacing), given only 100 ms.
    let sim = Sim::start(1, &["gps", "--fast", "--fault", "cold-start", "--json"]);
    assert_eq!(sim.lines[0]["faults"], serde_json::json!(["cold-start"]));
    let out = jemput()
        .args(["devices", "test"])
        .arg(sim.path(0))
        .args(["--driver", "gps", "--timeout", "0.1", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = stdout_json(&out);
    assert_eq!(r["ok"], false);
    assert_eq!(r["identified_by"], "hint");
    assert_eq!(r["capture"], Value::Null);
    let err = r["error"].as_str().unwrap();
    assert!(err.contains("GPS fix") && err.contains("open sky"), "{err}");
}

#[test]
fn capture_finger_writes_the_models_image_as_8_bit_grey_png() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("finger.png");
    let out = jemput()
        .args([
            "capture",
            "finger",
            "sim:ef01",
            "--position",
            "7",
            "--json",
            "--out",
        ])
        .arg(&png)
        .output()
        .unwrap();
    assert_success(&out);
    let r = stdout_json(&out);
    has_schema_members("capture-finger.schema.json", &r);
    assert_eq!(r["position"], 7);
    assert_eq!(r["position_name"], "left index");
    let img = grey_png(&png);
    assert_eq!(img.dimensions(), (256, 288));
    let want = jemput_drivers::ef01::model::uploaded_image(
        jemput_drivers::ef01::ids::default_module(),
        1,
        jemput_drivers::FingerPosition::new(2).unwrap(),
        0.8,
    );
    assert!(
        img.as_raw() == &want.pixels,
        "the PNG is not the model's image"
    );
}

#[test]
fn capture_signature_writes_the_strokes_and_the_pen_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (png, trace) = (dir.path().join("sig.png"), dir.path().join("sig.json"));
    let out = jemput()
        .args(["capture", "signature", "sim:isdv4", "--json", "--out"])
        .arg(&png)
        .arg("--trace")
        .arg(&trace)
        .output()
        .unwrap();
    assert_success(&out);
    let r = stdout_json(&out);
    has_schema_members("capture-signature.schema.json", &r);
    let t: jemput_drivers::PenTrace =
        serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
    assert_eq!(r["points"], t.points.len());
    assert!(r["strokes"].as_u64().unwrap() >= 1);
    assert_eq!((t.extent_x, t.extent_y), (26_312, 16_520));
    assert!(t.points.iter().filter(|p| p.touching).count() > 50);
    let img = grey_png(&png);
    assert_eq!(img.width(), 1200);
    let ink = img.pixels().filter(|p| p.0[0] < 128).count();
    assert!(ink > 1_000, "only {ink} inked pixels");
}

#[test]
fn capture_refuses_a_device_without_the_capability() {
    let dir = tempfile::tempdir().unwrap();
    jemput()
        .args(["capture", "finger", "sim:gps", "--out"])
        .arg(dir.path().join("x.png"))
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "is a GPS receiver (nmea), not a fingerprint scanner",
        ))
        .stderr(predicate::str::contains("sim:ef01"));
    assert!(!dir.path().join("x.png").exists());
}

#[test]
fn selectors_that_match_nothing_say_what_was_looked_for() {
    jemput()
        .args(["devices", "test", "1a86:7523:NO-SUCH-SERIAL"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no device matches 1a86:7523:NO-SUCH-SERIAL",
        ))
        .stderr(predicate::str::contains("run `jemput devices`"));
    jemput()
        .args(["devices", "test", "usb:9-9.9"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("USB port 9-9.9"));
    jemput()
        .args(["devices", "test", "ef01"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a device selector"));
    jemput()
        .args(["devices", "test", "sim:ef01", "--driver", "camera"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "[possible values: ef01, isdv4, w8001, nmea, gps]",
        ));
}

#[test]
fn sim_prints_a_json_line_per_model_and_the_ttys_work_as_devices() {
    let sim = Sim::start(1, &["ef01", "--fast", "--json"]);
    let line = &sim.lines[0];
    has_schema_members("sim.schema.json", line);
    assert_eq!(line["model"], "ef01");
    assert_eq!(line["driver"], "ef01");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    jemput()
        .args(["capture", "finger"])
        .arg(sim.path(0))
        .args(["--driver", "ef01", "--out"])
        .arg(&png)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "256 × 288 at 500 ppi from ef01 R30x",
        ));
    assert_eq!(grey_png(&png).dimensions(), (256, 288));
    // The model survives the first host and serves the next (without a driver hint: probed).
    let out = jemput()
        .args(["devices", "test", "--json"])
        .arg(sim.path(0))
        .output()
        .unwrap();
    let r = stdout_json(&out);
    assert_eq!(r["identified_by"], "probe");
    assert_eq!(r["ok"], true);
}

#[test]
fn sim_runs_several_models_and_stops_cleanly_on_sigterm() {
    let sim = Sim::start(4, &["ef01", "isdv4", "gps", "gps", "--fast", "--json"]);
    let models: Vec<_> = sim.lines.iter().map(|l| l["model"].clone()).collect();
    assert_eq!(models, ["ef01", "isdv4", "gps", "gps"]);
    let paths: std::collections::HashSet<_> = (0..4).map(|i| sim.path(i)).collect();
    assert_eq!(paths.len(), 4, "each model has its own pty");
    // The two GPS receivers are two places.
    let fix = |p: PathBuf| {
        let out = jemput()
            .args(["devices", "test", "--driver", "gps", "--json"])
            .arg(p)
            .output()
            .unwrap();
        stdout_json(&out)["capture"]["fix"]["lon"].as_f64().unwrap()
    };
    assert!((fix(sim.path(3)) - fix(sim.path(2)) - 0.01).abs() < 1e-6);

    let pty = sim.path(0);
    assert!(sim.stop(), "stopped by SIGTERM, not killed");
    assert!(!pty.exists(), "the ptys are gone");
}

#[test]
fn sim_faults_reach_the_model_and_unknown_ones_are_listed() {
    let sim = Sim::start(
        1,
        &["ef01", "--fast", "--fault", "ef01:wrong-password", "--json"],
    );
    jemput()
        .args(["devices", "test", "--driver", "ef01"])
        .arg(sim.path(0))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("rejected the password"));
    jemput()
        .args(["sim", "gps", "--fault", "checksum"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no model given knows the fault `checksum`",
        ))
        .stderr(predicate::str::contains("gps: bad-checksum"));
}

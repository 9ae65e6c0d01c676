//! `jemput capture face`: the face photo through the real PTP driver from the camera model over
//! the in-memory USB transport (`sim:ptp`), and the errors a technician sees for a wrong selector.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn capture_face_from_the_camera_model_writes_the_cameras_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("face.jpg");
    let out = jemput()
        .args(["capture", "face", "sim:ptp:3", "--json", "--out"])
        .arg(&jpg)
        .output()
        .unwrap();
    assert_success(&out);
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let bytes = std::fs::read(&jpg).unwrap();
    assert_eq!(r["bytes"], bytes.len());
    assert_eq!(r["device"]["driver"], "ptp");
    assert_eq!(r["selector"], "sim:ptp:3");
    assert_eq!(
        (r["width"].as_u64(), r["height"].as_u64()),
        (Some(480), Some(640))
    );
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .expect("the file is a JPEG");
    assert_eq!((img.width(), img.height()), (480, 640));
    let schema = jemput::schemas::all()
        .into_iter()
        .find(|(n, _)| *n == "capture-face.schema.json")
        .expect("capture-face schema")
        .1;
    let schema = serde_json::to_value(&schema).unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(r.get(key.as_str().unwrap()).is_some(), "{key} missing");
    }
}

#[test]
fn capture_face_from_a_tty_says_what_a_camera_selector_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = jemput()
        .args(["capture", "face", "sim:ef01", "--out"])
        .arg(dir.path().join("x.jpg"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sim:ptp"), "{err}");
    assert!(
        !dir.path().join("x.jpg").exists(),
        "nothing is written on failure"
    );
}

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

// ---- V4L2 webcams (v4l2: selectors); a real node is exercised in the VM tier against vivid ----

#[test]
fn a_webcam_node_that_is_missing_or_not_v4l2_is_a_clear_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let jpg = dir.path().join("x.jpg");
    for (selector, says) in [
        ("v4l2:/dev/video-jemput-none", "plug the webcam in"),
        ("/dev/video987654", "does not exist"),
        ("v4l2:/dev/null", "not a V4L2 device"),
    ] {
        let out = jemput()
            .args(["capture", "face", selector, "--out"])
            .arg(&jpg)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{selector}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{selector}: {err}");
        assert!(!jpg.exists(), "nothing is written on failure");
    }
    let out = jemput()
        .args(["devices", "test", "v4l2:/dev/null", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a V4L2 device"), "{err}");
}

#[test]
fn preview_frames_are_refused_for_a_ptp_camera_and_a_bad_max_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = jemput()
        .args([
            "capture",
            "face",
            "sim:ptp",
            "--preview-frames",
            "3",
            "--out",
        ])
        .arg(dir.path().join("x.jpg"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--preview-frames is for webcams"), "{err}");
    let out = jemput()
        .args([
            "capture",
            "face",
            "v4l2:/dev/video0",
            "--max-size",
            "640",
            "--out",
        ])
        .arg(dir.path().join("x.jpg"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WIDTHxHEIGHT"), "{err}");
}

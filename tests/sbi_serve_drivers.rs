//! `jemput sbi serve --device …`: jemput's own drivers behind its SBI device service, through the
//! binary over real HTTP on loopback. The EF01 and U.are.U device models (`sim:ef01`,
//! `sim:uru4000`, both opened in-process: the U.are.U model on the in-memory USB transport, no USB
//! stack needed) are served as single-finger scanners and the PTP camera model (`sim:ptp`) as a
//! face camera; jemput's SBI client (`sbi devices`, `sbi capture`) discovers them, takes one
//! finger from each scanner and the face, checks every answer against the CA (and refuses another
//! CA), and the ISO records hold the device models' images. MOSIP's compliance-toolkit schemas
//! (Python `jsonschema`) and PyJWT check the same answers independently, and an EF01 module
//! unplugged mid-capture gives an SBI error (valid under the toolkit's error schema), not a hang.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::SbiService;
use serde_json::Value;

/// `jemput sbi capture sbi:PORT/ID/0 --ca CA --json --out-dir DIR ARGS` against `svc`.
fn capture(svc: &SbiService, id: u8, ca: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    common::jemput()
        .args(["sbi", "capture", &format!("sbi:{}/{id}/0", svc.port)])
        .arg("--ca")
        .arg(ca)
        .args(["--json", "--out-dir"])
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

/// The one finger of a capture: its JSON entry and its ISO/IEC 19794-4 record, read back.
fn one_finger(out: &std::process::Output) -> (Value, jemput_core::iso19794::FingerRecord) {
    assert!(out.status.success(), "{out:?}");
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    let record = std::fs::read(got[0]["record"].as_str().unwrap()).unwrap();
    let rec = jemput_core::iso19794::read_finger_record(&record).unwrap();
    (got[0].clone(), rec)
}

#[test]
fn ef01_uru4000_and_ptp_models_are_served_as_single_finger_scanners_and_a_face_camera() {
    let svc = SbiService::start(&[
        "--device",
        "sim:ef01",
        "--device",
        "sim:ptp",
        "--device",
        "sim:uru4000",
    ]);
    let out = common::jemput()
        .env("JEMPUT_SBI_PORTS", svc.ports())
        .args(["sbi", "devices", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let p = svc.port;
    let rows: Vec<(String, String, String)> = list
        .iter()
        .map(|d| {
            (
                d["selector"].as_str().unwrap().to_string(),
                d["bio_type"].as_str().unwrap().to_string(),
                d["device_sub_type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let row = |s: String, t: &str, u: &str| (s, t.to_string(), u.to_string());
    assert_eq!(
        rows,
        [
            row(format!("sbi:{p}/1/0"), "Finger", "Single"),
            row(format!("sbi:{p}/2/0"), "Face", "Full face"),
            row(format!("sbi:{p}/3/0"), "Finger", "Single"),
        ]
    );
    assert!(list.iter().all(|d| d["certification"] == "L0"), "{list:?}");
    assert_eq!(list[0]["make"], "ef01");
    assert_eq!(list[2]["make"], "uru4000");

    let dir = tempfile::tempdir().unwrap();
    // EF01 (the model plays an R30x: 256 × 288 at 500 ppi), asked for the right index finger.
    let ef01 = jemput_drivers::ef01::ids::module("R30x").unwrap();
    let out = capture(
        &svc,
        1,
        &svc.ca_cert,
        &dir.path().join("ef01"),
        &["--finger", "Right IndexFinger"],
    );
    let (got, rec) = one_finger(&out);
    assert_eq!(got["bio_sub_type"], "Right IndexFinger");
    let img = &rec.images[0];
    assert_eq!(img.position.code(), 2, "the ISO record names finger 2");
    assert_eq!(
        (u32::from(img.width), u32::from(img.height)),
        (ef01.width, ef01.height)
    );
    assert_eq!(img.ppi(), ef01.ppi);
    // JPEG 2000 lossless by default (MOSIP's registration format): the client's PNG holds the
    // record's pixels, and the device's quality (jemput's own score of the scanner's image) is
    // the client's score of those same pixels.
    assert_eq!(
        img.format,
        jemput_core::iso19794::ImageFormat::Jpeg2000Lossless
    );
    let device = got["device_quality"].as_f64().unwrap();
    let jemput = got["jemput_quality"].as_f64().unwrap();
    assert!(device > 0.0 && device <= 100.0, "{got}");
    assert_eq!(device, jemput, "{got}");
    assert_eq!(f64::from(img.quality[0].score), device, "{got}");
    let png = image::open(got["image"].as_str().unwrap()).unwrap();
    assert_eq!((png.width(), png.height()), (ef01.width, ef01.height));
    assert_eq!(img.grey_pixels().unwrap(), png.to_luma8());

    // U.are.U 4000 (384 × 290 at 512 ppi), asked for no particular finger: "UNKNOWN", ISO code 0.
    let out = capture(&svc, 3, &svc.ca_cert, &dir.path().join("uru"), &[]);
    let (got, rec) = one_finger(&out);
    assert_eq!(got["bio_sub_type"], "UNKNOWN");
    let img = &rec.images[0];
    assert_eq!(img.position.code(), 0);
    use jemput_drivers::uru4000::protocol::{IMAGE_HEIGHT, IMAGE_PPI, IMAGE_WIDTH};
    assert_eq!(
        (usize::from(img.width), usize::from(img.height)),
        (IMAGE_WIDTH, IMAGE_HEIGHT)
    );
    assert_eq!(img.ppi(), IMAGE_PPI);

    // The PTP camera model's photo in an ISO/IEC 19794-5 record: its pixels in JPEG 2000 lossless,
    // written by `sbi capture` as a PNG.
    let out = capture(&svc, 2, &svc.ca_cert, &dir.path().join("face"), &[]);
    assert!(out.status.success(), "{out:?}");
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["bio_sub_type"], "Face");
    let record = std::fs::read(got[0]["record"].as_str().unwrap()).unwrap();
    let rec = jemput_core::iso19794::read_face_record(&record).unwrap();
    let face = &rec.images[0];
    use jemput_drivers::synth::{FACE_HEIGHT, FACE_WIDTH};
    assert_eq!(
        (u32::from(face.width), u32::from(face.height)),
        (FACE_WIDTH, FACE_HEIGHT)
    );
    assert_eq!(
        (face.format, face.colour_space),
        (jemput_core::iso19794::ImageFormat::Jpeg2000Lossless, 1)
    );
    let png = image::open(got[0]["image"].as_str().unwrap()).unwrap();
    assert_eq!(face.rgb_pixels().unwrap(), png.to_rgb8());
    let q = got[0]["device_quality"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&q), "{got:?}");

    // A finger asked of the camera, or --finger of a camera, is refused before anything is sent.
    let out = capture(
        &svc,
        2,
        &svc.ca_cert,
        &dir.path().join("x"),
        &["--finger", "Right Thumb"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--finger is for a single-finger scanner"),
        "{err}"
    );
}

#[test]
fn answers_signed_under_another_ca_are_refused_and_nothing_is_written() {
    let svc = SbiService::start(&["--device", "sim:ef01"]);
    let dir = tempfile::tempdir().unwrap();
    common::jemput()
        .args(["sbi", "keygen", "--dir"])
        .arg(dir.path().join("other"))
        .assert()
        .success();
    let out_dir = dir.path().join("out");
    let out = capture(&svc, 1, &dir.path().join("other/ca.pem"), &out_dir, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not trusted"), "{err}");
    assert!(!out_dir.exists(), "files written for a refused capture");
}

/// `--keys DIR` from `jemput sbi keygen`: the answers are signed under that CA, with the provider
/// it names; no throw-away CA is made.
#[test]
fn keys_from_sbi_keygen_sign_the_driver_devices_answers() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    common::jemput()
        .args(["sbi", "keygen", "--provider", "Dukcapil Uji", "--dir"])
        .arg(&keys)
        .assert()
        .success();
    let svc = SbiService::start(&["--device", "sim:ef01", "--keys", keys.to_str().unwrap()]);
    assert_eq!(svc.ca_cert, keys.join("ca.pem"));
    let out = capture(&svc, 1, &keys.join("ca.pem"), &dir.path().join("out"), &[]);
    let (got, _) = one_finger(&out);
    assert_eq!(got["bio_sub_type"], "UNKNOWN");
}

#[test]
fn serve_without_devices_or_with_a_signature_pad_says_what_it_takes() {
    let out = common::jemput().args(["sbi", "serve"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--device") && err.contains("--sim"), "{err}");

    let out = common::jemput()
        .args(["sbi", "serve", "--port", "0", "--device", "sim:isdv4"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("signature pad") && err.contains("fingerprint scanners and cameras only"),
        "{err}"
    );
}

/// `--finger-image wsq --face-image jpeg`: the smaller, lossy images jemput served before JPEG
/// 2000 lossless became the default, for a driver's scanner and camera and for the simulated ones.
#[test]
fn wsq_fingers_and_the_cameras_jpeg_on_request() {
    let svc = SbiService::start(&[
        "--sim",
        "--device",
        "sim:ef01",
        "--device",
        "sim:ptp",
        "--finger-image",
        "wsq",
        "--face-image",
        "jpeg",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = capture(&svc, 3, &svc.ca_cert, &dir.path().join("ef01"), &[]);
    let (_, rec) = one_finger(&out);
    assert_eq!(
        rec.images[0].format,
        jemput_core::iso19794::ImageFormat::Wsq
    );
    assert!(jemput_wsq::decode(&rec.images[0].image).is_ok());
    for (id, what) in [(4, "camera model"), (2, "simulated camera")] {
        let out = capture(&svc, id, &svc.ca_cert, &dir.path().join(what), &[]);
        assert!(out.status.success(), "{out:?}");
        let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let record = std::fs::read(got[0]["record"].as_str().unwrap()).unwrap();
        let face = &jemput_core::iso19794::read_face_record(&record)
            .unwrap()
            .images[0];
        assert_eq!(
            face.format,
            jemput_core::iso19794::ImageFormat::Jpeg,
            "{what}"
        );
        // `sbi capture` writes the record's own JPEG beside it.
        assert_eq!(
            std::fs::read(got[0]["image"].as_str().unwrap()).unwrap(),
            face.image
        );
    }
    let out = common::jemput()
        .args(["sbi", "capture", &format!("sbi:{}/1/1", svc.port), "--ca"])
        .arg(&svc.ca_cert)
        .args(["--json", "--out-dir"])
        .arg(dir.path().join("slap"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    for f in &got {
        let record = std::fs::read(f["record"].as_str().unwrap()).unwrap();
        let rec = jemput_core::iso19794::read_finger_record(&record).unwrap();
        assert_eq!(
            rec.images[0].format,
            jemput_core::iso19794::ImageFormat::Wsq,
            "{f}"
        );
    }

    let out = common::jemput()
        .args(["sbi", "serve", "--sim", "--finger-image", "jpeg"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jpeg2000-lossless or wsq"), "{err}");
}

/// The simulated slap scanner and camera of --sim and a driver's device, in one service.
#[test]
fn sim_and_device_combine_in_one_service() {
    let svc = SbiService::start(&["--sim", "--device", "sim:ef01"]);
    let out = common::jemput()
        .env("JEMPUT_SBI_PORTS", svc.ports())
        .args(["sbi", "devices", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let p = svc.port;
    let selectors: Vec<&str> = list
        .iter()
        .map(|d| d["selector"].as_str().unwrap())
        .collect();
    assert_eq!(
        selectors,
        [
            format!("sbi:{p}/1/1"),
            format!("sbi:{p}/1/2"),
            format!("sbi:{p}/1/3"),
            format!("sbi:{p}/2/0"),
            format!("sbi:{p}/3/0"),
        ]
    );
    assert_eq!(list[4]["device_sub_type"], "Single");
}

const INSTALL: &str = "pip install jsonschema pyjwt cryptography (scripts/install-test-peers)";

/// MOSIPDISC, MOSIPDINFO and the RCAPTURE of a single finger and of a face from the
/// driver-backed devices pass MOSIP's compliance-toolkit schemas, every JWS verifies with PyJWT
/// against the CA and the hash chain recomputes in Python (`sbi-service/tests/peers/sbi_check.py`).
#[test]
fn driver_devices_pass_mosips_schemas_pyjwt_and_a_python_chain() {
    if !jemput_testkit::python_modules(&["jsonschema", "jwt", "cryptography"], INSTALL) {
        return;
    }
    let svc = SbiService::start(&["--device", "sim:ef01", "--device", "sim:ptp"]);
    let ask = |bio_type: &str, id: &str, fingers: &[&str]| jemput_sbi::client::CaptureAsk {
        port: svc.port,
        device_id: id.into(),
        bio_type: bio_type.into(),
        sub_id: 0,
        fingers: fingers.iter().map(|s| s.to_string()).collect(),
        exceptions: vec![],
        requested_score: 40,
        timeout: Duration::from_secs(10),
    };
    let tx = jemput_sbi::client::new_transaction_id();
    let requests: Vec<_> = [
        ask("Finger", "1", &["Left Thumb"]),
        ask("Finger", "1", &["UNKNOWN"]),
        ask("Face", "2", &[]),
    ]
    .iter()
    .map(|a| a.request(&tx, ""))
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let req_file = dir.path().join("requests.json");
    std::fs::write(&req_file, serde_json::to_vec(&requests).unwrap()).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("sbi-service/tests/peers/sbi_check.py"))
        .arg(svc.port.to_string())
        .arg(&svc.ca_cert)
        .arg(root.join("tests/fixtures/mosip-sbi"))
        .arg(&req_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two devices discovered and described, two fingers and a face captured, each checked.
    assert_eq!(stdout.matches("ok DiscoverResponseSchema").count(), 2);
    assert_eq!(stdout.matches("ok DeviceInfoResponseSchema").count(), 2);
    assert_eq!(stdout.matches("ok jws data").count(), 3, "{stdout}");
    assert!(stdout.contains("ok chain Left Thumb"), "{stdout}");
    assert!(stdout.contains("ok chain UNKNOWN"), "{stdout}");
    assert!(stdout.contains("3 biometrics checked"), "{stdout}");
}

/// An EF01 module (the device model, on a pty of `jemput sim`) unplugged during the image
/// transfer: the capture is answered with SBI error 110 and the driver's reason, and the next
/// capture, with the module gone, is answered within its timeout, never a hang.
#[test]
fn a_scanner_unplugged_mid_capture_gives_an_sbi_error_not_a_hang() {
    let sim = common::Sim::start(1, &["ef01", "--fast", "--fault", "unplug", "--json"]);
    let pty = sim.path(0);
    let svc = SbiService::start(&["--device", pty.to_str().unwrap(), "--driver", "ef01"]);
    let dir = tempfile::tempdir().unwrap();
    let begun = Instant::now();
    let out = capture(
        &svc,
        1,
        &svc.ca_cert,
        &dir.path().join("a"),
        &["--timeout", "5"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("110") && err.contains("disconnected"),
        "the device's error code and reason: {err}"
    );
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "{:?}",
        begun.elapsed()
    );

    // With the module gone the service looks for it again until the capture's timeout: the pty
    // of the unplugged model either is gone (110, not ready) or, while its node lingers, reads as
    // held by another program to the serial transport (111, busy).
    let begun = Instant::now();
    let out = capture(
        &svc,
        1,
        &svc.ca_cert,
        &dir.path().join("b"),
        &["--timeout", "2"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error 110") || err.contains("error 111"),
        "{err}"
    );
    assert!(
        begun.elapsed() < Duration::from_secs(10),
        "answered after {:?}",
        begun.elapsed()
    );
    assert!(!dir.path().join("a").exists() && !dir.path().join("b").exists());

    // The error answer itself, sent and validated by Python against the compliance toolkit's
    // ErrorCaptureResponseSchema.
    if !jemput_testkit::python_modules(&["jsonschema"], INSTALL) {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let py = r#"
import http.client, json, sys, jsonschema
port, schema = int(sys.argv[1]), json.load(open(sys.argv[2]))
req = {"env": "Developer", "purpose": "Registration", "specVersion": "0.9.5", "timeout": "1000",
       "captureTime": "2026-01-01T00:00:00Z", "transactionId": "tx-unplugged",
       "bio": [{"type": "Finger", "count": "1", "bioSubType": ["UNKNOWN"], "exception": [],
                "requestedScore": "40", "deviceId": "1", "deviceSubId": "0",
                "previousHash": ""}]}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request("RCAPTURE", "/capture", body=json.dumps(req))
answer = json.loads(c.getresponse().read())
jsonschema.validators.validator_for(schema)(schema).validate(answer)
print(json.dumps(answer["biometrics"][0]["error"]))
"#;
    let out = Command::new("python3")
        .args(["-c", py])
        .arg(svc.port.to_string())
        .arg(root.join("tests/fixtures/mosip-sbi/ErrorCaptureResponseSchema.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        error["errorCode"] == "110" || error["errorCode"] == "111",
        "{error}"
    );
}

/// `jemput devices test sbi:PORT/ID/0` tells a single-finger scanner from a camera by discovery
/// and takes one finger (checked against the kit's trust store); `capture finger` of it takes one
/// finger to `--out`, and says so when given a slap's `--out-dir`.
#[test]
fn devices_test_takes_one_finger_from_a_single_finger_sbi_scanner() {
    let svc = SbiService::start(&["--device", "sim:uru4000"]);
    let home = tempfile::tempdir().unwrap();
    common::kit_trusting(home.path(), &svc.ca_cert);
    let sel = format!("sbi:{}/1/0", svc.port);
    let report = common::json(common::run(
        home.path(),
        &["devices", "test", &sel, "--json"],
    ));
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["capability"], "fingerprint", "{report}");
    let text = report["capture"].to_string();
    assert!(text.contains("UNKNOWN"), "{report}");

    let out = common::jemput()
        .arg("--home")
        .arg(home.path())
        .args(["capture", "finger", &sel, "--out-dir"])
        .arg(home.path().join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("single-finger scanner") && err.contains("--out FILE.png"),
        "{err}"
    );
}

/// The EF01 device model on a pty of `jemput sim`, served by `jemput sbi serve --device PTY`.
fn ef01_on_a_pty() -> (common::Sim, SbiService) {
    let sim = common::Sim::start(1, &["ef01", "--fast", "--json"]);
    let pty = sim.path(0);
    let svc = SbiService::start(&["--device", pty.to_str().unwrap(), "--driver", "ef01"]);
    (sim, svc)
}

/// A single-finger SBI scanner (an EF01 on a pty behind `jemput sbi serve`) through the kit:
/// `jemput devices` lists it with the role "single finger"; `jemput capture finger sbi:…/0
/// --finger 7` asks the device for that finger alone and writes the PNG and, beside it, the
/// device's ISO/IEC 19794-4 record, whose WSQ image decodes to the PNG's pixels, with the device's
/// score (the record's quality block) and jemput's. A kit that trusts another CA writes nothing.
#[test]
fn capture_finger_takes_one_named_finger_from_a_single_finger_sbi_scanner() {
    let (_sim, svc) = ef01_on_a_pty();
    let d = tempfile::tempdir().unwrap();
    let home = d.path().join("kit");
    common::kit_trusting(&home, &svc.ca_cert);
    let p = svc.port;

    let out = common::jemput()
        .env("JEMPUT_SBI_PORTS", svc.ports())
        .arg("--home")
        .arg(&home)
        .args(["devices", "--json"])
        .output()
        .unwrap();
    common::assert_success(&out);
    let list = common::stdout_json(&out);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["selector"] == format!("sbi:{p}/1/0"))
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(entry["role"], "single finger", "{entry}");
    assert_eq!(entry["device_sub_type"], "Single", "{entry}");
    let table = common::jemput()
        .env("JEMPUT_SBI_PORTS", svc.ports())
        .arg("--home")
        .arg(&home)
        .arg("devices")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("sbi:{p}/1/0")))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("single finger"), "{table}");

    let before = svc.captures().len();
    let png = d.path().join("f/left-index.png");
    std::fs::create_dir_all(png.parent().unwrap()).unwrap();
    // `jemput capture finger` of the left index (7) from the device, as the kit at `home`.
    let capture = |home: &std::path::Path, out: &std::path::Path| {
        common::jemput()
            .arg("--home")
            .arg(home)
            .args([
                "capture",
                "finger",
                &format!("sbi:{p}/1/0"),
                "--finger",
                "7",
            ])
            .arg("--out")
            .arg(out)
            .arg("--json")
            .output()
            .unwrap()
    };
    let out = capture(&home, &png);
    common::assert_success(&out);
    let r = common::stdout_json(&out);
    // One RCAPTURE, for the left index finger alone, of sub-device 0.
    let asked = svc.captures().split_off(before);
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert!(
        asked[0].contains("device_sub_id=0") && asked[0].contains("[\"Left IndexFinger\"]"),
        "{asked:#?}"
    );
    assert_eq!(r["position"], 7, "{r}");
    let record_path = std::path::PathBuf::from(r["record"].as_str().unwrap());
    assert_eq!(record_path, png.with_extension("iso19794-4"));
    let record = std::fs::read(&record_path).unwrap();
    let rec = jemput_core::iso19794::read_finger_record(&record).unwrap();
    let img = &rec.images[0];
    assert_eq!(img.position.code(), 7);
    assert_eq!(
        img.format,
        jemput_core::iso19794::ImageFormat::Jpeg2000Lossless
    );
    let written = image::open(&png).unwrap().to_luma8();
    assert_eq!(
        img.grey_pixels().unwrap(),
        written,
        "the PNG is the record's image"
    );
    let ef01 = jemput_drivers::ef01::ids::module("R30x").unwrap();
    assert_eq!(
        (r["width"].as_u64(), r["height"].as_u64()),
        (Some(ef01.width.into()), Some(ef01.height.into()))
    );
    let device = r["device_quality"].as_f64().unwrap();
    assert_eq!(device, f64::from(img.quality[0].score), "{r}");
    assert!(r["jemput_quality"].as_u64().is_some(), "{r}");
    assert_eq!(r["device"]["driver"], "sbi", "{r}");

    // A kit that trusts only another provider's CA: refused, nothing written.
    let other = d.path().join("other");
    common::jemput()
        .args(["sbi", "keygen", "--dir"])
        .arg(other.join("keys"))
        .assert()
        .success();
    let other_home = other.join("kit");
    common::kit_trusting(&other_home, &other.join("keys/ca.pem"));
    let refused = d.path().join("refused.png");
    let out = capture(&other_home, &refused);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not trusted"), "{err}");
    assert!(!refused.exists() && !refused.with_extension("iso19794-4").exists());
}

/// `jemput visit capture --scanner sbi:…/0` with a single-finger SBI scanner (an EF01 on a pty):
/// the finger steps one at a time, one RCAPTURE per attempt each naming its finger (never a
/// slap); each kept finger saved as WSQ with the device's original record beside it, and the
/// sealed packet's fingers carry the device's score beside jemput's. A kit trusting another CA
/// gets every answer refused and its draft holds no finger.
#[test]
fn visit_capture_takes_the_fingers_one_by_one_from_a_single_finger_sbi_scanner() {
    let (_sim, svc) = ef01_on_a_pty();
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = common::kit_with_office(d.path());
    common::kit_trusting(&home, &svc.ca_cert);
    let id = common::new_visit_id(&home, "lansia", &[]);
    let sel = format!("sbi:{}/1/0", svc.port);
    let before = svc.captures().len();
    let out = common::jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--yes", "--scanner", &sel])
        .args(["--exception", "9=amputated,permanent"])
        .args(["--exception", "face=refused"])
        .args(["--exception", "signature=unable_to_sign"])
        .output()
        .unwrap();
    common::assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("slap"),
        "no slap with a single-finger scanner: {stderr}"
    );
    assert!(stderr.contains("jemput-fq/1; device "), "{stderr}");

    // Every RCAPTURE asks sub-device 0 for one finger by name; every finger but the amputated
    // one was asked for, and nothing else.
    let asked = svc.captures().split_off(before);
    assert!(asked.len() >= 9, "{asked:#?}");
    let mut named = std::collections::BTreeSet::new();
    for line in &asked {
        assert!(line.contains("device_sub_id=0"), "{line}");
        let name = jemput_sbi::proto::FINGER_NAMES
            .iter()
            .find(|(_, n)| line.contains(&format!("bio_sub_type=[\"{n}\"]")))
            .unwrap_or_else(|| panic!("one finger by name: {line}"));
        named.insert(name.0);
    }
    assert_eq!(
        named.into_iter().collect::<Vec<u8>>(),
        [1, 2, 3, 4, 5, 6, 7, 8, 10]
    );

    let opened = d.path().join("opened");
    let manifest = common::seal_and_open(&home, &keys.identity_file, &id, &opened);
    let fingers = &manifest["visit"]["captures"]["fingers"];
    assert_eq!(fingers["9"]["status"], "exception", "{fingers}");
    let files = common::walk(&opened);
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 10] {
        let f = &fingers[n.to_string()];
        assert_eq!(f["status"], "captured", "{n}: {f}");
        assert_eq!(f["device"]["driver"], "sbi", "{n}: {f}");
        assert_eq!(f["file"], format!("finger-{n:02}.wsq"), "{n}: {f}");
        assert_eq!(
            f["extra_files"],
            serde_json::json!([format!("finger-{n:02}.iso19794-4")]),
            "{n}: {f}"
        );
        let device = f["device_quality"]
            .as_f64()
            .unwrap_or_else(|| panic!("{n}: {f}"));
        assert!((0.0..=100.0).contains(&device), "{n}: {f}");
        assert_eq!(f["quality"]["algorithm"], "jemput-fq/1", "{n}: {f}");
        // The original record in the packet is the device's, of this finger, and decodes.
        let record = files
            .iter()
            .find(|p| p.ends_with(format!("finger-{n:02}.iso19794-4")))
            .unwrap_or_else(|| panic!("{n}: {files:?}"));
        let rec =
            jemput_core::iso19794::read_finger_record(&std::fs::read(record).unwrap()).unwrap();
        assert_eq!(rec.images[0].position.code(), n);
        assert_eq!(
            f64::from(rec.images[0].quality[0].score),
            device,
            "{n}: {f}"
        );
        let image = rec.images[0].grey_pixels().unwrap();
        assert_eq!(
            Some(u64::from(image.width())),
            f["width"].as_u64(),
            "{n}: {f}"
        );
    }

    // Another kit, trusting only another provider's CA: the scanner opens (discovery is
    // unsigned), every capture is refused, and the draft keeps no finger.
    let other = d.path().join("other");
    let (other_home, _) = common::kit_with_office(&other);
    common::jemput()
        .args(["sbi", "keygen", "--dir"])
        .arg(other.join("keys"))
        .assert()
        .success();
    common::kit_trusting(&other_home, &other.join("keys/ca.pem"));
    let id = common::new_visit_id(&other_home, "lansia", &[]);
    let out = common::jemput()
        .arg("--home")
        .arg(&other_home)
        .args(["visit", "capture", &id, "--yes", "--only", "fingers"])
        .args(["--scanner", &sel])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not trusted"), "{out:?}");
    let shown = common::json(common::run(&other_home, &["visit", "show", &id, "--json"]));
    let fingers = &shown["visit"]["captures"]["fingers"];
    assert!(
        fingers.as_object().is_none_or(|m| m.is_empty()),
        "nothing kept of refused answers: {fingers}"
    );
}

//! `jemput sbi serve --sim` and jemput's SBI client through the binary, over real HTTP on
//! loopback: the service says where it listens, `sbi devices` lists its slap scanner and camera,
//! `sbi capture` takes a left slap with an exception (three fingers, each ISO record verified and
//! decoded, the device's quality score beside jemput's own) and a face, and refuses a device whose
//! CA the kit does not trust. Each test scans only its own port (JEMPUT_SBI_PORTS).

mod common;

use common::{kit_trusting, SbiService};
use serde_json::Value;

/// `jemput -v sbi serve --sim`, stopped with SIGTERM when dropped.
fn start_sim() -> SbiService {
    SbiService::start(&["--sim"])
}

/// `jemput devices` lists the SBI devices after the kit's own (none in this VM), with the same
/// selectors as `jemput sbi devices`, in its JSON and in its table.
#[test]
fn jemput_devices_lists_sbi_devices_beside_the_local_ones() {
    let svc = start_sim();
    let out = common::jemput()
        .env("JEMPUT_SBI_PORTS", svc.ports())
        .args(["devices", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let sbi: Vec<&Value> = list
        .iter()
        .filter(|d| d.get("bio_type").is_some())
        .collect();
    let p = svc.port;
    let selectors: Vec<&str> = sbi
        .iter()
        .map(|d| d["selector"].as_str().unwrap())
        .collect();
    assert_eq!(
        selectors,
        [
            format!("sbi:{p}/1/1"),
            format!("sbi:{p}/1/2"),
            format!("sbi:{p}/1/3"),
            format!("sbi:{p}/2/0")
        ]
    );
    assert_eq!(sbi[0]["bio_type"], "Finger", "{list:?}");
    assert_eq!(sbi[3]["bio_type"], "Face", "{list:?}");
    // The local entries come first and are the ones `jemput devices` always listed.
    let first_sbi = list
        .iter()
        .position(|d| d.get("bio_type").is_some())
        .unwrap();
    assert!(list[first_sbi..].iter().all(|d| d.get("port").is_some()));

    let out = common::jemput()
        .env("JEMPUT_SBI_PORTS", svc.ports())
        .arg("devices")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("SBI device services"), "{table}");
    assert!(table.contains(&format!("sbi:{p}/1/1")), "{table}");
    assert!(!table.contains("no devices found"), "{table}");
}

#[test]
fn sbi_devices_lists_the_simulated_slap_scanner_and_camera_with_selectors() {
    let svc = start_sim();
    assert!(svc.ca_cert.is_file(), "{}", svc.ca_cert.display());
    let out = common::jemput()
        .env("JEMPUT_SBI_PORTS", svc.ports())
        .args(["sbi", "devices", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let selectors: Vec<_> = list
        .iter()
        .map(|d| d["selector"].as_str().unwrap().to_string())
        .collect();
    let p = svc.port;
    assert_eq!(
        selectors,
        [
            format!("sbi:{p}/1/1"),
            format!("sbi:{p}/1/2"),
            format!("sbi:{p}/1/3"),
            format!("sbi:{p}/2/0")
        ]
    );
    assert_eq!(list[0]["device_sub_type"], "Slap");
    assert_eq!(list[3]["bio_type"], "Face");
    assert_eq!(list[0]["certification"], "L0");
}

#[test]
fn a_left_slap_with_an_exception_gives_three_verified_fingers_and_a_face_its_photo() {
    let svc = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let out = common::jemput()
        .args(["sbi", "capture", &format!("sbi:{}/1/1", svc.port)])
        .arg("--ca")
        .arg(&svc.ca_cert)
        .args(["--exception", "Left RingFinger", "--json", "--out-dir"])
        .arg(dir.path().join("slap"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<_> = got.iter().map(|g| g["bio_sub_type"].clone()).collect();
    assert_eq!(
        names,
        ["Left IndexFinger", "Left MiddleFinger", "Left LittleFinger"]
    );
    for g in &got {
        assert_eq!(g["device_quality"], 85.0);
        let q = g["jemput_quality"].as_u64().unwrap();
        assert!(q > 20, "jemput-fq {q} for a clean synthetic print");
        let png = image::open(g["image"].as_str().unwrap()).unwrap();
        assert!(png.width() > 200 && png.height() > 200);
        let path = g["record"].as_str().unwrap();
        assert!(path.ends_with(".iso19794-4"), "{path}");
        let record = std::fs::read(path).unwrap();
        assert_eq!(&record[..4], b"FIR\0");
    }

    let out = common::jemput()
        .args(["sbi", "capture", &format!("sbi:{}/2/0", svc.port)])
        .arg("--ca")
        .arg(&svc.ca_cert)
        .args(["--json", "--out-dir"])
        .arg(dir.path().join("face"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["bio_sub_type"], "Face");
    // The record's JPEG 2000 lossless photo, written as a PNG of the same pixels.
    let image_path = got[0]["image"].as_str().unwrap();
    assert!(image_path.ends_with("face.png"), "{image_path}");
    let record = got[0]["record"].as_str().unwrap();
    assert!(record.ends_with("face.iso19794-5"), "{record}");
    let rec = jemput_core::iso19794::read_face_record(&std::fs::read(record).unwrap()).unwrap();
    assert_eq!(
        rec.images[0].rgb_pixels().unwrap(),
        image::open(image_path).unwrap().to_rgb8()
    );
}

#[test]
fn a_device_whose_ca_the_kit_does_not_trust_is_refused_and_nothing_is_written() {
    let svc = start_sim();
    let dir = tempfile::tempdir().unwrap();
    common::jemput()
        .args(["sbi", "keygen", "--dir"])
        .arg(dir.path().join("other"))
        .assert()
        .success();
    let out_dir = dir.path().join("out");
    let out = common::jemput()
        .args(["sbi", "capture", &format!("sbi:{}/1/2", svc.port)])
        .arg("--ca")
        .arg(dir.path().join("other/ca.pem"))
        .arg("--out-dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not trusted"), "{err}");
    assert!(!out_dir.exists(), "files written for a refused capture");
}

/// `jemput --home HOME ARGS…`, run to the end.
fn in_kit(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::jemput()
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap()
}

/// The kit's own trust store: without a trusted CA a capture is refused saying how to add one;
/// `sbi trust add` makes the service's CA trusted for every later capture (no --ca), `list` shows
/// it, `remove` takes it away again, and a device certificate is refused as a CA.
#[test]
fn the_kits_trust_store_is_what_captures_are_checked_against() {
    let svc = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("kit");
    let kit = |args: &[&str]| in_kit(&home, args);
    let sel = format!("sbi:{}/1/3", svc.port);
    let out_dir = dir.path().join("thumbs");
    let out_dir_s = out_dir.to_str().unwrap();
    let capture = || kit(&["sbi", "capture", &sel, "--out-dir", out_dir_s, "--json"]);

    let out = capture();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jemput sbi trust add"), "{err}");
    assert!(!out_dir.exists());

    let device_cert = svc.ca_cert.with_file_name("device.pem");
    let out = kit(&["sbi", "trust", "add", device_cert.to_str().unwrap()]);
    assert!(!out.status.success(), "a device certificate taken as a CA");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a CA certificate"));

    let out = kit(&["sbi", "trust", "add", svc.ca_cert.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let out = kit(&["sbi", "trust", "list", "--json"]);
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let sha = listed[0]["sha256"].as_str().unwrap().to_string();

    let out = capture();
    assert!(out.status.success(), "{out:?}");
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 2, "two thumbs: {got:?}");

    let out = kit(&["sbi", "trust", "remove", &sha[..10]]);
    assert!(out.status.success(), "{out:?}");
    std::fs::remove_dir_all(&out_dir).unwrap();
    let out = capture();
    assert!(!out.status.success(), "captured after the CA was removed");
    assert!(!out_dir.exists());
}

/// `jemput devices test sbi:…` finds the device by discovery and takes one capture, checked in
/// full against the kit's trust store: a slap's fingers with both scores, a face's photo size;
/// an untrusted service fails the test with the reason; commands that do not take SBI devices
/// yet say which ones do.
#[test]
fn devices_test_takes_sbi_selectors_and_checks_the_capture() {
    let svc = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("kit");
    let kit = |args: &[&str]| in_kit(&home, args);
    let p = svc.port;
    let slap = format!("sbi:{p}/1/2");

    let out = kit(&["devices", "test", &slap, "--json"]);
    assert!(!out.status.success(), "tested with no CA trusted");
    assert!(String::from_utf8_lossy(&out.stderr).contains("jemput sbi trust add"));

    assert!(kit(&["sbi", "trust", "add", svc.ca_cert.to_str().unwrap()])
        .status
        .success());
    let out = kit(&["devices", "test", &slap, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["identified_by"], "sbi_discovery", "{r}");
    assert_eq!(r["capability"], "fingerprint", "{r}");
    assert_eq!(r["info"]["driver"], "sbi", "{r}");
    let fingers = r["capture"]["fingers"].as_array().unwrap();
    assert_eq!(fingers.len(), 4, "a right slap: {r}");
    assert!(fingers
        .iter()
        .all(|f| f["device_quality"].as_f64().unwrap() > 0.0 && f["width"].as_u64().unwrap() > 0));

    let out = kit(&["devices", "test", &format!("sbi:{p}/2/0"), "--json"]);
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["capability"], "camera", "{r}");
    assert!(r["capture"]["bytes"].as_u64().unwrap() > 1000, "{r}");

    // A sub-device the service does not have.
    let out = kit(&["devices", "test", &format!("sbi:{p}/1/7")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lists no device"),
        "{out:?}"
    );

    // Trusting only another CA: the capture is refused, the test fails saying why.
    let other = dir.path().join("other");
    common::jemput()
        .args(["sbi", "keygen", "--dir"])
        .arg(&other)
        .assert()
        .success();
    let listed: Vec<Value> =
        serde_json::from_slice(&kit(&["sbi", "trust", "list", "--json"]).stdout).unwrap();
    let sha = listed[0]["sha256"].as_str().unwrap().to_string();
    assert!(kit(&["sbi", "trust", "remove", &sha]).status.success());
    assert!(kit(&[
        "sbi",
        "trust",
        "add",
        other.join("ca.pem").to_str().unwrap()
    ])
    .status
    .success());
    let out = kit(&["devices", "test", &slap, "--json"]);
    assert!(!out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["ok"], false);
    assert!(r["error"].as_str().unwrap().contains("not trusted"), "{r}");

    // A slap gives several fingers: one --out file is refused, saying what to give instead.
    let never = dir.path().join("never.png");
    let out = kit(&["capture", "finger", &slap, "--out", never.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--out-dir DIR"),
        "{out:?}"
    );
    assert!(!never.exists());
    // A command that does not take SBI devices yet says which ones do.
    let out = kit(&[
        "capture",
        "signature",
        &slap,
        "--out",
        never.to_str().unwrap(),
        "--trace",
        dir.path().join("never.json").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("jemput capture finger|face"),
        "{out:?}"
    );
}

#[test]
fn a_bad_selector_and_a_closed_port_get_clear_errors() {
    let out = common::jemput()
        .args([
            "sbi",
            "capture",
            "sbi:4501/1",
            "--ca",
            "x.pem",
            "--out-dir",
            "/tmp/x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sbi:PORT/DEVICEID/SUBID"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = common::jemput()
        .env("JEMPUT_SBI_PORTS", format!("{closed}-{closed}"))
        .args(["sbi", "devices"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no SBI device service found"));
}

/// The files of `dir`, sorted by name.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `jemput capture face sbi:…` and `jemput capture finger sbi:…` through the kit's trust store
/// (no --ca): the face's JPEG is the photo of its ISO/IEC 19794-5 record (JPEG 2000 lossless),
/// written beside it; a
/// right slap gives four fingers, each PNG the pixels of its ISO/IEC 19794-4 record, which is the
/// finger named, with the device's quality score beside jemput's own, and the hash chain of the
/// transaction recomputed from the records.
#[test]
fn capture_face_and_finger_take_sbi_selectors_and_write_the_original_records() {
    let svc = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("kit");
    kit_trusting(&home, &svc.ca_cert);
    let p = svc.port;

    let face = dir.path().join("face.jpg");
    let out = in_kit(
        &home,
        &[
            "capture",
            "face",
            &format!("sbi:{p}/2/0"),
            "--json",
            "--out",
            face.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["device"]["driver"], "sbi", "{r}");
    assert_eq!(r["selector"], format!("sbi:{p}/2/0"), "{r}");
    assert_eq!(r["device_quality"], 90.0, "{r}");
    let jpeg = std::fs::read(&face).unwrap();
    let img = image::load_from_memory(&jpeg).unwrap();
    assert_eq!(
        (u64::from(img.width()), u64::from(img.height())),
        (r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap())
    );
    let record_path = std::path::PathBuf::from(r["record"].as_str().unwrap());
    assert_eq!(record_path, dir.path().join("face.iso19794-5"));
    let rec =
        jemput_core::iso19794::read_face_record(&std::fs::read(&record_path).unwrap()).unwrap();
    // The service sends MOSIP's registration format, JPEG 2000 lossless; the kit's JPEG is that
    // record's photo re-encoded: the same size and, pixel by pixel, close to it.
    let face_rec = &rec.images[0];
    assert_eq!(
        face_rec.format,
        jemput_core::iso19794::ImageFormat::Jpeg2000Lossless
    );
    let original = face_rec.rgb_pixels().unwrap();
    let written = img.to_rgb8();
    assert_eq!(original.dimensions(), written.dimensions());
    let diff: u64 = original
        .as_raw()
        .iter()
        .zip(written.as_raw())
        .map(|(&a, &b)| u64::from(a.abs_diff(b)))
        .sum();
    let mean = diff as f64 / original.as_raw().len() as f64;
    assert!(
        mean < 4.0,
        "the JPEG is {mean:.1} grey levels off the record's photo"
    );

    let slap_dir = dir.path().join("right");
    let out = in_kit(
        &home,
        &[
            "capture",
            "finger",
            &format!("sbi:{p}/1/2"),
            "--json",
            "--out-dir",
            slap_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["slap"], "right slap", "{r}");
    assert_eq!(r["missing"], serde_json::json!([]), "{r}");
    let fingers = r["fingers"].as_array().unwrap();
    let positions: Vec<u64> = fingers
        .iter()
        .map(|f| f["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [2, 3, 4, 5], "{r}");
    let mut prev = jemput_sbi::chain::first_previous_hash();
    for f in fingers {
        assert_eq!(f["device_quality"], 85.0, "{f}");
        let q = f["jemput_quality"].as_u64().unwrap();
        assert!(q > 20, "jemput-fq {q} for a clean synthetic print");
        let png = image::open(f["image"].as_str().unwrap()).unwrap();
        assert_eq!(png.color(), image::ColorType::L8);
        let png = png.to_luma8();
        assert_eq!(u64::from(png.width()), f["width"].as_u64().unwrap());
        let record = std::fs::read(f["record"].as_str().unwrap()).unwrap();
        let rec = jemput_core::iso19794::read_finger_record(&record).unwrap();
        assert_eq!(
            u64::from(rec.images[0].position.code()),
            f["position"].as_u64().unwrap()
        );
        assert_eq!(rec.images[0].ppi(), 500);
        assert_eq!(
            rec.images[0].format,
            jemput_core::iso19794::ImageFormat::Jpeg2000Lossless
        );
        assert_eq!(rec.images[0].grey_pixels().unwrap(), png, "{f}");
        prev = jemput_sbi::chain::next_hash(&prev, &record).unwrap();
        assert_eq!(f["hash"], prev, "{f}");
    }
    assert_eq!(
        names_in(&slap_dir),
        [
            "02-right-index.iso19794-4",
            "02-right-index.png",
            "03-right-middle.iso19794-4",
            "03-right-middle.png",
            "04-right-ring.iso19794-4",
            "04-right-ring.png",
            "05-right-little.iso19794-4",
            "05-right-little.png",
        ]
    );

    // The text form names each finger with both scores.
    let out = in_kit(
        &home,
        &[
            "capture",
            "finger",
            &format!("sbi:{p}/1/3"),
            "--out-dir",
            dir.path().join("thumbs").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("two thumbs from sbi"), "{text}");
    assert!(
        text.contains("left thumb") && text.contains("right thumb"),
        "{text}"
    );
    assert!(text.contains("device quality  85.0"), "{text}");
}

/// `--missing` sends the slap's missing fingers as exceptions (other slaps' are ignored): the
/// device leaves them out, and nothing is written for them.
#[test]
fn a_slap_with_a_missing_finger_leaves_it_out() {
    let svc = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("kit");
    kit_trusting(&home, &svc.ca_cert);
    let slap_dir = dir.path().join("left");
    let out = in_kit(
        &home,
        &[
            "capture",
            "finger",
            &format!("sbi:{}/1/1", svc.port),
            "--missing",
            "9,2",
            "--json",
            "--out-dir",
            slap_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["missing"], serde_json::json!([9]), "{r}");
    let names: Vec<&str> = r["fingers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["bio_sub_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Left IndexFinger", "Left MiddleFinger", "Left LittleFinger"]
    );
    let files = names_in(&slap_dir);
    assert_eq!(files.len(), 6, "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with("09-")), "{files:?}");

    // Every finger of the slap missing: refused before asking the device.
    let thumbs = dir.path().join("thumbs");
    let out = in_kit(
        &home,
        &[
            "capture",
            "finger",
            &format!("sbi:{}/1/3", svc.port),
            "--missing",
            "1,6",
            "--out-dir",
            thumbs.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("every finger of the two thumbs"),
        "{out:?}"
    );
    assert!(!thumbs.exists());
}

/// A kit that trusts another CA refuses the service's answers through `capture face` and
/// `capture finger`, saying why, and writes nothing.
#[test]
fn capture_through_an_untrusted_sbi_device_is_refused_and_writes_nothing() {
    let svc = start_sim();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("kit");
    let other = dir.path().join("other");
    common::jemput()
        .args(["sbi", "keygen", "--dir"])
        .arg(&other)
        .assert()
        .success();
    kit_trusting(&home, &other.join("ca.pem"));
    let slap_dir = dir.path().join("slap");
    let out = in_kit(
        &home,
        &[
            "capture",
            "finger",
            &format!("sbi:{}/1/1", svc.port),
            "--out-dir",
            slap_dir.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not trusted"), "{err}");
    assert!(!slap_dir.exists(), "files written for a refused slap");

    let face = dir.path().join("face.jpg");
    let out = in_kit(
        &home,
        &[
            "capture",
            "face",
            &format!("sbi:{}/2/0", svc.port),
            "--out",
            face.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not trusted"),
        "{out:?}"
    );
    assert!(!face.exists() && !dir.path().join("face.iso19794-5").exists());
}

/// A device service that breaks the hash chain, sends `data` unsigned, signs wrongly or answers
/// for another transaction (jemput's own service, told to misbehave, in this process): `capture
/// finger` refuses each answer with its reason and writes nothing, and `devices test` fails with
/// the same reason.
#[test]
fn a_chain_broken_unsigned_or_badly_signed_slap_is_refused_and_nothing_written() {
    use jemput_sbi_service::keys;
    use jemput_sbi_service::serve::Fault;
    use jemput_sbi_service::testing::{sim_backends, TestService};
    let dir = tempfile::tempdir().unwrap();
    keys::keygen(dir.path(), "Faulty Provider", "FAULTY0001").unwrap();
    let home = dir.path().join("kit");
    kit_trusting(&home, &dir.path().join(keys::CA_CERT));
    for (fault, why) in [
        (Fault::BrokenChain, "hash chain is broken"),
        (Fault::Unsigned, "is not signed"),
        (Fault::BadSignature, "signature is bad"),
        (Fault::OtherTransaction, "replayed"),
    ] {
        let svc = TestService::start_with(Some(dir.path()), sim_backends(5), fault);
        let port = svc.port;
        let slap_dir = dir.path().join(format!("slap-{port}"));
        let out = in_kit(
            &home,
            &[
                "capture",
                "finger",
                &format!("sbi:{port}/1/2"),
                "--out-dir",
                slap_dir.to_str().unwrap(),
            ],
        );
        assert!(!out.status.success(), "{fault:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{fault:?}: {err}");
        assert!(!slap_dir.exists(), "{fault:?}: files written");
        // `devices test` goes through the same checks: the test fails, saying why.
        let out = in_kit(
            &home,
            &["devices", "test", &format!("sbi:{port}/1/2"), "--json"],
        );
        assert!(!out.status.success(), "{fault:?} passed devices test");
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["ok"], false, "{fault:?}: {r}");
        let error = r["error"].as_str().unwrap();
        assert!(error.contains(why), "{fault:?}: {r}");
    }
}

/// `jemput visit capture --scanner sbi:… --camera sbi:…`: a visit's face and fingers (by slap)
/// from the SBI device service, every answer checked against the kit's trust store; each finger in
/// the draft with its original ISO/IEC 19794-4 record (`visit show` lists the extra file), and a
/// finger given as an exception is not asked of the device.
#[test]
fn visit_capture_takes_the_face_and_fingers_from_sbi_devices() {
    let svc = start_sim();
    let d = tempfile::tempdir().unwrap();
    let (home, _) = common::kit_with_office(d.path());
    kit_trusting(&home, &svc.ca_cert);
    let id = common::new_visit_id(&home, "lansia", &[]);
    let p = svc.port;
    let out = common::jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--json", "--yes"])
        .args(["--only", "face", "--only", "fingers"])
        .args(["--camera", &format!("sbi:{p}/2/0")])
        .args(["--scanner", &format!("sbi:{p}/1/1")])
        .args(["--exception", "9=amputated,permanent"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ran: Vec<&str> = r["ran"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(ran.contains(&"face"), "{r}");
    assert!(
        ran.contains(&"finger-07") && ran.contains(&"finger-01"),
        "{r}"
    );
    let shown = common::json(common::run(&home, &["visit", "show", &id, "--json"]));
    let fingers = &shown["visit"]["captures"]["fingers"];
    assert_eq!(fingers["9"]["status"], "exception", "{fingers}");
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 10] {
        let f = &fingers[n.to_string()];
        assert_eq!(f["status"], "captured", "{n}: {fingers}");
        assert_eq!(f["device"]["driver"], "sbi", "{n}: {f}");
        assert_eq!(
            f["extra_files"],
            serde_json::json!([format!("finger-{n:02}.iso19794-4")]),
            "{n}: {f}"
        );
    }
    assert_eq!(
        shown["visit"]["captures"]["face"]["device"]["driver"], "sbi",
        "{shown}"
    );

    // A kit that trusts no CA refuses to open the SBI scanner for a visit, saying how to fix it.
    let other = d.path().join("other-kit");
    let (other_home, _) = common::kit_with_office(&other);
    let id = common::new_visit_id(&other_home, "lansia", &[]);
    let out = common::jemput()
        .arg("--home")
        .arg(&other_home)
        .args([
            "visit", "capture", &id, "--json", "--yes", "--only", "fingers",
        ])
        .args(["--scanner", &format!("sbi:{p}/1/1")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("jemput sbi trust add"),
        "{out:?}"
    );
}

/// `jemput visit capture --scanner sbi:…` takes the fingers 4-4-2: the left slap with finger 9
/// (given with --exception) sent to the device as missing, the right slap and the two thumbs —
/// three RCAPTUREs in the service's log, where one per finger would be nine — each kept finger
/// as WSQ with its original ISO/IEC 19794-4 record, the missing one an exception, and the packet
/// sealed from the draft holds them.
#[test]
fn visit_capture_takes_the_fingers_slap_by_slap_in_three_captures() {
    let svc = start_sim();
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = common::kit_with_office(d.path());
    kit_trusting(&home, &svc.ca_cert);
    let id = common::new_visit_id(&home, "lansia", &[]);
    let p = svc.port;
    let before = svc.captures().len();
    let out = common::jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--yes"])
        .args(["--camera", &format!("sbi:{p}/2/0")])
        .args(["--scanner", &format!("sbi:{p}/1/1")])
        .args(["--exception", "9=amputated,permanent"])
        .args(["--exception", "signature=unable_to_sign"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    // The progress names each slap, the finger sent as missing and what each finger came to.
    assert!(
        stderr.contains("left slap: place the four fingers of the left hand"),
        "{stderr}"
    );
    assert!(
        stderr.contains("missing, sent to the device as exceptions: 09"),
        "{stderr}"
    );
    assert!(stderr.contains("two thumbs: place both thumbs"), "{stderr}");
    assert!(
        stderr.contains("finger 07 (left index): captured"),
        "{stderr}"
    );
    assert!(
        stderr.contains("finger 09 (left ring): recorded as an exception"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ready to seal"),
        "{out:?}"
    );

    // Three slap captures for the fingers (and one for the face), not one per finger.
    let captures: Vec<String> = svc.captures().split_off(before);
    let slaps: Vec<&String> = captures
        .iter()
        .filter(|l| l.contains("device_id=1"))
        .collect();
    assert_eq!(slaps.len(), 3, "{captures:#?}");
    assert!(
        slaps[0].contains("device_sub_id=1")
            && slaps[0].contains("exception=[\"Left RingFinger\"]"),
        "{slaps:#?}"
    );
    assert!(
        slaps[1].contains("device_sub_id=2") && slaps[1].contains("exception=[]"),
        "{slaps:#?}"
    );
    assert!(slaps[2].contains("device_sub_id=3"), "{slaps:#?}");
    assert_eq!(captures.len(), 4, "{captures:#?}");

    let shown = common::json(common::run(&home, &["visit", "show", &id, "--json"]));
    let fingers = &shown["visit"]["captures"]["fingers"];
    let e = &fingers["9"];
    assert_eq!(e["status"], "exception", "{fingers}");
    assert_eq!(e["reason"]["code"], "amputated", "{fingers}");
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 10] {
        let f = &fingers[n.to_string()];
        assert_eq!(f["status"], "captured", "{n}: {fingers}");
        assert_eq!(f["device"]["driver"], "sbi", "{n}: {f}");
        assert_eq!(f["file"], format!("finger-{n:02}.wsq"), "{n}: {f}");
    }

    let sealed = common::json(common::run(&home, &["seal", &id, "--json"]));
    assert_eq!(sealed["failed"], serde_json::json!([]), "{sealed}");
    let packet = sealed["sealed"][0]["path"].as_str().unwrap().to_string();
    let opened = d.path().join("opened");
    let shown = common::stdout(
        common::jemput()
            .args(["open", &packet, "--identity"])
            .arg(&keys.identity_file)
            .arg("--out")
            .arg(&opened)
            .assert()
            .success(),
    );
    // `open` shows each finger's scores, jemput's and the device's, and the device's record.
    let line = shown
        .lines()
        .find(|l| l.trim_start().starts_with("finger 07 "))
        .unwrap_or_else(|| panic!("no line for finger 07: {shown}"));
    assert!(
        line.contains("finger-07.wsq, score ")
            && line.contains("(jemput-fq/1), device score ")
            && line.ends_with("device's original finger-07.iso19794-4"),
        "{line}"
    );
    assert!(shown.contains("exception finger-09: Diamputasi"), "{shown}");
    let files: Vec<String> = common::walk(&opened)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 10] {
        for name in [
            format!("finger-{n:02}.wsq"),
            format!("finger-{n:02}.iso19794-4"),
        ] {
            assert!(files.contains(&name), "{name} not in {files:?}");
        }
    }
    assert!(
        !files.iter().any(|f| f.starts_with("finger-09")),
        "{files:?}"
    );
    // The ISO record in the packet is the device's: an ISO/IEC 19794-4 record starts "FIR\0".
    let record = common::walk(&opened)
        .into_iter()
        .find(|f| f.ends_with("finger-07.iso19794-4"))
        .unwrap();
    assert_eq!(&std::fs::read(record).unwrap()[..4], b"FIR\0");
}

/// The device's own `qualityScore` is kept in the visit beside jemput's score for each finger and
/// the face captured through SBI, and is in the sealed packet's manifest; a finger from the kit's
/// own scanner (the EF01 device model) and a packet's exceptions carry none.
#[test]
fn the_devices_quality_score_is_kept_beside_jemputs_for_sbi_captures_only() {
    let svc = start_sim();
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = common::kit_with_office(d.path());
    kit_trusting(&home, &svc.ca_cert);
    let p = svc.port;
    let id = common::new_visit_id(&home, "lansia", &[]);
    let out = common::jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--yes"])
        .args(["--camera", &format!("sbi:{p}/2/0")])
        .args(["--scanner", &format!("sbi:{p}/1/1")])
        .args(["--exception", "9=amputated,permanent"])
        .args(["--exception", "signature=unable_to_sign"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jemput-fq/1; device "), "{stderr}");
    let manifest = common::seal_and_open(&home, &keys.identity_file, &id, &d.path().join("sbi"));
    let captures = &manifest["visit"]["captures"];
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 10] {
        let f = &captures["fingers"][n.to_string()];
        let device = f["device_quality"]
            .as_f64()
            .unwrap_or_else(|| panic!("{n}: {f}"));
        assert!((0.0..=100.0).contains(&device), "{n}: {f}");
        assert_eq!(f["quality"]["algorithm"], "jemput-fq/1", "{n}: {f}");
    }
    assert!(captures["fingers"]["9"].get("device_quality").is_none());
    let face = &captures["face"];
    assert!(face["device_quality"].as_f64().is_some(), "{face}");
    assert!(face["quality"]["score"].as_u64().is_some(), "{face}");

    // The same visit's fingers from the EF01 device model: jemput's score only.
    let id = common::new_visit_id(&home, "lansia", &[]);
    let out = common::jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--yes", "--scanner", "sim:ef01"])
        .args(["--exception", "face=refused"])
        .args(["--exception", "signature=unable_to_sign"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let manifest = common::seal_and_open(&home, &keys.identity_file, &id, &d.path().join("ef01"));
    let f = &manifest["visit"]["captures"]["fingers"]["7"];
    assert_eq!(f["status"], "captured", "{f}");
    assert!(f["quality"]["score"].as_u64().is_some(), "{f}");
    assert!(f.get("device_quality").is_none(), "{f}");
}

/// `jemput visit capture --scanner sbi:…` retries a poor finger of a slap as the capture policy
/// says: the simulated slap scanner (`sbi serve --sim --sim-poor-finger 8:1`) gives the left
/// middle finger as a poor print in its first capture, so the left slap is taken a second time
/// for that finger alone; both attempts are printed, the kept finger records its retry and the
/// better score, and the left slap's other fingers their first capture.
#[test]
fn visit_capture_retries_a_poor_finger_of_a_slap_by_taking_the_slap_again_for_it() {
    let svc = SbiService::start(&["--sim", "--sim-poor-finger", "8:1"]);
    let d = tempfile::tempdir().unwrap();
    let (home, _) = common::kit_with_office(d.path());
    kit_trusting(&home, &svc.ca_cert);
    let id = common::new_visit_id(&home, "lansia", &[]);
    let before = svc.captures().len();
    let out = common::jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--yes", "--only", "fingers"])
        .args(["--scanner", &format!("sbi:{}/1/1", svc.port)])
        .output()
        .unwrap();
    common::assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = |start: &str| {
        stderr
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no {start:?} in {stderr}"))
            .to_string()
    };
    assert!(
        line("finger 08 (left middle) attempt 1/").ends_with("capture again"),
        "{stderr}"
    );
    assert!(
        line("finger 08 (left middle) attempt 2/").ends_with("accepted"),
        "{stderr}"
    );
    assert!(
        line("finger 07 (left index) attempt 1/").ends_with("accepted"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("finger 07 (left index) attempt 2/"),
        "{stderr}"
    );

    // Four slap captures: the left slap, the left slap again for finger 8 alone, the right
    // slap, the two thumbs.
    let asked: Vec<String> = svc.captures().split_off(before);
    assert_eq!(asked.len(), 4, "{asked:#?}");
    assert!(
        asked[1].contains("device_sub_id=1")
            && asked[1].contains("bio_sub_type=[\"Left MiddleFinger\"]"),
        "{asked:#?}"
    );

    let shown = common::json(common::run(&home, &["visit", "show", &id, "--json"]));
    let fingers = &shown["visit"]["captures"]["fingers"];
    let middle = &fingers["8"];
    assert_eq!(middle["status"], "captured", "{middle}");
    assert_eq!(middle["retries"], 1, "{middle}");
    assert_eq!(middle["forced"], false, "{middle}");
    let threshold = 40;
    assert!(
        middle["quality"]["score"].as_u64().unwrap() >= threshold,
        "{middle}"
    );
    assert!(
        middle["device_quality"].as_f64().unwrap() > 50.0,
        "the good print's: {middle}"
    );
    for n in [7, 9, 10] {
        assert_eq!(fingers[n.to_string()]["retries"], 0, "{n}: {fingers}");
    }
}

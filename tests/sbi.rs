//! `jemput sbi serve --sim` and jemput's SBI client through the binary, over real HTTP on
//! loopback: the service says where it listens, `sbi devices` lists its slap scanner and camera,
//! `sbi capture` takes a left slap with an exception (three fingers, each ISO record verified and
//! decoded, the device's quality score beside jemput's own) and a face, and refuses a device whose
//! CA the kit does not trust. Each test scans only its own port (JEMPUT_SBI_PORTS).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running `jemput sbi serve --sim`, stopped with SIGTERM when dropped.
struct Service {
    child: Child,
    port: u16,
    ca_cert: PathBuf,
}

impl Service {
    fn start() -> Service {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
            .args(["sbi", "serve", "--sim", "--json", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Service {
            child,
            port: v["port"].as_u64().unwrap() as u16,
            ca_cert: PathBuf::from(v["ca_cert"].as_str().unwrap()),
        }
    }

    fn ports(&self) -> String {
        format!("{0}-{0}", self.port)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

/// `jemput devices` lists the SBI devices after the kit's own (none in this VM), with the same
/// selectors as `jemput sbi devices`, in its JSON and in its table.
#[test]
fn jemput_devices_lists_sbi_devices_beside_the_local_ones() {
    let svc = Service::start();
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
    let svc = Service::start();
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
    let svc = Service::start();
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
        let record = std::fs::read(g["record"].as_str().unwrap()).unwrap();
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
    let jpeg = std::fs::read(got[0]["image"].as_str().unwrap()).unwrap();
    assert_eq!(&jpeg[..2], [0xff, 0xd8]);
    image::load_from_memory(&jpeg).unwrap();
}

#[test]
fn a_device_whose_ca_the_kit_does_not_trust_is_refused_and_nothing_is_written() {
    let svc = Service::start();
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
    let svc = Service::start();
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
    let svc = Service::start();
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

    let out = kit(&["capture", "finger", &slap, "--out", "/tmp/never.png"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("jemput sbi capture"),
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

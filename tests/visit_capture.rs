//! `jemput visit capture`: a visit filled from the device models through the real drivers — the
//! serial ones (EF01 scanner, ISDV4 pad, NMEA GPS) on the ptys `jemput sim` prints, the PTP camera
//! in-process (`sim:ptp`) — step by step into the encrypted draft, resumed where it stopped after
//! a device error or Ctrl-C, with prompts answered from stdin.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const NIK: &str = VISIT_NIK;

/// A visit started with nothing captured; its id.
fn blank_visit(home: &Path) -> String {
    new_visit_id(home, "lansia", &[])
}

/// `jemput visit capture ID <args> --json`, run with nothing on stdin.
fn capture(home: &Path, id: &str, args: &[&str]) -> std::process::Output {
    jemput()
        .arg("--home")
        .arg(home)
        .args(["visit", "capture", id, "--json"])
        .args(args)
        .output()
        .unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn fingers(from: u8) -> Vec<String> {
    (from..=10).map(|n| format!("finger-{n:02}")).collect()
}

fn shown(home: &Path, id: &str) -> Value {
    json(run(home, &["visit", "show", id, "--json"]))["visit"].clone()
}

#[test]
fn a_visit_is_captured_step_by_step_from_the_device_models_resumes_and_seals() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = blank_visit(&home);
    let sim = Sim::start(3, &["ef01", "isdv4", "gps", "--fast", "--json"]);
    let (scanner, pad, gps) = (sim.path(0), sim.path(1), sim.path(2));

    // The face first, alone.
    let out = capture(
        &home,
        &id,
        &["--only", "face", "--camera", "sim:ptp", "--yes"],
    );
    assert_success(&out);
    let v = stdout_json(&out);
    assert_eq!(ids(&v["ran"]), ["face"]);
    assert_eq!(v["ready"], false);
    let schema = jemput::schemas::all()
        .into_iter()
        .find(|(n, _)| *n == "visit-capture.schema.json")
        .expect("the visit-capture schema")
        .1;
    let schema = serde_json::to_value(&schema).unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(v.get(key.as_str().unwrap()).is_some(), "{key} missing: {v}");
    }
    assert_eq!(shown(&home, &id)["captures"]["face"]["status"], "captured");

    // Then everything: the face is in the draft, so the run resumes after it.
    let out = capture(
        &home,
        &id,
        &[
            "--camera",
            "sim:ptp",
            "--scanner",
            scanner.to_str().unwrap(),
            "--pad",
            pad.to_str().unwrap(),
            "--gps",
            gps.to_str().unwrap(),
            "--yes",
        ],
    );
    assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    let v = stdout_json(&out);
    let mut want = vec!["location".to_string()];
    want.extend(fingers(1));
    want.push("signature".into());
    assert_eq!(ids(&v["ran"]), want, "{err}");
    assert_eq!(v["ready"], true, "{v}");
    assert!(
        err.contains("finger 01 (right thumb) attempt 1/3: score"),
        "every attempt is printed: {err}"
    );
    assert!(
        !err.contains("face photo attempt"),
        "the face is not retaken: {err}"
    );

    let visit = shown(&home, &id);
    let c = &visit["captures"];
    assert_eq!(c["face"]["device"]["driver"], "ptp");
    for n in 1..=10 {
        assert_eq!(
            c["fingers"][n.to_string()]["device"]["driver"],
            "ef01",
            "{n}"
        );
    }
    assert_eq!(c["signature"]["device"]["driver"], "isdv4");
    assert!(visit["place"]["location"]["lat"].is_f64(), "{visit}");

    // Nothing left: a rerun captures nothing, and the visit seals.
    let out = capture(&home, &id, &["--camera", "sim:ptp", "--yes"]);
    assert_success(&out);
    assert_eq!(ids(&stdout_json(&out)["ran"]), Vec::<String>::new());
    let sealed = json(run(&home, &["seal", &id, "--json"]));
    assert_eq!(sealed["sealed"][0]["visit_id"], id.as_str(), "{sealed}");
    assert!(sim.stop());
}

#[test]
fn a_device_error_names_the_step_keeps_the_draft_and_a_rerun_resumes_there() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = blank_visit(&home);
    let broken = Sim::start(1, &["ef01", "--fast", "--fault", "unplug", "--json"]);
    let out = capture(
        &home,
        &id,
        &[
            "--scanner",
            broken.path(0).to_str().unwrap(),
            "--exception",
            "face=refused",
            "--exception",
            "signature=unable_to_sign",
            "--timeout",
            "10",
            "--yes",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("finger 01 (right thumb) failed"), "{err}");
    // Under the English error, the operator's line in Bahasa Indonesia.
    let failed = err
        .lines()
        .position(|l| l.contains("finger 01 (right thumb) failed"))
        .unwrap();
    assert_eq!(
        err.lines().nth(failed + 1).map(str::trim),
        Some("Pemindai sidik jari tidak terhubung. Colokkan kabel USB-nya (periksa juga kabel dan hub USB), lalu coba lagi."),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "run `jemput visit capture {id} …` again: it resumes at the finger 01"
        )),
        "{err}"
    );
    let v = stdout_json(&out);
    assert_eq!(ids(&v["ran"]), Vec::<String>::new());
    assert_eq!(ids(&v["pending"]), fingers(1));
    // The exceptions given were saved before the scanner failed.
    let c = shown(&home, &id)["captures"].clone();
    assert_eq!(c["face"]["reason"]["code"], "refused");
    assert_eq!(c["signature"]["reason"]["code"], "unable_to_sign");
    assert_eq!(c["fingers"], serde_json::json!({}));
    drop(broken);

    let healthy = Sim::start(1, &["ef01", "--fast", "--json"]);
    let out = capture(
        &home,
        &id,
        &["--scanner", healthy.path(0).to_str().unwrap(), "--yes"],
    );
    assert_success(&out);
    let v = stdout_json(&out);
    assert_eq!(ids(&v["ran"]), fingers(1));
    assert_eq!(v["ready"], true, "{v}");
}

#[test]
fn prompts_are_answered_from_stdin_and_end_of_input_stops_with_the_draft_kept() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = blank_visit(&home);
    // Face: an exception; finger 01: captured; finger 02: skipped; then stop.
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args([
            "visit",
            "capture",
            &id,
            "--camera",
            "sim:ptp",
            "--scanner",
            "sim:ef01",
            "--json",
        ])
        .write_stdin("x refused\n\ns\nq\n")
        .output()
        .unwrap();
    assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    let v = stdout_json(&out);
    assert_eq!(ids(&v["ran"]), ["face", "finger-01"], "{err}");
    assert_eq!(ids(&v["pending"]), fingers(2));
    assert!(
        err.contains("finger 02 (right index): skipped for now"),
        "{err}"
    );
    assert!(
        err.contains("stopped: the draft keeps every capture taken"),
        "{err}"
    );
    let c = shown(&home, &id)["captures"].clone();
    assert_eq!(c["face"]["reason"]["code"], "refused");
    assert_eq!(c["fingers"]["1"]["status"], "captured");
    assert!(c["fingers"].get("2").is_none());

    // No answers at all: nothing runs, and it says how to go without prompts.
    let out = capture(&home, &id, &["--scanner", "sim:ef01"]);
    assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pass --yes"), "{err}");
    assert_eq!(ids(&stdout_json(&out)["ran"]), Vec::<String>::new());

    // An exception over a capture needs --replace; the capture is kept without it.
    let out = capture(&home, &id, &["--exception", "1=bandaged", "--yes"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--replace"), "{err}");
    assert_eq!(
        shown(&home, &id)["captures"]["fingers"]["1"]["status"],
        "captured"
    );

    // A selector of the wrong kind, or a device that is not there: named, and nothing changes.
    for (args, says) in [
        (["--camera", "sim:ef01"], "cannot open the camera sim:ef01"),
        (
            ["--pad", "/dev/ttyJEMPUT-NONE"],
            "cannot open the signature pad /dev/ttyJEMPUT-NONE",
        ),
    ] {
        let mut args = args.to_vec();
        args.push("--yes");
        let out = capture(&home, &id, &args);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
    assert_eq!(
        shown(&home, &id)["captures"]["fingers"]["1"]["status"],
        "captured"
    );
}

#[test]
fn ctrl_c_stops_the_step_in_progress_and_the_draft_resumes() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = blank_visit(&home);
    // At true device speed a finger takes seconds: time to press Ctrl-C mid-capture.
    let sim = Sim::start(1, &["ef01", "--json"]);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--camera", "sim:ptp", "--scanner"])
        .arg(sim.path(0))
        .args(["--yes", "--json"])
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("finger 01 (right thumb): place") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    std::thread::sleep(Duration::from_millis(500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let begun = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(begun.elapsed() < Duration::from_secs(10), "Ctrl-C ignored");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(rest.contains("stopped (Ctrl-C)"), "{rest}");
    let c = shown(&home, &id)["captures"].clone();
    assert_eq!(
        c["face"]["status"], "captured",
        "the face taken before is kept"
    );
    assert_eq!(c["fingers"], serde_json::json!({}));
    let _ = std::io::stdout().flush();
}

#[test]
fn a_document_only_visit_takes_its_photo_and_a_step_is_redone_on_request() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = json(run(
        &home,
        &[
            "visit",
            "new",
            "--nik",
            NIK,
            "--category",
            "dokumen",
            "--consent",
            "resident",
            "--json",
        ],
    ))["visit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = capture(&home, &id, &["--camera", "sim:ptp", "--yes"]);
    assert_success(&out);
    let v = stdout_json(&out);
    assert_eq!(ids(&v["ran"]), ["document-1"]);
    assert_eq!(v["ready"], true, "{v}");
    let first = shown(&home, &id)["captures"]["documents"][0]["captured_at"].clone();

    let out = capture(
        &home,
        &id,
        &["--camera", "sim:ptp", "--redo", "document-1", "--yes"],
    );
    assert_success(&out);
    assert_eq!(ids(&stdout_json(&out)["ran"]), ["document-1"]);
    let docs = shown(&home, &id)["captures"]["documents"].clone();
    assert_eq!(
        docs.as_array().unwrap().len(),
        1,
        "taken again, not added: {docs}"
    );
    assert_ne!(docs[0]["captured_at"], first, "a new photo");

    let out = capture(
        &home,
        &id,
        &["--camera", "sim:ptp", "--redo", "face", "--yes"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--redo face: this visit has no such step"),
        "{err}"
    );
}

#[test]
fn at_a_prompt_a_device_error_is_tried_again_on_the_device_opened_afresh() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = blank_visit(&home);
    // The module is unplugged during its first image and its model ends: the first try fails,
    // the second opens the port afresh and finds no module behind it; then the operator stops.
    let broken = Sim::start(1, &["ef01", "--fast", "--fault", "unplug", "--json"]);
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args([
            "visit",
            "capture",
            &id,
            "--json",
            "--timeout",
            "5",
            "--scanner",
        ])
        .arg(broken.path(0))
        .write_stdin("\n\nq\n")
        .output()
        .unwrap();
    assert_success(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("finger 01 (right thumb) failed"), "{err}");
    assert!(err.contains("Enter: try again"), "{err}");
    assert!(
        err.contains(&format!(
            "cannot open the fingerprint scanner {}",
            broken.path(0).display()
        )),
        "the second try opens the port again: {err}"
    );
    // Both failures also say in Bahasa Indonesia what happened and what to do.
    assert!(
        err.contains("Pemindai sidik jari tidak terhubung. Colokkan kabel USB-nya"),
        "{err}"
    );
    let reopened = err
        .lines()
        .position(|l| l.contains("cannot open the fingerprint scanner"))
        .unwrap();
    let id_line = err.lines().nth(reopened + 1).unwrap_or("").trim();
    assert!(
        id_line.starts_with("Pemindai sidik jari ") && id_line.ends_with("lalu coba lagi."),
        "{err}"
    );
    let v = stdout_json(&out);
    assert_eq!(ids(&v["ran"]), Vec::<String>::new());
    assert_eq!(ids(&v["pending"]), fingers(1));
}

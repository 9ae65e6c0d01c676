//! Exceptions for a document-only visit's document photos (`--exception documents=REASON`, or
//! `akta=`, `kia=`, `kk=` for one document): recorded by `visit new`, by `visit capture` and at
//! its prompt, listed by `visit show`, sealed, and shown by `jemput open` and `export nist`; a
//! visit that records biometrics refuses them.

mod common;

use std::path::Path;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

fn shown(home: &Path, id: &str) -> Value {
    json(run(home, &["visit", "show", id, "--json"]))
}

#[test]
fn a_document_exception_at_the_start_is_shown_sealed_and_opened() {
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    let v = json(new_visit(
        &home,
        "dokumen",
        &["--exception", "documents=refused,permanent"],
    ));
    assert_eq!(v["ready"], true, "{v}");
    let id = v["visit_id"].as_str().unwrap();
    let s = shown(&home, id);
    let e = &s["visit"]["captures"]["document_exceptions"]["all"];
    assert_eq!(e["reason"]["code"], "refused", "{s}");
    assert_eq!(e["permanence"], "permanent", "{s}");
    assert_eq!(s["visit"]["captures"]["documents"], serde_json::json!([]));
    run(&home, &["visit", "show", id])
        .success()
        .stdout(predicate::str::contains(
            "exception documents: Menolak (permanen / permanent)",
        ));

    let sealed = json(run(&home, &["seal", id, "--json"]));
    assert_eq!(sealed["failed"], serde_json::json!([]), "{sealed}");
    let packet = sealed["sealed"][0]["path"].as_str().unwrap().to_string();
    let opened = d.path().join("opened");
    jemput()
        .args(["open", &packet, "--identity"])
        .arg(&keys.identity_file)
        .arg("--out")
        .arg(&opened)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("1 exceptions").and(predicate::str::contains(
                "exception documents: Menolak (permanen / permanent)",
            )),
        );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(opened.join("manifest.json")).unwrap()).unwrap();
    let e = &manifest["visit"]["captures"]["document_exceptions"]["all"];
    assert_eq!(e["reason"]["code"], "refused", "{manifest}");
}

#[test]
fn one_document_is_excused_beside_the_photos_taken_and_exported() {
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    // The synthetic photo stays: only the family card could not be photographed.
    let v = json(new_visit(
        &home,
        "dokumen",
        &["--synthetic", "--exception", "kk=other:left at home"],
    ));
    assert_eq!(v["ready"], true, "{v}");
    let id = v["visit_id"].as_str().unwrap();
    let s = shown(&home, id);
    let c = &s["visit"]["captures"];
    assert_eq!(c["documents"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(
        c["document_exceptions"]["kk"]["reason"],
        serde_json::json!({"code": "other", "text": "left at home"})
    );
    let sealed = json(run(&home, &["seal", id, "--json"]));
    let packet = sealed["sealed"][0]["path"].as_str().unwrap().to_string();
    let out = d.path().join("visit.an2");
    jemput()
        .args(["export", "nist", &packet, "--identity"])
        .arg(&keys.identity_file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    jemput()
        .args(["export", "inspect"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("document-kk"));

    // Every document photo excused: the synthetic photo is not kept.
    let v = json(new_visit(
        &home,
        "dokumen",
        &["--synthetic", "--exception", "documents=device_failure"],
    ));
    let s = shown(&home, v["visit_id"].as_str().unwrap());
    assert_eq!(s["visit"]["captures"]["documents"], serde_json::json!([]));
    assert_eq!(s["files"], serde_json::json!([]), "{s}");
    assert_eq!(v["ready"], true, "{v}");
}

#[test]
fn a_biometric_visit_or_an_overlap_refuses_a_document_exception_and_nothing_starts() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    for exception in ["documents=refused", "kk=refused", "documents:akta=refused"] {
        new_visit(&home, "lansia", &["--exception", exception])
            .failure()
            .stderr(predicate::str::contains(
                "a document-photo exception belongs only to a document-only visit (dokumen)",
            ));
    }
    new_visit(
        &home,
        "dokumen",
        &[
            "--exception",
            "kk=refused",
            "--exception",
            "documents=refused",
        ],
    )
    .failure()
    .stderr(predicate::str::contains("an exception for kk is recorded"));
    new_visit(
        &home,
        "dokumen",
        &["--exception", "kk=refused", "--exception", "kk=blind"],
    )
    .failure()
    .stderr(predicate::str::contains("two exceptions"));
    assert_eq!(
        json(run(&home, &["visit", "list", "--json"])),
        serde_json::json!([])
    );

    // visit capture refuses it too, before any device is opened, and the draft is unchanged.
    let id = new_visit_id(&home, "lansia", &[]);
    run(
        &home,
        &[
            "visit",
            "capture",
            &id,
            "--exception",
            "documents=refused",
            "--yes",
        ],
    )
    .failure()
    .stderr(predicate::str::contains(
        "a document-photo exception belongs only to a document-only visit (dokumen)",
    ));
    let s = shown(&home, &id);
    assert!(
        s["visit"]["captures"].get("document_exceptions").is_none(),
        "{s}"
    );
}

#[test]
fn visit_capture_records_a_document_exception_from_the_flag_and_at_the_prompt() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = new_visit_id(&home, "dokumen", &[]);
    // No camera needed: the exception stands for every document photo.
    let out = run(
        &home,
        &[
            "visit",
            "capture",
            &id,
            "--exception",
            "documents=refused",
            "--yes",
            "--json",
        ],
    );
    let v = json(out);
    assert_eq!(v["ready"], true, "{v}");
    let s = shown(&home, &id);
    assert_eq!(
        s["visit"]["captures"]["document_exceptions"]["all"]["reason"]["code"],
        "refused"
    );
    let sealed = json(run(&home, &["seal", &id, "--json"]));
    assert_eq!(sealed["failed"], serde_json::json!([]), "{sealed}");

    // At the prompt of a document step: `x kk REASON` names one document.
    let id = new_visit_id(&home, "dokumen", &[]);
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "capture", &id, "--camera", "sim:ptp", "--json"])
        .write_stdin("x kk bandaged\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ran"], serde_json::json!(["document-1"]), "{v}");
    assert_eq!(v["ready"], true, "{v}");
    let s = shown(&home, &id);
    assert_eq!(
        s["visit"]["captures"]["document_exceptions"]["kk"]["reason"]["code"],
        "bandaged_or_injured"
    );
    assert_eq!(s["visit"]["captures"]["documents"], serde_json::json!([]));
}

#[test]
fn at_a_later_document_prompt_every_photo_is_refused_beside_one_taken_and_asked_again() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = new_visit_id(&home, "dokumen", &[]);
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args([
            "visit",
            "capture",
            &id,
            "--camera",
            "sim:ptp",
            "--documents",
            "2",
        ])
        .args(["--json"])
        .write_stdin("\nx refused\nx kk refused\n")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("the draft holds 1 document photo(s)"),
        "the refusal is said: {err}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["ran"],
        serde_json::json!(["document-1", "document-2"]),
        "{v}"
    );
    let s = shown(&home, &id);
    let c = &s["visit"]["captures"];
    assert_eq!(
        c["documents"].as_array().unwrap().len(),
        1,
        "the photo is kept: {s}"
    );
    assert_eq!(
        c["document_exceptions"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["kk"]
    );
}

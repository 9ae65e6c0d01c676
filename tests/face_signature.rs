//! The face checks and the signature trace from the command line and through a sealed packet:
//! `jemput imaging face check`, `jemput capture signature --kind`, `jemput imaging signature
//! render`, the pen trace validated against `schemas/pen-trace.schema.json` by an independent
//! JSON Schema implementation (Python `jsonschema`, which `scripts/install-test-peers` installs), and the signature
//! kind surviving a seal and open.

mod common;

use std::path::Path;
use std::process::Command;

use common::{assert_success, jemput, office, seal_with};
use jemput_core::imaging::signature::{SignatureKind, SignatureTrace};
use jemput_core::keys::SigningKey;
use jemput_core::visit::Slot;
use jemput_drivers::synth;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
use serde_json::Value;

fn write_face(dir: &Path, background: [u8; 3]) -> std::path::PathBuf {
    let path = dir.join("face.jpg");
    std::fs::write(&path, synth::jpeg_rgb(&synth::face(4, background), 90)).unwrap();
    path
}

fn check(args: &[&str], photo: &Path) -> (i32, Value) {
    let out = jemput()
        .args(["imaging", "face", "check", "--json"])
        .args(args)
        .arg(photo)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

#[test]
fn face_check_passes_a_good_photo_and_fails_the_wrong_backdrop_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let photo = write_face(dir.path(), [200, 30, 40]);
    let (code, v) = check(&["--birth-year", "1981"], &photo);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["report"]["passed"], true);
    assert_eq!(v["report"]["checks"].as_array().unwrap().len(), 8);
    assert!(v["backdrop"].as_str().unwrap().contains("odd birth year"));

    // Born in an even year: blue expected, red found.
    let (code, v) = check(&["--birth-year", "1990"], &photo);
    assert_eq!(code, 1);
    let failed: Vec<&str> = v["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["background_colour"]);

    // No birth year: the colour rule is off, and the human output says so.
    let out = jemput()
        .args(["imaging", "face", "check"])
        .arg(&photo)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("backdrop colour not checked"), "{text}");
    assert!(text.contains("sharpness"), "{text}");
}

#[test]
fn face_check_of_a_file_that_is_no_image_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, b"not a photo").unwrap();
    let out = jemput()
        .args(["imaging", "face", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a readable image"), "{err}");
}

/// Every property in `schema` (recursively, with `$defs`) has a description.
fn undocumented(schema: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            if p.get("description").is_none() {
                out.push(format!("{at}.{name}"));
            }
            undocumented(p, &format!("{at}.{name}"), out);
        }
    }
    if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
        for (name, d) in defs {
            undocumented(d, &format!("$defs.{name}"), out);
        }
    }
}

#[test]
fn isdv4_model_traces_validate_against_the_documented_schema_and_render() {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/pen-trace.schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(&schema_path).unwrap()).unwrap();
    let mut missing = Vec::new();
    undocumented(&schema, "", &mut missing);
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:?}"
    );

    if !jemput_testkit::python_modules(
        &["jsonschema"],
        "python3 -m pip install jsonschema, or scripts/install-test-peers",
    ) {
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let (png, trace) = (dir.path().join("sig.png"), dir.path().join("sig.json"));
    let out = jemput()
        .args([
            "capture",
            "signature",
            "sim:isdv4",
            "--kind",
            "written-name",
        ])
        .arg("--out")
        .arg(&png)
        .arg("--trace")
        .arg(&trace)
        .output()
        .unwrap();
    assert_success(&out);
    let t = SignatureTrace::parse(&std::fs::read(&trace).unwrap()).unwrap();
    assert_eq!(t.kind, SignatureKind::WrittenName);
    assert_eq!(t.device.as_ref().unwrap().driver, "isdv4");
    assert!(t.points.iter().filter(|p| p.touching).count() > 50);

    // An independent validator: Python's jsonschema (Draft 2020-12).
    let py = "import json, sys, jsonschema\n\
              schema = json.load(open(sys.argv[1]))\n\
              jsonschema.Draft202012Validator.check_schema(schema)\n\
              jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))\n\
              bad = json.load(open(sys.argv[2])); bad['points'][0]['touching'] = 'yes'\n\
              errors = list(jsonschema.Draft202012Validator(schema).iter_errors(bad))\n\
              assert errors, 'a broken trace validated'\n\
              print('valid')";
    let out = Command::new("python3")
        .args(["-c", py])
        .arg(&schema_path)
        .arg(&trace)
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "valid",
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The PNG renders again from the trace alone.
    let again = dir.path().join("again.png");
    let out = jemput()
        .args(["imaging", "signature", "render", "--width", "900"])
        .arg(&trace)
        .arg(&again)
        .output()
        .unwrap();
    assert_success(&out);
    let img = image::open(&again).unwrap().to_luma8();
    assert_eq!(img.width(), 900);
    assert!(img.pixels().filter(|p| p.0[0] < 128).count() > 1_000);
}

#[test]
fn the_signature_kind_survives_a_seal_and_open() {
    let office = office();
    let kit = SigningKey::generate();
    for kind in [SignatureKind::SimpleMark, SignatureKind::WrittenName] {
        let (visit, files) = synthetic_visit(
            11,
            &SampleOptions {
                signature_kind: kind,
                ..Default::default()
            },
        );
        let sealed = seal_with(
            &kit,
            std::slice::from_ref(&office.keys.recipient),
            &visit,
            &files,
        );
        let c = jemput_core::packet::decrypt(&sealed.bytes, &office.identities, None).unwrap();
        match &c.manifest.visit.captures.signature {
            Some(Slot::Captured(cap)) => {
                assert_eq!(cap.signature_kind, Some(kind));
                assert!(cap.signature_kind.unwrap().is_flagged());
            }
            other => panic!("signature: {other:?}"),
        }
        let (_, trace) = c
            .files
            .iter()
            .find(|(n, _)| n == "signature-trace.json")
            .unwrap();
        assert_eq!(SignatureTrace::parse(trace).unwrap().kind, kind);
    }
}

#[test]
fn visit_new_records_the_signature_kind_and_open_shows_it_flagged() {
    let root = tempfile::tempdir().unwrap();
    let (home, keys) = common::kit_with_office(root.path());
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args(["visit", "new", "--synthetic", "--category", "lansia"])
        .args(["--nik", "7408014512500001", "--sex", "female"])
        .args(["--birth-date", "1950-12-05", "--consent", "resident"])
        .args(["--signature-kind", "simple-mark"])
        .output()
        .unwrap();
    assert_success(&out);
    let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args(["seal", &id, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packet = v["sealed"][0]["path"].as_str().unwrap().to_string();
    let opened = root.path().join("opened");
    let out = jemput()
        .args(["open", &packet, "--identity"])
        .arg(&keys.identity_file)
        .arg("--out")
        .arg(&opened)
        .output()
        .unwrap();
    assert_success(&out);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(opened.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["visit"]["captures"]["signature"]["signature_kind"],
        "simple_mark"
    );
    let trace = std::fs::read(opened.join("signature-trace.json")).unwrap();
    assert_eq!(
        SignatureTrace::parse(&trace).unwrap().kind,
        SignatureKind::SimpleMark
    );

    // Without --synthetic there is no signature to qualify: clap says so.
    let out = jemput()
        .arg("--home")
        .arg(&home)
        .args([
            "visit",
            "new",
            "--category",
            "lansia",
            "--nik",
            "7408014512500001",
        ])
        .args(["--signature-kind", "written-name"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--synthetic"));
}

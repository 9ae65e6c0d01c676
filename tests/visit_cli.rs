//! `jemput visit` as a new operator meets it: exceptions given when the visit starts (fingers, the
//! face, the signature), a worklist id the kit does not hold, what `visit list` and `visit show`
//! print, discarding a draft with a reason, and `seal` naming the command that fixes each problem.

mod common;

use common::*;
use predicates::prelude::*;

const NIK: &str = VISIT_NIK;

#[test]
fn exceptions_given_at_the_start_are_recorded_for_fingers_face_and_signature() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    // A finger's exception without --synthetic is kept, not dropped.
    let v = json(new_visit(&home, "lansia", &["--exception", "7=bandaged"]));
    let shown = json(run(
        &home,
        &["visit", "show", v["visit_id"].as_str().unwrap(), "--json"],
    ));
    assert_eq!(
        shown["visit"]["captures"]["fingers"]["7"]["reason"]["code"], "bandaged_or_injured",
        "{shown}"
    );
    assert!(
        !shown["problems"].to_string().contains("finger 7 "),
        "{shown}"
    );

    let v = json(new_visit(
        &home,
        "lansia",
        &[
            "--exception",
            "7=bandaged",
            "--exception",
            "face=refused",
            "--exception",
            "signature=unable_to_sign,permanent",
        ],
    ));
    let id = v["visit_id"].as_str().unwrap();
    let problems: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 9, "the nine other fingers: {problems:?}");
    assert!(
        problems.iter().all(|p| !p.contains("finger 7 ")),
        "{problems:?}"
    );
    assert!(problems.iter().all(|p| !p.contains("face")), "{problems:?}");
    assert!(
        problems.iter().all(|p| !p.contains("signature")),
        "{problems:?}"
    );

    let shown = json(run(&home, &["visit", "show", id, "--json"]));
    let c = &shown["visit"]["captures"];
    assert_eq!(c["fingers"]["7"]["status"], "exception", "{c}");
    assert_eq!(c["fingers"]["7"]["reason"]["code"], "bandaged_or_injured");
    assert_eq!(c["face"]["reason"]["code"], "refused");
    assert_eq!(c["signature"]["reason"]["code"], "unable_to_sign");
    assert_eq!(c["signature"]["permanence"], "permanent");

    // With --synthetic the face exception replaces the generated face: no face file is kept.
    let v = json(new_visit(
        &home,
        "lansia",
        &["--synthetic", "--exception", "face=blind"],
    ));
    let shown = json(run(
        &home,
        &["visit", "show", v["visit_id"].as_str().unwrap(), "--json"],
    ));
    assert_eq!(shown["visit"]["captures"]["face"]["status"], "exception");
    let files: Vec<&str> = shown["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(files.iter().all(|f| !f.starts_with("face")), "{files:?}");
    assert_eq!(v["ready"], true, "{v}");
}

#[test]
fn an_exception_that_names_nothing_or_no_slot_is_refused_with_what_to_use() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    for (exception, says) in [
        (
            "documents=refused",
            "a document-photo exception belongs only to a document-only visit",
        ),
        ("11=bandaged", "finger 1–10"),
        ("7=sleepy", "unknown exception reason"),
    ] {
        new_visit(&home, "lansia", &["--exception", exception])
            .failure()
            .stderr(predicate::str::contains(says));
    }
    new_visit(
        &home,
        "lansia",
        &["--exception", "7=bandaged", "--exception", "7=refused"],
    )
    .failure()
    .stderr(predicate::str::contains("two exceptions for the finger 07"));
    run(
        &home,
        &[
            "visit",
            "new",
            "--nik",
            NIK,
            "--category",
            "dokumen",
            "--exception",
            "face=refused",
        ],
    )
    .failure()
    .stderr(predicate::str::contains("document-only visit"));
    assert_eq!(
        json(run(&home, &["visit", "list", "--json"])),
        serde_json::json!([])
    );
}

#[test]
fn a_worklist_id_the_kit_does_not_hold_is_refused_and_nothing_starts() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    run(
        &home,
        &[
            "visit",
            "new",
            "--worklist",
            "7299999999999999",
            "--category",
            "lansia",
        ],
    )
    .failure()
    .stderr(predicate::str::contains(
        "\"7299999999999999\" is not in the synced worklist",
    ))
    .stderr(predicate::str::contains("jemput worklist"));
    assert_eq!(
        json(run(&home, &["visit", "list", "--json"])),
        serde_json::json!([])
    );
}

#[test]
fn list_and_show_name_the_resident_the_step_reached_and_whether_it_is_ready() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let partial = new_visit_id(
        &home,
        "lansia",
        &["--name", "Siti Aminah", "--exception", "face=refused"],
    );
    let done = new_visit_id(&home, "lansia", &["--synthetic"]);

    let list = json(run(&home, &["visit", "list", "--json"]));
    let entry = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["visit_id"] == id)
            .unwrap()
            .clone()
    };
    let p = entry(&partial);
    assert_eq!(p["resident"], format!("NIK {NIK}, Siti Aminah"));
    assert_eq!(p["category"], "lansia");
    assert_eq!(p["next_step"], "finger-01");
    assert_eq!(p["captures"], serde_json::json!([1, 12]));
    assert_eq!(p["ready"], false);
    let f = entry(&done);
    assert_eq!(f["next_step"], serde_json::Value::Null);
    assert_eq!(f["ready"], true);

    let text = stdout(run(&home, &["visit", "list"]));
    let line = text.lines().find(|l| l.starts_with(&partial)).unwrap();
    for want in [
        "lansia",
        "next finger-01 (1/12)",
        "not ready (11)",
        "Siti Aminah",
    ] {
        assert!(line.contains(want), "{want:?} in {line:?}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with(&done) && l.contains("ready to seal")),
        "{text}"
    );

    let shown = stdout(run(&home, &["visit", "show", &partial]));
    assert!(
        shown.contains(&format!("resident: NIK {NIK}, Siti Aminah")),
        "{shown}"
    );
    assert!(!shown.contains("Nik("), "no debug formatting: {shown}");
}

#[test]
fn seal_names_the_command_that_fixes_each_problem() {
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
            "lansia",
            "--json",
        ],
    ))["visit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = run(&home, &["seal", &id]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let lines: Vec<&str> = err.lines().collect();
    let missing: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("missing and no exception") || l.contains("consent not"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        missing.len(),
        13,
        "consent, face, 10 fingers, signature: {err}"
    );
    for i in missing {
        let fix = lines[i + 1];
        assert!(
            fix.trim_start().starts_with("fix: ")
                && fix.contains(&format!("jemput visit capture {id}")),
            "{} is followed by {fix:?}",
            lines[i]
        );
    }
    assert!(err.contains("--exception 7=REASON"), "{err}");
    // Starting a visit names the next commands once each, not once per finger.
    let out = run(
        &home,
        &["visit", "new", "--nik", NIK, "--category", "lansia"],
    )
    .success();
    let started = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let next: Vec<&str> = started.lines().filter(|l| l.contains("next: ")).collect();
    assert_eq!(
        next.len(),
        4,
        "consent, face, fingers, signature: {started}"
    );
    assert!(
        next.iter()
            .any(|l| l.contains("--only fingers --scanner SEL")),
        "{started}"
    );
    assert!(err.contains("--consent resident"), "{err}");
    let out = run(&home, &["seal", &id, "--json"]).failure();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let error = v["failed"][0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("fix: jemput visit capture {id} --only fingers")),
        "{error}"
    );
}

#[test]
fn a_draft_is_discarded_only_with_a_reason_and_leaves_an_audit_line() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let id = new_visit_id(&home, "lansia", &["--exception", "7=amputated,permanent"]);
    run(&home, &["visit", "discard", &id])
        .failure()
        .stderr(predicate::str::contains("--reason"));
    run(&home, &["visit", "discard", &id, "--reason", " "])
        .failure()
        .stderr(predicate::str::contains("only with a reason"));
    assert_eq!(
        json(run(&home, &["visit", "list", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    run(
        &home,
        &["visit", "discard", &id, "--reason", "resident moved away"],
    )
    .success()
    .stderr(predicate::str::contains("discarded visit"))
    .stderr(predicate::str::contains("discarded.jsonl"));
    assert_eq!(
        json(run(&home, &["visit", "list", "--json"])),
        serde_json::json!([])
    );
    let audit = std::fs::read_to_string(home.join("discarded.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(audit.trim()).unwrap();
    assert_eq!(line["visit_id"], id.as_str());
    assert_eq!(line["reason"], "resident moved away");
    assert_eq!(line["operator"], "op-1");
    assert_eq!(line["category"], "lansia");
    assert_eq!(line["progress"], serde_json::json!([1, 12]));
    assert!(!audit.contains(NIK), "no resident data in the audit line");

    run(&home, &["visit", "discard", &id, "--reason", "again"])
        .failure()
        .stderr(predicate::str::contains("no draft"));
}

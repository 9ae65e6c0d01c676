//! `jemput upload` and `jemput queue` on the command line.

use predicates::prelude::*;

use super::common::*;
use super::peer::{free_port, TusPeer};

#[test]
fn jemput_upload_json_reports_each_packet_and_queue_says_uploaded_no_receipt() {
    let Some(peer) = TusPeer::start() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    seal_one(&home);
    let out = run(&home, &["upload", "--endpoint", &peer.endpoint(), "--json"])
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["endpoint"], peer.endpoint());
    assert_eq!(v["packets"][0]["outcome"], "uploaded_no_receipt");
    assert_eq!(v["packets"][0]["bytes_sent"], v["packets"][0]["size"]);
    assert_eq!(v["stopped"], serde_json::Value::Null);
    jemput()
        .arg("--home")
        .arg(&home)
        .arg("queue")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("uploading")
                .and(predicate::str::contains("uploaded, no receipt")),
        );
}

#[test]
fn jemput_upload_without_a_hub_says_how_to_set_one_and_an_unreachable_one_exits_1_naming_why() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    jemput()
        .arg("--home")
        .arg(&home)
        .arg("upload")
        .assert()
        .failure()
        .stderr(predicate::str::contains("jemput config set hub-url"));
    seal_one(&home);
    let closed = format!("http://127.0.0.1:{}", free_port());
    run(&home, &["config", "set", "hub-url", &closed]).success();
    run(&home, &["upload", "--attempts", "1"])
        .code(1)
        .stdout(predicate::str::contains("not attempted"))
        .stderr(
            predicate::str::contains("upload stopped")
                .and(predicate::str::contains("/v1/uploads"))
                .and(predicate::str::contains("1 of 1 packets not delivered")),
        );
}

/// `--first-wait` sets the wait before the second attempt (the later ones double from it); out
/// of range, it is refused before anything is sent.
#[test]
fn first_wait_sets_the_wait_between_attempts_and_is_checked() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    seal_one(&home);
    let closed = format!("http://127.0.0.1:{}", free_port());
    let upload = |first_wait: &str| {
        let t = std::time::Instant::now();
        let out = run(
            &home,
            &[
                "upload",
                "--endpoint",
                &closed,
                "--attempts",
                "2",
                &format!("--first-wait={first_wait}"),
            ],
        );
        (out, t.elapsed())
    };
    // Two attempts at reaching the server: one wait between them, at least half the first.
    let (out, took) = upload("2.4");
    out.code(1)
        .stderr(predicate::str::contains("upload stopped"));
    assert!(took >= std::time::Duration::from_millis(1200), "{took:?}");
    for bad in ["31", "-1", "soon", "NaN"] {
        let (out, _) = upload(bad);
        out.code(2)
            .stderr(predicate::str::contains("a number of seconds from 0 to 30"));
    }
}

#[test]
fn hub_url_and_retention_hours_are_settings_checked_when_set() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let config = |args: &[&str]| {
        let mut c = jemput();
        c.arg("--home").arg(&home).arg("config").args(args);
        c
    };
    let shown = config(&["show", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&shown.get_output().stdout).unwrap();
    assert_eq!(v["retention_hours"], 24);
    assert_eq!(v["hub_url"], serde_json::Value::Null);
    config(&["set", "hub-url", "ftp://hub"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not an http:// or https:// URL"));
    config(&["set", "retention-hours", "a day"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("whole number of hours"));
    config(&["set", "hub-url", "http://10.0.0.2:8080"])
        .assert()
        .success();
    config(&["set", "retention-hours", "72"]).assert().success();
    let shown = config(&["show", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&shown.get_output().stdout).unwrap();
    assert_eq!(v["hub_url"], "http://10.0.0.2:8080");
    assert_eq!(v["retention_hours"], 72);
}

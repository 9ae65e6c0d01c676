//! The command line end to end: init, keys, config, visits, seal, inspect, verify, open, queue.

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn a_command_on_a_missing_home_says_how_to_create_it() {
    let d = tempfile::tempdir().unwrap();
    run(&d.path().join("nope"), &["queue"])
        .failure()
        .stderr(predicate::str::contains("no kit at").and(predicate::str::contains("jemput init")));
}

#[test]
fn the_home_comes_from_jemput_home_when_no_flag_is_given() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    jemput()
        .env("JEMPUT_HOME", &home)
        .args(["config", "show", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"kit_id\": \"kit-"));
}

#[test]
fn init_writes_keys_with_safe_modes_and_refuses_to_run_twice() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    let mode = |p: &str| {
        std::fs::metadata(home.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("keys/kit.ed25519"), 0o600);
    assert_eq!(mode("keys/draft.key.age"), 0o600);
    assert!(home.join("queue.sqlite").is_file());
    assert!(home.join("packets").is_dir());
    let cfg = std::fs::read_to_string(home.join("config.toml")).unwrap();
    assert!(cfg.contains(&keys.recipient));
    assert!(cfg.contains(&keys.hub_public_key));
    // No office secret anywhere in the kit home.
    let office_secret = std::fs::read_to_string(&keys.identity_file).unwrap();
    let secret_line = office_secret
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    for f in walk(&home) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret_line),
            "{f:?} holds the office key"
        );
    }
    run(&home, &["init", "--work-factor", "10"])
        .failure()
        .stderr(predicate::str::contains("already exists"));
}

#[test]
fn sealing_without_an_office_recipient_is_a_clear_error_and_keeps_the_draft() {
    let d = tempfile::tempdir().unwrap();
    let home = d.path().join("kit");
    run(&home, &["init", "--work-factor", "10", "--operator", "op"]).success();
    let id = stdout(run(
        &home,
        &[
            "visit",
            "new",
            "--synthetic",
            "--category",
            "umum",
            "--nik",
            "7408014512500001",
        ],
    ));
    run(&home, &["seal", &id])
        .failure()
        .stderr(predicate::str::contains("no office recipient configured"));
    run(&home, &["visit", "list"])
        .success()
        .stdout(predicate::str::contains(&id));
}

#[test]
fn seal_inspect_verify_open_round_trip() {
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    let packet = seal_one(&home);
    assert!(run(&home, &["visit", "list", "--json"])
        .success()
        .get_output()
        .stdout
        .starts_with(b"[]"));

    let v = json(
        jemput()
            .args(["packet", "inspect", "--json"])
            .arg(&packet)
            .assert(),
    );
    assert_eq!(v["header"]["format_version"], 1);
    assert_eq!(
        v["header"]["recipients"][0],
        jemput_core::keys::recipient_key_id(&keys.recipient)
    );

    let kit_key = v["header"]["kit_key"].as_str().unwrap().to_string();
    jemput()
        .args(["packet", "verify"])
        .arg(&packet)
        .args(["--kit-key", &kit_key])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ok:"));
    let other = jemput_core::keys::SigningKey::generate()
        .public()
        .to_string();
    jemput()
        .args(["packet", "verify", "--json"])
        .arg(&packet)
        .args(["--kit-key", &other])
        .assert()
        .failure()
        .stdout(predicate::str::contains("\"error_code\": \"wrong_kit\""));

    let out_dir = d.path().join("opened");
    jemput()
        .arg("open")
        .arg(&packet)
        .arg("--identity")
        .arg(&keys.identity_file)
        .arg("--out")
        .arg(&out_dir)
        .assert()
        .success()
        // Without --kit-key, open says which key it trusted: the one in the packet's own header.
        .stderr(predicate::str::contains(format!(
            "trusted the kit key in the packet's own header: {kit_key}"
        )));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["visit"]["category"], "lansia");
    assert!(out_dir.join("finger-01.wsq").is_file());
    assert!(out_dir.join("face.jpg").is_file());

    // Opening again into the same (now full) directory is refused.
    jemput()
        .arg("open")
        .arg(&packet)
        .arg("-i")
        .arg(&keys.identity_file)
        .arg("--out")
        .arg(&out_dir)
        .assert()
        .failure()
        .stderr(predicate::str::contains("choose a new --out"));
    // With --kit-key it checks that key and says nothing of trusting the header's.
    let v = json(
        jemput()
            .arg("open")
            .arg(&packet)
            .arg("-i")
            .arg(&keys.identity_file)
            .arg("--out")
            .arg(d.path().join("opened-2"))
            .args(["--kit-key", &kit_key, "--json"])
            .assert()
            .success()
            .stderr(predicate::str::contains("trusted the kit key").not()),
    );
    assert_eq!(
        (v["kit_key"].as_str(), v["kit_key_from"].as_str()),
        (Some(kit_key.as_str()), Some("given"))
    );

    let q = json(run(&home, &["queue", "--json"]));
    assert_eq!(q.as_array().unwrap().len(), 1);
    assert_eq!(q[0]["state"], "sealed");
}

#[test]
fn verify_names_what_failed_with_a_nonzero_exit() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let packet = seal_one(&home);
    let mut bytes = std::fs::read(&packet).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0xff;
    let bad = d.path().join("bad.jpk");
    std::fs::write(&bad, &bytes).unwrap();
    jemput()
        .args(["packet", "verify"])
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicate::str::contains("tampered payload"));
    std::fs::write(&bad, &bytes[..n / 2]).unwrap();
    jemput()
        .args(["packet", "verify"])
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicate::str::contains("truncated payload"));
    jemput()
        .args(["packet", "payload"])
        .arg(&bad)
        .assert()
        .failure();
}

#[test]
fn a_nik_that_disagrees_with_the_entered_data_must_be_confirmed() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    // The NIK says female (day 45); the operator entered male.
    let v = json(run(
        &home,
        &[
            "visit",
            "new",
            "--synthetic",
            "--category",
            "sakit",
            "--nik",
            "7408014503900001",
            "--sex",
            "male",
            "--birth-date",
            "1990-03-05",
            "--json",
        ],
    ));
    assert_eq!(v["ready"], false);
    assert!(v["problems"][0]
        .as_str()
        .unwrap()
        .contains("nik_sex_mismatch"));
    let id = v["visit_id"].as_str().unwrap();
    run(&home, &["seal", id])
        .failure()
        .stderr(predicate::str::contains("nik_sex_mismatch"));
    run(&home, &["visit", "confirm", id, "nik_sex_mismatch"]).success();
    run(&home, &["seal", id]).success();
}

#[test]
fn an_invalid_nik_is_refused_at_once() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    run(
        &home,
        &["visit", "new", "--category", "umum", "--nik", "12345"],
    )
    .failure()
    .stderr(predicate::str::contains("16 digit"));
}

#[test]
fn visit_new_foreigner_is_recorded_on_the_resident_and_absent_for_citizens() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let resident_of = |extra: &[&str]| -> serde_json::Value {
        let new = [
            "visit",
            "new",
            "--category",
            "umum",
            "--nik",
            "7408014501500003",
        ];
        let id = stdout(run(&home, &[&new[..], extra].concat()));
        json(run(&home, &["visit", "show", &id, "--json"]))["visit"]["resident"].clone()
    };
    assert_eq!(resident_of(&["--foreigner"])["foreigner"], true);
    let citizen = resident_of(&[]);
    assert!(citizen.get("foreigner").is_none(), "{citizen}");
}

#[test]
fn config_set_changes_the_capture_policy_and_refuses_an_unusable_one() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let show = || -> serde_json::Value { json(run(&home, &["config", "show", "--json"])) };
    let c = show();
    assert_eq!(c["capture"]["finger"]["threshold"], 40);
    assert_eq!(c["capture"]["face"]["threshold"], 50);
    assert_eq!(c["capture"]["finger"]["max_attempts"], 3);
    assert_eq!(c["capture"]["wsq_bitrate"], 0.75);
    for (key, value) in [
        ("finger-threshold", "55"),
        ("finger-max-attempts", "5"),
        ("finger-allow-forced", "false"),
        ("face-threshold", "70"),
        ("signature-threshold", "40"),
        ("wsq-bitrate", "1.5"),
    ] {
        run(&home, &["config", "set", key, value]).success();
    }
    let c = show();
    assert_eq!(c["capture"]["finger"]["threshold"], 55);
    assert_eq!(c["capture"]["finger"]["max_attempts"], 5);
    assert_eq!(c["capture"]["finger"]["allow_forced"], false);
    assert_eq!(c["capture"]["face"]["threshold"], 70);
    assert_eq!(c["capture"]["signature"]["threshold"], 40);
    assert_eq!(c["capture"]["wsq_bitrate"], 1.5);
    for (key, value, says) in [
        ("finger-max-attempts", "0", "at least 1 attempt"),
        ("finger-threshold", "101", "above 100"),
        ("face-threshold", "high", "score from 0 to 100"),
        ("signature-threshold", "101", "above 100"),
        ("wsq-bitrate", "20", "0.1–8.0"),
        ("finger-keep-best", "maybe", "true or false"),
    ] {
        run(&home, &["config", "set", key, value])
            .failure()
            .stderr(predicate::str::contains(says));
    }
    assert_eq!(
        show()["capture"]["finger"]["max_attempts"],
        5,
        "nothing bad was saved"
    );
}

#[test]
fn a_missing_or_corrupt_config_is_named_and_nothing_is_lost() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let packet = seal_one(&home);
    let cfg = home.join("config.toml");
    std::fs::write(&cfg, "kit_id = [broken").unwrap();
    run(&home, &["queue"])
        .failure()
        .stderr(predicate::str::contains("config").and(predicate::str::contains("corrupt")));
    std::fs::write(
        &cfg,
        "kit_id = \"kit-1\"\noffice_recipients = [\"age1nope\"]\n",
    )
    .unwrap();
    run(&home, &["queue"])
        .failure()
        .stderr(predicate::str::contains("age1nope"));
    // A capture policy that could never capture anything is named, not obeyed.
    std::fs::write(
        &cfg,
        "kit_id = \"kit-1\"\n[capture.finger]\nthreshold = 40\nmax_attempts = 0\nkeep_best = true\nallow_forced = true\n",
    )
    .unwrap();
    run(&home, &["queue"])
        .failure()
        .stderr(predicate::str::contains(
            "finger must be at least 1 attempt",
        ));
    std::fs::remove_file(&cfg).unwrap();
    run(&home, &["queue"])
        .failure()
        .stderr(predicate::str::contains("no kit at"));
    assert!(packet.is_file(), "the packet survives a broken config");
}

#[test]
fn payload_is_what_the_office_decrypts() {
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    let packet = seal_one(&home);
    let out = jemput()
        .args(["packet", "payload"])
        .arg(&packet)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(out.starts_with(b"age-encryption.org/v1\n"));
    let ids = jemput_core::keys::office::load_identities(&keys.identity_file).unwrap();
    let tar = age::decrypt(&ids[0], &out).unwrap();
    let (manifest, _, files) = jemput_core::packet::read_archive(&tar).unwrap();
    assert!(std::str::from_utf8(&manifest)
        .unwrap()
        .contains("\"packet_id\""));
    assert_eq!(files.len(), 13); // face, 10 fingers, signature image + trace
}

#[test]
fn office_keygen_prints_what_to_configure() {
    let d = tempfile::tempdir().unwrap();
    let v = json(
        jemput()
            .args(["office", "keygen", "--json", "--out"])
            .arg(d.path().join("o"))
            .assert(),
    );
    assert!(v["recipient"].as_str().unwrap().starts_with("age1"));
    jemput()
        .args(["office", "keygen", "--out"])
        .arg(d.path().join("o"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("refusing to overwrite"));
}

#[test]
fn devices_json_lists_every_serial_port_with_its_access() {
    let v = json(jemput().args(["devices", "--json"]).assert());
    // Never an empty list: a recorded PTP camera under umockdev-run as well as this machine's.
    let Some(recorded) = devices_under_umockdev("ptp-face.umockdev") else {
        return;
    };
    assert_eq!(recorded[0]["drivers"][0]["driver"], "ptp", "{recorded}");
    for p in v
        .as_array()
        .expect("a JSON array")
        .iter()
        .chain(recorded.as_array().unwrap())
    {
        assert!(p["path"].as_str().unwrap().starts_with("/dev/"));
        let status = p["access"]["status"].as_str().unwrap();
        assert!(
            ["accessible", "permission_denied", "busy", "unavailable"].contains(&status),
            "{status}"
        );
    }
}

fn doctor_json(home: &std::path::Path, expect_ok: bool) -> serde_json::Value {
    let a = run(home, &["doctor", "--json"]);
    let a = if expect_ok { a.success() } else { a.failure() };
    serde_json::from_slice(&a.get_output().stdout).unwrap()
}

fn statuses(report: &serde_json::Value, check: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| f["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn doctor_passes_a_healthy_kit_and_names_each_problem_with_its_fix() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    let r = doctor_json(&home, true);
    for check in [
        "config",
        "keys",
        "office_recipient",
        "hub_key",
        "queue",
        "clock",
        "disk",
        "permissions",
    ] {
        let s = statuses(&r, check);
        assert!(
            !s.is_empty() && s.iter().all(|s| s == "ok"),
            "{check}: {s:?} in {r:#}"
        );
    }

    // A signing key readable by others is an error, with the chmod that fixes it.
    let key = home.join("keys/kit.ed25519");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = doctor_json(&home, false);
    let bad = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "keys" && f["status"] == "error")
        .unwrap();
    assert!(
        bad["fix"].as_str().unwrap().starts_with("chmod 600"),
        "{bad}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // No office recipient: an error saying how to configure one.
    run(&home, &["config", "remove-recipient", &keys.recipient]).success();
    let r = doctor_json(&home, false);
    assert_eq!(statuses(&r, "office_recipient"), ["error"]);
}

#[test]
fn doctor_names_a_home_and_a_queue_open_to_other_users_with_the_chmod_that_fixes_them() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let queue = home.join("queue.sqlite");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&home), mode(&queue)), (0o700, 0o600));
    std::fs::set_permissions(&queue, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let a = run(&home, &["doctor", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let found: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "permissions")
        .collect();
    let fix_of = |needle: &str| {
        let f = found
            .iter()
            .find(|f| f["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no finding with {needle:?} in {found:#?}"));
        assert_ne!(f["status"], "ok", "{f}");
        f["fix"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        fix_of("(mode 755, should be 700)"),
        format!("chmod 700 {}", home.display())
    );
    assert_eq!(
        fix_of("(mode 644, should be 600)"),
        format!("chmod 600 {}", queue.display())
    );
    // Opening the queue for the check made both private (as every command does): so they are
    // warnings that they were open, and the next doctor finds all well.
    assert!(found.iter().all(|f| f["status"] == "warning"), "{found:#?}");
    assert_eq!((mode(&home), mode(&queue)), (0o700, 0o600));
    let r = doctor_json(&home, true);
    assert_eq!(statuses(&r, "permissions"), ["ok"]);

    // The text output shows the fix the same way as every other check.
    std::fs::set_permissions(&queue, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = stdout(run(&home, &["doctor"]).success());
    assert!(
        out.contains("[WARN] permissions")
            && out.contains(&format!("fix: chmod 600 {}", queue.display())),
        "{out}"
    );
}

#[test]
fn doctor_on_a_missing_home_says_how_to_create_it() {
    let d = tempfile::tempdir().unwrap();
    let r = doctor_json(&d.path().join("none"), false);
    assert_eq!(statuses(&r, "home"), ["error"]);
    let fix = r["findings"][0]["fix"].as_str().unwrap();
    assert!(fix.starts_with("jemput init --home"), "{fix}");
}

#[test]
fn calibrate_keeps_a_record_that_later_captures_reference() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let rec = json(run(
        &home,
        &["calibrate", "sim:isdv4", "--json", "--timeout", "20"],
    ));
    let id = rec["id"].as_str().unwrap();
    assert!(id.starts_with("isdv4-cal-"), "{id}");
    assert_eq!(rec["device"]["driver"], "isdv4");
    assert_eq!(rec["data"]["area"], serde_json::json!([600, 180]));
    assert!(home
        .join("calibrations")
        .join(format!("{id}.json"))
        .is_file());

    let rec = json(run(&home, &["calibrate", "sim:ef01", "--json"]));
    assert_eq!(rec["data"]["packet_size_bytes"], 128);
    assert_eq!(rec["data"]["security_level"], 3);
    assert_eq!(rec["data"]["blank_polls_without_finger"], 3);

    // A USB id that matches no adapter says what it looked for.
    run(&home, &["calibrate", "10c4:ea60"])
        .failure()
        .stderr(predicates::str::contains("jemput devices"));
    // A tty path needs its driver named.
    run(&home, &["calibrate", "/dev/ttyUSB9"])
        .failure()
        .stderr(predicates::str::contains("--driver"));
}

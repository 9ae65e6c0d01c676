//! Worklists, the signed sync document, the offline policy and `jemput status`, end to end: a real
//! hub on loopback, the `jemput` binary, real kit homes.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::wire::sync::{KitSettings, SyncBody, SyncDocument};
use jemput_kit::home::KitHome;
use jemput_kit::sync::client::{accept, load_state, SyncError, SYNC_FILE};
use predicates::prelude::*;

const NIK_1: &str = "7408014501500003";
const NIK_2: &str = "7408011203610004";

fn kit_id(home: &Path) -> String {
    KitHome::open(home).unwrap().config.kit_id
}

/// A hub in `root/hub` with the kit registered and a worklist: one entry for this kit, one for
/// every kit, one for another kit. Returns the running hub.
fn hub_with_worklist(root: &Path, home: &Path) -> (PathBuf, jemput_hub::HubHandle, HubBackend) {
    let data = root.join("hub");
    let backend = init_hub_cli(&data);
    let kit = KitHome::open(home).unwrap();
    let key = kit.kit_key().unwrap().public().to_string();
    hub_cmd(
        &data,
        &[
            "kits",
            "add",
            "--kit-id",
            &kit.config.kit_id,
            "--kit-key",
            &key,
        ],
    )
    .success();
    let csv = root.join("wl.csv");
    std::fs::write(
        &csv,
        format!(
            "nik,id,nama,alamat,rt/rw,desa,kategori,catatan,kit\n\
             {NIK_1},,Siti Aminah,\"Jl. Mawar 3, belakang masjid\",003/005,Lapadi,lansia,kursi roda,{}\n\
             ,WL-2,Budi Santoso,RSUD ruang 4,,Pujungan,rumah_sakit,,\n\
             {NIK_2},,Orang Lain,,,Lapadi,umum,,kit-someone-else\n",
            kit.config.kit_id
        ),
    )
    .unwrap();
    hub_cmd(&data, &["worklist", "import", csv.to_str().unwrap()])
        .success()
        .stdout(predicate::str::contains("imported 3 entries"));
    let handle = jemput_hub::spawn_local(&data).unwrap();
    run(home, &["config", "set", "hub-url", &handle.url]).success();
    run(
        home,
        &["config", "set", "hub-key", &handle.hub_key.to_string()],
    )
    .success();
    (data, handle, backend)
}

#[test]
fn worklist_import_reports_every_bad_row_and_imports_nothing() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    let _backend = init_hub_cli(&data);
    let bad = d.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "nik,id,name,desa,category\n\
             {NIK_1},,Siti,Lapadi,lansia\n\
             1234,,Short Nik,Lapadi,lansia\n\
             ,WL-9,Tourist,Lapadi,wisata\n"
        ),
    )
    .unwrap();
    hub_cmd(&data, &["worklist", "import", bad.to_str().unwrap()])
        .failure()
        .stderr(
            predicate::str::contains("2 bad row(s), nothing imported")
                .and(predicate::str::contains("line 3, column nik"))
                .and(predicate::str::contains("NIK harus 16 digit"))
                .and(predicate::str::contains("line 4, column category"))
                .and(predicate::str::contains("\"wisata\" is not a category")),
        );
    assert_eq!(
        json(hub_cmd(&data, &["worklist", "--json"])),
        serde_json::json!([])
    );
    assert!(!data.join("worklist.json").exists());

    let good = d.path().join("good.csv");
    std::fs::write(
        &good,
        format!("nik,name,desa,category\n{NIK_1},Siti,Lapadi,lansia\n"),
    )
    .unwrap();
    hub_cmd(&data, &["worklist", "import", good.to_str().unwrap()]).success();
    let list = json(hub_cmd(&data, &["worklist", "--json"]));
    assert_eq!(list[0]["id"], NIK_1);
    assert_eq!(list[0]["category"], "lansia");
    // A later bad import leaves the good worklist in place.
    hub_cmd(&data, &["worklist", "import", bad.to_str().unwrap()]).failure();
    assert_eq!(json(hub_cmd(&data, &["worklist", "--json"])), list);
    // The one import made is in the console's audit log, the refused ones are not.
    let log = jemput_hub::office::Office::open(&data)
        .unwrap()
        .audit(10)
        .unwrap();
    let log: Vec<_> = log
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(log, [(jemput_hub::office::CLI_ACTOR, "worklist.import")]);
}

#[test]
fn sync_brings_settings_and_this_kits_worklist_and_a_visit_starts_from_an_entry() {
    let d = tempfile::tempdir().unwrap();
    let (home, office) = kit_with_office(d.path());
    let (data, _hub, _backend) = hub_with_worklist(d.path(), &home);
    let second = jemput_core::keys::office::keygen(&d.path().join("office2")).unwrap();
    hub_cmd(
        &data,
        &["settings", "set", "office-recipient", &office.recipient],
    )
    .success();
    hub_cmd(
        &data,
        &["settings", "set", "office-recipient", &second.recipient],
    )
    .success();
    hub_cmd(&data, &["settings", "set", "retention-hours", "48"]).success();
    hub_cmd(&data, &["settings", "set", "max-days-since-sync", "3"]).success();

    let out = json(run(&home, &["sync", "--json"]));
    assert!(out["hub_id"].as_str().unwrap().starts_with("hub-"));
    assert_eq!(out["worklist_entries"], 2, "{out}");
    assert_eq!(
        out["office_recipients"],
        serde_json::json!([office.recipient, second.recipient])
    );
    assert_eq!(out["retention_hours"], 48);
    assert!(out["clock_skew_secs"].as_i64().unwrap().abs() <= 2);
    assert!(home.join(SYNC_FILE).exists());
    let config = KitHome::open(&home).unwrap().config;
    assert_eq!(config.office_recipients.len(), 2);
    assert_eq!(config.retention_hours, 48);

    let list = json(run(&home, &["worklist", "--json"]));
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![NIK_1, "WL-2"], "another kit's entry is not sent");

    let status = json(run(&home, &["status", "--json"]));
    assert_eq!(status["limits"][0]["limit"], "max_days_since_sync");
    assert_eq!(status["limits"][0]["value"], 3);
    assert_eq!(status["limits"][0]["source"], "hub");
    assert_eq!(status["last_sync"]["worklist_entries"], 2);

    // A visit from the entry with a NIK records the NIK; one without, the entry id.
    for (entry, want_ref, category) in [
        (
            NIK_1,
            serde_json::json!({"kind": "nik", "value": NIK_1}),
            "lansia",
        ),
        (
            "WL-2",
            serde_json::json!({"kind": "worklist", "value": "WL-2"}),
            "rumah_sakit",
        ),
    ] {
        let v = json(run(
            &home,
            &[
                "visit",
                "new",
                "--worklist",
                entry,
                "--consent",
                "resident",
                "--json",
            ],
        ));
        let id = v["visit_id"].as_str().unwrap();
        let shown = json(run(&home, &["visit", "show", id, "--json"]));
        assert_eq!(shown["visit"]["resident"]["reference"], want_ref);
        assert_eq!(shown["visit"]["category"], category);
        assert!(shown["visit"]["resident"]["name"].is_string());
    }
    let v = json(run(&home, &["visit", "new", "--worklist", NIK_1, "--json"]));
    let shown = json(run(
        &home,
        &["visit", "show", v["visit_id"].as_str().unwrap(), "--json"],
    ));
    assert_eq!(shown["visit"]["resident"]["name"], "Siti Aminah");
    assert_eq!(
        shown["visit"]["place"]["description"],
        "Jl. Mawar 3, belakang masjid, RT/RW 003/005, Desa Lapadi"
    );
}

#[test]
fn a_forged_document_or_an_unregistered_kit_is_refused_and_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (home, office) = kit_with_office(d.path());
    let (_data, hub, _backend) = hub_with_worklist(d.path(), &home);
    // The kit pins another key: what the hub signed cannot verify, as a forger's document would not.
    let other = SigningKey::generate().public().to_string();
    run(&home, &["config", "set", "hub-key", &other]).success();
    run(&home, &["sync"])
        .failure()
        .stderr(predicate::str::contains(
            "does not verify with the pinned hub key",
        ));
    assert!(!home.join(SYNC_FILE).exists());
    assert_eq!(
        KitHome::open(&home).unwrap().config.office_recipients,
        vec![office.recipient.clone()]
    );
    run(&home, &["worklist", "--json"])
        .success()
        .stdout(predicate::str::diff("[]\n"));

    // Another kit the hub does not know is refused by request authentication.
    let d2 = tempfile::tempdir().unwrap();
    let (stranger, _) = kit_with_office(d2.path());
    run(&stranger, &["config", "set", "hub-url", &hub.url]).success();
    run(
        &stranger,
        &["config", "set", "hub-key", &hub.hub_key.to_string()],
    )
    .success();
    run(&stranger, &["sync"])
        .failure()
        .stderr(predicate::str::contains("HTTP 401").and(predicate::str::contains("not accepted")));
}

fn body(kit_id: &str, issued_at: jiff::Timestamp, settings: KitSettings) -> SyncBody {
    SyncBody {
        sync_version: 1,
        hub_id: "hub-test".into(),
        kit_id: kit_id.into(),
        issued_at,
        settings,
        worklist: vec![],
    }
}

/// Pins a fresh hub key on the kit and returns it, for documents made in the test.
fn pin_test_hub(home: &Path) -> SigningKey {
    let key = SigningKey::generate();
    run(
        home,
        &["config", "set", "hub-key", &key.public().to_string()],
    )
    .success();
    key
}

/// Accepts a document as a sync at `received` would, with no network.
fn accept_doc(
    home: &Path,
    key: &SigningKey,
    b: SyncBody,
    received: jiff::Timestamp,
) -> Result<(), SyncError> {
    let mut kit = KitHome::open(home).unwrap();
    let doc = SyncDocument::sign(&b, key);
    accept(&mut kit, doc, b, "http://127.0.0.1:9", received, received).map(|_| ())
}

#[test]
fn a_stale_or_misdirected_document_is_refused_and_the_accepted_one_stays() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let key = pin_test_hub(&home);
    let kit = kit_id(&home);
    let now = jiff::Timestamp::now();
    accept_doc(&home, &key, body(&kit, now, KitSettings::default()), now).unwrap();
    let kept = std::fs::read(home.join(SYNC_FILE)).unwrap();

    let older = now - jiff::SignedDuration::from_secs(3600);
    let err = accept_doc(&home, &key, body(&kit, older, KitSettings::default()), now).unwrap_err();
    assert!(matches!(err, SyncError::Stale { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("older than the one already accepted"));
    let err = accept_doc(
        &home,
        &key,
        body("kit-other", now, KitSettings::default()),
        now,
    )
    .unwrap_err();
    assert!(matches!(err, SyncError::WrongKit { .. }), "{err}");
    assert_eq!(std::fs::read(home.join(SYNC_FILE)).unwrap(), kept);

    // A hand-edited sync.json (say, to switch a limit off) no longer verifies and is not used.
    let text = String::from_utf8(kept).unwrap();
    std::fs::write(home.join(SYNC_FILE), text.replace("hub-test", "hub-tesT")).unwrap();
    let e = load_state(&KitHome::open(&home).unwrap()).unwrap_err();
    assert!(e.to_string().contains("cannot be used"), "{e}");
}

#[test]
fn a_document_with_an_unusable_capture_policy_is_refused_and_changes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let key = pin_test_hub(&home);
    let kit = kit_id(&home);
    let before = KitHome::open(&home).unwrap().config;
    let mut capture = jemput_core::visit::policy::CapturePolicy::default();
    capture.finger.max_attempts = 0;
    let settings = KitSettings {
        capture: Some(capture),
        retention_hours: Some(1),
        ..KitSettings::default()
    };
    let now = jiff::Timestamp::now();
    let err = accept_doc(&home, &key, body(&kit, now, settings), now).unwrap_err();
    assert!(matches!(err, SyncError::BadCapturePolicy(_)), "{err}");
    assert!(err.to_string().contains("at least 1 attempt"), "{err}");
    assert!(!home.join(SYNC_FILE).exists());
    assert_eq!(KitHome::open(&home).unwrap().config, before);
}

fn drafts(home: &Path) -> usize {
    json(run(home, &["visit", "list", "--json"]))
        .as_array()
        .unwrap()
        .len()
}

fn refused(home: &Path, says: &[&str]) {
    let before = drafts(home);
    let out = run(
        home,
        &["visit", "new", "--nik", NIK_1, "--category", "lansia"],
    )
    .failure()
    .get_output()
    .stderr
    .clone();
    let err = String::from_utf8_lossy(&out);
    for s in
        std::iter::once("kunjungan baru ditolak / new visit refused").chain(says.iter().copied())
    {
        assert!(err.contains(s), "expected {s:?} in:\n{err}");
    }
    assert_eq!(drafts(home), before, "a refused visit leaves no draft");
}

#[test]
fn each_offline_limit_refuses_a_new_visit_naming_the_limit_and_the_value_in_both_languages() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let set = |k: &str, v: &str| run(&home, &["config", "set", k, v]).success();

    set("max-days-since-sync", "5");
    refused(
        &home,
        &[
            "belum pernah sinkron",
            "never synced",
            "max_days_since_sync = 5",
        ],
    );
    let key = pin_test_hub(&home);
    let kit = kit_id(&home);
    let nine_days_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(9 * 24);
    accept_doc(
        &home,
        &key,
        body(&kit, nine_days_ago, KitSettings::default()),
        nine_days_ago,
    )
    .unwrap();
    refused(
        &home,
        &[
            "sudah 9.0 hari",
            "9.0 days since the last sync",
            "jemput sync",
        ],
    );
    set("max-days-since-sync", "off");

    seal_one(&home);
    set("max-backlog-packets", "1");
    refused(
        &home,
        &[
            "1 paket belum diterima",
            "1 packets not yet acknowledged",
            "max_backlog_packets = 1",
            "jemput upload",
        ],
    );
    set("max-backlog-packets", "off");
    set("max-backlog-bytes", "1000");
    refused(
        &home,
        &[
            "max_backlog_bytes",
            "not yet acknowledged",
            "belum diterima",
        ],
    );
    set("max-backlog-bytes", "off");

    set("min-free-disk-bytes", &(1u64 << 60).to_string());
    refused(
        &home,
        &["sisa ruang disk", "of free disk", "min_free_disk_bytes"],
    );
    set("min-free-disk-bytes", "off");

    // A sync whose document the hub issued 10 minutes before the kit's clock says it arrived.
    let now = jiff::Timestamp::now();
    accept_doc(
        &home,
        &key,
        body(
            &kit,
            now - jiff::SignedDuration::from_secs(600),
            KitSettings::default(),
        ),
        now,
    )
    .unwrap();
    set("max-clock-skew-secs", "300");
    refused(
        &home,
        &[
            "selisih 600 detik",
            "600 s off the hub's",
            "max_clock_skew_secs = 300",
        ],
    );
    set("max-clock-skew-secs", "off");

    // The hub's settings win over the kit's: a limit it sets applies though the config has none.
    let strict = KitSettings {
        policy: jemput_core::offline::OfflinePolicy {
            max_backlog_packets: Some(1),
            ..Default::default()
        },
        ..Default::default()
    };
    accept_doc(
        &home,
        &key,
        body(&kit, jiff::Timestamp::now(), strict),
        jiff::Timestamp::now(),
    )
    .unwrap();
    refused(&home, &["max_backlog_packets = 1"]);
}

#[test]
fn online_only_refuses_a_visit_while_the_hub_is_down_and_allows_it_when_it_answers() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let (data, hub, _backend) = hub_with_worklist(d.path(), &home);
    run(&home, &["config", "set", "online-only", "true"]).success();
    run(
        &home,
        &["visit", "new", "--nik", NIK_1, "--category", "lansia"],
    )
    .success();
    // Seal, then upload at once: the packet is acknowledged without a separate `jemput upload`.
    seal_one(&home);
    let q = json(run(&home, &["queue", "--json"]));
    assert_eq!(q[0]["state"], "acknowledged", "{q}");
    let url = hub.url.clone();
    hub.shutdown().unwrap();
    refused(
        &home,
        &[
            "mode wajib daring",
            "online-only mode is on",
            &url,
            "cannot be reached",
        ],
    );
    // Also when the hub turns it on for its kits and the kit's own config says nothing.
    run(&home, &["config", "set", "online-only", "unset"]).success();
    hub_cmd(&data, &["settings", "set", "online-only", "true"]).success();
    let hub = jemput_hub::spawn_local(&data).unwrap();
    run(&home, &["config", "set", "hub-url", &hub.url]).success();
    run(&home, &["sync"]).success();
    let status = json(run(&home, &["status", "--json"]));
    assert_eq!(status["online_only"], true);
    assert_eq!(status["online_only_source"], "hub");
    hub.shutdown().unwrap();
    refused(&home, &["online-only mode is on"]);
}

#[test]
fn status_json_counts_the_queue_and_says_how_close_each_limit_is() {
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let s = json(run(&home, &["status", "--json"]));
    assert_eq!(s["last_sync"], serde_json::Value::Null);
    assert_eq!(s["packets_waiting"], 0);
    assert_eq!(s["new_visit_allowed"], true);
    let names: Vec<&str> = s["limits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["limit"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "max_days_since_sync",
            "max_backlog_packets",
            "max_backlog_bytes",
            "min_free_disk_bytes",
            "max_clock_skew_secs"
        ]
    );
    assert!(s["limits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["value"].is_null()));

    seal_one(&home);
    seal_one(&home);
    run(&home, &["config", "set", "max-backlog-packets", "4"]).success();
    let s = json(run(&home, &["status", "--json"]));
    assert_eq!(s["queue"]["sealed"], 2);
    assert_eq!(s["queue"]["acknowledged"], 0);
    assert_eq!(s["packets_waiting"], 2);
    let sizes: u64 = json(run(&home, &["queue", "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["size"].as_u64().unwrap())
        .sum();
    assert_eq!(s["bytes_waiting"], sizes);
    let backlog = &s["limits"][1];
    assert_eq!(backlog["value"], 4);
    assert_eq!(backlog["source"], "local");
    assert_eq!(backlog["current"], 2.0);
    assert_eq!(backlog["used"], 0.5);
    assert_eq!(backlog["exceeded"], false);
    assert!(s["free_disk_bytes"].as_u64().unwrap() > 0);
    run(&home, &["config", "set", "max-backlog-packets", "2"]).success();
    let s = json(run(&home, &["status", "--json"]));
    assert_eq!(s["limits"][1]["exceeded"], true);
    assert_eq!(s["new_visit_allowed"], false);
    run(&home, &["status"])
        .success()
        .stdout(predicate::str::contains("NEW VISITS REFUSED"));
}

#[test]
fn the_demo_syncs_a_worklist_from_its_hub_and_starts_its_visits_from_it() {
    let d = tempfile::tempdir().unwrap();
    let keep = d.path().join("demo");
    let v = json(
        jemput()
            .args(["demo", "--json", "--visits", "2", "--keep"])
            .arg(&keep)
            .assert(),
    );
    let home = PathBuf::from(v["kit_home"].as_str().unwrap());
    let list = json(run(&home, &["worklist", "--json"]));
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["DEMO-001", "DEMO-002"]);
    let s = json(run(&home, &["status", "--json"]));
    assert_eq!(s["last_sync"]["worklist_entries"], 2);
    assert_eq!(s["new_visit_allowed"], true);
    // The packet the demo opened carries the first entry as its resident reference.
    let manifest =
        std::fs::read_to_string(PathBuf::from(v["opened"].as_str().unwrap()).join("manifest.json"))
            .unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(
        m["visit"]["resident"]["reference"],
        serde_json::json!({"kind": "worklist", "value": "DEMO-001"}),
        "{m:#}"
    );
}

#[test]
fn hub_settings_start_from_the_recommended_limits_and_refuse_bad_values() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    let _backend = init_hub_cli(&data);
    let s = json(hub_cmd(&data, &["settings", "--json"]));
    assert_eq!(s["policy"]["max_days_since_sync"], 14);
    assert_eq!(s["policy"]["max_clock_skew_secs"], 300);
    assert_eq!(s["policy"]["online_only"], false);
    hub_cmd(&data, &["settings", "set", "max-days-since-sync", "seven"])
        .failure()
        .stderr(predicate::str::contains("takes a whole number, or `off`"));
    hub_cmd(
        &data,
        &["settings", "set", "office-recipient", "age1nonsense"],
    )
    .failure();
    hub_cmd(&data, &["settings", "set", "max-days-since-sync", "off"]).success();
    let s = json(hub_cmd(&data, &["settings", "--json"]));
    assert!(s["policy"].get("max_days_since_sync").is_none(), "{s}");
    assert_eq!(s["policy"]["max_backlog_packets"], 500);

    // No capture policy until one is set; an unusable one is refused and nothing is saved.
    assert!(s.get("capture").is_none(), "{s}");
    for (key, value, says) in [
        ("finger-max-attempts", "0", "at least 1 attempt"),
        ("face-threshold", "101", "above 100"),
        ("wsq-bitrate", "fast", "takes a number"),
        ("capture-policy", "strict", "`default` or `off`"),
    ] {
        hub_cmd(&data, &["settings", "set", key, value])
            .failure()
            .stderr(predicate::str::contains(says));
    }
    assert!(json(hub_cmd(&data, &["settings", "--json"]))
        .get("capture")
        .is_none());
    // A hand-edited settings file with an unusable policy is named, not served. (On PostgreSQL
    // the settings are a row of `documents`, changed only through the hub: no file to edit.)
    if postgres_backend_wanted() {
        return;
    }
    let file = data.join("kit-settings.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{text}\n[capture.finger]\nthreshold = 120\nmax_attempts = 3\nkeep_best = true\nallow_forced = true\n"),
    )
    .unwrap();
    hub_cmd(&data, &["settings"]).failure().stderr(
        predicate::str::contains("kit-settings.toml").and(predicate::str::contains("above 100")),
    );
}

#[test]
fn the_hubs_capture_policy_reaches_the_kit_at_sync_and_off_leaves_the_kits_own() {
    let d = tempfile::tempdir().unwrap();
    let (home, _office) = kit_with_office(d.path());
    let (data, _hub, _backend) = hub_with_worklist(d.path(), &home);
    run(&home, &["config", "set", "finger-threshold", "30"]).success();
    hub_cmd(&data, &["settings", "set", "finger-threshold", "55"]).success();
    hub_cmd(&data, &["settings", "set", "face-threshold", "60"]).success();
    hub_cmd(&data, &["settings", "set", "finger-allow-forced", "false"]).success();
    let s = json(hub_cmd(&data, &["settings", "--json"]));
    assert_eq!(
        s["capture"]["finger"]["max_attempts"], 3,
        "the rest from the defaults: {s}"
    );

    let out = json(run(&home, &["sync", "--json"]));
    assert_eq!(out["capture_policy_from_hub"], true);
    let c = KitHome::open(&home).unwrap().config.capture;
    assert_eq!(
        (c.finger.threshold, c.finger.allow_forced, c.face.threshold),
        (55, false, 60)
    );

    // `off`: the next sync leaves whatever the kit has.
    hub_cmd(&data, &["settings", "set", "capture-policy", "off"]).success();
    run(&home, &["config", "set", "finger-threshold", "35"]).success();
    let out = json(run(&home, &["sync", "--json"]));
    assert_eq!(out["capture_policy_from_hub"], false);
    assert_eq!(
        KitHome::open(&home)
            .unwrap()
            .config
            .capture
            .finger
            .threshold,
        35
    );
}

#[test]
fn a_kit_whose_clock_the_hub_finds_stale_is_told_how_far_off_it_is() {
    use axum::http::{header, StatusCode};
    // A hub that refuses as ours does when the request time is outside the replay window, and
    // whose clock (Date) is an hour behind the kit's.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let app = axum::Router::new().route(
            "/v1/sync",
            axum::routing::get(|| async {
                let hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
                (
                    StatusCode::UNAUTHORIZED,
                    [(
                        header::DATE,
                        hour_ago.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                    )],
                    "stale request time: t=1 is more than 300 s from the hub's time 2\n",
                )
            }),
        );
        axum::serve(listener, app).await.unwrap();
    });
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    pin_test_hub(&home);
    let out = run(&home, &["sync", "--hub-url", &format!("http://{addr}")])
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("HTTP 401") && err.contains("stale request time"),
        "{err}"
    );
    let off: i64 = err
        .split("clock is ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no skew in: {err}"));
    assert!((3595..=3605).contains(&off), "{err}");
    assert!(!home.join(SYNC_FILE).exists());
}

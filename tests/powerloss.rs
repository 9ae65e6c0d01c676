//! Power cuts, not only kill -9: the kit home lives on `jemput-powerloss`, a FUSE filesystem that
//! keeps every write in memory until it is synced and, when the power is cut, drops everything
//! not synced (sometimes tearing the last write). A child `jemput stress-seal` saves drafts and
//! seals visits through the real code path; the power goes after a random number of filesystem
//! operations; the disk is mounted again with only what was durable, and then:
//!
//! - every packet the child reported sealed is present, in the queue, verifies and decrypts;
//! - every draft the child reported saved is still a draft that loads, or was sealed;
//! - the queue and `packets/` agree exactly; recovery runs on open, with no manual step, and
//!   `jemput doctor` reports no error the kit did not have before the cuts.
//!
//! A second run cuts the power under `jemput upload` (the hub on an ordinary disk): nothing queued
//! is lost, every receipt the kit stored is for a packet the hub holds byte for byte, and one
//! drain afterwards delivers everything (`JEMPUT_POWERLOSS_UPLOAD_ROUNDS`, default 12).
//!
//! At the hub, besides cuts at random operations while it takes packets, targeted rounds hold the
//! hub at one point of its completion path (packet verified, receipt signed, packet moved into
//! place, receipt committed: the test-only `JEMPUT_TEST_HUB_HOLD`, `hub/src/test_hold.rs`) and cut
//! the power there or a few operations later (`JEMPUT_POWERLOSS_RECEIPT_ROUNDS`, default 16).
//!
//! The hub answers a `PATCH` without an fsync (`docs/hub-protocol.md` §6): on this disk a cut
//! takes every chunk not yet part of a stored packet, and the hub must then report only the bytes
//! it holds, so that the kit's re-upload completes (`JEMPUT_POWERLOSS_HUB_ROUNDS`, default 25).
//!
//! `JEMPUT_POWERLOSS_ROUNDS` (default 30) and `JEMPUT_POWERLOSS_SEED` replay a run. The negative
//! control runs the same with `JEMPUT_TEST_SKIP_FSYNC=atomic-dir` (core's fsutil then skips the
//! directory fsync after a durable rename) and must see packets lost; the hub's controls skip the
//! fsync of `packets/` after a packet is moved in (`hub-packets-dir`) or the fsync of a packet's
//! bytes before it is moved there (`hub-packet-data`).
//!
//! Needs FUSE (`/dev/fuse`, and root or `fusermount3`); without it every test here is skipped with a
//! `SKIPPED` line on stderr, or fails under `JEMPUT_REQUIRE_PEERS=1` (as in CI).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use jemput_core::packet;
use jemput_kit::home::KitHome;
use jemput_powerloss::{RemoteDisk, RemoteMounted, Tear};
use rand::{Rng, SeedableRng};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A power-loss disk served by `jemput-powerloss-server` in a process of its own (the test
/// process is only a client of the mount), with a watchdog that kills the server and detaches the
/// mount once the test has run `deadline`: a stuck mount fails the test instead of hanging it.
///
/// The root package's tests cannot name another package's binary (`CARGO_BIN_EXE_*` covers only
/// their own), so the server is built here beside `jemput`, with the cargo that builds the
/// tests: a no-op when it is fresh.
fn start_disk(deadline: Duration) -> RemoteDisk {
    static SERVER: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let server = SERVER.get_or_init(|| {
        let jemput = assert_cmd::cargo::cargo_bin("jemput");
        let profile_dir = jemput.parent().unwrap();
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "--quiet", "-p", "jemput-powerloss"])
            .args(["--bin", "jemput-powerloss-server", "--target-dir"])
            .arg(profile_dir.parent().unwrap())
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name() == Some("release".as_ref()) {
            build.arg("--release");
        }
        let status = build.status().unwrap();
        assert!(status.success(), "building jemput-powerloss-server failed");
        profile_dir.join("jemput-powerloss-server")
    });
    RemoteDisk::start(server, deadline)
        .unwrap_or_else(|e| panic!("starting the power-loss server: {e}"))
}

/// A child process killed when dropped: a hub left running after a failed check would hold
/// files on the power-loss mount and keep it from being unmounted.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The watchdog's deadline for a run of `rounds` cuts: generous (a round takes about a second).
fn deadline_for(rounds: u64) -> Duration {
    Duration::from_secs(180 + 10 * rounds)
}

/// What a child printed before the power went.
#[derive(Default)]
struct Reported {
    sealed: Vec<(String, PathBuf)>,
    drafts: Vec<String>,
}

/// Runs `jemput stress-seal` on the disk until the power cut ends it (or it is killed after 60 s).
fn run_child(home: &Path, seed: u64, skip_fsync: Option<&str>) -> Reported {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("jemput"));
    cmd.arg("--home")
        .arg(home)
        .args([
            "stress-seal",
            "--count",
            "100000",
            "--seed",
            &seed.to_string(),
        ])
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .env_remove("RUST_LOG")
        .env_remove("JEMPUT_TEST_SKIP_FSYNC")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(which) = skip_fsync {
        cmd.env("JEMPUT_TEST_SKIP_FSYNC", which);
    }
    let mut child = cmd.spawn().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let lines = lines.clone();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait().unwrap();
    reader.join().unwrap();
    let mut r = Reported::default();
    for l in lines.lock().unwrap().iter() {
        let mut it = l.splitn(3, ' ');
        match (it.next(), it.next(), it.next()) {
            (Some("SEALED"), Some(id), Some(path)) => {
                r.sealed.push((id.to_string(), PathBuf::from(path)))
            }
            (Some("DRAFT"), Some(id), None) => r.drafts.push(id.to_string()),
            _ => {}
        }
    }
    r
}

/// The checks of `jemput doctor --json` that report an error.
fn doctor_errors(home: &Path) -> BTreeSet<String> {
    let out = jemput()
        .arg("--home")
        .arg(home)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "error")
        .map(|f| f["check"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Figures of one run.
#[derive(Debug, Default)]
struct Figures {
    rounds: u64,
    torn: u64,
    sealed: usize,
    drafts: usize,
    cut_mid_seal: u64,
    ops_per_visit: u64,
}

/// The power-loss run: `rounds` cuts; the first broken promise is the error.
fn power_loss_run(rounds: u64, seed: u64, skip_fsync: Option<&str>) -> Result<Figures, String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let d = tempfile::tempdir().unwrap();
    let keys = jemput_core::keys::office::keygen(&d.path().join("office")).unwrap();
    let ids = jemput_core::keys::office::load_identities(&keys.identity_file).unwrap();
    let mnt = d.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let disk = start_disk(deadline_for(rounds));
    let mut mounted: RemoteMounted = disk.mount(&mnt).unwrap();
    let home_dir = mnt.join("kit");
    jemput()
        .arg("--home")
        .arg(&home_dir)
        .args(["init", "--work-factor", "10", "--operator", "op-1"])
        .args(["--office-recipient", &keys.recipient])
        .args(["--hub-key", &keys.hub_public_key])
        .assert()
        .success();
    // The kit as installed: written out whole before the cuts begin (init is not under test here).
    disk.sync_all();
    let kit_key = KitHome::open(&home_dir)
        .unwrap()
        .kit_key()
        .unwrap()
        .public();
    let doctor_before = doctor_errors(&home_dir);

    // How many filesystem operations one visit takes (draft saves, seal, queue commit), so the cuts
    // land anywhere in the first two visits of a child, its start-up recovery included.
    let ops0 = disk.ops();
    let probe = {
        let home = home_dir.clone();
        std::thread::spawn(move || {
            Command::new(assert_cmd::cargo::cargo_bin("jemput"))
                .arg("--home")
                .arg(&home)
                .args(["stress-seal", "--count", "3", "--seed", "1"])
                .env("JEMPUT_PASSPHRASE", "rahasia-uji")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
        })
    };
    assert!(probe.join().unwrap().success());
    let ops_per_visit = ((disk.ops() - ops0) / 3).max(1);
    disk.sync_all();

    let mut f = Figures {
        ops_per_visit,
        ..Figures::default()
    };
    let mut acknowledged: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut drafts_reported: BTreeSet<String> = BTreeSet::new();
    for round in 0..rounds {
        let at = rng.gen_range(1..=2 * ops_per_visit);
        let tear = if rng.gen_bool(0.5) {
            f.torn += 1;
            Tear::Prefix(rng.gen_range(0..8192))
        } else {
            Tear::None
        };
        disk.cut_after(at, tear);
        let reported = run_child(&home_dir, round, skip_fsync);
        if !disk.is_cut() {
            return Err(format!(
                "round {round}: the child ended before the cut at op {at}"
            ));
        }
        if reported.sealed.is_empty() {
            f.cut_mid_seal += 1;
        }
        mounted.unmount().unwrap();
        mounted = disk.mount(&mnt).unwrap();

        // Recovery runs as the kit opens its store: no manual step.
        let home = KitHome::open(&home_dir)
            .map_err(|e| format!("round {round}: the kit home does not open: {e}"))?;
        let (store, report) = jemput_kit::seal::open_store(&home)
            .map_err(|e| format!("round {round}: the store does not open: {e}"))?;
        if !report.missing.is_empty() {
            return Err(format!(
                "round {round}: queued packets lost: {:?}",
                report.missing
            ));
        }
        if !report.quarantined.is_empty() {
            return Err(format!(
                "round {round}: torn packets: {:?}",
                report.quarantined
            ));
        }
        for (id, path) in &reported.sealed {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("round {round}: sealed packet {id} lost: {e}"))?;
            let c = packet::decrypt(&bytes, &ids, Some(&kit_key))
                .map_err(|e| format!("round {round}: sealed packet {id} broken: {e}"))?;
            if &c.manifest.packet_id != id {
                return Err(format!("round {round}: {path:?} holds another packet"));
            }
        }
        acknowledged.extend(reported.sealed);
        drafts_reported.extend(reported.drafts);

        let entries = store.list().map_err(|e| format!("round {round}: {e}"))?;
        let queued: BTreeSet<String> = entries.iter().map(|e| e.packet_id.clone()).collect();
        if let Some(id) = acknowledged.keys().find(|id| !queued.contains(*id)) {
            return Err(format!(
                "round {round}: sealed packet {id} not in the queue"
            ));
        }
        let rows: BTreeSet<String> = queued.iter().map(|id| format!("{id}.jpk")).collect();
        let files: BTreeSet<String> = walk(&home_dir.join("packets"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        if rows != files {
            return Err(format!(
                "round {round}: queue and packets/ disagree: rows {rows:?}, files {files:?}"
            ));
        }
        drop(store);

        // Every reported draft is still a draft that loads, or its visit was sealed.
        let drafts = home.drafts().unwrap();
        let identity = home
            .unlock_drafts(&age::secrecy::SecretString::from("rahasia-uji".to_string()))
            .unwrap();
        let left: BTreeSet<String> = drafts
            .list()
            .map_err(|e| format!("round {round}: drafts: {e}"))?
            .into_iter()
            .map(|id| id.to_string())
            .collect();
        for id in &left {
            drafts
                .load(id.parse().unwrap(), &identity)
                .map_err(|e| format!("round {round}: draft {id} does not load: {e}"))?;
        }
        let sealed_visits: BTreeSet<String> = walk(&home_dir.join("packets"))
            .iter()
            .filter_map(|p| packet::decrypt(&std::fs::read(p).ok()?, &ids, Some(&kit_key)).ok())
            .map(|c| c.manifest.visit.id.to_string())
            .collect();
        if let Some(id) = drafts_reported
            .iter()
            .find(|id| !left.contains(*id) && !sealed_visits.contains(*id))
        {
            return Err(format!("round {round}: saved draft {id} lost"));
        }

        let doctor_now = doctor_errors(&home_dir);
        if !doctor_now.is_subset(&doctor_before) {
            return Err(format!("round {round}: doctor finds {doctor_now:?}"));
        }
        f.rounds += 1;
    }
    f.sealed = acknowledged.len();
    f.drafts = drafts_reported.len();
    mounted.unmount().unwrap();
    Ok(f)
}

#[test]
fn power_cuts_while_saving_drafts_and_sealing_lose_nothing_reported() {
    if !jemput_testkit::fuse() {
        return;
    }
    let rounds = env_u64("JEMPUT_POWERLOSS_ROUNDS").unwrap_or(30);
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    eprintln!("power-loss test: {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    let t = Instant::now();
    let f = power_loss_run(rounds, seed, None).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    eprintln!(
        "power-loss test: {} rounds in {:.1} s, {} filesystem operations a visit, {} cuts with a \
         torn write, {} rounds cut before the first seal returned; {} packets and {} drafts \
         reported, none lost",
        f.rounds,
        t.elapsed().as_secs_f64(),
        f.ops_per_visit,
        f.torn,
        f.cut_mid_seal,
        f.sealed,
        f.drafts
    );
    assert!(
        f.sealed as u64 >= rounds / 4,
        "too few seals completed before the cuts to test anything: {f:?}"
    );
}

/// A negative control's verdict on its run: it must fail, and on a loss ("lost"), not on
/// anything else; `what` names the control in the log.
fn must_see_the_loss<T: std::fmt::Debug>(what: &str, seed: u64, run: Result<T, String>) {
    match run {
        Ok(figures) => panic!("seed {seed}: the skipped fsync went unnoticed: {figures:?}"),
        Err(e) => {
            eprintln!("{what}: detected: {e}");
            assert!(e.contains("lost"), "seed {seed}: unexpected failure: {e}");
        }
    }
}

#[test]
fn negative_control_one_skipped_directory_fsync_is_seen_as_loss() {
    if !jemput_testkit::fuse() {
        return;
    }
    // The same run, with the directory fsync after each durable rename skipped (core's fsutil,
    // test-only switch): packets and drafts the kit reported are gone after a cut, and the
    // checks above must say so, or they could not see the defect they exist for.
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    let rounds = env_u64("JEMPUT_POWERLOSS_CONTROL_ROUNDS").unwrap_or(12);
    eprintln!("negative control: up to {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    must_see_the_loss(
        "negative control",
        seed,
        power_loss_run(rounds, seed, Some("atomic-dir")),
    );
}

/// `jemput upload` against `endpoint`, until it ends or the power cut ends it (killed after 60 s).
/// Its attempts after a cut meet the same dead disk however long it waits between them: 50 ms
/// first, not the default half second (those waits were most of the hub test's time).
fn run_upload(home: &Path, endpoint: &str) -> bool {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .arg("--home")
        .arg(home)
        .args(["upload", "--attempts", "3", "--first-wait", "0.05"])
        .args(["--endpoint", endpoint])
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .env_remove("RUST_LOG")
        .env_remove("JEMPUT_TEST_SKIP_FSYNC")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn power_cuts_while_uploading_lose_no_packet_and_keep_no_receipt_the_hub_lacks() {
    if !jemput_testkit::fuse() {
        return;
    }
    // The kit home on the power-loss disk, the hub on an ordinary one: each round seals two more
    // visits, then cuts the power under `jemput upload` after a random number of operations
    // (anywhere in uploading them and storing their receipts). After every cut: nothing queued
    // is lost, every stored receipt is for a packet the hub holds byte for byte, and the queue
    // and packets/ agree; at the end one drain delivers everything.
    let rounds = env_u64("JEMPUT_POWERLOSS_UPLOAD_ROUNDS").unwrap_or(25);
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    eprintln!("power-loss upload test: {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    jemput_hub::init(&data).unwrap();
    let hub_key = jemput_core::keys::SigningKey::load(&data.join(jemput_hub::KEY_FILE))
        .unwrap()
        .public();
    let keys = jemput_core::keys::office::keygen(&d.path().join("office")).unwrap();
    let mnt = d.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let disk = start_disk(deadline_for(rounds));
    let mut mounted = disk.mount(&mnt).unwrap();
    let home_dir = mnt.join("kit");
    jemput()
        .arg("--home")
        .arg(&home_dir)
        .args(["init", "--work-factor", "10", "--operator", "op-1"])
        .args(["--office-recipient", &keys.recipient])
        .args(["--hub-key", &hub_key.to_string()])
        .assert()
        .success();
    disk.sync_all();
    let kit = KitHome::open(&home_dir).unwrap();
    jemput_hub::Registry::open(&data)
        .unwrap()
        .add(&kit.config.kit_id, &kit.kit_key().unwrap().public(), None)
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hub = KillOnDrop(spawn_hub_serve(&data, port));
    let endpoint = format!("http://127.0.0.1:{port}");
    let seal_two = |round: u64| {
        jemput()
            .arg("--home")
            .arg(&home_dir)
            .args(["stress-seal", "--count", "2", "--seed", &round.to_string()])
            .env("JEMPUT_PASSPHRASE", "rahasia-uji")
            .assert()
            .success();
    };

    // How many operations uploading two packets takes, to aim the cuts inside an upload.
    seal_two(1000);
    let ops0 = disk.ops();
    assert!(run_upload(&home_dir, &endpoint), "the probe upload failed");
    let ops_per_two = (disk.ops() - ops0).max(1);

    let mut cut_rounds = 0;
    let mut acked_seen = BTreeSet::new();
    for round in 0..rounds {
        seal_two(round);
        disk.cut_after(
            rng.gen_range(1..=ops_per_two),
            Tear::Prefix(rng.gen_range(0..4096)),
        );
        run_upload(&home_dir, &endpoint);
        if disk.is_cut() {
            cut_rounds += 1;
        }
        disk.cut_after(0, Tear::None);
        mounted.unmount().unwrap();
        mounted = disk.mount(&mnt).unwrap();

        let home = KitHome::open(&home_dir).unwrap();
        let (store, report) = jemput_kit::seal::open_store(&home).unwrap();
        assert!(
            report.missing.is_empty(),
            "seed {seed} round {round}: {report:?}"
        );
        assert!(
            report.quarantined.is_empty(),
            "seed {seed} round {round}: {report:?}"
        );
        let entries = store.list().unwrap();
        for e in &entries {
            if e.receipt {
                let at_hub = data.join("packets").join(format!("{}.jpk", e.packet_id));
                let kit_file = home_dir
                    .join("packets")
                    .join(format!("{}.jpk", e.packet_id));
                let hub_bytes = std::fs::read(&at_hub).unwrap_or_else(|err| {
                    panic!(
                        "seed {seed} round {round}: receipt for {} the hub lacks: {err}",
                        e.packet_id
                    )
                });
                assert_eq!(
                    hub_bytes,
                    std::fs::read(&kit_file).unwrap(),
                    "seed {seed} round {round}: {}",
                    e.packet_id
                );
                acked_seen.insert(e.packet_id.clone());
            }
        }
        // A receipt once stored on the kit stays stored.
        for id in &acked_seen {
            let e = store.get(id).unwrap().unwrap();
            assert!(
                e.receipt,
                "seed {seed} round {round}: the receipt of {id} was lost"
            );
        }
        let rows: BTreeSet<String> = entries
            .iter()
            .map(|e| format!("{}.jpk", e.packet_id))
            .collect();
        let files: BTreeSet<String> = walk(&home_dir.join("packets"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            rows, files,
            "seed {seed} round {round}: queue and packets/ disagree"
        );
    }

    // One drain after the last cut delivers everything, with no manual step.
    let drained = run_upload(&home_dir, &endpoint);
    assert!(drained, "seed {seed}: the final drain failed");
    let (store, _) = jemput_kit::seal::open_store(&KitHome::open(&home_dir).unwrap()).unwrap();
    let entries = store.list().unwrap();
    assert_eq!(entries.len() as u64, 2 * rounds + 2);
    for e in &entries {
        assert_eq!(
            e.state,
            jemput_kit::store::State::Acknowledged,
            "{}",
            e.packet_id
        );
        assert!(e.receipt, "{}", e.packet_id);
    }
    drop(store);
    eprintln!(
        "power-loss upload test: {rounds} rounds, {cut_rounds} cut mid-upload ({ops_per_two} \
         operations to upload two packets), {} packets delivered, 0 lost",
        entries.len()
    );
    assert!(cut_rounds * 2 >= rounds, "too few cuts landed in an upload");

    // Purge under cuts: with a retention of 0 h, `jemput upload` purges every acknowledged
    // packet's file (the row commits `purged`, then the file goes). Cut the power in the middle
    // of that; after each cut: nothing missing, every receipt kept, every row still holding a
    // file has it, and a purged row's file is gone once recovery ran.
    let purge_rounds = env_u64("JEMPUT_POWERLOSS_PURGE_ROUNDS").unwrap_or(10);
    jemput()
        .arg("--home")
        .arg(&home_dir)
        .args(["config", "set", "retention-hours", "0"])
        .assert()
        .success();
    let (mut purge_cuts, mut round) = (0, 0);
    let purged = loop {
        let last = round >= purge_rounds;
        if !last {
            disk.cut_after(rng.gen_range(1..=40), Tear::Prefix(rng.gen_range(0..4096)));
        }
        let ok = run_upload(&home_dir, &endpoint);
        if disk.is_cut() {
            purge_cuts += 1;
        } else {
            disk.cut_after(0, Tear::None);
            assert!(
                ok,
                "seed {seed} purge round {round}: upload failed without a cut"
            );
        }
        mounted.unmount().unwrap();
        mounted = disk.mount(&mnt).unwrap();
        let home = KitHome::open(&home_dir).unwrap();
        let (store, report) = jemput_kit::seal::open_store(&home).unwrap();
        assert!(
            report.missing.is_empty() && report.quarantined.is_empty(),
            "seed {seed} purge round {round}: {report:?}"
        );
        let entries = store.list().unwrap();
        let mut holding = BTreeSet::new();
        let mut purged = 0;
        for e in &entries {
            assert!(
                e.receipt,
                "seed {seed} purge round {round}: the receipt of {} was lost",
                e.packet_id
            );
            match e.state {
                jemput_kit::store::State::Acknowledged => {
                    holding.insert(format!("{}.jpk", e.packet_id));
                }
                jemput_kit::store::State::Purged => purged += 1,
                other => panic!(
                    "seed {seed} purge round {round}: {} is {other}",
                    e.packet_id
                ),
            }
        }
        let files: BTreeSet<String> = walk(&home_dir.join("packets"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            holding, files,
            "seed {seed} purge round {round}: files and acknowledged rows disagree"
        );
        if last {
            assert_eq!(
                purged,
                entries.len(),
                "seed {seed}: not all purged at the end"
            );
            break purged;
        }
        round += 1;
    };
    drop(hub);
    mounted.unmount().unwrap();
    eprintln!(
        "power-loss purge test: {purge_rounds} rounds, {purge_cuts} cut mid-purge, {purged} \
         packets purged, every receipt kept, 0 lost"
    );
    assert!(
        purge_cuts * 2 >= purge_rounds,
        "too few cuts landed in a purge"
    );
}

/// Runs `jemput init` for a kit home at `home` (the same kit every time but for its keys).
fn init_kit(home: &Path, recipient: &str, hub_key: &str) -> std::process::Output {
    jemput()
        .arg("--home")
        .arg(home)
        .args(["init", "--work-factor", "10", "--operator", "op-1"])
        .args(["--office-recipient", recipient])
        .args(["--hub-key", hub_key])
        .output()
        .unwrap()
}

/// Whether the kit home at `home` works: its keys load, its drafts unlock, it seals a visit, and
/// `jemput doctor` finds no error a freshly made kit does not have.
fn kit_works(home: &Path, doctor_baseline: &BTreeSet<String>) -> Result<(), String> {
    let kit = KitHome::open(home).map_err(|e| format!("does not open: {e}"))?;
    kit.kit_key().map_err(|e| format!("kit key: {e}"))?;
    kit.unlock_drafts(&age::secrecy::SecretString::from("rahasia-uji".to_string()))
        .map_err(|e| format!("draft key: {e}"))?;
    jemput_kit::seal::open_store(&kit).map_err(|e| format!("store: {e}"))?;
    let out = jemput()
        .arg("--home")
        .arg(home)
        .args(["stress-seal", "--count", "1", "--seed", "7"])
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "does not seal: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let doctor = doctor_errors(home);
    if !doctor.is_subset(doctor_baseline) {
        return Err(format!("doctor finds {doctor:?}"));
    }
    Ok(())
}

#[test]
fn power_cuts_during_init_leave_no_kit_or_a_working_one() {
    if !jemput_testkit::fuse() {
        return;
    }
    // `jemput init` on the power-loss disk, cut at a random operation of it (or right after it
    // returned, where it reported success). After the remount there is either no kit — and
    // `jemput init` run again succeeds — or a kit that works; never a half-made one.
    let rounds = env_u64("JEMPUT_POWERLOSS_INIT_ROUNDS").unwrap_or(25);
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    eprintln!("power-loss init test: {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let d = tempfile::tempdir().unwrap();
    let keys = jemput_core::keys::office::keygen(&d.path().join("office")).unwrap();
    let mnt = d.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let disk = start_disk(deadline_for(rounds));
    let mut mounted = disk.mount(&mnt).unwrap();

    // How many operations a whole init takes, and what doctor says of a kit made without a cut.
    let probe = mnt.join("probe");
    let ops0 = disk.ops();
    let out = init_kit(&probe, &keys.recipient, &keys.hub_public_key);
    assert!(out.status.success(), "{out:?}");
    let ops_init = disk.ops() - ops0;
    let baseline = doctor_errors(&probe);
    disk.sync_all();

    let (mut none_left, mut working, mut after_return) = (0, 0, 0);
    for round in 0..rounds {
        let home = mnt.join(format!("kit-{round}"));
        // A few cuts land after init returned: what it reported made must survive the cut.
        let at = rng.gen_range(1..=ops_init + ops_init / 8 + 1);
        let tear = if rng.gen_bool(0.5) {
            Tear::Prefix(rng.gen_range(0..4096))
        } else {
            Tear::None
        };
        disk.cut_after(at, tear);
        let reported = init_kit(&home, &keys.recipient, &keys.hub_public_key)
            .status
            .success();
        if !disk.is_cut() {
            after_return += 1;
            disk.cut(Tear::None);
        }
        mounted.unmount().unwrap();
        mounted = disk.mount(&mnt).unwrap();

        match KitHome::open(&home) {
            Err(jemput_kit::home::HomeError::NotInitialised(_)) => {
                assert!(
                    !reported,
                    "seed {seed} round {round}: init reported success, the cut took the kit"
                );
                none_left += 1;
                let again = init_kit(&home, &keys.recipient, &keys.hub_public_key);
                assert!(
                    again.status.success(),
                    "seed {seed} round {round}: init run again after the cut fails: {}",
                    String::from_utf8_lossy(&again.stderr)
                );
            }
            Err(e) => panic!("seed {seed} round {round}: a half-made kit: {e}"),
            Ok(_) => working += 1,
        }
        if let Err(e) = kit_works(&home, &baseline) {
            panic!("seed {seed} round {round}: the kit after the cut: {e}");
        }
        // The checks wrote (a sealed packet): make that durable before the next round's cut.
        disk.sync_all();
    }
    drop(mounted);
    eprintln!(
        "power-loss init test: {rounds} rounds in {:.1} s ({ops_init} operations an init): \
         {none_left} left no kit (init run again worked), {working} left a working kit, \
         {after_return} of them cut right after init returned",
        started.elapsed().as_secs_f64()
    );
    assert!(
        none_left > 0 && working > 0,
        "the cuts did not cover both outcomes"
    );
}

/// The receipts the hub's database holds: packet id → file name in `packets/`.
fn hub_receipts(data: &Path) -> BTreeMap<String, String> {
    let db = rusqlite::Connection::open_with_flags(
        data.join("hub.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
    )
    .unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let rows = db
        .prepare("SELECT packet_id, file FROM receipts")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

/// The hub-side run: `rounds` power cuts on the disk holding the hub's data directory, while the
/// kit (on an ordinary disk) uploads two packets a round. `Err` is the first broken promise.
fn hub_power_loss_run(rounds: u64, seed: u64, skip_fsync: Option<&str>) -> Result<u64, String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let d = tempfile::tempdir().unwrap();
    let keys = jemput_core::keys::office::keygen(&d.path().join("office")).unwrap();
    let ids = jemput_core::keys::office::load_identities(&keys.identity_file).unwrap();
    let mnt = d.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let disk = start_disk(deadline_for(rounds));
    let mut mounted = disk.mount(&mnt).unwrap();
    let data = mnt.join("hub");
    let hub_cmd = |args: &[&str]| {
        let mut c = jemput();
        c.arg("hub").args(args).arg("--data").arg(&data);
        if let Some(which) = skip_fsync {
            c.env("JEMPUT_TEST_SKIP_FSYNC", which);
        }
        c
    };
    // A hub made and the power cut the moment `hub init` returned: it must come back whole.
    hub_cmd(&[
        "init",
        "--office-identity",
        keys.identity_file.to_str().unwrap(),
    ])
    .assert()
    .success();
    disk.cut(Tear::None);
    mounted.unmount().unwrap();
    mounted = disk.mount(&mnt).unwrap();
    let hub_key = jemput_core::keys::SigningKey::load(&data.join(jemput_hub::KEY_FILE))
        .map_err(|e| format!("the hub key did not survive a cut right after hub init: {e}"))?
        .public();

    let home_dir = d.path().join("kit");
    jemput()
        .arg("--home")
        .arg(&home_dir)
        .args(["init", "--work-factor", "10", "--operator", "op-1"])
        .args(["--office-recipient", &keys.recipient])
        .args(["--hub-key", &hub_key.to_string()])
        .assert()
        .success();
    let kit = KitHome::open(&home_dir).unwrap();
    let kit_key = kit.kit_key().unwrap().public();
    hub_cmd(&["kits", "add", "--kit-id", &kit.config.kit_id])
        .args(["--kit-key", &kit_key.to_string()])
        .assert()
        .success();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let serve = || {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("jemput"));
        c.args(["hub", "serve", "--plain-http", "--data"])
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_remove("RUST_LOG")
            .env_remove("JEMPUT_TEST_SKIP_FSYNC")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(which) = skip_fsync {
            c.env("JEMPUT_TEST_SKIP_FSYNC", which);
        }
        let mut child = KillOnDrop(c.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || child.0.try_wait().unwrap().is_some() {
                return Err("the hub does not start after the cut".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(child)
    };
    let mut hub = serve()?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let seal_two = |round: u64| {
        jemput()
            .arg("--home")
            .arg(&home_dir)
            .args(["stress-seal", "--count", "2", "--seed", &round.to_string()])
            .assert()
            .success();
    };

    // How many operations the hub makes to take two packets, to aim the cuts inside.
    seal_two(1000);
    let ops0 = disk.ops();
    if !run_upload(&home_dir, &endpoint) {
        return Err("the probe upload failed".into());
    }
    let ops_per_two = (disk.ops() - ops0).max(1);
    let mut cut_rounds = 0;
    for round in 0..rounds {
        seal_two(round);
        disk.cut_after(
            rng.gen_range(1..=ops_per_two),
            Tear::Prefix(rng.gen_range(0..4096)),
        );
        run_upload(&home_dir, &endpoint);
        if disk.is_cut() {
            cut_rounds += 1;
        }
        disk.cut_after(0, Tear::None);
        // The hub holds files on the dead disk: it goes down with it, and starts again on what
        // was durable, with no manual step.
        drop(hub);
        mounted.unmount().unwrap();
        mounted = disk.mount(&mnt).unwrap();
        hub = serve().map_err(|e| format!("round {round}: {e}"))?;

        // Every packet the hub receipted is there and opens with the office key, as the kit's.
        let receipts = hub_receipts(&data);
        for (id, file) in &receipts {
            let bytes = std::fs::read(data.join("packets").join(file)).map_err(|e| {
                format!("round {round}: the hub receipted {id} and lost its file: {e}")
            })?;
            // A receipted file that is there but does not open (bytes not made durable before
            // the receipt) is as lost as a missing one.
            let c = packet::decrypt(&bytes, &ids, Some(&kit_key)).map_err(|e| {
                format!("round {round}: the hub receipted {id} and lost its bytes: it does not open: {e}")
            })?;
            if &c.manifest.packet_id != id {
                return Err(format!("round {round}: {file} holds another packet"));
            }
        }
        // No receipt on the kit for a packet the hub lacks.
        let (store, _) = jemput_kit::seal::open_store(&KitHome::open(&home_dir).unwrap())
            .map_err(|e| format!("round {round}: {e}"))?;
        for e in store.list().unwrap() {
            if e.receipt && !receipts.contains_key(&e.packet_id) {
                return Err(format!(
                    "round {round}: the kit holds a receipt for {}, which the hub lost",
                    e.packet_id
                ));
            }
        }
        drop(store);
        // The kit's re-upload to the restarted hub completes.
        if !run_upload(&home_dir, &endpoint) {
            return Err(format!("round {round}: the re-upload after the cut failed"));
        }
    }

    // One drain after the last cut delivers everything.
    let drained = run_upload(&home_dir, &endpoint);
    let receipts = hub_receipts(&data);
    drop(hub);
    drop(mounted);
    if !drained {
        return Err("the final drain after the cuts failed".into());
    }
    let (store, _) = jemput_kit::seal::open_store(&KitHome::open(&home_dir).unwrap()).unwrap();
    let entries = store.list().unwrap();
    for e in &entries {
        if e.state != jemput_kit::store::State::Acknowledged || !receipts.contains_key(&e.packet_id)
        {
            return Err(format!("after the drain {} is {}", e.packet_id, e.state));
        }
    }
    if cut_rounds * 2 < rounds {
        return Err(format!(
            "only {cut_rounds} of {rounds} cuts landed in an upload"
        ));
    }
    eprintln!(
        "power-loss hub test: {rounds} rounds, {cut_rounds} cut while the hub took packets \
         ({ops_per_two} hub operations for two), {} packets delivered",
        entries.len()
    );
    Ok(cut_rounds)
}

#[test]
fn power_cuts_at_the_hub_lose_no_receipted_packet() {
    if !jemput_testkit::fuse() {
        return;
    }
    // The hub's data directory on the power-loss disk, cut at random moments while it takes
    // packets (PATCH, completion, verification, receipt signing and storage). After each cut the
    // hub starts again with no manual step; every packet it receipted is there and opens; the
    // kit holds no receipt for a packet the hub lost; and a re-upload completes.
    let rounds = env_u64("JEMPUT_POWERLOSS_HUB_ROUNDS").unwrap_or(25);
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    eprintln!("power-loss hub test: {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    let started = Instant::now();
    hub_power_loss_run(rounds, seed, None).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    eprintln!(
        "power-loss hub test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn negative_control_a_skipped_hub_fsync_is_seen_as_a_lost_receipted_packet() {
    if !jemput_testkit::fuse() {
        return;
    }
    // The same hub run with the fsync of `packets/` after a verified packet is moved in skipped
    // (JEMPUT_TEST_SKIP_FSYNC=hub-packets-dir): a receipt is then signed for a file whose name
    // a cut can take, and the checks must say so.
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    let rounds = env_u64("JEMPUT_POWERLOSS_CONTROL_ROUNDS").unwrap_or(12);
    eprintln!("hub negative control: up to {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    must_see_the_loss(
        "hub negative control",
        seed,
        hub_power_loss_run(rounds, seed, Some("hub-packets-dir")),
    );
}

#[test]
fn negative_control_a_skipped_fsync_of_the_packets_bytes_is_seen_as_a_lost_receipted_packet() {
    if !jemput_testkit::fuse() {
        return;
    }
    // `PATCH`es are not fsynced; the one fsync of a packet's bytes is before it is moved into
    // `packets/` and receipted. Skipped (JEMPUT_TEST_SKIP_FSYNC=hub-packet-data), a receipt
    // names a file whose bytes a cut takes, and the checks must say so.
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    let rounds = env_u64("JEMPUT_POWERLOSS_CONTROL_ROUNDS").unwrap_or(12);
    eprintln!("hub data negative control: up to {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    must_see_the_loss(
        "hub data negative control",
        seed,
        hub_power_loss_run(rounds, seed, Some("hub-packet-data")),
    );
}

/// Where on the hub's completion path a targeted cut lands (`JEMPUT_TEST_HUB_HOLD`, see
/// `hub/src/test_hold.rs`), in the order a packet passes them.
const HOLD_POINTS: [&str; 4] = ["verified", "signed", "moved", "receipted"];

/// What a targeted run did.
#[derive(Debug, Default)]
struct TargetedFigures {
    /// Rounds cut while the hub was held at each point (index of [`HOLD_POINTS`]).
    held: [u64; 4],
    /// Rounds cut a few operations after a point.
    after: [u64; 4],
    /// Of those, the rounds whose cut came before the upload ended (in the others fewer
    /// operations were left, and the power went right after).
    after_in_upload: u64,
    /// Packets the hub held, each with its receipt, at the end.
    packets: usize,
}

/// The targeted hub run: each round the kit uploads one packet to a hub told to stop at one point
/// of its completion path; the power is cut there (while the hub waits), or the hub goes on and
/// the power goes 1 to 12 changing operations later. After the remount the hub starts again with
/// no manual step; no receipt exists (at the hub or on the kit) for a packet the hub lacks; every
/// packet it receipted opens; the kit's retry ends with a receipt. `Err` is the first broken
/// promise.
fn receipt_power_loss_run(
    rounds: u64,
    seed: u64,
    skip_fsync: Option<&str>,
) -> Result<TargetedFigures, String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let d = tempfile::tempdir().unwrap();
    let keys = jemput_core::keys::office::keygen(&d.path().join("office")).unwrap();
    let ids = jemput_core::keys::office::load_identities(&keys.identity_file).unwrap();
    let mnt = d.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let disk = start_disk(deadline_for(rounds));
    let mut mounted = disk.mount(&mnt).unwrap();
    let data = mnt.join("hub");
    jemput()
        .args(["hub", "init", "--data"])
        .arg(&data)
        .arg("--hub-key")
        .arg(&keys.hub_key_file)
        .assert()
        .success();
    let home_dir = d.path().join("kit");
    jemput()
        .arg("--home")
        .arg(&home_dir)
        .args(["init", "--work-factor", "10", "--operator", "op-1"])
        .args(["--office-recipient", &keys.recipient])
        .args(["--hub-key", &keys.hub_public_key])
        .assert()
        .success();
    let kit = KitHome::open(&home_dir).unwrap();
    let kit_key = kit.kit_key().unwrap().public();
    jemput()
        .args(["hub", "kits", "add", "--kit-id", &kit.config.kit_id])
        .args(["--kit-key", &kit_key.to_string(), "--data"])
        .arg(&data)
        .assert()
        .success();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let hold_file = d.path().join("hold");
    let serve = |hold: Option<&str>| {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("jemput"));
        c.args(["hub", "serve", "--plain-http", "--data"])
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_remove("RUST_LOG")
            .env_remove("JEMPUT_TEST_SKIP_FSYNC")
            .env_remove("JEMPUT_TEST_HUB_HOLD")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(which) = skip_fsync {
            c.env("JEMPUT_TEST_SKIP_FSYNC", which);
        }
        if let Some(point) = hold {
            c.env(
                "JEMPUT_TEST_HUB_HOLD",
                format!("{point}:{}", hold_file.display()),
            );
        }
        let mut child = KillOnDrop(c.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || child.0.try_wait().unwrap().is_some() {
                return Err("the hub does not start after the cut".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(child)
    };

    let mut f = TargetedFigures::default();
    for round in 0..rounds {
        jemput()
            .arg("--home")
            .arg(&home_dir)
            .args(["stress-seal", "--count", "1", "--seed", &round.to_string()])
            .assert()
            .success();
        let p = rng.gen_range(0..HOLD_POINTS.len());
        let point = HOLD_POINTS[p];
        let _ = std::fs::remove_file(&hold_file);
        let hub = serve(Some(point)).map_err(|e| format!("round {round}: {e}"))?;
        let mut up = KillOnDrop(
            Command::new(assert_cmd::cargo::cargo_bin("jemput"))
                .arg("--home")
                .arg(&home_dir)
                .args(["upload", "--attempts", "1", "--endpoint", &endpoint])
                .env("JEMPUT_PASSPHRASE", "rahasia-uji")
                .env_remove("RUST_LOG")
                .env_remove("JEMPUT_TEST_SKIP_FSYNC")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !hold_file.exists() {
            if Instant::now() > deadline {
                return Err(format!("round {round}: the hub never reached {point}"));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if rng.gen_bool(0.5) {
            // The power goes while the hub waits at the point.
            disk.cut(Tear::Prefix(rng.gen_range(0..4096)));
            f.held[p] += 1;
        } else {
            // The hub goes on; the power goes a few changing operations later.
            disk.cut_after(rng.gen_range(1..=12), Tear::Prefix(rng.gen_range(0..4096)));
            std::fs::remove_file(&hold_file).unwrap();
            let until = Instant::now() + Duration::from_secs(10);
            while !disk.is_cut() && up.0.try_wait().unwrap().is_none() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
            if disk.is_cut() {
                f.after_in_upload += 1;
            } else {
                disk.cut(Tear::None);
            }
            f.after[p] += 1;
        }
        disk.cut_after(0, Tear::None);
        drop(up);
        drop(hub);
        mounted.unmount().unwrap();
        mounted = disk.mount(&mnt).unwrap();
        let hub = serve(None).map_err(|e| format!("round {round}: {e}"))?;

        // No receipt at the hub for a packet it does not hold; every receipted packet opens.
        let receipts = hub_receipts(&data);
        for (id, file) in &receipts {
            let bytes = std::fs::read(data.join("packets").join(file)).map_err(|e| {
                format!(
                    "round {round} (cut at {point}): the hub receipted {id} and lost its file: {e}"
                )
            })?;
            let c = packet::decrypt(&bytes, &ids, Some(&kit_key)).map_err(|e| {
                format!("round {round} (cut at {point}): the hub's {id} does not open: {e}")
            })?;
            if &c.manifest.packet_id != id {
                return Err(format!("round {round}: {file} holds another packet"));
            }
        }
        // No receipt on the kit for a packet the hub lacks.
        let (store, _) = jemput_kit::seal::open_store(&KitHome::open(&home_dir).unwrap())
            .map_err(|e| format!("round {round}: {e}"))?;
        let entries = store.list().unwrap();
        for e in &entries {
            if e.receipt && !receipts.contains_key(&e.packet_id) {
                return Err(format!(
                    "round {round} (cut at {point}): the kit holds a receipt for {}, which the hub lost",
                    e.packet_id
                ));
            }
        }
        drop(store);
        // The kit, retrying, ends with a receipt for everything it sealed.
        if !run_upload(&home_dir, &endpoint) {
            return Err(format!(
                "round {round} (cut at {point}): the re-upload after the cut failed"
            ));
        }
        let receipts = hub_receipts(&data);
        let (store, _) = jemput_kit::seal::open_store(&KitHome::open(&home_dir).unwrap())
            .map_err(|e| format!("round {round}: {e}"))?;
        for e in store.list().unwrap() {
            if e.state != jemput_kit::store::State::Acknowledged
                || !e.receipt
                || !receipts.contains_key(&e.packet_id)
            {
                return Err(format!(
                    "round {round} (cut at {point}): after the retry {} is {}",
                    e.packet_id, e.state
                ));
            }
        }
        f.packets = receipts.len();
        drop(hub);
    }
    drop(mounted);
    eprintln!(
        "power-loss receipt test: {rounds} rounds; cut while held at {:?} {:?}, a few operations after it {:?} ({} of them before the upload ended); {} packets receipted and opened",
        HOLD_POINTS, f.held, f.after, f.after_in_upload, f.packets
    );
    Ok(f)
}

#[test]
fn power_cuts_aimed_at_the_hubs_completion_and_receipt_signing_keep_no_receipt_without_its_packet()
{
    if !jemput_testkit::fuse() {
        return;
    }
    // Targeted: the hub is held at a point of its completion path (packet verified, receipt
    // signed, packet moved into place, receipt committed) and the power is cut there or a few
    // operations later; see receipt_power_loss_run.
    let rounds = env_u64("JEMPUT_POWERLOSS_RECEIPT_ROUNDS").unwrap_or(16);
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    eprintln!("power-loss receipt test: {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    let started = Instant::now();
    let f =
        receipt_power_loss_run(rounds, seed, None).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    assert_eq!(f.packets as u64, rounds);
    eprintln!(
        "power-loss receipt test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn negative_control_a_skipped_hub_fsync_is_seen_by_the_aimed_cuts() {
    if !jemput_testkit::fuse() {
        return;
    }
    // The same targeted run with the fsync of `packets/` after a verified packet is moved in
    // skipped (JEMPUT_TEST_SKIP_FSYNC=hub-packets-dir): a cut at or after the receipt's commit
    // then leaves a receipt whose packet file is gone, and the checks must say so.
    let seed = env_u64("JEMPUT_POWERLOSS_SEED").unwrap_or_else(rand::random);
    let rounds = env_u64("JEMPUT_POWERLOSS_CONTROL_ROUNDS").unwrap_or(16);
    eprintln!("receipt negative control: up to {rounds} rounds, JEMPUT_POWERLOSS_SEED={seed}");
    must_see_the_loss(
        "receipt negative control",
        seed,
        receipt_power_loss_run(rounds, seed, Some("hub-packets-dir")),
    );
}

//! Crash test: a child seals packets through the real code path and is SIGKILLed at random points,
//! again and again. After every restart, every packet whose seal returned success is present,
//! verifies and decrypts; nothing half-written is visible; the queue and the directory agree.
//!
//! 50 rounds by default; `JEMPUT_CRASH_ROUNDS=1000 cargo test --release --test crash` for the long run.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use jemput_core::packet;
use jemput_kit::home::KitHome;
use rand::{Rng, SeedableRng};

#[test]
fn sigkill_at_random_points_never_loses_or_tears_a_packet() {
    let rounds: u32 = std::env::var("JEMPUT_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("JEMPUT_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test: {rounds} rounds, JEMPUT_CRASH_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let d = tempfile::tempdir().unwrap();
    let (home_dir, keys) = kit_with_office(d.path());
    let ids = jemput_core::keys::office::load_identities(&keys.identity_file).unwrap();
    let kit_key = KitHome::open(&home_dir)
        .unwrap()
        .kit_key()
        .unwrap()
        .public();
    let bin = assert_cmd::cargo::cargo_bin("jemput");

    // packet id -> path, for every seal the child reported as returned.
    let mut acknowledged: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut kills_during_seal = 0;
    for round in 0..rounds {
        let mut child = Command::new(&bin)
            .arg("--home")
            .arg(&home_dir)
            .args([
                "stress-seal",
                "--count",
                "100000",
                "--seed",
                &round.to_string(),
            ])
            .env("JEMPUT_PASSPHRASE", "rahasia-uji")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
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
        std::thread::sleep(Duration::from_millis(rng.gen_range(30..1200)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let new: Vec<(String, PathBuf)> = lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let mut it = l.splitn(3, ' ');
                match (it.next(), it.next(), it.next()) {
                    (Some("SEALED"), Some(id), Some(path)) => {
                        Some((id.to_string(), PathBuf::from(path)))
                    }
                    _ => None,
                }
            })
            .collect();
        if new.is_empty() {
            kills_during_seal += 1;
        }

        // Restart: recovery reconciles files and rows.
        let home = KitHome::open(&home_dir).unwrap();
        let (store, report) = jemput_kit::seal::open_store(&home).unwrap();
        assert!(
            report.missing.is_empty(),
            "round {round}: rows without files: {:?}",
            report.missing
        );
        assert!(
            report.quarantined.is_empty(),
            "round {round}: torn packet quarantined: {:?}",
            report.quarantined
        );

        // Every newly acknowledged packet is there, verifies and decrypts.
        for (id, path) in &new {
            let bytes =
                std::fs::read(path).unwrap_or_else(|e| panic!("round {round}: {id} lost: {e}"));
            let c = packet::decrypt(&bytes, &ids, Some(&kit_key))
                .unwrap_or_else(|e| panic!("round {round}: {id}: {e}"));
            assert_eq!(&c.manifest.packet_id, id);
        }
        acknowledged.extend(new);

        // The queue and the directory agree exactly, and nothing else is in the directory.
        let entries = store.list().unwrap();
        let mut rows: Vec<String> = entries
            .iter()
            .map(|e| format!("{}.jpk", e.packet_id))
            .collect();
        rows.sort();
        let files: Vec<String> = walk(&home_dir.join("packets"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(rows, files, "round {round}: queue and directory disagree");
        for id in acknowledged.keys() {
            assert!(
                entries.iter().any(|e| &e.packet_id == id),
                "round {round}: {id} not in the queue"
            );
        }
        drop(store);
    }

    // Final pass: everything in the directory verifies and decrypts; nothing was sealed twice.
    let home = KitHome::open(&home_dir).unwrap();
    let (store, _) = jemput_kit::seal::open_store(&home).unwrap();
    let mut visits = std::collections::HashSet::new();
    for e in store.list().unwrap() {
        let bytes = std::fs::read(
            home_dir
                .join("packets")
                .join(format!("{}.jpk", e.packet_id)),
        )
        .unwrap();
        let c = packet::decrypt(&bytes, &ids, Some(&kit_key)).unwrap();
        assert!(
            visits.insert(c.manifest.visit.id),
            "visit {} sealed twice",
            c.manifest.visit.id
        );
    }
    // Visits killed mid-capture are still drafts, and every one of them still decrypts.
    let drafts = home.drafts().unwrap();
    let identity = home
        .unlock_drafts(&age::secrecy::SecretString::from("rahasia-uji".to_string()))
        .unwrap();
    let left = drafts.list().unwrap();
    for id in &left {
        if drafts.load(*id, &identity).is_err() {
            panic!("draft {id} left by a kill does not load");
        }
    }
    eprintln!(
        "crash test: {} drafts of interrupted visits kept",
        left.len()
    );
    eprintln!(
        "crash test: {} packets acknowledged, {} in the queue, {kills_during_seal} rounds killed before the first seal returned",
        acknowledged.len(),
        visits.len()
    );
    assert!(
        acknowledged.len() as u32 >= rounds / 4,
        "too few seals completed to test anything"
    );
}

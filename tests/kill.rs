//! kill -9 during upload, of the kit and of the hub, round after round: a real `jemput hub serve`
//! process and a real `jemput upload` process, talking through a shaping proxy on loopback so the
//! uploads take long enough to be interrupted anywhere (creation, mid-chunk, completion, receipt).
//! In the end every packet has a receipt the kit verified (0 lost), the hub holds each packet once,
//! byte-identical, with one receipt and one finished upload (0 duplicated).
//!
//! 6 rounds by default; `JEMPUT_KILL_ROUNDS=200 cargo test --release --test kill -- --nocapture` for
//! the long run (`JEMPUT_KILL_SEED` replays the kill times and victims).

mod common;
#[allow(dead_code)]
#[path = "upload/shaper.rs"]
mod shaper;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use jemput_core::keys::SigningKey;
use jemput_kit::home::KitHome;
use rand::{Rng, SeedableRng};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("jemput")
}

/// Starts `jemput hub serve` on `port` and waits until it answers.
fn start_hub(data: &Path, port: u16) -> Child {
    spawn_hub_serve(data, port)
}

fn start_upload(home: &Path, endpoint: &str, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(bin())
        .arg("--home")
        .arg(home)
        .args(["upload", "--attempts", "3", "--endpoint", endpoint])
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn kill9(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// One row count per packet id of a query (`packet_id, count(*)`), read from `hub.sqlite` or,
/// on the scale-out backend, with `psql` from the hub's PostgreSQL database.
fn counts(data: &Path, backend: &HubBackend, sql: &str) -> BTreeMap<String, i64> {
    if let Some(pg) = &backend.pg {
        let text = pg.psql(sql).unwrap();
        return text
            .lines()
            .map(|l| {
                let (id, n) = l.split_once('|').unwrap();
                (id.to_string(), n.parse().unwrap())
            })
            .collect();
    }
    let db = rusqlite::Connection::open(data.join(jemput_hub::DB_FILE)).unwrap();
    let mut q = db.prepare(sql).unwrap();
    let rows = q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

#[test]
fn kill_9_of_the_kit_or_the_hub_during_upload_loses_and_duplicates_nothing() {
    let rounds = env_u64("JEMPUT_KILL_ROUNDS").unwrap_or(6);
    let seed = env_u64("JEMPUT_KILL_SEED").unwrap_or_else(rand::random);
    let packets = env_u64("JEMPUT_KILL_PACKETS").unwrap_or(6);
    eprintln!("kill test: {rounds} rounds, {packets} packets, JEMPUT_KILL_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    let (_, backend) = init_hub(&data);
    let hub_key = SigningKey::load(&data.join(jemput_hub::KEY_FILE))
        .unwrap()
        .public();
    let keys = jemput_core::keys::office::keygen(&d.path().join("office")).unwrap();
    let home = d.path().join("kit");
    run(
        &home,
        &[
            "init",
            "--work-factor",
            "10",
            "--operator",
            "op-1",
            "--office-recipient",
            &keys.recipient,
            "--hub-key",
            &hub_key.to_string(),
        ],
    )
    .success();
    let kit = KitHome::open(&home).unwrap();
    register_kit(
        &data,
        &kit.config.kit_id,
        &kit.kit_key().unwrap().public(),
        None,
    );
    run(
        &home,
        &[
            "stress-seal",
            "--count",
            &packets.to_string(),
            "--seed",
            "7",
        ],
    )
    .success();
    let queued: BTreeMap<String, Vec<u8>> = walk(&home.join("packets"))
        .into_iter()
        .map(|p| {
            let id = p.file_stem().unwrap().to_string_lossy().into_owned();
            (id, std::fs::read(&p).unwrap())
        })
        .collect();
    assert_eq!(queued.len() as u64, packets);
    let total: usize = queued.values().map(Vec::len).sum();

    // A link slow enough that the queue takes about a second per round to drain: every round's
    // kill (after 0.1 to 2.5 s) lands somewhere in an upload.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let hub_port = free_port();
    let rate = (total as u64 / (rounds + 1)).max(20_000);
    let link = runtime.block_on(shaper::start(
        hub_port,
        shaper::Shape {
            rate: Some(rate),
            latency: Duration::from_millis(5),
            cuts: shaper::Cuts::Never,
        },
    ));
    let endpoint = format!("http://127.0.0.1:{}", link.port);

    let kit_log = d.path().join("upload.log");
    let mut hub = start_hub(&data, hub_port);
    let (mut kit_kills, mut hub_kills, mut mid_upload) = (0, 0, 0);
    let mut crossed_before = 0;
    for round in 0..rounds {
        let mut up = start_upload(&home, &endpoint, &kit_log);
        std::thread::sleep(Duration::from_millis(rng.gen_range(100..2500)));
        if rng.gen_bool(0.5) {
            kill9(&mut hub);
            hub_kills += 1;
            // The kit sees the hub gone; let it give up or be killed too, then bring the hub back.
            std::thread::sleep(Duration::from_millis(rng.gen_range(0..300)));
            kill9(&mut up);
            hub = start_hub(&data, hub_port);
        } else {
            kill9(&mut up);
            kit_kills += 1;
        }
        let crossed = link.log.lock().unwrap().body_bytes;
        if crossed > crossed_before {
            mid_upload += 1;
        }
        crossed_before = crossed;
        // The kit's queue opens cleanly after every kill.
        let (store, report) = jemput_kit::seal::open_store(&KitHome::open(&home).unwrap()).unwrap();
        assert!(report.missing.is_empty(), "round {round}: {report:?}");
        assert!(report.quarantined.is_empty(), "round {round}: {report:?}");
        drop(store);
    }

    // Then drains without kills until the queue is empty (a few tries: a hub that restarts
    // right before may still be recovering).
    let mut finished = false;
    for _ in 0..5 {
        let status = start_upload(&home, &endpoint, &kit_log).wait().unwrap();
        if status.success() {
            finished = true;
            break;
        }
    }
    kill9(&mut hub);
    assert!(
        finished,
        "the final drain did not deliver everything: {}",
        std::fs::read_to_string(&kit_log).unwrap_or_default()
    );

    // 0 lost: every packet acknowledged with a stored receipt; the hub holds every one exactly.
    let (store, _) = jemput_kit::seal::open_store(&KitHome::open(&home).unwrap()).unwrap();
    for (id, bytes) in &queued {
        let e = store.get(id).unwrap().unwrap();
        assert_eq!(e.state, jemput_kit::store::State::Acknowledged, "{id}");
        assert!(e.receipt, "{id}: no receipt");
        let at_hub = data.join("packets").join(format!("{id}.jpk"));
        assert_eq!(&std::fs::read(&at_hub).unwrap(), bytes, "{id}");
    }
    // 0 duplicated: one packet file, one receipt and one finished upload per packet, nothing else.
    let ids: Vec<String> = queued.keys().cloned().collect();
    let files: Vec<String> = walk(&data.join("packets"))
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ids);
    let receipts = counts(
        &data,
        &backend,
        "SELECT packet_id, count(*) FROM receipts GROUP BY packet_id",
    );
    let done = counts(
        &data,
        &backend,
        "SELECT packet_id, count(*) FROM uploads WHERE state = 'done' GROUP BY packet_id",
    );
    for (name, m) in [("receipts", &receipts), ("finished uploads", &done)] {
        assert_eq!(m.keys().cloned().collect::<Vec<_>>(), ids, "{name}");
        assert!(m.values().all(|&n| n == 1), "{name}: {m:?}");
    }
    let log = link.log.lock().unwrap();
    assert!(
        mid_upload * 2 >= rounds,
        "only {mid_upload} of {rounds} kills came while bytes were moving"
    );
    eprintln!(
        "kill test: {rounds} rounds ({kit_kills} kit kills, {hub_kills} hub kills, {mid_upload} while bytes were moving), {} packets of {total} bytes in total: 0 lost, 0 duplicated; {} PATCH body bytes crossed the link over {} connections",
        queued.len(),
        log.body_bytes,
        log.connections
    );
}

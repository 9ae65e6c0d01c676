//! `jemput hub serve` stopped with SIGTERM (what `systemctl stop` and `kill` send) in the middle of
//! an upload: a real hub process and a real `jemput upload` process talk through the shaping proxy
//! on loopback, slowly enough that the packet takes several seconds. The hub must say it stops, let
//! the request in flight finish or cut it, close its database and exit 0 within its grace; started
//! again on the same data directory it gives the kit the offset it recorded, the kit resumes from
//! there (the bytes already held are not sent again) and gets a receipt, and the packet opens.

mod common;
#[allow(dead_code)]
#[path = "upload/shaper.rs"]
mod shaper;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use jemput_core::packet::{self, SealParams};
use jemput_kit::home::KitHome;

/// `jemput hub serve --plain-http` on `port`, its stderr into `log`; waits until it listens.
fn start_hub(data: &Path, port: u16, log: &Path) -> Child {
    spawn_hub_serve_to(data, port, std::fs::File::create(log).unwrap())
}

fn start_upload(home: &Path, endpoint: &str, attempts: u32) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .arg("--home")
        .arg(home)
        .args(["upload", "--json", "--endpoint", endpoint, "--attempts"])
        .arg(attempts.to_string())
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit`; `None` if it is still running then.
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Seals one visit of `kit` whose document is `payload` bytes of noise and queues it; returns
/// its id, its file in the kit's store, and the document's bytes.
fn queue_packet(kit: &KitHome, recipient: &str, payload: usize) -> (String, PathBuf, Vec<u8>) {
    let (visit, files) = noise_visit(payload, 1);
    let sealed = packet::seal(
        &visit,
        &files,
        &SealParams {
            kit_id: &kit.config.kit_id,
            kit_key: &kit.kit_key().unwrap(),
            recipients: &[recipient.to_string()],
            max_packet_bytes: 64 << 20,
        },
    )
    .unwrap();
    queue_sealed(&kit.root, &sealed);
    let id = sealed.header.packet_id;
    let path = kit.root.join("packets").join(format!("{id}.jpk"));
    (id, path, files[0].bytes.clone())
}

#[test]
fn sigterm_mid_upload_stops_the_hub_cleanly_and_the_kit_resumes_from_the_recorded_offset() {
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    let data = d.path().join("hub");
    // The hub signs with the office's key, which the kit pinned at `init`.
    jemput_hub::init_with(
        &data,
        &jemput_hub::InitOptions {
            hub_key: Some(keys.hub_key_file.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let kit = KitHome::open(&home).unwrap();
    jemput_hub::Registry::open(&data)
        .unwrap()
        .add(&kit.config.kit_id, &kit.kit_key().unwrap().public(), None)
        .unwrap();
    let (id, packet_file, document) = queue_packet(&kit, &keys.recipient, 600_000);
    let packet_bytes = std::fs::read(&packet_file).unwrap();
    let size = packet_bytes.len() as u64;

    // About ten seconds for the packet: the kit's chunks grow to about two seconds each.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let hub_port = free_port();
    let link = runtime.block_on(shaper::start(
        hub_port,
        shaper::Shape {
            rate: Some(60_000),
            latency: Duration::from_millis(5),
            cuts: shaper::Cuts::Never,
        },
    ));
    let endpoint = format!("http://127.0.0.1:{}", link.port);

    let first_log = d.path().join("hub-1.log");
    let mut hub = start_hub(&data, hub_port, &first_log);
    let mut up = start_upload(&home, &endpoint, 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while link.log.lock().unwrap().body_bytes < size * 2 / 5 {
        assert!(Instant::now() < deadline, "the upload did not get going");
        std::thread::sleep(Duration::from_millis(10));
    }
    let crossed_at_signal = link.log.lock().unwrap().body_bytes;
    let signalled = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &hub.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = wait_at_most(&mut hub, Duration::from_secs(15)).unwrap_or_else(|| {
        let _ = hub.kill();
        panic!("the hub did not stop within 15 s of SIGTERM")
    });
    let took = signalled.elapsed();
    let log = std::fs::read_to_string(&first_log).unwrap();
    assert!(status.success(), "the hub exited with {status}: {log}");
    assert!(
        took < jemput_hub::server::SHUTDOWN_GRACE + Duration::from_secs(3),
        "the hub took {took:?} to stop"
    );
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    // The database was closed cleanly: its write-ahead log was checkpointed into it.
    let wal = data.join(format!("{}-wal", jemput_hub::DB_FILE));
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
        "the write-ahead log still holds {} bytes",
        std::fs::metadata(&wal).unwrap().len()
    );

    // The kit gives up for now (one attempt) and keeps its packet.
    let kit_status = wait_at_most(&mut up, Duration::from_secs(60));
    if kit_status.is_none() {
        let _ = up.kill();
        let _ = up.wait();
    }
    let recorded: u64 = {
        let db = rusqlite::Connection::open(data.join(jemput_hub::DB_FILE)).unwrap();
        db.query_row(
            "SELECT \"offset\" FROM uploads WHERE packet_id = ?1 AND state = 'open'",
            [&id],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    // What the hub recorded is on disk, and nothing it did not record counts.
    let part_dir = data.join(jemput_hub::UPLOADS_DIR);
    let part = std::fs::read_dir(&part_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "part"))
        .expect("the unfinished upload's .part file");
    let held = std::fs::read(&part).unwrap();
    assert!(held.len() as u64 >= recorded);
    assert_eq!(
        &held[..recorded as usize],
        &packet_bytes[..recorded as usize]
    );
    assert!(
        recorded > 0 && recorded < size,
        "recorded offset {recorded} of {size}: the signal was not mid-upload"
    );
    let patches_before = link.log.lock().unwrap().patches.len();

    // Started again on the same data directory, the hub hands the kit its offset.
    let mut hub = start_hub(&data, hub_port, &d.path().join("hub-2.log"));
    let mut again = start_upload(&home, &endpoint, 3);
    let out = wait_at_most(&mut again, Duration::from_secs(60));
    let output = again.wait_with_output().unwrap();
    let _ = hub.kill();
    let _ = hub.wait();
    assert!(
        out.is_some_and(|s| s.success()),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["packets"][0]["outcome"], "acknowledged", "{report}");

    // Resumed, not restarted: the first PATCH after the restart starts at the recorded offset.
    let log = link.log.lock().unwrap();
    let resumed = &log.patches[patches_before..];
    assert!(!resumed.is_empty());
    assert_eq!(resumed[0].offset, recorded, "{:?}", log.patches);
    let sent_again: u64 = resumed.iter().map(|p| p.forwarded).sum();
    assert_eq!(sent_again, size - recorded, "{:?}", log.patches);

    // The kit holds a verified receipt; the hub holds the packet byte for byte, and it opens.
    let (store, _) = jemput_kit::seal::open_store(&KitHome::open(&home).unwrap()).unwrap();
    let e = store.get(&id).unwrap().unwrap();
    assert_eq!(e.state, jemput_kit::store::State::Acknowledged);
    assert!(e.receipt);
    let at_hub = data.join("packets").join(format!("{id}.jpk"));
    assert_eq!(std::fs::read(&at_hub).unwrap(), packet_bytes);
    let opened = d.path().join("opened");
    jemput()
        .arg("open")
        .arg(&at_hub)
        .arg("-i")
        .arg(&keys.identity_file)
        .arg("--out")
        .arg(&opened)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(opened.join("document-1.jpg")).unwrap(),
        document
    );
    eprintln!(
        "SIGTERM after {crossed_at_signal} of {size} bytes had crossed the link: the hub stopped in {took:?} with offset {recorded} recorded; the kit resumed there and sent {sent_again} more bytes"
    );
}

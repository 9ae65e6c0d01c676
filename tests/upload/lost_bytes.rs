//! A hub that lost bytes it had acknowledged: the embedded hub answers a `PATCH` without an fsync
//! (`docs/hub-protocol.md` §6), so a power cut may leave an upload's `.part` file shorter than
//! its recorded offset, or of that length with its last blocks not what was written; nor is an
//! upload's creation synced, so a cut may take its file's name or its row. Each is
//! made here with the hub stopped (what its next start finds after such a cut); the hub must
//! then report only what it holds, and the kit's uploader must end with a receipt it verified
//! for the packet byte for byte, never with a refusal.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use jemput_core::keys::{PublicKey, SigningKey};
use jemput_kit::store::State;
use jemput_kit::upload::{Outcome, Progress};

use super::common::*;
use super::Kit;

/// Asks the uploader to stop (between chunks) once the hub confirmed `at` bytes.
struct StopAt {
    at: u64,
    stop: Arc<AtomicBool>,
}

impl Progress for StopAt {
    fn start(&self, _: &str, _: u64, _: u64) {}
    fn advance(&self, _: &str, offset: u64) {
        if offset >= self.at {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
    fn finish(&self, _: &str, _: Outcome) {}
}

/// An embedded hub (`jemput hub serve`, a process of its own) taking chunks of at most 24,000
/// bytes, with the test kit registered, always on the same port so that the kit's recorded
/// upload URL names it across restarts.
struct TestHub {
    _dir: tempfile::TempDir,
    data: PathBuf,
    port: u16,
    key: PublicKey,
}

impl TestHub {
    fn new(kit: &Kit) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("hub");
        let mut config = jemput_hub::init(&data).unwrap();
        config.max_chunk = 24_000;
        config.save(&data).unwrap();
        register_kit(&data, "kit-test", &kit.key.public(), None);
        let key = SigningKey::load(&data.join(jemput_hub::KEY_FILE))
            .unwrap()
            .public();
        TestHub {
            _dir: dir,
            data,
            port: free_port(),
            key,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn serve(&self) -> Served {
        Served(spawn_hub_serve(&self.data, self.port))
    }
}

/// A running hub process, ended when dropped.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Uploads part of packet `id` (at least `at` bytes, stopping between chunks) to the hub, stops
/// the hub, and returns the upload's URL and the offset the kit was told.
async fn upload_part_then_stop_the_hub(
    kit: &Kit,
    hub: &TestHub,
    id: &str,
    at: u64,
) -> (String, u64) {
    let served = hub.serve();
    let stop = Arc::new(AtomicBool::new(false));
    let mut store = kit.store();
    let report = kit
        .uploader(&hub.url(), Some(hub.key), 3)
        .with_stop(stop.clone())
        .drain(&mut store, &StopAt { at, stop })
        .await
        .unwrap();
    assert_eq!(
        report.packets[0].outcome,
        Outcome::Interrupted,
        "{report:?}"
    );
    let rec = store.upload_of(id).unwrap().expect("an upload in progress");
    drop(served);
    (rec.url, rec.offset)
}

fn part_file(data: &Path, url: &str) -> PathBuf {
    let upload_id = url.rsplit('/').next().unwrap();
    data.join("uploads").join(format!("{upload_id}.part"))
}

/// The hub's `Upload-Offset` for `url` (a signed `HEAD`, as the kit sends it).
async fn head_offset(kit: &Kit, url: &str) -> u64 {
    let b = reqwest::Client::new()
        .head(url)
        .header("Tus-Resumable", "1.0.0");
    let r = reqwest::Client::new()
        .execute(signed(b, "kit-test", &kit.key))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The state of every upload row at the hub.
fn upload_states(data: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open(data.join("hub.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT state FROM uploads ORDER BY created_at")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// The packet acknowledged on the kit, stored at the hub byte for byte, and the hub's one upload
/// row `done` (`why` says which upload that is).
fn assert_delivered(kit: &Kit, store: &jemput_kit::store::Store, data: &Path, id: &str, why: &str) {
    assert_eq!(store.get(id).unwrap().unwrap().state, State::Acknowledged);
    let stored = std::fs::read(data.join("packets").join(format!("{id}.jpk"))).unwrap();
    assert_eq!(stored, kit.packet_bytes(id));
    assert_eq!(upload_states(data), ["done"], "{why}");
}

#[tokio::test]
async fn a_part_file_shorter_than_its_offset_after_a_cut_is_reported_shorter_and_the_kit_completes()
{
    let kit = Kit::new();
    let id = kit.queue_packet(150_000);
    let size = kit.packet_bytes(&id).len() as u64;
    let hub = TestHub::new(&kit);
    let data = hub.data.clone();
    let (url, told) = upload_part_then_stop_the_hub(&kit, &hub, &id, 72_000).await;
    assert!((72_000..size).contains(&told), "{told} of {size}");
    let part = part_file(&data, &url);
    assert_eq!(std::fs::metadata(&part).unwrap().len(), told);

    // The cut took the last 30,000 bytes (their offsets were committed, the data never reached
    // the disk).
    let kept = told - 30_000;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&part)
        .unwrap()
        .set_len(kept)
        .unwrap();

    let _served = hub.serve();
    assert_eq!(
        head_offset(&kit, &url).await,
        kept,
        "the hub reports the bytes it holds, not the offset it had recorded"
    );
    let (store, report) = kit.drain(&hub.url(), Some(hub.key)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_eq!(p.resumed_from, Some(kept), "{report:?}");
    assert_eq!(
        p.bytes_sent,
        size - kept,
        "only the lost bytes were sent again"
    );
    assert_delivered(&kit, &store, &data, &id, "one upload, done");
}

#[tokio::test]
async fn bytes_damaged_in_place_by_a_cut_restart_the_upload_instead_of_refusing_the_packet() {
    let kit = Kit::new();
    let id = kit.queue_packet(150_000);
    let size = kit.packet_bytes(&id).len() as u64;
    let hub = TestHub::new(&kit);
    let data = hub.data.clone();
    let (url, told) = upload_part_then_stop_the_hub(&kit, &hub, &id, 72_000).await;
    let part = part_file(&data, &url);

    // The file kept its length, but its last 10,000 bytes read back as zeros (a filesystem that
    // had extended the file without writing its blocks).
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&part).unwrap();
        f.seek(SeekFrom::Start(told - 10_000)).unwrap();
        f.write_all(&vec![0u8; 10_000]).unwrap();
    }
    assert_eq!(std::fs::metadata(&part).unwrap().len(), told);

    let _served = hub.serve();
    // Nothing can see this before the whole packet is checked: the offset stands.
    assert_eq!(head_offset(&kit, &url).await, told);
    let (store, report) = kit.drain(&hub.url(), Some(hub.key)).await;
    let p = &report.packets[0];
    // The packet's SHA-256 fails at completion; the bytes were written before this hub process
    // started, so the upload starts again from 0 (409, then HEAD) rather than being refused.
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_eq!(p.resumed_from, Some(told), "{report:?}");
    assert_eq!(
        p.bytes_sent,
        (size - told) + size,
        "the rest, then the whole packet again"
    );
    assert_delivered(&kit, &store, &data, &id, "one upload, not refused");
    assert!(!data.join("quarantine").exists());
}

/// An upload's creation is not synced either (its empty `.part` file, its row): a cut can take
/// the file's name and keep the row (a later synced commit carried the row to the disk).
#[tokio::test]
async fn an_upload_file_a_cut_took_is_made_again_empty_and_the_kit_sends_the_packet_from_0() {
    let kit = Kit::new();
    let id = kit.queue_packet(150_000);
    let size = kit.packet_bytes(&id).len() as u64;
    let hub = TestHub::new(&kit);
    let data = hub.data.clone();
    let (url, told) = upload_part_then_stop_the_hub(&kit, &hub, &id, 48_000).await;
    let part = part_file(&data, &url);
    std::fs::remove_file(&part).unwrap();

    let _served = hub.serve();
    assert_eq!(
        std::fs::metadata(&part).map(|m| m.len()).ok(),
        Some(0),
        "the starting hub makes the file again, empty"
    );
    assert_eq!(
        head_offset(&kit, &url).await,
        0,
        "it holds none of the {told} bytes"
    );
    let (store, report) = kit.drain(&hub.url(), Some(hub.key)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_eq!(p.resumed_from, Some(0), "{report:?}");
    assert_eq!(p.bytes_sent, size, "the whole packet, into the same upload");
    assert_delivered(&kit, &store, &data, &id, "one upload, done");
}

/// A cut that took the creation's row too (and with it every later commit): the kit's recorded
/// upload is unknown to the hub, which must answer so (`404`), and the kit creates the upload
/// again and delivers the packet; the stray `.part` file is removed when the hub starts.
#[tokio::test]
async fn an_upload_whose_creation_a_cut_took_is_created_again_by_the_kit() {
    let kit = Kit::new();
    let id = kit.queue_packet(150_000);
    let hub = TestHub::new(&kit);
    let data = hub.data.clone();
    let (url, _) = upload_part_then_stop_the_hub(&kit, &hub, &id, 48_000).await;
    let part = part_file(&data, &url);
    assert!(part.exists());
    let db = rusqlite::Connection::open(data.join("hub.sqlite")).unwrap();
    assert_eq!(db.execute("DELETE FROM uploads", []).unwrap(), 1);
    drop(db);

    let _served = hub.serve();
    assert!(!part.exists(), "a .part no upload owns is removed at start");
    let (store, report) = kit.drain(&hub.url(), Some(hub.key)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_delivered(&kit, &store, &data, &id, "one upload: the new one");
}

//! What the kit does with refusals and hostile answers: a packet the hub refuses for good (its id
//! claimed by another kit, a `400`/`403`/`409`/`422` to its creation) becomes `refused` with the
//! reason and is not sent again, while a `409` to a `PATCH` stays a resumable conflict; and an
//! error body of hundreds of MiB is read only a few KiB far, by `upload` and by `sync`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use jemput_core::keys::SigningKey;
use jemput_kit::store::State;
use jemput_kit::upload::{NoProgress, Outcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::common::*;
use super::fake_hub::{start_hub, Creation};
use super::Kit;

#[tokio::test]
async fn a_packet_id_another_kit_claimed_first_is_refused_for_good_and_not_sent_again() {
    let kit = Kit::new();
    let id = kit.queue_packet(20_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let (_, _backend) = init_hub(&data);
    let squatter = SigningKey::generate();
    register_kit(&data, "kit-test", &kit.key.public(), None);
    register_kit(&data, "kit-other", &squatter.public(), None);
    let hub = jemput_hub::spawn_local(&data).unwrap();

    // kit-other seals a packet of its own under kit-test's packet id and creates its upload first.
    let squat = resign_id(
        &squatter,
        "kit-other",
        &id,
        &kit.office.keys.recipient,
        &[7u8; 300],
    );
    let prelude_len = jemput_core::packet::parse_prelude(&squat)
        .unwrap()
        .payload_offset;
    let http = reqwest::Client::new();
    let b = http
        .post(format!("{}/v1/uploads", hub.url))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", squat.len().to_string())
        .header(
            "Upload-Metadata",
            jemput_core::wire::tus::encode_metadata(&[("packet", &squat[..prelude_len])]),
        );
    let r = http
        .execute(signed(b, "kit-other", &squatter))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // kit-test's drain: a permanent refusal, said as such, not a conflict to resume.
    let (store, report) = kit.drain(&hub.url, Some(hub.hub_key)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Refused, "{p:?}");
    assert_eq!(p.attempts, 1, "a refusal is not retried");
    let error = p.error.as_deref().unwrap();
    assert!(
        error.contains("refused this packet for good (HTTP 409)")
            && error.contains("belongs to another kit")
            && !error.contains("resumes"),
        "{error}"
    );
    let e = store.get(&id).unwrap().unwrap();
    assert_eq!((e.state, e.file_present), (State::Refused, true));
    assert_eq!(e.refused_because.as_deref(), Some(error));
    assert_eq!(store.upload_of(&id).unwrap(), None);
    drop(store);

    // The next drain leaves it alone.
    let (_, report) = kit.drain(&hub.url, Some(hub.hub_key)).await;
    assert!(report.packets.is_empty(), "{report:?}");
}

#[tokio::test]
async fn refusals_of_a_creation_are_permanent() {
    for status in [400, 403, 409, 422] {
        let kit = Kit::new();
        let id = kit.queue_packet(5_000);
        let (url, hub) =
            start_hub(&kit, SigningKey::generate(), Creation::Status(status), &[]).await;
        let (store, report) = kit.drain(&url, None).await;
        let p = &report.packets[0];
        assert_eq!(p.outcome, Outcome::Refused, "HTTP {status}: {p:?}");
        assert!(p
            .error
            .as_deref()
            .unwrap()
            .contains(&format!("(HTTP {status})")));
        assert_eq!(store.get(&id).unwrap().unwrap().state, State::Refused);
        assert_eq!(hub.lock().unwrap().requests, ["POST"], "HTTP {status}");
    }
    // A 409 to a PATCH stays an offset conflict that is resumed: see
    // `a_receipt_signed_by_the_pinned_hub_key_acknowledges_the_packet_after_460_and_409`.
}

/// A server that answers every request with `status` and a `declared`-byte body of zeros, written
/// for as long as the client reads; counts the body bytes the client took.
async fn flooding_server(status: u16, declared: u64) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicU64::new(0));
    let count = written.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let count = count.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 {status} Oops\r\nContent-Type: text/plain\r\nContent-Length: {declared}\r\n\r\n"
                );
                if s.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let mut left = declared;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    if s.write_all(&chunk[..n]).await.is_err() {
                        return;
                    }
                    count.fetch_add(n as u64, Ordering::Relaxed);
                    left -= n as u64;
                }
            });
        }
    });
    (url, written)
}

/// 512 MiB: what an unbounded read would take; the kit must stop after a few KiB (the count
/// also holds what the sockets' buffers took before the kit hung up).
const FLOOD: u64 = 512 << 20;
const READ_AT_MOST: u64 = 48 << 20;

#[tokio::test]
async fn upload_reads_only_a_few_kib_of_a_huge_error_body() {
    let kit = Kit::new();
    kit.queue_packet(2_000);
    let (url, written) = flooding_server(500, FLOOD).await;
    let mut store = kit.store();
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        kit.uploader(&url, None, 1).drain(&mut store, &NoProgress),
    )
    .await
    .expect("the drain ends")
    .unwrap();
    let stopped = report.stopped.as_deref().unwrap();
    assert!(stopped.contains("HTTP 500"), "{stopped}");
    // The reason is the first line, cut to 200 characters.
    assert!(stopped.contains(&"x".repeat(200)) && !stopped.contains(&"x".repeat(201)));
    let took = written.load(Ordering::Relaxed);
    assert!(
        took < READ_AT_MOST,
        "the kit took {took} bytes of the error body"
    );
}

#[tokio::test]
async fn sync_reads_only_a_few_kib_of_a_huge_error_body() {
    let (url, written) = flooding_server(503, FLOOD).await;
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let out = tokio::task::spawn_blocking(move || {
        jemput()
            .arg("--home")
            .arg(&home)
            .args(["sync", "--hub-url", &url])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    assert!(stderr.contains(&"x".repeat(200)) && !stderr.contains(&"x".repeat(201)));
    let took = written.load(Ordering::Relaxed);
    assert!(
        took < READ_AT_MOST,
        "jemput sync took {took} bytes of the error body"
    );
}

#[tokio::test]
async fn jemput_upload_and_queue_show_a_refused_packet_with_the_hubs_reason() {
    let kit = Kit::new();
    let (url, hub) = start_hub(&kit, SigningKey::generate(), Creation::Status(409), &[]).await;
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    hub.lock().unwrap().kit_key = jemput_kit::home::KitHome::open(&home)
        .unwrap()
        .kit_key()
        .unwrap()
        .public();
    let (upload, queue) = tokio::task::spawn_blocking(move || {
        seal_one(&home);
        let upload = jemput()
            .arg("--home")
            .arg(&home)
            .args(["upload", "--endpoint", &url, "--attempts", "1"])
            .output()
            .unwrap();
        let queue = jemput()
            .arg("--home")
            .arg(&home)
            .arg("queue")
            .output()
            .unwrap();
        (upload, queue)
    })
    .await
    .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(!upload.status.success());
    let out = text(&upload.stdout);
    assert!(
        out.contains("REFUSED BY THE HUB") && out.contains("(HTTP 409)"),
        "{out}"
    );
    let q = text(&queue.stdout);
    assert!(
        q.contains("refused ")
            && q.contains("refused by the hub / ditolak hub: ")
            && q.contains("(HTTP 409)"),
        "{q}"
    );
}

//! A busy hub: `429` or `503` with `Retry-After` (its connection caps, a kit's limit of open
//! uploads). `jemput upload` asks once, says "the hub is busy, retry after N s" and leaves every
//! packet queued rather than asking again and again — against a stub and against a real hub at its
//! limit of open uploads per kit; `jemput sync` says the same; the agent's wait is in
//! `kit/src/upload/agent.rs`'s tests.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use jemput_core::keys::SigningKey;
use jemput_kit::store::State;
use jemput_kit::upload::Outcome;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::common::*;
use super::fake_hub::{start_hub, Creation};
use super::Kit;

#[tokio::test]
async fn a_drain_stops_at_a_busy_hub_and_keeps_every_packet_queued() {
    let kit = Kit::new();
    let first = kit.queue_packet(2_000);
    let second = kit.queue_packet(2_000);
    let (url, hub) = start_hub(
        &kit,
        SigningKey::generate(),
        Creation::Busy(429, "120"),
        &[],
    )
    .await;
    let started = std::time::Instant::now();
    let (store, report) = kit.drain(&url, None).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the kit waited instead of stopping: {:?}",
        started.elapsed()
    );
    let stopped = report.stopped.as_deref().unwrap();
    assert!(
        stopped.contains("the hub is busy, retry after 120 s") && stopped.contains("HTTP 429"),
        "{stopped}"
    );
    assert_eq!(report.retry_after_secs, Some(120));
    let outcomes: Vec<Outcome> = report.packets.iter().map(|p| p.outcome).collect();
    assert_eq!(outcomes, [Outcome::Failed, Outcome::NotAttempted]);
    // One creation, not one per attempt or per packet.
    let posts = hub
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|m| *m == "POST")
        .count();
    assert_eq!(posts, 1);
    for id in [&first, &second] {
        let state = store.get(id).unwrap().unwrap().state;
        assert!(
            matches!(state, State::Sealed | State::Uploading),
            "{id}: {state:?}"
        );
    }
}

#[tokio::test]
async fn jemput_upload_says_the_hub_is_busy_and_when_to_retry() {
    let kit = Kit::new();
    let (url, hub) = start_hub(
        &kit,
        SigningKey::generate(),
        Creation::Busy(503, "86400"),
        &[],
    )
    .await;
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
            .args(["upload", "--endpoint", &url, "--json"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let queue = json(
            jemput()
                .arg("--home")
                .arg(&home)
                .args(["queue", "--json"])
                .assert(),
        );
        (upload, queue)
    })
    .await
    .unwrap();
    assert!(!upload.status.success());
    let stderr = String::from_utf8_lossy(&upload.stderr);
    // A day is cut to the kit's bound of ten minutes.
    assert!(
        stderr.contains("the hub is busy, retry after 600 s (HTTP 503"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&upload.stdout).unwrap();
    assert_eq!(report["retry_after_secs"], 600);
    let posts = hub
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|m| *m == "POST")
        .count();
    assert_eq!(posts, 1);
    let states: Vec<String> = queue
        .as_array()
        .or_else(|| queue["packets"].as_array())
        .expect("a list of packets")
        .iter()
        .map(|p| p["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states.len(), 1, "{queue}");
    assert!(
        states[0] == "sealed" || states[0] == "uploading",
        "{states:?}"
    );
}

#[tokio::test]
async fn a_real_hub_at_its_limit_of_open_uploads_is_asked_again_only_after_its_retry_after() {
    let kit = Kit::new();
    let waiting = kit.queue_packet(2_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let (mut config, _backend) = init_hub(&data);
    config.max_open_uploads_per_kit = 1;
    config.save(&data).unwrap();
    register_kit(&data, "kit-test", &kit.key.public(), None);
    let h = jemput_hub::spawn_local(&data).unwrap();
    // The kit already holds one unfinished upload (of a packet no longer in its queue).
    let (mut visit, files) = small_visit();
    visit.id = uuid::Uuid::new_v4();
    let other = seal_with(
        &kit.key,
        std::slice::from_ref(&kit.office.keys.recipient),
        &visit,
        &files,
    );
    let prelude_len = jemput_core::packet::parse_prelude(&other.bytes)
        .unwrap()
        .payload_offset;
    let tus = jemput_kit::upload::tus::TusClient::new(
        jemput_kit::upload::parse_endpoint(&h.url).unwrap(),
        Some(jemput_kit::upload::tus::KitAuth {
            kit_id: "kit-test".into(),
            key: kit.key_copy(),
        }),
    );
    tus.create(
        other.bytes.len() as u64,
        &[("packet", &other.bytes[..prelude_len])],
    )
    .await
    .unwrap();

    let (store, report) = kit.drain(&h.url, Some(h.hub_key)).await;
    let stopped = report.stopped.as_deref().unwrap();
    assert!(
        stopped.contains("the hub is busy, retry after 60 s (HTTP 429"),
        "{stopped}"
    );
    assert_eq!(report.retry_after_secs, Some(60));
    assert_eq!(report.packets[0].outcome, Outcome::Failed);
    assert_eq!(report.packets[0].attempts, 1, "asked once");
    let state = store.get(&waiting).unwrap().unwrap().state;
    assert!(
        matches!(state, State::Sealed | State::Uploading),
        "{state:?}"
    );
    h.shutdown().unwrap();
}

/// A server answering every request with `503` and `Retry-After: 30`; counts the requests.
async fn busy_server() -> (String, Arc<AtomicU32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicU32::new(0));
    let count = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
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
                count.fetch_add(1, Ordering::SeqCst);
                let body = "the hub is serving its limit of 2 connections; retry in 30 s\n";
                let answer = format!(
                    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, requests)
}

#[tokio::test]
async fn jemput_sync_says_the_hub_is_busy_and_when_to_retry() {
    let (url, requests) = busy_server().await;
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
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("the hub is busy, retry after 30 s (HTTP 503: the hub is serving its limit"),
        "{stderr}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

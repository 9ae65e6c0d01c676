//! The hub after the receipt: it opens packets with the office identity (or records that it has
//! none) and posts every packet state change to webhooks from a durable outbox, signed with
//! HMAC-SHA-256, retried with back-off, kept across restarts, given up after a maximum age.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use jemput_hub::events::{self, DeliveryState, EventKind, StatusEvent, WebhookConfig};
use jemput_hub::packets::{self, PacketState};
use jemput_hub::{HubConfig, HubHandle};
use jemput_kit::upload::Outcome;

use super::common::*;
use super::peer::free_port;
use super::Kit;

const SECRET: &str = "rahasia-webhook-uji-0123456789";

/// A webhook receiver on loopback that fails the first `fail_first` requests with 500.
#[derive(Default)]
struct Received {
    fail_first: usize,
    calls: usize,
    /// (event, attempt header) of every accepted POST whose signature verified.
    events: Vec<(StatusEvent, String)>,
    bad_signatures: usize,
    /// (headers, body) of every accepted POST, as they came.
    raw: Vec<(HeaderMap, Bytes)>,
}

type Receiver = Arc<Mutex<Received>>;

async fn receive(AxState(r): AxState<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut r = r.lock().unwrap();
    r.calls += 1;
    if r.calls <= r.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let now = jiff::Timestamp::now().as_second();
    let (sig, id, kind) = (
        get(events::SIGNATURE_HEADER),
        get(events::EVENT_ID_HEADER),
        get(events::EVENT_HEADER),
    );
    if events::verify_signature(SECRET, sig, id, kind, &body, now).is_err() {
        r.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    r.raw.push((headers.clone(), body.clone()));
    let ev: StatusEvent = serde_json::from_slice(&body).unwrap();
    let kind = headers[events::EVENT_HEADER].to_str().unwrap();
    assert_eq!(serde_json::to_value(ev.event).unwrap(), kind);
    assert_eq!(
        headers[events::EVENT_ID_HEADER].to_str().unwrap(),
        ev.event_id.to_string()
    );
    let attempt = headers["jemput-delivery-attempt"]
        .to_str()
        .unwrap()
        .to_owned();
    r.events.push((ev, attempt));
    StatusCode::NO_CONTENT
}

/// Starts a receiver on `port` (0: any free port); returns its URL.
async fn start_receiver(port: u16, fail_first: usize) -> (String, Receiver) {
    let r: Receiver = Arc::new(Mutex::new(Received {
        fail_first,
        ..Default::default()
    }));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}/hook"), r)
}

/// A hub for the kit, tuned by `tune` (fast webhook retries).
fn hub_for(kit: &Kit, dir: &Path, tune: impl FnOnce(&mut HubConfig)) -> (PathBuf, HubBackend) {
    let data = dir.join("hub");
    let (mut config, backend) = init_hub(&data);
    config.webhook_retry_base_ms = 50;
    config.webhook_retry_max_secs = 1;
    tune(&mut config);
    config.save(&data).unwrap();
    register_kit(&data, "kit-test", &kit.key.public(), None);
    (data, backend)
}

async fn upload_all(kit: &Kit, h: &HubHandle) {
    let (_store, report) = kit.drain(&h.url, Some(h.hub_key)).await;
    assert!(
        report
            .packets
            .iter()
            .all(|p| p.outcome == Outcome::Acknowledged),
        "{report:?}"
    );
}

/// Polls `check` every 50 ms for up to 20 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn state_of(data: &Path, id: &str) -> (PacketState, Option<String>, Option<u64>) {
    let rows = off_runtime(|| packets::list(data)).unwrap();
    let r = rows.iter().find(|r| r.packet_id == id).unwrap();
    (r.state, r.reason.clone(), r.files)
}

#[tokio::test]
async fn with_the_office_identity_the_hub_opens_each_packet_and_lists_it_opened() {
    let kit = Kit::new();
    let id = kit.queue_packet(30_000);
    let dir = tempfile::tempdir().unwrap();
    let identity = kit.office.keys.identity_file.clone();
    let (data, _backend) = hub_for(&kit, dir.path(), |c| c.office_identity = Some(identity));
    let h = jemput_hub::spawn_local(&data).unwrap();
    upload_all(&kit, &h).await;
    eventually("the packet is opened", || {
        state_of(&data, &id).0 == PacketState::Opened
    })
    .await;
    let (_, reason, files) = state_of(&data, &id);
    assert_eq!((reason, files), (None, Some(1)), "one document file");
    let rows = off_runtime(|| packets::list(&data)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kit_id, "kit-test");
    assert_eq!(rows[0].size, kit.packet_bytes(&id).len() as u64);
}

#[tokio::test]
async fn without_an_identity_packets_are_not_opened_until_a_restart_with_one_and_a_wrong_one_fails()
{
    let kit = Kit::new();
    let id = kit.queue_packet(20_000);
    let dir = tempfile::tempdir().unwrap();
    let (data, _backend) = hub_for(&kit, dir.path(), |_| {});
    let h = jemput_hub::spawn_local(&data).unwrap();
    upload_all(&kit, &h).await;
    eventually("recorded not opened", || {
        state_of(&data, &id).0 == PacketState::NotOpened
    })
    .await;
    h.shutdown().unwrap();

    // Another office's identity: decryption fails, and the reason says so.
    let other = super::office();
    let mut c = HubConfig::load(&data).unwrap();
    c.office_identity = Some(other.keys.identity_file.clone());
    c.save(&data).unwrap();
    let h = jemput_hub::spawn_local(&data).unwrap();
    eventually("open failed", || {
        state_of(&data, &id).0 == PacketState::OpenFailed
    })
    .await;
    let (_, reason, _) = state_of(&data, &id);
    let reason = reason.unwrap();
    assert!(
        reason.contains("recipient") || reason.contains("key"),
        "{reason}"
    );
    h.shutdown().unwrap();

    // The right identity after a restart: packets not opened before are opened now (a packet
    // that failed stays failed, with its reason).
    // A second packet arrives while the hub has no identity again.
    let id2 = kit.queue_packet(20_000);
    let mut c = HubConfig::load(&data).unwrap();
    c.office_identity = None;
    c.save(&data).unwrap();
    let h = jemput_hub::spawn_local(&data).unwrap();
    upload_all(&kit, &h).await;
    eventually("second packet not opened", || {
        state_of(&data, &id2).0 == PacketState::NotOpened
    })
    .await;
    h.shutdown().unwrap();
    c.office_identity = Some(kit.office.keys.identity_file.clone());
    c.save(&data).unwrap();
    let h = jemput_hub::spawn_local(&data).unwrap();
    eventually("second packet opened after the restart", || {
        state_of(&data, &id2).0 == PacketState::Opened
    })
    .await;
    assert_eq!(state_of(&data, &id).0, PacketState::OpenFailed);
    h.shutdown().unwrap();

    // A hub.toml naming an identity file that is not there: the hub refuses to start, saying why.
    c.office_identity = Some(dir.path().join("missing.age"));
    c.save(&data).unwrap();
    let e = off_runtime(|| jemput_hub::Hub::open(&data))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("office identity") && e.contains("missing.age"),
        "{e}"
    );
}

#[tokio::test]
async fn every_state_change_reaches_the_webhook_signed_even_when_it_fails_the_first_tries() {
    let kit = Kit::new();
    let id = kit.queue_packet(25_000);
    let (url, received) = start_receiver(0, 3).await;
    let dead = format!("http://127.0.0.1:{}/hook", free_port());
    let dir = tempfile::tempdir().unwrap();
    let identity = kit.office.keys.identity_file.clone();
    let (data, _backend) = hub_for(&kit, dir.path(), |c| {
        c.office_identity = Some(identity);
        c.webhooks = vec![
            // A receiver that is down: it must not hold up the other one.
            WebhookConfig {
                url: dead.clone(),
                secret: SECRET.into(),
                allow_plain_http: false,
                include_name_and_nik: false,
            },
            WebhookConfig {
                url: url.clone(),
                secret: SECRET.into(),
                allow_plain_http: false,
                include_name_and_nik: false,
            },
        ];
    });
    let h = jemput_hub::spawn_local(&data).unwrap();
    upload_all(&kit, &h).await;
    eventually("received, verified and opened delivered", || {
        received.lock().unwrap().events.len() >= 3
    })
    .await;
    // Give a duplicate a chance to show up before checking there is none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = received.lock().unwrap();
    let mut evs: Vec<&(StatusEvent, String)> = r.events.iter().collect();
    evs.sort_by_key(|(e, _)| e.event_id);
    let kinds: Vec<EventKind> = evs.iter().map(|(e, _)| e.event).collect();
    assert_eq!(
        kinds,
        [EventKind::Received, EventKind::Verified, EventKind::Opened]
    );
    for (e, _) in &evs {
        assert_eq!(e.packet_id, id);
        assert_eq!(e.kit_id, "kit-test");
        assert_eq!(e.hub_id, h.hub_id);
        assert_eq!(e.size, Some(kit.packet_bytes(&id).len() as u64));
    }
    assert_eq!(r.bad_signatures, 0);
    assert_eq!(
        r.calls,
        3 + 3,
        "three refused tries, then one POST per event"
    );
    // A captured delivery cannot be replayed later, nor passed off as another event: the time,
    // the event id and the event kind are signed with the body.
    let (headers, body) = &r.raw[0];
    let get = |name: &str| headers[name].to_str().unwrap();
    let (sig, ev_id, kind) = (
        get(events::SIGNATURE_HEADER),
        get(events::EVENT_ID_HEADER),
        get(events::EVENT_HEADER),
    );
    let now = jiff::Timestamp::now().as_second();
    assert!(sig.starts_with("t="), "{sig}");
    events::verify_signature(SECRET, sig, ev_id, kind, body, now).unwrap();
    assert!(matches!(
        events::verify_signature(SECRET, sig, ev_id, kind, body, now + 301),
        Err(events::SignatureError::Stale { .. })
    ));
    assert_eq!(
        events::verify_signature(SECRET, sig, "999", kind, body, now),
        Err(events::SignatureError::Mismatch)
    );
    assert_eq!(
        events::verify_signature(SECRET, sig, ev_id, "rejected", body, now),
        Err(events::SignatureError::Mismatch)
    );
    assert!(
        evs.iter().any(|(_, attempt)| attempt != "1"),
        "a retried event says its attempt number"
    );
    drop(r);
    let d = off_runtime(|| events::deliveries(&data)).unwrap();
    assert_eq!(d.len(), 6, "three events for each of two webhooks");
    for x in &d {
        let want = if x.url == url {
            DeliveryState::Delivered
        } else {
            DeliveryState::Pending
        };
        assert_eq!(x.state, want, "{x:?}");
    }
    h.shutdown().unwrap();
}

#[tokio::test]
async fn undelivered_events_survive_a_hub_restart_and_are_delivered_then() {
    let kit = Kit::new();
    let id = kit.queue_packet(15_000);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let dir = tempfile::tempdir().unwrap();
    let (data, _backend) = hub_for(&kit, dir.path(), |c| {
        c.webhooks = vec![WebhookConfig {
            url: url.clone(),
            secret: SECRET.into(),
            allow_plain_http: false,
            include_name_and_nik: false,
        }];
    });
    // Nobody listens at the webhook yet: the hub tries, fails, and keeps the events.
    let h = jemput_hub::spawn_local(&data).unwrap();
    upload_all(&kit, &h).await;
    eventually("failed attempts recorded", || {
        off_runtime(|| events::deliveries(&data))
            .unwrap()
            .iter()
            .filter(|d| d.attempts >= 1 && d.last_error.is_some())
            .count()
            == 2
    })
    .await;
    h.shutdown().unwrap();

    let (_, received) = start_receiver(port, 0).await;
    let h = jemput_hub::spawn_local(&data).unwrap();
    eventually("both events delivered after the restart", || {
        received.lock().unwrap().events.len() == 2
    })
    .await;
    let kinds: Vec<EventKind> = {
        let r = received.lock().unwrap();
        let mut e: Vec<_> = r
            .events
            .iter()
            .map(|(e, _)| (e.event_id, e.event))
            .collect();
        e.sort_by_key(|(id, _)| *id);
        e.into_iter().map(|(_, k)| k).collect()
    };
    assert_eq!(kinds, [EventKind::Received, EventKind::Verified]);
    assert!(received
        .lock()
        .unwrap()
        .events
        .iter()
        .all(|(e, _)| e.packet_id == id));
    h.shutdown().unwrap();
}

#[tokio::test]
async fn an_event_older_than_the_maximum_age_is_given_up_and_that_is_recorded() {
    let kit = Kit::new();
    kit.queue_packet(10_000);
    let (url, received) = start_receiver(0, usize::MAX).await;
    let dir = tempfile::tempdir().unwrap();
    let (data, _backend) = hub_for(&kit, dir.path(), |c| {
        c.event_max_age_secs = 1;
        c.webhooks = vec![WebhookConfig {
            url: url.clone(),
            secret: SECRET.into(),
            allow_plain_http: false,
            include_name_and_nik: false,
        }];
    });
    let h = jemput_hub::spawn_local(&data).unwrap();
    upload_all(&kit, &h).await;
    eventually("both events given up", || {
        let d = off_runtime(|| events::deliveries(&data)).unwrap();
        d.len() == 2 && d.iter().all(|d| d.state == DeliveryState::GaveUp)
    })
    .await;
    let d = off_runtime(|| events::deliveries(&data)).unwrap();
    for x in &d {
        let why = x.last_error.as_deref().unwrap();
        assert!(why.contains("gave up") && why.contains("HTTP 500"), "{why}");
        assert!(x.attempts >= 1);
    }
    // `jemput hub events` shows the same.
    let out = super::common::jemput()
        .args(["hub", "events", "--undelivered", "--json", "--data"])
        .arg(&data)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let states: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["gave_up", "gave_up"]);
    assert_eq!(v[0]["event"]["event"], "received");
    assert_eq!(v[1]["event"]["event"], "verified");
    let calls = received.lock().unwrap().calls;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        received.lock().unwrap().calls,
        calls,
        "no more tries after giving up"
    );
    h.shutdown().unwrap();
}

#[test]
fn hub_init_refuses_an_office_identity_it_cannot_read_and_creates_nothing() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    super::common::jemput()
        .args(["hub", "init", "--data"])
        .arg(&data)
        .arg("--office-identity")
        .arg(d.path().join("tidak-ada.age"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("tidak-ada.age"));
    assert!(!data.join("hub.toml").exists());
}

#[tokio::test]
async fn a_plain_http_webhook_beyond_loopback_is_refused_unless_allowed() {
    let kit = Kit::new();
    let dir = tempfile::tempdir().unwrap();
    let hook = |allow| WebhookConfig {
        // TEST-NET-1 (RFC 5737): never reached, the config is refused or only read.
        url: "http://192.0.2.10/hook".into(),
        secret: SECRET.into(),
        allow_plain_http: allow,
        include_name_and_nik: false,
    };
    let (data, _backend) = hub_for(&kit, dir.path(), |c| c.webhooks = vec![hook(true)]);
    drop(off_runtime(|| jemput_hub::Hub::open(&data)).expect("allowed explicitly"));
    let mut c = HubConfig::load(&data).unwrap();
    c.webhooks = vec![hook(false)];
    c.save(&data).unwrap();
    let e = off_runtime(|| jemput_hub::Hub::open(&data))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("plain http://") && e.contains("allow_plain_http"),
        "{e}"
    );
}

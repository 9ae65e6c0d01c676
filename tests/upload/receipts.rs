//! Receipts and hub answers, against the fake hub: a receipt is stored only when it verifies with
//! the pinned key; `460`, `409`, `413`, `401` and "already held" do what the protocol says.

use jemput_core::keys::SigningKey;
use jemput_core::wire::receipt::Receipt;
use jemput_kit::store::State;
use jemput_kit::upload::{parse_endpoint, NoProgress, Outcome, UploadOptions, Uploader};

use super::fake_hub::{start_hub, Creation};
use super::Kit;

#[tokio::test]
async fn a_receipt_signed_by_the_pinned_hub_key_acknowledges_the_packet_after_460_and_409() {
    let kit = Kit::new();
    let id = kit.queue_packet(200_000);
    let hub_key = SigningKey::generate();
    let pinned = hub_key.public();
    let (url, hub) = start_hub(&kit, hub_key, Creation::Normal, &[460, 409]).await;
    let (store, report) = kit.drain(&url, Some(pinned)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_eq!(p.hub_id.as_deref(), Some("hub-fake"));
    assert_eq!(report.checksum.as_deref(), Some("sha256"));
    assert_eq!(hub.lock().unwrap().data, kit.packet_bytes(&id));
    let e = store.get(&id).unwrap().unwrap();
    assert_eq!((e.state, e.receipt), (State::Acknowledged, true));
    let stored: Receipt = serde_json::from_slice(&store.receipt_of(&id).unwrap().unwrap()).unwrap();
    let body = stored
        .verify_for(&pinned, &id, &e.payload_sha256)
        .expect("the stored receipt verifies again");
    assert_eq!(body.size, e.size);
    // 460: the same chunk again; 409: a HEAD, then on from the hub's offset.
    let h = hub.lock().unwrap();
    assert_eq!(
        h.checksums[0], h.checksums[1],
        "the chunk is resent after 460"
    );
    assert!(h.requests.contains(&"HEAD".to_owned()), "{:?}", h.requests);
    assert_eq!(p.attempts, 1);
    // Acknowledged, but kept for the retention period (24 h here).
    assert!(report.purged.is_empty());
    assert!(e.file_present);
}

#[tokio::test]
async fn a_forged_receipt_is_refused_and_the_packet_stays_uploading_and_unpurged() {
    let kit = Kit::new();
    let id = kit.queue_packet(100_000);
    let pinned = SigningKey::generate().public();
    let (url, _hub) = start_hub(&kit, SigningKey::generate(), Creation::Normal, &[]).await;
    let (mut store, report) = kit.drain(&url, Some(pinned)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Failed);
    let err = p.error.as_deref().unwrap();
    assert!(
        err.contains("receipt refused") && err.contains("pinned hub key"),
        "{err}"
    );
    let e = store.get(&id).unwrap().unwrap();
    assert_eq!((e.state, e.receipt), (State::Uploading, false));
    assert_eq!(store.receipt_of(&id).unwrap(), None);
    let purged = jemput_kit::upload::purge_expired(
        &mut store,
        jiff::SignedDuration::ZERO,
        jiff::Timestamp::now(),
    )
    .unwrap();
    assert!(purged.is_empty());
    assert!(e.file_present);
}

#[tokio::test]
async fn a_packet_the_hub_already_holds_is_acknowledged_at_creation_without_sending_a_byte() {
    let kit = Kit::new();
    let id = kit.queue_packet(50_000);
    let hub_key = SigningKey::generate();
    let pinned = hub_key.public();
    let (url, hub) = start_hub(&kit, hub_key, Creation::AlreadyHeld, &[]).await;
    let mut store = kit.store();
    let mut up = kit.uploader(&url, Some(pinned), 1);
    let report = up.drain(&mut store, &NoProgress).await.unwrap();
    assert_eq!(report.packets[0].outcome, Outcome::Acknowledged);
    assert_eq!(report.packets[0].bytes_sent, 0);
    assert!(hub.lock().unwrap().data.is_empty());
    assert_eq!(store.get(&id).unwrap().unwrap().state, State::Acknowledged);
    // Zero retention: the next drain purges the file (the receipt and row stay).
    up = Uploader::new(
        parse_endpoint(&url).unwrap(),
        "kit-test",
        kit.key_copy(),
        Some(pinned),
        UploadOptions {
            retention_hours: 0,
            ..UploadOptions::default()
        },
    );
    let report = up.drain(&mut store, &NoProgress).await.unwrap();
    assert_eq!(report.purged, std::slice::from_ref(&id));
    let e = store.get(&id).unwrap().unwrap();
    assert_eq!(
        (e.state, e.file_present, e.receipt),
        (State::Purged, false, true)
    );
}

#[tokio::test]
async fn too_large_keeps_the_packet_sealed_and_401_stops_the_drain_with_the_reason() {
    let kit = Kit::new();
    let a = kit.queue_packet(10_000);
    let (url, _hub) = start_hub(&kit, SigningKey::generate(), Creation::Status(413), &[]).await;
    let (mut store, report) = kit.drain(&url, None).await;
    assert_eq!(report.packets[0].outcome, Outcome::TooLarge);
    assert!(report.packets[0]
        .error
        .as_deref()
        .unwrap()
        .contains("stays sealed"));
    assert_eq!(store.get(&a).unwrap().unwrap().state, State::Sealed);
    assert_eq!(store.upload_of(&a).unwrap(), None);

    let b = kit.queue_packet(10_000);
    let (url, hub) = start_hub(&kit, SigningKey::generate(), Creation::Status(401), &[]).await;
    let report = kit
        .uploader(&url, None, 3)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let stopped = report.stopped.as_deref().unwrap();
    assert!(
        stopped.contains("revoked kit") && stopped.contains("enroll"),
        "{stopped}"
    );
    let outcomes: Vec<Outcome> = report.packets.iter().map(|p| p.outcome).collect();
    assert_eq!(outcomes, [Outcome::Failed, Outcome::NotAttempted]);
    assert_eq!(hub.lock().unwrap().requests, ["POST"], "no retry after 401");
    assert!(!report.all_delivered());
    assert_eq!(store.get(&b).unwrap().unwrap().state, State::Sealed);
}

//! A receipt only for what the office can open: a hub that holds the office identity decrypts each
//! packet and checks its inner signature and every file hash before it signs the receipt (the kit
//! deletes a packet once receipted). A packet whose outer checks hold but whose inner ones fail,
//! or that is sealed to another office, is refused for good: the kit keeps it as `refused`, the
//! hub keeps its bytes in quarantine and records a `rejected` event. Without the identity the hub
//! receipts after the outer checks, as the README says.

use std::path::Path;

use jemput_core::keys::sign::INNER_DOMAIN;
use jemput_core::keys::SigningKey;
use jemput_core::packet::{self, parse_prelude};
use jemput_hub::events::{self, EventKind, WebhookConfig};
use jemput_hub::packets::{self, PacketState};
use jemput_hub::{HubConfig, Registry};
use jemput_kit::store::State;
use jemput_kit::upload::Outcome;

use super::common::*;
use super::peer::free_port;
use super::Kit;

/// A tar written by hand: `manifest.json`, `manifest.sig`, then `files`.
fn archive(manifest: &[u8], signature: &[u8], files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o600);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data).unwrap();
    };
    add("manifest.json", manifest);
    add("manifest.sig", signature);
    for (name, data) in files {
        add(name, data);
    }
    b.into_inner().unwrap()
}

/// Queues hand-made packet bytes in the kit's store; returns the packet id.
fn queue_bytes(kit: &Kit, bytes: &[u8]) -> String {
    let header = parse_prelude(bytes).unwrap().header;
    let mut meta = jemput_kit::seal::meta_of(&header);
    meta.size = bytes.len() as u64;
    kit.store().commit_packet(&meta, bytes).unwrap();
    header.packet_id
}

/// The three packets whose outer checks hold but that the office cannot use: the manifest signed
/// by another key, a file changed after signing, and a packet sealed to another office. Each is
/// (packet id, what the refusal must say).
fn queue_unopenable(kit: &Kit) -> Vec<(String, &'static str)> {
    let recipient = &kit.office.keys.recipient;
    let sealed = small_packet(&kit.key, &kit.office);
    let c = packet::decrypt(&sealed.bytes, &kit.office.identities, None).unwrap();
    // Genuine manifest and files, inner signature by a key that is not the kit's.
    let forged = SigningKey::generate().sign(INNER_DOMAIN, &c.manifest_bytes);
    let tar = archive(&c.manifest_bytes, &forged, &c.files);
    let bad_sig = packet_around_id(&kit.key, recipient, &sealed.header.packet_id, &tar);
    // Genuine signature, one byte of the file changed.
    let sealed2 = small_packet(&kit.key, &kit.office);
    let c2 = packet::decrypt(&sealed2.bytes, &kit.office.identities, None).unwrap();
    let mut files = c2.files.clone();
    files[0].1[10] ^= 1;
    let tar = archive(&c2.manifest_bytes, &c2.signature, &files);
    let bad_file = packet_around_id(&kit.key, recipient, &sealed2.header.packet_id, &tar);
    // A complete, valid packet — for another office's recipient.
    let other = office();
    let (v, f) = small_visit();
    let elsewhere = seal_with(
        &kit.key,
        std::slice::from_ref(&other.keys.recipient),
        &v,
        &f,
    );
    for b in [&bad_sig, &bad_file, &elsewhere.bytes] {
        packet::verify(b, Some(&kit.key.public())).expect("the outer checks hold");
    }
    vec![
        (queue_bytes(kit, &bad_sig), "bad inner signature"),
        (queue_bytes(kit, &bad_file), "file hash mismatch"),
        (queue_bytes(kit, &elsewhere.bytes), "wrong key"),
    ]
}

/// A hub for the kit with a webhook nobody answers (so its events stay listed as pending), on
/// the backend `JEMPUT_TEST_HUB_BACKEND` asks for (its PostgreSQL server runs while the returned
/// backend lives).
fn hub_for(kit: &Kit, dir: &Path, identity: bool) -> (std::path::PathBuf, HubBackend) {
    let data = dir.join("hub");
    let backend = hub_backend();
    let mut config: HubConfig = jemput_hub::init_with(
        &data,
        &jemput_hub::InitOptions {
            postgres: backend.postgres_config(),
            ..Default::default()
        },
    )
    .unwrap();
    if identity {
        config.office_identity = Some(kit.office.keys.identity_file.clone());
    }
    config.webhooks = vec![WebhookConfig {
        url: format!("http://127.0.0.1:{}/hook", free_port()),
        secret: "rahasia-webhook-uji-0123456789".into(),
        allow_plain_http: false,
        include_name_and_nik: false,
    }];
    config.save(&data).unwrap();
    Registry::open(&data)
        .unwrap()
        .add("kit-test", &kit.key.public(), None)
        .unwrap();
    (data, backend)
}

#[tokio::test]
async fn with_the_office_identity_an_unopenable_packet_gets_no_receipt_and_is_quarantined() {
    let kit = Kit::new();
    let good = kit.queue_packet(20_000);
    let bad = queue_unopenable(&kit);
    let dir = tempfile::tempdir().unwrap();
    let (data, _backend) = off_runtime(|| hub_for(&kit, dir.path(), true));
    let h = off_runtime(|| jemput_hub::spawn_local(&data).unwrap());

    let (store, report) = kit.drain(&h.url, Some(h.hub_key)).await;
    let http = reqwest::Client::new();
    let good_report = report.packets.iter().find(|p| p.packet_id == good).unwrap();
    assert_eq!(
        good_report.outcome,
        Outcome::Acknowledged,
        "{good_report:?}"
    );
    for (id, says) in &bad {
        let p = report.packets.iter().find(|p| &p.packet_id == id).unwrap();
        assert_eq!(p.outcome, Outcome::Refused, "{says}: {p:?}");
        assert_eq!(p.attempts, 1, "a refusal is not retried");
        let error = p.error.as_deref().unwrap();
        assert!(
            error.contains("refused this packet for good (HTTP 422)")
                && error.contains("the office cannot open it (quarantined, no receipt): ")
                && error.contains(says),
            "{error}"
        );
        // The kit keeps the packet, refused, with its file.
        let e = store.get(id).unwrap().unwrap();
        assert_eq!((e.state, e.file_present), (State::Refused, true), "{says}");
        // The hub holds no receipt for it, and kept its bytes for the office.
        let url = format!("{}/v1/receipts/{id}", h.url);
        let r = http
            .execute(signed(http.get(&url), "kit-test", &kit.key))
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{says}");
        let kept = data.join("quarantine").join(format!("{id}.jpk"));
        assert_eq!(
            std::fs::read(&kept).unwrap(),
            kit.packet_bytes(id),
            "{says}"
        );
        let why =
            std::fs::read_to_string(data.join("quarantine").join(format!("{id}.why"))).unwrap();
        assert!(why.contains(says) && why.contains("kit-test"), "{why}");
    }
    drop(store);
    // A refused packet is not sent again.
    let (store, report) = kit.drain(&h.url, Some(h.hub_key)).await;
    assert!(report.packets.is_empty(), "{report:?}");
    for (id, _) in &bad {
        assert!(store.get(id).unwrap().unwrap().file_present);
    }

    // The receipted packet was opened at completion; the others are listed rejected, with why.
    let rows = off_runtime(|| packets::list(&data).unwrap());
    assert_eq!(rows.len(), 4, "{rows:?}");
    let row = |id: &str| rows.iter().find(|r| r.packet_id == id).unwrap();
    assert_eq!(row(&good).state, PacketState::Opened);
    for (id, says) in &bad {
        assert_eq!(row(id).state, PacketState::Rejected, "{says}");
        assert!(row(id).reason.as_deref().unwrap().contains(says));
    }
    // Each refusal is a `rejected` event with its reason; the good packet has one `opened`.
    let evs: Vec<_> = off_runtime(|| events::deliveries(&data).unwrap())
        .into_iter()
        .map(|d| d.event)
        .collect();
    for (id, says) in &bad {
        let r: Vec<_> = evs
            .iter()
            .filter(|e| &e.packet_id == id && e.event == EventKind::Rejected)
            .collect();
        assert_eq!(r.len(), 1, "{says}: {evs:?}");
        assert!(r[0].reason.as_deref().unwrap().contains(says), "{r:?}");
    }
    let opened = evs
        .iter()
        .filter(|e| e.event == EventKind::Opened)
        .collect::<Vec<_>>();
    assert_eq!(opened.len(), 1, "one opening, one event: {evs:?}");
    assert_eq!(opened[0].packet_id, good);
    assert!(
        opened[0].visit.is_some(),
        "the opened event carries the visit: {:?}",
        opened[0]
    );
    off_runtime(|| h.shutdown().unwrap());
}

#[tokio::test]
async fn without_the_office_identity_the_hub_receipts_after_the_outer_checks() {
    // What the README warns of: the hub cannot see inside, so a packet the office cannot open is
    // receipted (and deleted by the kit after its retention); the opener records it later.
    let kit = Kit::new();
    let bad = queue_unopenable(&kit);
    let dir = tempfile::tempdir().unwrap();
    let (data, _backend) = off_runtime(|| hub_for(&kit, dir.path(), false));
    let h = off_runtime(|| jemput_hub::spawn_local(&data).unwrap());
    let (_store, report) = kit.drain(&h.url, Some(h.hub_key)).await;
    for (id, says) in &bad {
        let p = report.packets.iter().find(|p| &p.packet_id == id).unwrap();
        assert_eq!(p.outcome, Outcome::Acknowledged, "{says}: {p:?}");
    }
    assert!(!data.join("quarantine").exists());
    off_runtime(|| h.shutdown().unwrap());
}

//! `413` is unambiguous: at creation it means "this packet is too big for this server" (the packet
//! stays sealed, tested in `receipts.rs`); to a `PATCH` it means "this chunk is too big", and the
//! kit sends the same bytes again in smaller chunks. A hub advertises its limit
//! (`Jemput-Max-Chunk`), and the kit never sends more than that.

use jemput_core::keys::SigningKey;
use jemput_kit::store::State;
use jemput_kit::upload::{NoProgress, Outcome};

use super::common::*;
use super::fake_hub::{start_hub, Creation};
use super::Kit;

#[tokio::test]
async fn a_413_to_a_patch_without_a_limit_said_shrinks_the_chunk_and_the_packet_still_arrives() {
    let kit = Kit::new();
    let id = kit.queue_packet(120_000);
    let hub_key = SigningKey::generate();
    let pinned = hub_key.public();
    let (url, hub) = start_hub(&kit, hub_key, Creation::Normal, &[]).await;
    // A proxy in front of the hub that refuses bodies over 20 000 bytes and says nothing more.
    hub.lock().unwrap().max_body = Some(20_000);
    let (store, report) = kit.drain(&url, Some(pinned)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_eq!(p.attempts, 1, "a 413 to a PATCH is not a failed attempt");
    assert_eq!(store.get(&id).unwrap().unwrap().state, State::Acknowledged);
    let h = hub.lock().unwrap();
    assert_eq!(h.data, kit.packet_bytes(&id), "byte-identical at the hub");
    // 64 KiB refused, 32 KiB refused, then 16 KiB chunks, never larger again.
    let refused: Vec<usize> = h
        .chunk_sizes
        .iter()
        .copied()
        .filter(|&n| n > 20_000)
        .collect();
    assert_eq!(refused, [65_536, 32_768], "{:?}", h.chunk_sizes);
    assert!(h.chunk_sizes[2..].iter().all(|&n| n <= 16_384));
}

#[tokio::test]
async fn a_kit_never_sends_more_than_the_advertised_max_chunk() {
    let kit = Kit::new();
    let id = kit.queue_packet(90_000);
    let hub_key = SigningKey::generate();
    let pinned = hub_key.public();
    let (url, hub) = start_hub(&kit, hub_key, Creation::Normal, &[]).await;
    {
        let mut h = hub.lock().unwrap();
        h.max_body = Some(20_000);
        h.advertise = true;
    }
    let (_store, report) = kit.drain(&url, Some(pinned)).await;
    assert_eq!(report.packets[0].outcome, Outcome::Acknowledged);
    let h = hub.lock().unwrap();
    assert_eq!(h.data, kit.packet_bytes(&id));
    assert!(
        h.chunk_sizes.iter().all(|&n| n <= 20_000),
        "no chunk over the advertised limit: {:?}",
        h.chunk_sizes
    );
    assert_eq!(
        report.packets[0].bytes_sent, report.packets[0].size,
        "nothing was refused, so nothing was sent twice"
    );
}

#[tokio::test]
async fn against_a_real_hub_a_small_max_chunk_is_advertised_and_kept_and_max_size_still_means_too_large(
) {
    let kit = Kit::new();
    let big = kit.queue_packet(150_000);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let (mut config, _backend) = init_hub(&data);
    config.max_chunk = 24_000;
    config.save(&data).unwrap();
    register_kit(&data, "kit-test", &kit.key.public(), None);
    let h = jemput_hub::spawn_local(&data).unwrap();

    let opts = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/v1/uploads", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(opts.headers()["jemput-max-chunk"], "24000");

    let (mut store, report) = kit.drain(&h.url, Some(h.hub_key)).await;
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_eq!(p.bytes_sent, p.size, "no chunk was refused");
    let stored = std::fs::read(data.join("packets").join(format!("{big}.jpk"))).unwrap();
    assert_eq!(stored, kit.packet_bytes(&big));
    h.shutdown().unwrap();

    // The same hub with a packet limit below the next packet: 413 at creation, kept sealed.
    let mut config = jemput_hub::HubConfig::load(&data).unwrap();
    config.max_size = 50_000;
    config.save(&data).unwrap();
    let h = jemput_hub::spawn_local(&data).unwrap();
    let too_big = kit.queue_packet(60_000);
    let report = kit
        .uploader(&h.url, Some(h.hub_key), 3)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let p = report
        .packets
        .iter()
        .find(|p| p.packet_id == too_big)
        .unwrap();
    assert_eq!(p.outcome, Outcome::TooLarge, "{report:?}");
    assert_eq!(store.get(&too_big).unwrap().unwrap().state, State::Sealed);
}

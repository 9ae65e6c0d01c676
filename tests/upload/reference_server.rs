//! Against `@tus/server`: byte-identical uploads kept as "uploaded, no receipt", and resumption
//! after connection cuts without re-sending what the server confirmed.

use std::time::Duration;

use jemput_kit::store::State;
use jemput_kit::upload::{NoProgress, Outcome};

use super::peer::TusPeer;
use super::proxy::start_proxy;
use super::Kit;

#[tokio::test]
async fn a_packet_uploads_byte_identically_to_the_reference_tus_server_and_is_kept_without_a_receipt(
) {
    let Some(peer) = TusPeer::start() else {
        return;
    };
    let kit = Kit::new();
    let id = kit.queue_packet(700_000);
    let mut store = kit.store();
    let up = kit.uploader(&peer.endpoint(), None, 3);
    let report = up.drain(&mut store, &NoProgress).await.unwrap();

    assert_eq!(report.checksum, None, "@tus/server offers no checksum");
    assert_eq!(report.packets.len(), 1);
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::UploadedNoReceipt, "{p:?}");
    assert_eq!(p.bytes_sent, p.size, "every byte sent exactly once");
    let upload = store.upload_of(&id).unwrap().unwrap();
    assert_eq!(peer.stored(&upload.url), kit.packet_bytes(&id));
    assert_eq!(upload.offset, p.size);

    let e = store.get(&id).unwrap().unwrap();
    assert_eq!(e.state, State::Uploading);
    assert!(e.uploaded_without_receipt && !e.receipt);

    // Never purged without a receipt, whatever the retention; a second drain sends nothing.
    let purged = jemput_kit::upload::purge_expired(
        &mut store,
        jiff::SignedDuration::ZERO,
        jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365),
    )
    .unwrap();
    assert!(purged.is_empty());
    let again = up.drain(&mut store, &NoProgress).await.unwrap();
    assert_eq!(again.packets[0].outcome, Outcome::UploadedNoReceipt);
    assert_eq!(again.packets[0].bytes_sent, 0);
    assert_eq!(again.packets[0].resumed_from, Some(p.size));
    assert!(store.get(&id).unwrap().unwrap().file_present);
}

#[tokio::test]
async fn a_cut_mid_chunk_resumes_from_the_servers_offset_in_a_later_drain_and_never_resends_confirmed_bytes(
) {
    let Some(peer) = TusPeer::start() else {
        return;
    };
    // Chunks grow 64, 128, 256 KiB on loopback: the cut lands inside the third chunk.
    let cut_after = 300 * 1024;
    let (proxy, log) = start_proxy(peer.port, cut_after).await;
    let endpoint = format!("http://127.0.0.1:{proxy}/files");
    let kit = Kit::new();
    let id = kit.queue_packet(1_200_000);
    let size = kit.packet_bytes(&id).len() as u64;

    // One attempt only: the drain gives up at the cut and records where the upload stands.
    let mut store = kit.store();
    let first = kit
        .uploader(&endpoint, None, 1)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    assert_eq!(first.packets[0].outcome, Outcome::Failed, "{first:?}");
    assert!(first.packets[0]
        .error
        .as_deref()
        .unwrap()
        .contains("resumes"));
    let recorded = store.upload_of(&id).unwrap().unwrap();
    assert!(
        recorded.offset > 0 && recorded.offset < cut_after,
        "chunks confirmed before the cut: {}",
        recorded.offset
    );
    drop(store);
    // The server may still be writing what it got of the cut chunk.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A new drain (a restarted kit) asks the server and goes on from its offset.
    let mut store = kit.store();
    let second = kit
        .uploader(&endpoint, None, 3)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let p = &second.packets[0];
    assert_eq!(p.outcome, Outcome::UploadedNoReceipt, "{second:?}");
    let resumed = p.resumed_from.unwrap();
    assert!(resumed >= recorded.offset, "resumed at {resumed}");
    let upload = store.upload_of(&id).unwrap().unwrap();
    assert_eq!(peer.stored(&upload.url), kit.packet_bytes(&id));

    // What the proxy saw: before the cut, consecutive chunks; after it, the first PATCH starts at
    // the server's offset, never below what the server had confirmed.
    let log = log.lock().unwrap();
    let cut = log.patches.iter().position(|p| p.cut).expect("a cut PATCH");
    let cut_patch = &log.patches[cut];
    assert_eq!(cut_patch.offset, recorded.offset);
    let after = &log.patches[cut + 1];
    assert_eq!(after.offset, resumed);
    assert!(after.offset >= cut_patch.offset);
    let mut expect = after.offset;
    for p in &log.patches[cut + 1..] {
        assert_eq!(
            p.offset, expect,
            "contiguous after the resume: {:?}",
            log.patches
        );
        expect += p.forwarded;
    }
    assert_eq!(expect, size);
    let resent = log.body_bytes - size;
    assert!(
        resent <= cut_patch.forwarded,
        "re-sent {resent} bytes, more than the cut chunk's {}",
        cut_patch.forwarded
    );
    eprintln!(
        "cut after {} bytes of the chunk at {}; server kept up to {resumed}; re-sent {resent} bytes",
        cut_patch.forwarded, cut_patch.offset
    );
}

#[tokio::test]
async fn a_cut_within_a_drain_is_retried_after_a_back_off_and_finishes_byte_identical() {
    let Some(peer) = TusPeer::start() else {
        return;
    };
    let (proxy, log) = start_proxy(peer.port, 100 * 1024).await;
    let endpoint = format!("http://127.0.0.1:{proxy}/files");
    let kit = Kit::new();
    let id = kit.queue_packet(400_000);
    let mut store = kit.store();
    let report = kit
        .uploader(&endpoint, None, 5)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::UploadedNoReceipt, "{report:?}");
    assert!(p.attempts >= 2, "the cut cost an attempt: {p:?}");
    assert!(p.resumed_from.is_some());
    let upload = store.upload_of(&id).unwrap().unwrap();
    assert_eq!(peer.stored(&upload.url), kit.packet_bytes(&id));
    assert!(log.lock().unwrap().patches.iter().any(|p| p.cut));
}

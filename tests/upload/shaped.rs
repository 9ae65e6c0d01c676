//! `jemput`'s uploader against the real hub through the shaping proxy: a slow link with latency
//! and cuts at random offsets. Every packet ends byte-identical at the hub with a receipt, and the
//! bytes sent again because of the cuts stay within one chunk per cut.
//!
//! CI runs a short link (a few hundred kbit/s, small packets). `JEMPUT_SHAPED_KBIT`,
//! `JEMPUT_SHAPED_BYTES` and `JEMPUT_SHAPED_CUT_EVERY` change the link rate, packet payload size
//! and mean distance between cuts.

use std::time::{Duration, Instant};

use jemput_kit::store::State;
use jemput_kit::upload::{NoProgress, Outcome};

use super::common::*;
use super::shaper::{self, Cuts, Shape};
use super::Kit;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A hub on loopback with the test kit registered.
fn hub_for(kit: &Kit) -> (jemput_hub::HubHandle, tempfile::TempDir, HubBackend) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let (_, backend) = init_hub(&data);
    register_kit(&data, "kit-test", &kit.key.public(), None);
    (jemput_hub::spawn_local(&data).unwrap(), dir, backend)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_a_slow_cut_link_end_byte_identical_and_resend_at_most_one_chunk_per_cut() {
    let kbit = env_u64("JEMPUT_SHAPED_KBIT", 800);
    let bytes = env_u64("JEMPUT_SHAPED_BYTES", 150_000) as usize;
    let cut_every = env_u64("JEMPUT_SHAPED_CUT_EVERY", 90_000);
    let seed = env_u64("JEMPUT_SHAPED_SEED", rand::random::<u32>() as u64);
    eprintln!(
        "shaped link: {kbit} kbit/s, 40 ms, cut every ~{cut_every} B (JEMPUT_SHAPED_SEED={seed})"
    );
    let kit = Kit::new();
    let ids: Vec<String> = (0..2).map(|_| kit.queue_packet(bytes)).collect();
    let (hub, hub_dir, _backend) = hub_for(&kit);
    let link = shaper::start(
        hub.addr.port(),
        Shape::kbit(
            kbit,
            40,
            Cuts::Random {
                mean: cut_every,
                seed,
            },
        ),
    )
    .await;
    let endpoint = format!("http://127.0.0.1:{}", link.port);
    let mut store = kit.store();
    let started = Instant::now();
    let report = kit
        .uploader(&endpoint, Some(hub.hub_key), 12)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let took = started.elapsed();
    let mut total = 0;
    for id in &ids {
        let p = report.packets.iter().find(|p| &p.packet_id == id).unwrap();
        assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
        let sent = kit.packet_bytes(id);
        total += sent.len() as u64;
        let at_hub = hub_dir.path().join("hub/packets").join(format!("{id}.jpk"));
        assert_eq!(std::fs::read(at_hub).unwrap(), sent, "byte-identical");
        let e = store.get(id).unwrap().unwrap();
        assert_eq!(e.state, State::Acknowledged);
        assert!(e.receipt);
    }

    let log = link.log.lock().unwrap();
    let cut: Vec<_> = log.patches.iter().filter(|p| p.cut).collect();
    let resent = log.resent(total);
    eprintln!(
        "{} bytes in {:.1} s over {} connections: {} cuts at {:?}; {} PATCH body bytes, {resent} re-sent; goodput {:.0} bit/s of {} bit/s",
        total,
        took.as_secs_f64(),
        log.connections,
        cut.len(),
        log.cuts_at,
        log.body_bytes,
        total as f64 * 8.0 / took.as_secs_f64(),
        kbit * 1000
    );
    // Each cut costs at most the chunk it cut: whatever was sent of it, never more.
    for (i, c) in cut.iter().enumerate() {
        assert!(c.forwarded < c.declared, "cut {i} inside its chunk: {c:?}");
    }
    let bound: u64 = cut.iter().map(|c| c.declared).sum();
    assert!(
        resent <= bound,
        "re-sent {resent} bytes for {} cuts whose chunks held {bound}",
        cut.len()
    );
    assert!(
        resent <= cut.len() as u64 * jemput_kit::upload::pacing::MAX_CHUNK as u64,
        "at most one chunk per cut"
    );
    // Nothing past a confirmed offset is sent twice: after each cut the next PATCH of that packet
    // starts at or after the cut chunk's offset.
    for w in log.patches.windows(2) {
        if w[0].cut {
            assert!(w[1].offset >= w[0].offset || w[1].offset == 0, "{w:?}");
        }
    }
}

#[tokio::test]
async fn a_cut_at_a_chosen_offset_keeps_what_the_hub_confirmed_and_latency_does_not_break_resume() {
    let kit = Kit::new();
    let id = kit.queue_packet(120_000);
    let size = kit.packet_bytes(&id).len() as u64;
    let (hub, _hub_dir, _backend) = hub_for(&kit);
    // The first chunk is 64 KiB: cut inside the second.
    let cut_at = 64 * 1024 + 10_000;
    let link = shaper::start(
        hub.addr.port(),
        Shape {
            rate: None,
            latency: Duration::from_millis(30),
            cuts: Cuts::At(vec![cut_at]),
        },
    )
    .await;
    let mut store = kit.store();
    let report = kit
        .uploader(
            &format!("http://127.0.0.1:{}", link.port),
            Some(hub.hub_key),
            4,
        )
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        report.packets[0].outcome,
        Outcome::Acknowledged,
        "{report:?}"
    );
    let log = link.log.lock().unwrap();
    assert_eq!(log.cuts_at, vec![cut_at]);
    let cut = log.patches.iter().find(|p| p.cut).unwrap();
    assert_eq!(cut.offset, 64 * 1024, "the cut hit the second chunk");
    assert_eq!(cut.forwarded, 10_000);
    // The hub discards a cut checksummed chunk whole: exactly the 10 000 bytes are sent again.
    assert_eq!(log.resent(size), 10_000);
    let after: Vec<_> = log.patches.iter().skip_while(|p| !p.cut).skip(1).collect();
    assert_eq!(after[0].offset, 64 * 1024, "resumed at the hub's offset");
}

/// A link that dies every few seconds: reset after about 90 kB, as a cutting proxy at 40 kB/s
/// does every ~2 s. Before the chunk sizer learnt from cuts, each cut halved the chunk, the next
/// fast chunk doubled it back and was cut again: a third to a half of the upstream bytes were
/// wasted. The goal is at least 0.7 of what the kit sends up (request heads included) being the
/// packets' bytes; the test asks 0.75, which the old sizer never reached here (0.66–0.69 over five
/// seeds, against 0.84–0.86 now).
///
/// CI runs it at loopback speed with a seeded cut pattern; `JEMPUT_CUTTING_KBIT=320`,
/// `JEMPUT_CUTTING_PACKETS=12` and `JEMPUT_CUTTING_BYTES=175000` give the field pattern
/// (BENCHMARKS.md), `JEMPUT_SHAPED_CUT_EVERY` the mean distance between cuts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_cut_every_90_kb_wastes_less_than_three_tenths_of_the_upstream_bytes() {
    let kbit = env_u64("JEMPUT_CUTTING_KBIT", 0);
    let packets = env_u64("JEMPUT_CUTTING_PACKETS", 8);
    let bytes = env_u64("JEMPUT_CUTTING_BYTES", 150_000) as usize;
    let cut_every = env_u64("JEMPUT_SHAPED_CUT_EVERY", 90_000);
    let seed = env_u64("JEMPUT_SHAPED_SEED", rand::random::<u32>() as u64);
    eprintln!(
        "cutting link: {kbit} kbit/s (0: loopback), cut every ~{cut_every} B (JEMPUT_SHAPED_SEED={seed})"
    );
    let kit = Kit::new();
    let ids: Vec<String> = (0..packets).map(|_| kit.queue_packet(bytes)).collect();
    let (hub, _hub_dir, _backend) = hub_for(&kit);
    let cuts = Cuts::Random {
        mean: cut_every,
        seed,
    };
    let shape = if kbit == 0 {
        Shape {
            rate: None,
            latency: Duration::from_millis(5),
            cuts,
        }
    } else {
        Shape::kbit(kbit, 40, cuts)
    };
    let link = shaper::start(hub.addr.port(), shape).await;
    let mut store = kit.store();
    let started = Instant::now();
    // Many cuts per packet: allow the attempts they need.
    let report = kit
        .uploader(
            &format!("http://127.0.0.1:{}", link.port),
            Some(hub.hub_key),
            100,
        )
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let took = started.elapsed();
    let mut total = 0;
    for id in &ids {
        let p = report.packets.iter().find(|p| &p.packet_id == id).unwrap();
        assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
        total += kit.packet_bytes(id).len() as u64;
    }
    let log = link.log.lock().unwrap();
    let cuts = log.patches.iter().filter(|p| p.cut).count();
    let useful = total as f64 / log.up_bytes as f64;
    eprintln!(
        "{total} packet bytes in {:.1} s, {cuts} cuts over {} connections; {} bytes up ({} PATCH body bytes): useful share {useful:.3}",
        took.as_secs_f64(),
        log.connections,
        log.up_bytes,
        log.body_bytes,
    );
    assert!(cuts > 0, "the link must actually cut");
    assert!(
        useful >= 0.75,
        "only {useful:.3} of the upstream bytes were the packets' ({total} of {})",
        log.up_bytes
    );
}

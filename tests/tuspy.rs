//! An independent tus client against our hub: Python `tuspy` (module `tusclient`) uploads a sealed
//! packet in checksummed chunks, with jemput's request signatures added beneath it by
//! `tests/peers/tuspy_upload.py`. The packet arrives byte-identical and the hub signs a receipt
//! for it that verifies with the hub key.
//!
//! The drain-time benchmark (20 queued packets, jemput's uploader vs tuspy, each to its own hub
//! through the same shaped link) is opt-in: `JEMPUT_BENCH_DRAIN=1 cargo test --test tuspy --
//! --nocapture` (`JEMPUT_BENCH_KBIT`, `JEMPUT_BENCH_BYTES`, `JEMPUT_BENCH_CUT_EVERY` shape it).
//!
//! Needs `python3` with `tuspy` and `cryptography` (`scripts/install-test-peers` installs them);
//! without them the tests are skipped with a `SKIPPED` line on stderr, or fail under
//! `JEMPUT_REQUIRE_PEERS=1` (as in CI).

mod common;
#[allow(dead_code)]
#[path = "upload/shaper.rs"]
mod shaper;

use std::path::Path;
use std::process::Command;

use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::packet::parse_prelude;
use jemput_core::wire::receipt::Receipt;

/// Whether python3 has tuspy and cryptography; without them the test is skipped visibly (fails
/// under `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
fn need_python_peer() -> bool {
    jemput_testkit::python_modules(
        &["tusclient", "cryptography"],
        "python3 -m pip install tuspy cryptography, or scripts/install-test-peers",
    )
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tuspy_upload.py")
}

#[tokio::test]
async fn tuspy_uploads_a_packet_to_the_hub_byte_identical_and_the_hub_signs_a_receipt() {
    if !need_python_peer() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    let (_, _backend) = init_hub(&data);
    let kit = SigningKey::generate();
    let key_file = d.path().join("kit.ed25519");
    kit.save(&key_file).unwrap();
    register_kit(&data, "kit-test", &kit.public(), None);
    let hub = jemput_hub::spawn_local(&data).unwrap();

    let sealed = small_packet(&kit, &office());
    let packet_file = d.path().join("p.jpk");
    std::fs::write(&packet_file, &sealed.bytes).unwrap();
    let prelude_len = parse_prelude(&sealed.bytes).unwrap().payload_offset;
    // Several chunks: one of the prelude's size and up, at least three in all.
    let chunk = (sealed.bytes.len() / 3).max(1024);

    let out = Command::new("python3")
        .arg(script())
        .arg(&hub.url)
        .arg("kit-test")
        .arg(&key_file)
        .arg(chunk.to_string())
        .arg(format!("{}:{prelude_len}", packet_file.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tuspy failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = stdout
        .lines()
        .find_map(|l| l.strip_prefix("UPLOADED "))
        .expect("tuspy reports its upload URL");
    assert!(
        url.starts_with(&format!("{}/v1/uploads/", hub.url)),
        "{url}"
    );

    let id = &sealed.header.packet_id;
    let stored = std::fs::read(data.join("packets").join(format!("{id}.jpk"))).unwrap();
    assert_eq!(stored, sealed.bytes, "byte-identical at the hub");

    // The receipt, as the kit would fetch it.
    let path = format!("/v1/receipts/{id}");
    let http = reqwest::Client::new();
    let r = http
        .execute(signed(
            http.get(format!("{}{path}", hub.url)),
            "kit-test",
            &kit,
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let receipt: Receipt = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let body = receipt
        .verify_for(&hub.hub_key, id, &sealed.header.payload_sha256)
        .unwrap();
    assert_eq!(body.size, sealed.bytes.len() as u64);
    assert_eq!(body.kit_id, "kit-test");
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh hub with `kit` registered as `kit-test`, behind its own shaped link.
async fn shaped_hub(
    kit: &SigningKey,
    dir: &Path,
    shape: shaper::Shape,
) -> (jemput_hub::HubHandle, shaper::Link, HubBackend) {
    let data = dir.join("hub");
    let (_, backend) = init_hub(&data);
    register_kit(&data, "kit-test", &kit.public(), None);
    let h = jemput_hub::spawn_local(&data).unwrap();
    let link = shaper::start(h.addr.port(), shape).await;
    (h, link, backend)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_drain_of_a_20_packet_backlog_jemput_vs_tuspy_through_the_same_link() {
    if std::env::var_os("JEMPUT_BENCH_DRAIN").is_none() {
        eprintln!("SKIPPED: the drain benchmark runs only with JEMPUT_BENCH_DRAIN=1");
        return;
    }
    if !need_python_peer() {
        return;
    }
    let kbit = env_u64("JEMPUT_BENCH_KBIT", 64);
    let bytes = env_u64("JEMPUT_BENCH_BYTES", 20_000) as usize;
    let cut_every = env_u64("JEMPUT_BENCH_CUT_EVERY", 240_000);
    let shape = || {
        shaper::Shape::kbit(
            kbit,
            40,
            shaper::Cuts::Random {
                mean: cut_every,
                seed: 7,
            },
        )
    };
    let d = tempfile::tempdir().unwrap();
    let kit = SigningKey::generate();
    let key_file = d.path().join("kit.ed25519");
    kit.save(&key_file).unwrap();
    let recipient = office().keys.recipient;
    let packets: Vec<Vec<u8>> = (0..20u8)
        .map(|i| resign(&kit, "kit-test", &recipient, &vec![i; bytes]))
        .collect();
    let total: usize = packets.iter().map(Vec::len).sum();

    // jemput: the packets in a kit queue, one drain.
    let root = d.path().join("kit");
    let mut store = jemput_kit::store::Store::open(&root).unwrap();
    for p in &packets {
        let h = parse_prelude(p).unwrap().header;
        let mut meta = jemput_kit::seal::meta_of(&h);
        meta.size = p.len() as u64;
        store.commit_packet(&meta, p).unwrap();
    }
    let jd = d.path().join("j");
    std::fs::create_dir(&jd).unwrap();
    let (jhub, jlink, _jbackend) = shaped_hub(&kit, &jd, shape()).await;
    let up = jemput_kit::upload::Uploader::new(
        jemput_kit::upload::parse_endpoint(&format!("http://127.0.0.1:{}", jlink.port)).unwrap(),
        "kit-test",
        SigningKey::load(&key_file).unwrap(),
        Some(jhub.hub_key),
        jemput_kit::upload::UploadOptions {
            max_attempts: 10,
            ..Default::default()
        },
    );
    let started = std::time::Instant::now();
    let report = up
        .drain(&mut store, &jemput_kit::upload::NoProgress)
        .await
        .unwrap();
    let jemput_took = started.elapsed();
    assert!(report.all_delivered(), "{report:?}");

    // tuspy: the same packets as files, one process uploading them one after the other.
    let td = d.path().join("t");
    std::fs::create_dir(&td).unwrap();
    let (thub, tlink, _tbackend) = shaped_hub(&kit, &td, shape()).await;
    let mut args = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        let f = td.join(format!("{i}.jpk"));
        std::fs::write(&f, p).unwrap();
        args.push(format!(
            "{}:{}",
            f.display(),
            parse_prelude(p).unwrap().payload_offset
        ));
    }
    let url = format!("http://127.0.0.1:{}", tlink.port);
    let started = std::time::Instant::now();
    let script = script();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(&url)
            .arg("kit-test")
            .arg(&key_file)
            .arg((64 * 1024).to_string())
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let tuspy_took = started.elapsed();
    assert!(
        out.status.success(),
        "tuspy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for p in &packets {
        let id = parse_prelude(p).unwrap().header.packet_id;
        assert!(td.join("hub/packets").join(format!("{id}.jpk")).is_file());
    }
    drop((jhub, thub));
    let (jl, tl) = (jlink.log.lock().unwrap(), tlink.log.lock().unwrap());
    for l in [&jl, &tl] {
        assert!(
            l.body_bytes >= total as u64 - 20 * 300,
            "every packet crossed the link"
        );
    }
    eprintln!(
        "drain of 20 packets ({total} bytes) at {kbit} kbit/s, cut every ~{cut_every} B:\n  \
         jemput {:.1} s, {} cuts, {} PATCH body bytes\n  tuspy  {:.1} s, {} cuts, {} PATCH body bytes",
        jemput_took.as_secs_f64(),
        jl.cuts_at.len(),
        jl.body_bytes,
        tuspy_took.as_secs_f64(),
        tl.cuts_at.len(),
        tl.body_bytes
    );
}

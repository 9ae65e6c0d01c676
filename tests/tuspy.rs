//! An independent tus client against our hub: Python `tuspy` (module `tusclient`) uploads a sealed
//! packet in checksummed chunks, with jemput's request signatures added beneath it by
//! `tests/peers/tuspy_upload.py`. The packet arrives byte-identical and the hub signs a receipt
//! for it that verifies with the hub key.
//!
//! Needs `python3` with `tuspy` and `cryptography` (`.ci/run` installs them); a missing one fails
//! the test with that message rather than skipping silently.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use jemput::hub::{self, Registry};
use jemput::keys::SigningKey;
use jemput::packet::parse_prelude;
use jemput::wire::auth;
use jemput::wire::receipt::Receipt;

fn need_python_peer() {
    let ok = Command::new("python3")
        .args(["-c", "import tusclient, cryptography"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the tuspy interop test needs python3 with tuspy and cryptography: \
         `python3 -m pip install tuspy cryptography` (add --break-system-packages on Debian)"
    );
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tuspy_upload.py")
}

#[tokio::test]
async fn tuspy_uploads_a_packet_to_the_hub_byte_identical_and_the_hub_signs_a_receipt() {
    need_python_peer();
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    hub::init(&data).unwrap();
    let kit = SigningKey::generate();
    let key_file = d.path().join("kit.ed25519");
    kit.save(&key_file).unwrap();
    Registry::open(&data)
        .unwrap()
        .add("kit-test", &kit.public(), None)
        .unwrap();
    let hub = hub::spawn_local(&data).unwrap();

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
        .arg(&packet_file)
        .arg(prelude_len.to_string())
        .arg(chunk.to_string())
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
    let t = jiff::Timestamp::now().as_second();
    let r = reqwest::Client::new()
        .get(format!("{}{path}", hub.url))
        .header(
            auth::HEADER,
            auth::sign("kit-test", &kit, "GET", &path, None, t),
        )
        .send()
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

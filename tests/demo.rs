//! `jemput demo`: the README's first command, and what it leaves on disk.

mod common;

use common::*;

/// Finds plaintext biometric formats in `bytes`: PNG, JPEG (JFIF/Exif), WSQ, pen-trace JSON.
fn plaintext_biometric(bytes: &[u8]) -> Option<&'static str> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    for i in 0..bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(PNG) {
            return Some("PNG");
        }
        if rest.starts_with(b"\xff\xd8\xff")
            && rest.len() > 11
            && (&rest[6..11] == b"JFIF\0" || &rest[6..11] == b"Exif\0")
        {
            return Some("JPEG");
        }
        if rest.starts_with(b"\xff\xa0\xff")
            && rest.len() > 4
            && matches!(rest[3], 0xa4 | 0xa5 | 0xa6 | 0xa8)
        {
            let window = &rest[4..rest.len().min(2048)];
            if window.windows(2).any(|w| w == b"\xff\xa2") {
                return Some("WSQ");
            }
        }
        if rest.starts_with(b"\"t_ms\"") {
            return Some("pen trace");
        }
    }
    None
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    // The privacy test below is only meaningful if this detector works.
    let img = image::GrayImage::from_pixel(8, 8, image::Luma([9]));
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(
        plaintext_biometric(&[b"xx".as_slice(), &png].concat()),
        Some("PNG")
    );
    let mut jpg = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(
            &mut std::io::Cursor::new(&mut jpg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    assert_eq!(plaintext_biometric(&jpg), Some("JPEG"));
    assert_eq!(
        plaintext_biometric(b"\xff\xa0\xff\xa8\x00\x10NIST_COM 9\xff\xa2"),
        Some("WSQ")
    );
    assert_eq!(plaintext_biometric(b"{\"t_ms\":1}"), Some("pen trace"));
    assert_eq!(plaintext_biometric(b"age-encryption.org/v1"), None);
}

#[test]
fn demo_json_seals_visits_and_leaves_no_plaintext_biometrics_in_the_kit() {
    let d = tempfile::tempdir().unwrap();
    let keep = d.path().join("demo");
    let out = jemput()
        .env_remove("JEMPUT_PASSPHRASE")
        .args(["demo", "--offline", "--json", "--visits", "4", "--keep"])
        .arg(&keep)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("stdout is one JSON object");
    assert_eq!(v["visits"], 4);
    assert_eq!(v["receipts"].as_array().unwrap().len(), 0);
    let packets = v["packets"].as_array().unwrap();
    assert_eq!(packets.len(), 4);
    let identity = v["office_identity"].as_str().unwrap();
    let ids = jemput_core::keys::office::load_identities(identity.as_ref()).unwrap();
    let mut categories = Vec::new();
    let mut exceptions = 0;
    let mut retries = 0;
    for p in packets {
        let bytes = std::fs::read(p.as_str().unwrap()).unwrap();
        let c = jemput_core::packet::decrypt(&bytes, &ids, None).unwrap();
        let visit = &c.manifest.visit;
        categories.push(visit.category);
        exceptions += visit.exception_count();
        if visit.category.records_biometrics() {
            // Fingers and signature came through the real drivers from the device models.
            for slot in visit.captures.fingers.values() {
                if let jemput_core::visit::Slot::Captured(cap) = slot {
                    assert_eq!(cap.device.driver, "ef01");
                    // Through the capture policy: scored before compression, stored as WSQ.
                    assert_eq!(cap.media_type, "image/x-wsq");
                    let q = cap.quality.as_ref().expect("every kept finger has a score");
                    assert_eq!(q.algorithm, "jemput-fq/1");
                    assert!(q.score >= 40 || cap.forced, "{cap:?}");
                    retries += cap.retries;
                    let wsq = &c.files.iter().find(|(n, _)| *n == cap.file).unwrap().1;
                    let d = jemput_wsq::decode(wsq).unwrap();
                    assert_eq!((d.image.width, d.image.height), (256, 288));
                    assert_eq!(
                        (cap.width, cap.height, cap.ppi),
                        (Some(256), Some(288), Some(500))
                    );
                }
            }
            match &visit.captures.signature {
                Some(jemput_core::visit::Slot::Captured(cap)) => {
                    assert_eq!(cap.device.driver, "isdv4");
                    assert_eq!(
                        cap.signature_kind,
                        Some(jemput_core::imaging::signature::SignatureKind::Signature)
                    );
                    // The trace file is the record: it names the pad and parses as the format.
                    let (_, bytes) = c
                        .files
                        .iter()
                        .find(|(n, _)| n == "signature-trace.json")
                        .expect("the pen trace is in the packet");
                    let t = jemput_core::imaging::signature::SignatureTrace::parse(bytes).unwrap();
                    assert_eq!(t.device.as_ref().unwrap().driver, "isdv4");
                    // Scored from that trace: the model's signature is a full one.
                    let q = cap.quality.as_ref().expect("the signature is scored");
                    assert_eq!(q.algorithm, "jemput-sigq/1");
                    assert_eq!(
                        q.score,
                        jemput_core::imaging::signature::quality(&t.pen_trace()).score
                    );
                    assert!(q.score >= 80, "{q:?}");
                }
                other => panic!("signature: {other:?}"),
            }
            // The face came through the PTP driver from the camera model, on the backdrop the
            // colour rule asks for, so it passed every check at the first attempt.
            match &visit.captures.face {
                Some(jemput_core::visit::Slot::Captured(cap)) => {
                    assert_eq!(cap.device.driver, "ptp");
                    assert_eq!(cap.media_type, "image/jpeg");
                    let checks = cap.face_checks.as_ref().expect("face checks recorded");
                    assert!(checks.passed, "{checks:#?}");
                    assert!(checks.checks.iter().any(|c| c.check == "background_colour"));
                    assert_eq!((cap.forced, cap.retries), (false, 0));
                    let q = cap.quality.as_ref().expect("the face is scored");
                    assert_eq!(
                        (q.algorithm.as_str(), q.score),
                        ("jemput-faceq/1", checks.quality_score())
                    );
                    assert!(q.score >= 50, "every check passed: {q:?}");
                }
                other => panic!("face: {other:?}"),
            }
        } else {
            // Documents only: document photos as JPEG, no face and so no face checks.
            assert!(visit.captures.face.is_none());
            assert!(!visit.captures.documents.is_empty());
            for d in &visit.captures.documents {
                assert_eq!(d.media_type, "image/jpeg");
                assert!(d.face_checks.is_none());
            }
            assert!(visit.place.location.is_some(), "the GPS model gives a fix");
        }
    }
    categories.dedup();
    assert_eq!(categories.len(), 4, "the demo visits differ in category");
    assert!(exceptions >= 1, "one demo visit records finger exceptions");
    assert!(
        retries >= 1,
        "a demo finger needs a retry (the model's poor first print)"
    );

    // No biometric in plaintext anywhere in the kit home (drafts, queue, packets, keys).
    let kit_home = v["kit_home"].as_str().unwrap();
    let files = walk(kit_home.as_ref());
    assert!(files.len() > 5);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert_eq!(
            plaintext_biometric(&bytes),
            None,
            "{} holds a plaintext biometric",
            f.display()
        );
    }

    // Running again in the same directory reuses the kit and adds to its queue.
    jemput()
        .env_remove("JEMPUT_PASSPHRASE")
        .args(["demo", "--offline", "--visits", "1", "--keep"])
        .arg(&keep)
        .assert()
        .success();
    let out = jemput()
        .arg("--home")
        .arg(kit_home)
        .args(["queue", "--json"])
        .env_remove("JEMPUT_PASSPHRASE")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let q: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(q.as_array().unwrap().len(), 5);
}

#[test]
fn demo_without_keep_cleans_up_and_prints_a_summary() {
    let out = jemput()
        .env_remove("JEMPUT_PASSPHRASE")
        .args(["demo", "--visits", "2"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("2 visits sealed and verified"), "{text}");
    assert!(
        text.contains("inner signature and hashes verified"),
        "{text}"
    );
    let path = text.lines().next().unwrap().rsplit(" at ").next().unwrap();
    assert!(
        !std::path::Path::new(path).exists(),
        "throw-away kit {path} was left behind"
    );
}

#[test]
fn demo_uploads_to_an_embedded_hub_and_every_receipt_verifies() {
    let d = tempfile::tempdir().unwrap();
    let keep = d.path().join("demo");
    let out = jemput()
        .env_remove("JEMPUT_PASSPHRASE")
        .args(["demo", "--json", "--visits", "3", "--keep"])
        .arg(&keep)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["hub_url"]
        .as_str()
        .unwrap()
        .starts_with("https://127.0.0.1:"));
    let packets = v["packets"].as_array().unwrap();
    let receipts = v["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), packets.len());
    let home = jemput_kit::home::KitHome::open(v["kit_home"].as_str().unwrap().as_ref()).unwrap();
    let hub_key = home.config.hub_key.expect("the demo pins the hub key");
    for (p, r) in packets.iter().zip(receipts) {
        let bytes = std::fs::read(p.as_str().unwrap()).unwrap();
        let header = jemput_core::packet::parse_prelude(&bytes).unwrap().header;
        let receipt: jemput_core::wire::receipt::Receipt =
            serde_json::from_slice(&std::fs::read(r.as_str().unwrap()).unwrap()).unwrap();
        let body = receipt
            .verify_for(&hub_key, &header.packet_id, &header.payload_sha256)
            .unwrap();
        assert_eq!(body.size, bytes.len() as u64);
    }
    // The queue shows them acknowledged (kept until the retention period passes).
    let out = jemput()
        .arg("--home")
        .arg(&home.root)
        .args(["queue", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let q: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        q.as_array()
            .unwrap()
            .iter()
            .all(|e| e["state"] == "acknowledged"),
        "{q:#}"
    );
}

/// A blank-spot trip: `demo --offline` enrolls and syncs, then seals with the hub gone; serving the
/// hub again where the kit enrolled and running `jemput upload` drains the queue with receipts.
#[test]
fn an_offline_demo_queue_drains_later_with_hub_serve_and_upload() {
    let d = tempfile::tempdir().unwrap();
    let keep = d.path().join("demo");
    let out = jemput()
        .args(["demo", "--offline", "--json", "--visits", "2", "--keep"])
        .arg(&keep)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["receipts"].as_array().unwrap().len(), 0);
    let url = v["hub_url"]
        .as_str()
        .expect("the URL the kit enrolled with");
    let listen = url.strip_prefix("https://").expect("an https hub");
    let kit_home = v["kit_home"].as_str().unwrap().to_owned();
    let mut hub = std::process::Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .args(["hub", "serve", "--listen", listen, "--data"])
        .arg(v["hub_data"].as_str().unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let drained = loop {
        let o = jemput()
            .args(["--home", &kit_home, "upload", "--json"])
            .output()
            .unwrap();
        if o.status.success() {
            break o.stdout;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = hub.kill();
            panic!(
                "upload never succeeded: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    let _ = hub.kill();
    let _ = hub.wait();
    let r: serde_json::Value = serde_json::from_slice(&drained).unwrap();
    let text = r.to_string();
    assert_eq!(text.matches("\"acknowledged\"").count(), 2, "{text}");
}

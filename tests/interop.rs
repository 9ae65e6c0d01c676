//! Independent implementations read what jemput writes: the stock `age` CLI decrypts the payload,
//! OpenSSL verifies the ed25519 signatures, and the stock `age` CLI's output opens in jemput.
//!
//! These need `age` and `openssl` on PATH (`scripts/install-test-peers` installs them). Without
//! one, its tests are skipped with a `SKIPPED` line on stderr, or fail under
//! `JEMPUT_REQUIRE_PEERS=1` (as in CI).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::packet;

/// Whether `tool` is installed; a missing one skips the test visibly (fails it under
/// `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
fn need(tool: &str) -> bool {
    jemput_testkit::program(tool, &format!("apt-get install {tool}"))
}

#[test]
fn stock_age_decrypts_the_payload_into_the_archive() {
    if !need("age") {
        return;
    }
    let office = office();
    let kit = SigningKey::generate();
    let (visit, files) = small_visit();
    let sealed = seal_with(
        &kit,
        std::slice::from_ref(&office.keys.recipient),
        &visit,
        &files,
    );
    let d = tempfile::tempdir().unwrap();
    let p = packet::parse_prelude(&sealed.bytes).unwrap();
    let payload = d.path().join("payload.age");
    std::fs::write(&payload, &sealed.bytes[p.payload_offset..]).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&office.keys.identity_file)
        .arg(&payload)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (manifest, sig, got) = packet::read_archive(&out.stdout).unwrap();
    assert!(kit
        .public()
        .verify(jemput_core::keys::sign::INNER_DOMAIN, &manifest, &sig));
    assert_eq!(got[0].1, files[0].bytes);

    // A truncated payload is refused by the stock tool too.
    let cut = &sealed.bytes[p.payload_offset..sealed.bytes.len() - 20];
    std::fs::write(&payload, cut).unwrap();
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&office.keys.identity_file)
        .arg(&payload)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_packet_payload_command_pipes_into_stock_age() {
    if !need("age") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(d.path());
    let id = String::from_utf8(
        run(
            &home,
            &[
                "visit",
                "new",
                "--synthetic",
                "--category",
                "umum",
                "--nik",
                "7408014512500001",
                "--consent",
                "resident",
            ],
        )
        .success()
        .get_output()
        .stdout
        .clone(),
    )
    .unwrap();
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["seal", id.trim()])
        .assert()
        .success();
    let packet = walk(&home.join("packets")).pop().unwrap();
    let script = format!(
        "{} packet payload {} | age -d -i {} | tar -tf -",
        assert_cmd::cargo::cargo_bin("jemput").display(),
        packet.display(),
        keys.identity_file.display()
    );
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert_success(&out);
    let listing = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = listing.lines().collect();
    assert_eq!(&names[..2], ["manifest.json", "manifest.sig"]);
    assert!(names.contains(&"finger-10.wsq"));
}

#[test]
fn stock_age_output_decrypts_in_jemput() {
    if !need("age") {
        return;
    }
    let office = office();
    let d = tempfile::tempdir().unwrap();
    let plain = d.path().join("p.txt");
    std::fs::write(&plain, b"halo dari age").unwrap();
    let enc = d.path().join("p.age");
    let st = Command::new("age")
        .arg("-r")
        .arg(&office.keys.recipient)
        .arg("-o")
        .arg(&enc)
        .arg(&plain)
        .status()
        .unwrap();
    assert!(st.success());
    let got = age::decrypt(&office.identities[0], &std::fs::read(&enc).unwrap()).unwrap();
    assert_eq!(got, b"halo dari age");
}

fn spki_pem(key: &[u8; 32], path: &Path) {
    use base64::Engine;
    let mut der = hex::decode("302a300506032b6570032100").unwrap();
    der.extend_from_slice(key);
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    std::fs::write(
        path,
        format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n"),
    )
    .unwrap();
}

fn openssl_verifies(dir: &Path, key: &[u8; 32], message: &[u8], sig: &[u8]) -> bool {
    spki_pem(key, &dir.join("pub.pem"));
    std::fs::write(dir.join("msg"), message).unwrap();
    std::fs::write(dir.join("sig"), sig).unwrap();
    Command::new("openssl")
        .args([
            "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "msg",
            "-sigfile", "sig",
        ])
        .current_dir(dir)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn openssl_verifies_the_outer_and_inner_signatures() {
    if !need("openssl") {
        return;
    }
    let office = office();
    let kit = SigningKey::generate();
    let sealed = small_packet(&kit, &office);
    let d = tempfile::tempdir().unwrap();
    // Parse the prelude by the byte layout of docs/packet-format.md, not with jemput's parser.
    let b = &sealed.bytes;
    assert_eq!(&b[..17], b"jemput-packet/v1\n");
    let n = u32::from_be_bytes(b[17..21].try_into().unwrap()) as usize;
    let header = &b[21..21 + n];
    let sig = &b[21 + n..85 + n];
    let mut msg = b"jemput/outer/v1\0".to_vec();
    msg.extend_from_slice(header);
    let key = kit.public().to_bytes();
    assert!(openssl_verifies(d.path(), &key, &msg, sig));
    // One changed byte and OpenSSL refuses too.
    let last = msg.len() - 2;
    msg[last] ^= 1;
    assert!(!openssl_verifies(d.path(), &key, &msg, sig));

    let c = packet::decrypt(&sealed.bytes, &office.identities, None).unwrap();
    let mut msg = b"jemput/inner/v1\0".to_vec();
    msg.extend_from_slice(&c.manifest_bytes);
    assert!(openssl_verifies(d.path(), &key, &msg, &c.signature));
}

#[test]
fn openssl_reads_the_kit_signing_key_file() {
    if !need("openssl") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let k = SigningKey::generate();
    let path = d.path().join("kit.ed25519");
    k.save(&path).unwrap();
    let out = Command::new("openssl")
        .args(["pkey", "-in"])
        .arg(&path)
        .args(["-pubout", "-outform", "DER"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(&out.stdout[12..], &k.public().to_bytes());
}

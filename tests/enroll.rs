//! Hub TLS, certificate pinning and enrollment, over real HTTPS on loopback: a kit enrolls with a
//! one-time token, uploads over TLS and gets a verified receipt; a wrong pin, a reused, expired or
//! garbage token, and a revoked or unknown kit are each refused with a precise reason.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use jemput_core::wire::enroll::EnrollToken;
use jemput_hub::HubHandle;
use predicates::prelude::*;

/// A hub serving HTTPS on loopback that knows the office recipient, and a kit home (not enrolled).
struct Setup {
    hub: HubHandle,
    /// The hub's backend (`JEMPUT_TEST_HUB_BACKEND`): its PostgreSQL server runs while it lives.
    backend: HubBackend,
    data: PathBuf,
    home: PathBuf,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    setup_with(true)
}

/// As [`setup`]; `office_hub_key` says whether the hub signs with the office's key (the one the
/// kit pinned at `init`) or a key of its own.
fn setup_with(office_hub_key: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(dir.path());
    let data = dir.path().join("hub");
    let backend = hub_backend();
    jemput_hub::init_with(
        &data,
        &jemput_hub::InitOptions {
            sans: vec!["localhost".into(), "127.0.0.1".into()],
            office_recipients: vec![keys.recipient.clone()],
            hub_key: office_hub_key.then(|| keys.hub_key_file.clone()),
            postgres: backend.postgres_config(),
        },
    )
    .unwrap();
    let hub = jemput_hub::spawn_local_tls(&data).unwrap();
    assert!(hub.url.starts_with("https://127.0.0.1:"), "{}", hub.url);
    Setup {
        hub,
        backend,
        data,
        home,
        dir,
    }
}

fn token(data: &Path, name: &str) -> String {
    let out = jemput()
        .args(["hub", "--data"])
        .arg(data)
        .args(["enroll-token", "--name", name, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn enroll(home: &Path, url: &str, token: &str) -> assert_cmd::assert::Assert {
    run(home, &["enroll", url, token, "--json"])
}

fn upload(home: &Path) -> (bool, serde_json::Value, String) {
    let out = jemput()
        .arg("--home")
        .arg(home)
        .args(["upload", "--attempts", "1", "--json"])
        .output()
        .unwrap();
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn kit_config(home: &Path) -> toml::Value {
    toml::from_str(&std::fs::read_to_string(home.join("config.toml")).unwrap()).unwrap()
}

#[test]
fn a_kit_enrolls_with_a_token_then_uploads_over_pinned_tls_and_gets_a_verified_receipt() {
    let s = setup();
    let tok = token(&s.data, "Tim Lansia Kec. Palu Barat");
    assert!(
        tok.ends_with(s.hub.cert_sha256.as_deref().unwrap()),
        "{tok}"
    );
    let out = enroll(&s.home, &s.hub.url, &tok)
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["hub_id"], s.hub.hub_id.as_str());
    assert_eq!(v["kit_name"], "Tim Lansia Kec. Palu Barat");

    // The kit config now holds what the hub handed out.
    let c = kit_config(&s.home);
    assert_eq!(c["hub_cert_sha256"].as_str(), s.hub.cert_sha256.as_deref());
    assert_eq!(c["hub_url"].as_str(), Some(s.hub.url.as_str()));
    assert_eq!(c["hub_id"].as_str(), Some(s.hub.hub_id.as_str()));
    assert_eq!(c["hub_key"].as_str().unwrap(), s.hub.hub_key.to_string());
    let kit_id = c["kit_id"].as_str().unwrap().to_string();

    seal_one(&s.home);
    let (ok, report, stderr) = upload(&s.home);
    assert!(ok, "{report}\n{stderr}");
    assert_eq!(report["endpoint"], format!("{}/v1/uploads", s.hub.url));
    assert_eq!(report["packets"][0]["outcome"], "acknowledged");
    assert_eq!(report["packets"][0]["hub_id"], s.hub.hub_id.as_str());

    // The registry lists the kit as enrolled with that token and seen.
    let out = jemput()
        .args(["hub", "--data"])
        .arg(&s.data)
        .args(["kits", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let kits: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let k = &kits[0];
    assert_eq!(k["kit_id"], kit_id.as_str());
    assert_eq!(k["name"], "Tim Lansia Kec. Palu Barat");
    let token_id = tok.split('.').nth(1).unwrap();
    assert_eq!(k["enrolled_with"], token_id);
    assert_eq!(k["revoked"], false);
    // "Last seen" is written off the request path; give it a moment.
    let mut seen = k["last_seen"].clone();
    for _ in 0..50 {
        if !seen.is_null() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let r = jemput_hub::Registry::open(&s.data).unwrap();
        seen = serde_json::to_value(r.get(&kit_id).unwrap().unwrap().last_seen).unwrap();
    }
    assert!(!seen.is_null(), "the kit was never marked seen");
}

#[test]
fn a_kit_that_trusts_another_hub_key_is_told_at_enrollment_and_switches_only_when_asked() {
    // The office made its keys, the kit pinned the office's hub key at `init`, but this hub was
    // made without `--hub-key`: it signs with a key of its own.
    let s = setup_with(false);
    let before = std::fs::read(s.home.join("config.toml")).unwrap();
    let pinned = kit_config(&s.home)["hub_key"].as_str().unwrap().to_string();
    let offered = s.hub.hub_key.to_string();
    assert_ne!(pinned, offered);
    let tok = token(&s.data, "tim");
    enroll(&s.home, &s.hub.url, &tok)
        .failure()
        .stderr(predicate::str::contains(format!(
            "this kit trusts hub key {pinned}"
        )))
        .stderr(predicate::str::contains(format!("signs with {offered}")))
        .stderr(predicate::str::contains("--replace-hub-key"))
        .stderr(predicate::str::contains("hub init --hub-key"));
    // Nothing changed on the kit, and the token was not spent (the hub's key was asked first).
    assert_eq!(std::fs::read(s.home.join("config.toml")).unwrap(), before);
    let kits = jemput_hub::Registry::open(&s.data).unwrap().list().unwrap();
    assert!(kits.is_empty(), "the hub registered the kit: {kits:?}");

    // Re-pinning on purpose takes the hub's key.
    run(
        &s.home,
        &["enroll", &s.hub.url, &tok, "--replace-hub-key", "--json"],
    )
    .success();
    assert_eq!(kit_config(&s.home)["hub_key"].as_str().unwrap(), offered);
    seal_one(&s.home);
    let (ok, report, stderr) = upload(&s.home);
    assert!(ok, "{report}\n{stderr}");
    assert_eq!(report["packets"][0]["outcome"], "acknowledged");
}

#[test]
fn a_kit_pinning_the_offices_hub_key_enrolls_with_a_hub_made_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(dir.path());
    let data = dir.path().join("hub");
    // A key file that is not a key is refused before anything is created.
    let bad = dir.path().join("not-a-key");
    std::fs::write(&bad, "hello").unwrap();
    jemput()
        .args(["hub", "init", "--data"])
        .arg(&data)
        .arg("--hub-key")
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicate::str::contains("not-a-key"));
    assert!(!data.join(jemput_hub::CONFIG_FILE).exists());
    let out = jemput()
        .args(["hub", "init", "--json", "--san", "127.0.0.1", "--data"])
        .arg(&data)
        .args(["--office-recipient", &keys.recipient, "--hub-key"])
        .arg(&keys.hub_key_file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["hub_key"].as_str().unwrap(), keys.hub_public_key);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join(jemput_hub::KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let hub = jemput_hub::spawn_local_tls(&data).unwrap();
    assert_eq!(hub.hub_key.to_string(), keys.hub_public_key);
    enroll(&home, &hub.url, &token(&data, "tim")).success();
    assert_eq!(
        kit_config(&home)["hub_key"].as_str().unwrap(),
        keys.hub_public_key
    );
}

#[test]
fn a_token_pinning_another_certificate_is_refused_naming_both_fingerprints_and_nothing_changes() {
    let s = setup();
    let real: EnrollToken = token(&s.data, "tim").parse().unwrap();
    let wrong = EnrollToken {
        cert_sha256: "0".repeat(64),
        ..real.clone()
    };
    let before = std::fs::read(s.home.join("config.toml")).unwrap();
    enroll(&s.home, &s.hub.url, &wrong.to_string())
        .failure()
        .stderr(predicate::str::contains(format!(
            "expected SHA-256 {}",
            "0".repeat(64)
        )))
        .stderr(predicate::str::contains(format!(
            "presented {}",
            s.hub.cert_sha256.as_deref().unwrap()
        )));
    assert_eq!(std::fs::read(s.home.join("config.toml")).unwrap(), before);
    // The refused handshake did not use the token up: with the right pin it still works.
    enroll(&s.home, &s.hub.url, &real.to_string()).success();
}

#[test]
fn an_upload_to_a_hub_with_another_certificate_stops_naming_both_fingerprints() {
    let s = setup();
    enroll(&s.home, &s.hub.url, &token(&s.data, "tim")).success();
    seal_one(&s.home);
    // Pin another certificate: as if someone else answered at the hub's address.
    let other = "ab".repeat(32);
    let path = s.home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let real = s.hub.cert_sha256.clone().unwrap();
    std::fs::write(&path, text.replace(&real, &other)).unwrap();
    let (ok, report, stderr) = upload(&s.home);
    assert!(!ok);
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(
        stopped.contains(&format!("expected SHA-256 {other}"))
            && stopped.contains(&format!("presented {real}")),
        "{report}\n{stderr}"
    );
    assert_ne!(report["packets"][0]["outcome"], "acknowledged");
    // Nothing reached the hub.
    assert!(common::walk(&s.data.join("packets")).is_empty());
}

#[test]
fn a_sync_with_a_hub_with_another_certificate_names_the_pin_mismatch() {
    let s = setup();
    enroll(&s.home, &s.hub.url, &token(&s.data, "tim")).success();
    run(&s.home, &["sync"]).success();
    let other = "cd".repeat(32);
    let path = s.home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let real = s.hub.cert_sha256.clone().unwrap();
    std::fs::write(&path, text.replace(&real, &other)).unwrap();
    let sync_file = std::fs::read(s.home.join("sync.json")).unwrap();
    run(&s.home, &["sync"])
        .failure()
        .stderr(predicate::str::contains(format!(
            "expected SHA-256 {other}"
        )))
        .stderr(predicate::str::contains(format!("presented {real}")))
        .stderr(predicate::str::contains("cannot be reached").not());
    assert_eq!(std::fs::read(s.home.join("sync.json")).unwrap(), sync_file);
}

#[test]
fn a_used_expired_unknown_or_garbage_token_is_refused_with_a_precise_reason() {
    let s = setup();
    let tok = token(&s.data, "tim");
    enroll(&s.home, &s.hub.url, &tok).success();

    // Reuse, even by the same kit.
    enroll(&s.home, &s.hub.url, &tok)
        .failure()
        .stderr(predicate::str::contains("HTTP 403"))
        .stderr(predicate::str::contains("already used"));

    // Another kit with the same token.
    let other = s.dir.path().join("other");
    let (other_home, _) = kit_with_office(&other);
    // It was made for another office; it trusts this hub's key as a kit of this office would.
    run(
        &other_home,
        &["config", "set", "hub-key", &s.hub.hub_key.to_string()],
    )
    .success();
    enroll(&other_home, &s.hub.url, &tok)
        .failure()
        .stderr(predicate::str::contains("already used"));

    // Expired: a fresh token whose expiry is moved into the past.
    let fresh: EnrollToken = token(&s.data, "tim 2").parse().unwrap();
    match &s.backend.pg {
        Some(pg) => {
            pg.psql(&format!(
                "UPDATE enroll_tokens SET expires_at = '2000-01-01T00:00:00.000000000Z' WHERE token_id = '{}'",
                fresh.id
            ))
            .unwrap();
        }
        None => {
            let db = rusqlite::Connection::open(s.data.join(jemput_hub::DB_FILE)).unwrap();
            db.execute(
                "UPDATE enroll_tokens SET expires_at = '2000-01-01T00:00:00.000000000Z' WHERE token_id = ?1",
                [&fresh.id],
            )
            .unwrap();
        }
    }
    enroll(&other_home, &s.hub.url, &fresh.to_string())
        .failure()
        .stderr(predicate::str::contains("expired at 2000-01-01"));

    // Unknown: well formed, never issued (and a right id with a wrong secret reads the same).
    let cert = s.hub.cert_sha256.clone().unwrap();
    let unknown = EnrollToken {
        id: "00000000".into(),
        secret: "1".repeat(32),
        cert_sha256: cert.clone(),
    };
    enroll(&other_home, &s.hub.url, &unknown.to_string())
        .failure()
        .stderr(predicate::str::contains("HTTP 401"))
        .stderr(predicate::str::contains("unknown enrollment token"));
    let live: EnrollToken = token(&s.data, "tim 3").parse().unwrap();
    let wrong_secret = EnrollToken {
        secret: "2".repeat(32),
        ..live.clone()
    };
    enroll(&other_home, &s.hub.url, &wrong_secret.to_string())
        .failure()
        .stderr(predicate::str::contains("unknown enrollment token"));
    // The real one still works after those tries.
    enroll(&other_home, &s.hub.url, &live.to_string()).success();

    // Garbage never leaves the kit.
    enroll(&other_home, &s.hub.url, "hello")
        .failure()
        .stderr(predicate::str::contains("not an enrollment token"));
}

#[test]
fn a_revoked_or_unknown_kit_cannot_create_uploads_over_tls() {
    let s = setup();
    enroll(&s.home, &s.hub.url, &token(&s.data, "tim")).success();
    let kit_id = kit_config(&s.home)["kit_id"].as_str().unwrap().to_string();
    jemput()
        .args(["hub", "--data"])
        .arg(&s.data)
        .args(["kits", "revoke", &kit_id])
        .assert()
        .success()
        .stdout(predicate::str::contains("REVOKED"));
    seal_one(&s.home);
    let (ok, report, _) = upload(&s.home);
    assert!(!ok);
    assert!(
        report["stopped"]
            .as_str()
            .unwrap_or_default()
            .contains("not accepted"),
        "{report}"
    );
    // A revoked kit cannot enroll again either.
    enroll(&s.home, &s.hub.url, &token(&s.data, "again"))
        .failure()
        .stderr(predicate::str::contains("was revoked"));

    // A kit that never enrolled, given the hub's settings by hand.
    let (stranger, _) = kit_with_office(&s.dir.path().join("stranger"));
    for (k, v) in [
        ("hub-url", s.hub.url.as_str()),
        ("hub-cert-sha256", s.hub.cert_sha256.as_deref().unwrap()),
    ] {
        let mut c = jemput();
        c.arg("--home").arg(&stranger).args(["config", "set", k, v]);
        c.assert().success();
    }
    seal_one(&stranger);
    let (ok, report, _) = upload(&stranger);
    assert!(!ok);
    assert!(
        report["stopped"]
            .as_str()
            .unwrap_or_default()
            .contains("not accepted"),
        "{report}"
    );
    assert!(common::walk(&s.data.join("packets")).is_empty());
}

#[test]
fn plain_http_off_loopback_needs_insecure_http_on_hub_and_kit() {
    let s = setup();
    jemput()
        .args(["hub", "--data"])
        .arg(&s.data)
        .args(["serve", "--plain-http", "--listen", "0.0.0.0:0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a loopback address"))
        .stderr(predicate::str::contains("--insecure-http"));
    let tok = token(&s.data, "tim");
    enroll(&s.home, "http://10.255.255.1:8470", &tok)
        .failure()
        .stderr(predicate::str::contains("plain HTTP"))
        .stderr(predicate::str::contains("--insecure-http"));
    // The help says why it is unsafe.
    jemput()
        .args(["hub", "serve", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Unsafe"));
}

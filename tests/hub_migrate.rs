//! `jemput hub migrate`: an embedded hub that has served a real kit (enrolled over pinned TLS,
//! packets uploaded, opened and receipted, events waiting for a webhook, a worklist, settings, an
//! upload half done, a console account) moves onto PostgreSQL (a private server per test,
//! `jemput_testkit::postgres`) and, in the second test, its packets into a real Garage node; then
//! `jemput hub serve` on the same data directory serves the same kit as before: the half-done
//! upload resumes at its offset, the next packet is receipted under the same hub key, the old
//! packets are listed, kept in their states and still open, and the old events reach the webhook.
//! Runs killed midway are run again; a running hub, a database that is not empty or belongs to
//! another hub, a password in the URL and a hub on PostgreSQL already are refused.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::packet::parse_prelude;
use jemput_core::wire::receipt::Receipt;
use predicates::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The kit registered by hand, whose key the test holds (for a raw tus upload left half done).
const MANUAL_KIT: &str = "kit-test";

/// `jemput hub serve` over TLS on `127.0.0.1:port`, killed when dropped.
struct Serve(Child);

impl Serve {
    fn start(data: &Path, port: u16, env: &[(&str, &str)]) -> Serve {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.parent().unwrap().join("serve.log"))
            .unwrap();
        let child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
            .args(["hub", "serve", "--data"])
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .envs(env.iter().copied())
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the hub did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Serve(child)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A webhook receiver on loopback answering `200` and recording each `Jemput-Event-Id`.
struct Receiver {
    seen: Arc<Mutex<Vec<i64>>>,
}

impl Receiver {
    fn start(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let (mut len, mut id) = (0usize, None);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = lower.strip_prefix("jemput-event-id:") {
                        id = v.trim().parse().ok();
                    }
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                if let Some(id) = id {
                    seen2.lock().unwrap().push(id);
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Receiver { seen }
    }

    fn seen(&self) -> BTreeSet<i64> {
        self.seen.lock().unwrap().iter().copied().collect()
    }
}

/// An embedded hub with the office's keys and identity, serving on `port`, and a kit home
/// initialised for that office (not enrolled yet).
struct Embedded {
    dir: tempfile::TempDir,
    data: PathBuf,
    home: PathBuf,
    office: Office,
    port: u16,
    webhook_port: u16,
    /// The hand-registered kit's key.
    manual: SigningKey,
}

fn embedded() -> Embedded {
    let dir = tempfile::tempdir().unwrap();
    let office = office();
    let data = dir.path().join("hub");
    let home = dir.path().join("kit");
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["init", "--work-factor", "10", "--operator", "op-1"])
        .args(["--office-recipient", &office.keys.recipient])
        .args(["--hub-key", &office.keys.hub_public_key])
        .assert()
        .success();
    hub_cmd(
        &data,
        &[
            "init",
            "--san",
            "127.0.0.1",
            "--office-recipient",
            &office.keys.recipient,
            "--hub-key",
            office.keys.hub_key_file.to_str().unwrap(),
            "--office-identity",
            office.keys.identity_file.to_str().unwrap(),
        ],
    )
    .success();
    // A webhook that is down while the hub is embedded: its deliveries wait in the outbox.
    let webhook_port = free_port();
    let path = data.join(jemput_hub::CONFIG_FILE);
    let mut config: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config.insert("webhook_retry_base_ms".into(), 50.into());
    config.insert("webhook_retry_max_secs".into(), 1.into());
    let mut hook = toml::Table::new();
    hook.insert(
        "url".into(),
        format!("http://127.0.0.1:{webhook_port}/jemput").into(),
    );
    hook.insert("secret".into(), "rahasia-webhook-uji-0123".into());
    config.insert("webhooks".into(), vec![toml::Value::Table(hook)].into());
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    let manual = SigningKey::generate();
    jemput_hub::Registry::open(&data)
        .unwrap()
        .add(MANUAL_KIT, &manual.public(), Some("tim manual"))
        .unwrap();
    Embedded {
        dir,
        data,
        home,
        office,
        port: free_port(),
        webhook_port,
        manual,
    }
}

impl Embedded {
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A client that trusts the hub's own certificate.
    fn client(&self) -> reqwest::Client {
        let pem = std::fs::read(self.data.join(jemput_hub::tls::CERT_FILE)).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap()
    }

    /// Enrolls the kit with a fresh token.
    fn enroll(&self) {
        let token = json(hub_cmd(
            &self.data,
            &["enroll-token", "--name", "Tim Lansia", "--json"],
        ));
        run(
            &self.home,
            &[
                "enroll",
                &self.url(),
                token["token"].as_str().unwrap(),
                "--json",
            ],
        )
        .success();
    }

    /// Seals `n` visits in the kit: (packet id, payload SHA-256) of each.
    fn seal(&self, n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|_| {
                let path = seal_one(&self.home);
                let p = parse_prelude(&std::fs::read(path).unwrap()).unwrap();
                (p.header.packet_id, p.header.payload_sha256)
            })
            .collect()
    }

    /// Uploads the kit's queue; every packet must be acknowledged by hub `hub_id`.
    fn upload(&self, hub_id: &str) {
        let out = jemput()
            .arg("--home")
            .arg(&self.home)
            .args(["upload", "--attempts", "1", "--json"])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            out.status.success(),
            "{report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for p in report["packets"].as_array().unwrap() {
            assert_eq!(p["outcome"], "acknowledged", "{report}");
            assert_eq!(p["hub_id"], hub_id, "{report}");
        }
    }

    /// Begins a raw tus upload of `packet` as the hand-registered kit and sends its first `half`
    /// bytes: the upload's location.
    async fn begin_upload(&self, packet: &[u8], half: usize) -> String {
        let http = self.client();
        let prelude = &packet[..parse_prelude(packet).unwrap().payload_offset];
        let b = http
            .post(format!("{}/v1/uploads", self.url()))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", packet.len().to_string())
            .header("Upload-Metadata", format!("packet {}", B64.encode(prelude)));
        let r = http
            .execute(signed(b, MANUAL_KIT, &self.manual))
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let r = self.patch(&loc, 0, &packet[..half]).await;
        assert_eq!(r.status(), 204);
        loc
    }

    async fn patch(&self, loc: &str, offset: u64, chunk: &[u8]) -> reqwest::Response {
        let http = self.client();
        let b = http
            .patch(format!("{}{loc}", self.url()))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .header(
                "Upload-Checksum",
                format!("sha256 {}", B64.encode(Sha256::digest(chunk))),
            )
            .body(chunk.to_vec());
        http.execute(signed(b, MANUAL_KIT, &self.manual))
            .await
            .unwrap()
    }

    async fn head_offset(&self, loc: &str) -> u64 {
        let http = self.client();
        let b = http
            .head(format!("{}{loc}", self.url()))
            .header("Tus-Resumable", "1.0.0");
        let r = http
            .execute(signed(b, MANUAL_KIT, &self.manual))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    fn hub_id(&self) -> String {
        jemput_hub::HubConfig::load(&self.data).unwrap().hub_id
    }

    fn migrate(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        hub_cmd(&self.data, &all)
    }
}

/// Rows of `table` in a SQLite file, read directly.
fn sqlite_count(db: &Path, table: &str) -> u64 {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap() as u64
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["packet_id"].as_str().unwrap().to_string())
        .collect()
}

/// The receipt the hub holds for `packet_id` verifies against `key` for that packet and payload.
fn receipt_verifies(data: &Path, key: &jemput_core::keys::PublicKey, packet_id: &str, sha: &str) {
    let held = off_runtime(|| {
        jemput_hub::Hub::open(data)
            .unwrap()
            .storage()
            .held(packet_id)
            .unwrap()
            .unwrap_or_else(|| panic!("no receipt for {packet_id}"))
    });
    held.receipt.verify_for(key, packet_id, sha).unwrap();
}

/// Reads a held packet through the hub's storage and opens it with the office identity.
fn opens(e: &Embedded, packet_id: &str) {
    let bytes = off_runtime(|| {
        jemput_hub::Hub::open(&e.data)
            .unwrap()
            .storage()
            .read_packet(packet_id)
            .unwrap()
    });
    let file = e.dir.path().join(format!("{packet_id}.jpk"));
    std::fs::write(&file, bytes).unwrap();
    let out = e.dir.path().join(format!("opened-{packet_id}"));
    jemput()
        .arg("open")
        .arg(&file)
        .arg("--identity")
        .arg(&e.office.keys.identity_file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("manifest.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_hub_moves_to_postgres_and_serves_its_kits_as_before() {
    let Some(pg) = jemput_testkit::postgres() else {
        return;
    };
    let e = embedded();
    let hub_id = e.hub_id();
    let hub_key: jemput_core::keys::PublicKey = e.office.keys.hub_public_key.parse().unwrap();
    let cert_before = std::fs::read(e.data.join(jemput_hub::tls::CERT_FILE)).unwrap();
    let key_before = std::fs::read(e.data.join(jemput_hub::KEY_FILE)).unwrap();

    // The embedded hub at work: a kit enrolls and uploads three packets, which are opened.
    let serve = Serve::start(&e.data, e.port, &[]);
    e.enroll();
    let old = e.seal(3);
    e.upload(&hub_id);
    // A worklist, settings, a console account.
    let csv = e.dir.path().join("wl.csv");
    std::fs::write(
        &csv,
        "nik,name,desa,category\n7408014501500003,Siti,Lapadi,lansia\n",
    )
    .unwrap();
    hub_cmd(&e.data, &["worklist", "import", csv.to_str().unwrap()]).success();
    hub_cmd(&e.data, &["settings", "set", "max-days-since-sync", "7"]).success();
    jemput()
        .args(["hub", "--data"])
        .arg(&e.data)
        .args([
            "users",
            "add",
            "kepala",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .write_stdin("kata-sandi-yang-panjang-sekali\n")
        .assert()
        .success();
    // An upload half done by the hand-registered kit.
    let manual_packet = small_packet(&e.manual, &e.office);
    let half = manual_packet.bytes.len() / 2;
    let loc = e.begin_upload(&manual_packet.bytes, half).await;

    // While the hub runs, migrate refuses and changes nothing.
    let config_before = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    e.migrate(&["--postgres", &pg.url()])
        .failure()
        .stderr(predicate::str::contains("in use by another process"));
    assert_eq!(
        std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap(),
        config_before
    );
    drop(serve);

    let packets_before = json(hub_cmd(&e.data, &["packets", "--json"]));
    let kits_before = json(hub_cmd(&e.data, &["kits", "--json"]));
    let events_before = json(hub_cmd(&e.data, &["events", "--json"]));
    assert_eq!(ids(&packets_before).len(), 4, "{packets_before}");
    let old_events: BTreeSet<i64> = events_before
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event"]["event_id"].as_i64().unwrap())
        .collect();
    assert!(old_events.len() >= 6, "{events_before}");
    let db = e.data.join(jemput_hub::DB_FILE);
    let tables = [
        "kits",
        "enroll_tokens",
        "uploads",
        "receipts",
        "openings",
        "events",
        "deliveries",
        "request_nonces",
        "console_accounts",
        "console_sessions",
        "console_login_failures",
        "console_audit",
    ];
    let audit_before = off_runtime(|| {
        jemput_hub::office::Office::open(&e.data)
            .unwrap()
            .audit(100)
            .unwrap()
    });
    assert!(audit_before.len() >= 3, "{audit_before:?}");
    let sqlite_rows: Vec<u64> = tables.iter().map(|t| sqlite_count(&db, t)).collect();

    // A password in the URL is refused before anything is touched.
    let with_password = format!(
        "postgresql://jemput:rahasia@/jemput?host={}",
        pg.socket_dir().display()
    );
    e.migrate(&["--postgres", &with_password])
        .failure()
        .stderr(predicate::str::contains("carries a password"));

    let out = json(e.migrate(&["--postgres", &pg.url(), "--json"]));
    schema_accepts("hub-migrate.schema.json", &out);
    assert_eq!(out["hub_id"], hub_id.as_str());
    assert_eq!(out["resumed"], false);
    assert_eq!(out["packets"]["count"], 3, "{out}");
    assert_eq!(out["packets"]["verified"], 3, "{out}");
    assert_eq!(out["uploads_in_progress"]["count"], 1, "{out}");
    assert_eq!(out["uploads_in_progress"]["staged_bytes"], half, "{out}");
    assert_eq!(out["tables"]["console_accounts"], 1, "{out}");
    assert_eq!(out["tables"]["upload_chunks"], 1, "{out}");
    assert_eq!(out["tables"]["documents"], 2, "{out}");
    // Every table: the rows SQLite held, as the summary says and as psql counts them.
    let backup = e.data.join(jemput_hub::migrate::BACKUP_DIR);
    for (t, want) in tables.iter().zip(&sqlite_rows) {
        assert_eq!(out["tables"][t], *want, "{t}: {out}");
        assert_eq!(
            pg.psql(&format!("SELECT count(*) FROM {t}")).unwrap(),
            want.to_string(),
            "{t}"
        );
        assert_eq!(sqlite_count(&backup.join(jemput_hub::DB_FILE), t), *want);
    }
    assert_eq!(
        pg.psql("SELECT sum(length(data)) FROM upload_chunks")
            .unwrap(),
        half.to_string()
    );
    // The identity stays, the state moved; the embedded files are kept aside.
    assert_eq!(
        std::fs::read(e.data.join(jemput_hub::tls::CERT_FILE)).unwrap(),
        cert_before
    );
    assert_eq!(
        std::fs::read(e.data.join(jemput_hub::KEY_FILE)).unwrap(),
        key_before
    );
    let config = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(
        config.contains("[postgres]") && config.contains(&pg.url()),
        "{config}"
    );
    assert!(config.contains("[[webhooks]]"), "{config}");
    assert!(!db.exists());
    assert!(!e.data.join("worklist.json").exists());
    for kept in [
        "hub.sqlite",
        "hub.toml",
        "worklist.json",
        "kit-settings.toml",
    ] {
        assert!(backup.join(kept).exists(), "{kept} was not kept");
    }
    assert_eq!(
        std::fs::read_to_string(backup.join(jemput_hub::CONFIG_FILE)).unwrap(),
        config_before
    );

    // Migrating again is refused: the hub is on PostgreSQL now.
    e.migrate(&["--postgres", &pg.url()])
        .failure()
        .stderr(predicate::str::contains("on PostgreSQL already"));

    // The migrated hub serves the same kits on the same address.
    let receiver = Receiver::start(e.webhook_port);
    let _serve = Serve::start(&e.data, e.port, &[]);
    // The half-done upload resumes where it was, and is receipted under the same key.
    assert_eq!(e.head_offset(&loc).await, half as u64);
    let r = e
        .patch(&loc, half as u64, &manual_packet.bytes[half..])
        .await;
    assert_eq!(r.status(), 204);
    let receipt =
        Receipt::from_header_value(r.headers()["jemput-receipt"].to_str().unwrap()).unwrap();
    receipt
        .verify_for(
            &hub_key,
            &manual_packet.header.packet_id,
            &manual_packet.header.payload_sha256,
        )
        .unwrap();
    // The enrolled kit's next packet is receipted by the same hub.
    let new = e.seal(1);
    e.upload(&hub_id);
    receipt_verifies(&e.data, &hub_key, &new[0].0, &new[0].1);
    for (id, sha) in &old {
        receipt_verifies(&e.data, &hub_key, id, sha);
    }
    // The office's account signs in on the migrated hub, and the audit log is the one it had,
    // in its order, with the new entries after it.
    off_runtime(|| {
        let office = jemput_hub::office::Office::open(&e.data).unwrap();
        let signed = office
            .login(
                "kepala",
                "kata-sandi-yang-panjang-sekali",
                "10.0.0.1",
                1_800_000_000,
            )
            .unwrap();
        assert!(signed.is_ok(), "{signed:?}");
        office.record("kepala", "test.after", "migrated").unwrap();
        let after = office.audit(100).unwrap();
        assert_eq!(after[0].action, "test.after");
        assert_eq!(after[1..], audit_before[..]);
    });
    // Exactly the old packets plus the new, the old in the states they had.
    let packets_after = json(hub_cmd(&e.data, &["packets", "--json"]));
    let mut want = ids(&packets_before);
    want.insert(new[0].0.clone());
    assert_eq!(ids(&packets_after), want);
    for p in packets_before.as_array().unwrap() {
        if p["packet_id"] == manual_packet.header.packet_id.as_str() {
            continue;
        }
        let after = packets_after
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["packet_id"] == p["packet_id"])
            .unwrap();
        assert_eq!(after, p);
        assert_eq!(p["state"], "opened", "{p}");
    }
    let kits_after = json(hub_cmd(&e.data, &["kits", "--json"]));
    let kit_ids = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|k| k["kit_id"].clone())
            .collect()
    };
    assert_eq!(kit_ids(&kits_after), kit_ids(&kits_before));
    assert_eq!(
        json(hub_cmd(&e.data, &["worklist", "--json"]))[0]["name"],
        "Siti"
    );
    assert_eq!(
        json(hub_cmd(&e.data, &["settings", "--json"]))["policy"]["max_days_since_sync"],
        7
    );
    // An old packet still opens, read through the migrated hub's storage.
    opens(&e, &old[0].0);
    // The events the embedded hub could not deliver reach the webhook now.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !old_events.is_subset(&receiver.seen()) {
        assert!(
            Instant::now() < deadline,
            "old events {old_events:?} not all delivered: {:?}",
            receiver.seen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_database_not_empty_or_of_another_hub_is_refused_and_a_rollback_restores_the_embedded_hub() {
    let Some(pg) = jemput_testkit::postgres() else {
        return;
    };
    let e = embedded();
    // Another hub on the database.
    hub_cmd(
        &e.dir.path().join("other"),
        &["init", "--postgres", &pg.url()],
    )
    .success();
    e.migrate(&["--postgres", &pg.url()])
        .failure()
        .stderr(predicate::str::contains("belongs to hub"));
    // A database of no hub that holds rows.
    pg.psql("DELETE FROM hub_meta").unwrap();
    pg.psql(
        "INSERT INTO kits (kit_id, kit_key, added_at) VALUES ('kit-lain', 'x', '2026-01-01T00:00:00Z')",
    )
    .unwrap();
    e.migrate(&["--postgres", &pg.url()])
        .failure()
        .stderr(predicate::str::contains("is not empty (kits 1)"));
    // Nothing of the embedded hub changed.
    assert!(e.data.join(jemput_hub::DB_FILE).exists());
    assert!(!e.data.join(jemput_hub::migrate::BACKUP_DIR).exists());
    let config = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(!config.contains("[postgres]"), "{config}");
    assert_eq!(pg.psql("SELECT count(*) FROM kits").unwrap(), "1");
    // Emptied, the database takes the hub; the human summary says what moved where.
    pg.psql("DELETE FROM kits").unwrap();
    let said = stdout(e.migrate(&["--postgres", &pg.url()]));
    assert!(said.contains("moved to PostgreSQL"), "{said}");
    assert!(said.contains("kits                   1 rows"), "{said}");
    assert!(said.contains("embedded-backup"), "{said}");
    assert_eq!(pg.psql("SELECT kit_id FROM kits").unwrap(), MANUAL_KIT);

    // Rolled back as docs/scale-out.md says, the embedded hub is whole again ...
    let backup = e.data.join(jemput_hub::migrate::BACKUP_DIR);
    for f in ["hub.toml", "hub.sqlite"] {
        std::fs::rename(backup.join(f), e.data.join(f)).unwrap();
    }
    for d in ["uploads", "packets"] {
        if backup.join(d).exists() {
            std::fs::remove_dir(e.data.join(d)).unwrap();
            std::fs::rename(backup.join(d), e.data.join(d)).unwrap();
        }
    }
    let config = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(!config.contains("[postgres]"), "{config}");
    let kits = json(hub_cmd(&e.data, &["kits", "--json"]));
    assert_eq!(kits[0]["kit_id"], MANUAL_KIT);
    // ... and, unchanged since, migrates again onto the copy already in the database.
    let out = json(e.migrate(&["--postgres", &pg.url(), "--json"]));
    assert_eq!(out["resumed"], true, "{out}");
    let config = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(config.contains("[postgres]"), "{config}");
    assert_eq!(
        json(hub_cmd(&e.data, &["kits", "--json"]))[0]["kit_id"],
        MANUAL_KIT
    );
    // Changed after the rollback (a kit revoked), it is refused: the database holds an older copy.
    std::fs::rename(backup.join("hub.toml"), e.data.join("hub.toml")).unwrap();
    std::fs::rename(backup.join("hub.sqlite"), e.data.join("hub.sqlite")).unwrap();
    hub_cmd(&e.data, &["kits", "revoke", MANUAL_KIT]).success();
    e.migrate(&["--postgres", &pg.url()])
        .failure()
        .stderr(predicate::str::contains("has changed since"));
}

/// Python's `jsonschema` (Draft 2020-12), an independent validator, accepts `value` under the
/// committed schema `name` (skipped, and said, when the module is missing).
fn schema_accepts(name: &str, value: &Value) {
    if !jemput_testkit::python_modules(
        &["jsonschema"],
        "python3 -m pip install jsonschema, or scripts/install-test-peers",
    ) {
        return;
    }
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name);
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\n\
             schema = json.load(open(sys.argv[1]))\n\
             jsonschema.Draft202012Validator(schema).validate(json.load(sys.stdin))",
        ])
        .arg(&schema)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(value.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{name} rejects {value}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `jemput hub migrate ARGS` until it reaches the hold point `point`, then kills it (-9).
fn migrate_killed_at(e: &Embedded, point: &str, args: &[&str], env: &[(&str, &str)]) {
    let flag = e.dir.path().join(format!("hold-{point}"));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .args(["hub", "--data"])
        .arg(&e.data)
        .arg("migrate")
        .args(args)
        .envs(env.iter().copied())
        .env(
            "JEMPUT_TEST_HUB_HOLD",
            format!("{point}:{}", flag.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !flag.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("migrate ended ({status}) before {point}: {err}");
        }
        assert!(Instant::now() < deadline, "migrate never reached {point}");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packets_move_to_an_object_store_and_runs_killed_midway_are_run_again() {
    let Some(pg) = jemput_testkit::postgres() else {
        return;
    };
    if !jemput_testkit::garage::available() {
        return;
    }
    let e = embedded();
    let hub_id = e.hub_id();
    let hub_key: jemput_core::keys::PublicKey = e.office.keys.hub_public_key.parse().unwrap();
    let serve = Serve::start(&e.data, e.port, &[]);
    e.enroll();
    let old = e.seal(3);
    e.upload(&hub_id);
    drop(serve);
    let packets_before = json(hub_cmd(&e.data, &["packets", "--json"]));

    let gdir = tempfile::tempdir().unwrap();
    let mut garage = jemput_testkit::garage::Garage::start(gdir.path(), "packets");
    // The credentials in a private file hub.toml names: every later command finds them there.
    let creds = e.dir.path().join("s3-credentials.toml");
    std::fs::write(
        &creds,
        format!(
            "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            garage.key_id, garage.secret_key
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    let creds = creds.to_str().unwrap();
    let env: Vec<(&str, &str)> = Vec::new();
    let missing = format!(
        "s3://no-such-bucket?endpoint={}&region={}",
        garage.endpoint,
        jemput_testkit::garage::REGION
    );
    let unchanged = |e: &Embedded| {
        let config = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
        assert!(!config.contains("[postgres]"), "{config}");
        assert!(e.data.join(jemput_hub::DB_FILE).exists());
    };

    // 1. A bucket that does not exist: refused before anything is written.
    e.migrate(&[
        "--postgres",
        &pg.url(),
        "--object-store",
        &missing,
        "--object-store-credentials",
        creds,
    ])
    .failure()
    .stderr(predicate::str::contains("no-such-bucket"));
    unchanged(&e);
    assert_eq!(pg.psql("SELECT count(*) FROM receipts").unwrap(), "0");

    // 2. Killed after the packets were copied, before the commit: nothing in PostgreSQL.
    let url = garage.url();
    let pg_url = pg.url();
    let args = [
        "--postgres",
        pg_url.as_str(),
        "--object-store",
        url.as_str(),
        "--object-store-credentials",
        creds,
    ];
    migrate_killed_at(&e, "migrate-packets", &args, &env);
    unchanged(&e);
    assert_eq!(pg.psql("SELECT count(*) FROM receipts").unwrap(), "0");
    assert_eq!(pg.psql("SELECT count(*) FROM kits").unwrap(), "0");

    // 3. Killed after the commit, before hub.toml was rewritten: the state is in PostgreSQL,
    // the data directory still names the embedded backend.
    migrate_killed_at(&e, "migrate-committed", &args, &env);
    unchanged(&e);
    assert_eq!(pg.psql("SELECT count(*) FROM receipts").unwrap(), "3");

    // 4. Killed again, after hub.toml was rewritten and before the embedded files were moved
    // aside: the data directory names PostgreSQL, hub.sqlite is still there.
    migrate_killed_at(&e, "migrate-config", &args, &env);
    let config = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(config.contains("[postgres]"), "{config}");
    assert!(e.data.join(jemput_hub::DB_FILE).exists());

    // 5. Run again: it finds its own copy and finishes.
    let mut again = args.to_vec();
    again.push("--json");
    let out = json(e.migrate(&again));
    assert_eq!(out["resumed"], true, "{out}");
    assert_eq!(out["tables"]["receipts"], 3, "{out}");
    assert_eq!(out["object_store"], url.as_str(), "{out}");
    let backup = e.data.join(jemput_hub::migrate::BACKUP_DIR);
    assert!(backup.join("hub.sqlite").exists());
    assert!(backup.join("packets").is_dir());
    let config = std::fs::read_to_string(e.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(config.contains("[object_store]"), "{config}");
    // Each receipt names its object, keyed by the packet file's SHA-256.
    for (id, _) in &old {
        let file = pg
            .psql(&format!(
                "SELECT file FROM receipts WHERE packet_id = '{id}'"
            ))
            .unwrap();
        let bytes = std::fs::read(backup.join("packets").join(format!("{id}.jpk"))).unwrap();
        assert_eq!(
            file,
            format!("{id}/{}.jpk", hex::encode(Sha256::digest(&bytes)))
        );
    }

    // The migrated hub serves from the object store.
    let _serve = Serve::start(&e.data, e.port, &env);
    let new = e.seal(1);
    e.upload(&hub_id);
    receipt_verifies(&e.data, &hub_key, &new[0].0, &new[0].1);
    let packets_after = json(hub_cmd(&e.data, &["packets", "--json"]));
    let mut want = ids(&packets_before);
    want.insert(new[0].0.clone());
    assert_eq!(ids(&packets_after), want);
    opens(&e, &old[1].0);
    garage.stop();
}

/// A measurement, not a check: how long `jemput hub migrate` takes for a hub of many packets, and
/// its peak memory (`/usr/bin/time`). The state is written straight into `hub.sqlite` (a receipt,
/// an opening and a `verified` event per packet, real sealed packet files) to make a large hub
/// quickly; the migration itself is the real command. Run with
/// `cargo test --test hub_migrate -- --ignored --nocapture` (`JEMPUT_MIGRATE_PACKETS`, default
/// 2000; with Garage installed, once more into the object store).
#[test]
#[ignore = "a measurement: cargo test --test hub_migrate -- --ignored --nocapture"]
fn measure_migrating_a_hub_of_many_packets() {
    let Some(pg) = jemput_testkit::postgres() else {
        return;
    };
    let n: usize = std::env::var("JEMPUT_MIGRATE_PACKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let garage_dir = tempfile::tempdir().unwrap();
    let garage = jemput_testkit::garage::available()
        .then(|| jemput_testkit::garage::Garage::start(garage_dir.path(), "packets"));
    let mut targets = vec![("directory", None)];
    if let Some(g) = &garage {
        targets.push(("object store", Some(g)));
    }
    for (i, (name, store)) in targets.into_iter().enumerate() {
        let e = embedded();
        let kit = &e.manual;
        let mut bytes = 0u64;
        {
            let mut db = rusqlite::Connection::open(e.data.join(jemput_hub::DB_FILE)).unwrap();
            let tx = db.transaction().unwrap();
            for k in 0..n {
                let p = small_packet(kit, &e.office);
                let id = &p.header.packet_id;
                std::fs::write(e.data.join("packets").join(format!("{id}.jpk")), &p.bytes).unwrap();
                bytes += p.bytes.len() as u64;
                let at = format!("2026-12-01T00:00:{:02}.{k:09}Z", k % 60);
                tx.execute(
                    "INSERT INTO receipts (packet_id, kit_id, payload_sha256, size, file, received_at, receipt)
                     VALUES (?1, 'kit-test', ?2, ?3, ?4, ?5, '{}')",
                    rusqlite::params![id, p.header.payload_sha256, p.bytes.len() as i64, format!("{id}.jpk"), at],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO openings (packet_id, state, files, updated_at) VALUES (?1, 'opened', 4, ?2)",
                    rusqlite::params![id, at],
                )
                .unwrap();
                tx.execute(
                    "INSERT INTO events (kind, packet_id, kit_id, size, created_at) VALUES ('verified', ?1, 'kit-test', ?2, ?3)",
                    rusqlite::params![id, p.bytes.len() as i64, at],
                )
                .unwrap();
            }
            tx.commit().unwrap();
        }
        let db_name = format!("measure{i}");
        let url = pg.create_database(&db_name).unwrap();
        let mut args = vec!["--postgres".to_string(), url];
        if let Some(g) = store {
            let creds = e.dir.path().join("s3.toml");
            std::fs::write(
                &creds,
                format!(
                    "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
                    g.key_id, g.secret_key
                ),
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
            args.extend([
                "--object-store".into(),
                g.url(),
                "--object-store-credentials".into(),
                creds.display().to_string(),
            ]);
        }
        let started = Instant::now();
        let out = Command::new("/usr/bin/time")
            .args(["-f", "PEAK_KB=%M"])
            .arg(assert_cmd::cargo::cargo_bin("jemput"))
            .args(["hub", "--data"])
            .arg(&e.data)
            .arg("migrate")
            .args(&args)
            .arg("--json")
            .output()
            .unwrap();
        let took = started.elapsed().as_secs_f64();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["packets"]["count"], n as u64, "{summary}");
        let peak = err
            .lines()
            .find_map(|l| l.strip_prefix("PEAK_KB="))
            .unwrap_or("?");
        println!(
            "MEASURED migrate into PostgreSQL, packets to the {name}: {n} packets, {:.1} MB, {:.2} s, {:.0} packets/s, {:.1} MB/s, peak RSS {peak} KB",
            bytes as f64 / 1e6,
            took,
            n as f64 / took,
            bytes as f64 / 1e6 / took,
        );
    }
}

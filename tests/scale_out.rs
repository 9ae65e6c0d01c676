//! The scale-out hub: its state on PostgreSQL (a private server per test, `jemput_testkit`), and
//! several `jemput hub serve` processes on one database, any of which serves any request
//! (`docs/scale-out.md`): kits and uploads one process created are seen by the other, two PATCHes
//! racing on one upload in two processes have one winner and a `409`, the events outbox is
//! delivered by both processes without a busy double delivery, and the office console is one
//! console across processes.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::packet::parse_prelude;
use jemput_core::wire::auth;
use jemput_core::wire::receipt::Receipt;
use predicates::prelude::*;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KIT_ID: &str = "kit-test";

/// A `jemput hub serve` process, killed when dropped.
struct Serve {
    child: Child,
    port: u16,
}

impl Serve {
    fn start(data: &Path) -> Serve {
        let port = free_port();
        let log = std::fs::File::create(data.join(format!("serve-{port}.log"))).unwrap();
        Serve {
            child: spawn_hub_serve_to(data, port, Stdio::from(log)),
            port,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scale-out hub: a private PostgreSQL server, a data directory initialised on it with
/// `jemput hub init --postgres`, one registered kit.
struct Scale {
    pg: jemput_testkit::Postgres,
    data: PathBuf,
    kit: SigningKey,
    office: Office,
    _dir: tempfile::TempDir,
}

fn scale_out() -> Option<Scale> {
    let pg = jemput_testkit::postgres()?;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let office = office();
    let init = json(
        jemput()
            .args(["hub", "--data"])
            .arg(&data)
            .args([
                "init",
                "--json",
                "--postgres",
                &pg.url(),
                "--office-recipient",
            ])
            .arg(&office.keys.recipient)
            .assert(),
    );
    assert_eq!(init["postgres"], pg.url().as_str(), "{init}");
    assert!(init["object_store"].is_null(), "{init}");
    let kit = SigningKey::generate();
    off_runtime(|| {
        jemput_hub::Registry::open(&data)
            .unwrap()
            .add(KIT_ID, &kit.public(), Some("tim uji"))
            .unwrap();
    });
    Some(Scale {
        pg,
        data,
        kit,
        office,
        _dir: dir,
    })
}

fn metadata(packet: &[u8]) -> String {
    let prelude = &packet[..parse_prelude(packet).unwrap().payload_offset];
    format!("packet {}", B64.encode(prelude))
}

fn sha256_b64(bytes: &[u8]) -> String {
    B64.encode(Sha256::digest(bytes))
}

impl Scale {
    async fn create(&self, base: &str, packet: &[u8]) -> String {
        let http = reqwest::Client::new();
        let b = http
            .post(format!("{base}/v1/uploads"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", packet.len().to_string())
            .header("Upload-Metadata", metadata(packet));
        let r = http.execute(signed(b, KIT_ID, &self.kit)).await.unwrap();
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        r.headers()["location"].to_str().unwrap().to_string()
    }

    async fn patch(&self, base: &str, loc: &str, offset: u64, chunk: &[u8]) -> reqwest::Response {
        let http = reqwest::Client::new();
        let b = http
            .patch(format!("{base}{loc}"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Checksum", format!("sha256 {}", sha256_b64(chunk)))
            .body(chunk.to_vec());
        http.execute(signed(b, KIT_ID, &self.kit)).await.unwrap()
    }

    async fn head_offset(&self, base: &str, loc: &str) -> u64 {
        let http = reqwest::Client::new();
        let b = http
            .head(format!("{base}{loc}"))
            .header("Tus-Resumable", "1.0.0");
        let r = http.execute(signed(b, KIT_ID, &self.kit)).await.unwrap();
        assert_eq!(r.status(), 200);
        r.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Sends the head and the first `first` bytes of a PATCH of `chunk` at `offset` on a raw
    /// connection; the rest is the caller's to send.
    async fn patch_begun(
        &self,
        port: u16,
        loc: &str,
        offset: u64,
        chunk: &[u8],
        first: usize,
    ) -> tokio::net::TcpStream {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let sum = format!("sha256 {}", sha256_b64(chunk));
        let off = offset.to_string();
        let request = auth::Request {
            method: "PATCH",
            path: loc,
            headers: auth::Covered {
                offset: Some(&off),
                checksum: Some(&sum),
                ..auth::Covered::default()
            },
        };
        let a = auth::sign(
            KIT_ID,
            &self.kit,
            &request,
            jiff::Timestamp::now().as_second(),
        );
        let head = format!(
            "PATCH {loc} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTus-Resumable: 1.0.0\r\n{}: {a}\r\n\
             Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n\
             Upload-Checksum: {sum}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            auth::HEADER,
            chunk.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&chunk[..first]).await.unwrap();
        s.flush().await.unwrap();
        s
    }
}

/// Sends the rest of a begun PATCH and reads the answer: (status, Upload-Offset).
async fn patch_finish(mut s: tokio::net::TcpStream, rest: &[u8]) -> (u16, Option<u64>) {
    s.write_all(rest).await.unwrap();
    s.flush().await.unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let offset = text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("upload-offset")
            .then(|| v.trim().parse().ok())
            .flatten()
    });
    (status, offset)
}

#[test]
fn a_postgres_hub_keeps_no_state_in_its_data_directory_and_its_cli_reads_the_database() {
    let Some(s) = scale_out() else { return };
    // Only configuration, keys and the certificate (and the local packet directories).
    assert!(!s.data.join(jemput_hub::DB_FILE).exists());
    let config = std::fs::read_to_string(s.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(config.contains("[postgres]"), "{config}");
    assert!(config.contains(&s.pg.url()), "{config}");
    // The kit registered through the library is in PostgreSQL, as psql (not the hub) sees it.
    assert_eq!(
        s.pg.psql("SELECT kit_id || ' ' || name FROM kits").unwrap(),
        "kit-test tim uji"
    );
    let kits = json(hub_cmd(&s.data, &["kits", "--json"]));
    assert_eq!(kits[0]["kit_id"], KIT_ID);
    // Worklist and settings go to the database too.
    let csv = s.data.join("wl.csv");
    std::fs::write(
        &csv,
        "nik,name,desa,category\n7408014501500003,Siti,Lapadi,lansia\n",
    )
    .unwrap();
    hub_cmd(&s.data, &["worklist", "import", csv.to_str().unwrap()]).success();
    hub_cmd(&s.data, &["settings", "set", "max-days-since-sync", "7"]).success();
    assert!(!s.data.join("worklist.json").exists());
    assert!(!s.data.join("kit-settings.toml").exists());
    assert_eq!(
        s.pg.psql("SELECT name FROM documents ORDER BY name")
            .unwrap(),
        "kit-settings.toml\nworklist.json"
    );
    assert_eq!(
        json(hub_cmd(&s.data, &["settings", "--json"]))["policy"]["max_days_since_sync"],
        7
    );
    assert_eq!(
        json(hub_cmd(&s.data, &["worklist", "--json"]))[0]["name"],
        "Siti"
    );
}

#[test]
fn init_refuses_a_password_in_the_url_and_a_database_of_another_hub() {
    let Some(pg) = jemput_testkit::postgres() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let with_password = format!(
        "postgresql://jemput:rahasia@/jemput?host={}",
        pg.socket_dir().display()
    );
    hub_cmd(
        &dir.path().join("a"),
        &["init", "--postgres", &with_password],
    )
    .failure()
    .stderr(predicate::str::contains("carries a password"));
    assert!(!dir.path().join("a").join(jemput_hub::CONFIG_FILE).exists());
    hub_cmd(&dir.path().join("b"), &["init", "--postgres", &pg.url()]).success();
    hub_cmd(&dir.path().join("c"), &["init", "--postgres", &pg.url()])
        .failure()
        .stderr(predicate::str::contains("belongs to hub"));
    assert!(!dir.path().join("c").join(jemput_hub::CONFIG_FILE).exists());
    // A password file readable by others is refused.
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "rahasia\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    hub_cmd(
        &dir.path().join("d"),
        &[
            "init",
            "--postgres",
            &pg.url_of("other"),
            "--postgres-password-file",
            pw.to_str().unwrap(),
        ],
    )
    .failure()
    .stderr(predicate::str::contains("can be read by other users"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_begun_at_one_process_finishes_at_another_with_a_receipt_that_verifies() {
    let Some(s) = scale_out() else { return };
    let (a, b) = (Serve::start(&s.data), Serve::start(&s.data));
    let sealed = small_packet(&s.kit, &s.office);
    let packet = &sealed.bytes;
    let loc = s.create(&a.url(), packet).await;
    let half = packet.len() / 2;
    assert_eq!(
        s.patch(&a.url(), &loc, 0, &packet[..half]).await.status(),
        204
    );
    // The other process sees the upload and its offset, and takes the rest.
    assert_eq!(s.head_offset(&b.url(), &loc).await, half as u64);
    let r = s.patch(&b.url(), &loc, half as u64, &packet[half..]).await;
    assert_eq!(r.status(), 204);
    let receipt =
        Receipt::from_header_value(r.headers()["jemput-receipt"].to_str().unwrap()).unwrap();
    let hub_key = off_runtime(|| jemput_hub::Hub::open(&s.data).unwrap().public_key());
    receipt
        .verify_for(
            &hub_key,
            &sealed.header.packet_id,
            &sealed.header.payload_sha256,
        )
        .unwrap();
    let stored = s
        .data
        .join("packets")
        .join(format!("{}.jpk", sealed.header.packet_id));
    assert_eq!(std::fs::read(stored).unwrap(), *packet);
    // The staged bytes are gone once the packet is stored; the receipt is in PostgreSQL.
    assert_eq!(
        s.pg.psql("SELECT count(*) FROM upload_chunks").unwrap(),
        "0"
    );
    assert_eq!(s.pg.psql("SELECT count(*) FROM receipts").unwrap(), "1");
    let rows = json(hub_cmd(&s.data, &["packets", "--json"]));
    assert_eq!(rows[0]["packet_id"], sealed.header.packet_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_patches_racing_on_one_upload_in_two_processes_have_one_winner_and_a_409() {
    let Some(s) = scale_out() else { return };
    let (a, b) = (Serve::start(&s.data), Serve::start(&s.data));
    let sealed = small_packet(&s.kit, &s.office);
    let packet = &sealed.bytes;
    let loc = s.create(&a.url(), packet).await;
    let chunk = &packet[..packet.len() / 2];
    // Both PATCHes pass their offset check (0) and are reading their bodies at once.
    let first = 100;
    let to_a = s.patch_begun(a.port, &loc, 0, chunk, first).await;
    let to_b = s.patch_begun(b.port, &loc, 0, chunk, first).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (ra, rb) = tokio::join!(
        patch_finish(to_a, &chunk[first..]),
        patch_finish(to_b, &chunk[first..])
    );
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [204, 409], "{ra:?} {rb:?}");
    // Both answers name the offset the winner reached.
    assert_eq!(ra.1, Some(chunk.len() as u64));
    assert_eq!(rb.1, Some(chunk.len() as u64));
    assert_eq!(s.head_offset(&a.url(), &loc).await, chunk.len() as u64);
    // One chunk staged, once.
    assert_eq!(
        s.pg.psql("SELECT count(*) || ' ' || sum(length(data)) FROM upload_chunks")
            .unwrap(),
        format!("1 {}", chunk.len())
    );
    // The rest completes the packet byte for byte.
    let r = s
        .patch(&b.url(), &loc, chunk.len() as u64, &packet[chunk.len()..])
        .await;
    assert_eq!(r.status(), 204);
    let stored = s
        .data
        .join("packets")
        .join(format!("{}.jpk", sealed.header.packet_id));
    assert_eq!(std::fs::read(stored).unwrap(), *packet);
}

/// A webhook receiver on loopback: records the `Jemput-Event-Id` of every POST; while `hang` is
/// set it reads a POST and never answers it (a receiver stuck mid-delivery).
struct Receiver {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<i64>>>,
    hang: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    fn start() -> Receiver {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let hang = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, hang2) = (seen.clone(), hang.clone());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let mut r = BufReader::new(conn);
                let (mut id, mut len) = (None, 0usize);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("jemput-event-id") {
                            id = v.trim().parse::<i64>().ok();
                        }
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; len];
                let _ = r.read_exact(&mut body);
                let Some(id) = id else { continue };
                if hang2.load(std::sync::atomic::Ordering::SeqCst) {
                    held.push(r);
                    continue;
                }
                seen2.lock().unwrap().push(id);
                let _ = r.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Receiver { port, seen, hang }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/events", self.port)
    }

    fn seen(&self) -> Vec<i64> {
        self.seen.lock().unwrap().clone()
    }
}

/// Adds the receiver as the hub's webhook (`hub.toml`, read by every process at start).
fn add_webhook(data: &Path, url: &str) {
    // (No database here: hub.toml only.)
    let mut config = jemput_hub::HubConfig::load(data).unwrap();
    config.webhooks.push(
        toml::from_str(&format!(
            "url = {url:?}\nsecret = \"sixteen-or-more-characters\""
        ))
        .unwrap(),
    );
    config.webhook_retry_base_ms = 100;
    config.save(data).unwrap();
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_deliver_every_event_once_and_a_dead_processs_event_is_delivered_by_the_other(
) {
    let Some(s) = scale_out() else { return };
    let receiver = Receiver::start();
    add_webhook(&s.data, &receiver.url());
    let (a, b) = (Serve::start(&s.data), Serve::start(&s.data));
    // Ten `received` events, made at both processes; both workers deliver.
    for i in 0..10 {
        let sealed = small_packet(&s.kit, &s.office);
        let base = if i % 2 == 0 { a.url() } else { b.url() };
        s.create(&base, &sealed.bytes).await;
    }
    wait_for("ten deliveries", Duration::from_secs(30), || {
        receiver.seen().len() >= 10
    });
    // A moment more for any second post of the same event (there must be none).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut seen = receiver.seen();
    seen.sort();
    assert_eq!(seen, (1..=10).collect::<Vec<i64>>(), "each event once");
    drop((a, b));

    // A process dies while posting: the receiver holds its post unanswered, the process is killed
    // (SIGKILL), and the other process delivers the event once the lease runs out.
    receiver
        .hang
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut a = Serve::start(&s.data);
    let sealed = small_packet(&s.kit, &s.office);
    s.create(&a.url(), &sealed.bytes).await;
    wait_for("the post to be leased", Duration::from_secs(10), || {
        s.pg.psql("SELECT count(*) FROM deliveries WHERE event_id = 11")
            .unwrap()
            == "1"
    });
    // Its POST reaches the receiver, which holds it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    receiver
        .hang
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let started = Instant::now();
    let _b = Serve::start(&s.data);
    wait_for(
        "the other process to deliver it",
        Duration::from_secs(40),
        || receiver.seen().contains(&11),
    );
    assert!(
        started.elapsed() > Duration::from_secs(5),
        "delivered again only after the lease ran out ({:?})",
        started.elapsed()
    );
    wait_for(
        "the delivery to be recorded",
        Duration::from_secs(10),
        || {
            s.pg.psql("SELECT state FROM deliveries WHERE event_id = 11")
                .unwrap()
                == "delivered"
        },
    );
    let events = json(hub_cmd(&s.data, &["events", "--json"]));
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["state"] == "delivered"),
        "{events:#}"
    );
}

/// An HTTP answer of the console: status, `Set-Cookie` values (name=value only) and body.
struct Page {
    status: u16,
    cookies: Vec<String>,
    body: String,
}

async fn console_call(base: &str, path: &str, cookie: Option<&str>, form: Option<String>) -> Page {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{base}{path}");
    let mut req = match &form {
        Some(body) => client
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.clone()),
        None => client.get(&url),
    };
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    Page {
        status,
        cookies,
        body: r.text().await.unwrap(),
    }
}

/// The `value` of a page's hidden `csrf` input.
fn csrf_field(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + 64].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_on_postgresql_is_one_console_across_processes() {
    let Some(s) = scale_out() else { return };
    let password = "kata-sandi-kantor";
    jemput()
        .args(["hub", "--data"])
        .arg(&s.data)
        .args([
            "users",
            "add",
            "siti",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .write_stdin(format!("{password}\n"))
        .assert()
        .success();
    // The account is a row of the hub's PostgreSQL database, kept only as an argon2 hash.
    let hash =
        s.pg.psql("SELECT password_hash FROM console_accounts WHERE name = 'siti'")
            .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let (a, b) = (Serve::start(&s.data), Serve::start(&s.data));

    // Signed in at process A…
    let form = console_call(&a.url(), "/console/login", None, None).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let pre = form
        .cookies
        .iter()
        .find(|c| c.starts_with("jemput_console_login="))
        .expect("the sign-in form's cookie")
        .clone();
    let body = format!(
        "csrf={}&name=siti&password={password}",
        csrf_field(&form.body)
    );
    let signed = console_call(&a.url(), "/console/login", Some(&pre), Some(body)).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let session = signed
        .cookies
        .iter()
        .find(|c| c.starts_with("jemput_console="))
        .expect("a session cookie")
        .clone();

    // …the same browser is signed in at process B, and revokes the kit there.
    let kits = console_call(&b.url(), "/console/kits", Some(&session), None).await;
    assert_eq!(
        kits.status, 200,
        "process B did not know the session: {}",
        kits.body
    );
    assert!(kits.body.contains(KIT_ID), "{}", kits.body);
    let revoke = format!("csrf={}", csrf_field(&kits.body));
    let done = console_call(
        &b.url(),
        &format!("/console/kits/{KIT_ID}/revoke"),
        Some(&session),
        Some(revoke),
    )
    .await;
    assert!(done.status < 400, "{}: {}", done.status, done.body);

    // Process A's audit log shows who did it at B; the database and the CLI agree.
    let audit = console_call(&a.url(), "/console/audit", Some(&session), None).await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("kit.revoke"), "{}", audit.body);
    assert_eq!(
        s.pg.psql("SELECT actor || ' ' || action || ' ' || detail FROM console_audit ORDER BY id")
            .unwrap(),
        format!("(command line) user.add siti (admin)\nsiti kit.revoke {KIT_ID}")
    );
    let kits = json(hub_cmd(&s.data, &["kits", "--json"]));
    assert_eq!(kits[0]["revoked"], true, "{kits}");

    // Every read-only page answers at either process.
    for page in [
        "/console/",
        "/console/events",
        "/console/worklist",
        "/console/settings",
    ] {
        let p = console_call(&b.url(), page, Some(&session), None).await;
        assert_eq!(p.status, 200, "{page}: {}", p.body);
    }
    let users = json(hub_cmd(&s.data, &["users", "list", "--json"]));
    assert_eq!(users[0]["name"], "siti", "{users}");

    // Signing out at B ends the session at A too.
    let out = format!("csrf={}", csrf_field(&audit.body));
    let bye = console_call(&b.url(), "/console/logout", Some(&session), Some(out)).await;
    assert!(bye.status < 400, "{}: {}", bye.status, bye.body);
    let after = console_call(&a.url(), "/console/kits", Some(&session), None).await;
    assert_eq!(
        after.status, 303,
        "still signed in at A after signing out at B"
    );
}

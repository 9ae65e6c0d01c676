//! The hub with its packets in a real S3-compatible object store: a Garage node started by
//! `jemput_testkit::garage` (no fake, no mock). A kit enrolls and uploads through `jemput hub
//! serve`; the stored object is fetched with an independent client (curl's own SigV4 signing,
//! `curl --aws-sigv4`) and is byte for byte the kit's packet; the opener reads it back. The object
//! store stopped for 15 s in the middle of a drain: completions are answered `503` naming the
//! object store, every packet is receipted after it is back, and each receipted packet reads back
//! from Garage. Bad credentials stop `hub serve` at start with the reason. And what Garage does
//! with a conditional put (`If-None-Match: *`), which the hub's write-once scheme does not rely on.

mod common;
#[allow(dead_code)]
#[path = "upload/shaper.rs"]
mod shaper;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use jemput_core::keys::office::OfficeKeys;
use jemput_core::packet::{self, SealParams};
use jemput_kit::home::KitHome;
use jemput_testkit::garage::{self, Garage};

const BUCKET: &str = "packets";

/// Whether curl is there to check objects independently.
fn curl_peer() -> bool {
    jemput_testkit::program("curl", "apt-get install curl (7.75 or later: --aws-sigv4)")
}

/// `jemput` with the node's credentials in its environment.
fn with_credentials(g: &Garage) -> assert_cmd::Command {
    let mut c = jemput();
    c.env("AWS_ACCESS_KEY_ID", &g.key_id)
        .env("AWS_SECRET_ACCESS_KEY", &g.secret_key);
    c
}

/// `jemput hub init` with the object store, the office's hub key, recipient and identity.
fn init_hub(g: &Garage, data: &Path, keys: &OfficeKeys) -> Output {
    with_credentials(g)
        .arg("hub")
        .arg("--data")
        .arg(data)
        .args(["init", "--object-store", &g.url(), "--hub-key"])
        .arg(&keys.hub_key_file)
        .args(["--office-recipient", &keys.recipient, "--office-identity"])
        .arg(&keys.identity_file)
        .output()
        .unwrap()
}

/// `jemput hub serve` (HTTPS, or plain HTTP on loopback) with `env` added; waits until it
/// listens, or returns it exited.
fn serve(data: &Path, port: u16, tls: bool, env: &[(&str, &str)], log: &Path) -> Child {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("jemput"));
    c.args(["hub", "serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    if !tls {
        c.arg("--plain-http");
    }
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if child.try_wait().unwrap().is_some() {
            return child;
        }
        assert!(Instant::now() < deadline, "the hub did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Kills a child when dropped (a failing assertion must not leave a hub running).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The object key the hub stores a packet of these bytes under.
fn key_of(packet_id: &str, bytes: &[u8]) -> String {
    jemput_hub::objects::object_key("", packet_id, &sha256_hex(bytes))
}

#[test]
fn a_kit_enrolls_uploads_and_garage_holds_its_packet_byte_for_byte() {
    if !garage::available() || !curl_peer() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let g = Garage::start(&mk(d.path(), "garage"), BUCKET);
    let (home, keys) = kit_with_office(d.path());
    let data = d.path().join("hub");
    let init = init_hub(&g, &data, &keys);
    let said =
        String::from_utf8_lossy(&init.stdout).to_string() + &String::from_utf8_lossy(&init.stderr);
    assert!(init.status.success(), "{said}");
    assert!(
        said.contains(&format!("object store {}", g.url())),
        "{said}"
    );
    assert!(!said.contains("warning"), "{said}");
    let hub_toml = std::fs::read_to_string(data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(hub_toml.contains("[object_store]"), "{hub_toml}");
    assert!(
        !hub_toml.contains(&g.secret_key) && !hub_toml.contains(&g.key_id),
        "credentials must not be written into hub.toml"
    );

    let port = free_port();
    let creds = [
        ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", g.secret_key.as_str()),
    ];
    let _hub = Killed(serve(&data, port, true, &creds, &d.path().join("hub.log")));
    let tok = json(hub_cmd(
        &data,
        &["enroll-token", "--name", "Tim Palu", "--json"],
    ));
    let url = format!("https://127.0.0.1:{port}");
    run(
        &home,
        &["enroll", &url, tok["token"].as_str().unwrap(), "--json"],
    )
    .success();

    let packet_file = seal_one(&home);
    let bytes = std::fs::read(&packet_file).unwrap();
    let packet_id = packet_file
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let report = json(run(&home, &["upload", "--attempts", "1", "--json"]));
    assert_eq!(report["packets"][0]["outcome"], "acknowledged", "{report}");

    // An independent client finds exactly the kit's packet under its key.
    let (status, object) = s3_request(
        &g,
        "GET",
        &format!("/{}", key_of(&packet_id, &bytes)),
        None,
        &[],
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&object));
    assert!(object == bytes, "the object differs from the kit's packet");
    // Nothing went to the data directory.
    assert!(walk(&data.join(jemput_hub::PACKETS_DIR)).is_empty());

    // The opener read it back from Garage and opened it with the office identity.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = json(hub_cmd(&data, &["packets", "--json"]));
        let row = &rows[0];
        assert_eq!(row["packet_id"], packet_id.as_str(), "{rows}");
        if row["state"] == "opened" {
            break;
        }
        assert!(
            Instant::now() < deadline && row["state"] == "verified",
            "{rows}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_packet_over_16_mib_goes_to_garage_in_parts_and_reads_back_byte_for_byte() {
    if !garage::available() || !curl_peer() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let g = Garage::start(&mk(d.path(), "garage"), BUCKET);
    let (home, keys, data, kit) = kit_and_hub(&g, d.path());
    // Noise does not compress: the packet is a little over 20 MB, three parts of 8 MiB.
    let (packet_id, bytes) = queue_packet(&kit, &keys.recipient, 20_000_000, 7);
    assert!(bytes.len() > 16 << 20 && bytes.len() < 24 << 20);

    let port = free_port();
    let creds = [
        ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", g.secret_key.as_str()),
    ];
    let log = d.path().join("hub.log");
    let _hub = Killed(serve(&data, port, false, &creds, &log));
    let report = drain(&home, &format!("http://127.0.0.1:{port}"));
    assert_eq!(
        report["packets"][0]["outcome"],
        "acknowledged",
        "{report}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    let key = format!("/{}", key_of(&packet_id, &bytes));
    let (status, head, object) = s3_exchange(&g, "GET", &key, None, &[]);
    assert_eq!(status, 200, "{head}");
    assert!(object == bytes, "the object differs from the kit's packet");
    // S3 (and Garage) give an object completed from parts the ETag `"<hash>-<parts>"`; one `PUT`
    // gives a plain MD5.
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("etag:").or_else(|| l.strip_prefix("ETag:")))
        .unwrap_or_else(|| panic!("no ETag: {head}"))
        .trim()
        .trim_matches('"')
        .to_string();
    assert!(
        etag.ends_with("-3"),
        "not stored in three parts: ETag {etag}"
    );
    // No upload left unfinished in the bucket.
    let (status, _, listing) = s3_exchange(&g, "GET", "/?uploads=", None, &[]);
    let listing = String::from_utf8_lossy(&listing);
    assert_eq!(status, 200, "{listing}");
    assert!(!listing.contains("<UploadId>"), "{listing}");
}

/// A kit with its office under `root`, and a hub in `root/hub` on the node's bucket with the
/// kit registered: the kit's home, the office keys, the hub's data directory and the kit.
fn kit_and_hub(g: &Garage, root: &Path) -> (PathBuf, OfficeKeys, PathBuf, KitHome) {
    let (home, keys) = kit_with_office(root);
    let data = root.join("hub");
    assert!(init_hub(g, &data, &keys).status.success());
    let kit = KitHome::open(&home).unwrap();
    jemput_hub::Registry::open(&data)
        .unwrap()
        .add(&kit.config.kit_id, &kit.kit_key().unwrap().public(), None)
        .unwrap();
    (home, keys, data, kit)
}

fn mk(root: &Path, name: &str) -> PathBuf {
    let p = root.join(name);
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn garage_ignores_if_none_match_so_the_hub_does_not_rely_on_it() {
    if !garage::available() || !curl_peer() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let g = Garage::start(&mk(d.path(), "garage"), BUCKET);
    let put = |body: &[u8]| s3_request(&g, "PUT", "/probe", Some(body), &["If-None-Match: *"]).0;
    assert_eq!(put(b"first"), 200);
    // S3 answers 412 Precondition Failed here; Garage 2.5 writes the object again.
    assert_eq!(put(b"second"), 200);
    let (status, body) = s3_request(&g, "GET", "/probe", None, &[]);
    assert_eq!((status, body.as_slice()), (200, b"second".as_slice()));
}

#[test]
fn bad_or_missing_credentials_stop_hub_serve_at_start_saying_why() {
    if !garage::available() || !curl_peer() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let g = Garage::start(&mk(d.path(), "garage"), BUCKET);
    let (_home, keys) = kit_with_office(d.path());
    let data = d.path().join("hub");
    assert!(init_hub(&g, &data, &keys).status.success());
    let try_serve = |env: &[(&str, &str)], name: &str| -> String {
        let log = d.path().join(format!("{name}.log"));
        let mut hub = Killed(serve(&data, free_port(), false, env, &log));
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = hub.0.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "hub serve ({name}) kept running");
            std::thread::sleep(Duration::from_millis(50));
        };
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!status.success(), "{name}: {text}");
        assert!(!text.contains("panicked"), "{name}: {text}");
        text
    };
    let wrong = try_serve(
        &[
            ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
            (
                "AWS_SECRET_ACCESS_KEY",
                "0000000000000000000000000000000000000000000000000000000000000000",
            ),
        ],
        "wrong-secret",
    );
    assert!(wrong.contains("refused"), "{wrong}");
    assert!(wrong.contains("AWS_SECRET_ACCESS_KEY"), "{wrong}");
    let unknown = try_serve(
        &[
            ("AWS_ACCESS_KEY_ID", "GK000000000000000000000000"),
            ("AWS_SECRET_ACCESS_KEY", g.secret_key.as_str()),
        ],
        "unknown-key",
    );
    assert!(unknown.contains("refused"), "{unknown}");
    let none = try_serve(&[], "no-credentials");
    assert!(none.contains("no credentials"), "{none}");

    // A credentials file named in hub.toml: refused while others can read it, used once 0600.
    use std::os::unix::fs::PermissionsExt;
    let file = data.join("s3-credentials.toml");
    std::fs::write(
        &file,
        format!(
            "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
            g.key_id, g.secret_key
        ),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = data.join(jemput_hub::CONFIG_FILE);
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "[object_store]\n",
            "[object_store]\ncredentials_file = \"s3-credentials.toml\"\n",
        ),
    )
    .unwrap();
    let open = try_serve(&[], "credentials-file-0644");
    assert!(open.contains("chmod 600"), "{open}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let port = free_port();
    let log = d.path().join("credentials-file-0600.log");
    let mut hub = Killed(serve(&data, port, false, &[], &log));
    // It serves (the check passed): /v1/info answers.
    let info = Command::new("curl")
        .args(["-sf", "--max-time", "30"])
        .arg(format!("http://127.0.0.1:{port}/v1/info"))
        .output()
        .unwrap();
    assert!(
        info.status.success() && hub.0.try_wait().unwrap().is_none(),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
}

/// Seals one visit of `kit` around `payload` bytes of noise and queues it; its id and bytes.
fn queue_packet(kit: &KitHome, recipient: &str, payload: usize, seed: u32) -> (String, Vec<u8>) {
    let (visit, files) = noise_visit(payload, seed);
    let sealed = packet::seal(
        &visit,
        &files,
        &SealParams {
            kit_id: &kit.config.kit_id,
            kit_key: &kit.kit_key().unwrap(),
            recipients: &[recipient.to_string()],
            max_packet_bytes: 64 << 20,
        },
    )
    .unwrap();
    queue_sealed(&kit.root, &sealed);
    (sealed.header.packet_id, sealed.bytes)
}

/// `jemput upload --json` once: its report.
fn drain(home: &Path, endpoint: &str) -> serde_json::Value {
    let out = jemput()
        .arg("--home")
        .arg(home)
        .args([
            "upload",
            "--json",
            "--attempts",
            "2",
            "--endpoint",
            endpoint,
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no report: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn the_object_store_down_for_15_s_mid_drain_delays_receipts_and_loses_nothing() {
    if !garage::available() || !curl_peer() {
        return;
    }
    const PACKETS: usize = 6;
    let d = tempfile::tempdir().unwrap();
    let mut g = Garage::start(&mk(d.path(), "garage"), BUCKET);
    let (home, keys, data, kit) = kit_and_hub(&g, d.path());
    let packets: Vec<(String, Vec<u8>)> = (0..PACKETS)
        .map(|i| queue_packet(&kit, &keys.recipient, 300_000, i as u32))
        .collect();

    let hub_port = free_port();
    let creds = [
        ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", g.secret_key.as_str()),
    ];
    let log = d.path().join("hub.log");
    let _hub = Killed(serve(&data, hub_port, false, &creds, &log));
    // About a third of a second per packet on the way to the hub, so that the drain is still
    // going when the object store stops.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let link = runtime.block_on(shaper::start(
        hub_port,
        shaper::Shape {
            rate: Some(1_000_000),
            latency: Duration::from_millis(2),
            cuts: shaper::Cuts::Never,
        },
    ));
    let endpoint = format!("http://127.0.0.1:{}", link.port);

    let receipted = || {
        jemput_hub::packets::list(&data)
            .unwrap()
            .iter()
            .filter(|r| {
                !matches!(
                    r.state,
                    jemput_hub::packets::PacketState::Receiving
                        | jemput_hub::packets::PacketState::Rejected
                )
            })
            .count()
    };
    let drainer = {
        let (home, endpoint) = (home.clone(), endpoint.clone());
        std::thread::spawn(move || drain(&home, &endpoint))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while receipted() == 0 {
        if drainer.is_finished() || Instant::now() > deadline {
            let report = drainer.is_finished().then(|| drainer.join().unwrap());
            panic!(
                "no packet was receipted; the kit's report: {report:?}\nhub log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    g.stop();
    let stopped = Instant::now();
    let before = receipted();
    assert!(
        before < PACKETS,
        "the drain ended before the object store stopped"
    );

    // While it is down: drains end with the hub's 503 naming the object store, nothing more is
    // receipted, and the packets stay queued on the kit.
    let mut reports = vec![drainer.join().unwrap()];
    while stopped.elapsed() < STORE_DOWN {
        reports.push(drain(&home, &endpoint));
        assert_eq!(
            receipted(),
            before,
            "a packet was receipted while the store was down"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let errors: Vec<String> = reports
        .iter()
        .flat_map(|r| r["packets"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["error"].as_str().map(str::to_string))
        .collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("503") && e.contains("object store unavailable")),
        "{errors:#?}"
    );
    let hub_log = std::fs::read_to_string(&log).unwrap();
    assert!(hub_log.contains("is unavailable"), "{hub_log}");

    g.restart();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = drain(&home, &endpoint);
        let queue = json(run(&home, &["queue", "--json"]));
        let left = queue
            .as_array()
            .map(|q| {
                q.iter()
                    .filter(|e| e["state"] != "acknowledged" && e["state"] != "purged")
                    .count()
            })
            .unwrap_or(usize::MAX);
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {left} not acknowledged: {report}\n{queue}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Every packet is receipted once, and every receipted packet reads back from Garage.
    let rows = jemput_hub::packets::list(&data).unwrap();
    assert_eq!(rows.len(), PACKETS, "{rows:#?}");
    for (id, bytes) in &packets {
        assert!(
            rows.iter().any(|r| &r.packet_id == id),
            "{id} not at the hub"
        );
        let (status, object) = s3_request(&g, "GET", &format!("/{}", key_of(id, bytes)), None, &[]);
        assert_eq!(status, 200, "{id}: {}", String::from_utf8_lossy(&object));
        assert!(&object == bytes, "{id}: the object is not the packet");
    }
}

/// The scale-out configuration the issue names: state in PostgreSQL, packets in Garage, two
/// `hub serve` processes sharing both. Packets uploaded through one process are in Garage under
/// their keys (none in the data directory), receipted once in PostgreSQL, and opened by reading
/// them back from Garage; after that process is killed the other one takes the next packet.
#[test]
fn two_processes_on_postgresql_share_the_object_store() {
    if !garage::available() || !curl_peer() {
        return;
    }
    let Some(pg) = jemput_testkit::postgres() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let g = Garage::start(&mk(d.path(), "garage"), BUCKET);
    let (home, keys) = kit_with_office(d.path());
    let data = d.path().join("hub");
    let init = with_credentials(&g)
        .arg("hub")
        .arg("--data")
        .arg(&data)
        .args(["init", "--postgres", &pg.url(), "--object-store", &g.url()])
        .arg("--hub-key")
        .arg(&keys.hub_key_file)
        .args(["--office-recipient", &keys.recipient, "--office-identity"])
        .arg(&keys.identity_file)
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let hub_toml = std::fs::read_to_string(data.join(jemput_hub::CONFIG_FILE)).unwrap();
    assert!(
        hub_toml.contains("[postgres]") && hub_toml.contains("[object_store]"),
        "{hub_toml}"
    );
    let kit = KitHome::open(&home).unwrap();
    // Blocking PostgreSQL calls must not run on a tokio runtime thread: this test has none.
    jemput_hub::Registry::open(&data)
        .unwrap()
        .add(&kit.config.kit_id, &kit.kit_key().unwrap().public(), None)
        .unwrap();
    let packets: Vec<(String, Vec<u8>)> = (0..3)
        .map(|i| queue_packet(&kit, &keys.recipient, 50_000, 100 + i))
        .collect();

    let creds = [
        ("AWS_ACCESS_KEY_ID", g.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", g.secret_key.as_str()),
    ];
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = Killed(serve(&data, port_a, false, &creds, &d.path().join("a.log")));
    let _b = Killed(serve(&data, port_b, false, &creds, &d.path().join("b.log")));
    let report = drain(&home, &format!("http://127.0.0.1:{port_a}"));
    let outcomes: Vec<&str> = report["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["acknowledged"; 3], "{report}");
    for (id, bytes) in &packets {
        let (status, object) = s3_request(&g, "GET", &format!("/{}", key_of(id, bytes)), None, &[]);
        assert_eq!(status, 200, "{id}: {}", String::from_utf8_lossy(&object));
        assert!(
            &object == bytes,
            "{id}: the object differs from the kit's packet"
        );
    }
    assert!(walk(&data.join(jemput_hub::PACKETS_DIR)).is_empty());

    // Opened (read back from Garage) by whichever process took it, each once.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = json(hub_cmd(&data, &["packets", "--json"]));
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        if rows.iter().all(|r| r["state"] == "opened") {
            break;
        }
        assert!(Instant::now() < deadline, "not all opened: {rows:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Process A dies; B takes the next packet and stores it in Garage too.
    a.0.kill().unwrap();
    a.0.wait().unwrap();
    let (id, bytes) = queue_packet(&kit, &keys.recipient, 50_000, 200);
    let report = drain(&home, &format!("http://127.0.0.1:{port_b}"));
    assert_eq!(report["packets"][0]["outcome"], "acknowledged", "{report}");
    let (status, _) = s3_request(&g, "GET", &format!("/{}", key_of(&id, &bytes)), None, &[]);
    assert_eq!(status, 200);
    let rows = json(hub_cmd(&data, &["packets", "--json"]));
    assert_eq!(rows.as_array().unwrap().len(), 4, "{rows}");
}

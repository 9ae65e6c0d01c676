//! Helpers shared by the integration tests: small visits, office keys, hand-built packets.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use jemput_core::keys::office::{self, OfficeKeys};
use jemput_core::keys::sign::OUTER_DOMAIN;
use jemput_core::keys::{recipient_key_id, SigningKey};
use jemput_core::packet::{self, format, PacketFile, SealParams, Sealed};
use jemput_core::visit::*;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
use sha2::{Digest, Sha256};

mod sbi;
mod sim;
#[allow(unused_imports)] // not every test binary runs an SBI device service
pub use sbi::*;
#[allow(unused_imports)] // not every test binary runs jemput this way
pub use sim::*;

pub struct Office {
    pub dir: tempfile::TempDir,
    pub keys: OfficeKeys,
    pub identities: Vec<age::x25519::Identity>,
}

pub fn office() -> Office {
    let dir = tempfile::tempdir().unwrap();
    let keys = office::keygen(dir.path()).unwrap();
    let identities = office::load_identities(&keys.identity_file).unwrap();
    Office {
        dir,
        keys,
        identities,
    }
}

/// A small, complete document-only visit (fast to seal; bytes are not an image on purpose).
pub fn small_visit() -> (Visit, Vec<PacketFile>) {
    let opts = SampleOptions {
        category: Category::Dokumen,
        ..Default::default()
    };
    let (mut visit, _) = synthetic_visit(7, &opts);
    let now = jiff::Timestamp::now();
    visit.captures.documents = vec![Capture {
        file: "document-1.jpg".into(),
        media_type: "image/jpeg".into(),
        extra_files: vec![],
        captured_at: now,
        device: DeviceRecord {
            driver: "synthetic".into(),
            model: "test".into(),
            serial: None,
            firmware: None,
        },
        calibration_id: None,
        device_quality: None,
        quality: None,
        retries: 0,
        forced: false,
        width: None,
        height: None,
        ppi: None,
        face_checks: None,
        signature_kind: None,
    }];
    let bytes: Vec<u8> = (0..6000u32).map(|i| (i * 7 % 251) as u8).collect();
    (
        visit,
        vec![PacketFile {
            name: "document-1.jpg".into(),
            bytes,
        }],
    )
}

/// `n` bytes of xorshift noise from `seed`: a document no compressor shrinks, the same for the
/// same seed.
pub fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// [`small_visit`] with a fresh id and a document of `payload` bytes of [`noise`].
pub fn noise_visit(payload: usize, seed: u32) -> (Visit, Vec<PacketFile>) {
    let (mut visit, mut files) = small_visit();
    visit.id = uuid::Uuid::new_v4();
    files[0].bytes = noise(payload, seed);
    (visit, files)
}

/// Puts `sealed` into the queue of the kit store at `root`, as the kit's sealing does.
pub fn queue_sealed(root: &Path, sealed: &Sealed) {
    let mut meta = jemput_kit::seal::meta_of(&sealed.header);
    meta.size = sealed.bytes.len() as u64;
    let mut store = jemput_kit::store::Store::open(root).unwrap();
    store.commit_packet(&meta, &sealed.bytes).unwrap();
}

pub fn seal_with(
    kit: &SigningKey,
    recipients: &[String],
    visit: &Visit,
    files: &[PacketFile],
) -> Sealed {
    packet::seal(
        visit,
        files,
        &SealParams {
            kit_id: "kit-test",
            kit_key: kit,
            recipients,
            max_packet_bytes: 64 << 20,
        },
    )
    .unwrap()
}

/// A packet sealed for a fresh office and written to disk.
pub struct PacketOnDisk {
    /// The office it was sealed for (to open it).
    pub office: Office,
    /// Where it was written.
    pub path: PathBuf,
    /// Its packet id (the header's).
    pub packet_id: String,
}

/// Seals `visit` with a fresh kit key for a fresh office and writes the packet into `dir` under
/// its own file name.
pub fn packet_on_disk(visit: &Visit, files: &[PacketFile], dir: &Path) -> PacketOnDisk {
    let office = office();
    let sealed = seal_with(
        &SigningKey::generate(),
        std::slice::from_ref(&office.keys.recipient),
        visit,
        files,
    );
    let path = dir.join(sealed.file_name());
    std::fs::write(&path, &sealed.bytes).unwrap();
    PacketOnDisk {
        office,
        path,
        packet_id: sealed.header.packet_id,
    }
}

/// Seals the small visit for the office.
pub fn small_packet(kit: &SigningKey, office: &Office) -> Sealed {
    let (v, f) = small_visit();
    seal_with(kit, std::slice::from_ref(&office.keys.recipient), &v, &f)
}

/// Builds a packet by hand around an arbitrary plaintext `tar`, correctly encrypted and signed by
/// `kit` — for payloads jemput itself would never write.
pub fn packet_around(kit: &SigningKey, recipient: &str, tar: &[u8]) -> Vec<u8> {
    packet_around_id(kit, recipient, &uuid::Uuid::new_v4().to_string(), tar)
}

/// Like [`packet_around`], with a chosen packet id (to match a manifest taken from a real packet).
pub fn packet_around_id(kit: &SigningKey, recipient: &str, packet_id: &str, tar: &[u8]) -> Vec<u8> {
    let r: age::x25519::Recipient = recipient.parse().unwrap();
    let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient)).unwrap();
    let mut payload = Vec::new();
    let mut w = enc.wrap_output(&mut payload).unwrap();
    w.write_all(tar).unwrap();
    w.finish().unwrap();
    resign_id(kit, "kit-test", packet_id, recipient, &payload)
}

/// A packet with the given payload bytes and a valid header signed by `kit`.
pub fn resign(kit: &SigningKey, kit_id: &str, recipient: &str, payload: &[u8]) -> Vec<u8> {
    resign_id(
        kit,
        kit_id,
        &uuid::Uuid::new_v4().to_string(),
        recipient,
        payload,
    )
}

pub fn resign_id(
    kit: &SigningKey,
    kit_id: &str,
    packet_id: &str,
    recipient: &str,
    payload: &[u8],
) -> Vec<u8> {
    let header = packet::Header {
        format_version: 1,
        packet_id: packet_id.into(),
        kit_id: kit_id.into(),
        kit_key: kit.public(),
        created_at: jiff::Timestamp::now(),
        recipients: vec![recipient_key_id(recipient)],
        payload_length: payload.len() as u64,
        payload_sha256: hex::encode(Sha256::digest(payload)),
    };
    let hb = serde_json::to_vec(&header).unwrap();
    let sig = kit.sign(OUTER_DOMAIN, &hb);
    let mut out = format::encode_prelude(&hb, &sig);
    out.extend_from_slice(payload);
    out
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The `jemput` binary under test, with a clean environment for the kit.
pub fn jemput() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("jemput").unwrap();
    c.env_remove("JEMPUT_HOME")
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .env_remove("RUST_LOG");
    c
}

/// `jemput --home <home> <args…>`, run.
pub fn run(home: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    jemput().arg("--home").arg(home).args(args).assert()
}

/// `jemput hub --data <data> <args…>`, run.
pub fn hub_cmd(data: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    jemput()
        .arg("hub")
        .arg("--data")
        .arg(data)
        .args(args)
        .assert()
}

/// The JSON a successful command printed.
pub fn json(a: assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_slice(&a.success().get_output().stdout).unwrap()
}

/// What a successful command printed, trimmed.
pub fn stdout(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.success().get_output().stdout.clone())
        .unwrap()
        .trim()
        .to_string()
}

/// Starts a synthetic visit in the kit at `home` and seals it; the packet's path.
pub fn seal_one(home: &Path) -> PathBuf {
    let id = stdout(run(
        home,
        &[
            "visit",
            "new",
            "--synthetic",
            "--category",
            "lansia",
            "--nik",
            "7408014512500001",
            "--sex",
            "female",
            "--birth-date",
            "1950-12-05",
            "--consent",
            "resident",
        ],
    ));
    let v = json(run(home, &["seal", &id, "--json"]));
    assert_eq!(v["failed"].as_array().unwrap().len(), 0, "{v}");
    v["sealed"][0]["path"].as_str().unwrap().into()
}

/// Seals visit `id` of the kit at `home` (`jemput seal`, which must seal it) and opens the packet
/// into `out` with the office identity at `identity`; the packet's manifest.
pub fn seal_and_open(home: &Path, identity: &Path, id: &str, out: &Path) -> serde_json::Value {
    let sealed = json(run(home, &["seal", id, "--json"]));
    assert_eq!(sealed["failed"], serde_json::json!([]), "{sealed}");
    let packet = sealed["sealed"][0]["path"].as_str().unwrap().to_string();
    jemput()
        .args(["open", &packet, "--identity"])
        .arg(identity)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

/// Creates an office and a kit home (low scrypt work factor to keep tests fast).
pub fn kit_with_office(root: &Path) -> (PathBuf, OfficeKeys) {
    let keys = office::keygen(&root.join("office")).unwrap();
    let home = root.join("kit");
    jemput()
        .args(["--home"])
        .arg(&home)
        .args([
            "init",
            "--work-factor",
            "10",
            "--operator",
            "op-1",
            "--office-recipient",
        ])
        .arg(&keys.recipient)
        .args(["--hub-key", &keys.hub_public_key])
        .assert()
        .success();
    (home, keys)
}

/// Starts `jemput hub serve --plain-http` for `data` on `127.0.0.1:port` and waits (up to 20 s)
/// until it accepts connections.
pub fn spawn_hub_serve(data: &Path, port: u16) -> std::process::Child {
    spawn_hub_serve_to(data, port, std::process::Stdio::null())
}

/// [`spawn_hub_serve`] with the hub's stderr (its log) going to `stderr`.
pub fn spawn_hub_serve_to(
    data: &Path,
    port: u16,
    stderr: impl Into<std::process::Stdio>,
) -> std::process::Child {
    spawn_hub_serve_of(&assert_cmd::cargo::cargo_bin("jemput"), data, port, stderr)
}

/// [`spawn_hub_serve_to`] with another `jemput` binary (a release build, for figures).
pub fn spawn_hub_serve_of(
    bin: &Path,
    data: &Path,
    port: u16,
    stderr: impl Into<std::process::Stdio>,
) -> std::process::Child {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let child = Command::new(bin)
        .args(["hub", "serve", "--plain-http", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the hub did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The `Jemput-Auth` value for a built request, as a kit signs it: method, path, the tus headers
/// the request carries, time `t` and `nonce` (`docs/hub-protocol.md` §1).
pub fn auth_for(
    req: &reqwest::Request,
    kit_id: &str,
    key: &SigningKey,
    t: i64,
    nonce: &str,
) -> String {
    use jemput_core::wire::auth;
    let h = req.headers();
    let get = |name: &str| h.get(name).map(|v| v.to_str().unwrap());
    let request = auth::Request {
        method: req.method().as_str(),
        path: req.url().path(),
        headers: auth::Covered {
            offset: get("upload-offset"),
            length: get("upload-length"),
            metadata: get("upload-metadata"),
            checksum: get("upload-checksum"),
        },
    };
    auth::sign_with_nonce(kit_id, key, &request, t, nonce)
}

/// Builds `b` and signs it as kit `kit_id` now, with a fresh nonce.
pub fn signed(b: reqwest::RequestBuilder, kit_id: &str, key: &SigningKey) -> reqwest::Request {
    let mut req = b.build().unwrap();
    let t = jiff::Timestamp::now().as_second();
    let v = auth_for(&req, kit_id, key, t, &jemput_core::wire::auth::new_nonce());
    req.headers_mut()
        .insert(jemput_core::wire::auth::HEADER, v.parse().unwrap());
    req
}

/// A valid NIK for visits started in tests (Kolaka Utara, a woman born 5 December 1950).
pub const VISIT_NIK: &str = "7408014512500001";

/// [`new_visit`]'s new visit id.
pub fn new_visit_id(home: &Path, category: &str, extra: &[&str]) -> String {
    json(new_visit(home, category, extra))["visit_id"]
        .as_str()
        .expect("visit new --json names the visit")
        .to_string()
}

/// `jemput visit new --nik VISIT_NIK --category CATEGORY --consent resident --json EXTRA…`.
pub fn new_visit(home: &Path, category: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut args = vec![
        "visit",
        "new",
        "--nik",
        VISIT_NIK,
        "--category",
        category,
        "--consent",
        "resident",
        "--json",
    ];
    args.extend_from_slice(extra);
    run(home, &args)
}

/// How long the embedded hub's object store outage test (`tests/object_store.rs`) stops Garage
/// (the scale-out one keeps 30 s): longer than the hub retries a failed request to the store before it answers the
/// kit `503` (`RETRY_FOR`, 10 s, in `hub/src/objects.rs`), so that the completions meanwhile fail
/// instead of being retried into success once it is back.
pub const STORE_DOWN: std::time::Duration = std::time::Duration::from_secs(15);

/// Set to `postgres`, the kit-side suites (`tests/enroll.rs`, `tests/sync.rs`, `tests/upload/`,
/// `tests/kill.rs`, `tests/load.rs`, `tests/hub_faults.rs`, `tests/tuspy.rs`; the hubs they make
/// through [`init_hub`], [`init_hub_cli`] or [`hub_backend`])
/// run their hub on the scale-out backend: a private PostgreSQL server per test
/// (`jemput_testkit::postgres`) named in `hub.toml`. Unset or `embedded`: `hub.sqlite`.
pub const HUB_BACKEND_VAR: &str = "JEMPUT_TEST_HUB_BACKEND";

/// The hub backend a suite runs against ([`HUB_BACKEND_VAR`]); keeps its PostgreSQL server, if
/// any, running while it lives.
pub struct HubBackend {
    pub pg: Option<jemput_testkit::Postgres>,
}

/// Whether [`HUB_BACKEND_VAR`] asks for the scale-out backend.
pub fn postgres_backend_wanted() -> bool {
    match std::env::var(HUB_BACKEND_VAR).as_deref() {
        Ok("postgres") => true,
        Ok("embedded") | Ok("") | Err(_) => false,
        Ok(other) => panic!("{HUB_BACKEND_VAR}={other:?}: use embedded or postgres"),
    }
}

/// The backend [`HUB_BACKEND_VAR`] asks for, with its server started. Asked for explicitly, a
/// missing PostgreSQL is a failure (a run that asked for the scale-out backend must not pass on
/// the embedded one).
pub fn hub_backend() -> HubBackend {
    if !postgres_backend_wanted() {
        return HubBackend { pg: None };
    }
    let bin = jemput_testkit::postgres::find_bin().unwrap_or_else(|| {
        panic!(
            "{HUB_BACKEND_VAR}=postgres needs PostgreSQL ({})",
            jemput_testkit::postgres::INSTALL
        )
    });
    HubBackend {
        pg: Some(jemput_testkit::Postgres::start(bin).unwrap()),
    }
}

/// Runs `f` on a thread of its own: the hub's PostgreSQL client blocks, which tokio forbids on a
/// thread that drives the test's runtime (the hub itself calls it on blocking threads).
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// `jemput_hub::init` on the backend [`HUB_BACKEND_VAR`] asks for (off the runtime). Keep the
/// returned backend for the test's length: its PostgreSQL server, if any, stops when dropped.
pub fn init_hub(data: &Path) -> (jemput_hub::HubConfig, HubBackend) {
    let backend = hub_backend();
    let opts = jemput_hub::InitOptions {
        postgres: backend.postgres_config(),
        ..Default::default()
    };
    let config = off_runtime(|| jemput_hub::init_with(data, &opts)).unwrap();
    (config, backend)
}

/// `jemput hub init` on the backend [`HUB_BACKEND_VAR`] asks for (keep the returned backend).
pub fn init_hub_cli(data: &Path) -> HubBackend {
    let backend = hub_backend();
    let mut args = vec!["init".to_string()];
    args.extend(backend.init_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    hub_cmd(data, &args).success();
    backend
}

/// Registers `kit_id` with `key` at the hub in `data` (off the runtime).
pub fn register_kit(
    data: &Path,
    kit_id: &str,
    key: &jemput_core::keys::PublicKey,
    name: Option<&str>,
) -> jemput_hub::KitEntry {
    off_runtime(|| {
        jemput_hub::Registry::open(data)
            .unwrap()
            .add(kit_id, key, name)
            .unwrap()
    })
}

impl HubBackend {
    /// What `jemput_hub::InitOptions::postgres` takes for this backend.
    pub fn postgres_config(&self) -> Option<jemput_hub::PostgresConfig> {
        self.pg
            .as_ref()
            .map(|pg| jemput_hub::PostgresConfig::new(&pg.url()))
    }

    /// The arguments `jemput hub init` takes for this backend.
    pub fn init_args(&self) -> Vec<String> {
        match &self.pg {
            Some(pg) => vec!["--postgres".into(), pg.url()],
            None => Vec::new(),
        }
    }
}

/// A TCP port free on loopback now (the OS's choice; another process may take it before use).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lower-case hex SHA-256 of `b`.
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// `curl --aws-sigv4` against a Garage node: `method` on `path` (what follows the bucket in the
/// URL: `/KEY` or `?list-type=2…`), with `body` (none: empty) and extra `headers`: (HTTP status,
/// response body). curl 7.88 signs but does not send the payload hash Garage requires
/// (`x-amz-content-sha256`), so it is given here and curl signs it too.
pub fn s3_request(
    g: &jemput_testkit::garage::Garage,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    headers: &[&str],
) -> (u16, Vec<u8>) {
    let (status, _, answer) = s3_exchange(g, method, path, body, headers);
    (status, answer)
}

/// [`s3_request`] with the answer's header lines too (as curl writes them, one per line).
pub fn s3_exchange(
    g: &jemput_testkit::garage::Garage,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
    headers: &[&str],
) -> (u16, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let answer = dir.path().join("answer");
    let head = dir.path().join("head");
    let mut c = std::process::Command::new("curl");
    c.args(["-sS", "-X", method, "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&answer)
        .args(["-w", "%{http_code}", "--aws-sigv4"])
        .arg(format!("aws:amz:{}:s3", jemput_testkit::garage::REGION))
        .arg("--user")
        .arg(format!("{}:{}", g.key_id, g.secret_key))
        .arg("-H")
        .arg(format!(
            "x-amz-content-sha256: {}",
            sha256_hex(body.unwrap_or_default())
        ));
    for h in headers {
        c.args(["-H", h]);
    }
    if let Some(b) = body {
        let sent = dir.path().join("sent");
        std::fs::write(&sent, b).unwrap();
        c.arg("--data-binary").arg(format!("@{}", sent.display()));
    }
    let out = c
        .arg(format!("{}/{}{path}", g.endpoint, g.bucket))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    (
        status,
        std::fs::read_to_string(&head).unwrap_or_default(),
        std::fs::read(&answer).unwrap_or_default(),
    )
}

/// CPU seconds (user + system) process `pid` (or `"self"`) has used: fields 14 and 15 of
/// `/proc/<pid>/stat`, in clock ticks (100 a second on Linux, `getconf CLK_TCK`); 0 for a
/// process that is gone.
pub fn proc_cpu_secs(pid: &str) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, stime field 15.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// The processes whose parent is `pid` (field 4 of `/proc/<child>/stat`).
pub fn proc_children(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = s[s.rfind(')')? + 2..].to_string();
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// A `kB` line of `/proc/<pid>/status` (`VmHWM:`, `VmRSS:` …), in MiB.
pub fn proc_status_mib(pid: u32, field: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with(field)).unwrap();
    let kb: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

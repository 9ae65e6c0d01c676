//! A real S3-compatible object store for tests: one Garage node (the Deuxfleurs project's
//! distributed store, `scripts/install-test-peers` builds it into `/opt/jemput-test/garage`) on
//! loopback, with temporary metadata and data directories, one bucket and one key that may read,
//! write and own it. The node is killed when the [`Garage`] is dropped.
//!
//! What it runs, in Garage's own words (its "quick start" and configuration reference): a config
//! with `db_engine = "sqlite"`, `replication_factor = 1`, an `rpc_secret` and the S3 API on a free
//! loopback port; `garage server`; then `garage layout assign -z dc1 -c 1G <node id>`,
//! `garage layout apply --version 1`, `garage bucket create`, `garage key import` (a key id and
//! secret made here, so nothing is parsed out of the CLI's text) and
//! `garage bucket allow --read --write --owner`.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `scripts/install-test-peers` installs Garage.
pub const GARAGE_BIN: &str = "/opt/jemput-test/garage/bin/garage";
/// How to get it, for the skip line.
pub const INSTALL: &str = "bash scripts/install-test-peers builds it: cargo install garage --version 2.5.0 --locked --root /opt/jemput-test/garage";
/// The region the node's S3 API answers to.
pub const REGION: &str = "garage";

/// Whether Garage is installed; when it is not, [`crate::missing`] says so (the caller returns).
#[track_caller]
pub fn available() -> bool {
    crate::file("garage", Path::new(GARAGE_BIN), INSTALL)
}

/// One running Garage node with a bucket and a key.
#[derive(Debug)]
pub struct Garage {
    dir: PathBuf,
    config: PathBuf,
    child: Option<Child>,
    /// The S3 endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub bucket: String,
    pub key_id: String,
    pub secret_key: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("/dev/urandom reads");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl Garage {
    /// Starts a node under `dir` (which must exist and stay while it runs) with bucket `bucket`,
    /// ready for S3 requests. Panics with Garage's output when a step fails.
    pub fn start(dir: &Path, bucket: &str) -> Garage {
        let s3_port = free_port();
        let rpc_port = free_port();
        let config = dir.join("garage.toml");
        let text = format!(
            "metadata_dir = \"{meta}\"\n\
             data_dir = \"{data}\"\n\
             db_engine = \"sqlite\"\n\
             replication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc_port}\"\n\
             rpc_public_addr = \"127.0.0.1:{rpc_port}\"\n\
             rpc_secret = \"{secret}\"\n\
             \n\
             [s3_api]\n\
             s3_region = \"{REGION}\"\n\
             api_bind_addr = \"127.0.0.1:{s3_port}\"\n",
            meta = dir.join("meta").display(),
            data = dir.join("data").display(),
            secret = random_hex(32),
        );
        std::fs::write(&config, text).expect("write garage.toml");
        let mut g = Garage {
            dir: dir.to_path_buf(),
            config,
            child: None,
            endpoint: format!("http://127.0.0.1:{s3_port}"),
            bucket: bucket.to_string(),
            key_id: format!("GK{}", random_hex(12)),
            secret_key: random_hex(32),
        };
        g.run_server();
        let node = g.cli(&["node", "id", "-q"]);
        let node = node.trim().split('@').next().unwrap_or("").to_string();
        assert!(!node.is_empty(), "garage node id printed nothing");
        g.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        g.cli(&["layout", "apply", "--version", "1"]);
        g.cli(&["bucket", "create", bucket]);
        let (key_id, secret) = (g.key_id.clone(), g.secret_key.clone());
        g.cli(&[
            "key",
            "import",
            "--yes",
            "-n",
            "jemput-test",
            &key_id,
            &secret,
        ]);
        g.cli(&[
            "bucket", "allow", "--read", "--write", "--owner", bucket, "--key", &key_id,
        ]);
        g.wait_for_s3();
        g
    }

    /// The node's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Stops the node (SIGKILL): the store becomes unreachable, its directories stay.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the node again on the same directories and port, and waits until it answers S3.
    pub fn restart(&mut self) {
        self.stop();
        self.run_server();
        self.wait_for_s3();
    }

    /// The node's log (stdout and stderr of `garage server`, appended across restarts).
    pub fn log(&self) -> PathBuf {
        self.dir.join("garage.log")
    }

    fn run_server(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .expect("open garage.log");
        let child = Command::new(GARAGE_BIN)
            .arg("-c")
            .arg(&self.config)
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start garage server");
        self.child = Some(child);
        // The CLI reaches the node over RPC once it listens.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = Command::new(GARAGE_BIN)
                .arg("-c")
                .arg(&self.config)
                .arg("status")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "garage did not answer within 30 s; its log: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_running(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!(
                    "garage server exited ({status}); its log: {}",
                    self.log_text()
                );
            }
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// Waits until the S3 API accepts connections and the bucket answers.
    fn wait_for_s3(&mut self) {
        let addr = self.endpoint.trim_start_matches("http://").to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&addr).is_err() {
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "garage's S3 API did not listen within 30 s; its log: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The bucket exists once `bucket info` finds it (the layout is applied by then).
        let bucket = self.bucket.clone();
        self.cli(&["bucket", "info", &bucket]);
    }

    /// Runs `garage -c CONFIG ARGS…`; its stdout. Panics with its output when it fails.
    pub fn cli(&mut self, args: &[&str]) -> String {
        let out = Command::new(GARAGE_BIN)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run the garage CLI");
        assert!(
            out.status.success(),
            "garage {} failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The hub's object store URL for this node's bucket.
    pub fn url(&self) -> String {
        format!(
            "s3://{}?endpoint={}&region={REGION}",
            self.bucket, self.endpoint
        )
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.stop();
    }
}

//! The independent tus server: `@tus/server` with `@tus/file-store` on Node.js, one per test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use crate::common::free_port;

/// The `node_modules` with `@tus/server` and `@tus/file-store`, or None with the test skipped
/// visibly (failed under `JEMPUT_REQUIRE_PEERS=1`) when it or Node.js >= 20.19 is missing.
#[track_caller]
fn node_modules() -> Option<PathBuf> {
    const INSTALL_NODE: &str = "Node.js 20.19 or later from nodejs.org or NodeSource";
    let dir = std::env::var_os("JEMPUT_TUS_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/jemput-test/node_modules"));
    if !jemput_testkit::program("node", INSTALL_NODE) {
        return None;
    }
    let out = Command::new("node")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("node does not start: {e}"));
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let numbers: Vec<u32> = version
        .trim_start_matches('v')
        .split('.')
        .map_while(|n| n.parse().ok())
        .collect();
    if numbers.len() < 2 || (numbers[0], numbers[1]) < (20, 19) {
        jemput_testkit::missing(
            &format!("Node.js 20.19 or later (this is {version})"),
            INSTALL_NODE,
        );
        return None;
    }
    let install = format!(
        "npm install --prefix {} @tus/server@2.4.5 @tus/file-store@2.1.1, or \
         scripts/install-test-peers, or set JEMPUT_TUS_NODE_MODULES to a node_modules that has them",
        dir.parent().unwrap_or(Path::new(".")).display(),
    );
    for pkg in ["@tus/server", "@tus/file-store"] {
        if !jemput_testkit::file(pkg, &dir.join(pkg).join("package.json"), &install) {
            return None;
        }
    }
    Some(dir)
}

/// A running `@tus/server` with its file store; killed on drop.
pub struct TusPeer {
    pub child: Child,
    pub port: u16,
    pub files: PathBuf,
    pub _dir: tempfile::TempDir,
}

impl TusPeer {
    /// Starts the server, or returns None with the test skipped visibly when Node.js or the tus
    /// packages are missing (the caller returns).
    #[track_caller]
    pub fn start() -> Option<TusPeer> {
        let modules = node_modules()?;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("tus-server.mjs");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/tus-server.mjs"),
            &script,
        )
        .unwrap();
        std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
        let files = dir.path().join("files");
        std::fs::create_dir(&files).unwrap();
        let port = free_port();
        let mut child = Command::new("node")
            .arg(&script)
            .arg(port.to_string())
            .arg(&files)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            format!("LISTENING {port}"),
            "@tus/server did not start"
        );
        Some(TusPeer {
            child,
            port,
            files,
            _dir: dir,
        })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/files", self.port)
    }

    /// The bytes the server stored for the upload at `url`.
    pub fn stored(&self, url: &str) -> Vec<u8> {
        let id = url.rsplit('/').next().unwrap();
        std::fs::read(self.files.join(id)).unwrap()
    }
}

impl Drop for TusPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Running jemput as a technician would: `jemput sim` in the background, and checked command
//! outputs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A running `jemput sim`, killed when dropped.
pub struct Sim {
    child: Child,
    /// The JSON line each model printed.
    pub lines: Vec<Value>,
}

impl Sim {
    /// Runs `jemput sim <args>` and reads the first line of each of its `models`.
    pub fn start(models: usize, args: &[&str]) -> Sim {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
            .arg("sim")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        for _ in 0..models {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            lines.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}")));
        }
        // Keep the pipe open: a closed stdout must not end the models.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Sim { child, lines }
    }

    /// The pty of model `i` (serial models).
    pub fn path(&self, i: usize) -> PathBuf {
        PathBuf::from(self.lines[i]["path"].as_str().unwrap())
    }

    /// The USB/IP server of model `i` (USB models).
    pub fn address(&self, i: usize) -> std::net::SocketAddr {
        self.lines[i]["address"].as_str().unwrap().parse().unwrap()
    }

    /// Sends SIGTERM and returns whether it exited successfully (it must exit within 5 s).
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let begun = std::time::Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                begun.elapsed() < std::time::Duration::from_secs(5),
                "sim ignored SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        std::mem::forget(self);
        status.success()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts the command succeeded, showing its stderr when it did not.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The command's stdout as JSON (a panic naming the text when it is not).
pub fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Whether `umockdev-run` is here (Debian package `umockdev`); without it the calling test is
/// skipped visibly (fails under `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
pub fn umockdev_peer() -> bool {
    jemput_testkit::program(
        "umockdev-run",
        "apt-get install umockdev, or scripts/install-test-peers",
    )
}

/// `jemput devices --json` under `umockdev-run` with a device description recorded in
/// `tests/vm/fixtures` (e.g. `uru4000-finger.umockdev`): the list then holds that recorded
/// device, on any machine. None, the test skipped visibly, where umockdev-run is missing
/// ([`umockdev_peer`]).
#[track_caller]
pub fn devices_under_umockdev(description: &str) -> Option<Value> {
    if !umockdev_peer() {
        return None;
    }
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vm/fixtures")
        .join(description);
    let out = Command::new("umockdev-run")
        .arg("-d")
        .arg(&fixture)
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("jemput"))
        .args(["devices", "--json"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("umockdev-run does not start: {e}"));
    assert_success(&out);
    let list = stdout_json(&out);
    assert!(
        list.as_array().is_some_and(|l| !l.is_empty()),
        "under umockdev-run with {description}, `devices --json` listed nothing"
    );
    Some(list)
}

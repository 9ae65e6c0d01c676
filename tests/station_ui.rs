//! `jemput ui` end to end: the binary on a throw-away training kit (`--sim` with no kit: a local
//! hub, a synced worklist), driven by Debian's Chromium through playwright-core (the scenarios
//! in `tests/ui/*.mjs`), plus the refusals at the command line.
//!
//! Needs `node`, `chromium` (`apt-get install chromium`) and playwright-core in
//! /opt/jemput-test (`PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix /opt/jemput-test
//! playwright-core@1.65.1`; or JEMPUT_PLAYWRIGHT_NODE_MODULES). Without them these tests fail,
//! saying what to install: they never skip. Screenshots (1366x768) are left in
//! `<target dir>/ui-screenshots/` for a person to look at.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TRAINING_PASSPHRASE: &str = "latihan";

fn node_modules() -> PathBuf {
    let dir = std::env::var_os("JEMPUT_PLAYWRIGHT_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/jemput-test/node_modules"));
    let node = Command::new("node").arg("--version").output();
    assert!(
        matches!(&node, Ok(o) if o.status.success()),
        "the station UI tests need Node.js on PATH (apt-get install nodejs npm)"
    );
    assert!(
        dir.join("playwright-core/package.json").is_file(),
        "the station UI tests need playwright-core in {}: run `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix {} playwright-core@1.65.1`, or set JEMPUT_PLAYWRIGHT_NODE_MODULES",
        dir.display(),
        dir.parent().unwrap_or(Path::new(".")).display()
    );
    let chromium =
        std::env::var("JEMPUT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    assert!(
        Path::new(&chromium).is_file(),
        "the station UI tests drive Debian's Chromium at {chromium}: apt-get install chromium (or set JEMPUT_CHROMIUM)"
    );
    dir
}

/// `<target dir>/ui-screenshots`: the test binary is `<target dir>/<profile>/deps/station_ui-…`.
fn screenshots() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `jemput ui`; stopped with SIGTERM (so the training kit is removed) on drop.
struct Ui {
    child: Child,
    url: String,
    _home: tempfile::TempDir,
}

impl Ui {
    /// `jemput ui --sim --no-browser --json` on a home with no kit, on a free port.
    fn start() -> Ui {
        let home = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_jemput"))
            .args(["--home"])
            .arg(home.path().join("none-yet"))
            .args([
                "ui",
                "--sim",
                "--no-browser",
                "--json",
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("jemput starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let out: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("`jemput ui --json` printed {line:?}: {e}"));
        let url = out["url"].as_str().expect("a url").to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(url.contains("/?token="), "{url}");
        Ui {
            child,
            url,
            _home: home,
        }
    }

    /// Runs the scenario `tests/ui/<name>` with `args`; returns its JSON line.
    fn scenario(&self, name: &str, args: &[&str]) -> serde_json::Value {
        let modules = node_modules();
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
        for f in ["lib.mjs", name] {
            std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
        }
        std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
        let out = Command::new("node")
            .arg(dir.path().join(name))
            .args(args)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .output()
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scenario {name} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let last = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{name} printed {stdout:?}: {e}"))
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Width and height of a PNG file (its IHDR chunk).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn an_operator_unlocks_and_sees_home_by_mouse_and_by_keyboard_in_chromium() {
    let ui = Ui::start();
    let shots = screenshots();
    let dir = shots.to_str().unwrap();
    let mouse = ui.scenario("unlock_mouse.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    // Pages stay light and local: the home page with its assets under 200 KB, nothing fetched
    // from elsewhere.
    let home_bytes = mouse["home_bytes"].as_u64().unwrap();
    assert!(home_bytes > 10_000 && home_bytes < 200_000, "{mouse}");
    assert_eq!(mouse["external"], 0, "{mouse}");
    ui.scenario("unlock_keyboard.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    ui.scenario("refusals.mjs", &[&ui.url, dir]);
    // Starting visits: from the worklist with a family member's consent; a resident not on the
    // list with a NIK warning confirmed, who refuses.
    let visits = ui.scenario("visit_start.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    assert!(visits["warnings"].as_u64().unwrap() >= 1, "{visits}");
    // The capture steps on the device models: face, ten fingers (one retry, one exception),
    // signature; part of it by keyboard.
    let captured = ui.scenario("visit_capture.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    assert!(captured["checks"].as_u64().unwrap() >= 5, "{captured}");
    assert!(captured["strokes"].as_u64().unwrap() >= 1, "{captured}");
    for name in [
        "01-buka-kunci",
        "02-kata-sandi-salah",
        "03-beranda",
        "04-home-en",
        "05-keyboard-buka-kunci",
        "06-keyboard-beranda",
        "07-tanpa-token-403",
        "08-kunjungan-baru",
        "09-persetujuan",
        "10-peringatan-nik",
        "11-menolak",
        "12-beranda-kunjungan",
        "13-foto-wajah",
        "14-jari-01",
        "15-jari-02-diulang",
        "16-pengecualian-jari-07",
        "17-tanda-tangan",
        "18-sepuluh-jari",
        "19-perangkat",
    ] {
        assert_eq!(
            png_size(&shots.join(format!("{name}.png"))),
            (1366, 768),
            "{name}"
        );
    }
}

#[test]
fn a_non_loopback_listen_address_is_refused_before_anything_starts() {
    let home = tempfile::tempdir().unwrap();
    for addr in ["0.0.0.0:8765", "192.0.2.1:8765", "[::]:8765"] {
        let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
            .arg("--home")
            .arg(home.path())
            .args(["ui", "--sim", "--no-browser", "--listen", addr])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{addr}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a loopback address"), "{addr}: {err}");
        assert!(out.stdout.is_empty(), "no URL printed for {addr}");
    }
    // No training kit was made for a refused address.
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[test]
fn without_a_kit_and_without_sim_the_error_says_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
        .arg("--home")
        .arg(home.path())
        .args(["ui", "--no-browser"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jemput init"), "{err}");
    assert!(err.contains("jemput ui --sim"), "{err}");
}

#[test]
fn realtime_needs_the_models_and_device_selectors_are_for_real_devices() {
    let home = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["ui", "--realtime", "--no-browser"][..], "--sim"),
        (
            &["ui", "--sim", "--scanner", "sim:ef01", "--no-browser"][..],
            "cannot be used with",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
            .arg("--home")
            .arg(home.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

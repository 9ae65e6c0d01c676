//! What the browser tests share (`tests/station_ui.rs`, `tests/console_ui.rs`): whether Node.js,
//! playwright-core and Debian's Chromium are here, where screenshots go, and running one
//! scenario of `tests/ui/*.mjs`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `node_modules` that holds playwright-core.
pub fn node_modules() -> PathBuf {
    std::env::var_os("JEMPUT_PLAYWRIGHT_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/jemput-test/node_modules"))
}

/// Whether Node.js, playwright-core and Chromium are here; without one the browser test is
/// skipped visibly (fails under `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
pub fn browser_peers() -> bool {
    let dir = node_modules();
    let chromium =
        std::env::var("JEMPUT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    jemput_testkit::program(
        "node",
        "apt-get install nodejs npm, or scripts/install-test-peers",
    ) && jemput_testkit::file(
        "playwright-core",
        &dir.join("playwright-core/package.json"),
        &format!(
            "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix {} playwright-core@1.65.1, \
             or scripts/install-test-peers, or set JEMPUT_PLAYWRIGHT_NODE_MODULES",
            dir.parent().unwrap_or(Path::new(".")).display()
        ),
    ) && jemput_testkit::file(
        "chromium",
        Path::new(&chromium),
        "apt-get install chromium, or set JEMPUT_CHROMIUM",
    )
}

/// `<target dir>/ui-screenshots`: the test binary is `<target dir>/<profile>/deps/station_ui-…`.
pub fn screenshots() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the scenario `tests/ui/<name>` with `args`; returns its JSON line.
pub fn scenario(name: &str, args: &[&str]) -> serde_json::Value {
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

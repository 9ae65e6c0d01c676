//! Test-only helpers shared by every test suite of the workspace (a dev-dependency, never part of
//! the binary).
//!
//! # Outside peers
//!
//! Many tests check jemput against something it does not ship: the stock `age` CLI, OpenSSL,
//! Python packages (pyfingerprint, pynmea2, wsq, tuspy, nistitl, jsonschema), the Node.js tus
//! server and playwright-core, Chromium, QEMU and a Debian kernel, umockdev, `udevadm verify`,
//! FUSE, root for a private mount namespace, PostgreSQL (a private server per test:
//! [`postgres()`]), a Garage object store ([`garage`] starts one), HAProxy ([`haproxy`] runs one
//! in front of several hub processes).
//! `scripts/install-test-peers` installs all of them.
//!
//! A test asks for its peers first, through [`program`], [`python_modules`], [`file`], [`fuse`]
//! or, for a check of its own, [`missing`]. When a peer is there the call returns `true` and the
//! test goes on. When it is not:
//!
//! - by default the test is **skipped visibly**: one line
//!   `SKIPPED <test name>: needs <peer> (<how to install it>)` is written to the process's real
//!   standard error, and the call returns `false` so the test returns at once;
//! - with `JEMPUT_REQUIRE_PEERS=1` (CI sets it) the call panics with that same line instead, so a
//!   machine that lacks a peer fails rather than passing a test that checked nothing.
//!
//! The line goes through [`std::io::stderr`] itself, not `eprintln!`: the test harness captures
//! what the `print!` family writes from a passing test and never shows it, but a write to the
//! stderr handle goes straight to file descriptor 2, so a plain `cargo test` shows every skip
//! among its `test … ok` lines. (`tests/capture.rs` checks that on a child test run.)
//!
//! `JEMPUT_TEST_HIDE_PEERS=age,wsq,…` makes the helpers treat the named peers as missing (a
//! program's name, a Python module, a [`file`]'s name, `fuse`), to see a skip or a failure on a
//! machine that has everything.

pub mod garage;
pub mod haproxy;
pub mod postgres;

pub use postgres::{postgres, Postgres};

use std::io::Write;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set to `1`, every skip for a missing peer is a failure.
pub const REQUIRE_VAR: &str = "JEMPUT_REQUIRE_PEERS";

/// Peers (comma-separated names) to treat as missing.
pub const HIDE_VAR: &str = "JEMPUT_TEST_HIDE_PEERS";

/// Whether this run turns a missing peer into a failure (`JEMPUT_REQUIRE_PEERS=1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// Whether `JEMPUT_TEST_HIDE_PEERS` names `peer`.
pub fn hidden(peer: &str) -> bool {
    std::env::var(HIDE_VAR)
        .is_ok_and(|list| list.split(',').any(|p| !p.is_empty() && p.trim() == peer))
}

/// Reports that the calling test lacks `needs` (installed by `install`): skips visibly, or panics
/// under `JEMPUT_REQUIRE_PEERS=1`. The caller returns from the test after it.
#[track_caller]
pub fn missing(needs: &str, install: &str) {
    let test = test_name(Location::caller());
    report(required(), &test, needs, install, &mut std::io::stderr());
}

/// The line a skip writes (without its newline).
pub fn skip_line(test: &str, needs: &str, install: &str) -> String {
    format!("SKIPPED {test}: needs {needs} ({install})")
}

/// The decision behind [`missing`], with the mode and the output given: panics when `require`,
/// otherwise writes the skip line to `out` in one write, on a line of its own.
#[track_caller]
pub fn report(require: bool, test: &str, needs: &str, install: &str, out: &mut dyn Write) {
    let line = skip_line(test, needs, install);
    if require {
        panic!("{line} — {REQUIRE_VAR}=1 makes a missing peer a failure");
    }
    // On a line of its own even when the harness has written `test <name> ... ` and not yet the
    // result (it does so from another thread, on stdout, which often shares the terminal).
    let _ = out.write_all(format!("\n{line}\n").as_bytes());
    let _ = out.flush();
}

/// The running test's name: libtest runs each test on a thread named after it. Elsewhere (a
/// thread of the test's own, a custom harness) the caller's file and line stand in.
fn test_name(caller: &Location<'_>) -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => format!("{}:{}", caller.file(), caller.line()),
    }
}

/// The executable `name` on `PATH`, if there is one (and `JEMPUT_TEST_HIDE_PEERS` does not hide
/// it).
pub fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if hidden(name) {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether the program `name` is on `PATH`; when it is not, [`missing`] says so.
#[track_caller]
pub fn program(name: &str, install: &str) -> bool {
    if find_program(name).is_some() {
        return true;
    }
    missing(name, install);
    false
}

/// Whether `python3` imports every one of `modules`; when it does not, [`missing`] names the
/// modules it lacks (or python3 itself).
#[track_caller]
pub fn python_modules(modules: &[&str], install: &str) -> bool {
    match python_lacks(modules) {
        Ok(lacks) if lacks.is_empty() => true,
        Ok(lacks) => {
            let s = if lacks.len() == 1 { "" } else { "s" };
            missing(
                &format!("the Python module{s} {}", lacks.join(", ")),
                install,
            );
            false
        }
        Err(why) => {
            missing(&why, install);
            false
        }
    }
}

/// The modules of `modules` that `python3` cannot import, or why python3 itself cannot run.
fn python_lacks(modules: &[&str]) -> Result<Vec<String>, String> {
    const PROBE: &str = "import importlib, sys\n\
        for m in sys.argv[1:]:\n\
        \x20   try:\n\
        \x20       importlib.import_module(m)\n\
        \x20   except Exception:\n\
        \x20       print(m)\n";
    let python = find_program("python3").ok_or_else(|| "python3".to_string())?;
    let out = Command::new(python)
        .args(["-c", PROBE])
        .args(modules)
        .output()
        .map_err(|e| format!("a python3 that runs ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "a python3 that runs ({}: {})",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let mut lacks: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    lacks.extend(modules.iter().filter(|m| hidden(m)).map(|m| m.to_string()));
    lacks.sort();
    lacks.dedup();
    Ok(lacks)
}

/// Whether `path` exists (a browser, a package's files, a kernel package); `name` names the peer
/// in the skip line and for `JEMPUT_TEST_HIDE_PEERS`.
#[track_caller]
pub fn file(name: &str, path: &Path, install: &str) -> bool {
    if path.exists() && !hidden(name) {
        return true;
    }
    missing(&format!("{name} at {}", path.display()), install);
    false
}

/// Whether this process can mount a FUSE filesystem: `/dev/fuse` opens for reading and writing,
/// and the process may call mount(2) itself (CAP_SYS_ADMIN, as root) or has `fusermount3` or
/// `fusermount` to do it.
#[track_caller]
pub fn fuse() -> bool {
    const INSTALL: &str =
        "a machine or container with /dev/fuse; as root, or apt-get install fuse3 for fusermount3";
    if hidden("fuse") {
        missing("FUSE", INSTALL);
        return false;
    }
    let device = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse");
    if let Err(e) = device {
        missing(&format!("FUSE (/dev/fuse: {e})"), INSTALL);
        return false;
    }
    if may_mount() || find_program("fusermount3").is_some() || find_program("fusermount").is_some()
    {
        return true;
    }
    missing("FUSE (neither CAP_SYS_ADMIN nor fusermount3)", INSTALL);
    false
}

/// Whether the process holds CAP_SYS_ADMIN (bit 21 of `CapEff` in `/proc/self/status`).
pub fn may_mount() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << CAP_SYS_ADMIN) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_writes_one_line_naming_the_test_the_peer_and_how_to_install_it() {
        let mut out = Vec::new();
        report(
            false,
            "interop::stock_age",
            "age",
            "apt-get install age",
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\nSKIPPED interop::stock_age: needs age (apt-get install age)\n"
        );
    }

    #[test]
    #[should_panic(
        expected = "SKIPPED interop::stock_age: needs age (apt-get install age) — JEMPUT_REQUIRE_PEERS=1 makes a missing peer a failure"
    )]
    fn when_peers_are_required_the_same_line_is_a_panic() {
        let mut out = Vec::new();
        report(
            true,
            "interop::stock_age",
            "age",
            "apt-get install age",
            &mut out,
        );
    }

    #[test]
    fn programs_are_found_on_path_and_absent_ones_are_not() {
        let sh = find_program("sh").expect("every Unix has sh on PATH");
        assert!(sh.is_absolute() && sh.ends_with("sh"), "{sh:?}");
        assert_eq!(find_program("jemput-testkit-no-such-program"), None);
    }

    #[test]
    fn the_test_name_is_the_harness_thread_name() {
        let here = Location::caller();
        assert_eq!(
            test_name(here),
            "tests::the_test_name_is_the_harness_thread_name"
        );
        let elsewhere = std::thread::spawn(move || test_name(here)).join().unwrap();
        assert_eq!(elsewhere, format!("{}:{}", here.file(), here.line()));
    }
}

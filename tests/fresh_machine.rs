//! What a fresh machine needs to build and run jemput (README, "Quick start"): the Rust toolchain
//! at the workspace's `rust-version` and a C compiler, no `-dev` package, no pkg-config.
//!
//! These are the cheap halves of the check, run with every `cargo test`: the binary the tests
//! built links no libudev and no libusb (so it runs where neither is installed), and the declared
//! `rust-version` is the newest any locked dependency needs. The expensive half — a whole release
//! build with pkg-config finding nothing — is `scripts/check-fresh-build`.

use std::process::Command;

/// The shared libraries `ldd` lists for the `jemput` binary.
fn linked_libraries() -> String {
    let bin = env!("CARGO_BIN_EXE_jemput");
    let out = Command::new("ldd")
        .arg(bin)
        .output()
        .expect("ldd runs (Debian's libc-bin, an essential package)");
    assert!(out.status.success(), "ldd {bin}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_binary_links_neither_libudev_nor_libusb() {
    let libs = linked_libraries();
    assert!(
        libs.contains("libc.so"),
        "ldd lists the binary's libraries:\n{libs}"
    );
    for lib in ["libudev", "libusb"] {
        assert!(
            !libs.contains(lib),
            "jemput links {lib}, so it needs it installed to run (rusb's libusb must be the vendored \
             one, serialport without its libudev feature, LIBUDEV_NO_PKG_CONFIG set by \
             .cargo/config.toml):\n{libs}"
        );
    }
}

/// A `rust-version` as (major, minor, patch), the missing parts 0.
fn version(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| {
        p.parse::<u64>()
            .unwrap_or_else(|_| panic!("a rust-version of numbers: {v}"))
    });
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

/// The host's target triple, from `rustc -vV`.
fn host() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().expect("rustc -vV");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or_else(|| panic!("no host line in rustc -vV:\n{text}"))
        .to_string()
}

#[test]
fn the_declared_rust_version_is_the_newest_a_locked_dependency_needs() {
    // Every package Cargo.lock resolves for this platform (normal, build and dev dependencies: a
    // `cargo test` compiles all of them), as cargo itself reads their manifests; --offline and
    // --locked: the sources are already here (the test was built from them) and the lock is
    // taken as it is.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host()])
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let resolved: Vec<&str> = meta["resolve"]["nodes"]
        .as_array()
        .expect("a resolve graph")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    let packages = meta["packages"].as_array().expect("packages");
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();

    let declared = packages
        .iter()
        .find(|p| p["name"] == "jemput")
        .and_then(|p| p["rust_version"].as_str())
        .expect("jemput declares a rust-version");
    let (needed, by) = packages
        .iter()
        .filter(|p| {
            let id = p["id"].as_str().unwrap_or_default();
            resolved.contains(&id) && !members.contains(&id)
        })
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            let name = p["name"].as_str().unwrap_or_default();
            let at = p["version"].as_str().unwrap_or_default();
            Some((version(v), format!("{name} {at} (rust-version {v})")))
        })
        .max()
        .expect("some dependency declares a rust-version");
    assert!(
        resolved.len() > 100,
        "the whole lock was read ({} packages)",
        resolved.len()
    );
    let (major, minor, _) = needed;
    assert_eq!(
        version(declared),
        needed,
        "Cargo.toml's rust-version is {declared}, but {by} needs {major}.{minor}: set \
         [workspace.package] rust-version to what the lock needs, or pin that dependency lower"
    );
}

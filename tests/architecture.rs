//! The crates' dependency rules (ARCHITECTURE.md): data flows device → driver → visit → packet →
//! store → upload → hub, and dependencies point one way, `jemput` (CLI) → {`jemput-kit` →
//! `jemput-drivers`, `jemput-hub`} → `jemput-core` → `jemput-wsq`, with `jemput-station` (the
//! operator station's web UI) over `jemput-kit` and never the hub. Checked on the manifests
//! (direct dependencies of every kind, tests included) and on what cargo resolves (the hub
//! compiles no USB or serial crate, however deep).

use std::path::Path;
use std::process::Command;

/// Every dependency a crate's manifest names, of any kind (normal, dev, build).
fn declared(manifest: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(manifest);
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .filter_map(|k| doc.get(*k).and_then(|v| v.as_table()))
        .flat_map(|t| t.keys().cloned())
        .collect()
}

fn assert_none_of(manifest: &str, forbidden: &[&str]) {
    let deps = declared(manifest);
    let bad: Vec<_> = deps
        .iter()
        .filter(|d| forbidden.contains(&d.as_str()))
        .collect();
    assert!(
        bad.is_empty(),
        "{manifest} depends on {bad:?}, which it must not (ARCHITECTURE.md)"
    );
}

#[test]
fn the_shared_formats_need_no_device_runtime_http_or_sqlite_crate() {
    assert_none_of(
        "core/Cargo.toml",
        &[
            "jemput",
            "jemput-kit",
            "jemput-hub",
            "jemput-drivers",
            "tokio",
            "axum",
            "hyper",
            "reqwest",
            "rusqlite",
            "serialport",
            "rusb",
        ],
    );
}

#[test]
fn the_kit_never_depends_on_the_hub_or_a_web_server() {
    assert_none_of(
        "kit/Cargo.toml",
        &[
            "jemput",
            "jemput-hub",
            "jemput-station",
            "jemput-sbi-service",
            "axum",
            "minijinja",
        ],
    );
}

#[test]
fn the_station_is_over_the_kit_and_never_the_hub() {
    assert_none_of("station/Cargo.toml", &["jemput", "jemput-hub"]);
    let declared = declared("station/Cargo.toml");
    assert!(declared.iter().any(|d| d == "jemput-kit"), "{declared:?}");
}

#[test]
fn building_the_station_compiles_no_hub_and_the_kit_no_web_server() {
    let station = resolved("jemput-station");
    assert!(station.iter().any(|p| p == "jemput-kit"), "{station:?}");
    assert!(
        !station.iter().any(|p| p == "jemput-hub"),
        "jemput-station pulls in the hub: {station:?}"
    );
    let kit = resolved("jemput-kit");
    for p in [
        "axum",
        "minijinja",
        "jemput-station",
        "jemput-hub",
        "jemput-sbi-service",
    ] {
        assert!(
            !kit.iter().any(|k| k == p),
            "jemput-kit pulls in {p}: {kit:?}"
        );
    }
}

#[test]
fn the_console_is_over_the_hub_and_the_web_parts_over_no_jemput_crate() {
    assert_none_of(
        "console/Cargo.toml",
        &["jemput", "jemput-kit", "jemput-station", "jemput-drivers"],
    );
    let declared = declared("console/Cargo.toml");
    assert!(declared.iter().any(|d| d == "jemput-hub"), "{declared:?}");
    assert_none_of(
        "web/Cargo.toml",
        &[
            "jemput",
            "jemput-core",
            "jemput-kit",
            "jemput-hub",
            "jemput-station",
            "jemput-console",
            "jemput-drivers",
        ],
    );
    assert_none_of("hub/Cargo.toml", &["jemput-console", "jemput-web"]);
}

#[test]
fn the_hub_never_depends_on_the_kit_or_a_device_crate() {
    assert_none_of(
        "hub/Cargo.toml",
        &[
            "jemput",
            "jemput-kit",
            "jemput-drivers",
            "serialport",
            "rusb",
        ],
    );
}

#[test]
fn the_drivers_and_the_codec_depend_on_no_other_jemput_crate() {
    let jemput = ["jemput", "jemput-core", "jemput-kit", "jemput-hub"];
    assert_none_of("drivers/Cargo.toml", &jemput);
    for codec in ["wsq/Cargo.toml", "j2k/Cargo.toml"] {
        assert_none_of(
            codec,
            &[&jemput[..], &["jemput-drivers", "jemput-wsq", "jemput-j2k"]].concat(),
        );
    }
}

#[test]
fn the_sbi_client_is_over_core_alone_and_holds_no_web_server() {
    // jemput-sbi (sbi/): the SBI client the kit uses. Over core only: no web server, no device
    // driver, nothing above it.
    assert_none_of(
        "sbi/Cargo.toml",
        &[
            "jemput",
            "jemput-kit",
            "jemput-hub",
            "jemput-station",
            "jemput-drivers",
            "jemput-sbi-service",
            "axum",
            "hyper",
            "minijinja",
        ],
    );
    for manifest in ["core/Cargo.toml", "hub/Cargo.toml", "drivers/Cargo.toml"] {
        assert_none_of(manifest, &["jemput-sbi", "jemput-sbi-service"]);
    }
}

#[test]
fn the_sbi_device_service_is_over_the_client_and_only_the_binary_uses_it() {
    // jemput-sbi-service (sbi-service/: `jemput sbi serve`, axum) sits beside the kit: never
    // the kit, hub or station, and none of them (nor the client) depends on it.
    assert_none_of(
        "sbi-service/Cargo.toml",
        &["jemput", "jemput-kit", "jemput-hub", "jemput-station"],
    );
    for manifest in [
        "core/Cargo.toml",
        "kit/Cargo.toml",
        "hub/Cargo.toml",
        "station/Cargo.toml",
        "drivers/Cargo.toml",
        "sbi/Cargo.toml",
    ] {
        assert_none_of(manifest, &["jemput-sbi-service"]);
    }
}

#[test]
fn building_the_sbi_client_compiles_no_web_server() {
    let sbi = resolved("jemput-sbi");
    assert!(sbi.iter().any(|p| p == "jemput-core"), "{sbi:?}");
    for p in [
        "axum",
        "jemput-drivers",
        "jemput-sbi-service",
        "rusb",
        "serialport",
    ] {
        assert!(
            !sbi.iter().any(|s| s == p),
            "jemput-sbi pulls in {p}: {sbi:?}"
        );
    }
}

/// The packages `cargo build -p <package>` compiles, as cargo resolves them for this machine.
fn resolved(package: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--locked", "-e", "normal,build"])
        .args(["--prefix", "none", "--format", "{p}", "-p", package])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn building_the_hub_compiles_no_usb_or_serial_crate() {
    let hub = resolved("jemput-hub");
    assert!(hub.iter().any(|p| p == "jemput-core"), "{hub:?}");
    for p in [
        "jemput-kit",
        "jemput-drivers",
        "rusb",
        "libusb1-sys",
        "serialport",
        "libudev",
        "libudev-sys",
    ] {
        assert!(
            !hub.iter().any(|h| h == p),
            "jemput-hub pulls in {p}: {hub:?}"
        );
    }
}

#[test]
fn building_the_shared_formats_compiles_no_runtime_http_sqlite_or_device_crate() {
    let core = resolved("jemput-core");
    for p in [
        "tokio",
        "axum",
        "hyper",
        "reqwest",
        "rusqlite",
        "rusb",
        "serialport",
        "jemput-drivers",
    ] {
        assert!(
            !core.iter().any(|c| c == p),
            "jemput-core pulls in {p}: {core:?}"
        );
    }
}

/// Every dependency of the given kinds a crate's manifest names.
fn declared_as(manifest: &str, kinds: &[&str]) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(manifest);
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    kinds
        .iter()
        .filter_map(|k| doc.get(*k).and_then(|v| v.as_table()))
        .flat_map(|t| t.keys().cloned())
        .collect()
}

#[test]
fn the_power_loss_filesystem_is_for_tests_only() {
    // jemput-powerloss (powerloss/) is a test tool: only dev-dependencies may name it, and it
    // names no jemput crate itself.
    for manifest in [
        "Cargo.toml",
        "core/Cargo.toml",
        "kit/Cargo.toml",
        "hub/Cargo.toml",
        "drivers/Cargo.toml",
        "wsq/Cargo.toml",
        "j2k/Cargo.toml",
    ] {
        let deps = declared_as(manifest, &["dependencies", "build-dependencies"]);
        assert!(
            !deps.iter().any(|d| d == "jemput-powerloss"),
            "{manifest} depends on jemput-powerloss outside its tests"
        );
    }
    assert_none_of(
        "powerloss/Cargo.toml",
        &[
            "jemput",
            "jemput-core",
            "jemput-kit",
            "jemput-hub",
            "jemput-drivers",
            "jemput-wsq",
        ],
    );
}

#[test]
fn the_test_kit_is_for_tests_only_and_depends_on_nothing() {
    // jemput-testkit (testkit/: outside peers found or skipped visibly) is named only as a
    // dev-dependency, and depends on no crate at all, so taking it pulls nothing into a build.
    for manifest in [
        "Cargo.toml",
        "core/Cargo.toml",
        "kit/Cargo.toml",
        "station/Cargo.toml",
        "hub/Cargo.toml",
        "drivers/Cargo.toml",
        "wsq/Cargo.toml",
        "j2k/Cargo.toml",
        "powerloss/Cargo.toml",
    ] {
        let deps = declared_as(manifest, &["dependencies", "build-dependencies"]);
        assert!(
            !deps.iter().any(|d| d == "jemput-testkit"),
            "{manifest} depends on jemput-testkit outside its tests"
        );
    }
    assert_eq!(declared("testkit/Cargo.toml"), Vec::<String>::new());
}

//! The office console end to end: `jemput hub serve` (plain HTTP on loopback) with an office
//! identity, two accounts made by `jemput hub users add --password-stdin`, a kit registered with
//! one sealed packet, and Debian's Chromium through playwright-core running
//! `tests/ui/console.mjs` (sign in, worklist with a bad row, token with its QR code, a viewer
//! refused, the kit's upload arriving and opened, the kit revoked, the audit log). Also the
//! `hub users` commands themselves. Browser peers as in `tests/station_ui.rs`.

#[path = "ui/browser.rs"]
mod browser;
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use jemput_kit::home::KitHome;

const PASSWORD: &str = "kata-sandi-kantor";

/// `jemput hub users add NAME --role ROLE --password-stdin` with `password` on stdin.
fn add_user(
    data: &std::path::Path,
    name: &str,
    role: &str,
    password: &str,
) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jemput"))
        .args(["hub", "--data"])
        .arg(data)
        .args(["users", "add", name, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn hub_users_are_added_listed_and_removed_and_a_password_is_never_an_argument() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    hub_cmd(&data, &["init"]).success();
    let out = add_user(&data, "siti", "admin", PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = add_user(&data, "budi", "viewer", "pendek");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("shorter than 10"));
    let out = add_user(&data, "siti", "viewer", PASSWORD);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // There is no --password option.
    hub_cmd(
        &data,
        &[
            "users",
            "add",
            "x",
            "--role",
            "admin",
            "--password",
            PASSWORD,
        ],
    )
    .failure();
    let list = json(hub_cmd(&data, &["users", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (list[0]["name"].as_str(), list[0]["role"].as_str()),
        (Some("siti"), Some("admin"))
    );
    hub_cmd(&data, &["users", "remove", "siti"]).success();
    hub_cmd(&data, &["users", "remove", "siti"]).failure();
    let list = json(hub_cmd(&data, &["users", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 0);
}

#[test]
fn the_office_console_in_chromium() {
    if !browser::browser_peers() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (home, keys) = kit_with_office(dir.path());
    let data = dir.path().join("hub");
    jemput()
        .args(["hub", "init", "--data"])
        .arg(&data)
        .arg("--hub-key")
        .arg(&keys.hub_key_file)
        .arg("--office-identity")
        .arg(&keys.identity_file)
        .assert()
        .success();
    let kit = KitHome::open(&home).unwrap();
    let kit_id = kit.config.kit_id.clone();
    let key = kit.kit_key().unwrap().public().to_string();
    hub_cmd(
        &data,
        &["kits", "add", "--kit-id", &kit_id, "--kit-key", &key],
    )
    .success();
    for (name, role) in [("siti", "admin"), ("budi", "viewer")] {
        let out = add_user(&data, name, role, PASSWORD);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    seal_one(&home);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut hub = spawn_hub_serve(&data, port);
    let url = format!("http://127.0.0.1:{port}");
    run(&home, &["config", "set", "hub-url", &url]).success();
    let upload = serde_json::json!([
        env!("CARGO_BIN_EXE_jemput"),
        "--home",
        home.to_str().unwrap(),
        "upload"
    ])
    .to_string();
    let shots = browser::screenshots();
    let result = std::panic::catch_unwind(|| {
        browser::scenario(
            "console.mjs",
            &[&url, shots.to_str().unwrap(), &upload, &kit_id],
        )
    });
    let _ = Command::new("kill")
        .args(["-TERM", &hub.id().to_string()])
        .status();
    let _ = hub.wait();
    let out = result.unwrap_or_else(|e| std::panic::resume_unwind(e));
    assert_eq!(out["scenario"], "console");
    // What the browser did is in the hub: the kit revoked, the worklist imported.
    let kits = json(hub_cmd(&data, &["kits", "--json"]));
    assert_eq!(kits[0]["revoked"], true, "{kits}");
    let wl = json(hub_cmd(&data, &["worklist", "--json"]));
    assert_eq!(wl.as_array().unwrap().len(), 1, "{wl}");
}

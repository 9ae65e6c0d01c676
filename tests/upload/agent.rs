//! `jemput agent` as an operator runs it: started while the hub is down, it waits with back-off
//! and uploads once the hub answers; a packet sealed while it runs is uploaded too; SIGTERM ends
//! it cleanly with exit status 0. The hub (`jemput hub serve`, with the office identity) opens
//! what arrives, and `jemput hub packets --json` lists it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use jemput_core::keys::SigningKey;
use jemput_kit::home::KitHome;
use jemput_kit::store::State;
use jemput_kit::upload::{NoProgress, Outcome};

use super::common::*;
use super::fake_hub::{start_hub, Creation};
use super::peer::free_port;
use super::Kit;

/// A kit home and a hub data directory that knows the kit; the kit pins the hub's key and points
/// at `http://127.0.0.1:<port>`, where nothing listens yet.
fn kit_and_hub(root: &Path) -> (PathBuf, PathBuf, u16, HubBackend) {
    let (home, office) = kit_with_office(root);
    let data = root.join("hub");
    let backend = hub_backend();
    jemput()
        .args(["hub", "init", "--data"])
        .arg(&data)
        .args(backend.init_args())
        .arg("--office-identity")
        .arg(&office.identity_file)
        .assert()
        .success();
    let kit = KitHome::open(&home).unwrap();
    register_kit(
        &data,
        &kit.config.kit_id,
        &kit.kit_key().unwrap().public(),
        None,
    );
    let hub_key = SigningKey::load(&data.join("hub.ed25519"))
        .unwrap()
        .public();
    let port = free_port();
    for (k, v) in [
        ("hub-key", hub_key.to_string()),
        ("hub-url", format!("http://127.0.0.1:{port}")),
    ] {
        run(&home, &["config", "set", k, &v]).success();
    }
    (home, data, port, backend)
}

fn bin() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("jemput"));
    c.env_remove("JEMPUT_HOME")
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .env_remove("RUST_LOG");
    c
}

/// Kills a child on drop (a failing test leaves no process behind).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn queue_states(home: &Path) -> Vec<(String, String)> {
    let out = run(home, &["queue", "--json"])
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["packet_id"].as_str().unwrap().to_owned(),
                e["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The field set-up: the hub serves HTTPS with its own certificate, the kit enrolls with a token
/// (pinning that certificate), and the agent uploads over the pinned connection.
#[test]
fn an_enrolled_kits_agent_uploads_over_the_hubs_pinned_certificate() {
    let d = tempfile::tempdir().unwrap();
    let (home, office) = kit_with_office(d.path());
    let data = d.path().join("hub");
    let backend = hub_backend();
    jemput()
        .args(["hub", "init", "--data"])
        .arg(&data)
        .args(backend.init_args())
        .args(["--office-recipient", &office.recipient, "--office-identity"])
        .arg(&office.identity_file)
        .arg("--hub-key")
        .arg(&office.hub_key_file)
        .assert()
        .success();
    let issued = jemput()
        .args(["hub", "enroll-token", "--json", "--data"])
        .arg(&data)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let issued: serde_json::Value = serde_json::from_slice(&issued).unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    let port = free_port();
    let _hub = Reaped(
        bin()
            .args([
                "hub",
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("https://127.0.0.1:{port}");
    wait_for("the kit enrolled", Duration::from_secs(30), || {
        bin()
            .arg("--home")
            .arg(&home)
            .args(["enroll", &url, &token])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
    });
    let config = KitHome::open(&home).unwrap().config;
    assert_eq!(
        config.hub_cert_sha256.as_deref(),
        issued["hub_cert_sha256"].as_str()
    );
    assert_eq!(config.hub_url.as_deref(), Some(url.as_str()));

    seal_one(&home);
    let agent = bin()
        .arg("--home")
        .arg(&home)
        .args(["agent", "--poll", "1", "--max-wait", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent = Reaped(agent);
    wait_for(
        "the packet acknowledged over TLS",
        Duration::from_secs(30),
        || queue_states(&home)[0].1 == "acknowledged",
    );
    drop(agent);
}

#[test]
fn the_agent_waits_for_the_hub_uploads_what_is_sealed_meanwhile_and_exits_0_on_sigterm() {
    let d = tempfile::tempdir().unwrap();
    let (home, data, port, _backend) = kit_and_hub(d.path());
    seal_one(&home);
    let first = queue_states(&home)[0].0.clone();

    let stderr_file = d.path().join("agent.stderr");
    let agent = bin()
        .arg("--home")
        .arg(&home)
        .args(["agent", "--poll", "1", "--max-wait", "2"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_file).unwrap())
        .spawn()
        .unwrap();
    let mut agent = Reaped(agent);

    // The hub is down: the agent keeps the packet and says it waits.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(queue_states(&home), [(first.clone(), "sealed".to_owned())]);
    let log = std::fs::read_to_string(&stderr_file).unwrap();
    assert!(log.contains("hub not reachable"), "{log}");
    assert!(
        agent.0.try_wait().unwrap().is_none(),
        "the agent keeps running"
    );

    // The hub comes up: the packet is acknowledged without touching the agent.
    let _hub = Reaped(
        bin()
            .args([
                "hub",
                "serve",
                "--plain-http",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(
        "the first packet acknowledged",
        Duration::from_secs(30),
        || queue_states(&home)[0].1 == "acknowledged",
    );

    // A packet sealed while the agent runs is picked up by the next round.
    seal_one(&home);
    let second = queue_states(&home)
        .into_iter()
        .find(|(id, _)| *id != first)
        .unwrap()
        .0;
    wait_for(
        "the second packet acknowledged",
        Duration::from_secs(30),
        || {
            queue_states(&home)
                .iter()
                .all(|(_, state)| state == "acknowledged")
        },
    );

    // SIGTERM: a clean stop with exit status 0.
    let pid = agent.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = agent.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the agent did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
    let mut stdout = String::new();
    std::io::Read::read_to_string(agent.0.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    for id in [&first, &second] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(id.as_str()) && l.contains("acknowledged")),
            "{stdout}"
        );
    }
    let log = std::fs::read_to_string(&stderr_file).unwrap();
    assert!(
        log.contains("agent stopped; 0 packets still waiting"),
        "{log}"
    );

    // The hub opened both with the office identity.
    wait_for(
        "both packets opened at the hub",
        Duration::from_secs(20),
        || {
            let out = jemput()
                .args(["hub", "packets", "--json", "--data"])
                .arg(&data)
                .assert()
                .success()
                .get_output()
                .stdout
                .clone();
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let rows = v.as_array().unwrap();
            rows.len() == 2 && rows.iter().all(|r| r["state"] == "opened")
        },
    );
}

#[tokio::test]
async fn a_stop_request_ends_the_upload_between_chunks_and_the_next_drain_resumes_without_resending(
) {
    let kit = Kit::new();
    let id = kit.queue_packet(300_000);
    let hub_key = SigningKey::generate();
    let pinned = hub_key.public();
    let (url, hub) = start_hub(&kit, hub_key, Creation::Normal, &[]).await;
    let stop = Arc::new(AtomicBool::new(false));
    hub.lock().unwrap().stop_after = Some((2, stop.clone()));
    let mut store = kit.store();
    let report = kit
        .uploader(&url, Some(pinned), 3)
        .with_stop(stop)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Interrupted, "{report:?}");
    assert!(report
        .stopped
        .as_deref()
        .unwrap()
        .contains("stopped on request"));
    let confirmed = hub.lock().unwrap().data.len() as u64;
    assert_eq!(
        hub.lock().unwrap().chunk_sizes.len(),
        2,
        "no chunk after the stop"
    );
    assert_eq!(
        p.bytes_sent, confirmed,
        "the chunk in flight was finished, not cut"
    );
    let e = store.get(&id).unwrap().unwrap();
    assert_eq!(e.state, State::Uploading);
    assert_eq!(store.upload_of(&id).unwrap().unwrap().offset, confirmed);

    let report = kit
        .uploader(&url, Some(pinned), 3)
        .drain(&mut store, &NoProgress)
        .await
        .unwrap();
    let p = &report.packets[0];
    assert_eq!(p.outcome, Outcome::Acknowledged, "{report:?}");
    assert_eq!(p.resumed_from, Some(confirmed));
    assert_eq!(p.bytes_sent + confirmed, p.size, "no byte sent twice");
    assert_eq!(hub.lock().unwrap().data, kit.packet_bytes(&id));
}

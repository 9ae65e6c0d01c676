//! The server's own cost per packet: CPU seconds (utime + stime of the server process, from
//! `/proc/<pid>/stat`), peak memory (VmHWM) and packets/s, for `jemput hub serve` with the office
//! identity (so every packet is decrypted and its inner signature and file hashes checked before
//! the receipt) and, with `JEMPUT_CPU_SERVER=node`, for the Node.js tus reference server
//! (`@tus/server` with `@tus/file-store`, `tests/peers/tus-server.mjs`).
//!
//! The load generator is a few clients (`JEMPUT_CPU_CLIENTS`, default 4), each the kit's uploader
//! draining a queue of `JEMPUT_CPU_PACKETS` (default 3) real sealed packets of
//! `JEMPUT_CPU_BYTES` (default 2,000,000) one after another, straight to the server (no proxy):
//! a client only sends, so the server, not the clients, decides the pace; the clients' own CPU
//! is reported beside the server's to show it. The figures of BENCHMARKS.md come from
//! `JEMPUT_CPU_PACKETS=25 cargo test --test server_cpu -- --nocapture` with and without
//! `JEMPUT_CPU_SERVER=node` (and with `JEMPUT_CPU_OPEN=0`: a hub without the office identity;
//! `JEMPUT_CPU_HUB=PATH` runs that `jemput` binary as the hub, e.g. `target/release/jemput`);
//! CI runs the small default as a check that the measurement works and that every packet is
//! receipted and opened. It also times, on one packet, the hub's opening
//! (`packet::check_contents` streaming from the file), `packet::decrypt` in memory and its parts
//! (perf is not available on the build machines): the profile BENCHMARKS.md gives.

mod common;
#[allow(dead_code)]
#[path = "upload/peer.rs"]
mod peer;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use jemput_core::keys::SigningKey;
use jemput_kit::store::{State, Store};
use jemput_kit::upload::pacing::Backoff;
use jemput_kit::upload::{parse_endpoint, NoProgress, Outcome, UploadOptions, Uploader};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A client's queue: `n` sealed packets of a document of `payload` noise bytes each.
fn client(
    dir: &Path,
    i: usize,
    kit: &SigningKey,
    office: &Office,
    n: usize,
    payload: usize,
) -> PathBuf {
    let root = dir.join(format!("client-{i}"));
    for k in 0..n {
        let (visit, files) = noise_visit(payload, (i * n + k) as u32);
        let sealed = seal_with(
            kit,
            std::slice::from_ref(&office.keys.recipient),
            &visit,
            &files,
        );
        queue_sealed(&root, &sealed);
    }
    root
}

#[test]
fn server_cpu_seconds_per_packet_with_receipts_and_verification() {
    let clients = env_u64("JEMPUT_CPU_CLIENTS").unwrap_or(4) as usize;
    let per_client = env_u64("JEMPUT_CPU_PACKETS").unwrap_or(3) as usize;
    let payload = env_u64("JEMPUT_CPU_BYTES").unwrap_or(2_000_000) as usize;
    let node = std::env::var("JEMPUT_CPU_SERVER").as_deref() == Ok("node");
    // `JEMPUT_CPU_OPEN=0`: a hub without the office identity (outer checks only), to see what
    // opening before the receipt costs.
    let open = std::env::var("JEMPUT_CPU_OPEN").as_deref() != Ok("0");

    let d = tempfile::tempdir().unwrap();
    let office = office();
    let kit = SigningKey::generate();
    let kit_file = d.path().join("kit.ed25519");
    kit.save(&kit_file).unwrap();
    let roots: Vec<PathBuf> = (0..clients)
        .map(|i| client(d.path(), i, &kit, &office, per_client, payload))
        .collect();
    let total_bytes: u64 = roots
        .iter()
        .flat_map(|r| Store::open(r).unwrap().list().unwrap())
        .map(|e| e.size)
        .sum();
    let packets = clients * per_client;
    // The opening at completion alone, in this process (same build as the hub's): a timer, as
    // perf is not available here.
    {
        let store = Store::open(&roots[0]).unwrap();
        let e = &store.list().unwrap()[0];
        let path = roots[0]
            .join("packets")
            .join(format!("{}.jpk", e.packet_id));
        let bytes = std::fs::read(&path).unwrap();
        let n = 20;
        // CPU ms per call (10 ms ticks over `n` calls) and wall ms.
        let time = |what: &str, f: &mut dyn FnMut()| {
            let cpu0 = proc_cpu_secs("self");
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            eprintln!(
                "server_cpu:   {what}: {:.1} ms CPU, {:.1} ms wall each",
                (proc_cpu_secs("self") - cpu0) * 1000.0 / n as f64,
                t.elapsed().as_secs_f64() * 1000.0 / n as f64
            );
        };
        eprintln!("server_cpu: opening one {} B packet:", bytes.len());
        time(
            "packet::check_contents streaming from the file (the hub's opening)",
            &mut || {
                let f = std::fs::File::open(&path).unwrap();
                jemput_core::packet::check_contents(f, &office.identities, Some(&kit.public()))
                    .unwrap();
            },
        );
        time(
            "packet::decrypt of the bytes in memory (files kept)",
            &mut || {
                jemput_core::packet::decrypt(&bytes, &office.identities, Some(&kit.public()))
                    .unwrap();
            },
        );
        let p = jemput_core::packet::parse_prelude(&bytes).unwrap();
        let payload = &bytes[p.payload_offset..];
        time("  of which SHA-256 of the payload", &mut || {
            std::hint::black_box(<sha2::Sha256 as sha2::Digest>::digest(payload));
        });
        let mut tar = Vec::new();
        time("  of which age decryption of the payload", &mut || {
            use std::io::Read;
            let d = age::Decryptor::new(payload).unwrap();
            let mut r = d
                .decrypt(office.identities.iter().map(|i| i as &dyn age::Identity))
                .unwrap();
            tar.clear();
            r.read_to_end(&mut tar).unwrap();
        });
        time(
            "  of which read_archive of the plaintext (files copied and kept)",
            &mut || {
                std::hint::black_box(jemput_core::packet::read_archive(&tar).unwrap());
            },
        );
    }

    let data = d.path().join("hub");
    let (server, endpoint, hub_key, _peer) = if node {
        let Some(p) = peer::TusPeer::start() else {
            return;
        };
        let endpoint = p.endpoint();
        (None, endpoint, None, Some(p))
    } else {
        let mut config = jemput_hub::init(&data).unwrap();
        if open {
            config.office_identity = Some(office.keys.identity_file.clone());
        }
        config.save(&data).unwrap();
        jemput_hub::Registry::open(&data)
            .unwrap()
            .add("kit-test", &kit.public(), None)
            .unwrap();
        let hub_key = SigningKey::load(&data.join(jemput_hub::KEY_FILE))
            .unwrap()
            .public();
        let port = peer::free_port();
        // `JEMPUT_CPU_HUB=target/release/jemput`: the build a kit or an office installs (the
        // test's own binary is the dev profile, its workspace crates at opt-level 1).
        let s = Server(match std::env::var_os("JEMPUT_CPU_HUB") {
            Some(bin) => spawn_hub_serve_of(Path::new(&bin), &data, port, Stdio::null()),
            None => spawn_hub_serve(&data, port),
        });
        (
            Some(s),
            format!("http://127.0.0.1:{port}"),
            Some(hub_key),
            None,
        )
    };
    let pid = match (&server, &_peer) {
        (Some(s), _) => s.0.id(),
        (None, Some(p)) => p.child.id(),
        _ => unreachable!(),
    };
    let pid_s = pid.to_string();
    let server_before = proc_cpu_secs(&pid_s);
    let self_before = proc_cpu_secs("self");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let outcomes: Vec<Outcome> = runtime.block_on(async {
        let mut tasks = Vec::new();
        for root in &roots {
            let up = Uploader::new(
                parse_endpoint(&endpoint).unwrap(),
                "kit-test",
                SigningKey::load(&kit_file).unwrap(),
                hub_key,
                UploadOptions {
                    max_attempts: 5,
                    backoff: Backoff {
                        base: Duration::from_millis(50),
                        max: Duration::from_millis(500),
                    },
                    retention_hours: 24,
                },
            );
            let root = root.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let mut store = Store::open(&root).unwrap();
                let report = rt.block_on(up.drain(&mut store, &NoProgress)).unwrap();
                report.packets.iter().map(|p| p.outcome).collect::<Vec<_>>()
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.extend(t.await.unwrap());
        }
        out
    });
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = proc_cpu_secs(&pid_s) - server_before;
    let client_cpu = proc_cpu_secs("self") - self_before;
    let peak = proc_status_mib(pid, "VmHWM:");

    assert_eq!(outcomes.len(), packets);
    let want = if node {
        Outcome::UploadedNoReceipt
    } else {
        Outcome::Acknowledged
    };
    assert!(outcomes.iter().all(|o| *o == want), "{outcomes:?}");
    if !node && open {
        for r in &roots {
            for e in Store::open(r).unwrap().list().unwrap() {
                assert_eq!(e.state, State::Acknowledged);
            }
        }
        // Every packet was opened before its receipt: the opener has nothing left to do.
        let rows = jemput_hub::packets::list(&data).unwrap();
        assert_eq!(rows.len(), packets);
        assert!(
            rows.iter()
                .all(|r| r.state == jemput_hub::packets::PacketState::Opened),
            "{rows:?}"
        );
    }
    let mb = total_bytes as f64 / 1e6;
    eprintln!(
        "server_cpu ({}): {clients} clients × {per_client} packets of {payload} B = {packets} packets, {mb:.1} MB in {wall:.2} s: {:.1} packets/s; server CPU {server_cpu:.2} s = {:.1} ms/packet, {:.1} ms/MB, {:.1} packets per server-CPU-second; clients' CPU {client_cpu:.2} s; server peak RSS (VmHWM) {peak:.1} MiB",
        match (node, open) {
            (true, _) => "@tus/server",
            (false, true) => "jemput hub, opening before the receipt",
            (false, false) => "jemput hub without the office identity",
        },
        packets as f64 / wall,
        server_cpu * 1000.0 / packets as f64,
        server_cpu * 1000.0 / mb,
        packets as f64 / server_cpu.max(0.01),
    );
}

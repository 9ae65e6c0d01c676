//! Every `--json` output and every file jemput writes that has a schema in `schemas/` is checked
//! against that schema by an independent validator: Python's `jsonschema` (Draft 2020-12), which
//! `scripts/install-test-peers` installs. One run goes through a visit's whole life — office keys, a kit, a sealed
//! synthetic visit, the queue, packet inspect/verify/open, the NIST export, a hub over TLS with an
//! imported worklist, enrollment, upload, sync — then the demo (receipts), the device models
//! (`devices test`, captures, `sim`, `usbip list`) and the device list of a recorded USB reader
//! under `umockdev-run`. The schemas no command here produces are in [`NOT_PRODUCED`] with the
//! reason; every schema in `schemas/` must be validated or listed there.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// Schemas no step of this test produces, and why.
const NOT_PRODUCED: [(&str, &str); 10] = [
    (
        "hub-event.schema.json",
        "the body of a webhook delivery: needs a webhook receiver",
    ),
    (
        "hub-events.schema.json",
        "the delivery list stays empty without a webhook configured",
    ),
    (
        "hub-migrate.schema.json",
        "needs a PostgreSQL server (tests/hub_migrate.rs validates it with the same validator)",
    ),
    (
        "usbip-attach.schema.json",
        "attaching needs the vhci-hcd kernel module and root",
    ),
    (
        "enroll-request.schema.json",
        "an HTTP request body the kit sends, never printed or written",
    ),
    (
        "enroll-response.schema.json",
        "an HTTP response body the hub sends, never printed or written",
    ),
    (
        "sbi-serve.schema.json",
        "needs `jemput sbi serve` running (tests/sbi.rs reads its line)",
    ),
    (
        "sbi-devices.schema.json",
        "needs an SBI device service (tests/sbi.rs checks the list's fields)",
    ),
    (
        "sbi-capture.schema.json",
        "needs an SBI device service (tests/sbi.rs checks each written biometric)",
    ),
    (
        "capture-finger-slap.schema.json",
        "needs an SBI device service (tests/sbi.rs checks each finger `capture finger sbi:…` wrote)",
    ),
];

const VALIDATOR: &str = r#"
import json, sys, tomllib, jsonschema
failures = []
for line in open(sys.argv[1]):
    expect, schema_path, instance_path = line.split()
    schema = json.load(open(schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    if instance_path.endswith(".toml"):
        instance = tomllib.load(open(instance_path, "rb"))
    else:
        instance = json.load(open(instance_path))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    name = schema_path.rsplit("/", 1)[-1]
    if expect == "valid" and errors:
        failures.append(f"{name} rejects {instance_path}: " + "; ".join(
            f"at {list(e.absolute_path)}: {e.message[:200]}" for e in errors[:3]))
    elif expect == "invalid" and not errors:
        failures.append(f"{name} accepts the broken {instance_path}")
print("\n".join(failures))
sys.exit(1 if failures else 0)
"#;

/// What to validate: (expected outcome, schema file name, instance file).
struct Checks {
    dir: PathBuf,
    list: Vec<(bool, String, PathBuf)>,
}

impl Checks {
    /// `value` must validate against `schema`.
    fn json(&mut self, schema: &str, value: &Value) {
        let path = self.dir.join(format!("{}-{schema}", self.list.len()));
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        self.list.push((true, schema.into(), path));
    }

    /// The file jemput wrote at `path` (JSON, or TOML by its extension) must validate.
    fn file(&mut self, schema: &str, path: &Path) {
        assert!(path.is_file(), "{} was not written", path.display());
        self.list.push((true, schema.into(), path.to_path_buf()));
    }

    /// `value` must *not* validate: shows the validator is strict enough to catch a change.
    fn broken(&mut self, schema: &str, value: &Value) {
        let path = self
            .dir
            .join(format!("{}-broken-{schema}", self.list.len()));
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        self.list.push((false, schema.into(), path));
    }
}

/// Runs `jemput <args>` and returns its JSON stdout, failing with its stderr.
fn json_of(c: &mut assert_cmd::Command) -> Value {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{c:?} printed no JSON ({e}): {out:?}"))
}

fn kit(home: &Path, args: &[&str]) -> Value {
    json_of(jemput().arg("--home").arg(home).args(args))
}

fn hub(data: &Path, args: &[&str]) -> Value {
    json_of(jemput().arg("hub").arg("--data").arg(data).args(args))
}

/// `GET /v1/info` on a plain-HTTP hub, by hand.
fn hub_info(addr: std::net::SocketAddr) -> Value {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /v1/info HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}

#[test]
fn every_json_output_and_schema_file_validates_with_python_jsonschema() {
    // Python 3.11 or later (tomllib) with jsonschema, and umockdev-run for the device list.
    if !jemput_testkit::python_modules(
        &["jsonschema", "tomllib"],
        "Python 3.11 or later, python3 -m pip install jsonschema, or scripts/install-test-peers",
    ) || !umockdev_peer()
    {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let mut c = Checks {
        dir: r.join("instances"),
        list: Vec::new(),
    };
    std::fs::create_dir_all(&c.dir).unwrap();

    // Office keys and a kit.
    let keys = json_of(
        jemput()
            .args(["office", "keygen", "--json", "--out"])
            .arg(r.join("office")),
    );
    c.json("office-keygen.schema.json", &keys);
    let home = r.join("kit");
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["init", "--work-factor", "10", "--operator", "op-1"])
        .args(["--office-recipient", keys["recipient"].as_str().unwrap()])
        .args(["--hub-key", keys["hub_public_key"].as_str().unwrap()])
        .assert()
        .success();
    c.json(
        "kit-config.schema.json",
        &kit(&home, &["config", "show", "--json"]),
    );
    c.file("kit-config.schema.json", &home.join("config.toml"));

    // A sealed synthetic visit, the queue, the packet.
    let visit = stdout(run(
        &home,
        &[
            "visit",
            "new",
            "--synthetic",
            "--category",
            "lansia",
            "--nik",
            "7408014512500001",
            "--sex",
            "female",
            "--birth-date",
            "1950-12-05",
            "--consent",
            "resident",
        ],
    ));
    let sealed = kit(&home, &["seal", &visit, "--json"]);
    c.json("seal.schema.json", &sealed);
    let packet = PathBuf::from(sealed["sealed"][0]["path"].as_str().unwrap());
    c.json("queue.schema.json", &kit(&home, &["queue", "--json"]));
    c.json("status.schema.json", &kit(&home, &["status", "--json"]));

    // A visit captured step by step from a device model (the PTP camera, in memory), the drafts'
    // list, and a discarded draft's audit line.
    let draft = kit(
        &home,
        &[
            "visit",
            "new",
            "--nik",
            "7408014512500001",
            "--category",
            "lansia",
            "--consent",
            "resident",
            "--json",
        ],
    );
    let draft = draft["visit_id"].as_str().unwrap().to_string();
    c.json(
        "visit-capture.schema.json",
        &kit(
            &home,
            &[
                "visit", "capture", &draft, "--only", "face", "--camera", "sim:ptp", "--yes",
                "--json",
            ],
        ),
    );
    c.json(
        "visit-list.schema.json",
        &kit(&home, &["visit", "list", "--json"]),
    );
    run(
        &home,
        &["visit", "discard", &draft, "--reason", "schema check"],
    )
    .success();
    let audit = std::fs::read_to_string(home.join("discarded.jsonl")).unwrap();
    let line: Value = serde_json::from_str(audit.trim()).unwrap();
    c.json("discarded.schema.json", &line);

    // `jemput ui --json`: the station's URL, on a home with no kit (a training kit).
    let mut ui = Command::new(env!("CARGO_BIN_EXE_jemput"))
        .arg("--home")
        .arg(r.join("no-kit-yet"))
        .args([
            "ui",
            "--sim",
            "--no-browser",
            "--json",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(ui.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    // SIGTERM, so the station removes its training kit (SIGKILL would leave it in the temp dir).
    let _ = Command::new("kill").arg(ui.id().to_string()).status();
    let _ = ui.wait();
    let url: Value =
        serde_json::from_str(&first).unwrap_or_else(|e| panic!("ui --json printed {first:?}: {e}"));
    c.json("ui.schema.json", &url);
    let p = packet.to_str().unwrap();
    c.json(
        "packet-inspect.schema.json",
        &json_of(jemput().args(["packet", "inspect", p, "--json"])),
    );
    c.json(
        "packet-verify.schema.json",
        &json_of(jemput().args(["packet", "verify", p, "--json"])),
    );
    let prelude = jemput_core::packet::parse_prelude(&std::fs::read(&packet).unwrap()).unwrap();
    let header: Value = serde_json::from_slice(&prelude.header_bytes).unwrap();
    c.json("packet-header.schema.json", &header);
    let mut extra = header.clone();
    extra["extra"] = Value::Bool(true);
    c.broken("packet-header.schema.json", &extra);
    let mut wrong = header.clone();
    wrong["payload_length"] = Value::String("3000".into());
    c.broken("packet-header.schema.json", &wrong);

    // Opened at the office: the files with schemas, and the NIST export.
    let identity = r.join("office/office.age");
    let opened = r.join("opened");
    jemput()
        .arg("open")
        .arg("-i")
        .arg(&identity)
        .arg("--out")
        .arg(&opened)
        .arg(&packet)
        .assert()
        .success();
    c.file("packet-header.schema.json", &opened.join("header.json"));
    c.file("packet-manifest.schema.json", &opened.join("manifest.json"));
    // A document-only visit's document-photo exceptions, keyed by document; no other key.
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(opened.join("manifest.json")).unwrap()).unwrap();
    let exception = serde_json::json!({"reason": {"code": "refused"}, "permanence": "temporary",
                                       "proof_file": null, "noted_at": "2026-01-02T03:04:05Z"});
    manifest["visit"]["captures"]["document_exceptions"] = serde_json::json!({"kk": exception});
    c.json("packet-manifest.schema.json", &manifest);
    manifest["visit"]["captures"]["document_exceptions"] = serde_json::json!({"ktp": exception});
    c.broken("packet-manifest.schema.json", &manifest);
    c.file(
        "pen-trace.schema.json",
        &opened.join("signature-trace.json"),
    );
    let an2 = r.join("visit.an2");
    c.json(
        "export-nist.schema.json",
        &json_of(
            jemput()
                .args(["export", "nist", "-i"])
                .arg(&identity)
                .arg("--out")
                .arg(&an2)
                .arg(&packet)
                .arg("--json"),
        ),
    );
    c.json(
        "export-inspect.schema.json",
        &json_of(jemput().args(["export", "inspect", "--json"]).arg(&an2)),
    );
    c.json(
        "imaging-face-check.schema.json",
        &json_of(
            jemput()
                .args(["imaging", "face", "check", "--json"])
                .arg(opened.join("face.jpg")),
        ),
    );

    // A hub over TLS with a worklist; the kit enrolls, uploads and syncs.
    let data = r.join("hub");
    c.json(
        "hub-init.schema.json",
        &hub(
            &data,
            &[
                "init",
                "--san",
                "127.0.0.1",
                "--san",
                "localhost",
                "--office-recipient",
                keys["recipient"].as_str().unwrap(),
                "--hub-key",
                keys["hub_key_file"].as_str().unwrap(),
                "--json",
            ],
        ),
    );
    c.file("hub-config.schema.json", &data.join("hub.toml"));
    let csv = r.join("worklist.csv");
    std::fs::write(
        &csv,
        "nik,id,nama,alamat,rt/rw,desa,kategori,catatan,kit\n\
         7408014512500002,,Siti Aminah,\"Jl. Mawar 3\",003/005,Lapadi,lansia,kursi roda,\n\
         ,WL-2,Budi Santoso,RSUD ruang 4,,Pujungan,rumah_sakit,,\n",
    )
    .unwrap();
    hub_cmd(&data, &["worklist", "import", csv.to_str().unwrap()]).success();
    let hub_worklist = hub(&data, &["worklist", "--json"]);
    assert_eq!(hub_worklist.as_array().unwrap().len(), 2);
    c.json("worklist.schema.json", &hub_worklist);
    c.json(
        "kit-settings.schema.json",
        &hub(&data, &["settings", "--json"]),
    );
    let served = jemput_hub::spawn_local_tls(&data).unwrap();
    let token = hub(&data, &["enroll-token", "--name", "Tim Lansia", "--json"]);
    c.json("hub-enroll-token.schema.json", &token);
    c.json(
        "enroll.schema.json",
        &kit(
            &home,
            &[
                "enroll",
                &served.url,
                token["token"].as_str().unwrap(),
                "--json",
            ],
        ),
    );
    let upload = kit(&home, &["upload", "--attempts", "1", "--json"]);
    assert_eq!(upload["packets"][0]["outcome"], "acknowledged", "{upload}");
    c.json("upload.schema.json", &upload);
    c.json("queue.schema.json", &kit(&home, &["queue", "--json"]));
    c.json("sync.schema.json", &kit(&home, &["sync", "--json"]));
    let worklist = kit(&home, &["worklist", "--json"]);
    assert_eq!(worklist.as_array().unwrap().len(), 2, "{worklist}");
    c.json("worklist.schema.json", &worklist);
    c.json("status.schema.json", &kit(&home, &["status", "--json"]));
    let state_file = home.join("sync.json");
    c.file("sync-state.schema.json", &state_file);
    let state: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    c.json("sync-document.schema.json", &state["document"]);
    let body: Value = serde_json::from_str(state["document"]["body"].as_str().unwrap()).unwrap();
    c.json("sync-body.schema.json", &body);
    c.json("kit-settings.schema.json", &body["settings"]);
    c.json("hub-kits.schema.json", &hub(&data, &["kits", "--json"]));
    let packets = hub(&data, &["packets", "--json"]);
    assert_eq!(packets.as_array().unwrap().len(), 1, "{packets}");
    c.json("hub-packets.schema.json", &packets);
    let added = jemput()
        .arg("hub")
        .arg("--data")
        .arg(&data)
        .args([
            "users",
            "add",
            "admin1",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .write_stdin("kata-sandi-uji-panjang\n")
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let users = hub(&data, &["users", "list", "--json"]);
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    c.json("hub-users.schema.json", &users);
    // The kit's SBI trust store, with a CA `sbi keygen` made.
    let sbi_keys = r.join("sbi-keys");
    jemput()
        .args(["sbi", "keygen", "--dir"])
        .arg(&sbi_keys)
        .assert()
        .success();
    jemput()
        .arg("--home")
        .arg(&home)
        .args(["sbi", "trust", "add"])
        .arg(sbi_keys.join("ca.pem"))
        .assert()
        .success();
    let trusted = kit(&home, &["sbi", "trust", "list", "--json"]);
    assert_eq!(trusted.as_array().unwrap().len(), 1, "{trusted}");
    c.json("sbi-trust.schema.json", &trusted);
    drop(served);

    // What a hub tells anyone at GET /v1/info (a second hub, over plain HTTP).
    let plain = r.join("hub-plain");
    jemput_hub::init(&plain).unwrap();
    let served = jemput_hub::spawn_local(&plain).unwrap();
    c.json("hub-info.schema.json", &hub_info(served.addr));
    drop(served);

    // The demo: its summary and the hub's signed receipts it keeps.
    let demo_dir = r.join("demo");
    let demo = json_of(
        jemput()
            .args(["demo", "--visits", "1", "--json", "--keep"])
            .arg(&demo_dir),
    );
    c.json("demo.schema.json", &demo);
    let receipts = demo["receipts"].as_array().unwrap();
    assert!(!receipts.is_empty(), "{demo}");
    for receipt in receipts {
        let path = PathBuf::from(receipt.as_str().unwrap());
        c.file("receipt.schema.json", &path);
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
        c.json("receipt-body.schema.json", &body);
    }

    // Device models: a test run, one capture of each kind, sim's lines, a USB/IP listing.
    c.json(
        "devices-test.schema.json",
        &json_of(jemput().args(["devices", "test", "sim:ef01", "--json"])),
    );
    c.json(
        "capture-finger.schema.json",
        &json_of(
            jemput()
                .args(["capture", "finger", "sim:ef01", "--json", "--out"])
                .arg(r.join("finger.png")),
        ),
    );
    c.json(
        "capture-face.schema.json",
        &json_of(
            jemput()
                .args(["capture", "face", "sim:ptp:3", "--json", "--out"])
                .arg(r.join("face.jpg")),
        ),
    );
    let trace = r.join("signature.json");
    c.json(
        "capture-signature.schema.json",
        &json_of(
            jemput()
                .args(["capture", "signature", "sim:isdv4", "--json", "--out"])
                .arg(r.join("signature.png"))
                .arg("--trace")
                .arg(&trace),
        ),
    );
    c.file("pen-trace.schema.json", &trace);
    let sim = Sim::start(2, &["ef01", "ptp", "--json", "--fast"]);
    for line in &sim.lines {
        c.json("sim.schema.json", line);
    }
    let usbip = json_of(jemput().args(["usbip", "list", &sim.address(1).to_string(), "--json"]));
    assert_eq!(usbip.as_array().unwrap().len(), 1, "{usbip}");
    c.json("usbip-list.schema.json", &usbip);
    drop(sim);

    // The device list, non-empty: a recorded U.are.U reader under umockdev-run.
    let list = devices_under_umockdev("uru4000-finger.umockdev")
        .expect("umockdev-run was found at the start");
    assert_eq!(list[0]["drivers"][0]["driver"], "uru4000", "{list}");
    c.json("devices.schema.json", &list);
    let mut broken = list.clone();
    broken[0]["access"]["status"] = Value::String("maybe".into());
    c.broken("devices.schema.json", &broken);

    // Every schema is either checked here or listed as not produced, never both.
    let produced: BTreeSet<String> = c.list.iter().map(|(_, s, _)| s.clone()).collect();
    let on_disk: BTreeSet<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    let skipped: BTreeSet<String> = NOT_PRODUCED.iter().map(|(s, _)| s.to_string()).collect();
    let unaccounted: Vec<&String> = on_disk
        .iter()
        .filter(|s| !produced.contains(*s) && !skipped.contains(*s))
        .collect();
    assert!(
        unaccounted.is_empty(),
        "schemas neither validated nor listed in NOT_PRODUCED: {unaccounted:?}"
    );
    let both: Vec<&String> = produced.intersection(&skipped).collect();
    assert!(
        both.is_empty(),
        "validated after all, drop from NOT_PRODUCED: {both:?}"
    );

    // The independent validator, over everything at once.
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let list: String = c
        .list
        .iter()
        .map(|(valid, schema, path)| {
            format!(
                "{} {} {}\n",
                if *valid { "valid" } else { "invalid" },
                schemas.join(schema).display(),
                path.display()
            )
        })
        .collect();
    let list_file = r.join("checks.txt");
    std::fs::write(&list_file, list).unwrap();
    let out = Command::new("python3")
        .args(["-c", VALIDATOR])
        .arg(&list_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "{} instances of {} schemas validated",
        c.list.len(),
        produced.len()
    );
}

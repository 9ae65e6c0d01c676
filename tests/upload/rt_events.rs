//! Events a neighbourhood can act on: the `opened` event of a visit made for a worklist entry
//! carries the entry id, desa and RT/RW from the hub's own worklist and the visit's category; the
//! name and NIK only to a webhook that asks for them. `examples/rt_notify.py` receives real
//! deliveries, checks their signatures and prints one message per RT head.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jemput_core::visit::{Category, ResidentRef};
use jemput_core::worklist::WorklistEntry;
use jemput_hub::events::WebhookConfig;
use jemput_hub::kit_sync::{save_worklist, StoredWorklist};
use jemput_hub::HubConfig;

use super::common::*;
use super::peer::free_port;
use super::Kit;

const SECRET: &str = "rahasia-rt-notify-0123456789";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rt_notify.py")
}

/// `rt_notify.py serve` on a free port, storing into `store`; killed on drop.
struct Receiver {
    child: Child,
    url: String,
    store: PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_receiver(dir: &Path, name: &str) -> Receiver {
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, SECRET).unwrap();
    let store = dir.join(format!("{name}.jsonl"));
    let port = free_port();
    let mut child = Command::new("python3")
        .arg(example())
        .args(["serve", "--port", &port.to_string(), "--secret-file"])
        .arg(&secret)
        .arg("--store")
        .arg(&store)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening on"), "{line:?}");
    Receiver {
        child,
        url: format!("http://127.0.0.1:{port}/hook"),
        store,
    }
}

fn stored(r: &Receiver) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&r.store)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn entry(id: &str, nik: Option<&str>, name: &str, rt_rw: &str) -> WorklistEntry {
    WorklistEntry {
        id: id.into(),
        nik: nik.map(Into::into),
        name: name.into(),
        address: "Jl. Soekarno-Hatta".into(),
        rt_rw: Some(rt_rw.into()),
        desa: "Kelurahan Gunung Samarinda".into(),
        // The worklist's category; the event carries the visit's own (documents only here).
        category: Category::Lansia,
        notes: None,
        kit: None,
    }
}

/// Seals and queues a document visit for `reference`, its place text naming somewhere else.
fn queue_visit(kit: &Kit, reference: ResidentRef) -> String {
    let (mut visit, files) = small_visit();
    visit.id = uuid::Uuid::new_v4();
    visit.resident.reference = reference;
    visit.place.description = "RT 999/999, Desa Salah".into();
    let sealed = seal_with(
        &kit.key,
        std::slice::from_ref(&kit.office.keys.recipient),
        &visit,
        &files,
    );
    let mut meta = jemput_kit::seal::meta_of(&sealed.header);
    meta.size = sealed.bytes.len() as u64;
    kit.store().commit_packet(&meta, &sealed.bytes).unwrap();
    sealed.header.packet_id
}

fn report(r: &Receiver, date: &str) -> String {
    let out = Command::new("python3")
        .arg(example())
        .args(["report", "--store"])
        .arg(&r.store)
        .args(["--date", date, "--tz-offset", "+00:00"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn opened_events_carry_the_worklist_place_and_the_example_writes_one_message_per_rt() {
    if !jemput_testkit::program("python3", "apt-get install python3") {
        return;
    }
    let kit = Kit::new();
    let (synthetic, _) = small_visit();
    let ResidentRef::Nik(nik) = synthetic.resident.reference.clone() else {
        panic!("the small visit has a NIK")
    };
    let dir = tempfile::tempdir().unwrap();
    let plain = start_receiver(dir.path(), "plain");
    let named = start_receiver(dir.path(), "named");

    let data = dir.path().join("hub");
    let (mut config, _backend): (HubConfig, _) = init_hub(&data);
    config.office_identity = Some(kit.office.keys.identity_file.clone());
    config.webhook_retry_base_ms = 50;
    config.webhook_retry_max_secs = 1;
    config.webhooks = vec![
        WebhookConfig {
            url: plain.url.clone(),
            secret: SECRET.into(),
            allow_plain_http: false,
            include_name_and_nik: false,
        },
        WebhookConfig {
            url: named.url.clone(),
            secret: SECRET.into(),
            allow_plain_http: false,
            include_name_and_nik: true,
        },
    ];
    config.save(&data).unwrap();
    register_kit(&data, "kit-test", &kit.key.public(), None);
    let worklist = StoredWorklist {
        imported_at: jiff::Timestamp::now(),
        source: "worklist.csv".into(),
        entries: vec![
            entry("WL-1", None, "Siti Aminah", "001/002"),
            entry(&nik, Some(&nik), "Budi Santoso", "001/002"),
            entry("WL-3", None, "Wayan Sudarma", "003/002"),
        ],
    };
    off_runtime(|| save_worklist(&data, &worklist)).unwrap();

    let by_id = queue_visit(&kit, ResidentRef::Worklist("WL-1".into()));
    let by_nik = queue_visit(&kit, ResidentRef::Nik(nik.clone()));
    let other_rt = queue_visit(&kit, ResidentRef::Worklist("WL-3".into()));
    let off_list = queue_visit(&kit, ResidentRef::Worklist("WL-TIDAK-ADA".into()));
    let h = jemput_hub::spawn_local(&data).unwrap();
    let (_store, report_) = kit.drain(&h.url, Some(h.hub_key)).await;
    assert_eq!(report_.packets.len(), 4, "{report_:?}");

    let start = Instant::now();
    while stored(&plain).len() < 4 || stored(&named).len() < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "opened events: {:?} {:?}",
            stored(&plain),
            stored(&named)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let find = |evs: &[serde_json::Value], id: &str| {
        evs.iter()
            .find(|e| e["packet_id"] == id)
            .unwrap_or_else(|| panic!("no opened event for {id}: {evs:?}"))
            .clone()
    };
    let plain_evs = stored(&plain);
    let named_evs = stored(&named);
    // From the hub's worklist: the entry, its desa and RT/RW (not the visit's place text); the
    // category is the visit's.
    let e = find(&plain_evs, &by_id);
    assert_eq!(e["event"], "opened");
    assert_eq!(
        e["visit"],
        serde_json::json!({"category": "dokumen", "worklist": {
            "entry_id": "WL-1", "desa": "Kelurahan Gunung Samarinda", "rt_rw": "001/002"}})
    );
    // A kit records the entry's NIK when the worklist has one: the hub finds the entry by it.
    let e = find(&plain_evs, &by_nik);
    assert_eq!(e["visit"]["worklist"]["entry_id"], nik.as_str());
    assert!(e["visit"]["worklist"].get("nik").is_none(), "{e}");
    assert!(e["visit"]["worklist"].get("name").is_none(), "{e}");
    // The webhook that asked for them gets the name and the NIK.
    let e = find(&named_evs, &by_nik);
    assert_eq!(e["visit"]["worklist"]["name"], "Budi Santoso");
    assert_eq!(e["visit"]["worklist"]["nik"], nik.as_str());
    assert_eq!(
        find(&named_evs, &by_id)["visit"]["worklist"]["name"],
        "Siti Aminah"
    );
    assert_eq!(
        find(&plain_evs, &other_rt)["visit"]["worklist"]["rt_rw"],
        "003/002"
    );
    // A visit for nobody on the worklist: the category alone.
    assert_eq!(
        find(&plain_evs, &off_list)["visit"],
        serde_json::json!({"category": "dokumen"})
    );
    // Nothing in any other event names a place or a person.
    for d in off_runtime(|| jemput_hub::events::deliveries(&data)).unwrap() {
        if d.event.event != jemput_hub::events::EventKind::Opened {
            assert!(d.event.visit.is_none(), "{d:?}");
        }
    }

    // One message per RT head, for the day of the events.
    let day = &plain_evs[0]["at"].as_str().unwrap()[..10];
    let text = report(&plain, day);
    let messages: Vec<&str> = text
        .split("\n\n")
        .filter(|m| m.starts_with("Kepada"))
        .collect();
    assert_eq!(messages.len(), 2, "{text}");
    assert!(
        messages[0].starts_with("Kepada Yth. Ketua RT 001 / RW 002, Kelurahan Gunung Samarinda:")
            && messages[0].contains("2 layanan")
            && messages[0].contains("Kategori: dokumen 2.")
            && messages[0].contains("entri daftar kerja WL-1")
            && !messages[0].contains("Siti"),
        "{text}"
    );
    assert!(
        messages[1].starts_with("Kepada Yth. Ketua RT 003 / RW 002")
            && messages[1].contains("1 layanan")
            && messages[1].contains("WL-3"),
        "{text}"
    );
    assert!(text.contains("(1 layanan tanpa RT/RW"), "{text}");
    let named_text = report(&named, day);
    assert!(
        named_text.contains("- Siti Aminah, entri WL-1")
            && named_text.contains(&format!("- Budi Santoso (NIK {nik})")),
        "{named_text}"
    );
    // Another day: nothing to send.
    assert_eq!(report(&plain, "2001-01-01").trim(), "");

    // The example refuses a delivery whose signature does not verify, and stores nothing of it.
    let before = stored(&plain).len();
    let mut ev = plain_evs[0].clone();
    ev["event_id"] = 9999.into();
    let body = serde_json::to_vec(&ev).unwrap();
    let t = jiff::Timestamp::now().as_second();
    let forged = jemput_hub::events::signature("not-the-secret-at-all", t, "9999", "opened", &body);
    let r = reqwest::Client::new()
        .post(&plain.url)
        .header("Jemput-Signature", forged)
        .header("Jemput-Event-Id", "9999")
        .header("Jemput-Event", "opened")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(stored(&plain).len(), before);
    h.shutdown().unwrap();
}

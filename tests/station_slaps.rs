//! The operator station with an SBI slap scanner, end to end: `jemput sbi serve --sim` (its
//! slap scanner's right index reading poorly, `--sim-poor-finger 2`), a kit trusting its CA, and
//! `jemput ui --scanner sbi:PORT/1/1 --camera sbi:PORT/2/0`, driven by Debian's Chromium through
//! playwright-core (`tests/ui/slap_visit.mjs`): the fingers go 4-4-2 — left slap with finger 9
//! marked missing first and finger 10 marked missing with a proof photo and un-marked again,
//! right slap, two thumbs (their page also in English) — then the review and the seal. The service's log
//! shows what the device was asked, and the packet opened with the office identity holds what
//! the pages showed. Needs the browser peers of `tests/station_ui.rs`.

mod common;

#[path = "ui/browser.rs"]
mod browser;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::SbiService;
use serde_json::Value;

/// A running `jemput ui` on a kit of its own (no `--sim`), stopped with SIGTERM on drop.
struct Station {
    child: Child,
    url: String,
}

impl Station {
    fn start(home: &Path, args: &[&str]) -> Station {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jemput"))
            .arg("--home")
            .arg(home)
            .args(["ui", "--no-browser", "--json", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("jemput starts");
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("ui: {line}");
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let out: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("`jemput ui --json` printed {line:?}: {e}"));
        let url = out["url"].as_str().expect("a url").to_string();
        Station { child, url }
    }
}

impl Drop for Station {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn the_station_takes_the_fingers_4_4_2_from_an_sbi_slap_scanner_and_seals_them() {
    if !browser::browser_peers() {
        return;
    }
    let svc = SbiService::start(&["--sim", "--sim-poor-finger", "2"]);
    let d = tempfile::tempdir().unwrap();
    let (home, _) = common::kit_with_office(d.path());
    common::run(
        &home,
        &["sbi", "trust", "add", svc.ca_cert.to_str().unwrap()],
    )
    .success();
    let visit = common::new_visit_id(&home, "lansia", &[]);
    let p = svc.port;
    let ui = Station::start(
        &home,
        &[
            "--scanner",
            &format!("sbi:{p}/1/1"),
            "--camera",
            &format!("sbi:{p}/2/0"),
        ],
    );
    let before = svc.captures().len();
    let shots = browser::screenshots();
    let shown = browser::scenario(
        "slap_visit.mjs",
        &[&ui.url, "rahasia-uji", &visit, shots.to_str().unwrap()],
    );
    eprintln!("slap_visit: {shown}");

    // The device was asked slap by slap: the left slap without finger 9 (sent as missing) but
    // with finger 10 (marked missing, then un-marked: asked again, no exception for it), the left
    // middle finger alone (the operator's retake: the slap's other fingers sent as exceptions),
    // the right slap, then the right index alone twice more (below the threshold: the engine's
    // retries, likewise), the two thumbs. The face and finger 10's proof photo are device 2's.
    let captures = svc.captures().split_off(before);
    let slaps: Vec<&String> = captures
        .iter()
        .filter(|l| l.contains("device_id=1"))
        .collect();
    assert_eq!(slaps.len(), 6, "{captures:#?}");
    let photos = captures
        .iter()
        .filter(|l| l.contains("device_id=2"))
        .count();
    assert_eq!(photos, 2, "the face and the proof photo: {captures:#?}");
    assert!(
        slaps[0].contains("device_sub_id=1")
            && slaps[0].contains("exception=[\"Left RingFinger\"]")
            && slaps[0].contains(
                "bio_sub_type=[\"Left IndexFinger\", \"Left MiddleFinger\", \"Left LittleFinger\"]"
            ),
        "{slaps:#?}"
    );
    assert!(
        slaps[1].contains("device_sub_id=1")
            && slaps[1].contains("bio_sub_type=[\"Left MiddleFinger\"]")
            && slaps[1].contains(
                "exception=[\"Left IndexFinger\", \"Left RingFinger\", \"Left LittleFinger\"]"
            ),
        "{slaps:#?}"
    );
    assert!(
        slaps[2].contains("device_sub_id=2") && slaps[2].contains("exception=[]"),
        "{slaps:#?}"
    );
    for retry in &slaps[3..5] {
        assert!(
            retry.contains("device_sub_id=2")
                && retry.contains("bio_sub_type=[\"Right IndexFinger\"]")
                && retry.contains(
                    "exception=[\"Right MiddleFinger\", \"Right RingFinger\", \"Right LittleFinger\"]"
                ),
            "{slaps:#?}"
        );
    }
    assert!(slaps[5].contains("device_sub_id=3"), "{slaps:#?}");

    // The packet holds nine fingers from the slap scanner, each with its original ISO/IEC
    // 19794-4 record and the device's score, and finger 9's exception.
    let packet_id = shown["packet_id"].as_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let opened = common::json(common::run(
        &home,
        &[
            "open",
            home.join(format!("packets/{packet_id}.jpk"))
                .to_str()
                .unwrap(),
            "--identity",
            d.path().join("office/office.age").to_str().unwrap(),
            "--out",
            out.path().join("open").to_str().unwrap(),
            "--json",
        ],
    ));
    let v = &opened["manifest"]["visit"];
    assert_eq!(v["id"], visit.as_str(), "{opened}");
    let files = opened["manifest"]["files"].to_string();
    // Finger 10's exception was withdrawn: its proof photo left the draft.
    assert!(!files.contains("proof-finger-10"), "{files}");
    let fingers = &v["captures"]["fingers"];
    for n in 1..=10u8 {
        let f = &fingers[n.to_string()];
        if n == 9 {
            assert_eq!(f["status"], "exception", "{f}");
            assert_eq!(f["reason"]["code"], "amputated", "{f}");
            assert_eq!(f["permanence"], "permanent", "{f}");
            continue;
        }
        assert_eq!(f["status"], "captured", "{n}: {f}");
        assert_eq!(f["device"]["driver"], "sbi", "{n}: {f}");
        let record = format!("finger-{n:02}.iso19794-4");
        assert_eq!(f["extra_files"], serde_json::json!([record]), "{n}: {f}");
        assert!(files.contains(&record), "{record} not in {files}");
        let device = if n == 2 { 10.0 } else { 85.0 };
        assert_eq!(f["device_quality"].as_f64(), Some(device), "{n}: {f}");
        // What the slap page showed: jemput's score and the device's.
        let code = format!("{n:02}");
        assert_eq!(
            shown["scores"][&code], f["quality"]["score"],
            "finger {code}: {shown}"
        );
        assert!(
            shown["texts"][&code]
                .as_str()
                .unwrap()
                .contains(&format!("skor perangkat {device:.1}")),
            "finger {code}: {shown}"
        );
    }
    // Attempts reached the slap page live (`GET /events`) while its slaps ran.
    assert!(shown["live"].as_u64().unwrap() >= 1, "{shown}");
    // The poor right index: three attempts, kept as forced, and the page said so.
    assert_eq!(fingers["2"]["retries"], 2, "{}", fingers["2"]);
    assert_eq!(fingers["2"]["forced"], true, "{}", fingers["2"]);
    assert_eq!(shown["attempts"]["02"], 3, "{shown}");
    assert_eq!(shown["attempts"]["03"], 1, "{shown}");
    assert!(
        shown["texts"]["02"]
            .as_str()
            .unwrap()
            .contains("Disimpan paksa"),
        "{shown}"
    );
}

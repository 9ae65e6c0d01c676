//! `jemput ui` end to end: the binary on a throw-away training kit (`--sim` with no kit: a local
//! hub, a synced worklist), driven by Debian's Chromium through playwright-core (the scenarios
//! in `tests/ui/*.mjs`), plus the refusals at the command line.
//!
//! Needs `node`, `chromium` (`apt-get install chromium`) and playwright-core in
//! /opt/jemput-test (`PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix /opt/jemput-test
//! playwright-core@1.65.1`; or JEMPUT_PLAYWRIGHT_NODE_MODULES): `scripts/install-test-peers`
//! installs them. Without them the browser tests are skipped with a `SKIPPED` line on stderr, or
//! fail under `JEMPUT_REQUIRE_PEERS=1` (as in CI). Screenshots (1366x768) are left in
//! `<target dir>/ui-screenshots/` for a person to look at.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TRAINING_PASSPHRASE: &str = "latihan";

#[path = "ui/browser.rs"]
mod browser;
use browser::{browser_peers, screenshots};

/// A running `jemput ui`; stopped with SIGTERM (so the training kit is removed) on drop.
struct Ui {
    child: Child,
    url: String,
    /// The training kit's directory (its `kit/`, `office/` and `hub/`), as `jemput ui` printed it.
    training: PathBuf,
    _home: tempfile::TempDir,
}

impl Ui {
    /// `jemput ui --sim --no-browser --json` on a home with no kit, on a free port.
    fn start() -> Ui {
        Ui::start_with(&[])
    }

    /// [`Ui::start`] with more arguments (`--realtime`).
    fn start_with(more: &[&str]) -> Ui {
        let home = tempfile::tempdir().unwrap();
        let (child, url, named) = Ui::spawn(&home.path().join("none-yet"), more);
        let training = named
            .recv_timeout(Duration::from_secs(10))
            .expect("`jemput ui --sim` names its training kit");
        Ui {
            child,
            url,
            training,
            _home: home,
        }
    }

    /// `jemput ui --sim` again on the kit of `training` (a training kit whose first station
    /// was killed, so nothing removed it): the kit exists, so `--sim` only starts the models.
    fn restart_on(training: &Path) -> Ui {
        let (child, url, _) = Ui::spawn(&training.join("kit"), &[]);
        Ui {
            child,
            url,
            training: training.to_path_buf(),
            _home: tempfile::tempdir().unwrap(),
        }
    }

    /// Starts `jemput --home HOME ui --sim --no-browser --json` on a free port; its URL, and
    /// where its note naming a training kit (if it makes one) arrives.
    fn spawn(home: &Path, more: &[&str]) -> (Child, String, std::sync::mpsc::Receiver<PathBuf>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jemput"))
            .args(["--home"])
            .arg(home)
            .args([
                "ui",
                "--sim",
                "--no-browser",
                "--json",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(more)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("jemput starts");
        // Its notes go on to the test's stderr; the one naming the training kit is kept.
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if let Some(rest) = line.strip_prefix("training kit at ") {
                    if let Some((dir, _)) = rest.split_once(" (removed") {
                        let _ = tx.send(PathBuf::from(dir));
                    }
                }
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let out: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("`jemput ui --json` printed {line:?}: {e}"));
        let url = out["url"].as_str().expect("a url").to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(url.contains("/?token="), "{url}");
        (child, url, rx)
    }

    /// Runs the scenario `tests/ui/<name>` with `args`; returns its JSON line.
    fn scenario(&self, name: &str, args: &[&str]) -> serde_json::Value {
        browser::scenario(name, args)
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The packet `packet_id` of the training kit at `training`, opened with its office identity
/// (`jemput open --json`).
fn open_packet(training: &Path, packet_id: &str) -> serde_json::Value {
    let kit = training.join("kit");
    let out = tempfile::tempdir().unwrap();
    serde_json::from_str(&jemput(
        &kit,
        &[
            "open",
            kit.join(format!("packets/{packet_id}.jpk"))
                .to_str()
                .unwrap(),
            "--identity",
            training.join("office/office.age").to_str().unwrap(),
            "--out",
            out.path().join("open").to_str().unwrap(),
            "--json",
        ],
    ))
    .unwrap()
}

/// An opened packet's `visit` against what a review page showed (`shown`): finger 7 the bandaged,
/// permanent exception, every other finger captured with the score the review showed, and the
/// signature's score.
fn holds_what_the_review_showed(visit: &serde_json::Value, shown: &serde_json::Value) {
    for n in 1..=10 {
        let code = format!("{n:02}");
        let slot = &visit["captures"]["fingers"][n.to_string()];
        if n == 7 {
            assert_eq!(slot["status"], "exception", "{slot}");
            assert_eq!(slot["reason"]["code"], "bandaged_or_injured", "{slot}");
            assert_eq!(slot["permanence"], "permanent", "{slot}");
        } else {
            assert_eq!(slot["status"], "captured", "{slot}");
            assert_eq!(
                shown["fingers"][&code], slot["quality"]["score"],
                "finger {code}: {slot}"
            );
        }
    }
    assert_eq!(
        shown["signature"], visit["captures"]["signature"]["quality"]["score"],
        "{shown}"
    );
    // The attempts the review showed: the retries the packet keeps, plus the one kept.
    for (code, attempts) in shown["attempts"].as_object().expect("attempts shown") {
        let n: u32 = code.parse().unwrap();
        let slot = &visit["captures"]["fingers"][n.to_string()];
        assert_eq!(
            attempts.as_u64(),
            slot["retries"].as_u64().map(|r| r + 1),
            "finger {code}: {slot}"
        );
    }
}

/// Message `id` of the station's Fluent file `file` in `lang`, its `{ $device }` the scanner's
/// name there (read from the files the binary embeds, so the scenario checks their words).
fn scanner_problem(lang: &str, file: &str, id: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("station/i18n/{lang}/{file}"));
    let text = std::fs::read_to_string(&path).unwrap();
    let message = |id: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{id} = ")))
            .unwrap_or_else(|| panic!("{id} in {}", path.display()))
            .to_string()
    };
    message(id).replace("{ $device }", &message("problem-role-scanner"))
}

/// Width and height of a PNG file (its IHDR chunk).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn an_operator_unlocks_and_sees_home_by_mouse_and_by_keyboard_in_chromium() {
    if !browser_peers() {
        return;
    }
    let ui = Ui::start();
    let shots = screenshots();
    let dir = shots.to_str().unwrap();
    let mouse = ui.scenario("unlock_mouse.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    // Pages stay light and local: the home page with its assets under 200 KB, nothing fetched
    // from elsewhere.
    let home_bytes = mouse["home_bytes"].as_u64().unwrap();
    assert!(home_bytes > 10_000 && home_bytes < 200_000, "{mouse}");
    assert_eq!(mouse["external"], 0, "{mouse}");
    ui.scenario("unlock_keyboard.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    ui.scenario("refusals.mjs", &[&ui.url, dir]);
    // Starting visits: from the worklist with a family member's consent; a resident not on the
    // list with a NIK warning confirmed, who refuses.
    let visits = ui.scenario("visit_start.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    assert!(visits["warnings"].as_u64().unwrap() >= 1, "{visits}");
    // Issue 14's scenario (1) in one run: the capture steps on the device models (face, ten
    // fingers with one retry and one exception, signature; part of it by keyboard), review,
    // seal, upload to the training hub; the packet, opened with the office identity, holds what
    // the pages showed.
    let captured = ui.scenario("visit_capture.mjs", &[&ui.url, TRAINING_PASSPHRASE, dir]);
    eprintln!("visit_capture: {captured}");
    assert!(captured["checks"].as_u64().unwrap() >= 5, "{captured}");
    assert!(captured["strokes"].as_u64().unwrap() >= 1, "{captured}");
    assert!(
        captured["receipt"]
            .as_str()
            .unwrap()
            .contains("Diterima kantor"),
        "{captured}"
    );
    // The one retry: the right index took two attempts, every other finger one.
    assert_eq!(captured["attempts"]["02"], 2, "{captured}");
    let packet_id = captured["packet_id"].as_str().unwrap();
    let queue: serde_json::Value =
        serde_json::from_str(&jemput(&ui.training.join("kit"), &["queue", "--json"])).unwrap();
    let entry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["packet_id"] == packet_id)
        .unwrap_or_else(|| panic!("{packet_id} not in {queue}"));
    assert_eq!(entry["state"], "acknowledged", "{entry}");
    let opened = open_packet(&ui.training, packet_id);
    let visit = &opened["manifest"]["visit"];
    assert_eq!(visit["id"], captured["visit"], "{captured}");
    assert_eq!(visit["resident"]["name"], "Warga Contoh 3");
    assert_eq!(captured["resident"], "Warga Contoh 3", "{captured}");
    assert_eq!(
        visit["captures"]["face"]["status"], "captured",
        "{}",
        visit["captures"]["face"]
    );
    holds_what_the_review_showed(visit, &captured);
    // Finger 7's exception carries the proof photo taken with the camera ("Foto bukti"), and the
    // review linked it.
    assert_eq!(
        visit["captures"]["fingers"]["7"]["proof_file"], "proof-finger-07.jpg",
        "{}",
        visit["captures"]["fingers"]["7"]
    );
    let files = opened["manifest"]["files"].to_string();
    assert!(files.contains("proof-finger-07.jpg"), "{files}");
    assert!(
        captured["fingers"]["07"]
            .as_str()
            .unwrap()
            .contains("foto bukti"),
        "{captured}"
    );
    // The scores the finger steps showed on the hand are the review's (the scenario checks) and
    // so the packet's.
    assert_eq!(captured["kept"].as_object().unwrap().len(), 9, "{captured}");
    for name in [
        "01-buka-kunci",
        "02-kata-sandi-salah",
        "03-beranda",
        "04-home-en",
        "05-keyboard-buka-kunci",
        "06-keyboard-beranda",
        "07-tanpa-token-403",
        "08-kunjungan-baru",
        "09-persetujuan",
        "10-peringatan-nik",
        "11-menolak",
        "12-beranda-kunjungan",
        "13-foto-wajah",
        "14-jari-01",
        "15-jari-02-diulang",
        "16-pengecualian-jari-07",
        "17-tanda-tangan",
        "18-sepuluh-jari",
        "19-perangkat",
        "19a-periksa",
        "19b-unggah",
    ] {
        assert_eq!(
            png_size(&shots.join(format!("{name}.png"))),
            (1366, 768),
            "{name}"
        );
    }
}

#[test]
fn a_non_loopback_listen_address_is_refused_before_anything_starts() {
    let home = tempfile::tempdir().unwrap();
    for addr in ["0.0.0.0:8765", "192.0.2.1:8765", "[::]:8765"] {
        let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
            .arg("--home")
            .arg(home.path())
            .args(["ui", "--sim", "--no-browser", "--listen", addr])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{addr}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a loopback address"), "{addr}: {err}");
        assert!(out.stdout.is_empty(), "no URL printed for {addr}");
    }
    // No training kit was made for a refused address.
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[test]
fn without_a_kit_and_without_sim_the_error_says_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
        .arg("--home")
        .arg(home.path())
        .args(["ui", "--no-browser"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jemput init"), "{err}");
    assert!(err.contains("jemput ui --sim"), "{err}");
}

/// `jemput --home HOME ARGS…` on the training kit; its stdout.
fn jemput(home: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "jemput {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_synthetic_visit_is_reviewed_sealed_and_uploaded_in_chromium_and_its_packet_holds_what_the_review_showed(
) {
    if !browser_peers() {
        return;
    }
    let ui = Ui::start();
    let shots = screenshots();
    let kit = ui.training.join("kit");
    // The visit filled by the kit's synthetic filler, against the same home the station serves,
    // with finger 7 bandaged for good.
    let made: serde_json::Value = serde_json::from_str(&jemput(
        &kit,
        &[
            "visit",
            "new",
            "--worklist",
            "DEMO-002",
            "--synthetic",
            "--consent",
            "resident",
            "--exception",
            "7=bandaged,permanent",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(made["ready"], true, "{made}");
    let visit_id = made["visit_id"].as_str().unwrap().to_string();

    let shown = ui.scenario(
        "review_seal_upload.mjs",
        &[&ui.url, TRAINING_PASSPHRASE, shots.to_str().unwrap()],
    );
    let packet_id = shown["packet_id"].as_str().unwrap();
    eprintln!("review_seal_upload: {shown}");
    // The review with its face photo and eleven thumbnails stays light (about 130 KB, the
    // vendored htmx 52 KB of it), as the browser's resource timing counts it.
    let review_bytes = shown["review_bytes"].as_u64().unwrap();
    assert!(review_bytes > 20_000 && review_bytes < 200_000, "{shown}");
    assert!(
        shown["receipt"]
            .as_str()
            .unwrap()
            .contains("Diterima kantor"),
        "{shown}"
    );

    // The kit's queue: the packet is acknowledged by the hub's receipt.
    let queue: serde_json::Value =
        serde_json::from_str(&jemput(&kit, &["queue", "--json"])).unwrap();
    let entry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["packet_id"] == packet_id)
        .unwrap_or_else(|| panic!("{packet_id} not in {queue}"));
    assert_eq!(entry["state"], "acknowledged", "{entry}");
    assert_eq!(entry["visit_id"], visit_id.as_str(), "{entry}");

    // Opened with the office's identity, the packet holds what the review showed.
    let opened = open_packet(&ui.training, packet_id);
    let visit = &opened["manifest"]["visit"];
    assert_eq!(visit["id"], visit_id.as_str());
    assert_eq!(visit["resident"]["name"], "Warga Contoh 2");
    assert_eq!(shown["resident"], "Warga Contoh 2", "{shown}");
    holds_what_the_review_showed(visit, &shown);
    let row = shown["fingers"]["07"].as_str().unwrap();
    assert!(row.contains("diperban atau luka · permanen"), "{row}");
    for name in [
        "R1-persetujuan",
        "R2-beranda-lanjutkan",
        "R3-periksa",
        "R4-periksa-jari",
        "R5-disegel",
        "R6-unggah",
    ] {
        assert_eq!(
            png_size(&shots.join(format!("{name}.png"))),
            (1366, 768),
            "{name}"
        );
    }
}

#[test]
fn realtime_needs_the_models_and_device_selectors_are_for_real_devices() {
    let home = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["ui", "--realtime", "--no-browser"][..], "--sim"),
        (
            &["ui", "--sim", "--scanner", "sim:ef01", "--no-browser"][..],
            "cannot be used with",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
            .arg("--home")
            .arg(home.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

/// Issue 14's "pause and resume": `jemput ui` killed with SIGKILL in the middle of the fingers (a
/// crash, a flat battery) and started again resumes the visit at the finger where it stopped,
/// with the face and the fingers already taken; the visit is finished, reviewed and sealed, and
/// its packet, opened with the office identity, holds what the review showed.
#[test]
fn a_station_killed_mid_visit_resumes_it_at_the_finger_where_it_stopped() {
    if !browser_peers() {
        return;
    }
    let shots = screenshots();
    let dir = shots.to_str().unwrap();
    let mut first = Ui::start();
    let training = first.training.clone();
    let part1 = first.scenario(
        "resume_after_kill.mjs",
        &["part1", &first.url, TRAINING_PASSPHRASE, dir],
    );
    let visit_id = part1["visit"].as_str().unwrap().to_string();
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    drop(first);
    assert!(
        training.join("kit").is_dir(),
        "a killed station cannot remove its training kit"
    );
    // The draft is all there is now: face and fingers 1-3 in it.
    let second = Ui::restart_on(&training);
    let shown = second.scenario(
        "resume_after_kill.mjs",
        &["part2", &second.url, TRAINING_PASSPHRASE, dir, &visit_id],
    );
    eprintln!("resume_after_kill: {shown}");
    assert_eq!(shown["visit"], visit_id.as_str());
    let packet_id = shown["packet_id"].as_str().unwrap();
    let opened = open_packet(&training, packet_id);
    drop(second);
    let _ = std::fs::remove_dir_all(&training);
    let visit = &opened["manifest"]["visit"];
    assert_eq!(visit["id"], visit_id.as_str());
    assert_eq!(visit["resident"]["name"], "Warga Contoh 3");
    assert_eq!(shown["resident"], "Warga Contoh 3", "{shown}");
    assert_eq!(
        visit["captures"]["face"]["status"], "captured",
        "{}",
        visit["captures"]["face"]
    );
    holds_what_the_review_showed(visit, &shown);
    for name in [
        "K1-sebelum-mati",
        "K2-beranda-setelah-mati",
        "K3-dilanjutkan",
    ] {
        assert_eq!(
            png_size(&shots.join(format!("{name}.png"))),
            (1366, 768),
            "{name}"
        );
    }
}

/// Issue 14's "every action works from the keyboard alone", as one run: a whole visit from unlock
/// to the hub's receipt by Tab, typing, the arrow keys and Enter (`whole_visit_keyboard.mjs`).
#[test]
fn a_whole_visit_by_keyboard_alone_from_unlock_to_the_hubs_receipt() {
    if !browser_peers() {
        return;
    }
    let ui = Ui::start();
    let shots = screenshots();
    let done = ui.scenario(
        "whole_visit_keyboard.mjs",
        &[&ui.url, TRAINING_PASSPHRASE, shots.to_str().unwrap()],
    );
    let packet_id = done["packet_id"].as_str().unwrap();
    let kit = ui.training.join("kit");
    let queue: serde_json::Value =
        serde_json::from_str(&jemput(&kit, &["queue", "--json"])).unwrap();
    let entry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["packet_id"] == packet_id)
        .unwrap_or_else(|| panic!("{packet_id} not in {queue}"));
    assert_eq!(entry["state"], "acknowledged", "{entry}");
    assert_eq!(entry["visit_id"], done["visit"], "{entry}");
    for name in [
        "W1-keyboard-pengecualian",
        "W2-keyboard-periksa",
        "W3-keyboard-unggah",
    ] {
        assert_eq!(
            png_size(&shots.join(format!("{name}.png"))),
            (1366, 768),
            "{name}"
        );
    }
}

/// Issue 14's test (3): a device fault in the middle of a capture. The trainer's control on the
/// device panel pulls the scanner model's cable; "Ambil sidik jari" then shows problems.ftl's
/// Indonesian words for an unplugged scanner (never the English ones), the face and the fingers
/// already taken stay, and once the scanner is plugged in again the retry captures the finger
/// (`device_fault.mjs`).
#[test]
fn a_scanner_unplugged_mid_capture_is_said_in_indonesian_in_chromium_and_the_retry_works() {
    let ui = Ui::start();
    let shots = screenshots();
    let id = scanner_problem("id", "problems.ftl", "problem-unplugged");
    let en = scanner_problem("en", "problems.ftl", "problem-unplugged");
    assert!(
        id.starts_with("Pemindai sidik jari tidak terhubung."),
        "{id}"
    );
    let done = ui.scenario(
        "device_fault.mjs",
        &[
            &ui.url,
            TRAINING_PASSPHRASE,
            shots.to_str().unwrap(),
            &id,
            &en,
        ],
    );
    eprintln!("device_fault: {done}");
    for name in [
        "F1-cabut-pemindai",
        "F2-gangguan-pemindai",
        "F3-colokkan-lagi",
        "F4-jari-03-diambil",
    ] {
        assert_eq!(
            png_size(&shots.join(format!("{name}.png"))),
            (1366, 768),
            "{name}"
        );
    }
}

/// Issue 14's "the trace drawn live as the resident signs": with the models at device speed
/// (`--realtime`), the signature step's live trace gains points from the pad's samples while the
/// capture request still runs, and the kept trace shows when it ends (`signature_live.mjs`).
#[test]
fn the_signature_is_drawn_live_in_chromium_while_the_resident_writes() {
    let ui = Ui::start_with(&["--realtime"]);
    let shots = screenshots();
    // A visit with every capture already there (the synthetic filler); its signature is taken
    // again on the pad model.
    let made: serde_json::Value = serde_json::from_str(&jemput(
        &ui.training.join("kit"),
        &[
            "visit",
            "new",
            "--worklist",
            "DEMO-002",
            "--synthetic",
            "--consent",
            "resident",
            "--json",
        ],
    ))
    .unwrap();
    let visit_id = made["visit_id"].as_str().unwrap();
    let done = ui.scenario(
        "signature_live.mjs",
        &[
            &ui.url,
            TRAINING_PASSPHRASE,
            shots.to_str().unwrap(),
            visit_id,
        ],
    );
    eprintln!("signature_live: {done}");
    assert!(done["most"].as_u64().unwrap() >= 10, "{done}");
    for name in ["S1-tanda-tangan-langsung", "S2-tanda-tangan-disimpan"] {
        assert_eq!(
            png_size(&shots.join(format!("{name}.png"))),
            (1366, 768),
            "{name}"
        );
    }
}

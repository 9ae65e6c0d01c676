//! The SBI `STREAM` preview of `jemput sbi serve --sim` over real HTTP on loopback: the answer's
//! M-JPEG (content type and boundary, every part a JPEG of the preview's size that decodes, the
//! frames moving, the closing delimiter at the timeout), the SBI errors of a device that is not
//! there, a sub-device it lacks and a device without a preview, a hang-up or a capture ending the
//! preview and leaving the device free, and `jemput capture face sbi:… --preview-frames N`.
//! Independently, a Python reader (`tests/peers/sbi_stream_check.py`) parses the multipart stream
//! on its own and decodes every frame with Pillow.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{kit_trusting, SbiService};
use jemput_sbi::client::{self, MultipartReader, Part, PreviewFrame};
use jemput_sbi::SbiError;
use jemput_sbi_service::sim;
use serde_json::Value;

/// `--sim` (1 the slap scanner, 2 the camera), an EF01 model (3, a single-finger scanner) and a
/// PTP camera model (4, stills only).
fn start() -> SbiService {
    SbiService::start(&["--sim", "--device", "sim:ef01", "--device", "sim:ptp"])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The answer to `STREAM /stream` with `body`, read to its end: status, content type, cache
/// control, the body, and how long it took.
struct Raw {
    status: u16,
    content_type: String,
    cache_control: String,
    body: Vec<u8>,
    took: Duration,
}

fn stream_raw(port: u16, body: &str) -> Raw {
    runtime().block_on(async {
        let begun = Instant::now();
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .request(
                reqwest::Method::from_bytes(b"STREAM").unwrap(),
                format!("http://127.0.0.1:{port}/stream"),
            )
            .body(body.to_string())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        let header = |h| {
            r.headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let (status, content_type, cache_control) = (
            r.status().as_u16(),
            header(reqwest::header::CONTENT_TYPE),
            header(reqwest::header::CACHE_CONTROL),
        );
        let body = r.bytes().await.unwrap().to_vec();
        Raw {
            status,
            content_type,
            cache_control,
            body,
            took: begun.elapsed(),
        }
    })
}

/// The frames of a whole M-JPEG body, and whether it ended with the closing delimiter.
fn frames_of(raw: &Raw) -> (Vec<PreviewFrame>, bool) {
    let boundary = client::multipart_boundary(&raw.content_type)
        .unwrap_or_else(|| panic!("not M-JPEG: {:?}", raw.content_type));
    let mut r = MultipartReader::new(&boundary);
    r.push(&raw.body);
    let mut frames = Vec::new();
    loop {
        match r.next_part().unwrap() {
            Part::Frame(f) => frames.push(f),
            Part::End => return (frames, true),
            Part::More => return (frames, false),
        }
    }
}

/// Each frame decoded as a JPEG (refused otherwise), with its size.
fn decoded(frames: &[PreviewFrame]) -> Vec<image::RgbImage> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            assert_eq!(f.content_type, "image/jpeg", "frame {i}");
            image::load_from_memory_with_format(&f.jpeg, image::ImageFormat::Jpeg)
                .unwrap_or_else(|e| panic!("frame {i} is not a JPEG that decodes: {e}"))
                .to_rgb8()
        })
        .collect()
}

/// `jemput --home HOME ARGS`, its output.
fn kit(home: &Path, args: &[&str]) -> Output {
    common::jemput()
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap()
}

/// `jemput capture face sbi:PORT/2/0 --json --out DIR/face.jpg ARGS`, which must succeed: its JSON.
fn capture_face(svc: &SbiService, home: &Path, args: &[&str]) -> Value {
    let (sel, out) = (format!("sbi:{}/2/0", svc.port), home.join("face.jpg"));
    let mut all = vec![
        "capture",
        "face",
        &sel,
        "--json",
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let got = kit(home, &all);
    assert!(got.status.success(), "{got:?}");
    serde_json::from_slice(&got.stdout).unwrap()
}

/// The status discovery gives device `id`.
fn status(port: u16, id: &str) -> String {
    let found = runtime()
        .block_on(client::discover(port, Duration::from_secs(5)))
        .unwrap();
    found
        .into_iter()
        .find(|d| d.device_id == id)
        .unwrap()
        .device_status
}

/// The SBI error code a `STREAM` of `device_id`/`sub_id` is refused with.
fn refused(port: u16, device_id: &str, sub_id: u8) -> (String, String) {
    match runtime().block_on(client::stream(
        port,
        device_id,
        sub_id,
        Duration::from_secs(2),
    )) {
        Err(SbiError::Device { code, info }) => (code, info),
        Err(e) => panic!("{device_id}/{sub_id}: not an SBI error: {e}"),
        Ok(_) => panic!("{device_id}/{sub_id}: a stream where an error was due"),
    }
}

#[test]
fn the_sim_camera_streams_moving_jpeg_frames_until_its_timeout() {
    let svc = start();
    let raw = stream_raw(
        svc.port,
        r#"{"deviceId": "2", "deviceSubId": "0", "timeout": "3000"}"#,
    );
    assert_eq!(raw.status, 200);
    assert!(
        raw.content_type
            .starts_with("multipart/x-mixed-replace; boundary=jemput-frame-"),
        "{}",
        raw.content_type
    );
    assert_eq!(raw.cache_control, "no-store");
    let (frames, ended) = frames_of(&raw);
    assert!(ended, "the stream ends with the closing delimiter");
    // Five a second for three seconds; generously counted (a loaded machine makes fewer), and
    // not more than the pacing allows (the simulator could make hundreds).
    assert!(
        (6..=17).contains(&frames.len()),
        "{} frames in {:?}",
        frames.len(),
        raw.took
    );
    assert!(
        raw.took >= Duration::from_millis(2500),
        "ended at its timeout, not before: {:?}",
        raw.took
    );
    let images = decoded(&frames);
    for img in &images {
        assert_eq!(img.dimensions(), sim::CAMERA_PREVIEW);
    }
    let mut distinct: Vec<&[u8]> = images.iter().map(|i| i.as_raw().as_slice()).collect();
    distinct.dedup();
    assert!(distinct.len() >= 3, "the preview moves: {}", distinct.len());

    let ended = svc.log_lines("STREAM ended", 1, Duration::from_secs(5));
    assert!(ended[0].contains("why=\"timeout\""), "{ended:?}");
    // The device is free again: "Ready", and it captures.
    assert_eq!(status(svc.port, "2"), "Ready");
    let dir = tempfile::tempdir().unwrap();
    kit_trusting(dir.path(), &svc.ca_cert);
    let r = capture_face(&svc, dir.path(), &[]);
    assert_eq!(r["device_quality"], 90.0, "{r}");
}

#[test]
fn the_slap_scanner_previews_its_slaps_and_what_cannot_preview_says_so() {
    let svc = start();
    let p = svc.port;
    let cell = (
        jemput_drivers::synth::FINGER_WIDTH / 4,
        jemput_drivers::synth::FINGER_HEIGHT / 4,
    );
    for sub in [1, 3] {
        let raw = stream_raw(
            p,
            &format!(r#"{{"deviceId": 1, "deviceSubId": {sub}, "timeout": 1500}}"#),
        );
        let (frames, ended) = frames_of(&raw);
        assert!(ended && frames.len() >= 3, "sub {sub}: {}", frames.len());
        for img in decoded(&frames) {
            assert_eq!(img.dimensions(), sim::slap_preview_size(cell), "sub {sub}");
        }
    }
    // The camera named by its serial number (discovery's deviceCode) rather than its id.
    let raw = stream_raw(
        p,
        r#"{"serialNo": "JEMPUTSIMCAM00001", "deviceSubId": "0", "timeout": "1000"}"#,
    );
    assert!(!decoded(&frames_of(&raw).0).is_empty());

    assert_eq!(refused(p, "9", 0).0, "106", "no device 9");
    assert_eq!(
        refused(p, "1", 0).0,
        "109",
        "a slap scanner has no sub-id 0"
    );
    assert_eq!(refused(p, "1", 4).0, "109");
    assert_eq!(refused(p, "2", 1).0, "109", "a camera has sub-id 0 only");
    let (code, info) = refused(p, "3", 0);
    assert_eq!(code, "501", "{info}");
    assert!(info.contains("no preview"), "{info}");
    let (code, info) = refused(p, "4", 0);
    assert_eq!(code, "501", "{info}");
    assert!(info.contains("takes stills only"), "a PTP camera: {info}");
    // Not JSON: refused as the other verbs refuse it.
    let raw = stream_raw(p, "deviceId=2");
    assert_eq!(raw.status, 400);
    assert_eq!(raw.content_type, "application/json");
    let v: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(v["error"]["errorCode"], "101", "{v}");
    // None of those left a preview running.
    assert_eq!(status(p, "1"), "Ready");
}

#[test]
fn hanging_up_or_a_capture_ends_the_preview_and_leaves_the_device_free() {
    let svc = start();
    let dir = tempfile::tempdir().unwrap();
    kit_trusting(dir.path(), &svc.ca_cert);
    let rt = runtime();

    // A client that reads the answer's first bytes and hangs up (a plain socket, closed).
    {
        let body = r#"{"deviceId": "2", "deviceSubId": "0", "timeout": "60000"}"#;
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", svc.port)).unwrap();
        write!(
            tcp,
            "STREAM /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut head = [0u8; 64];
        tcp.read_exact(&mut head).unwrap();
        assert!(head.starts_with(b"HTTP/1.1 200 OK"));
    }
    let ended = svc.log_lines("STREAM ended", 1, Duration::from_secs(10));
    assert_eq!(ended.len(), 1, "the hang-up ended the preview");
    assert!(ended[0].contains("why=\"client gone\""), "{ended:?}");
    // jemput's client, closed after two frames.
    rt.block_on(async {
        let mut s = client::stream(svc.port, "2", 0, Duration::from_secs(60))
            .await
            .unwrap();
        for _ in 0..2 {
            assert!(s.next_frame().await.unwrap().is_some());
        }
        s.close().await;
    });
    let ended = svc.log_lines("STREAM ended", 2, Duration::from_secs(10));
    assert_eq!(ended.len(), 2, "closing the client ended the preview");
    assert!(ended[1].contains("why=\"client gone\""), "{ended:?}");

    // A capture while a preview runs: the capture is taken, and the preview ends (no frame is
    // added to the stream once a capture is asked, as the specification says).
    let mut s = rt
        .block_on(client::stream(svc.port, "2", 0, Duration::from_secs(60)))
        .unwrap();
    assert!(rt.block_on(s.next_frame()).unwrap().is_some());
    let r = capture_face(&svc, dir.path(), &[]);
    assert_eq!(r["device_quality"], 90.0, "{r}");
    let mut more = 0;
    while rt.block_on(s.next_frame()).unwrap().is_some() {
        more += 1;
        assert!(more < 5, "the preview goes on after the capture");
    }
    let ended = svc.log_lines("STREAM ended", 3, Duration::from_secs(10));
    assert!(
        ended[2].contains("why=\"ended for a capture or another STREAM\""),
        "{ended:?}"
    );
    drop(s);
    // Free: "Ready", another capture, another preview.
    assert_eq!(status(svc.port, "2"), "Ready");
    capture_face(&svc, dir.path(), &[]);
    let raw = stream_raw(
        svc.port,
        r#"{"deviceId": "2", "deviceSubId": "0", "timeout": "1000"}"#,
    );
    assert!(!frames_of(&raw).0.is_empty());
}

#[test]
fn capture_face_sbi_counts_preview_frames_before_the_signed_capture() {
    let svc = start();
    let dir = tempfile::tempdir().unwrap();
    kit_trusting(dir.path(), &svc.ca_cert);
    let r = capture_face(&svc, dir.path(), &["--preview-frames", "4"]);
    assert_eq!(r["preview"]["frames"], 4, "{r}");
    assert!(r["preview"]["fps"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(
        r["device_quality"], 90.0,
        "the capture is the signed RCAPTURE: {r}"
    );
    // The kit hung up after its four frames, then captured.
    let ended = svc.log_lines("STREAM ended", 1, Duration::from_secs(10));
    assert!(ended[0].contains("why=\"client gone\""), "{ended:?}");
    assert_eq!(svc.captures().len(), 1);

    // Without --json: one line per frame on stderr, then the rate.
    let out = kit(
        dir.path(),
        &[
            "capture",
            "face",
            &format!("sbi:{}/2/0", svc.port),
            "--preview-frames",
            "3",
            "--out",
            dir.path().join("f2.jpg").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("frame ")).collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(err.contains("preview: 3 frames in"), "{err}");
}

const INSTALL: &str = "pip install Pillow (scripts/install-test-peers)";

/// Independently of jemput's client: Python reads the stream with its own multipart parser
/// (http.client, the part headers by hand), checks each part's Content-Length against its bytes
/// and decodes every frame with Pillow.
#[test]
fn a_python_reader_parses_the_stream_and_decodes_every_frame_with_pillow() {
    if !jemput_testkit::python_modules(&["PIL"], INSTALL) {
        return;
    }
    let svc = start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/sbi_stream_check.py");
    let run = |device: &str, sub: &str| -> Value {
        let out = std::process::Command::new("python3")
            .arg(&script)
            .args([&svc.port.to_string(), device, sub, "2000"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let cam = run("2", "0");
    assert_eq!(cam["status"], 200, "{cam}");
    assert_eq!(cam["ended"], true, "{cam}");
    let frames = cam["frames"].as_array().unwrap();
    assert!(frames.len() >= 4, "{cam}");
    for f in frames {
        assert_eq!(f["format"], "JPEG", "{f}");
        assert_eq!(
            (f["width"].as_u64().unwrap(), f["height"].as_u64().unwrap()),
            (
                u64::from(sim::CAMERA_PREVIEW.0),
                u64::from(sim::CAMERA_PREVIEW.1)
            )
        );
    }
    let slap = run("1", "2");
    assert!(slap["frames"].as_array().unwrap().len() >= 4, "{slap}");
    let none = run("3", "0");
    assert_eq!(none["error"]["errorCode"], "501", "{none}");
    assert_eq!(none["frames"].as_array().unwrap().len(), 0, "{none}");
}

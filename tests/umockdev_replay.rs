//! The umockdev replay tier: the usbmon pcaps recorded in the VM tier (tests/vm/fixtures, made by
//! `JEMPUT_VM_PCAP_DIR=tests/vm/fixtures bash tests/vm/run.sh`) are replayed under
//! `umockdev-run` to the real `jemput` binary — rusb, the system libusb, the PTP and U.are.U
//! drivers — with no QEMU and no device model. Each replay must write exactly the file jemput
//! wrote in the guest (its SHA-256 is in `replay.sha256`).
//!
//! umockdev's pcap replay (`src/umockdev-pcap.vala`) hands back a URB only when the next packet
//! of the recording is its submission or completion, comparing type, endpoint, length and every
//! OUT byte: a driver whose URB sequence changes stalls, times out and fails here.
//!
//! Without `umockdev-run` 0.16 or later (Debian package `umockdev`) the replays are skipped with a
//! `SKIPPED` line on stderr (they fail under `JEMPUT_REQUIRE_PEERS=1`, as in CI); the fixture
//! checks that need no umockdev still run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/fixtures");

/// libpcap's link type for usbmon's binary interface with the 64-byte header
/// (`DLT_USB_LINUX_MMAPPED`), the only one umockdev replays.
const DLT_USB_LINUX_MMAPPED: u32 = 220;

/// How long one replay may take before it counts as stuck (a replay that matches takes well
/// under a second; a diverging one waits for the driver's own timeouts).
const REPLAY_DEADLINE: Duration = Duration::from_secs(60);

/// Writes to the real stderr: the test harness captures `eprintln!`, not this.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

const INSTALL_UMOCKDEV: &str = "apt-get install umockdev, or scripts/install-test-peers";

/// `umockdev-run` 0.16 or later (pcap replay, `-p`, came in 0.16), or None with the test skipped
/// visibly (failed under `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
fn umockdev_run() -> Option<PathBuf> {
    let program = jemput_testkit::find_program("umockdev-run");
    let Some(program) = program else {
        jemput_testkit::missing("umockdev-run", INSTALL_UMOCKDEV);
        return None;
    };
    let out = Command::new(&program)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", program.display()));
    assert!(
        out.status.success(),
        "umockdev-run --version failed ({})",
        out.status
    );
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let numbers: Vec<u32> = version.split('.').map_while(|n| n.parse().ok()).collect();
    if numbers.len() < 2 || (numbers[0], numbers[1]) < (0, 16) {
        jemput_testkit::missing(
            &format!("umockdev-run 0.16 or later to replay pcaps (this is {version})"),
            INSTALL_UMOCKDEV,
        );
        return None;
    }
    Some(program)
}

/// One packet of a usbmon pcap: the 64-byte mmapped header's fields that the replay matches on.
#[derive(Debug)]
struct UsbPacket {
    event: u8,
    transfer_type: u8,
    endpoint: u8,
    device: u8,
    bus: u16,
    status: i32,
    urb_len: u32,
    data_len: u32,
    data: Vec<u8>,
}

/// Reads a classic (little-endian, microsecond) pcap file of usbmon packets, as tcpdump writes it.
fn read_usb_pcap(bytes: &[u8]) -> Result<(u32, Vec<UsbPacket>), String> {
    let u32_at = |b: &[u8], at: usize| -> Result<u32, String> {
        b.get(at..at + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    if u32_at(bytes, 0)? != 0xA1B2_C3D4 {
        return Err("not a little-endian microsecond pcap file".into());
    }
    let link_type = u32_at(bytes, 20)?;
    let mut packets = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let caplen = u32_at(bytes, at + 8)? as usize;
        let body = bytes
            .get(at + 16..at + 16 + caplen)
            .ok_or_else(|| format!("packet at byte {at} runs past the end"))?;
        if body.len() < 64 {
            return Err(format!(
                "packet at byte {at} is shorter than the usbmon header"
            ));
        }
        let data_len = u32_at(body, 36)?;
        packets.push(UsbPacket {
            event: body[8],
            transfer_type: body[9],
            endpoint: body[10],
            device: body[11],
            bus: u16::from_le_bytes([body[12], body[13]]),
            status: i32::from_le_bytes(body[28..32].try_into().unwrap()),
            urb_len: u32_at(body, 32)?,
            data_len,
            data: body[64..].to_vec(),
        });
        at += 16 + caplen;
    }
    Ok((link_type, packets))
}

/// The sysfs path (`/sys/devices/…`) of the first device in an umockdev-record description.
fn sysfs_path(description: &str) -> String {
    let p = description
        .lines()
        .find_map(|l| l.strip_prefix("P: "))
        .expect("a P: line in the description");
    format!("/sys{p}")
}

/// `busnum` and `devnum` of the first device in an umockdev-record description.
fn bus_and_device(description: &str) -> (u16, u8) {
    let first = description.split("\n\n").next().unwrap();
    let attr = |name: &str| -> String {
        first
            .lines()
            .find_map(|l| l.strip_prefix(&format!("A: {name}=")))
            .unwrap_or_else(|| panic!("no {name} attribute"))
            .trim_end_matches("\\n")
            .to_string()
    };
    (
        attr("busnum").parse().unwrap(),
        attr("devnum").parse().unwrap(),
    )
}

/// The SHA-256 the guest computed of the file jemput wrote, from `replay.sha256`.
fn recorded_sha256(file: &str) -> String {
    let list = std::fs::read_to_string(fixture("replay.sha256")).unwrap();
    list.lines()
        .find_map(|l| {
            let (hash, name) = l.split_once(char::is_whitespace)?;
            (name.trim() == file).then(|| hash.to_string())
        })
        .unwrap_or_else(|| panic!("{file} is not in replay.sha256"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The recorded capture of `name` checked without umockdev: a usbmon pcap of the right link
/// type holding the device's transfers, each OUT submission with its data, and the description
/// naming the same bus and device.
fn check_fixture(name: &str) -> Vec<UsbPacket> {
    let description = std::fs::read_to_string(fixture(&format!("{name}.umockdev"))).unwrap();
    let (bus, device) = bus_and_device(&description);
    let bytes = std::fs::read(fixture(&format!("{name}.pcap"))).unwrap();
    let (link_type, packets) = read_usb_pcap(&bytes).unwrap();
    assert_eq!(link_type, DLT_USB_LINUX_MMAPPED, "{name}.pcap link type");
    let ours: Vec<UsbPacket> = packets
        .into_iter()
        .filter(|p| p.bus == bus && p.device == device)
        .collect();
    assert!(
        ours.len() > 10,
        "{name}: {} packets of {bus}:{device}",
        ours.len()
    );
    for p in &ours {
        // umockdev asserts that every packet's data was captured in full.
        assert_eq!(
            p.data.len(),
            p.data_len as usize,
            "{name}: truncated packet {p:?}"
        );
        let out = p.endpoint & 0x80 == 0;
        if p.event == b'S' && out && p.transfer_type != 2 {
            assert_eq!(
                p.data_len, p.urb_len,
                "{name}: an OUT submission without its data"
            );
        }
    }
    ours
}

/// What one replay gave: jemput's exit status, its stdout, the end of the log, the written file.
struct Replay {
    status: std::process::ExitStatus,
    stdout: String,
    /// The last 40 lines of stderr: the end of umockdev's log says where a replay stopped.
    stderr: String,
    written: Option<Vec<u8>>,
    took: Duration,
}

/// Runs `jemput capture <args> --out <tmp>/<out>` under `umockdev` (from [`umockdev_run`]) with
/// the description of `name` and the pcap `pcap`.
fn run_replay(umockdev: &Path, name: &str, pcap: &Path, args: &[&str], out: &str) -> Replay {
    let description = fixture(&format!("{name}.umockdev"));
    let sysfs = sysfs_path(&std::fs::read_to_string(&description).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join(out);
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut child = Command::new(umockdev)
        .arg("-d")
        .arg(&description)
        .arg("-p")
        .arg(format!("{sysfs}={}", pcap.display()))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_jemput"))
        .arg("capture")
        .args(args)
        .arg("--out")
        .arg(&out_path)
        .args(["--json", "--timeout", "10"])
        .env("HOME", dir.path())
        .env("RUST_LOG", "warn")
        // Files, not pipes: a stuck replay makes umockdev log ten lines a second, which would
        // fill a pipe nobody reads until the child exits.
        .stdout(Stdio::from(std::fs::File::create(&stdout_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&stderr_path).unwrap()))
        .spawn()
        .expect("umockdev-run starts");
    let begun = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if begun.elapsed() > REPLAY_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the replay of {name} is stuck after {REPLAY_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let lines: Vec<&str> = stderr.lines().collect();
    Replay {
        status,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: lines[lines.len().saturating_sub(40)..].join("\n"),
        written: std::fs::read(&out_path).ok(),
        took: begun.elapsed(),
    }
}

/// Replays the recording `name` and returns the bytes jemput wrote, or None (the test skipped
/// visibly) when umockdev is not installed.
#[track_caller]
fn replay(name: &str, args: &[&str], out: &str) -> Option<Vec<u8>> {
    let umockdev = umockdev_run()?;
    let pcap = fixture(&format!("{name}.pcap"));
    let r = run_replay(&umockdev, name, &pcap, args, out);
    assert!(
        r.status.success(),
        "jemput capture under the replay of {name} failed ({}) — the driver's URB sequence no \
         longer matches the recording, or the replay broke:\n{}\n{}",
        r.status,
        r.stdout,
        r.stderr
    );
    say(&format!(
        "umockdev replay of {name}: {} ms",
        r.took.as_millis()
    ));
    Some(r.written.expect("jemput wrote its output file"))
}

/// The port path (`1-1`) of the device in the description of `name`.
fn port_of(name: &str) -> String {
    let sysfs = sysfs_path(&std::fs::read_to_string(fixture(&format!("{name}.umockdev"))).unwrap());
    sysfs.rsplit('/').next().unwrap().to_string()
}

#[test]
fn the_recorded_pcaps_are_usbmon_mmapped_captures_with_every_byte() {
    let face = check_fixture("ptp-face");
    // Bulk OUT on endpoint 2 carries the PTP commands; one of them is InitiateCapture.
    assert!(face
        .iter()
        .any(|p| p.event == b'S' && p.endpoint == 0x02 && p.data.get(6..8) == Some(&[0x0E, 0x10])));
    // The photo in the bulk IN data phases is the camera model's third (gphoto2 and jemput took
    // the first two in the VM run): the model is deterministic, so a recording can be replayed
    // and refreshed.
    let bulk_in: Vec<u8> = face
        .iter()
        .filter(|p| p.event == b'C' && p.endpoint == 0x81)
        .flat_map(|p| p.data.iter().copied())
        .collect();
    let photo = camera_model_photo(2);
    assert!(
        bulk_in.windows(photo.len()).any(|w| w == photo),
        "the camera model's third photo is not in ptp-face.pcap"
    );

    let finger = check_fixture("uru4000-finger");
    // The image: one bulk IN completion on endpoint 2 of 111 424 bytes, captured whole: a 64-byte
    // header and the reader model's second image (the right middle finger), unscrambled.
    use jemput_drivers::uru4000::protocol::{HEADER_LEN, IMAGE_TRANSFER_LEN};
    let image = finger
        .iter()
        .find(|p| p.event == b'C' && p.endpoint == 0x82 && p.status == 0)
        .expect("the image transfer");
    assert_eq!(image.data.len(), IMAGE_TRANSFER_LEN);
    assert!(
        image.data[HEADER_LEN..] == reader_model_image(1),
        "the reader model's second image is not in uru4000-finger.pcap"
    );
}

/// The photos the camera model of `jemput sim ptp` (index 0) takes, in order: each a function of
/// the person seed and the number of photos taken before it.
fn camera_model_photo(n: u64) -> Vec<u8> {
    use jemput_drivers::ptp::PtpModelConfig;
    use jemput_drivers::synth;
    let cfg = PtpModelConfig::default();
    synth::jpeg_rgb(&synth::face(1 + n, cfg.background), cfg.quality)
}

/// The grey pixels of the `n`-th image the reader model of `jemput sim uru4000` (index 0) sends:
/// a synthetic finger, cropped to the sensor's 384 × 290 around its centre, the fingers taken in
/// turn from the right index.
fn reader_model_image(n: u64) -> Vec<u8> {
    use jemput_drivers::{synth, FingerPosition};
    let (width, height) = (384, 290);
    let finger = FingerPosition::new(((1 + n) % 10 + 1) as u8).unwrap();
    let img = synth::fingerprint(1, finger, 0.85);
    let (w, h) = (img.width as usize, img.height as usize);
    let (x0, y0) = (w.saturating_sub(width) / 2, h.saturating_sub(height) / 2);
    let mut lines = vec![255u8; width * height];
    for y in 0..height.min(h) {
        for x in 0..width.min(w) {
            lines[y * width + x] = img.pixels[(y0 + y) * w + x0 + x];
        }
    }
    lines
}

#[test]
fn a_replayed_ptp_capture_writes_the_jpeg_the_camera_model_sent_in_the_vm() {
    let port = port_of("ptp-face");
    let Some(jpeg) = replay("ptp-face", &["face", &format!("usb:{port}")], "face.jpg") else {
        return;
    };
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    assert_eq!(sha256_hex(&jpeg), recorded_sha256("face.jpg"));
    // In the VM run gphoto2 and jemput took the model's first two photos; the recorded capture
    // is its third, byte for byte.
    assert!(
        jpeg == camera_model_photo(2),
        "not the camera model's third photo"
    );
}

#[test]
fn a_replayed_uru4000_capture_writes_the_finger_image_the_reader_model_sent_in_the_vm() {
    let port = port_of("uru4000-finger");
    let Some(png) = replay(
        "uru4000-finger",
        &["finger", &format!("usb:{port}")],
        "finger.png",
    ) else {
        return;
    };
    let image = image::load_from_memory(&png).unwrap().into_luma8();
    assert_eq!(image.dimensions(), (384, 290));
    assert_eq!(sha256_hex(&png), recorded_sha256("finger.png"));
    // The VM run's first finger capture took the model's first image (right index); the
    // recorded one is its second (right middle), pixel for pixel.
    assert!(
        image.as_raw() == &reader_model_image(1),
        "not the reader model's second image"
    );
}

#[test]
fn a_driver_that_sends_other_bytes_than_the_recording_fails_the_replay() {
    // The recording as it would be had the driver sent InitiateCapture(0, 0x3801) (JPEG only)
    // instead of (0, 0): the replay must not hand back a photo for what the driver really sends.
    let Some(umockdev) = umockdev_run() else {
        return;
    };
    let mut pcap = std::fs::read(fixture("ptp-face.pcap")).unwrap();
    let mut at = 24;
    let mut changed = 0;
    while at < pcap.len() {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let body = at + 16;
        let data = body + 64;
        if pcap[body + 8] == b'S'
            && pcap[body + 10] == 0x02
            && pcap.get(data + 6..data + 8) == Some(&[0x0E, 0x10])
        {
            pcap[data + 16..data + 20].copy_from_slice(&0x3801u32.to_le_bytes());
            changed += 1;
        }
        at += 16 + caplen;
    }
    assert_eq!(changed, 1, "one InitiateCapture in the recording");
    let dir = tempfile::tempdir().unwrap();
    let doctored = dir.path().join("ptp-face-other-format.pcap");
    std::fs::write(&doctored, &pcap).unwrap();

    let port = port_of("ptp-face");
    let r = run_replay(
        &umockdev,
        "ptp-face",
        &doctored,
        &["face", &format!("usb:{port}")],
        "face.jpg",
    );
    assert!(
        !r.status.success(),
        "jemput succeeded against a recording of other bytes:\n{}",
        r.stdout
    );
    assert!(r.written.is_none(), "no photo is written");
    assert!(
        r.stderr.contains("waiting for the camera"),
        "jemput says the camera did not answer:\n{}",
        r.stderr
    );
}

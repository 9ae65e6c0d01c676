//! The VM tier: tests/vm/run.sh boots Debian 12's kernel in QEMU (TCG), attaches `jemput sim ptp`
//! through USB/IP and vhci-hcd, and captures a photo with gphoto2 (the independent oracle) and
//! with jemput's own PTP driver through the guest's real USB stack; then attaches `jemput sim
//! uru4000` and captures a finger with jemput's U.are.U driver the same way. About 40 seconds.
//!
//! Without QEMU, gphoto2, a static busybox or the kernel package the script exits 77 with
//! "skipped: needs <what> (<how>)", and this test is skipped with a `SKIPPED` line on stderr
//! (jemput-testkit: past the test harness's capture), or fails under `JEMPUT_REQUIRE_PEERS=1` (as
//! in CI), so a skipped tier is never a silent pass; the same for the vivid part without v4l2-ctl.
//! `JEMPUT_VM=0` skips it on purpose.
//!
//! Serial oracles (servm): the kernel's `wacom_w8001` decodes `jemput sim isdv4` on the guest's
//! ttyS1 and must agree with `jemput capture signature` on the same script (`w8001-*`); `ftdi_sio`
//! fronts `jemput sim ef01` through QEMU's usb-serial and jemput discovers, tests and captures
//! through `/dev/ttyUSB0`, by VID:PID and by its by-id link (`ftdi-*`). Without `inputattach` or
//! udev the script skips as for the other prerequisites.

use std::io::Write;
use std::process::Command;

/// Writes to the real stderr: the test harness captures `eprintln!`, not this.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[test]
fn ptp_model_over_usbip_captures_with_gphoto2_and_jemput_in_a_vm() {
    if std::env::var("JEMPUT_VM").is_ok_and(|v| v == "0") {
        say("vm tier skipped: JEMPUT_VM=0");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/run.sh");
    let vivid_dir = tempfile::tempdir().expect("a temp dir for the vivid still");
    let vivid_jpeg = vivid_dir.path().join("vivid.jpg");
    // This run's own traces: the checks the committed recordings get run on them too, so the
    // current drivers, models and server are what they check, not only an older recording.
    let traces = tempfile::tempdir().expect("a temp dir for this run's traces");
    let out = Command::new("bash")
        .arg(script)
        .env("JEMPUT_BIN", env!("CARGO_BIN_EXE_jemput"))
        .env("JEMPUT_VM_VIVID_JPEG", &vivid_jpeg)
        .env("JEMPUT_VM_USBMON_DIR", traces.path())
        .output()
        .expect("bash runs tests/vm/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        let (needs, how) = needs_and_how(&stdout, "skipped: needs ")
            .unwrap_or_else(|| panic!("run.sh exited 77 without saying what it needs:\n{stdout}"));
        jemput_testkit::missing(&needs, &how);
        return;
    }
    assert!(
        out.status.success(),
        "the VM tier failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for check in [
        "attach",
        "enumerate",
        "gphoto2-summary",
        "gphoto2-capture",
        "jemput-capture",
        "attach-uru4000",
        "jemput-uru4000",
        // servm: serial oracles
        "w8001-attach",
        "w8001-events",
        "ftdi-enumerate",
        "ftdi-discover",
        "ftdi-capture",
        "ftdi-by-id",
    ] {
        assert!(
            stdout.contains(&format!("RESULT {check} pass")),
            "{check} did not pass:\n{stdout}"
        );
    }
    check_vivid(&stdout, &vivid_jpeg);
    check_this_runs_traces(traces.path());
    for line in stdout
        .lines()
        .filter(|l| l.starts_with("BENCH") || l.starts_with("VM run"))
    {
        say(&format!("vm tier: {line}"));
    }
}

/// From run.sh's line `<prefix><what> (<how to install it>)`: what and how.
fn needs_and_how(stdout: &str, prefix: &str) -> Option<(String, String)> {
    let rest = stdout.lines().find_map(|l| l.strip_prefix(prefix))?;
    let (needs, how) = rest.strip_suffix(')')?.split_once(" (")?;
    Some((needs.to_string(), how.to_string()))
}

#[test]
fn run_sh_says_what_it_lacks_and_how_to_install_it_when_it_skips() {
    // The line the VM test turns into its SKIPPED line: QEMU hidden, the script stops at once.
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/run.sh"))
        .env("JEMPUT_TEST_HIDE_PEERS", "qemu-system-x86_64")
        .output()
        .expect("bash runs tests/vm/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(77), "{stdout}");
    let (needs, how) = needs_and_how(&stdout, "skipped: needs ").expect("a skip line");
    assert_eq!(needs, "qemu-system-x86_64");
    assert!(how.starts_with("apt-get install qemu-system-x86 "), "{how}");
    assert_eq!(
        needs_and_how(
            "RESULT attach pass\nskipped: vivid part needs v4l2-ctl (apt-get install v4l-utils)\n",
            "skipped: vivid part needs "
        ),
        Some(("v4l2-ctl".into(), "apt-get install v4l-utils".into()))
    );
    assert_eq!(
        needs_and_how("skipped: for no reason", "skipped: needs "),
        None
    );
}

/// The recordings' checks on the traces this run recorded (run.sh saved them because
/// `JEMPUT_VM_USBMON_DIR` was set). A guest kernel without usbmon records no USB trace: that is
/// said, and only the serial oracles' files are checked.
fn check_this_runs_traces(dir: &std::path::Path) {
    let text = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let usb = [
        "enumerate.usbmon.txt",
        "gphoto2-capture.usbmon.txt",
        "jemput-capture.usbmon.txt",
        "uru4000-capture.usbmon.txt",
    ];
    if usb.iter().all(|n| text(n).is_some()) {
        check_enumeration(&text(usb[0]).unwrap());
        check_gphoto2_capture(&text(usb[1]).unwrap());
        check_jemput_capture(&text(usb[2]).unwrap());
        check_uru4000_capture(&text(usb[3]).unwrap());
        say("vm tier: this run's usbmon traces pass the recordings' checks");
    } else {
        panic!(
            "this run saved no usbmon traces in {} (the guest kernel has usbmon: run.sh should have)",
            dir.display()
        );
    }
    let dump = std::fs::read(dir.join("w8001.evdev")).expect("this run's w8001 events");
    check_w8001_events(&dump);
    check_jemput_trace(
        &text("w8001-jemput.trace.json").expect("this run's pen trace"),
        &dump,
    );
    say("vm tier: this run's w8001 events and pen trace pass the recordings' checks");
}

// ---- vivid (V4L2) part: begin -------------------------------------------------------------------

/// The vivid part of the run: v4l2-ctl (the oracle) streamed a frame, `jemput devices --json`
/// listed the node with the formats and sizes v4l2-ctl lists, a capture while v4l2-ctl streamed
/// failed as busy naming it, and jemput's V4L2 driver took a still that decodes here, on the host, as a 640 × 480 image of vivid's test pattern (many
/// colours, not a blank frame); behind `jemput sbi serve --device v4l2:…`, the webcam gave
/// `capture face sbi:… --preview-frames 10` ten `STREAM` frames (the driver's live frames) and
/// then its capture. Skipped, and said so, when the host has no v4l2-ctl.
fn check_vivid(stdout: &str, jpeg: &std::path::Path) {
    if stdout.contains("skipped: vivid part") {
        let (needs, how) = needs_and_how(stdout, "skipped: vivid part needs ")
            .unwrap_or_else(|| panic!("the vivid part skipped without saying why:\n{stdout}"));
        jemput_testkit::missing(&format!("{needs} for the vivid part"), &how);
        return;
    }
    for check in [
        "vivid-oracle",
        "vivid-formats",
        "vivid-capture",
        "vivid-busy",
        "vivid-stream",
    ] {
        assert!(
            stdout.contains(&format!("RESULT {check} pass")),
            "{check} did not pass:\n{stdout}"
        );
    }
    for line in stdout.lines().filter(|l| l.starts_with("RESULT vivid")) {
        say(&format!("vm tier: {line}"));
    }
    let bytes = std::fs::read(jpeg).expect("run.sh saved the vivid still");
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .expect("the vivid still decodes as a JPEG")
        .to_rgb8();
    assert_eq!(img.dimensions(), (640, 480), "the negotiated size");
    let mut colours: Vec<[u8; 3]> = img
        .pixels()
        .map(|p| [p[0] & 0xf0, p[1] & 0xf0, p[2] & 0xf0])
        .collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() >= 8,
        "vivid's colour bars give many colours; the still has {}",
        colours.len()
    );
    // vivid's default pattern is the 75% colour bars, eight bars of 80 pixels at 640 wide: the
    // green, red and blue bars below the text overlay show the YUYV conversion kept the channels
    // in their places.
    for (x, name, channel) in [(280, "green", 1), (440, "red", 0), (520, "blue", 2)] {
        let p = img.get_pixel(x, 400).0;
        let others = (0..3)
            .filter(|&c| c != channel)
            .map(|c| p[c])
            .max()
            .unwrap();
        assert!(
            p[channel] >= others.saturating_add(60),
            "the {name} bar at x {x} is {p:?}"
        );
    }
}

// ---- vivid (V4L2) part: end ---------------------------------------------------------------------

/// One line of a usbmon text trace: event (S submit, C complete), type+direction (`Bo`, `Bi`,
/// `Ii`, `Ci`…), endpoint, status and the data words as bytes.
struct UsbmonEvent {
    event: char,
    kind: String,
    /// `bus:device`.
    address: String,
    endpoint: u8,
    /// `bmRequestType bRequest wValue` of a control submission.
    setup: Option<String>,
    status: String,
    data: Vec<u8>,
}

fn parse_usbmon(text: &str) -> Vec<UsbmonEvent> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert!(f.len() >= 6, "short usbmon line: {line}");
            let addr: Vec<&str> = f[3].split(':').collect();
            let data = match f.iter().position(|w| *w == "=") {
                Some(i) => f[i + 1..]
                    .iter()
                    .flat_map(|w| {
                        (0..w.len())
                            .step_by(2)
                            .map(|j| u8::from_str_radix(&w[j..j + 2], 16).unwrap())
                    })
                    .collect(),
                None => Vec::new(),
            };
            UsbmonEvent {
                event: f[2].chars().next().unwrap(),
                kind: addr[0].to_string(),
                address: format!("{}:{}", addr[1], addr[2]),
                endpoint: addr[3].parse().unwrap(),
                setup: (f[4] == "s").then(|| f[5..8].join(" ")),
                status: f[4].to_string(),
                data,
            }
        })
        .collect()
}

/// Checks a usbmon trace of one PTP capture: the command codes sent on bulk OUT 2 are `codes`,
/// every bulk transfer and response succeeded, InitiateCapture(0, 0) was sent, the photo came back
/// as a JPEG, and the interrupt endpoint delivered ObjectAdded then CaptureComplete.
fn check_capture_trace(text: &str, codes: &[u16]) {
    use jemput_drivers::ptp::protocol::{decode_header, ContainerType};
    let events = parse_usbmon(text);

    let commands: Vec<(u16, u32)> = events
        .iter()
        .filter(|e| e.event == 'S' && e.kind == "Bo")
        .map(|e| {
            let h = decode_header(&e.data).unwrap();
            assert_eq!(h.kind, ContainerType::Command);
            assert_eq!(e.endpoint, 2);
            (h.code, h.transaction_id)
        })
        .collect();
    let sent: Vec<u16> = commands.iter().map(|c| c.0).collect();
    assert_eq!(sent, codes);
    let open = commands.iter().position(|c| c.0 == 0x1002).unwrap();
    assert_eq!(commands[open].1, 0, "OpenSession uses transaction 0");
    assert!(
        commands[open..].windows(2).all(|w| w[1].1 == w[0].1 + 1),
        "transaction ids count up after OpenSession: {commands:?}"
    );
    let initiate = events
        .iter()
        .find(|e| e.event == 'S' && e.kind == "Bo" && e.data.get(6..8) == Some(&[0x0E, 0x10]))
        .unwrap();
    assert_eq!(&initiate.data[..8], &[0x14, 0, 0, 0, 1, 0, 0x0E, 0x10]);
    assert_eq!(
        &initiate.data[12..],
        &[0; 8],
        "InitiateCapture(0, 0): default storage and format"
    );

    for e in events
        .iter()
        .filter(|e| e.event == 'C' && e.kind.starts_with('B'))
    {
        assert_eq!(e.status, "0", "a bulk transfer failed");
        if let Ok(h) = decode_header(&e.data) {
            if h.kind == ContainerType::Response {
                assert_eq!(h.code, 0x2001, "a response other than OK");
            }
        }
    }
    let photo = events
        .iter()
        .find(|e| e.event == 'C' && e.kind == "Bi" && e.data.get(6..8) == Some(&[0x09, 0x10]))
        .expect("a GetObject data phase");
    assert_eq!(&photo.data[12..14], &[0xFF, 0xD8], "the photo is a JPEG");

    // Events on interrupt IN 3: the model's packets are 8 bytes. The committed recordings were
    // made when the USB/IP server completed each interrupt URB with one packet, so an event came
    // in two completions; since the server fills a URB until a short or zero-length packet (USB
    // 2.0 §5.3.2), one completion holds the whole 16-byte event. Either way the completion that
    // starts an event holds its length, type 4 and the code.
    let event_codes: Vec<u16> = events
        .iter()
        .filter(|e| e.event == 'C' && e.kind == "Ii" && e.data.len() >= 8 && e.data[4..6] == [4, 0])
        .map(|e| u16::from_le_bytes([e.data[6], e.data[7]]))
        .collect();
    assert_eq!(
        event_codes,
        [0x4002, 0x400D],
        "ObjectAdded, CaptureComplete"
    );
}

#[test]
fn the_recorded_trace_of_jemputs_capture_in_the_vm_is_a_well_formed_ptp_capture() {
    check_jemput_capture(include_str!("vm/fixtures/jemput-capture.usbmon.txt"));
}

/// `jemput capture face usb:1-1` in the guest: the driver's command order, and the interrupt polls
/// libusb cancelled.
fn check_jemput_capture(text: &str) {
    check_capture_trace(
        text,
        &[0x1001, 0x1002, 0x100E, 0x1008, 0x1009, 0x100B, 0x1003],
    );
    // Polls that found nothing were cancelled by libusb after its timeout (usbmon status -2,
    // ENOENT); vhci-hcd turns each such cancel into a CMD_UNLINK to the server.
    assert!(
        parse_usbmon(text)
            .iter()
            .any(|e| e.event == 'C' && e.kind == "Ii" && e.status.starts_with("-2:")),
        "no unlinked interrupt poll in the trace"
    );
}

#[test]
fn the_recorded_trace_of_gphoto2s_capture_shows_the_model_serves_libgphoto2s_sequence() {
    check_gphoto2_capture(include_str!("vm/fixtures/gphoto2-capture.usbmon.txt"));
}

fn check_gphoto2_capture(text: &str) {
    // gphoto2 opens the session first, lists storages and objects before and after capturing,
    // then downloads and deletes the photo.
    check_capture_trace(
        text,
        &[
            0x1002, 0x1001, 0x1004, 0x1007, 0x1007, 0x100E, 0x1008, 0x1009, 0x100B, 0x1003,
        ],
    );
}

#[test]
fn the_guest_kernel_enumerated_the_model_from_the_descriptors_the_server_serves() {
    check_enumeration(include_str!("vm/fixtures/enumerate.usbmon.txt"));
}

fn check_enumeration(text: &str) {
    use jemput_drivers::ptp::{PtpModel, PtpModelConfig};
    use jemput_drivers::usb::UsbDevice;
    let d = PtpModel::new(PtpModelConfig::default()).description();
    let events = parse_usbmon(text);
    // The device's own control transfers, once vhci has given it address 2.
    let ours: Vec<&UsbmonEvent> = events
        .iter()
        .filter(|e| e.address == "1:002" && e.kind.starts_with('C'))
        .collect();
    let completions: Vec<&&UsbmonEvent> = ours.iter().filter(|e| e.event == 'C').collect();
    assert!(completions.len() >= 8, "{} completions", completions.len());
    assert!(
        completions.iter().all(|e| e.status == "0"),
        "a request failed or stalled during enumeration"
    );
    let device = completions
        .iter()
        .find(|e| e.data.len() == 18 && e.data[1] == 1)
        .expect("the device descriptor");
    assert_eq!(device.data, d.device_descriptor());
    let config = completions
        .iter()
        .find(|e| e.data.len() > 9 && e.data[1] == 2)
        .expect("the whole configuration descriptor");
    // usbmon shows the first 32 bytes of a transfer.
    assert_eq!(
        config.data,
        d.configuration_descriptor()[..config.data.len()]
    );
    assert!(
        ours.iter()
            .any(|e| e.event == 'S' && e.setup.as_deref() == Some("00 09 0001")),
        "the kernel chose configuration 1"
    );
}

#[test]
fn the_recorded_trace_of_the_uru4000_capture_in_the_vm_follows_the_readers_protocol() {
    check_uru4000_capture(include_str!("vm/fixtures/uru4000-capture.usbmon.txt"));
}

fn check_uru4000_capture(text: &str) {
    use jemput_drivers::uru4000::protocol::{reg, Event, Mode, HWSTAT_POWERED, IMAGE_TRANSFER_LEN};
    let events = parse_usbmon(text);
    let on_reader = |e: &&UsbmonEvent| e.address == "1:003";

    // Register writes as the kernel saw them (vendor OUT request 0x04, wValue = register).
    let writes: Vec<(u16, u8)> = events
        .iter()
        .filter(on_reader)
        .filter(|e| e.event == 'S' && e.kind == "Co")
        .map(|e| {
            let setup = e.setup.as_deref().unwrap();
            let f: Vec<&str> = setup.split(' ').collect();
            assert_eq!(&f[..2], &["40", "04"], "a vendor register write: {setup}");
            (u16::from_str_radix(f[2], 16).unwrap(), e.data[0])
        })
        .collect();
    assert_eq!(writes[0], (reg::HWSTAT, HWSTAT_POWERED), "power-up first");
    let modes: Vec<Mode> = writes
        .iter()
        .filter(|w| w.0 == reg::MODE)
        .map(|w| Mode::from_value(w.1).unwrap())
        .collect();
    assert_eq!(&modes[..2], &[Mode::AwaitFingerOn, Mode::Capture]);

    // Events on interrupt IN 1 (the trace keeps 32 of their 64 bytes; the rest is padding).
    let received: Vec<Event> = events
        .iter()
        .filter(on_reader)
        .filter(|e| e.event == 'C' && e.kind == "Ii")
        .map(|e| {
            let mut packet = e.data.clone();
            packet.resize(64, 0);
            Event::decode(&packet).unwrap()
        })
        .collect();
    assert_eq!(received, vec![Event::PoweredOn, Event::FingerOn]);

    // One bulk IN transfer on endpoint 2 carried the whole image, after MODE = capture.
    let image_line = text
        .lines()
        .find(|l| l.contains(" C Bi:1:003:2 "))
        .expect("an image read");
    let f: Vec<&str> = image_line.split_whitespace().collect();
    assert_eq!(f[4], "0", "the image read succeeded");
    assert_eq!(f[5].parse::<usize>().unwrap(), IMAGE_TRANSFER_LEN);
    let capture_at = text
        .lines()
        .position(|l| l.contains(" S Co:1:003:0 s 40 04 004e ") && l.ends_with(" = 20"))
        .expect("MODE = capture written");
    let read_at = text.lines().position(|l| l == image_line).unwrap();
    assert!(
        read_at > capture_at,
        "the image is read after MODE = capture"
    );
}

// ---- servm: serial oracles (begin) ------------------------------------------------------------

/// The pen state after one evdev frame: (in proximity, tip down, x, y, pressure).
type PenState = (bool, bool, u32, u32, u32);

/// The frames of the first whole pen visit (BTN_TOOL_PEN pressed … released) in a dump of
/// `struct input_event` records as read from `/dev/input/eventN` on x86_64: 16 bytes of time,
/// then type u16, code u16, value i32, little-endian.
fn w8001_frames(dump: &[u8]) -> Vec<PenState> {
    const EV_SYN: u16 = 0;
    const EV_KEY: u16 = 1;
    const EV_ABS: u16 = 3;
    const ABS_X: u16 = 0;
    const ABS_Y: u16 = 1;
    const ABS_PRESSURE: u16 = 24;
    const BTN_TOOL_PEN: u16 = 0x140;
    const BTN_TOUCH: u16 = 0x14a;
    assert_eq!(dump.len() % 24, 0, "whole input_event records");
    let mut state: PenState = (false, false, 0, 0, 0);
    let mut frames = Vec::new();
    let mut started = false;
    for e in dump.chunks_exact(24) {
        let kind = u16::from_le_bytes([e[16], e[17]]);
        let code = u16::from_le_bytes([e[18], e[19]]);
        let value = i32::from_le_bytes([e[20], e[21], e[22], e[23]]);
        let v = u32::try_from(value).expect("no negative pen values");
        match (kind, code) {
            (EV_ABS, ABS_X) => state.2 = v,
            (EV_ABS, ABS_Y) => state.3 = v,
            (EV_ABS, ABS_PRESSURE) => state.4 = v,
            (EV_KEY, BTN_TOUCH) => state.1 = v == 1,
            (EV_KEY, BTN_TOOL_PEN) => {
                state.0 = v == 1;
                started |= state.0;
            }
            (EV_SYN, 0) if started => {
                frames.push(state);
                if !state.0 {
                    return frames;
                }
            }
            _ => {}
        }
    }
    panic!("no whole pen visit in the dump ({} frames)", frames.len());
}

/// Consecutive equal states merged: evdev reports only changes, so a repeated packet makes no
/// frame.
fn merged<T: PartialEq>(states: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for s in states {
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

/// What `jemput sim isdv4` plays (registry: seed 1, "Siti Aminah", the default sensor), as pen
/// states.
fn isdv4_sim_script() -> Vec<PenState> {
    use jemput_drivers::isdv4::{script, Handwriting, Isdv4ModelConfig};
    let config = Isdv4ModelConfig {
        handwriting: Handwriting::Signature {
            seed: 1,
            name: "Siti Aminah".into(),
        },
        ..Isdv4ModelConfig::default()
    };
    script(&config)
        .iter()
        .map(|s| {
            (
                s.proximity,
                s.tip,
                u32::from(s.x),
                u32::from(s.y),
                u32::from(s.pressure),
            )
        })
        .collect()
}

#[test]
fn the_kernels_w8001_events_recorded_in_the_vm_are_the_samples_the_isdv4_model_sent() {
    check_w8001_events(include_bytes!("vm/fixtures/w8001.evdev"));
}

fn check_w8001_events(dump: &[u8]) {
    // Recorded by tests/vm/run.sh: wacom_w8001 (via inputattach --w8001 on ttyS1) decoding
    // `jemput sim isdv4`. The kernel reports a pen-only sensor's x, y and pressure unscaled.
    let kernel = w8001_frames(dump);
    let sent = merged(isdv4_sim_script());
    assert!(
        sent.iter().filter(|s| s.1).count() > 100,
        "a real signature"
    );
    assert_eq!(
        kernel.len(),
        sent.len(),
        "one evdev frame per distinct sample"
    );
    for (i, (k, s)) in kernel.iter().zip(&sent).enumerate() {
        assert_eq!(k, s, "sample {i} of {}", sent.len());
    }
}

#[test]
fn jemputs_trace_recorded_in_the_vm_matches_the_kernels_decoding_of_the_same_script() {
    check_jemput_trace(
        include_str!("vm/fixtures/w8001-jemput.trace.json"),
        include_bytes!("vm/fixtures/w8001.evdev"),
    );
}

fn check_jemput_trace(trace: &str, dump: &[u8]) {
    // The same script as jemput's own driver recorded it on the guest's ttyS1: from the first
    // pen-down to the lift after the last stroke, pressure 0 while the pen is up.
    let trace: serde_json::Value = serde_json::from_str(trace).unwrap();
    let jemput = merged(trace["points"].as_array().unwrap().iter().map(|p| {
        let n = |k: &str| u32::try_from(p[k].as_u64().unwrap()).unwrap();
        (
            p["touching"].as_bool().unwrap(),
            n("x"),
            n("y"),
            n("pressure"),
        )
    }));
    let kernel = w8001_frames(dump);
    let first = kernel.iter().position(|s| s.1).unwrap();
    let last = kernel.iter().rposition(|s| s.1).unwrap();
    let kernel = merged(
        kernel[first..=(last + 1).min(kernel.len() - 1)]
            .iter()
            .map(|s| (s.1, s.2, s.3, if s.1 { s.4 } else { 0 })),
    );
    let strokes = |states: &[(bool, u32, u32, u32)]| {
        states.windows(2).filter(|w| w[1].0 && !w[0].0).count() + usize::from(states[0].0)
    };
    assert_eq!(strokes(&jemput), strokes(&kernel), "pen-down strokes");
    assert_eq!(jemput, kernel);
    assert_eq!(trace["extent_x"], 26_312);
    assert_eq!(trace["extent_y"], 16_520);
    assert_eq!(trace["max_pressure"], 1023);
}
// ---- servm: serial oracles (end) --------------------------------------------------------------

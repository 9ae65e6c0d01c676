//! The VM tier: tests/vm/run.sh boots Debian 12's kernel in QEMU (TCG), attaches `jemput sim ptp`
//! through USB/IP and vhci-hcd, and captures a photo with gphoto2 (the independent oracle) and
//! with jemput's own PTP driver through the guest's real USB stack. About half a minute.
//!
//! Without QEMU, gphoto2, a static busybox or the kernel package the script exits 77 and this test
//! prints "skipped: <why>" straight to the terminal (past the test harness's capture), so a
//! skipped tier is never a silent pass. `JEMPUT_VM=0` skips it on purpose.

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
    let out = Command::new("bash")
        .arg(script)
        .env("JEMPUT_BIN", env!("CARGO_BIN_EXE_jemput"))
        .output()
        .expect("bash runs tests/vm/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        say(&format!("vm tier {}", stdout.trim()));
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
    ] {
        assert!(
            stdout.contains(&format!("RESULT {check} pass")),
            "{check} did not pass:\n{stdout}"
        );
    }
    for line in stdout
        .lines()
        .filter(|l| l.starts_with("BENCH") || l.starts_with("VM run"))
    {
        say(&format!("vm tier: {line}"));
    }
}

/// One line of a usbmon text trace: event (S submit, C complete), type+direction (`Bo`, `Bi`,
/// `Ii`, `Ci`…), endpoint, status and the data words as bytes.
struct UsbmonEvent {
    event: char,
    kind: String,
    endpoint: u8,
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
                endpoint: addr[3].parse().unwrap(),
                status: f[4].to_string(),
                data,
            }
        })
        .collect()
}

#[test]
fn the_recorded_usbmon_trace_of_a_vm_capture_is_a_well_formed_ptp_capture() {
    use jemput_drivers::ptp::protocol::{decode_header, ContainerType};
    let text = include_str!("vm/fixtures/ptp-jemput-capture.usbmon.txt");
    let events = parse_usbmon(text);

    // The commands the driver sent on bulk OUT 2, in order.
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
    let codes: Vec<u16> = commands.iter().map(|c| c.0).collect();
    assert_eq!(
        codes,
        [0x1001, 0x1002, 0x100E, 0x1008, 0x1009, 0x100B, 0x1003],
        "GetDeviceInfo, OpenSession, InitiateCapture, GetObjectInfo, GetObject, DeleteObject, CloseSession"
    );
    assert_eq!(commands[1].1, 0, "OpenSession uses transaction 0");
    assert!(
        commands[1..].windows(2).all(|w| w[1].1 == w[0].1 + 1),
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

    // Every bulk transfer completed; every response was OK (0x2001).
    for e in events
        .iter()
        .filter(|e| e.event == 'C' && e.kind.starts_with('B'))
    {
        assert_eq!(e.status, "0", "a bulk transfer failed");
        if let Ok(h) = decode_header(&e.data) {
            if h.kind == ContainerType::Response {
                assert_eq!(h.code, 0x2001);
            }
        }
    }
    // The photo came back as one data container starting with a JPEG's SOI marker.
    let photo = events
        .iter()
        .find(|e| e.event == 'C' && e.kind == "Bi" && e.data.get(6..8) == Some(&[0x09, 0x10]))
        .expect("a GetObject data phase");
    assert_eq!(&photo.data[12..14], &[0xFF, 0xD8]);

    // Events on interrupt IN 3, in 8-byte packets: ObjectAdded, then CaptureComplete. Polls that
    // found nothing were cancelled by libusb after its timeout (usbmon status -2, ENOENT); vhci-hcd
    // turns each such cancel into a CMD_UNLINK to the server.
    let interrupt: Vec<&UsbmonEvent> = events
        .iter()
        .filter(|e| e.event == 'C' && e.kind == "Ii")
        .collect();
    assert!(
        interrupt.iter().any(|e| e.status.starts_with("-2:")),
        "no unlinked interrupt poll in the trace"
    );
    let event_codes: Vec<u16> = interrupt
        .iter()
        .filter(|e| e.data.len() == 8 && e.data[4..6] == [4, 0])
        .map(|e| u16::from_le_bytes([e.data[6], e.data[7]]))
        .collect();
    assert_eq!(event_codes, [0x4002, 0x400D]);
}

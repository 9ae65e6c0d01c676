//! Independent oracle: the Python `pyfingerprint` package (pyserial underneath) drives the EF01
//! device model over a pty, the way it drives a real ZFM-20/R30x module. The model must satisfy a
//! host that is not ours: password, system parameters, capture, image download, enrolment.
//!
//! Needs `python3` with `pip install pyfingerprint` (`scripts/install-test-peers`); without it this
//! test is skipped with a `SKIPPED` line on stderr, or fails under `JEMPUT_REQUIRE_PEERS=1` (as in
//! CI).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jemput_drivers::ef01::model::{finger_for_capture, uploaded_image};
use jemput_drivers::ef01::{Ef01Model, ModelOptions};

const SCRIPT: &str = r#"
import sys
from pyfingerprint.pyfingerprint import PyFingerprint

port, out = sys.argv[1], sys.argv[2]
f = PyFingerprint(port, 57600, 0xFFFFFFFF, 0x00000000)
if not f.verifyPassword():
    raise SystemExit("the model rejected the default password")
print("params=" + ",".join(str(v) for v in f.getSystemParameters()))
print("max_packet=%d" % f.getMaxPacketSize())
print("baud=%d" % f.getBaudRate())
polls = 0
while not f.readImage():
    polls += 1
print("no_finger_polls=%d" % polls)
f.downloadImage(out)
f.convertImage(0x01)
print("stored_at=%d" % f.storeTemplate())
print("count=%d" % f.getTemplateCount())
print("search=%d,%d" % f.searchTemplate())
"#;

/// Whether python3 has pyfingerprint (with pyserial and Pillow); without them the test is skipped
/// visibly (fails under `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
fn python_with_pyfingerprint() -> bool {
    jemput_testkit::python_modules(
        &["pyfingerprint.pyfingerprint", "PIL", "serial"],
        "python3 -m pip install pyfingerprint, or scripts/install-test-peers",
    )
}

/// A minimal reader for the 8-bit palettised, bottom-up BMP that Pillow writes for mode "L".
fn read_grey_bmp(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    let u16_at = |i: usize| u16::from_le_bytes(bytes[i..i + 2].try_into().unwrap());
    assert_eq!(&bytes[..2], b"BM", "not a BMP");
    let offset = u32_at(10) as usize;
    let header = u32_at(14) as usize;
    let (width, height) = (u32_at(18), u32_at(22) as i32);
    assert_eq!(u16_at(28), 8, "expected 8 bits per pixel");
    let palette = &bytes[14 + header..offset];
    for (i, entry) in palette.chunks(4).enumerate() {
        assert_eq!(&entry[..3], &[i as u8; 3], "palette entry {i} is not grey");
    }
    let stride = (width as usize).div_ceil(4) * 4;
    let rows = height.unsigned_abs();
    let mut pixels = Vec::with_capacity((width * rows) as usize);
    for y in 0..rows {
        let row = if height > 0 { rows - 1 - y } else { y } as usize;
        let start = offset + row * stride;
        pixels.extend_from_slice(&bytes[start..start + width as usize]);
    }
    (width, rows, pixels)
}

#[test]
fn pyfingerprint_reads_parameters_captures_downloads_and_enrols_through_the_model() {
    if !python_with_pyfingerprint() {
        return;
    }
    let options = ModelOptions {
        finger_after_polls: 3,
        ..ModelOptions::fast()
    };
    let (model, tty) = Ef01Model::spawn_on_pty(options.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bmp = dir.path().join("finger.bmp");

    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(&tty)
        .arg(&bmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("pyfingerprint did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "pyfingerprint failed:\n{out}\n{err}");

    let value = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in:\n{out}"))
            .to_string()
    };
    // status, system id, capacity, level, address, packet-size code, baud N
    assert_eq!(value("params"), "0,0,200,3,4294967295,2,6");
    assert_eq!(value("max_packet"), "128");
    assert_eq!(value("baud"), "57600");
    assert_eq!(value("no_finger_polls"), "3");
    assert_eq!(value("stored_at"), "0");
    assert_eq!(value("count"), "1");
    assert_eq!(value("search"), "0,150");
    assert_eq!(model.captures(), 1);

    let (w, h, pixels) = read_grey_bmp(&std::fs::read(&bmp).unwrap());
    assert_eq!((w, h), (256, 288));
    let finger = finger_for_capture(options.first_finger, 0);
    let want = uploaded_image(options.module, options.person_seed, finger, options.quality);
    let differing = pixels
        .iter()
        .zip(&want.pixels)
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differing, 0,
        "{differing} pixels differ from the model's image"
    );
}

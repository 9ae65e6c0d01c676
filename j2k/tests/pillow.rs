//! The independent oracle: Python Pillow, whose wheels bundle OpenJPEG (the JPEG 2000 reference
//! codec, in C), decodes jemput's codestreams and JP2 files to exactly the pixels encoded. Pillow
//! also encodes the same images losslessly with OpenJPEG, so the test prints both sizes.
//!
//! A peer test: without Python Pillow (or a Pillow built without OpenJPEG) it is skipped with a
//! `SKIPPED` line, and fails under `JEMPUT_REQUIRE_PEERS=1` as in CI.

mod common;

use std::path::Path;
use std::process::Command;

use common::{noise, print_like};
use jemput_j2k::{encode, Colour, Container};

const INSTALL: &str = "python3 -m pip install Pillow, or scripts/install-test-peers";

/// Reads `list` (lines of `input width height mode`), decodes each input with Pillow, checks its
/// size and mode, writes the raw pixels to `input.raw`, and OpenJPEG's own lossless encoding of
/// those pixels to `input.ref.j2k`.
const PEER: &str = r#"
import sys
from PIL import Image
for line in open(sys.argv[1]):
    path, w, h, mode = line.split()
    im = Image.open(path)
    im.load()
    if im.size != (int(w), int(h)) or im.mode != mode:
        sys.exit(f"{path}: Pillow reads {im.size} {im.mode}, expected {w}x{h} {mode}")
    open(path + ".raw", "wb").write(im.tobytes())
    im.save(path + ".ref.j2k", "JPEG2000", irreversible=False, no_jp2=True)
"#;

/// Whether Pillow is here with its JPEG 2000 codec.
fn pillow() -> bool {
    if !jemput_testkit::python_modules(&["PIL"], INSTALL) {
        return false;
    }
    let probe = Command::new("python3")
        .args([
            "-c",
            "from PIL import features; print(features.check_codec('jpg_2000'))",
        ])
        .output()
        .expect("python3 runs");
    if String::from_utf8_lossy(&probe.stdout).trim() == "True" {
        true
    } else {
        jemput_testkit::missing("Python Pillow with its JPEG 2000 codec (OpenJPEG)", INSTALL);
        false
    }
}

struct Case {
    name: String,
    width: usize,
    height: usize,
    colour: Colour,
    pixels: Vec<u8>,
}

fn case(name: &str, width: usize, height: usize, colour: Colour, pixels: Vec<u8>) -> Case {
    Case {
        name: name.to_string(),
        width,
        height,
        colour,
        pixels,
    }
}

/// Encodes every case in both containers, has Pillow decode them all in one run, and compares.
fn check(dir: &Path, cases: &[Case]) {
    let mut list = String::new();
    let mut files = Vec::new();
    for c in cases {
        for (container, ext) in [(Container::Codestream, "j2k"), (Container::Jp2, "jp2")] {
            let bytes = encode(
                c.width as u32,
                c.height as u32,
                c.colour,
                &c.pixels,
                container,
            )
            .expect("encodes");
            let path = dir.join(format!("{}.{ext}", c.name));
            std::fs::write(&path, &bytes).unwrap();
            let mode = if c.colour == Colour::Grey { "L" } else { "RGB" };
            list += &format!("{} {} {} {mode}\n", path.display(), c.width, c.height);
            files.push((c, path, bytes.len()));
        }
    }
    let list_path = dir.join("list.txt");
    std::fs::write(&list_path, list).unwrap();
    let out = Command::new("python3")
        .args(["-c", PEER])
        .arg(&list_path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "Pillow refused jemput's JPEG 2000: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (c, path, size) in files {
        let back = std::fs::read(path.with_extension(format!(
            "{}.raw",
            path.extension().unwrap().to_str().unwrap()
        )))
        .unwrap();
        assert!(
            back == c.pixels,
            "{}: Pillow decodes other pixels than were encoded",
            path.display()
        );
        let reference = std::fs::metadata(path.with_extension(format!(
            "{}.ref.j2k",
            path.extension().unwrap().to_str().unwrap()
        )))
        .unwrap()
        .len();
        if path.extension().unwrap() == "j2k" {
            println!(
                "{}: {} × {}, raw {} bytes, jemput {size} bytes ({:.2}:1), OpenJPEG {reference} bytes",
                c.name,
                c.width,
                c.height,
                c.pixels.len(),
                c.pixels.len() as f64 / size as f64
            );
        }
    }
}

#[test]
fn pillow_decodes_jemputs_jpeg_2000_to_the_exact_pixels() {
    if !pillow() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for (w, h) in [
        (1, 1),
        (1, 9),
        (9, 1),
        (2, 3),
        (5, 7),
        (31, 17),
        (63, 65),
        (64, 64),
        (129, 200),
    ] {
        let seed = (w * 1000 + h) as u64;
        cases.push(case(
            &format!("noise-{w}x{h}"),
            w,
            h,
            Colour::Grey,
            noise(w * h, seed),
        ));
        cases.push(case(
            &format!("rgb-{w}x{h}"),
            w,
            h,
            Colour::Rgb,
            noise(3 * w * h, seed),
        ));
    }
    cases.push(case("flat-0", 33, 47, Colour::Grey, vec![0; 33 * 47]));
    cases.push(case(
        "flat-255",
        70,
        90,
        Colour::Rgb,
        vec![255; 3 * 70 * 90],
    ));
    cases.push(case(
        "finger-400x500",
        400,
        500,
        Colour::Grey,
        print_like(400, 500, 5),
    ));
    cases.push(case(
        "slap-1600x1500",
        1600,
        1500,
        Colour::Grey,
        print_like(1600, 1500, 9),
    ));
    check(dir.path(), &cases);
    // A fingerprint-like image is really compressed, not merely wrapped.
    let finger = &cases[cases.len() - 2];
    let size = encode(
        400,
        500,
        Colour::Grey,
        &finger.pixels,
        Container::Codestream,
    )
    .unwrap()
    .len();
    assert!(size < finger.pixels.len(), "{size} bytes for 200000 pixels");
}

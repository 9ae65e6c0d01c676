//! Shared by the WSQ integration tests: synthetic prints and the NBIS peer (Python `wsq`).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use jemput_wsq::Image;

mod prints;
#[allow(unused_imports)]
pub use prints::*;

/// A synthetic fingerprint-like image: curved ridges with an 8–10 px period inside an elliptic
/// fingertip on a light background, with sensor noise. Deterministic in `seed`.
pub fn synthetic_print(width: u32, height: u32, seed: u64) -> Image {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let (w, h) = (width as f64, height as f64);
    let (cx, cy) = (w * (0.45 + 0.1 * (seed % 3) as f64 / 2.0), h * 0.42);
    let period = 8.0 + (seed % 5) as f64 * 0.5;
    let mut pixels = Vec::with_capacity((width * height) as usize);
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = (x as f64 - cx, (y as f64 - cy) * 0.8);
            let r = (dx * dx + dy * dy).sqrt();
            let phase = r / period * std::f64::consts::TAU + 0.6 * (x as f64 / 37.0).sin()
                - 0.4 * (y as f64 / 53.0).cos();
            let ex = dx / (0.46 * w);
            let ey = (y as f64 - h * 0.5) / (0.47 * h);
            let inside = (1.0 - (ex * ex + ey * ey).powi(3)).clamp(0.0, 1.0);
            let g = 205.0 - inside * (85.0 + 70.0 * phase.sin()) + 14.0 * noise();
            pixels.push(g.round().clamp(0.0, 255.0) as u8);
        }
    }
    Image {
        width,
        height,
        ppi: Some(500),
        pixels,
    }
}

/// Peak signal-to-noise ratio in dB.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

const PEER: &str = r#"
import sys, wsq
from PIL import Image
cmd = sys.argv[1]
if cmd == "encode":
    raw, w, h, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    im = Image.frombytes("L", (w, h), open(raw, "rb").read())
    im.save(out, "WSQ")
elif cmd == "decode":
    im = Image.open(sys.argv[2])
    im.load()
    open(sys.argv[3], "wb").write(im.tobytes())
    print(im.size[0], im.size[1])
elif cmd == "encode-all":
    for line in open(sys.argv[2]):
        raw, w, h, out = line.split()
        Image.frombytes("L", (int(w), int(h)), open(raw, "rb").read()).save(out, "WSQ")
elif cmd == "decode-all":
    for line in open(sys.argv[2]):
        src, out = line.split()
        im = Image.open(src)
        im.load()
        open(out, "wb").write(im.tobytes())
        print(im.size[0], im.size[1])
"#;

/// Whether NBIS is here, through the Python `wsq` package (a Pillow plugin); without it the
/// calling test is skipped visibly (fails under `JEMPUT_REQUIRE_PEERS=1`).
#[track_caller]
pub fn nbis() -> bool {
    jemput_testkit::python_modules(
        &["wsq", "PIL"],
        "python3 -m pip install wsq, or scripts/install-test-peers",
    )
}

fn peer(args: &[&str]) -> String {
    let o = Command::new("python3")
        .arg("-c")
        .arg(PEER)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        o.status.success(),
        "NBIS peer {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// NBIS encodes `image` (always at 0.75 bpp: the Python binding ignores any rate).
pub fn nbis_encode(dir: &Path, image: &Image) -> Vec<u8> {
    let raw = dir.join("in.raw");
    let out = dir.join("nbis.wsq");
    std::fs::write(&raw, &image.pixels).unwrap();
    peer(&[
        "encode",
        raw.to_str().unwrap(),
        &image.width.to_string(),
        &image.height.to_string(),
        out.to_str().unwrap(),
    ]);
    std::fs::read(out).unwrap()
}

/// NBIS decodes `wsq`: (width, height, pixels).
pub fn nbis_decode(dir: &Path, wsq: &[u8]) -> (u32, u32, Vec<u8>) {
    let input = dir.join("peer-in.wsq");
    let raw = dir.join("peer-out.raw");
    std::fs::write(&input, wsq).unwrap();
    let dims = peer(&["decode", input.to_str().unwrap(), raw.to_str().unwrap()]);
    let mut it = dims.split_whitespace().map(|v| v.parse::<u32>().unwrap());
    let (w, h) = (it.next().unwrap(), it.next().unwrap());
    (w, h, std::fs::read(raw).unwrap())
}

/// NBIS encodes every image in one Python run (at 0.75 bpp, like [`nbis_encode`]).
pub fn nbis_encode_all(dir: &Path, images: &[Image]) -> Vec<Vec<u8>> {
    let mut list = String::new();
    for (i, image) in images.iter().enumerate() {
        let raw = dir.join(format!("all-{i}.raw"));
        std::fs::write(&raw, &image.pixels).unwrap();
        list += &format!(
            "{} {} {} {}\n",
            raw.display(),
            image.width,
            image.height,
            dir.join(format!("all-{i}.wsq")).display()
        );
    }
    let list_file = dir.join("encode-all.txt");
    std::fs::write(&list_file, list).unwrap();
    peer(&["encode-all", list_file.to_str().unwrap()]);
    (0..images.len())
        .map(|i| std::fs::read(dir.join(format!("all-{i}.wsq"))).unwrap())
        .collect()
}

/// NBIS decodes every file in one Python run: (width, height, pixels) of each.
pub fn nbis_decode_all(dir: &Path, files: &[Vec<u8>]) -> Vec<(u32, u32, Vec<u8>)> {
    let mut list = String::new();
    for (i, wsq) in files.iter().enumerate() {
        let src = dir.join(format!("peer-{i}.wsq"));
        std::fs::write(&src, wsq).unwrap();
        list += &format!(
            "{} {}\n",
            src.display(),
            dir.join(format!("peer-{i}.raw")).display()
        );
    }
    let list_file = dir.join("decode-all.txt");
    std::fs::write(&list_file, list).unwrap();
    let dims = peer(&["decode-all", list_file.to_str().unwrap()]);
    dims.lines()
        .enumerate()
        .map(|(i, line)| {
            let mut it = line.split_whitespace().map(|v| v.parse::<u32>().unwrap());
            let (w, h) = (it.next().unwrap(), it.next().unwrap());
            (
                w,
                h,
                std::fs::read(dir.join(format!("peer-{i}.raw"))).unwrap(),
            )
        })
        .collect()
}

/// The bin widths `Q` of a WSQ file's quantisation table (DQT), read straight from the bytes so
/// that files from either encoder are compared the same way.
pub fn bin_widths(wsq: &[u8]) -> [f64; 64] {
    let mut at = 2;
    while at + 4 <= wsq.len() {
        assert_eq!(wsq[at], 0xFF, "a marker at byte {at}");
        let marker = wsq[at + 1];
        let len = u16::from_be_bytes([wsq[at + 2], wsq[at + 3]]) as usize;
        let body = &wsq[at + 4..at + 2 + len];
        if marker == jemput_wsq::marker::DQT {
            let scaled = |o: usize| {
                u16::from_be_bytes([body[o + 1], body[o + 2]]) as f64 / 10f64.powi(body[o] as i32)
            };
            // Bin centre (3 bytes), then per subband Q (3 bytes) and Z (3 bytes).
            return std::array::from_fn(|k| scaled(3 + 6 * k));
        }
        assert_ne!(
            marker,
            jemput_wsq::marker::SOB,
            "no DQT before the first block"
        );
        at += 2 + len;
    }
    panic!("no DQT segment");
}

/// A fresh scratch directory under the target directory.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jemput-wsq-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

//! Shared by the WSQ integration tests: synthetic prints and the NBIS peer (Python `wsq`).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use jemput_wsq::Image;

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
"#;

/// NBIS through the Python `wsq` package, or the reason it cannot run here.
pub fn nbis() -> Result<(), String> {
    match Command::new("python3")
        .args(["-c", "import wsq, PIL"])
        .output()
    {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "python3 cannot import wsq/PIL ({}); install with `pip install wsq`",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Err(e) => Err(format!("python3 not runnable: {e}")),
    }
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

/// A fresh scratch directory under the target directory.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jemput-wsq-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

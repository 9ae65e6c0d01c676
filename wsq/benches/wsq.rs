//! WSQ encode and decode time against NBIS (the Python `wsq` package's C code, called directly
//! through its `_wsq` extension so that Pillow adds nothing), on the same synthetic 500 ppi prints,
//! with the PSNR of each side at 0.75 bpp.
//!
//! `cargo bench -p jemput-wsq --bench wsq -- --runs 15`

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::Instant;

use jemput_wsq::{decode, encode, EncodeOptions};

const NBIS_TIMER: &str = r#"
import sys, time, _wsq
raw, w, h, runs, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
data = open(raw, "rb").read()
enc, dec = [], []
for _ in range(runs):
    t = time.perf_counter(); b = _wsq.compress(data, h, w, 12); enc.append(time.perf_counter() - t)
    t = time.perf_counter(); p = _wsq.decompress(b); dec.append(time.perf_counter() - t)
open(out, "wb").write(p[0])
enc.sort(); dec.sort()
print(enc[len(enc) // 2] * 1e3, dec[len(dec) // 2] * 1e3, len(b))
"#;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(9usize);
    // Without NBIS the helper writes why to stderr, and the NBIS columns stay empty.
    let have_nbis = common::nbis();
    if !have_nbis {
        println!("NBIS column skipped: the Python `wsq` package is missing (see stderr)");
    }
    let dir = common::scratch("bench");
    println!(
        "| image | jemput encode | NBIS encode | ratio | jemput decode | NBIS decode | ratio | jemput bytes / PSNR | NBIS bytes / PSNR |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (i, &(w, h)) in [(545u32, 622u32), (800, 750), (1600, 1500)]
        .iter()
        .enumerate()
    {
        let image = common::synthetic_print(w, h, 40 + i as u64);
        let options = EncodeOptions::default();
        let mut enc = Vec::new();
        let mut dec = Vec::new();
        let mut bytes = Vec::new();
        let mut pixels = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            bytes = encode(&image, &options).unwrap();
            enc.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            pixels = decode(&bytes).unwrap().image.pixels;
            dec.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let (je, jd) = (median(enc), median(dec));
        let jp = common::psnr(&image.pixels, &pixels);
        let (ne, nd, nb, np) = if have_nbis {
            let raw = dir.join("bench.raw");
            let out = dir.join("bench-out.raw");
            std::fs::write(&raw, &image.pixels).unwrap();
            let o = Command::new("python3")
                .args(["-c", NBIS_TIMER])
                .arg(&raw)
                .args([w.to_string(), h.to_string(), runs.to_string()])
                .arg(&out)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let s = String::from_utf8(o.stdout).unwrap();
            let v: Vec<f64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();
            let np = common::psnr(&image.pixels, &std::fs::read(out).unwrap());
            (v[0], v[1], v[2] as usize, np)
        } else {
            (f64::NAN, f64::NAN, 0, f64::NAN)
        };
        println!(
            "| {w} × {h} | {je:.1} ms | {ne:.1} ms | {:.2}× | {jd:.1} ms | {nd:.1} ms | {:.2}× | {} / {jp:.2} dB | {nb} / {np:.2} dB |",
            je / ne,
            jd / nd,
            bytes.len()
        );
    }
}

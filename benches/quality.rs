//! Time jemput's own fingerprint quality score (`jemput-fq/1`, not NFIQ 2) on a 500 × 500 synthetic
//! print (goal: under 50 ms on one core). Run: `cargo bench --bench quality`; figures go in
//! BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use image::GrayImage;
use jemput_core::imaging::quality::{FingerQuality, JemputFq};
use jemput_drivers::synth::fingerprint;
use jemput_drivers::FingerPosition;

/// A synthetic 400 × 500 print centred on a 500 × 500 empty platen.
fn print_500() -> GrayImage {
    let f = fingerprint(42, FingerPosition::new(2).expect("finger code"), 1.0);
    let mut img = GrayImage::from_pixel(500, 500, image::Luma([250]));
    let x0 = (500 - f.width) / 2;
    for y in 0..f.height.min(500) {
        for x in 0..f.width {
            img.put_pixel(
                x0 + x,
                y,
                image::Luma([f.pixels[(y * f.width + x) as usize]]),
            );
        }
    }
    img
}

fn bench(c: &mut Criterion) {
    let img = print_500();
    let r = JemputFq.score(&img);
    eprintln!("bench print: score {} {:?}", r.score, r.measures);
    c.bench_function("jemput-fq/1 score 500x500", |b| {
        b.iter(|| JemputFq.score(std::hint::black_box(&img)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

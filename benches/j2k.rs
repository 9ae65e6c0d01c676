//! JPEG 2000 lossless encoding time (`jemput-j2k`) of what `jemput sbi serve` codes: a 500 ppi
//! synthetic finger (400 × 500) and a four-finger slap (1600 × 1500: the 3.2 × 3.0 inch platen
//! of a slap scanner at 500 ppi, four synthetic fingers side by side), with the ratio to the raw
//! pixels. Run: `cargo bench --bench j2k`; figures go in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jemput_drivers::synth::fingerprint;
use jemput_drivers::FingerPosition;
use jemput_j2k::{encode, Colour, Container};

/// Four prints of the left hand (index to little) on a light 1600 × 1500 platen.
fn slap() -> (u32, u32, Vec<u8>) {
    let (w, h) = (1600u32, 1500u32);
    let mut pixels = vec![250u8; (w * h) as usize];
    for (i, code) in (7..=10).enumerate() {
        let f = fingerprint(42, FingerPosition::new(code).expect("finger code"), 0.85);
        let (x0, y0) = (i as u32 * w / 4, (h - f.height) / 2 + (i as u32 % 2) * 60);
        for y in 0..f.height.min(h - y0) {
            let row = (y * f.width) as usize;
            let at = ((y0 + y) * w + x0) as usize;
            pixels[at..at + f.width as usize]
                .copy_from_slice(&f.pixels[row..row + f.width as usize]);
        }
    }
    (w, h, pixels)
}

fn bench(c: &mut Criterion) {
    let finger = fingerprint(42, FingerPosition::new(2).expect("finger code"), 0.85);
    let slap = slap();
    let mut group = c.benchmark_group("j2k_lossless");
    group.sample_size(20);
    for (name, w, h, pixels) in [
        (
            "finger_400x500",
            finger.width,
            finger.height,
            &finger.pixels,
        ),
        ("slap_1600x1500", slap.0, slap.1, &slap.2),
    ] {
        let size = encode(w, h, Colour::Grey, pixels, Container::Jp2)
            .expect("encodes")
            .len();
        eprintln!(
            "{name}: {size} bytes, {:.2}:1 of {} raw",
            pixels.len() as f64 / size as f64,
            pixels.len()
        );
        group.throughput(Throughput::Bytes(pixels.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                encode(
                    w,
                    h,
                    Colour::Grey,
                    std::hint::black_box(pixels),
                    Container::Jp2,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Built-in synthetic captures, so the kit runs with no hardware and with no data from real people.
//!
//! Every generator is a pure function of its seed (and, where it takes one, a name or title): the same
//! arguments give the same bytes on the same build and platform. The pseudo-random numbers come from a
//! small SplitMix64 generator kept here rather than from `rand`'s `StdRng`, whose algorithm may change
//! between `rand` releases and would silently change every synthetic capture with it. Floating-point
//! functions (`sin`, `exp`, …) come from the platform's maths library, so another platform may differ in
//! the last bit of a few pixels.
//!
//! - [`fingerprint`]: an 8-bit, 500 ppi plain impression whose pattern class and singularities depend on
//!   the person and the finger, rendered by oriented Gabor filtering of noise.
//! - [`face`]: a cartoon head and shoulders on a uniform background, for the KTP-el photo slot.
//! - [`signature_trace`] and [`render_signature`]: a cursive-looking pen trace as a pad reports it, and
//!   its picture.
//! - [`document`]: a photo of a made-up form lying on a table.
//! - [`png_gray`], [`png_gray_image`], [`jpeg_rgb`]: the encoders that turn captures into packet files.

mod document;
mod face;
mod finger;
mod paint;
mod signature;

pub use document::{document, DOCUMENT_HEIGHT, DOCUMENT_WIDTH};
pub use face::{face, FACE_HEIGHT, FACE_WIDTH};
pub use finger::{fingerprint, FINGER_HEIGHT, FINGER_PPI, FINGER_WIDTH};
pub use signature::{
    render_signature, signature_trace, PAD_EXTENT_X, PAD_EXTENT_Y, PAD_MAX_PRESSURE,
};

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

/// Encodes 8-bit greyscale pixels (row-major, `width × height` bytes) as a PNG file.
///
/// # Panics
/// If `pixels.len()` is not `width × height`.
pub fn png_gray(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    assert_eq!(
        pixels.len() as u64,
        u64::from(width) * u64::from(height),
        "png_gray: {width}×{height} needs {} bytes, got {}",
        u64::from(width) * u64::from(height),
        pixels.len()
    );
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(pixels, width, height, ExtendedColorType::L8)
        .expect("encoding a well-sized greyscale buffer into memory cannot fail");
    out
}

/// Encodes a greyscale image as a PNG file.
pub fn png_gray_image(img: &image::GrayImage) -> Vec<u8> {
    png_gray(img.width(), img.height(), img.as_raw())
}

/// Encodes an RGB image as a baseline JPEG file; `quality` is 1–100 (values outside are clamped).
pub fn jpeg_rgb(img: &image::RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .expect("encoding an RGB image into memory cannot fail");
    out
}

/// SplitMix64: tiny, fast, and fixed forever, which is what determinism needs here.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    pub(crate) fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// Approximately standard normal (Irwin–Hall with four terms: cheap, bounded by ±3.5).
    pub(crate) fn normal(&mut self) -> f32 {
        let s: f32 = (0..4).map(|_| self.unit()).sum();
        (s - 2.0) * 3f32.sqrt()
    }
}

/// The SplitMix64 output function: a strong 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for one generator (`domain`) and one input, so that, say, the face and the signature of a
/// person do not share their random numbers.
pub(crate) fn derive_seed(seed: u64, domain: &str, extra: &[u8]) -> u64 {
    // FNV-1a over the domain and the extra bytes, then mixed with the seed.
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in domain.bytes().chain([0xFF]).chain(extra.iter().copied()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix64(seed ^ mix64(h))
}

/// Smooth random values on a coarse grid, bilinearly interpolated: blotches, streaks, wobbly edges.
#[derive(Debug, Clone)]
pub(crate) struct ValueNoise {
    cols: usize,
    rows: usize,
    cell: f32,
    values: Vec<f32>,
}

impl ValueNoise {
    /// Noise in `[0, 1)` over a `width × height` area with features about `cell` pixels across.
    pub(crate) fn new(rng: &mut Rng, width: u32, height: u32, cell: f32) -> Self {
        let cols = (width as f32 / cell).ceil() as usize + 2;
        let rows = (height as f32 / cell).ceil() as usize + 2;
        let values = (0..cols * rows).map(|_| rng.unit()).collect();
        ValueNoise {
            cols,
            rows,
            cell,
            values,
        }
    }

    pub(crate) fn at(&self, x: f32, y: f32) -> f32 {
        let fx = (x / self.cell).clamp(0.0, (self.cols - 2) as f32);
        let fy = (y / self.cell).clamp(0.0, (self.rows - 2) as f32);
        let (ix, iy) = (fx as usize, fy as usize);
        let (tx, ty) = (smooth(fx - ix as f32), smooth(fy - iy as f32));
        let v = |c: usize, r: usize| self.values[r * self.cols + c];
        let top = v(ix, iy) + (v(ix + 1, iy) - v(ix, iy)) * tx;
        let bottom = v(ix, iy + 1) + (v(ix + 1, iy + 1) - v(ix, iy + 1)) * tx;
        top + (bottom - top) * ty
    }
}

/// Hermite smoothstep on `[0, 1]`.
pub(crate) fn smooth(t: f32) -> f32 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
pub(crate) mod testutil {
    /// Writes a sample PNG to `$JEMPUT_SYNTH_SAMPLES/<name>` when that variable is set, so that a
    /// person can look at what the generators draw: `JEMPUT_SYNTH_SAMPLES=/tmp/synth cargo test synth`.
    pub(crate) fn save_sample(name: &str, png: &[u8]) {
        if let Some(dir) = std::env::var_os("JEMPUT_SYNTH_SAMPLES") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), png).unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_gray_decodes_to_the_same_pixels() {
        let pixels: Vec<u8> = (0..37 * 23).map(|i| (i * 7 % 256) as u8).collect();
        let png = png_gray(37, 23, &pixels);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let back = image::load_from_memory(&png).unwrap();
        assert_eq!(back.color(), image::ColorType::L8);
        let back = back.into_luma8();
        assert_eq!((back.width(), back.height()), (37, 23));
        assert_eq!(back.into_raw(), pixels);
    }

    #[test]
    fn png_gray_image_decodes_to_the_same_image() {
        let img = image::GrayImage::from_fn(20, 10, |x, y| image::Luma([(x * 10 + y) as u8]));
        let back = image::load_from_memory(&png_gray_image(&img)).unwrap();
        assert_eq!(back.into_luma8(), img);
    }

    #[test]
    #[should_panic(expected = "needs 6 bytes, got 5")]
    fn png_gray_refuses_a_buffer_of_the_wrong_size() {
        png_gray(3, 2, &[0; 5]);
    }

    #[test]
    fn jpeg_rgb_decodes_to_the_same_dimensions_and_roughly_the_same_colours() {
        let img = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 60, 30]));
        let jpeg = jpeg_rgb(&img, 90);
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "JPEG SOI marker");
        let back = image::load_from_memory(&jpeg).unwrap().into_rgb8();
        assert_eq!((back.width(), back.height()), (64, 48));
        let p = back.get_pixel(32, 24).0;
        for (got, want) in p.iter().zip([200u8, 60, 30]) {
            assert!(got.abs_diff(want) <= 6, "{p:?}");
        }
    }

    #[test]
    fn derived_seeds_differ_by_domain_and_input() {
        let a = derive_seed(1, "face", b"");
        assert_eq!(a, derive_seed(1, "face", b""));
        assert_ne!(a, derive_seed(1, "finger", b""));
        assert_ne!(a, derive_seed(2, "face", b""));
        assert_ne!(
            derive_seed(1, "sig", b"Siti"),
            derive_seed(1, "sig", b"Sito")
        );
    }

    /// Generation times and file sizes of one synthetic visit. Opt-in, as timings only mean something in
    /// an optimised build:
    /// `cargo test --release --lib visit::synth::tests::reports -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing report; run by name in --release"]
    fn reports_generation_times_and_file_sizes_of_a_visit() {
        use crate::FingerPosition;
        use std::time::Instant;
        let best_of = |runs: u32, f: &mut dyn FnMut()| {
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .min()
                .unwrap()
        };
        let mut total = 0usize;
        let mut print_ms = Vec::new();
        let mut print_kb = Vec::new();
        for f in FingerPosition::all() {
            let mut img = None;
            print_ms
                .push(best_of(3, &mut || img = Some(fingerprint(11, f, 0.9))).as_secs_f64() * 1e3);
            let img = img.unwrap();
            let t = Instant::now();
            let png = png_gray(img.width, img.height, &img.pixels);
            eprintln!(
                "finger {:2}: PNG {} bytes, encoded in {:?}",
                f.code(),
                png.len(),
                t.elapsed()
            );
            print_kb.push(png.len());
            total += png.len();
        }
        for q in [1.0, 0.7, 0.5, 0.3, 0.1] {
            let img = fingerprint(11, FingerPosition::new(2).unwrap(), q);
            let png = png_gray(img.width, img.height, &img.pixels);
            eprintln!("finger 2 at quality {q}: PNG {} bytes", png.len());
        }
        let mut portrait = None;
        let face_ms = best_of(5, &mut || portrait = Some(face(11, [200, 30, 40])));
        let jpeg = jpeg_rgb(&portrait.unwrap(), 90);
        let mut trace = None;
        let sig_ms = best_of(5, &mut || trace = Some(signature_trace(11, "Siti Aminah")));
        let trace = trace.unwrap();
        let mut sig = None;
        let render_ms = best_of(5, &mut || sig = Some(render_signature(&trace, 800, 240)));
        let sig_png = png_gray_image(&sig.unwrap());
        let mut doc = None;
        let doc_ms = best_of(3, &mut || doc = Some(document(11, "Kartu Keluarga")));
        let doc_jpeg = jpeg_rgb(&doc.unwrap(), 85);
        total += jpeg.len() + sig_png.len();
        eprintln!(
            "fingerprint: {:.1}–{:.1} ms each (best of 3); PNG {}–{} bytes",
            print_ms.iter().copied().fold(f64::MAX, f64::min),
            print_ms.iter().copied().fold(0.0, f64::max),
            print_kb.iter().min().unwrap(),
            print_kb.iter().max().unwrap()
        );
        eprintln!("face: {face_ms:?}; JPEG q90 {} bytes", jpeg.len());
        eprintln!(
            "signature: trace {sig_ms:?} ({} points), render 800×240 {render_ms:?}; PNG {} bytes",
            trace.points.len(),
            sig_png.len()
        );
        eprintln!("document: {doc_ms:?}; JPEG q85 {} bytes", doc_jpeg.len());
        eprintln!("visit (10 prints + face + signature): {total} bytes");
    }

    #[test]
    fn rng_stays_in_its_ranges() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(r.below(5) < 5);
            assert!(r.normal().abs() <= 3.5);
        }
    }
}

//! jemput's own fingerprint quality measure (`jemput-fq/1`, not NFIQ 2) on synthetic prints degraded
//! step by step: each kind of degradation must lower the score (Spearman rank correlation between
//! step and score ≤ −0.9 for every print), an empty sensor must score near 0 and a clean print high.
//! Only synthetic prints from `jemput_drivers::synth`; no data from real people.

use image::GrayImage;
use jemput_core::imaging::quality::{FingerQuality, JemputFq, JEMPUT_FQ_ID};
use jemput_drivers::synth::fingerprint;
use jemput_drivers::FingerPosition;

/// Steps per degradation series (step 0 is the clean print).
const STEPS: usize = 7;
/// Grey level of an empty platen in the synthetic prints.
const PLATEN: f32 = 250.0;

/// The prints every series runs on: several people, fingers and pattern classes.
fn prints() -> Vec<GrayImage> {
    [(1u64, 1u8), (7, 2), (23, 6), (101, 9)]
        .iter()
        .map(|&(seed, code)| {
            let f = fingerprint(seed, FingerPosition::new(code).expect("finger code"), 1.0);
            GrayImage::from_raw(f.width, f.height, f.pixels).expect("image size")
        })
        .collect()
}

/// Deterministic pseudo-random numbers (SplitMix64), so the tests give the same figures every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// About standard normal (sum of twelve uniforms).
    fn normal(&mut self) -> f32 {
        (0..12).map(|_| self.unit()).sum::<f32>() - 6.0
    }
}

fn map_pixels(img: &GrayImage, mut f: impl FnMut(u32, u32, f32) -> f32) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let v = f(x, y, f32::from(img.get_pixel(x, y)[0]));
        image::Luma([v.round().clamp(0.0, 255.0) as u8])
    })
}

/// Additive Gaussian sensor noise of standard deviation 9 × step grey levels.
fn noise(img: &GrayImage, step: usize) -> GrayImage {
    let mut rng = Rng(0xA11CE + step as u64);
    let sd = 9.0 * step as f32;
    map_pixels(img, |_, _, v| v + sd * rng.normal())
}

/// Box blur of radius 2 × `step` (separable), plus the mild sensor noise every real capture has.
fn blur(img: &GrayImage, step: usize) -> GrayImage {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let r = 2 * step as i64;
    let src: Vec<f32> = img.as_raw().iter().map(|&p| f32::from(p)).collect();
    let pass = |src: &[f32], dx: i64, dy: i64| -> Vec<f32> {
        let mut out = vec![0.0; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                for k in -r..=r {
                    let xx = (x + k * dx).clamp(0, w - 1);
                    let yy = (y + k * dy).clamp(0, h - 1);
                    s += src[(yy * w + xx) as usize];
                }
                out[(y * w + x) as usize] = s / (2 * r + 1) as f32;
            }
        }
        out
    };
    let out = pass(&pass(&src, 1, 0), 0, 1);
    let mut rng = Rng(0xB1 + step as u64);
    map_pixels(img, |x, y, _| {
        out[(y as i64 * w + x as i64) as usize] + 3.0 * rng.normal()
    })
}

/// Contrast scaled towards the platen grey: ×(1 − 0.14 × step), plus mild sensor noise.
fn low_contrast(img: &GrayImage, step: usize) -> GrayImage {
    let k = 1.0 - 0.14 * step as f32;
    let mut rng = Rng(0xC0 + step as u64);
    map_pixels(img, |_, _, v| {
        PLATEN + (v - PLATEN) * k + 3.0 * rng.normal()
    })
}

/// Partial contact: only an ellipse around the print's centre touches, shrinking with each step.
fn partial_contact(img: &GrayImage, step: usize) -> GrayImage {
    let (cx, cy) = (img.width() as f32 / 2.0, img.height() as f32 / 2.0);
    let scale = 1.0 - 0.13 * step as f32;
    let (rx, ry) = (cx * scale, cy * scale);
    map_pixels(img, |x, y, v| {
        let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
        if dx * dx + dy * dy <= 1.0 {
            v
        } else {
            PLATEN
        }
    })
}

/// Grey-level minimum (`dark` = true: ridges spread, as on a wet finger) or maximum (ridges thin
/// and break, as on a dry one) over a square of radius `r`.
fn morph(img: &GrayImage, r: i64, dark: bool) -> GrayImage {
    let (w, h) = (img.width() as i64, img.height() as i64);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let mut acc = if dark { 255u8 } else { 0u8 };
        for yy in (y as i64 - r).max(0)..=(y as i64 + r).min(h - 1) {
            for xx in (x as i64 - r).max(0)..=(x as i64 + r).min(w - 1) {
                let v = img.get_pixel(xx as u32, yy as u32)[0];
                acc = if dark { acc.min(v) } else { acc.max(v) };
            }
        }
        image::Luma([acc])
    })
}

/// Wet finger: moisture darkens the skin so ridges widen into the valleys (a grey-level gamma of
/// 1 + 0.5 × step), from step 2 ridges spread further (grey-level erosion of radius step / 2), and
/// water filling the valleys pulls the whole contact area towards the ridge grey (by 9 % a step).
fn wet(img: &GrayImage, step: usize) -> GrayImage {
    let gamma = 1.0 + 0.5 * step as f32;
    let fill = 0.09 * step as f32;
    let darker = map_pixels(img, |_, _, v| {
        if v < 245.0 {
            255.0 * (v / 255.0).powf(gamma) * (1.0 - fill)
        } else {
            v
        }
    });
    morph(&darker, step as i64 / 2, true)
}

/// Dry finger: ridges thin (grey-level dilation of radius ≈ step / 2), fade towards the platen and
/// break where the skin does not touch (random dropouts growing with the step).
fn dry(img: &GrayImage, step: usize) -> GrayImage {
    let thin = morph(img, (step as i64) / 2, false);
    let fade = 0.11 * step as f32;
    let mut rng = Rng(0xD2 + step as u64);
    // Dropouts in 6 × 6 cells so that ridges break in pieces rather than pixel by pixel.
    let cells_w = img.width().div_ceil(6) as usize;
    let cells: Vec<bool> = (0..cells_w * img.height().div_ceil(6) as usize)
        .map(|_| rng.unit() < 0.09 * step as f32)
        .collect();
    map_pixels(&thin, |x, y, v| {
        if cells[(y / 6) as usize * cells_w + (x / 6) as usize] {
            PLATEN
        } else {
            v + (PLATEN - v) * fade
        }
    })
}

/// Spearman rank correlation (average ranks for ties).
fn spearman(xs: &[f64], ys: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    let (rx, ry) = (ranks(xs), ranks(ys));
    let n = xs.len() as f64;
    let mx = rx.iter().sum::<f64>() / n;
    let my = ry.iter().sum::<f64>() / n;
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    if vx == 0.0 || vy == 0.0 {
        0.0
    } else {
        cov / (vx * vy).sqrt()
    }
}

/// Score every print at every step of one degradation; each print's series must fall.
fn check_series(name: &str, degrade: fn(&GrayImage, usize) -> GrayImage) {
    let steps: Vec<f64> = (0..STEPS).map(|s| s as f64).collect();
    for (i, print) in prints().iter().enumerate() {
        let scores: Vec<f64> = (0..STEPS)
            .map(|s| f64::from(JemputFq.score(&degrade(print, s)).score))
            .collect();
        let rho = spearman(&steps, &scores);
        eprintln!("{name} print {i}: scores {scores:?}, Spearman {rho:.3}");
        assert!(
            rho <= -0.9,
            "{name}, print {i}: scores {scores:?} do not fall with the degradation (Spearman {rho:.3})"
        );
        assert!(
            scores[STEPS - 1] < scores[0],
            "{name}, print {i}: last step {scores:?} not below the clean print"
        );
    }
}

#[test]
fn noise_lowers_the_score() {
    check_series("noise", noise);
}

#[test]
fn blur_lowers_the_score() {
    check_series("blur", blur);
}

#[test]
fn low_contrast_lowers_the_score() {
    check_series("low contrast", low_contrast);
}

#[test]
fn partial_contact_lowers_the_score() {
    check_series("partial contact", partial_contact);
}

#[test]
fn wet_finger_lowers_the_score() {
    check_series("wet", wet);
}

#[test]
fn dry_finger_lowers_the_score() {
    check_series("dry", dry);
}

#[test]
fn clean_prints_score_high() {
    for (i, print) in prints().iter().enumerate() {
        let r = JemputFq.score(print);
        eprintln!("clean print {i}: {} {:?}", r.score, r.measures);
        assert!(
            r.score >= 60,
            "clean print {i} scored {}: {:?}",
            r.score,
            r.measures
        );
    }
}

#[test]
fn empty_sensor_scores_near_zero() {
    let flat = GrayImage::from_pixel(500, 500, image::Luma([250]));
    let black = GrayImage::from_pixel(500, 500, image::Luma([0]));
    let mut rng = Rng(0xE0);
    // An empty platen as a sensor sees it: light grey with a little read noise.
    let noisy_blank = map_pixels(&flat, |_, _, v| v - 3.0 * rng.normal().abs());
    // Pure noise (a faulty sensor): no ridge structure at all.
    let mut rng = Rng(0xE1);
    let pure_noise = map_pixels(&flat, |_, _, _| 128.0 + 40.0 * rng.normal());
    for (name, img) in [
        ("flat", &flat),
        ("black", &black),
        ("blank with read noise", &noisy_blank),
        ("pure noise", &pure_noise),
    ] {
        let r = JemputFq.score(img);
        eprintln!("{name}: {} {:?}", r.score, r.measures);
        assert!(r.score <= 5, "{name} scored {}: {:?}", r.score, r.measures);
    }
}

#[test]
fn report_names_its_measures_and_is_deterministic() {
    let print = &prints()[0];
    let a = JemputFq.score(print);
    let b = JemputFq.score(print);
    assert_eq!(a, b);
    assert_eq!(JemputFq.algorithm_id(), JEMPUT_FQ_ID);
    for name in [
        "foreground_area",
        "foreground_mm2",
        "orientation_certainty",
        "local_clarity",
        "ridge_frequency_consistency",
        "ridge_valley_uniformity",
        "contrast",
    ] {
        let v = a.measures[name];
        assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
    }
    // The unit measures stay within [0, 1].
    for (name, v) in &a.measures {
        if name != "foreground_mm2" {
            assert!((0.0..=1.0).contains(v), "{name} = {v}");
        }
    }
}

#[test]
fn score_follows_the_generators_own_quality() {
    // The synthetic generator's `quality` (1.0 clean … 0.0 faint, blurred, noisy, smudged) is an
    // independent degradation: the score must fall with it too.
    let qualities = [1.0f32, 0.85, 0.7, 0.55, 0.4, 0.25, 0.1];
    let steps: Vec<f64> = (0..qualities.len()).map(|s| s as f64).collect();
    for &(seed, code) in &[(3u64, 1u8), (55, 7)] {
        let scores: Vec<f64> = qualities
            .iter()
            .map(|&q| {
                let f = fingerprint(seed, FingerPosition::new(code).expect("finger code"), q);
                let img = GrayImage::from_raw(f.width, f.height, f.pixels).expect("image size");
                f64::from(JemputFq.score(&img).score)
            })
            .collect();
        let rho = spearman(&steps, &scores);
        eprintln!("generator quality, seed {seed}: scores {scores:?}, Spearman {rho:.3}");
        assert!(rho <= -0.9, "seed {seed}: {scores:?} (Spearman {rho:.3})");
    }
}

#[test]
fn odd_sizes_never_panic() {
    let print = &prints()[1];
    for (w, h) in [(33u32, 33u32), (257, 31), (63, 401), (399, 499)] {
        let crop = image::imageops::crop_imm(print, 0, 0, w, h).to_image();
        let r = JemputFq.score(&crop);
        assert!(r.score <= 100);
        assert!(r.measures.values().all(|v| v.is_finite()), "{w}x{h}");
    }
}

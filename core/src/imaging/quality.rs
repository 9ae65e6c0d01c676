//! Fingerprint image quality: a 0–100 score per finger image, behind a trait so that a certified
//! NFIQ 2 (ISO/IEC 29794-4) can replace jemput's own measure when one can be installed.
//!
//! [`JemputFq`] (algorithm id [`JEMPUT_FQ_ID`], `"jemput-fq/1"`) is **jemput's own measure, not
//! NFIQ 2**: it computes native measures of the same kind NFIQ 2 combines (foreground area,
//! orientation certainty, local clarity, ridge-frequency consistency, ridge-valley uniformity,
//! contrast) on 32 × 32 pixel blocks and combines them with a fixed formula rather than NFIQ 2's
//! trained random forest. Its numbers are not comparable with NFIQ 2 scores and must always be
//! recorded with its algorithm id. It expects an uncompressed 8-bit grey image at 500 ppi (ridges
//! dark, background light), scored before any WSQ compression.
//!
//! The capture policy ([`crate::visit::policy`]) scores every finger attempt with it.

use std::collections::BTreeMap;

use image::GrayImage;
use serde::Serialize;

/// Algorithm identifier of [`JemputFq`], recorded next to every score it gives.
pub const JEMPUT_FQ_ID: &str = "jemput-fq/1";

/// A fingerprint quality algorithm: jemput's own ([`JemputFq`]) or, later, a certified NFIQ 2.
pub trait FingerQuality {
    /// Identifier recorded with each score (for ANSI/NIST-ITL 14.024 or the ISO quality block).
    fn algorithm_id(&self) -> &str;
    /// Score one uncompressed finger image. Never fails: an empty or tiny image scores 0.
    fn score(&self, img: &GrayImage) -> QualityReport;
}

/// The result of scoring one finger image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    /// Overall quality, 0 (unusable or no finger) to 100 (best).
    pub score: u8,
    /// The algorithm's native measures by name (each documented by the algorithm).
    pub measures: BTreeMap<String, f64>,
}

/// Side of the square blocks the image is analysed in (at 500 ppi: 1.6 mm, 3–4 ridge periods).
const BLOCK: usize = 32;
/// Profile bins across the ridges: distances −24..=23 px from the block centre, one per pixel.
const BINS: usize = 48;
const BIN_OFFSET: f64 = 24.0;
/// A block is foreground when its grey-level standard deviation reaches this (sensor noise on an
/// empty platen stays well below).
const FOREGROUND_STD: f64 = 8.0;
/// Foreground blocks at which the area factor reaches 1 − 1/e (about 105 mm² at 500 ppi).
const AREA_SCALE_BLOCKS: f64 = 40.0;
/// Ridge periods accepted as plausible at 500 ppi, in pixels (0.2–0.8 mm).
const PERIOD_MIN: f64 = 4.0;
const PERIOD_MAX: f64 = 16.0;
/// Peak-to-peak ridge-valley amplitude (grey levels) that counts as full contrast.
const FULL_CONTRAST: f64 = 200.0;
/// Local clarity from which a block counts as showing a ridge pattern (white noise gives about 0).
const STRUCTURED_CLARITY: f64 = 0.15;

/// jemput's own fingerprint quality measure, algorithm id `"jemput-fq/1"`. **Not NFIQ 2.**
///
/// The image is cut into 32 × 32 blocks. A block is foreground when its local standard deviation
/// is at least 8 grey levels. For each foreground block, from central-difference gradients and a
/// profile of grey levels across the dominant ridge direction:
///
/// - `orientation_certainty`: 1 − λmin/λmax of the gradient structure tensor (1 = one clear
///   direction, 0 = none), averaged over foreground blocks;
/// - `local_clarity`: the share of the block's grey-level variance explained by its ridge profile
///   (how cleanly pixels fall into ridge and valley), corrected for chance, averaged;
/// - `ridge_frequency_consistency`: the share of foreground blocks with a clear ridge pattern (local
///   clarity ≥ 0.15) whose profile gives a plausible ridge period (4–16 px), times how little those
///   periods vary (coefficient of variation);
/// - `ridge_valley_uniformity`: how constant and balanced the dark (ridge) share of the profile is
///   from block to block over the blocks with a clear ridge pattern, times their share (wet prints
///   have thick ridges, dry prints thin broken ones);
/// - `contrast`: the mean peak-to-peak ridge-valley amplitude over 200 grey levels, at most 1;
/// - `foreground_area`: foreground blocks as a share of all whole blocks, and `foreground_mm2` the
///   same in square millimetres assuming 500 ppi.
///
/// Score = 100 × (1 − e^(−foreground blocks / 40)) × the weighted geometric mean of the five
/// foreground measures. An empty sensor has no foreground and scores 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct JemputFq;

/// What one foreground block yields.
#[derive(Debug, Clone, Copy)]
struct BlockMeasures {
    ocl: f64,
    clarity: f64,
    /// Ridge period in pixels, if the profile gives a plausible one.
    period: Option<f64>,
    /// Share of the block's pixels on the dark side of its profile.
    dark_share: f64,
    /// Peak-to-peak amplitude of the profile, grey levels.
    amplitude: f64,
}

impl FingerQuality for JemputFq {
    fn algorithm_id(&self) -> &str {
        JEMPUT_FQ_ID
    }

    fn score(&self, img: &GrayImage) -> QualityReport {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let px: &[u8] = img.as_raw();
        let (bw, bh) = (w / BLOCK, h / BLOCK);
        let total = bw * bh;
        let mut blocks: Vec<BlockMeasures> = Vec::with_capacity(total);
        for by in 0..bh {
            for bx in 0..bw {
                if let Some(m) = measure_block(px, w, h, bx * BLOCK, by * BLOCK) {
                    blocks.push(m);
                }
            }
        }
        report(&blocks, total)
    }
}

/// Combine the block measures into the report.
fn report(blocks: &[BlockMeasures], total: usize) -> QualityReport {
    let n = blocks.len();
    let mut measures = BTreeMap::new();
    let area = if total == 0 {
        0.0
    } else {
        n as f64 / total as f64
    };
    let block_mm = BLOCK as f64 * 25.4 / 500.0;
    measures.insert("foreground_area".to_string(), area);
    measures.insert("foreground_mm2".to_string(), n as f64 * block_mm * block_mm);
    let (ocl, clarity, fcs, rvu, contrast) = if n == 0 {
        (0.0, 0.0, 0.0, 0.0, 0.0)
    } else {
        let nf = n as f64;
        let ocl = blocks.iter().map(|b| b.ocl).sum::<f64>() / nf;
        let clarity = blocks.iter().map(|b| b.clarity).sum::<f64>() / nf;
        let contrast =
            (blocks.iter().map(|b| b.amplitude).sum::<f64>() / nf / FULL_CONTRAST).min(1.0);
        // Frequency: share of blocks with a clear ridge pattern and a plausible period, times the
        // consistency of those periods.
        let (mut k, mut s, mut s2) = (0usize, 0.0, 0.0);
        for p in blocks
            .iter()
            .filter(|b| b.clarity >= STRUCTURED_CLARITY)
            .filter_map(|b| b.period)
        {
            k += 1;
            s += p;
            s2 += p * p;
        }
        let fcs = if k < 2 {
            0.0
        } else {
            let mean = s / k as f64;
            let cv = ((s2 / k as f64 - mean * mean).max(0.0)).sqrt() / mean;
            (k as f64 / nf) * (1.0 - cv / 0.4).clamp(0.0, 1.0)
        };
        // Ridge-valley uniformity: over the blocks with a clear ridge pattern, the dark share is
        // constant from block to block and near half; blocks without one count against it.
        let structured: Vec<f64> = blocks
            .iter()
            .filter(|b| b.clarity >= STRUCTURED_CLARITY)
            .map(|b| b.dark_share)
            .collect();
        let rvu = if structured.is_empty() {
            0.0
        } else {
            let ns = structured.len() as f64;
            let dm = structured.iter().sum::<f64>() / ns;
            let dsd = (structured.iter().map(|d| (d - dm).powi(2)).sum::<f64>() / ns).sqrt();
            (ns / nf) * ((1.0 - dsd / 0.25) * (1.0 - (dm - 0.5).abs() / 0.4)).clamp(0.0, 1.0)
        };
        (ocl, clarity, fcs, rvu, contrast)
    };
    measures.insert("orientation_certainty".to_string(), ocl);
    measures.insert("local_clarity".to_string(), clarity);
    measures.insert("ridge_frequency_consistency".to_string(), fcs);
    measures.insert("ridge_valley_uniformity".to_string(), rvu);
    measures.insert("contrast".to_string(), contrast);
    let area_factor = 1.0 - (-(n as f64) / AREA_SCALE_BLOCKS).exp();
    // Weighted geometric mean; a small floor keeps one failed measure from hiding the others.
    let parts = [
        (ocl, 0.25),
        (clarity, 0.3),
        (fcs, 0.15),
        (rvu, 0.1),
        (contrast, 0.2),
    ];
    let log_mean: f64 = parts.iter().map(|(v, wt)| wt * v.max(0.01).ln()).sum();
    let value = if n == 0 {
        0.0
    } else {
        100.0 * area_factor * log_mean.exp()
    };
    QualityReport {
        score: value.round().clamp(0.0, 100.0) as u8,
        measures,
    }
}

/// Measures of the block whose top-left pixel is (x0, y0), or `None` for background.
fn measure_block(px: &[u8], w: usize, h: usize, x0: usize, y0: usize) -> Option<BlockMeasures> {
    // Pass 1: mean, variance and the gradient structure tensor.
    let (mut sum, mut sum2) = (0.0f64, 0.0f64);
    let (mut gxx, mut gyy, mut gxy) = (0.0f64, 0.0f64, 0.0f64);
    for y in y0..y0 + BLOCK {
        let row = y * w;
        let up = y.saturating_sub(1) * w;
        let down = (y + 1).min(h - 1) * w;
        for x in x0..x0 + BLOCK {
            let v = f64::from(px[row + x]);
            sum += v;
            sum2 += v * v;
            let left = f64::from(px[row + x.saturating_sub(1)]);
            let right = f64::from(px[row + (x + 1).min(w - 1)]);
            let gx = right - left;
            let gy = f64::from(px[down + x]) - f64::from(px[up + x]);
            gxx += gx * gx;
            gyy += gy * gy;
            gxy += gx * gy;
        }
    }
    let count = (BLOCK * BLOCK) as f64;
    let mean = sum / count;
    let var = (sum2 / count - mean * mean).max(0.0);
    if var.sqrt() < FOREGROUND_STD {
        return None;
    }
    let trace = gxx + gyy;
    let root = ((gxx - gyy).powi(2) + 4.0 * gxy * gxy).sqrt();
    let (lmax, lmin) = ((trace + root) / 2.0, (trace - root) / 2.0);
    let ocl = if lmax > 0.0 { 1.0 - lmin / lmax } else { 0.0 };
    // Direction across the ridges (the dominant gradient direction).
    let theta = 0.5 * (2.0 * gxy).atan2(gxx - gyy);
    let (nx, ny) = (theta.cos(), theta.sin());

    // Pass 2: the grey-level profile across the ridges.
    let mut bsum = [0.0f64; BINS];
    let mut bcount = [0u32; BINS];
    let c = (BLOCK as f64 - 1.0) / 2.0;
    for y in 0..BLOCK {
        let row = (y0 + y) * w + x0;
        let dy = y as f64 - c;
        for x in 0..BLOCK {
            let d = (x as f64 - c) * nx + dy * ny;
            let bin = ((d + BIN_OFFSET).round() as usize).min(BINS - 1);
            bsum[bin] += f64::from(px[row + x]);
            bcount[bin] += 1;
        }
    }
    let mut profile = [0.0f64; BINS];
    let (mut signal, mut dark, mut used_bins) = (0.0f64, 0u32, 0usize);
    for b in 0..BINS {
        if bcount[b] > 0 {
            let m = bsum[b] / f64::from(bcount[b]);
            profile[b] = m - mean;
            signal += f64::from(bcount[b]) * profile[b] * profile[b];
            if m < mean {
                dark += bcount[b];
            }
            used_bins += 1;
        }
    }
    let r2 = signal / (var * count);
    // Bin means of pure noise explain about (bins − 1)/pixels of the variance by chance.
    let chance = (used_bins.saturating_sub(1)) as f64 / count;
    let clarity = ((r2 - chance) / (1.0 - chance)).clamp(0.0, 1.0);
    let amplitude = 2.0 * (2.0 * signal / count).sqrt();
    Some(BlockMeasures {
        ocl,
        clarity,
        period: ridge_period(&profile, &bcount, (signal / count).sqrt()),
        dark_share: f64::from(dark) / count,
        amplitude,
    })
}

/// Ridge period from a profile (grey level minus block mean per bin): crossings of ± a quarter of
/// the profile's spread, over the bins that hold enough pixels to be reliable.
fn ridge_period(profile: &[f64; BINS], counts: &[u32; BINS], spread: f64) -> Option<f64> {
    let reliable = |b: usize| counts[b] >= 8;
    let first = (0..BINS).find(|&b| reliable(b))?;
    let last = (0..BINS).rev().find(|&b| reliable(b))?;
    if last <= first {
        return None;
    }
    let h = 0.25 * spread;
    let (mut state, mut crossings) = (0i8, 0u32);
    let (mut first_cross, mut last_cross) = (0usize, 0usize);
    for (b, &v) in profile.iter().enumerate().take(last + 1).skip(first) {
        let s = if v > h {
            1
        } else if v < -h {
            -1
        } else {
            0
        };
        if s != 0 && s != state {
            if state != 0 {
                if crossings == 0 {
                    first_cross = b;
                }
                last_cross = b;
                crossings += 1;
            }
            state = s;
        }
    }
    if crossings < 3 {
        return None;
    }
    // Between the first and last crossing lie (crossings − 1) half periods.
    let period = 2.0 * (last_cross - first_cross) as f64 / f64::from(crossings - 1);
    (PERIOD_MIN..=PERIOD_MAX)
        .contains(&period)
        .then_some(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_and_empty_images_score_zero() {
        for (w, h) in [(0, 0), (1, 1), (31, 500), (500, 31)] {
            let r = JemputFq.score(&GrayImage::new(w, h));
            assert_eq!(r.score, 0, "{w}x{h}");
            assert_eq!(r.measures["foreground_area"], 0.0);
        }
    }

    #[test]
    fn algorithm_id_is_not_nfiq() {
        assert_eq!(JemputFq.algorithm_id(), "jemput-fq/1");
    }
}

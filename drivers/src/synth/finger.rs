//! Synthetic fingerprints: an orientation field from singular points, ridges grown from noise by
//! oriented Gabor filtering, then a fingertip mask, pores, patches and sensor noise.
//!
//! The ridges are grown on a half-resolution grid (a ridge period of about 4.5 cells there), which makes
//! the filtering four times cheaper; the smooth ridge field is then interpolated to full resolution,
//! where the ridge profile, the mask and the noise are applied.

use crate::FingerImage;

use super::{derive_seed, smooth, Rng, ValueNoise};
use crate::FingerPosition;

/// Width of a synthetic print in pixels (a plain impression at 500 ppi, 20.3 mm).
pub const FINGER_WIDTH: u32 = 400;
/// Height of a synthetic print in pixels (25.4 mm at 500 ppi).
pub const FINGER_HEIGHT: u32 = 500;
/// Resolution of a synthetic print.
pub const FINGER_PPI: u32 = 500;

/// Full-resolution pixels per cell of the grid the ridges grow on.
const SCALE: usize = 2;
const GW: usize = FINGER_WIDTH as usize / SCALE;
const GH: usize = FINGER_HEIGHT as usize / SCALE;
/// Radius of the Gabor kernels, in grid cells.
const R: usize = 5;
const K: usize = 2 * R + 1;
/// Orientation bins of the filter bank (7.5° each).
const BINS: usize = 24;
/// Filtering passes: enough for noise to settle into continuous ridges with a few minutiae.
const PASSES: usize = 5;

/// Grey levels: background (no contact), valley, and the darkest ridge at full quality.
const BACKGROUND: f32 = 250.0;
const VALLEY: f32 = 222.0;
const RIDGE: f32 = 35.0;

/// The Henry pattern classes the generator draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatternClass {
    Arch,
    TentedArch,
    Loop,
    Whorl,
}

impl PatternClass {
    /// The class of one finger of a person, drawn with the frequencies seen on that digit and a
    /// personal leaning towards (or away from) whorls shared by all ten fingers.
    fn of(person_seed: u64, finger: FingerPosition) -> PatternClass {
        let digit = usize::from((finger.code() - 1) % 5);
        let whorl_lean = Rng::new(derive_seed(person_seed, "finger/lean", &[])).range(-0.15, 0.15);
        // Frequencies of arch, tented arch and loop (whorl is the rest): thumb … little finger.
        let [arch, tented, looped] = [
            [0.03, 0.02, 0.50],
            [0.10, 0.07, 0.50],
            [0.06, 0.03, 0.70],
            [0.03, 0.02, 0.50],
            [0.02, 0.01, 0.82],
        ][digit];
        let pick = Rng::new(derive_seed(person_seed, "finger/class", &[finger.code()])).unit();
        if pick < arch {
            PatternClass::Arch
        } else if pick < arch + tented {
            PatternClass::TentedArch
        } else if pick < arch + tented + looped - whorl_lean {
            PatternClass::Loop
        } else {
            PatternClass::Whorl
        }
    }
}

/// Where the orientation field comes from.
#[derive(Debug, Clone)]
enum Field {
    /// Ridges follow `y = y0 − a(y0)·exp(−x²/2s²)`: a plain arch with no singular point.
    Arch { amplitude: f32, spread: f32 },
    /// Sherlock–Monro zero-pole model: each core adds half the angle it subtends, each delta removes it.
    Poles {
        cores: Vec<(f32, f32)>,
        deltas: Vec<(f32, f32)>,
    },
}

/// The geometry of one finger, in full-resolution pixels.
#[derive(Debug, Clone)]
struct Finger {
    centre: (f32, f32),
    /// Semi-axes of the fingertip ellipse (across, along the finger).
    axes: (f32, f32),
    /// Rotation of the finger on the platen, in radians.
    tilt: f32,
    field: Field,
    /// Ridge period in full-resolution pixels.
    period: f32,
}

impl Finger {
    fn new(person_seed: u64, finger: FingerPosition) -> Finger {
        let code = finger.code();
        let digit = usize::from((code - 1) % 5); // 0 thumb … 4 little
        let right_hand = code <= 5;
        // All ten fingers of a person share a ridge spacing.
        let base_period = Rng::new(derive_seed(person_seed, "finger/period", &[])).range(8.4, 9.6);
        let mut rng = Rng::new(derive_seed(person_seed, "finger/shape", &[code]));
        let class = PatternClass::of(person_seed, finger);

        let (a, b) = match digit {
            0 => (rng.range(168.0, 185.0), rng.range(215.0, 235.0)),
            1 | 2 => (rng.range(150.0, 166.0), rng.range(205.0, 228.0)),
            3 => (rng.range(145.0, 160.0), rng.range(200.0, 220.0)),
            _ => (rng.range(128.0, 145.0), rng.range(182.0, 205.0)),
        };
        let centre = (
            200.0 + rng.range(-12.0, 12.0),
            262.0 + rng.range(-12.0, 12.0),
        );
        let tilt = rng.range(-0.15, 0.15);
        let period = base_period + [0.35, 0.0, 0.1, -0.1, -0.35][digit] + rng.range(-0.15, 0.15);

        let field = match class {
            PatternClass::Arch => Field::Arch {
                amplitude: rng.range(0.25, 0.45) * b,
                spread: rng.range(0.3, 0.45) * a,
            },
            PatternClass::TentedArch => {
                let core = (rng.range(-0.1, 0.1) * a, rng.range(-0.05, 0.2) * b);
                let delta = (
                    core.0 + rng.range(-0.05, 0.05) * a,
                    core.1 + rng.range(0.15, 0.25) * b,
                );
                Field::Poles {
                    cores: vec![core],
                    deltas: vec![delta],
                }
            }
            PatternClass::Loop => {
                // Most loops open towards the little finger (ulnar); on the index, radial loops are
                // commoner than elsewhere.
                let ulnar = rng.chance(if digit == 1 { 0.75 } else { 0.92 });
                let side = if ulnar == right_hand { -1.0 } else { 1.0 };
                let core = (rng.range(-0.15, 0.15) * a, rng.range(-0.25, 0.05) * b);
                let delta = (
                    core.0 + side * rng.range(0.45, 0.8) * a,
                    core.1 + rng.range(0.45, 0.75) * b,
                );
                Field::Poles {
                    cores: vec![core],
                    deltas: vec![delta],
                }
            }
            PatternClass::Whorl => {
                let mid = (rng.range(-0.12, 0.12) * a, rng.range(-0.2, 0.05) * b);
                // Two cores a little apart: a spiral or a double loop rather than perfect circles.
                let split = rng.range(0.0, 0.12) * a;
                let turn = rng.range(0.0, std::f32::consts::PI);
                let (s, c) = turn.sin_cos();
                let cores = vec![
                    (mid.0 + split * c, mid.1 + split * s),
                    (mid.0 - split * c, mid.1 - split * s),
                ];
                let deltas = vec![
                    (
                        mid.0 - rng.range(0.55, 0.8) * a,
                        mid.1 + rng.range(0.35, 0.6) * b,
                    ),
                    (
                        mid.0 + rng.range(0.55, 0.8) * a,
                        mid.1 + rng.range(0.35, 0.6) * b,
                    ),
                ];
                Field::Poles { cores, deltas }
            }
        };
        Finger {
            centre,
            axes: (a, b),
            tilt,
            field,
            period,
        }
    }

    /// Coordinates relative to the fingertip centre, in the finger's own (untilted) frame.
    fn local(&self, x: f32, y: f32) -> (f32, f32) {
        let (s, c) = self.tilt.sin_cos();
        let (dx, dy) = (x - self.centre.0, y - self.centre.1);
        (dx * c + dy * s, -dx * s + dy * c)
    }

    /// Elliptical radius: 1 on the edge of the fingertip.
    fn radius(&self, x: f32, y: f32) -> f32 {
        let (u, v) = self.local(x, y);
        ((u / self.axes.0).powi(2) + (v / self.axes.1).powi(2)).sqrt()
    }

    /// Ridge direction at `(x, y)`, in radians from the x axis (y down), modulo π.
    fn orientation(&self, x: f32, y: f32) -> f32 {
        let (u, v) = self.local(x, y);
        let local = match &self.field {
            Field::Arch { amplitude, spread } => {
                // The arch flattens towards the first crease (v grows downwards).
                let a = amplitude * (0.55 - 0.45 * v / self.axes.1).clamp(0.05, 1.0);
                let slope = a * u / (spread * spread) * (-u * u / (2.0 * spread * spread)).exp();
                slope.atan()
            }
            Field::Poles { cores, deltas } => {
                let angle = |p: &(f32, f32)| (v - p.1).atan2(u - p.0);
                0.5 * (cores.iter().map(angle).sum::<f32>() - deltas.iter().map(angle).sum::<f32>())
            }
        };
        // Towards the fingertip the outer ridges follow its outline. Orientations are blended as
        // doubled angles, so that θ and θ + π count as the same direction.
        let (a, b) = self.axes;
        let r = ((u / a).powi(2) + (v / b).powi(2)).sqrt();
        let w = smooth((r - 0.5) / 0.45) * smooth(0.5 - 1.5 * v / b);
        let tangent = (u / (a * a)).atan2(-v / (b * b));
        let (x2, y2) = (
            (1.0 - w) * (2.0 * local).cos() + w * (2.0 * tangent).cos(),
            (1.0 - w) * (2.0 * local).sin() + w * (2.0 * tangent).sin(),
        );
        0.5 * y2.atan2(x2) + self.tilt
    }
}

/// Synthetic fingerprint, 8-bit grey, 500 ppi, [`FINGER_WIDTH`] × [`FINGER_HEIGHT`] pixels.
///
/// The pattern class (arch, tented arch, loop, whorl), the singular points, the fingertip outline and
/// the ridge spacing (8–10 px) depend on `person_seed` and `finger`; the same finger of the same person
/// keeps its ridges at every `quality`. `quality` runs from 0.0 (faint, blurred, noisy, with smudged and
/// dry patches) to 1.0 (clean, high-contrast ridges with visible pores); values outside are clamped.
pub fn fingerprint(person_seed: u64, finger: FingerPosition, quality: f32) -> FingerImage {
    let q = if quality.is_nan() {
        0.0
    } else {
        quality.clamp(0.0, 1.0)
    };
    let shape = Finger::new(person_seed, finger);
    let code = finger.code();
    // Random draws never depend on `quality`, which only scales their effect: a poorer capture of the
    // same finger has the same ridges and the same blemishes, just stronger.
    let mut grow = Rng::new(derive_seed(person_seed, "finger/ridges", &[code]));
    let mut field = grow_ridges(&shape, &mut grow);
    let mut marks = Rng::new(derive_seed(person_seed, "finger/marks", &[code]));
    blemish(&shape, &mut field, q, &mut marks);
    let pixels = render(&shape, &field, q, &mut marks);
    FingerImage {
        width: FINGER_WIDTH,
        height: FINGER_HEIGHT,
        ppi: FINGER_PPI,
        pixels,
    }
}

/// The ridge field on the half-resolution grid: positive on ridges, negative in valleys, about unit
/// amplitude inside the fingertip and zero well outside it.
fn grow_ridges(shape: &Finger, rng: &mut Rng) -> Vec<f32> {
    let bank = gabor_bank(shape.period / SCALE as f32);
    // Cells to filter (inside the fingertip, with a margin) and the kernel each one uses.
    let mut cells = Vec::new();
    let mut bins = Vec::new();
    for j in 0..GH {
        for i in 0..GW {
            let (x, y) = (
                ((i as f32) + 0.5) * SCALE as f32,
                ((j as f32) + 0.5) * SCALE as f32,
            );
            if shape.radius(x, y) < 1.08 {
                cells.push(j * GW + i);
                let t = shape.orientation(x, y).rem_euclid(std::f32::consts::PI);
                bins.push((t / std::f32::consts::PI * BINS as f32).round() as usize % BINS);
            }
        }
    }

    // Padded buffers, so the kernel never needs a bounds check.
    let pw = GW + 2 * R;
    let padded = |c: usize| (c / GW + R) * pw + c % GW + R;
    let mut cur = vec![0.0f32; pw * (GH + 2 * R)];
    let mut next = cur.clone();
    for &c in &cells {
        cur[padded(c)] = rng.range(-1.0, 1.0);
    }
    for pass in 0..PASSES {
        let mut power = 0.0f64;
        for (&c, &bin) in cells.iter().zip(&bins) {
            let kernel = &bank[bin * K * K..(bin + 1) * K * K];
            let top_left = padded(c) - R * pw - R;
            let mut acc = 0.0f32;
            for (ky, krow) in kernel.chunks_exact(K).enumerate() {
                let row = &cur[top_left + ky * pw..top_left + ky * pw + K];
                acc += row.iter().zip(krow).map(|(a, b)| a * b).sum::<f32>();
            }
            next[padded(c)] = acc;
            power += f64::from(acc * acc);
        }
        let rms = ((power / cells.len().max(1) as f64).sqrt() as f32).max(1e-6);
        // Between passes, saturate: ridges sharpen into an on/off pattern. The last pass stays smooth.
        let last = pass + 1 == PASSES;
        for &c in &cells {
            let v = next[padded(c)] / rms;
            next[padded(c)] = if last { v } else { (1.2 * v).clamp(-1.0, 1.0) };
        }
        std::mem::swap(&mut cur, &mut next);
    }
    let mut field = vec![0.0f32; GW * GH];
    for &c in &cells {
        field[c] = cur[padded(c)];
    }
    field
}

/// Even-symmetric Gabor kernels for [`BINS`] ridge directions, zero-mean, with unit gain on a cosine
/// of period `period` across the ridges.
fn gabor_bank(period: f32) -> Vec<f32> {
    let across = 0.5 * period; // σ across the ridges
    let along = 0.75 * period; // σ along them: smooths ridges and keeps them continuous
    let mut bank = Vec::with_capacity(BINS * K * K);
    for bin in 0..BINS {
        let theta = bin as f32 * std::f32::consts::PI / BINS as f32;
        let (s, c) = theta.sin_cos();
        let mut kernel = Vec::with_capacity(K * K);
        let mut gauss = Vec::with_capacity(K * K);
        for ky in 0..K {
            for kx in 0..K {
                let (dx, dy) = (kx as f32 - R as f32, ky as f32 - R as f32);
                let t = dx * c + dy * s; // along the ridge
                let n = -dx * s + dy * c; // across it
                let g =
                    (-(t * t) / (2.0 * along * along) - (n * n) / (2.0 * across * across)).exp();
                gauss.push(g);
                kernel.push(g * (std::f32::consts::TAU * n / period).cos());
            }
        }
        let dc = kernel.iter().sum::<f32>() / gauss.iter().sum::<f32>();
        for (k, g) in kernel.iter_mut().zip(&gauss) {
            *k -= dc * g;
        }
        // Gain on the ideal ridge pattern cos(2πn/period) → 1.
        let gain: f32 = kernel
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let (dx, dy) = ((i % K) as f32 - R as f32, (i / K) as f32 - R as f32);
                k * (std::f32::consts::TAU * (-dx * s + dy * c) / period).cos()
            })
            .sum();
        bank.extend(kernel.iter().map(|k| k / gain));
    }
    bank
}

/// Capture defects on the ridge field: blur, smudged (wet) and dry patches, and small ridge breaks.
fn blemish(shape: &Finger, field: &mut [f32], q: f32, rng: &mut Rng) {
    let poor = 1.0 - q;
    // Patches: always drawn, so that the random stream is the same at every quality; the poorer the
    // capture, the more of them apply and the stronger they are.
    let patches: Vec<(f32, f32, f32, bool)> = (0..6)
        .map(|_| {
            let angle = rng.range(0.0, std::f32::consts::TAU);
            let reach = rng.unit().sqrt() * 0.8;
            let (u, v) = (
                reach * shape.axes.0 * angle.cos(),
                reach * shape.axes.1 * angle.sin(),
            );
            let (s, c) = shape.tilt.sin_cos();
            let x = shape.centre.0 + u * c - v * s;
            let y = shape.centre.1 + u * s + v * c;
            (
                x / SCALE as f32,
                y / SCALE as f32,
                rng.range(12.0, 30.0),
                rng.chance(0.5),
            )
        })
        .collect();
    let active = (poor * 6.0).round() as usize;
    let texture = ValueNoise::new(rng, GW as u32, GH as u32, 6.0);
    let grain = ValueNoise::new(rng, GW as u32, GH as u32, 1.6);
    let gaps = ValueNoise::new(rng, GW as u32, GH as u32, 1.6);

    for j in 0..GH {
        for i in 0..GW {
            let idx = j * GW + i;
            let mut v = field[idx];
            if v == 0.0 {
                continue;
            }
            let (x, y) = (i as f32, j as f32);
            for &(px, py, size, wet) in &patches[..active] {
                let d2 = (x - px).powi(2) + (y - py).powi(2);
                let w = (-d2 / (2.0 * size * size)).exp() * (0.4 + texture.at(x, y)) * poor;
                if w < 0.01 {
                    continue;
                }
                if wet {
                    // Sweat or a pressed-down finger: valleys fill in.
                    v += w.min(1.0) * (1.6 - v);
                } else {
                    // Dry skin: ridges break up into dots and dashes.
                    let broken = smooth((grain.at(x, y) - 0.45) * 5.0);
                    v -= w.min(1.0) * broken * (v + 1.2);
                }
            }
            // A few short breaks everywhere, more on poorer captures.
            let gap = smooth((gaps.at(x, y) - (0.86 - 0.08 * poor)) * 12.0);
            v -= gap * (v + 1.0).max(0.0);
            field[idx] = v;
        }
    }

    // Blur: one or two box-filter passes on poor captures.
    for _ in 0..(poor * 2.4).round() as usize {
        let src = field.to_vec();
        for j in 1..GH - 1 {
            for i in 1..GW - 1 {
                let mut sum = 0.0;
                for dj in 0..3 {
                    let row = (j + dj - 1) * GW + i - 1;
                    sum += src[row] + src[row + 1] + src[row + 2];
                }
                field[j * GW + i] = sum / 9.0;
            }
        }
    }
}

/// Full-resolution grey pixels from the ridge field: ridge profile, fingertip mask, pores, creases and
/// sensor noise.
fn render(shape: &Finger, field: &[f32], q: f32, rng: &mut Rng) -> Vec<u8> {
    let (w, h) = (FINGER_WIDTH as usize, FINGER_HEIGHT as usize);
    let poor = 1.0 - q;
    let depth = (VALLEY - RIDGE) * (0.3 + 0.7 * q);
    let edge = ValueNoise::new(rng, FINGER_WIDTH, FINGER_HEIGHT, 24.0);
    let sample = |x: f32, y: f32| {
        // Grid cell centres sit at (i + 0.5)·SCALE.
        let fx = (x / SCALE as f32 - 0.5).clamp(0.0, (GW - 1) as f32);
        let fy = (y / SCALE as f32 - 0.5).clamp(0.0, (GH - 1) as f32);
        let (i, j) = ((fx as usize).min(GW - 2), (fy as usize).min(GH - 2));
        let (tx, ty) = (fx - i as f32, fy - j as f32);
        let at = |i: usize, j: usize| field[j * GW + i];
        let top = at(i, j) + (at(i + 1, j) - at(i, j)) * tx;
        let bottom = at(i, j + 1) + (at(i + 1, j + 1) - at(i, j + 1)) * tx;
        top + (bottom - top) * ty
    };

    let mut grey = vec![BACKGROUND; w * h];
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            let r = shape.radius(fx, fy) + 0.05 * (edge.at(fx, fy) - 0.5);
            if r >= 1.0 {
                continue;
            }
            // Skin covers the pixel fully a few pixels inside the outline; near it, the ridges fade
            // as the finger lifts off the platen.
            let cover = smooth((1.0 - r) / 0.03);
            let contact = 0.35 + 0.65 * smooth((1.0 - r) / 0.18);
            let ink = smooth(0.5 + 0.8 * sample(fx, fy));
            let inside = VALLEY - depth * contact * ink;
            grey[y * w + x] = BACKGROUND + (inside - BACKGROUND) * cover;
        }
    }

    // Sweat pores: small light dots on the ridges, crisp on a good capture.
    for _ in 0..300 {
        let (px, py) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let size = rng.range(0.8, 1.4);
        if shape.radius(px, py) > 0.9 || sample(px, py) < 0.5 {
            continue;
        }
        let strength = 0.55 * q;
        for y in (py - 2.0).max(0.0) as usize..((py + 3.0) as usize).min(h) {
            for x in (px - 2.0).max(0.0) as usize..((px + 3.0) as usize).min(w) {
                let d = ((x as f32 + 0.5 - px).powi(2) + (y as f32 + 0.5 - py).powi(2)).sqrt();
                let a = (size + 0.5 - d).clamp(0.0, 1.0) * strength;
                let g = &mut grey[y * w + x];
                *g += (VALLEY - *g) * a;
            }
        }
    }

    // A crease (a fold of the skin) across some prints.
    let crease = rng.chance(0.35);
    let (cy, slope, width) = (
        shape.centre.1 + rng.range(0.0, 0.6) * shape.axes.1,
        rng.range(-0.4, 0.4),
        rng.range(1.5, 3.0),
    );
    let noise = 3.0 + 22.0 * poor;
    for y in 0..h {
        for x in 0..w {
            let g = &mut grey[y * w + x];
            if crease && *g < BACKGROUND {
                let off = (y as f32 - cy - slope * (x as f32 - shape.centre.0)).abs();
                let a = (width - off).clamp(0.0, 1.0) * 0.8;
                *g += (VALLEY - *g) * a;
            }
            *g += noise * rng.normal();
        }
    }
    grey.iter()
        .map(|g| g.round().clamp(0.0, 255.0) as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{png_gray, testutil::save_sample};

    fn finger(code: u8) -> FingerPosition {
        FingerPosition::new(code).unwrap()
    }

    fn differing_fraction(a: &FingerImage, b: &FingerImage) -> f32 {
        let n = a
            .pixels
            .iter()
            .zip(&b.pixels)
            .filter(|(p, q)| p.abs_diff(**q) > 30)
            .count();
        n as f32 / a.pixels.len() as f32
    }

    /// Grey level at `(x, y)` after a 3 × 3 box blur, which takes out pixel noise but not ridges.
    fn smoothed(img: &FingerImage, x: usize, y: usize) -> f32 {
        let w = img.width as usize;
        let mut sum = 0u32;
        for dy in 0..3 {
            for dx in 0..3 {
                sum += u32::from(img.pixels[(y + dy - 1) * w + x + dx - 1]);
            }
        }
        sum as f32 / 9.0
    }

    /// Ridge period seen along a line through `centre` at `angle`: the line's length over half the
    /// number of dark/light crossings.
    fn apparent_period(img: &FingerImage, centre: (f32, f32), angle: f32) -> f32 {
        let (s, c) = angle.sin_cos();
        let line: Vec<f32> = (-60..=60)
            .map(|t| {
                let x = (centre.0 + t as f32 * c).round() as usize;
                let y = (centre.1 + t as f32 * s).round() as usize;
                smoothed(img, x, y)
            })
            .collect();
        let mean = line.iter().sum::<f32>() / line.len() as f32;
        let crossings = line
            .windows(2)
            .filter(|p| (p[0] < mean) != (p[1] < mean))
            .count();
        2.0 * (line.len() - 1) as f32 / crossings.max(1) as f32
    }

    /// Mean, over 16 × 16 blocks of the middle of the print, of the spread between the darkest and the
    /// lightest tenth of the (noise-smoothed) pixels: how clearly ridges stand out from valleys.
    fn ridge_contrast(img: &FingerImage) -> f32 {
        let mut spreads = Vec::new();
        for by in (170..330).step_by(16) {
            for bx in (120..280).step_by(16) {
                let mut block: Vec<f32> = (0..256)
                    .map(|i| smoothed(img, bx + i % 16, by + i / 16))
                    .collect();
                block.sort_by(f32::total_cmp);
                spreads.push(block[230] - block[25]);
            }
        }
        spreads.iter().sum::<f32>() / spreads.len() as f32
    }

    #[test]
    fn is_400_by_500_pixels_at_500_ppi() {
        let img = fingerprint(1, finger(1), 1.0);
        assert_eq!((img.width, img.height, img.ppi), (400, 500, 500));
        assert_eq!(img.pixels.len(), 400 * 500);
    }

    #[test]
    fn same_person_finger_and_quality_give_identical_bytes() {
        assert_eq!(
            fingerprint(42, finger(3), 0.7),
            fingerprint(42, finger(3), 0.7)
        );
    }

    #[test]
    fn another_finger_or_another_person_gives_a_visibly_different_print() {
        let base = fingerprint(42, finger(3), 1.0);
        for other in [
            fingerprint(42, finger(4), 1.0),
            fingerprint(43, finger(3), 1.0),
        ] {
            let f = differing_fraction(&base, &other);
            assert!(f > 0.2, "only {:.0}% of pixels differ", f * 100.0);
        }
    }

    #[test]
    fn every_pattern_class_occurs_across_people_and_fingers() {
        let classes: Vec<PatternClass> = (0..40)
            .flat_map(|p| FingerPosition::all().map(move |f| PatternClass::of(p, f)))
            .collect();
        for class in [
            PatternClass::Arch,
            PatternClass::TentedArch,
            PatternClass::Loop,
            PatternClass::Whorl,
        ] {
            let n = classes.iter().filter(|c| **c == class).count();
            assert!(n > 0, "{class:?} never occurs in {} prints", classes.len());
        }
        // Loops are the commonest class, as in people.
        let loops = classes.iter().filter(|c| **c == PatternClass::Loop).count();
        assert!(
            loops * 2 > classes.len(),
            "{loops} loops of {}",
            classes.len()
        );
    }

    #[test]
    fn ridges_inside_the_fingertip_repeat_every_7_to_12_pixels() {
        for (person, code) in [(1, 1), (1, 2), (2, 7), (3, 3), (4, 10), (5, 6)] {
            let img = fingerprint(person, finger(code), 1.0);
            let shape = Finger::new(person, finger(code));
            // Among lines at sixteen angles through a point, the one most nearly across the ridges sees
            // the true period (a little more where ridges curve). Four points around the middle; the
            // middle two results count.
            let mut periods: Vec<f32> = [(0.0, 0.0), (-50.0, -40.0), (50.0, -40.0), (0.0, 60.0)]
                .iter()
                .map(|&(dx, dy)| {
                    let at = (shape.centre.0 + dx, shape.centre.1 + dy);
                    (0..16)
                        .map(|k| apparent_period(&img, at, k as f32 * std::f32::consts::PI / 16.0))
                        .fold(f32::MAX, f32::min)
                })
                .collect();
            periods.sort_by(f32::total_cmp);
            let period = (periods[1] + periods[2]) / 2.0;
            assert!(
                (7.0..=12.0).contains(&period),
                "person {person}, finger {code}: period {period:.1} px"
            );
        }
    }

    #[test]
    fn background_outside_the_fingertip_is_light() {
        for q in [1.0, 0.5, 0.0] {
            let img = fingerprint(9, finger(5), q);
            for (x0, y0) in [(0usize, 0usize), (370, 0)] {
                let corner: Vec<u8> = (0..30 * 30)
                    .map(|i| img.pixels[(y0 + i / 30) * 400 + x0 + i % 30])
                    .collect();
                let mean = corner.iter().map(|&p| f32::from(p)).sum::<f32>() / corner.len() as f32;
                assert!(mean > 235.0, "quality {q}: corner mean {mean}");
            }
        }
    }

    #[test]
    fn inside_the_fingertip_ridges_are_dark_and_valleys_light() {
        let img = fingerprint(9, finger(5), 1.0);
        let mut middle: Vec<u8> = (0..60 * 60)
            .map(|i| img.pixels[(220 + i / 60) * 400 + 170 + i % 60])
            .collect();
        middle.sort_unstable();
        assert!(
            middle[middle.len() / 10] < 90,
            "darkest tenth {}",
            middle[middle.len() / 10]
        );
        assert!(
            middle[middle.len() * 9 / 10] > 190,
            "lightest tenth {}",
            middle[middle.len() * 9 / 10]
        );
    }

    #[test]
    fn lower_quality_gives_less_ridge_contrast() {
        for (person, code) in [(1, 2), (7, 8)] {
            let contrast = |q| ridge_contrast(&fingerprint(person, finger(code), q));
            let (good, fair, poor) = (contrast(1.0), contrast(0.5), contrast(0.1));
            assert!(
                good > fair && fair > poor,
                "{good:.0} > {fair:.0} > {poor:.0}"
            );
            assert!(good > 1.8 * poor, "{good:.0} vs {poor:.0}");
        }
    }

    #[test]
    fn quality_outside_zero_to_one_is_clamped() {
        assert_eq!(
            fingerprint(2, finger(1), 3.0),
            fingerprint(2, finger(1), 1.0)
        );
        assert_eq!(
            fingerprint(2, finger(1), -1.0),
            fingerprint(2, finger(1), 0.0)
        );
        assert_eq!(
            fingerprint(2, finger(1), f32::NAN),
            fingerprint(2, finger(1), 0.0)
        );
    }

    /// Ten prints side by side at half size, in a 5 × 2 sheet.
    fn sheet(prints: &[FingerImage]) -> Vec<u8> {
        let (w, h) = (GW, GH);
        let mut out = vec![255u8; 5 * w * 2 * h];
        for (n, p) in prints.iter().enumerate() {
            let (ox, oy) = ((n % 5) * w, (n / 5) * h);
            for y in 0..h {
                for x in 0..w {
                    let at = |dx: usize, dy: usize| {
                        u32::from(p.pixels[(2 * y + dy) * FINGER_WIDTH as usize + 2 * x + dx])
                    };
                    let sum = at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1);
                    out[(oy + y) * 5 * w + ox + x] = (sum / 4) as u8;
                }
            }
        }
        out
    }

    #[test]
    fn writes_samples_to_look_at() {
        let one = |p, code, q| fingerprint(p, finger(code), q);
        let save = |name: &str, img: &FingerImage| {
            save_sample(name, &png_gray(img.width, img.height, &img.pixels));
        };
        save("finger-01.png", &one(1, 1, 1.0));
        save("finger-02.png", &one(1, 2, 1.0));
        for (i, q) in [0.0f32, 0.3, 0.6].iter().enumerate() {
            save(&format!("finger-02-q{i}.png"), &one(1, 2, *q));
        }
        let (sw, sh) = (5 * GW as u32, 2 * GH as u32);
        for person in 1..=3 {
            let all: Vec<_> = (1..=10).map(|c| one(person, c, 1.0)).collect();
            save_sample(
                &format!("fingers-p{person}.png"),
                &png_gray(sw, sh, &sheet(&all)),
            );
        }
        let people: Vec<_> = (10..20).map(|p| one(p, 7, 0.9)).collect();
        save_sample("fingers-people.png", &png_gray(sw, sh, &sheet(&people)));
    }
}

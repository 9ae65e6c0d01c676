//! Synthetic signatures: cursive-looking pen traces from coupled oscillations, and their pictures.
//!
//! Handwriting is modelled, after Hollerbach's oscillation theory, as a vertical oscillation (one cycle
//! per letter) and a horizontal one riding on a steady drift to the right. Where the horizontal swing
//! outruns the drift the pen moves backwards and the letter closes into a loop; where it does not, the
//! letter is a hump or a cusp. Letter height follows the letters of the name: capitals and ascenders are
//! tall, descenders dip below the line.

use crate::{PenPoint, PenTrace};
use image::GrayImage;

use super::{derive_seed, smooth, Rng};

/// Width of the synthetic pad's coordinate space, in device units.
pub const PAD_EXTENT_X: u32 = 10_000;
/// Height of the synthetic pad's coordinate space, in device units.
pub const PAD_EXTENT_Y: u32 = 3_000;
/// Full-scale pressure of the synthetic pad.
pub const PAD_MAX_PRESSURE: u32 = 1023;

/// Sampling interval of the synthetic pad (200 Hz).
const SAMPLE_MS: u32 = 5;

/// One letter-cycle of the oscillation: how tall, where, how loopy, how long.
#[derive(Debug, Clone, Copy)]
struct Letter {
    /// Middle of the vertical swing and its half-height, in x-heights (baseline 0, up positive).
    centre: f32,
    swing: f32,
    /// Horizontal swing (loops when `2π·loop_size` exceeds the advance per letter).
    loop_size: f32,
    /// Phase of the horizontal swing against the vertical one: the slant and roundness of loops.
    lag: f32,
    /// Horizontal advance per letter, in x-heights.
    advance: f32,
    seconds: f32,
}

impl Letter {
    fn new(rng: &mut Rng, c: char, capital: bool) -> Letter {
        let (centre, swing) = if capital {
            (1.0, rng.range(0.95, 1.15))
        } else if "bdfhklt".contains(c) {
            (0.85, rng.range(0.8, 0.95))
        } else if "gjpqyz".contains(c) {
            (0.05, rng.range(0.8, 0.95))
        } else {
            (0.5, rng.range(0.4, 0.55))
        };
        Letter {
            centre,
            swing,
            loop_size: rng.range(0.06, 0.3) * if capital { 1.6 } else { 1.0 },
            lag: rng.range(-0.5, 0.5),
            advance: rng.range(0.6, 0.9),
            seconds: rng.range(0.14, 0.24) * if capital { 1.5 } else { 1.0 },
        }
    }

    fn blend(self, next: Letter, t: f32) -> Letter {
        let mix = |a: f32, b: f32| a + (b - a) * t;
        Letter {
            centre: mix(self.centre, next.centre),
            swing: mix(self.swing, next.swing),
            loop_size: mix(self.loop_size, next.loop_size),
            lag: mix(self.lag, next.lag),
            advance: mix(self.advance, next.advance),
            seconds: mix(self.seconds, next.seconds),
        }
    }
}

/// A point of the trace before fitting to the pad: position in x-heights (y up), pressure 0–1.
#[derive(Debug, Clone, Copy)]
struct Raw {
    x: f32,
    y: f32,
    pressure: f32,
    touching: bool,
}

/// A handwriting-like signature as a pad would record it.
///
/// One stroke per word of `name` (up to three; two made-up words when `name` is blank), each a run of
/// connected cursive letters whose heights follow the letters of the word, then often an underline
/// flourish; always at least two strokes. Points come every 5 ms (200 Hz) with `t_ms` strictly
/// increasing; pressure rises and falls smoothly while the pen touches, and the pen hovers
/// (`touching = false`, pressure 0) between strokes. Coordinates lie within [`PAD_EXTENT_X`] ×
/// [`PAD_EXTENT_Y`], pressure within [`PAD_MAX_PRESSURE`]. Depends on `person_seed` and `name`.
pub fn signature_trace(person_seed: u64, name: &str) -> PenTrace {
    let mut rng = Rng::new(derive_seed(person_seed, "signature", name.as_bytes()));
    let mut words: Vec<Vec<char>> = name
        .split_whitespace()
        .take(3)
        .map(|w| w.chars().filter(|c| c.is_alphabetic()).collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        let letters = "abcdefghijklmnoprstuwy";
        words = (0..2)
            .map(|_| {
                let n = 4 + rng.below(5);
                let pick = |r: &mut Rng| letters.as_bytes()[r.below(letters.len() as u32) as usize];
                (0..n).map(|_| char::from(pick(&mut rng))).collect()
            })
            .collect();
    }

    let base_pressure = rng.range(0.45, 0.7);
    let tremor = rng.range(0.0, std::f32::consts::TAU);
    let mut raw: Vec<Raw> = Vec::new();
    let mut pen_x = 0.0f32;
    for (n, word) in words.iter().enumerate() {
        // Long words are abbreviated, as people do: the first few letters, then a trailing swing.
        let letters: Vec<Letter> = word
            .iter()
            .take(if n == 0 { 7 } else { 5 })
            .enumerate()
            .map(|(i, c)| Letter::new(&mut rng, c.to_ascii_lowercase(), i == 0))
            .collect();
        let stroke = word_stroke(&letters, pen_x, &mut rng);
        hover_to(&mut raw, stroke[0], &mut rng);
        pen_x = stroke.iter().map(|p| p.x).fold(f32::MIN, f32::max) + rng.range(0.4, 0.9);
        raw.extend(stroke);
    }
    if words.len() < 2 || rng.chance(0.6) {
        let stroke = flourish(&raw, &mut rng);
        hover_to(&mut raw, stroke[0], &mut rng);
        raw.extend(stroke);
    }
    // On top of the ramps at the ends of each stroke, pressure swells and eases slowly.
    for (i, p) in raw.iter_mut().enumerate() {
        let t = i as f32 * SAMPLE_MS as f32 / 1000.0;
        p.pressure *= base_pressure * (1.0 + 0.18 * (t * 5.0 + tremor).sin());
    }
    fit_to_pad(&raw, &mut rng)
}

/// The pen-down points of one word, starting at `start_x` on the baseline.
fn word_stroke(letters: &[Letter], start_x: f32, rng: &mut Rng) -> Vec<Raw> {
    let tail = Letter {
        centre: 0.4,
        swing: 0.3,
        loop_size: 0.05,
        lag: 0.0,
        advance: rng.range(0.8, 1.4),
        seconds: 0.2,
    };
    let mut points = Vec::new();
    let mut x_drift = start_x;
    let dt = SAMPLE_MS as f32 / 1000.0;
    for (k, &letter) in letters.iter().enumerate() {
        let next = letters.get(k + 1).copied().unwrap_or(tail);
        let steps = (letter.seconds / dt).round().max(4.0) as usize;
        for s in 0..steps {
            let tau = s as f32 / steps as f32;
            let l = letter.blend(next, smooth((tau - 0.5) * 2.0));
            let phase = std::f32::consts::TAU * tau;
            // Starts and ends each cycle on the baseline side of the swing.
            let y = l.centre - l.swing * phase.cos();
            let x = x_drift + l.advance * tau + l.loop_size * (phase + l.lag).sin();
            points.push(Raw {
                x,
                y,
                pressure: 1.0,
                touching: true,
            });
        }
        x_drift += letter.advance;
    }
    // The trailing swing: the stroke runs out to the right and lifts.
    let steps = rng.range(20.0, 40.0) as usize;
    let last = *points.last().expect("a word has at least one letter");
    let rise = rng.range(-0.2, 0.6);
    for s in 1..=steps {
        let t = s as f32 / steps as f32;
        points.push(Raw {
            x: last.x + t * tail.advance,
            y: last.y + rise * t * t,
            pressure: 1.0,
            touching: true,
        });
    }
    ramp_pressure(&mut points);
    points
}

/// An underline or a sweeping loop under what has been written so far.
fn flourish(written: &[Raw], rng: &mut Rng) -> Vec<Raw> {
    let (lo, hi) = written.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| {
        (lo.min(p.x), hi.max(p.x))
    });
    let steps = rng.range(50.0, 90.0) as usize;
    let leftwards = rng.chance(0.5);
    let depth = rng.range(-0.7, -0.35);
    let bow = rng.range(-0.25, 0.25);
    let mut points: Vec<Raw> = (0..=steps)
        .map(|s| {
            let t = s as f32 / steps as f32;
            let t = if leftwards { 1.0 - t } else { t };
            Raw {
                x: lo + (hi - lo) * (0.05 + 0.95 * t),
                y: depth + bow * (std::f32::consts::PI * t).sin() + 0.15 * t * t,
                pressure: 1.0,
                touching: true,
            }
        })
        .collect();
    ramp_pressure(&mut points);
    points
}

/// Pressure rises over the first 40 ms of a stroke and falls over the last 40 ms.
fn ramp_pressure(points: &mut [Raw]) {
    let n = points.len();
    let ramp = (40 / SAMPLE_MS) as f32;
    for (i, p) in points.iter_mut().enumerate() {
        let from_end = (n - 1 - i) as f32;
        p.pressure *= smooth((i as f32 + 1.0) / ramp).min(smooth((from_end + 1.0) / ramp));
    }
}

/// Pen-up points from the end of `raw` (if any) to just before `target`.
fn hover_to(raw: &mut Vec<Raw>, target: Raw, rng: &mut Rng) {
    let Some(&from) = raw.last() else { return };
    let steps = (rng.range(0.15, 0.35) * 1000.0 / SAMPLE_MS as f32) as usize;
    let lift = rng.range(0.3, 0.8);
    for s in 1..steps {
        let t = smooth(s as f32 / steps as f32);
        raw.push(Raw {
            x: from.x + (target.x - from.x) * t,
            y: from.y + (target.y - from.y) * t + lift * (std::f32::consts::PI * t).sin(),
            pressure: 0.0,
            touching: false,
        });
    }
}

/// Slants and tilts the raw trace a little, then scales it into the pad's extents (y down).
fn fit_to_pad(raw: &[Raw], rng: &mut Rng) -> PenTrace {
    let slant = rng.range(0.1, 0.45);
    let (s, c) = rng.range(-0.06, 0.06).sin_cos();
    let placed: Vec<(f32, f32)> = raw
        .iter()
        .map(|p| {
            let x = p.x + slant * p.y;
            (x * c - p.y * s, x * s + p.y * c)
        })
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for &(x, y) in &placed {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let (ex, ey) = (PAD_EXTENT_X as f32, PAD_EXTENT_Y as f32);
    let scale = (0.9 * ex / (x1 - x0).max(1e-3)).min(0.85 * ey / (y1 - y0).max(1e-3));
    let (ox, oy) = (
        (ex - scale * (x1 - x0)) / 2.0,
        (ey - scale * (y1 - y0)) / 2.0,
    );
    let points = raw
        .iter()
        .zip(&placed)
        .enumerate()
        .map(|(i, (p, &(x, y)))| PenPoint {
            x: (ox + scale * (x - x0)).round().clamp(0.0, ex - 1.0) as u32,
            // Pads count y downwards.
            y: (oy + scale * (y1 - y)).round().clamp(0.0, ey - 1.0) as u32,
            pressure: if p.touching {
                ((p.pressure * PAD_MAX_PRESSURE as f32).round() as u32).clamp(1, PAD_MAX_PRESSURE)
            } else {
                0
            },
            t_ms: i as u32 * SAMPLE_MS,
            touching: p.touching,
        })
        .collect();
    PenTrace {
        extent_x: PAD_EXTENT_X,
        extent_y: PAD_EXTENT_Y,
        max_pressure: PAD_MAX_PRESSURE,
        points,
    }
}

/// Draws the pen-down segments of `trace` in dark ink on white, `width × height` pixels, scaled to fit
/// the pad's extents with the aspect ratio kept and centred. Line width follows pressure.
pub fn render_signature(trace: &PenTrace, width: u32, height: u32) -> GrayImage {
    let (w, h) = (width as usize, height as usize);
    let mut ink = vec![0.0f32; w * h];
    let (ex, ey) = (trace.extent_x.max(1) as f32, trace.extent_y.max(1) as f32);
    let scale = (width as f32 / ex).min(height as f32 / ey);
    let (ox, oy) = (
        (width as f32 - scale * ex) / 2.0,
        (height as f32 - scale * ey) / 2.0,
    );
    // A ballpoint line about 1/300 of the pad's width at full pressure, never thinner than a pixel.
    let nib = (scale * ex / 300.0).max(0.6);
    let max_p = trace.max_pressure.max(1) as f32;
    let to_px = |p: &PenPoint| (ox + scale * p.x as f32, oy + scale * p.y as f32);
    for pair in trace.points.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if !(a.touching && b.touching) {
            continue;
        }
        let pressure = (a.pressure + b.pressure) as f32 / 2.0 / max_p;
        let radius = nib * (0.35 + 0.65 * pressure.clamp(0.0, 1.0));
        let (p, q) = (to_px(a), to_px(b));
        let x0 = (p.0.min(q.0) - radius - 1.0).floor().max(0.0) as usize;
        let y0 = (p.1.min(q.1) - radius - 1.0).floor().max(0.0) as usize;
        let x1 = ((p.0.max(q.0) + radius + 2.0).ceil() as usize).min(w);
        let y1 = ((p.1.max(q.1) + radius + 2.0).ceil() as usize).min(h);
        for y in y0..y1 {
            for x in x0..x1 {
                let d = super::paint::segment_distance((x as f32 + 0.5, y as f32 + 0.5), p, q);
                let cover = (radius + 0.5 - d).clamp(0.0, 1.0);
                let cell = &mut ink[y * w + x];
                *cell = cell.max(cover);
            }
        }
    }
    const PAPER: f32 = 255.0;
    const INK: f32 = 25.0;
    let pixels = ink
        .iter()
        .map(|c| (PAPER - (PAPER - INK) * c).round() as u8)
        .collect();
    GrayImage::from_raw(width, height, pixels).expect("buffer sized width × height")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{png_gray_image, testutil::save_sample};

    const NAMES: [&str; 5] = ["Siti Aminah", "Budi", "", "Ni Luh Putu Ayu Sri", "  "];

    /// Runs of consecutive pen-down points.
    fn strokes(trace: &PenTrace) -> usize {
        let mut n = 0;
        let mut down = false;
        for p in &trace.points {
            if p.touching && !down {
                n += 1;
            }
            down = p.touching;
        }
        n
    }

    #[test]
    fn has_at_least_two_strokes_with_pen_up_points_between() {
        for (seed, name) in NAMES.iter().enumerate() {
            let trace = signature_trace(seed as u64, name);
            assert!(
                strokes(&trace) >= 2,
                "{name:?}: {} strokes",
                strokes(&trace)
            );
            let first_up = trace.points.iter().position(|p| !p.touching).unwrap();
            assert!(
                trace.points[first_up..].iter().any(|p| p.touching),
                "{name:?}"
            );
        }
    }

    #[test]
    fn time_increases_at_100_to_200_hz() {
        for (seed, name) in NAMES.iter().enumerate() {
            let trace = signature_trace(seed as u64, name);
            for pair in trace.points.windows(2) {
                let dt = pair[1].t_ms - pair[0].t_ms;
                assert!((5..=10).contains(&dt), "{name:?}: step of {dt} ms");
            }
            // A signature takes a second or a few, not milliseconds or minutes.
            let total = trace.points.last().unwrap().t_ms;
            assert!((800..15_000).contains(&total), "{name:?}: {total} ms");
        }
    }

    #[test]
    fn points_stay_within_the_pad_and_fill_much_of_it() {
        for (seed, name) in NAMES.iter().enumerate() {
            let trace = signature_trace(seed as u64, name);
            assert_eq!(
                (trace.extent_x, trace.extent_y, trace.max_pressure),
                (10_000, 3_000, 1023)
            );
            for p in &trace.points {
                assert!(p.x < trace.extent_x && p.y < trace.extent_y, "{p:?}");
                assert!(p.pressure <= trace.max_pressure, "{p:?}");
            }
            // Scaled up until it meets the pad's width or its height.
            let span = |v: Vec<u32>| v.iter().max().unwrap() - v.iter().min().unwrap();
            let wide = span(trace.points.iter().map(|p| p.x).collect());
            let high = span(trace.points.iter().map(|p| p.y).collect());
            assert!(
                wide > 8_000 || high > 2_400,
                "{name:?}: spans only {wide} × {high} units"
            );
        }
    }

    #[test]
    fn pressure_is_zero_exactly_when_the_pen_is_up_and_changes_smoothly() {
        for (seed, name) in NAMES.iter().enumerate() {
            let trace = signature_trace(seed as u64, name);
            for p in &trace.points {
                assert_eq!(p.touching, p.pressure > 0, "{p:?}");
            }
            for pair in trace.points.windows(2) {
                if pair[0].touching && pair[1].touching {
                    let step = pair[0].pressure.abs_diff(pair[1].pressure);
                    assert!(step < 150, "{name:?}: pressure jumps by {step}");
                }
            }
        }
    }

    #[test]
    fn same_seed_and_name_give_the_same_trace_and_others_differ() {
        let a = signature_trace(1, "Siti Aminah");
        assert_eq!(a, signature_trace(1, "Siti Aminah"));
        assert_ne!(a, signature_trace(2, "Siti Aminah"));
        assert_ne!(a, signature_trace(1, "Siti Aminah Lubis"));
    }

    #[test]
    fn rendering_draws_dark_ink_on_white() {
        let trace = signature_trace(3, "Budi Santoso");
        let img = render_signature(&trace, 600, 200);
        assert_eq!((img.width(), img.height()), (600, 200));
        let dark = img.pixels().filter(|p| p.0[0] < 100).count();
        assert!(dark > 500, "{dark} dark pixels");
        assert!(dark < 600 * 200 / 5, "{dark} dark pixels");
        for (x, y) in [(0, 0), (599, 0), (0, 199), (599, 199)] {
            assert_eq!(img.get_pixel(x, y).0, [255]);
        }
    }

    #[test]
    fn rendering_skips_pen_up_moves() {
        let point = |x, touching| PenPoint {
            x,
            y: 1_500,
            pressure: if touching { 800 } else { 0 },
            t_ms: x / 10,
            touching,
        };
        let trace = PenTrace {
            extent_x: 10_000,
            extent_y: 3_000,
            max_pressure: 1023,
            points: vec![
                point(1_000, true),
                point(3_000, true),
                point(7_000, false),
                point(9_000, true),
            ],
        };
        let img = render_signature(&trace, 500, 150);
        // 1 000–3 000 units is inked; the hover to 9 000 is not.
        assert!(img.get_pixel(100, 75).0[0] < 100);
        assert_eq!(img.get_pixel(300, 75).0, [255]);
        assert_eq!(img.get_pixel(425, 75).0, [255]);
    }

    #[test]
    fn writes_samples_to_look_at() {
        for (i, name) in ["Siti Aminah", "Budi", "", "Ni Luh Putu Ayu Sri"]
            .iter()
            .enumerate()
        {
            let trace = signature_trace(i as u64, name);
            save_sample(
                &format!("signature-{i}.png"),
                &png_gray_image(&render_signature(&trace, 600, 200)),
            );
        }
    }
}

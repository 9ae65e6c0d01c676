//! Generated prints for the NBIS comparison: ridge period, contrast, noise, margins, pattern and
//! size are all knobs, so one table of specifications covers prints whose bit allocation takes
//! either of the encoder's variance rules.

use jemput_wsq::Image;

/// The ridge pattern of a generated print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Concentric ridges around a core, bent by slow waves (the look of `synthetic_print`).
    Whorl,
    /// Ridges winding out of a core in arms, like a twisted whorl.
    Spiral,
    /// Near-parallel ridges across the finger, gently waved.
    Arch,
}

/// What a generated print looks like.
#[derive(Debug, Clone, Copy)]
pub struct PrintSpec {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Ridge period in pixels: about 5 for fine ridges, 10 for coarse ones.
    pub period: f64,
    /// Ridge amplitude in grey levels: ridges swing this far either side of the finger's mean.
    pub contrast: f64,
    /// Sensor noise, peak to peak, in grey levels (the background has it too).
    pub noise: f64,
    /// Blank border around the finger on each side, as a fraction of that side: 0 fills the
    /// frame edge to edge, 0.25 leaves the finger half the frame.
    pub margin: f64,
    /// How the ridges run.
    pub pattern: Pattern,
    /// Seeds the noise and moves the core a little.
    pub seed: u64,
}

impl PrintSpec {
    /// A print of `width` × `height` with everything else middling.
    pub fn new(width: u32, height: u32) -> PrintSpec {
        PrintSpec {
            width,
            height,
            period: 8.0,
            contrast: 70.0,
            noise: 14.0,
            margin: 0.04,
            pattern: Pattern::Whorl,
            seed: 1,
        }
    }
}

/// The reproducer of the bit-allocation bug NBIS showed up: a fine spiral (period about 5 px) in a
/// finger with a sharp edge reaching the frame's sides, on a nearly white, noisy background. Its
/// four lowest subbands hold almost nothing in their central parts, so the encoder must take every
/// subband's variance whole (on a print like it at 800 × 750 jemput once wrote 15.4 KB, bin widths
/// 1.5× NBIS's, against NBIS's 21.0 KB).
pub fn wide_print(width: u32, height: u32) -> Image {
    generated_print(&PrintSpec {
        width,
        height,
        period: 5.0,
        contrast: 70.0,
        noise: 12.0,
        margin: 0.0,
        pattern: Pattern::Spiral,
        seed: 7,
    })
}

/// A deterministic print after `spec`.
pub fn generated_print(spec: &PrintSpec) -> Image {
    let mut state = spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let (w, h) = (spec.width as f64, spec.height as f64);
    // The finger: an ellipse inside the margins, its core a little off centre.
    let (ax, ay) = ((0.5 - spec.margin) * w, (0.5 - spec.margin) * h);
    let (fx, fy) = (w * 0.5, h * 0.5);
    let shift = (spec.seed % 7) as f64 / 7.0 - 0.5;
    let (cx, cy) = (fx + 0.08 * w * shift, fy - 0.05 * h * (1.0 + shift));
    let background = 248.0;
    let ink = background - 25.0 - spec.contrast;
    let tau = std::f64::consts::TAU;
    let arms = 3.0 + (spec.seed % 4) as f64;
    let mut pixels = Vec::with_capacity((spec.width * spec.height) as usize);
    for y in 0..spec.height {
        for x in 0..spec.width {
            let (xf, yf) = (x as f64, y as f64);
            let (dx, dy) = (xf - cx, yf - cy);
            let r = (dx * dx + dy * dy).sqrt();
            let phase = match spec.pattern {
                Pattern::Whorl => {
                    let dy = dy * 0.85;
                    tau * (dx * dx + dy * dy).sqrt() / spec.period + 0.6 * (xf / 37.0).sin()
                        - 0.4 * (yf / 53.0).cos()
                }
                Pattern::Spiral => tau * r / spec.period + arms * dy.atan2(dx),
                Pattern::Arch => {
                    let bend = 0.18 * dx * dx / w.max(h);
                    tau * (dy + bend) / spec.period + 1.5 * (xf / 61.0).sin()
                }
            };
            // Distance outside the finger's edge in pixels (negative inside), for a 1.5 px edge.
            let (ex, ey) = ((xf - fx) / ax.max(1.0), (yf - fy) / ay.max(1.0));
            let outside = ((ex * ex + ey * ey).sqrt() - 1.0) * ax.min(ay);
            let inside = (0.5 - outside / 3.0).clamp(0.0, 1.0);
            let finger = ink + spec.contrast * phase.sin();
            let g = background + inside * (finger - background) + spec.noise * noise();
            pixels.push(g.round().clamp(0.0, 255.0) as u8);
        }
    }
    Image {
        width: spec.width,
        height: spec.height,
        ppi: Some(500),
        pixels,
    }
}

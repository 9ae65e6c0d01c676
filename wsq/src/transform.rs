//! The wavelet transform: symmetric-extension analysis and synthesis filter banks, applied along the
//! rows and columns of each split of the [`Layout`].
//!
//! The transform table (DTT) carries the analysis filters: a symmetric low-pass `h0` and a high-pass
//! `h1`, both of odd length (the specification's 9/7 pair). The signal is extended by whole-sample
//! symmetry at both ends (`x[-i] = x[i]`, `x[n-1+i] = x[n-1-i]`); low-pass outputs are taken at the
//! even samples, high-pass outputs at the odd ones, so a length `n` gives ⌈n/2⌉ low-pass and ⌊n/2⌋
//! high-pass coefficients for either parity of `n`. Synthesis uses the modulated filters
//! `g0[k] = (-1)^k h1[k]` and `g1[k] = (-1)^k h0[k]`, which invert the analysis exactly.
//!
//! Even-length filter pairs (half-sample symmetric extension) are allowed by the specification but
//! are **not implemented**: a file carrying them is rejected with [`crate::Error::Unsupported`].

use crate::tree::{Layout, Rect};

/// An analysis filter pair and its synthesis pair, each stored from the centre tap outwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    /// Analysis low-pass, centre tap first (`lo[k]` = `h0[±k]`).
    pub lo: Vec<f32>,
    /// Analysis high-pass, centre tap first.
    pub hi: Vec<f32>,
    /// Synthesis taps for an even output sample: the synthesis low-pass `g0` at even distances (where
    /// the low-pass coefficients sit), the synthesis high-pass `g1` at odd ones.
    synth_even: Vec<f32>,
    /// Likewise for an odd output sample: `g1` at even distances, `g0` at odd ones.
    synth_odd: Vec<f32>,
}

/// The specification's 9-tap low-pass analysis filter, centre tap first.
pub const SPEC_LOWPASS: [f64; 5] = [
    0.852_698_679_009_40,
    0.377_402_855_612_65,
    -0.110_624_404_418_42,
    -0.023_849_465_019_38,
    0.037_828_455_506_99,
];
/// The specification's 7-tap high-pass analysis filter, centre tap first.
pub const SPEC_HIGHPASS: [f64; 4] = [
    0.788_485_616_405_66,
    -0.418_092_273_222_21,
    -0.040_689_417_609_56,
    0.064_538_882_628_93,
];

fn modulate(taps: &[f32]) -> Vec<f32> {
    taps.iter()
        .enumerate()
        .map(|(k, &t)| if k % 2 == 0 { t } else { -t })
        .collect()
}

impl Filters {
    /// A filter bank from the centre-outward halves of odd-length symmetric analysis filters.
    pub fn new(lo: Vec<f32>, hi: Vec<f32>) -> Filters {
        let g0 = modulate(&hi);
        let g1 = modulate(&lo);
        let n = g0.len().max(g1.len());
        let tap = |g: &[f32], k: usize| g.get(k).copied().unwrap_or(0.0);
        let synth_even = (0..n)
            .map(|k| if k % 2 == 0 { tap(&g0, k) } else { tap(&g1, k) })
            .collect();
        let synth_odd = (0..n)
            .map(|k| if k % 2 == 0 { tap(&g1, k) } else { tap(&g0, k) })
            .collect();
        Filters {
            lo,
            hi,
            synth_even,
            synth_odd,
        }
    }

    /// The specification's 9/7 pair.
    pub fn spec() -> Filters {
        Filters::new(
            SPEC_LOWPASS.iter().map(|&v| v as f32).collect(),
            SPEC_HIGHPASS.iter().map(|&v| v as f32).collect(),
        )
    }

    fn reach(&self) -> usize {
        self.lo.len().max(self.hi.len())
    }
}

/// Whole-sample symmetric reflection of index `i` into `0..n` (`n` ≥ 1).
fn reflect(i: isize, n: usize) -> usize {
    if i >= 0 && (i as usize) < n {
        return i as usize;
    }
    if n <= 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let j = i.rem_euclid(period);
    if j >= n as isize {
        (period - j) as usize
    } else {
        j as usize
    }
}

/// Work buffers reused across rows and columns.
#[derive(Debug, Default)]
struct Scratch {
    line: Vec<f32>,
    ext: Vec<f32>,
}

/// One-dimensional analysis of `scratch.line` into `low` then `high` (written to `out`, in the
/// order the split asks for).
fn analyze(f: &Filters, s: &mut Scratch, out: &mut [f32], inverted: bool) {
    let n = s.line.len();
    if n == 1 {
        // A single sample has no frequency content to split: it is its own low-pass half.
        out[0] = s.line[0];
        return;
    }
    let pad = f.reach();
    s.ext.clear();
    s.ext
        .extend((0..n + 2 * pad).map(|j| s.line[reflect(j as isize - pad as isize, n)]));
    let (nl, nh) = (n.div_ceil(2), n / 2);
    let (low_at, high_at) = if inverted { (nh, 0) } else { (0, nl) };
    let e = &s.ext;
    for i in 0..nl {
        let c = pad + 2 * i;
        let mut acc = f.lo[0] * e[c];
        for (k, &t) in f.lo.iter().enumerate().skip(1) {
            acc += t * (e[c - k] + e[c + k]);
        }
        out[low_at + i] = acc;
    }
    for i in 0..nh {
        let c = pad + 2 * i + 1;
        let mut acc = f.hi[0] * e[c];
        for (k, &t) in f.hi.iter().enumerate().skip(1) {
            acc += t * (e[c - k] + e[c + k]);
        }
        out[high_at + i] = acc;
    }
}

/// One-dimensional synthesis: `s.line` holds the two halves as the split placed them; the signal
/// is written to `out`.
fn synthesize(f: &Filters, s: &mut Scratch, out: &mut [f32], inverted: bool) {
    let n = s.line.len();
    if n == 1 {
        out[0] = s.line[0];
        return;
    }
    let pad = f.reach();
    let (nl, _) = (n.div_ceil(2), n / 2);
    let (low_at, high_at) = if inverted { (n / 2, 0) } else { (0, nl) };
    s.ext.clear();
    s.ext.extend((0..n + 2 * pad).map(|j| {
        let r = reflect(j as isize - pad as isize, n);
        if r % 2 == 0 {
            s.line[low_at + r / 2]
        } else {
            s.line[high_at + r / 2]
        }
    }));
    let u = &s.ext;
    for (m, o) in out.iter_mut().enumerate().take(n) {
        let c = pad + m;
        let taps = if m % 2 == 0 {
            &f.synth_even
        } else {
            &f.synth_odd
        };
        let mut acc = taps[0] * u[c];
        for (k, &t) in taps.iter().enumerate().skip(1) {
            acc += t * (u[c - k] + u[c + k]);
        }
        *o = acc;
    }
}

/// Plane of samples, row-major.
#[derive(Debug)]
pub struct Plane<'a> {
    /// Samples.
    pub data: &'a mut [f32],
    /// Row length.
    pub width: usize,
}

fn split_rows(f: &Filters, s: &mut Scratch, p: &mut Plane, r: &Rect, forward: bool) {
    let mut out = vec![0.0; r.w];
    for y in r.y..r.y + r.h {
        let row = &mut p.data[y * p.width + r.x..y * p.width + r.x + r.w];
        s.line.clear();
        s.line.extend_from_slice(row);
        if forward {
            analyze(f, s, &mut out, r.inv_x);
        } else {
            synthesize(f, s, &mut out, r.inv_x);
        }
        row.copy_from_slice(&out);
    }
}

fn split_columns(f: &Filters, s: &mut Scratch, p: &mut Plane, r: &Rect, forward: bool) {
    let mut out = vec![0.0; r.h];
    for x in r.x..r.x + r.w {
        s.line.clear();
        s.line
            .extend((r.y..r.y + r.h).map(|y| p.data[y * p.width + x]));
        if forward {
            analyze(f, s, &mut out, r.inv_y);
        } else {
            synthesize(f, s, &mut out, r.inv_y);
        }
        for (i, &v) in out.iter().enumerate() {
            p.data[(r.y + i) * p.width + x] = v;
        }
    }
}

/// Forward transform of the whole plane, split by split.
pub fn forward(f: &Filters, layout: &Layout, plane: &mut Plane) {
    let mut s = Scratch::default();
    for r in &layout.splits {
        if r.w == 0 || r.h == 0 {
            continue;
        }
        split_rows(f, &mut s, plane, r, true);
        split_columns(f, &mut s, plane, r, true);
    }
}

/// Inverse transform of the whole plane, children before parents.
pub fn inverse(f: &Filters, layout: &Layout, plane: &mut Plane) {
    let mut s = Scratch::default();
    for r in layout.splits.iter().rev() {
        if r.w == 0 || r.h == 0 {
            continue;
        }
        split_columns(f, &mut s, plane, r, false);
        split_rows(f, &mut s, plane, r, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.7 + (i as f32 * 0.3).sin() * 5.0)
            .collect()
    }

    #[test]
    fn one_dimensional_analysis_then_synthesis_is_the_identity_for_any_length() {
        let f = Filters::spec();
        for n in 1..40 {
            for inverted in [false, true] {
                let x = signal(n);
                let mut s = Scratch {
                    line: x.clone(),
                    ..Scratch::default()
                };
                let mut coeffs = vec![0.0; n];
                analyze(&f, &mut s, &mut coeffs, inverted);
                s.line = coeffs;
                let mut back = vec![0.0; n];
                synthesize(&f, &mut s, &mut back, inverted);
                for (a, b) in x.iter().zip(&back) {
                    assert!(
                        (a - b).abs() < 1e-3,
                        "n={n} inv={inverted}: {x:?} vs {back:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn low_pass_of_a_constant_is_sqrt2_times_it_and_high_pass_is_zero() {
        let f = Filters::spec();
        let mut s = Scratch {
            line: vec![3.0; 11],
            ..Scratch::default()
        };
        let mut out = vec![0.0; 11];
        analyze(&f, &mut s, &mut out, false);
        for &v in &out[..6] {
            assert!((v - 3.0 * 2f32.sqrt()).abs() < 1e-4);
        }
        for &v in &out[6..] {
            assert!(v.abs() < 1e-4);
        }
    }

    #[test]
    fn two_dimensional_transform_round_trips_on_odd_sizes() {
        let (w, h) = (77, 45);
        let orig: Vec<f32> = (0..w * h).map(|i| signal(w * h)[i]).collect();
        let mut data = orig.clone();
        let layout = Layout::new(w, h);
        let f = Filters::spec();
        forward(
            &f,
            &layout,
            &mut Plane {
                data: &mut data,
                width: w,
            },
        );
        assert!(orig.iter().zip(&data).any(|(a, b)| (a - b).abs() > 0.1));
        inverse(
            &f,
            &layout,
            &mut Plane {
                data: &mut data,
                width: w,
            },
        );
        // Subbands 60–63 are untouched by both directions, so the round trip is exact everywhere.
        for (a, b) in orig.iter().zip(&data) {
            assert!((a - b).abs() < 1e-2, "{a} vs {b}");
        }
    }
}

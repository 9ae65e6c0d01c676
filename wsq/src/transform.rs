//! The wavelet transform: symmetric-extension analysis and synthesis filter banks, applied along the
//! rows and columns of each split of the [`Layout`].
//!
//! The transform table (DTT) carries the analysis filters: a symmetric low-pass `h0` and a high-pass
//! `h1`, both of odd length or both of even length. Only half of each filter is transmitted, from the
//! centre outwards, each tap with its own sign byte.
//!
//! **Odd lengths** (the specification's 9/7 pair, the only one any known encoder writes): both filters
//! are whole-sample symmetric. The signal is extended by whole-sample symmetry at both ends
//! (`x[-i] = x[i]`, `x[n-1+i] = x[n-1-i]`); low-pass outputs are taken at the even samples, high-pass
//! outputs at the odd ones, so a length `n` gives ⌈n/2⌉ low-pass and ⌊n/2⌋ high-pass coefficients
//! for either parity of `n`. Synthesis uses the modulated filters `g0[k] = (-1)^k h1[k]` and
//! `g1[k] = (-1)^k h0[k]`, which invert the analysis exactly.
//!
//! **Even lengths** (allowed by the specification, written by no known encoder; here for decoding any
//! conforming file, and as an opt-in [`crate::encode_with`] pair):
//!
//! - The low-pass is half-sample symmetric and the high-pass half-sample *anti*symmetric, both about
//!   the point between two samples. The DTT carries, for a filter of length `L`, the `L/2` taps right
//!   of the centre (`h[L/2] … h[L-1]` of the full array), each with its sign; the left half is the
//!   mirror image for the low-pass and the negated mirror image for the high-pass, so the sign of
//!   the high-pass half is carried by the taps' own sign bytes and the antisymmetry is implied.
//! - The signal is extended by half-sample symmetry (`x[-1-i] = x[i]`, `x[n+i] = x[n-1-i]`, period
//!   `2n`). Output `p` of either filter is centred between samples `2p` and `2p+1`:
//!   `low[p] = Σ_k lo[k]·(x[2p-k] + x[2p+1+k])` and `high[p] = Σ_k hi[k]·(x[2p-k] - x[2p+1+k])`,
//!   where `lo`/`hi` are the transmitted halves. (NBIS's `get_lets` negates the high-pass taps for
//!   even filters and walks the window from the far end; written out, that is this formula.)
//! - Counts: the low-pass outputs are half-sample symmetric about `-½` and symmetric about `(n-1)/2`,
//!   the high-pass outputs antisymmetric about both, so a length `n` again gives ⌈n/2⌉ low-pass and
//!   ⌊n/2⌋ high-pass coefficients: for odd `n` the high-pass output at `(n-1)/2` is zero by
//!   antisymmetry and is not sent (Brislawn's classification of nonexpansive symmetric extension
//!   transforms, the basis of the FBI specification, gives the same counts).
//! - Synthesis extends both subbands by those symmetries, interleaves them (`low[p]` at `2p`,
//!   `high[p]` at `2p+1`) and filters with `c[t] = -(-1)^t b[1-t]` on the low-pass samples and
//!   `d[t] = (-1)^t a[1-t]` on the high-pass ones, where `a[j]`/`b[j]` are the full analysis filters
//!   as correlation taps (`a[1+k] = a[-k] = lo[k]`, `b[-k] = -b[1+k] = hi[k]`). That inverts the
//!   analysis exactly when `H0(z)H1(-z) - H0(-z)H1(z) = 2z` — true of a biorthogonal pair scaled
//!   the usual way (low-pass DC gain √2), such as [`FilterPair::two_six`]. NBIS builds its synthesis
//!   filters from the DTT by the same modulation (`getc_transform_table`).
//!
//! Where these facts come from: the FBI specification (IAFIS-IC-0110 v3.1) itself was not in the
//! stored corpora; the DTT layout and the extension rules above were read from NIST's NBIS 5.0.0
//! (`imgtools/src/lib/wsq/tableio.c`: `getc_transform_table`/`putc_transform_table`;
//! `imgtools/src/lib/wsq/util.c`: `get_lets`/`join_lets`), never translated, and the synthesis was
//! derived from the perfect-reconstruction conditions; `tests/nbis.rs` checks the result against
//! NBIS's decoder.
//!
//! A signal of one sample is its own low-pass half, for either parity.

use crate::tree::{Layout, Rect};

/// An analysis filter pair and its synthesis pair, as the transform uses them (single precision).
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    /// Analysis low-pass half as the DTT carries it: for odd lengths centre tap first (`lo[k]` =
    /// `h0[±k]`), for even lengths the taps right of the centre, nearest first.
    pub lo: Vec<f32>,
    /// Analysis high-pass half, likewise.
    pub hi: Vec<f32>,
    /// Even-length (half-sample symmetric) filters.
    even: bool,
    /// Synthesis taps for an even output sample. Odd filters: the synthesis low-pass `g0` at even
    /// distances (where the low-pass coefficients sit), the synthesis high-pass `g1` at odd ones,
    /// centre first. Even filters: the taps at offsets `-r ..= r` of the interleaved subbands.
    synth_even: Vec<f32>,
    /// Likewise for an odd output sample (odd filters: `g1` at even distances, `g0` at odd ones).
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

/// Longest filter a DTT may declare (taps). The specification's pair has 9 and 7; the limit keeps a
/// damaged table from asking for absurd filters.
pub const MAX_FILTER_LEN: usize = 31;

fn modulate(taps: &[f32]) -> Vec<f32> {
    taps.iter()
        .enumerate()
        .map(|(k, &t)| if k % 2 == 0 { t } else { -t })
        .collect()
}

/// An analysis filter pair as a DTT segment carries it: the two lengths and the transmitted half of
/// each filter (see the module documentation for which half). Double precision, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPair {
    lo_len: usize,
    hi_len: usize,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl FilterPair {
    /// A pair from its lengths and transmitted halves (`⌈len/2⌉` taps each). Both lengths must be
    /// 1–[`MAX_FILTER_LEN`] and of the same parity, and the halves must have the matching number of
    /// finite taps; the error says which rule is broken.
    pub fn new(lo_len: usize, hi_len: usize, lo: Vec<f64>, hi: Vec<f64>) -> Result<Self, String> {
        check_lengths(lo_len, hi_len)?;
        for (name, len, half) in [("low-pass", lo_len, &lo), ("high-pass", hi_len, &hi)] {
            if half.len() != len.div_ceil(2) {
                return Err(format!(
                    "a {len}-tap {name} filter needs {} transmitted taps, not {}",
                    len.div_ceil(2),
                    half.len()
                ));
            }
            if half.iter().any(|v| !v.is_finite()) {
                return Err(format!("the {name} filter has a tap that is not a number"));
            }
        }
        Ok(FilterPair {
            lo_len,
            hi_len,
            lo,
            hi,
        })
    }

    /// The specification's 9/7 pair (what every known encoder writes; the default).
    pub fn spec() -> Self {
        FilterPair {
            lo_len: 9,
            hi_len: 7,
            lo: SPEC_LOWPASS.to_vec(),
            hi: SPEC_HIGHPASS.to_vec(),
        }
    }

    /// An even-length pair: the 2-tap low-pass `(1, 1)/√2` and the 6-tap high-pass
    /// `(1, 1, -8, 8, -1, -1)/(8√2)` (the "2/6" or TS pair: biorthogonal, perfect reconstruction
    /// checked numerically by this module's tests).
    pub fn two_six() -> Self {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        FilterPair {
            lo_len: 2,
            hi_len: 6,
            lo: vec![s],
            hi: vec![s, -s / 8.0, -s / 8.0],
        }
    }

    /// The dual of [`FilterPair::two_six`]: the 6-tap low-pass `(-1, 1, 8, 8, 1, -1)/(8√2)` and the
    /// 2-tap high-pass `(-1, 1)/√2`.
    pub fn six_two() -> Self {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        FilterPair {
            lo_len: 6,
            hi_len: 2,
            lo: vec![s, s / 8.0, -s / 8.0],
            hi: vec![s],
        }
    }

    /// Filter lengths (low-pass, high-pass) in taps.
    pub fn lengths(&self) -> (usize, usize) {
        (self.lo_len, self.hi_len)
    }

    /// The transmitted low-pass half.
    pub fn lo(&self) -> &[f64] {
        &self.lo
    }

    /// The transmitted high-pass half.
    pub fn hi(&self) -> &[f64] {
        &self.hi
    }

    /// Even-length (half-sample symmetric) filters.
    pub fn is_even(&self) -> bool {
        self.lo_len.is_multiple_of(2)
    }

    /// The filter bank in the precision the transform runs at.
    pub fn filters(&self) -> Filters {
        let lo = self.lo.iter().map(|&v| v as f32).collect();
        let hi = self.hi.iter().map(|&v| v as f32).collect();
        if self.is_even() {
            Filters::new_even(lo, hi)
        } else {
            Filters::new(lo, hi)
        }
    }
}

/// The rules on the two lengths a DTT declares: 1–[`MAX_FILTER_LEN`] taps, one parity.
pub fn check_lengths(lo_len: usize, hi_len: usize) -> Result<(), String> {
    if lo_len == 0 || hi_len == 0 || lo_len > MAX_FILTER_LEN || hi_len > MAX_FILTER_LEN {
        return Err(format!(
            "filter lengths {lo_len}/{hi_len} outside 1–{MAX_FILTER_LEN}"
        ));
    }
    if lo_len % 2 != hi_len % 2 {
        return Err(format!(
            "filter lengths {lo_len}/{hi_len}: one odd and one even (a filter bank needs both of one parity)"
        ));
    }
    Ok(())
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
            even: false,
            synth_even,
            synth_odd,
        }
    }

    /// A filter bank from the right halves (nearest the centre first) of even-length analysis
    /// filters: a half-sample symmetric low-pass and a half-sample antisymmetric high-pass.
    pub fn new_even(lo: Vec<f32>, hi: Vec<f32>) -> Filters {
        let r = lo.len().max(hi.len()) as isize;
        let get = |h: &[f32], k: isize| {
            usize::try_from(k)
                .ok()
                .and_then(|k| h.get(k).copied())
                .unwrap_or(0.0)
        };
        // Full analysis filters as correlation taps: a[1+k] = a[-k] = lo[k], b[-k] = -b[1+k] = hi[k].
        let a = |j: isize| {
            if j <= 0 {
                get(&lo, -j)
            } else {
                get(&lo, j - 1)
            }
        };
        let b = |j: isize| {
            if j <= 0 {
                get(&hi, -j)
            } else {
                -get(&hi, j - 1)
            }
        };
        let sign = |t: isize| if t.rem_euclid(2) == 0 { 1.0 } else { -1.0 };
        // Synthesis on the low-pass samples c[t], on the high-pass samples d[t].
        let c = |t: isize| -sign(t) * b(1 - t);
        let d = |t: isize| sign(t) * a(1 - t);
        let taps = |parity: isize| {
            (-r..=r)
                .map(|t| {
                    if t.rem_euclid(2) == parity {
                        c(t)
                    } else {
                        d(t + 1)
                    }
                })
                .collect()
        };
        Filters {
            synth_even: taps(0),
            synth_odd: taps(1),
            lo,
            hi,
            even: true,
        }
    }

    /// The specification's 9/7 pair.
    pub fn spec() -> Filters {
        FilterPair::spec().filters()
    }

    /// Even-length (half-sample symmetric) filters.
    pub fn is_even(&self) -> bool {
        self.even
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

/// Half-sample symmetric reflection of index `i` into `0..n` (`n` ≥ 1): `-1 → 0`, `n → n-1`.
fn reflect_half(i: isize, n: usize) -> usize {
    if i >= 0 && (i as usize) < n {
        return i as usize;
    }
    let period = 2 * n as isize;
    let j = i.rem_euclid(period);
    if j >= n as isize {
        (period - 1 - j) as usize
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
    if f.even {
        return analyze_even(f, s, out, inverted);
    }
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
    if f.even {
        return synthesize_even(f, s, out, inverted);
    }
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
        if r.is_multiple_of(2) {
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

/// [`analyze`] for even-length filters: half-sample symmetric extension, outputs centred between
/// samples `2p` and `2p+1`.
fn analyze_even(f: &Filters, s: &mut Scratch, out: &mut [f32], inverted: bool) {
    let n = s.line.len();
    if n == 1 {
        out[0] = s.line[0];
        return;
    }
    let pad = f.reach();
    s.ext.clear();
    s.ext
        .extend((0..n + 2 * pad).map(|j| s.line[reflect_half(j as isize - pad as isize, n)]));
    let (nl, nh) = (n.div_ceil(2), n / 2);
    let (low_at, high_at) = if inverted { (nh, 0) } else { (0, nl) };
    let e = &s.ext;
    for i in 0..nl {
        let c = pad + 2 * i;
        let mut acc = 0.0;
        for (k, &t) in f.lo.iter().enumerate() {
            acc += t * (e[c - k] + e[c + 1 + k]);
        }
        out[low_at + i] = acc;
    }
    for i in 0..nh {
        let c = pad + 2 * i;
        let mut acc = 0.0;
        for (k, &t) in f.hi.iter().enumerate() {
            acc += t * (e[c - k] - e[c + 1 + k]);
        }
        out[high_at + i] = acc;
    }
}

/// [`synthesize`] for even-length filters: both subbands extended by their symmetries (the
/// low-pass symmetric, the high-pass antisymmetric, period `n`), interleaved, then filtered.
fn synthesize_even(f: &Filters, s: &mut Scratch, out: &mut [f32], inverted: bool) {
    let n = s.line.len();
    if n == 1 {
        out[0] = s.line[0];
        return;
    }
    let r = f.reach();
    let (nl, nh) = (n.div_ceil(2), n / 2);
    let (low_at, high_at) = if inverted { (nh, 0) } else { (0, nl) };
    let line = &s.line;
    let low = |q: isize| {
        let p = q.rem_euclid(n as isize) as usize;
        if p < nl {
            line[low_at + p]
        } else {
            line[low_at + n - 1 - p]
        }
    };
    let high = |q: isize| {
        let p = q.rem_euclid(n as isize) as usize;
        if p < nh {
            line[high_at + p]
        } else if 2 * p == n - 1 {
            // The centre of an odd-length signal: zero by antisymmetry, never sent.
            0.0
        } else {
            -line[high_at + n - 1 - p]
        }
    };
    s.ext.clear();
    s.ext.extend((0..n + 2 * r).map(|j| {
        let i = j as isize - r as isize;
        if i.rem_euclid(2) == 0 {
            low(i.div_euclid(2))
        } else {
            high(i.div_euclid(2))
        }
    }));
    let u = &s.ext;
    for (m, o) in out.iter_mut().enumerate().take(n) {
        let taps = if m % 2 == 0 {
            &f.synth_even
        } else {
            &f.synth_odd
        };
        // x[m] = Σ_t taps[t] · u[m - t] for t in -r..=r; u[i] sits at index r + i.
        let top = m + 2 * r;
        let mut acc = 0.0;
        for (k, &t) in taps.iter().enumerate() {
            acc += t * u[top - k];
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

    fn even_pairs() -> [(&'static str, Filters); 2] {
        [
            ("2/6", FilterPair::two_six().filters()),
            ("6/2", FilterPair::six_two().filters()),
        ]
    }

    fn round_trip_1d(f: &Filters, x: &[f32], inverted: bool) -> (Vec<f32>, Vec<f32>) {
        let n = x.len();
        let mut s = Scratch {
            line: x.to_vec(),
            ..Scratch::default()
        };
        let mut coeffs = vec![0.0; n];
        analyze(f, &mut s, &mut coeffs, inverted);
        s.line = coeffs.clone();
        let mut back = vec![0.0; n];
        synthesize(f, &mut s, &mut back, inverted);
        (coeffs, back)
    }

    #[test]
    fn even_filters_reconstruct_every_length_exactly() {
        for (name, f) in even_pairs() {
            assert!(f.is_even());
            for n in 1..40 {
                for inverted in [false, true] {
                    let x = signal(n);
                    let (_, back) = round_trip_1d(&f, &x, inverted);
                    for (a, b) in x.iter().zip(&back) {
                        assert!(
                            (a - b).abs() < 1e-4,
                            "{name} n={n} inv={inverted}: {x:?} vs {back:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn even_low_pass_of_a_constant_is_sqrt2_times_it_and_high_pass_is_zero() {
        for (name, f) in even_pairs() {
            for n in [10, 11] {
                let (out, _) = round_trip_1d(&f, &vec![3.0; n], false);
                let nl = n.div_ceil(2);
                for &v in &out[..nl] {
                    assert!(
                        (v - 3.0 * 2f32.sqrt()).abs() < 1e-4,
                        "{name} n={n}: {out:?}"
                    );
                }
                for &v in &out[nl..] {
                    assert!(v.abs() < 1e-4, "{name} n={n}: {out:?}");
                }
            }
        }
    }

    #[test]
    fn even_high_passes_on_a_ramp_give_the_slope_or_nothing() {
        let x: Vec<f32> = (0..20).map(|i| i as f32).collect();
        // The 2-tap high-pass of 6/2 is (x[2p] - x[2p+1])/√2: -1/√2 for a unit slope, everywhere
        // but the last output (whose window reaches past the end).
        let (out, _) = round_trip_1d(&FilterPair::six_two().filters(), &x, false);
        for &v in &out[10..19] {
            assert!(
                (v + std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-5,
                "{out:?}"
            );
        }
        // The 6-tap high-pass of 2/6 has two vanishing moments: a ramp gives zero wherever its
        // window lies inside the signal (p = 2 … 8).
        let (out, _) = round_trip_1d(&FilterPair::two_six().filters(), &x, false);
        for &v in &out[12..19] {
            assert!(v.abs() < 1e-4, "{out:?}");
        }
        assert!(
            out[10].abs() > 0.1,
            "the reflected ramp at the start is no ramp: {out:?}"
        );
    }

    #[test]
    fn a_wrong_high_pass_sign_breaks_the_reconstruction() {
        // The sign convention matters: the same taps negated do not invert.
        let p = FilterPair::two_six();
        let neg: Vec<f32> = p.hi().iter().map(|&v| -v as f32).collect();
        let f = Filters::new_even(vec![p.lo()[0] as f32], neg);
        let x = signal(17);
        let (_, back) = round_trip_1d(&f, &x, false);
        assert!(x.iter().zip(&back).any(|(a, b)| (a - b).abs() > 0.1));
    }

    #[test]
    fn filter_pairs_are_checked() {
        assert!(FilterPair::new(9, 7, SPEC_LOWPASS.to_vec(), SPEC_HIGHPASS.to_vec()).is_ok());
        assert!(FilterPair::new(0, 7, vec![], SPEC_HIGHPASS.to_vec())
            .unwrap_err()
            .contains("outside"));
        assert!(FilterPair::new(8, 7, vec![0.5; 4], SPEC_HIGHPASS.to_vec())
            .unwrap_err()
            .contains("one odd and one even"));
        assert!(FilterPair::new(40, 6, vec![0.5; 20], vec![0.5; 3])
            .unwrap_err()
            .contains("outside"));
        assert!(FilterPair::new(2, 6, vec![0.5; 2], vec![0.5; 3])
            .unwrap_err()
            .contains("needs 1 transmitted"));
        assert!(FilterPair::new(2, 6, vec![f64::NAN], vec![0.5; 3])
            .unwrap_err()
            .contains("not a number"));
    }

    fn round_trip_2d(f: &Filters, w: usize, h: usize, orig: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let mut data = orig.to_vec();
        let layout = Layout::new(w, h);
        forward(
            f,
            &layout,
            &mut Plane {
                data: &mut data,
                width: w,
            },
        );
        let coeffs = data.clone();
        inverse(
            f,
            &layout,
            &mut Plane {
                data: &mut data,
                width: w,
            },
        );
        (coeffs, data)
    }

    #[test]
    fn two_dimensional_even_transform_round_trips_on_odd_and_even_sizes() {
        for (name, f) in even_pairs() {
            for (w, h) in [(77, 45), (64, 96), (33, 80)] {
                let orig = signal(w * h);
                let (coeffs, back) = round_trip_2d(&f, w, h, &orig);
                assert!(orig.iter().zip(&coeffs).any(|(a, b)| (a - b).abs() > 0.1));
                for (a, b) in orig.iter().zip(&back) {
                    assert!((a - b).abs() < 1e-2, "{name} {w}×{h}: {a} vs {b}");
                }
            }
        }
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn pair() -> impl Strategy<Value = FilterPair> {
            prop_oneof![
                Just(FilterPair::two_six()),
                Just(FilterPair::six_two()),
                Just(FilterPair::spec())
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            #[test]
            fn analysis_then_synthesis_is_the_identity_in_1d(
                p in pair(),
                x in prop::collection::vec(-128f32..128.0, 1..70),
                inverted in any::<bool>(),
            ) {
                let (_, back) = round_trip_1d(&p.filters(), &x, inverted);
                for (a, b) in x.iter().zip(&back) {
                    prop_assert!((a - b).abs() < 1e-3, "{:?}: {} vs {}", p.lengths(), a, b);
                }
            }

            #[test]
            fn analysis_then_synthesis_is_the_identity_in_2d(
                p in pair(),
                w in 1usize..90,
                h in 1usize..90,
                seed in any::<u64>(),
            ) {
                let mut state = seed | 1;
                let orig: Vec<f32> = (0..w * h)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        (state >> 40) as f32 / (1u64 << 24) as f32 * 256.0 - 128.0
                    })
                    .collect();
                let (_, back) = round_trip_2d(&p.filters(), w, h, &orig);
                for (a, b) in orig.iter().zip(&back) {
                    prop_assert!((a - b).abs() < 2e-2, "{:?} {}×{}: {} vs {}", p.lengths(), w, h, a, b);
                }
            }
        }
    }
}

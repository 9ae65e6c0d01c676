//! The reversible 5/3 integer wavelet transform, forward direction (ITU-T T.800 Annex F.4).
//!
//! One level (2D_SD in F.4) filters every column (VER_SD) and then every row (HOR_SD) of the current
//! low-pass region and reorders each line into its low-pass samples followed by its high-pass ones,
//! so after `levels` levels the plane holds the subbands in the usual corner layout. Each line is
//! lifted in place by the two lifting steps of the reversible 5/3 filter:
//!
//! - high-pass, odd positions: `Y(2n+1) = X(2n+1) − ⌊(X(2n) + X(2n+2)) / 2⌋`
//! - low-pass, even positions: `Y(2n) = X(2n) + ⌊(Y(2n−1) + Y(2n+1) + 2) / 4⌋`
//!
//! with the signal extended symmetrically about its first and last samples (the periodic symmetric
//! extension of Annex F: `X(−1) = X(1)`, `X(n) = X(n−2)`). Lines start at coordinate 0 (one tile
//! with no image offset), so the first sample is always a low-pass one and a line of one sample
//! passes unchanged. Integer arithmetic throughout, so the inverse (F.3) gives back every sample.

/// Lifts one line in place, leaving it interleaved (low-pass at even positions).
fn lift(x: &mut [i32]) {
    let n = x.len();
    if n < 2 {
        return;
    }
    for i in (1..n).step_by(2) {
        let right = if i + 1 < n { x[i + 1] } else { x[i - 1] };
        x[i] -= (x[i - 1] + right) >> 1;
    }
    for i in (0..n).step_by(2) {
        let left = if i > 0 { x[i - 1] } else { x[i + 1] };
        let right = if i + 1 < n { x[i + 1] } else { x[i - 1] };
        x[i] += (left + right + 2) >> 2;
    }
}

/// Lifts `line` and writes it de-interleaved through `put(position, value)`: low-pass samples
/// first, then high-pass ones.
fn lift_split(line: &mut [i32], mut put: impl FnMut(usize, i32)) {
    lift(line);
    let lows = line.len().div_ceil(2);
    for (i, &v) in line.iter().enumerate() {
        put(if i % 2 == 0 { i / 2 } else { lows + i / 2 }, v);
    }
}

/// Transforms the `width` × `height` plane (row-major) through `levels` decomposition levels.
pub(crate) fn forward(plane: &mut [i32], width: usize, height: usize, levels: u32) {
    let (mut w, mut h) = (width, height);
    let mut line = Vec::with_capacity(width.max(height));
    for _ in 0..levels {
        for x in 0..w {
            line.clear();
            line.extend((0..h).map(|y| plane[y * width + x]));
            lift_split(&mut line, |y, v| plane[y * width + x] = v);
        }
        for y in 0..h {
            line.clear();
            line.extend_from_slice(&plane[y * width..y * width + w]);
            let row = &mut plane[y * width..y * width + w];
            lift_split(&mut line, |x, v| row[x] = v);
        }
        w = w.div_ceil(2);
        h = h.div_ceil(2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse lifting steps (T.800 F.3), to check that the forward steps lose nothing.
    fn unlift(y: &mut [i32]) {
        let n = y.len();
        if n < 2 {
            return;
        }
        for i in (0..n).step_by(2) {
            let left = if i > 0 { y[i - 1] } else { y[i + 1] };
            let right = if i + 1 < n { y[i + 1] } else { y[i - 1] };
            y[i] -= (left + right + 2) >> 2;
        }
        for i in (1..n).step_by(2) {
            let right = if i + 1 < n { y[i + 1] } else { y[i - 1] };
            y[i] += (y[i - 1] + right) >> 1;
        }
    }

    #[test]
    fn lifting_is_reversible_for_every_length() {
        for n in 1..40 {
            let x: Vec<i32> = (0..n).map(|i: i32| (i * 97 + 13) % 255 - 128).collect();
            let mut y = x.clone();
            lift(&mut y);
            unlift(&mut y);
            assert_eq!(x, y, "length {n}");
        }
    }

    #[test]
    fn a_constant_line_has_zero_high_pass_and_keeps_its_low_pass() {
        let mut y = vec![7; 9];
        lift(&mut y);
        for (i, v) in y.iter().enumerate() {
            assert_eq!(*v, if i % 2 == 0 { 7 } else { 0 }, "position {i}");
        }
    }

    #[test]
    fn a_ramp_has_zero_high_pass_inside() {
        let mut y: Vec<i32> = (0..8).map(|i| 3 * i).collect();
        lift(&mut y);
        assert_eq!(&[y[1], y[3], y[5]], &[0, 0, 0]);
    }
}

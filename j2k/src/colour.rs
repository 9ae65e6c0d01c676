//! From pixels to the samples the wavelet transform takes (ITU-T T.800 Annex G): the DC level shift
//! (G.1: an unsigned 8-bit sample minus 128) and, for RGB, the reversible colour transform (G.2,
//! RCT), an integer transform the decoder undoes exactly:
//!
//! - `Y0 = ⌊(R + 2G + B) / 4⌋`
//! - `Y1 = B − G`
//! - `Y2 = R − G`
//!
//! `Y0` keeps the 8-bit range; `Y1` and `Y2` take one bit more.

/// The level-shifted samples of one component plane.
pub(crate) fn grey(pixels: &[u8]) -> Vec<i32> {
    pixels.iter().map(|&p| i32::from(p) - 128).collect()
}

/// The three RCT component planes of interleaved 8-bit RGB pixels.
pub(crate) fn rgb(pixels: &[u8]) -> [Vec<i32>; 3] {
    let n = pixels.len() / 3;
    let (mut y0, mut y1, mut y2) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for px in pixels.chunks_exact(3) {
        let [r, g, b] = [px[0], px[1], px[2]].map(|v| i32::from(v) - 128);
        y0.push((r + 2 * g + b) >> 2);
        y1.push(b - g);
        y2.push(r - g);
    }
    [y0, y1, y2]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse RCT of T.800 G.2 gives back every pixel.
    #[test]
    fn the_rct_is_reversible() {
        let mut px = Vec::new();
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(17) {
                for b in [0u8, 1, 127, 128, 254, 255] {
                    px.extend_from_slice(&[r as u8, g as u8, b]);
                }
            }
        }
        let [y0, y1, y2] = rgb(&px);
        for i in 0..px.len() / 3 {
            let g = y0[i] - ((y1[i] + y2[i]) >> 2);
            let (r, b) = (y2[i] + g, y1[i] + g);
            assert_eq!(
                [r + 128, g + 128, b + 128],
                [0, 1, 2].map(|k| i32::from(px[3 * i + k]))
            );
        }
    }
}

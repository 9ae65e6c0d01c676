//! Where each subband and code-block lies (ITU-T T.800 B.5 and B.7), for one tile at the image
//! origin.
//!
//! With the image and tile offsets all zero, a tile-component of `w` × `h` samples has, at
//! decomposition level `n`, a low-pass extent of `⌈w / 2ⁿ⌉` and a high-pass extent of
//! `⌈w / 2ⁿ⁻¹⌉ − ⌈w / 2ⁿ⌉` (B.5's subband coordinates with the offsets at zero). Resolution level 0
//! is the lowest LL subband; level `r` ≥ 1 holds the HL, LH and HH subbands of decomposition level
//! `levels + 1 − r` (B.5). Each subband is cut into code-blocks on a grid anchored at 0 (B.7); with
//! the default precincts of 2¹⁵ (no precinct sizes in COD) each resolution level is one precinct,
//! so code-blocks keep their nominal 64 × 64 size.

/// A subband's orientation (B.5): which directions went through the high-pass filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Orientation {
    /// Low-pass both ways (resolution level 0 only).
    LL,
    /// High-pass horizontally, low-pass vertically.
    HL,
    /// Low-pass horizontally, high-pass vertically.
    LH,
    /// High-pass both ways.
    HH,
}

impl Orientation {
    /// `log2` of the subband's nominal gain (Annex E): 0 for LL, 1 for HL and LH, 2 for HH.
    pub(crate) fn gain_bits(self) -> u8 {
        match self {
            Orientation::LL => 0,
            Orientation::HL | Orientation::LH => 1,
            Orientation::HH => 2,
        }
    }
}

/// One subband of a tile-component: its place in the transformed plane and its size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subband {
    pub(crate) orientation: Orientation,
    /// Column and row of its first coefficient in the transformed plane (corner layout).
    pub(crate) x0: usize,
    pub(crate) y0: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

/// Code-blocks are 64 × 64 (COD's xcb = ycb = 4, as exponents minus 2).
pub(crate) const BLOCK: usize = 64;

impl Subband {
    /// Code-blocks across and down (0 when the subband is empty).
    pub(crate) fn blocks(&self) -> (usize, usize) {
        (self.width.div_ceil(BLOCK), self.height.div_ceil(BLOCK))
    }
}

/// The subbands of each resolution level, level 0 first, for a `width` × `height` plane after
/// `levels` decomposition levels: `[LL]`, then `[HL, LH, HH]` per level, coarsest first (the order
/// of packets and of QCD's exponents).
pub(crate) fn resolutions(width: usize, height: usize, levels: u32) -> Vec<Vec<Subband>> {
    let low = |n: usize, k: u32| n.div_ceil(1 << k);
    let mut out = vec![vec![Subband {
        orientation: Orientation::LL,
        x0: 0,
        y0: 0,
        width: low(width, levels),
        height: low(height, levels),
    }]];
    for level in (1..=levels).rev() {
        // The region transformed at this level, and its low-pass part.
        let (w, h) = (low(width, level - 1), low(height, level - 1));
        let (lw, lh) = (low(width, level), low(height, level));
        let band = |orientation, x0, y0, width, height| Subband {
            orientation,
            x0,
            y0,
            width,
            height,
        };
        out.push(vec![
            band(Orientation::HL, lw, 0, w - lw, lh),
            band(Orientation::LH, 0, lh, lw, h - lh),
            band(Orientation::HH, lw, lh, w - lw, h - lh),
        ]);
    }
    out
}

/// A sensible number of decomposition levels for the image: five, as for a fingerprint, but fewer
/// when the smaller side would otherwise shrink below one sample (a 1 × n image has none).
pub(crate) fn levels_for(width: usize, height: usize) -> u32 {
    let side = width.min(height).max(1);
    (usize::BITS - 1 - side.leading_zeros()).min(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subbands_tile_the_plane() {
        for (w, h) in [(1, 1), (1, 7), (5, 3), (64, 64), (65, 129), (400, 500)] {
            let levels = levels_for(w, h);
            let mut seen = vec![0u8; w * h];
            for r in resolutions(w, h, levels) {
                for b in r {
                    for y in b.y0..b.y0 + b.height {
                        for x in b.x0..b.x0 + b.width {
                            seen[y * w + x] += 1;
                        }
                    }
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{w}×{h}");
        }
    }

    #[test]
    fn levels_shrink_for_small_images() {
        assert_eq!(levels_for(1, 1), 0);
        assert_eq!(levels_for(1, 500), 0);
        assert_eq!(levels_for(3, 3), 1);
        assert_eq!(levels_for(32, 40), 5);
        assert_eq!(levels_for(400, 500), 5);
    }
}

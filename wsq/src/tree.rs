//! The WSQ subband decomposition: where each of the 64 subbands lies in the transformed image.
//!
//! The specification fixes one decomposition, a wavelet-packet quadtree tailored to 500 ppi prints.
//! Every split filters a rectangle along its rows and its columns and leaves four quarters: top-left,
//! top-right, bottom-left, bottom-right. The quarters are kept in frequency order, so the part of a
//! rectangle that came out of a high-pass filter is *spectrally inverted*: when it is split again, its
//! high-pass half goes first (left or top) and its low-pass half second. A quarter is inverted along x
//! when it is a right half, along y when it is a bottom half. For an odd length the low-pass half gets
//! the extra sample wherever it is placed.
//!
//! Subbands are numbered depth first, quarters in the order top-left, top-right, bottom-left,
//! bottom-right. Which rectangles are split:
//!
//! ```text
//! image ─┬─ a ─┬─ a0 ─┬─ a00 ─┬─ a000 → 0 1 2 3
//!        │     │      │       └─ 4 5 6
//!        │     │      └─ a01, a02, a03 → 7–10, 11–14, 15–18
//!        │     ├─ a1 → split twice → 19–34
//!        │     ├─ a2 → split twice → 35–50
//!        │     └─ a3 = 51
//!        ├─ b → 52–55
//!        ├─ c → 56–59
//!        └─ d → 60–63 (never coded: always zero, never transformed)
//! ```

/// A rectangle of the transformed image: position, size and its spectral inversion along x and y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left column.
    pub x: usize,
    /// Top row.
    pub y: usize,
    /// Width in samples.
    pub w: usize,
    /// Height in samples.
    pub h: usize,
    /// The rectangle is the high-pass (right) half of an x split: split again, its high-pass half
    /// goes left.
    pub inv_x: bool,
    /// Likewise along y (a bottom half).
    pub inv_y: bool,
}

/// Sizes of the first and second half when a length `n` is split (low-pass half gets ⌈n/2⌉).
pub fn halves(n: usize, inverted: bool) -> (usize, usize) {
    let (low, high) = (n.div_ceil(2), n / 2);
    if inverted {
        (high, low)
    } else {
        (low, high)
    }
}

impl Rect {
    /// The four quarters of one split: top-left, top-right, bottom-left, bottom-right.
    pub fn quarters(&self) -> [Rect; 4] {
        let (wl, wr) = halves(self.w, self.inv_x);
        let (ht, hb) = halves(self.h, self.inv_y);
        let q = |x, y, w, h, inv_x, inv_y| Rect {
            x,
            y,
            w,
            h,
            inv_x,
            inv_y,
        };
        [
            q(self.x, self.y, wl, ht, false, false),
            q(self.x + wl, self.y, wr, ht, true, false),
            q(self.x, self.y + ht, wl, hb, false, true),
            q(self.x + wl, self.y + ht, wr, hb, true, true),
        ]
    }
}

/// Shape of the decomposition: a node is a subband or is split into four nodes.
enum Node {
    Band,
    Split(Box<[Node; 4]>),
}

fn split(children: [Node; 4]) -> Node {
    Node::Split(Box::new(children))
}

fn split_once() -> Node {
    split([Node::Band, Node::Band, Node::Band, Node::Band])
}

fn split_twice() -> Node {
    split([split_once(), split_once(), split_once(), split_once()])
}

fn shape() -> Node {
    let a000 = split_once();
    let a00 = split([a000, Node::Band, Node::Band, Node::Band]);
    let a0 = split([a00, split_once(), split_once(), split_once()]);
    let a = split([a0, split_twice(), split_twice(), Node::Band]);
    split([a, split_once(), split_once(), split_once()])
}

/// Number of subbands in the decomposition.
pub const SUBBANDS: usize = 64;
/// Subbands 60–63 are never coded.
pub const CODED_SUBBANDS: usize = 60;
/// First subband of each of the three entropy-coded blocks, and the end of the last.
pub const BLOCK_STARTS: [usize; 4] = [0, 19, 52, 60];

/// The decomposition of one image size.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Rectangles split by the forward transform, parents before their children.
    pub splits: Vec<Rect>,
    /// The 64 subbands in coding order.
    pub bands: Vec<Rect>,
}

impl Layout {
    /// The decomposition of a `width` × `height` image.
    pub fn new(width: usize, height: usize) -> Layout {
        let mut layout = Layout {
            splits: Vec::with_capacity(20),
            bands: Vec::with_capacity(SUBBANDS),
        };
        let image = Rect {
            x: 0,
            y: 0,
            w: width,
            h: height,
            inv_x: false,
            inv_y: false,
        };
        layout.walk(&shape(), image, true, 0);
        debug_assert_eq!(layout.bands.len(), SUBBANDS);
        layout
    }

    fn walk(&mut self, node: &Node, rect: Rect, transformed: bool, depth: usize) {
        match node {
            Node::Band => self.bands.push(rect),
            Node::Split(children) => {
                // The bottom-right quarter of the image holds subbands 60–63, which are never coded:
                // it is not transformed (its bands still get their places, for completeness).
                if transformed {
                    self.splits.push(rect);
                }
                let quarters = rect.quarters();
                for (i, (child, quarter)) in children.iter().zip(quarters).enumerate() {
                    let dropped = depth == 0 && i == 3;
                    self.walk(child, quarter, transformed && !dropped, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_splits_and_64_bands_that_tile_the_image() {
        for (w, h) in [(545, 622), (263, 301), (64, 64), (33, 47), (800, 768)] {
            let layout = Layout::new(w, h);
            assert_eq!(
                layout.splits.len(),
                20,
                "the spec's transform has 20 splits"
            );
            assert_eq!(layout.bands.len(), 64);
            let mut seen = vec![0u8; w * h];
            for b in &layout.bands {
                for y in b.y..b.y + b.h {
                    for x in b.x..b.x + b.w {
                        seen[y * w + x] += 1;
                    }
                }
            }
            assert!(
                seen.iter().all(|&c| c == 1),
                "{w}x{h}: bands overlap or leave gaps"
            );
        }
    }

    #[test]
    fn band_sizes_follow_the_spec_layout_for_a_512_square() {
        let layout = Layout::new(512, 512);
        let size = |k: usize| (layout.bands[k].w, layout.bands[k].h);
        for k in 0..4 {
            assert_eq!(size(k), (16, 16));
        }
        for k in 4..51 {
            assert_eq!(size(k), (32, 32), "band {k}");
        }
        for k in 51..64 {
            assert_eq!(size(k), (128, 128), "band {k}");
        }
        // Band 51 is the bottom-right quarter of the image's top-left quarter.
        assert_eq!((layout.bands[51].x, layout.bands[51].y), (128, 128));
        // Band 19 starts the top-right quarter of that quarter.
        assert_eq!((layout.bands[19].x, layout.bands[19].y), (128, 0));
    }

    #[test]
    fn odd_lengths_give_the_extra_sample_to_the_low_pass_half() {
        assert_eq!(halves(7, false), (4, 3));
        assert_eq!(halves(7, true), (3, 4));
        assert_eq!(halves(8, true), (4, 4));
        let layout = Layout::new(263, 301);
        // Image top-left quarter: 132 × 151; band 51 (its bottom-right) is 66 × 75.
        assert_eq!((layout.bands[51].w, layout.bands[51].h), (66, 75));
        assert_eq!((layout.bands[51].x, layout.bands[51].y), (66, 76));
    }
}

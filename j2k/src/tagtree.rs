//! Tag trees (ITU-T T.800 B.10.2): a quad-tree over a grid of code-blocks in which each node holds
//! the minimum of its children, coded so that a decoder learns, for one leaf at a time, whether its
//! value is below a threshold, sharing what it learnt about the ancestors with the other leaves.
//!
//! Coding a leaf against threshold `t` walks from the root down: at each node, starting from what
//! the decoder already knows (the larger of the node's own known bound and its parent's), a 0 bit
//! says "the value is larger than this bound" and raises the bound by one, a 1 bit says "the value
//! is this bound"; it stops at `t` or once the value is known.

use crate::bits::BitWriter;

#[derive(Debug, Clone, Copy)]
struct Node {
    value: u32,
    /// What the decoder knows: the value is at least this.
    low: u32,
    /// The decoder knows the value exactly.
    known: bool,
}

/// A tag tree over a `width` × `height` grid of leaves.
#[derive(Debug)]
pub(crate) struct TagTree {
    /// Level sizes, leaves first.
    levels: Vec<(usize, usize)>,
    /// Nodes, level after level, each level row-major.
    nodes: Vec<Node>,
    /// Where each level starts in `nodes`.
    starts: Vec<usize>,
}

impl TagTree {
    /// A tree over `values` (row-major, `width` × `height`, at least one leaf).
    pub(crate) fn new(width: usize, height: usize, values: &[u32]) -> TagTree {
        let mut levels = vec![(width, height)];
        while let Some(&(w, h)) = levels.last() {
            if w * h <= 1 {
                break;
            }
            levels.push((w.div_ceil(2), h.div_ceil(2)));
        }
        let mut starts = Vec::with_capacity(levels.len());
        let mut nodes: Vec<Node> = Vec::new();
        for (k, &(w, h)) in levels.iter().enumerate() {
            starts.push(nodes.len());
            for y in 0..h {
                for x in 0..w {
                    let value = if k == 0 {
                        values[y * w + x]
                    } else {
                        // The minimum of the (up to four) children one level down.
                        let (cw, ch) = levels[k - 1];
                        let child = starts[k - 1];
                        let mut m = u32::MAX;
                        for cy in 2 * y..(2 * y + 2).min(ch) {
                            for cx in 2 * x..(2 * x + 2).min(cw) {
                                m = m.min(nodes[child + cy * cw + cx].value);
                            }
                        }
                        m
                    };
                    nodes.push(Node {
                        value,
                        low: 0,
                        known: false,
                    });
                }
            }
        }
        TagTree {
            levels,
            nodes,
            starts,
        }
    }

    /// Codes what the decoder needs to tell whether leaf (x, y) is below `threshold`.
    pub(crate) fn encode(&mut self, bits: &mut BitWriter, x: usize, y: usize, threshold: u32) {
        let path: Vec<usize> = (0..self.levels.len())
            .rev()
            .map(|k| {
                let (w, _) = self.levels[k];
                self.starts[k] + (y >> k) * w + (x >> k)
            })
            .collect();
        let mut low = 0;
        for i in path {
            let node = &mut self.nodes[i];
            low = low.max(node.low);
            while low < threshold {
                if low >= node.value {
                    if !node.known {
                        bits.put(1);
                        node.known = true;
                    }
                    break;
                }
                bits.put(0);
                low += 1;
            }
            node.low = low;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(f: impl FnOnce(&mut BitWriter)) -> String {
        let mut w = BitWriter::new();
        f(&mut w);
        w.bits_as_text()
    }

    #[test]
    fn a_single_leaf_is_a_unary_code() {
        let mut t = TagTree::new(1, 1, &[3]);
        assert_eq!(bits_of(|b| t.encode(b, 0, 0, 4)), "0001");
        // Already known: nothing more to say.
        assert_eq!(bits_of(|b| t.encode(b, 0, 0, 9)), "");
    }

    #[test]
    fn ancestors_are_coded_once_and_shared() {
        // Leaves 1 2 / 3 4: root 1. Leaf (0,0): root "01", leaf "1" (its bound starts at the root's).
        let mut t = TagTree::new(2, 2, &[1, 2, 3, 4]);
        assert_eq!(bits_of(|b| t.encode(b, 0, 0, 10)), "011");
        assert_eq!(bits_of(|b| t.encode(b, 1, 0, 10)), "01");
        assert_eq!(bits_of(|b| t.encode(b, 1, 1, 10)), "0001");
    }

    #[test]
    fn a_threshold_stops_the_walk() {
        let mut t = TagTree::new(3, 1, &[0, 1, 0]);
        // Root 0 and its left child 0 are coded on the way down, then the leaf: not below 1.
        assert_eq!(bits_of(|b| t.encode(b, 1, 0, 1)), "110");
        assert_eq!(bits_of(|b| t.encode(b, 0, 0, 1)), "1");
    }
}

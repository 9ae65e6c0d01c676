//! Tier-2: packets (ITU-T T.800 B.9 and B.10). With one quality layer and one precinct per
//! resolution level, each (resolution level, component) pair makes one packet, in LRCP order
//! (B.12.1.1): resolution levels outermost, components inside.
//!
//! A packet header (B.10) starts with a bit saying whether the packet holds any data; then, for
//! each subband of the resolution level in order and each of its code-blocks in raster order, the
//! code-block's inclusion (a tag tree over the layer of first inclusion, B.10.4), and for an
//! included block its number of missing most-significant bit-planes (a second tag tree, B.10.5),
//! its number of coding passes (Table B.4, B.10.6) and its codeword length in
//! `Lblock + ⌊log2 passes⌋` bits after the comma code that raises `Lblock` from 3 (B.10.7). The
//! packet body is the included code-blocks' codewords in the same order.

use crate::bits::BitWriter;
use crate::t1::CodedBlock;
use crate::tagtree::TagTree;

/// The code-blocks of one subband, coded, in raster order on its grid.
#[derive(Debug)]
pub(crate) struct CodedSubband {
    pub(crate) blocks_wide: usize,
    pub(crate) blocks_high: usize,
    pub(crate) blocks: Vec<CodedBlock>,
    /// `Mb` of Equation E-2: the magnitude bit-planes the subband may use.
    pub(crate) max_bitplanes: u32,
}

/// Number of coding passes, Table B.4.
fn put_passes(bits: &mut BitWriter, passes: u32) {
    match passes {
        1 => bits.put(0),
        2 => bits.put_bits(0b10, 2),
        3..=5 => bits.put_bits(0b1100 | (passes - 3), 4),
        6..=36 => {
            // Four ones, then five bits that are never all ones.
            bits.put_bits(0b1111, 4);
            bits.put_bits(passes - 6, 5);
        }
        _ => {
            bits.put_bits(0b1_1111_1111, 9);
            bits.put_bits(passes - 37, 7);
        }
    }
}

fn bit_length(n: u32) -> u32 {
    32 - n.leading_zeros()
}

/// One packet: header and body, for the subbands of one resolution level of one component.
pub(crate) fn packet(subbands: &[CodedSubband]) -> Vec<u8> {
    let mut bits = BitWriter::new();
    let any = subbands
        .iter()
        .any(|s| s.blocks.iter().any(|b| b.passes > 0));
    if !any {
        bits.put(0);
        return bits.finish();
    }
    bits.put(1);
    for s in subbands {
        if s.blocks.is_empty() {
            continue;
        }
        // Inclusion: layer 0 for a block with data, "not yet" (1) for one without.
        let inclusion: Vec<u32> = s.blocks.iter().map(|b| u32::from(b.passes == 0)).collect();
        let zero_planes: Vec<u32> = s
            .blocks
            .iter()
            .map(|b| s.max_bitplanes.saturating_sub(b.bitplanes))
            .collect();
        let mut included = TagTree::new(s.blocks_wide, s.blocks_high, &inclusion);
        let mut missing = TagTree::new(s.blocks_wide, s.blocks_high, &zero_planes);
        for (i, b) in s.blocks.iter().enumerate() {
            let (x, y) = (i % s.blocks_wide, i / s.blocks_wide);
            included.encode(&mut bits, x, y, 1);
            if b.passes == 0 {
                continue;
            }
            missing.encode(&mut bits, x, y, zero_planes[i] + 1);
            put_passes(&mut bits, b.passes);
            let fixed = 3 + bit_length(b.passes) - 1;
            let extra = bit_length(b.data.len() as u32).saturating_sub(fixed);
            for _ in 0..extra {
                bits.put(1);
            }
            bits.put(0);
            bits.put_bits(b.data.len() as u32, fixed + extra);
        }
    }
    let mut out = bits.finish();
    for s in subbands {
        for b in &s.blocks {
            out.extend_from_slice(&b.data);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_counts_follow_table_b4() {
        let text = |n| {
            let mut w = BitWriter::new();
            put_passes(&mut w, n);
            w.bits_as_text()
        };
        assert_eq!(text(1), "0");
        assert_eq!(text(2), "10");
        assert_eq!(text(3), "1100");
        assert_eq!(text(5), "1110");
        assert_eq!(text(6), "111100000");
        assert_eq!(text(36), "111111110");
        assert_eq!(text(37), "1111111110000000");
        assert_eq!(text(164), "1111111111111111");
    }
}

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

use crate::t1::CodedBlock;
use crate::tagtree::TagTree;

/// Writes packet header bits most significant first, with the bit stuffing of B.10.1: after an
/// `FF` byte, the next byte carries only seven bits (its top bit is 0).
#[derive(Debug)]
pub(crate) struct BitWriter {
    out: Vec<u8>,
    byte: u8,
    filled: u8,
    room: u8,
}

impl BitWriter {
    pub(crate) fn new() -> BitWriter {
        BitWriter {
            out: Vec::new(),
            byte: 0,
            filled: 0,
            room: 8,
        }
    }

    pub(crate) fn put(&mut self, bit: u32) {
        self.byte = (self.byte << 1) | (bit & 1) as u8;
        self.filled += 1;
        if self.filled == self.room {
            self.out.push(self.byte);
            self.room = if self.byte == 0xFF { 7 } else { 8 };
            self.byte = 0;
            self.filled = 0;
        }
    }

    /// Writes the low `n` bits of `value`, most significant first.
    pub(crate) fn put_bits(&mut self, value: u32, n: u32) {
        for i in (0..n).rev() {
            self.put(value >> i);
        }
    }

    /// Pads the last byte with zeros; a header may not end in `FF`, so the stuffed byte after one
    /// is written too (B.10.1).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            let pad = self.room - self.filled;
            self.out.push(self.byte << pad);
        }
        if self.out.last() == Some(&0xFF) {
            self.out.push(0);
        }
        self.out
    }

    /// The bits written so far as `0`/`1` text (tests only).
    #[cfg(test)]
    pub(crate) fn bits_as_text(&self) -> String {
        let mut s = String::new();
        for (i, b) in self.out.iter().enumerate() {
            let n = if i > 0 && self.out[i - 1] == 0xFF {
                7
            } else {
                8
            };
            for k in (0..n).rev() {
                s.push(if b >> k & 1 == 1 { '1' } else { '0' });
            }
        }
        for k in (0..self.filled).rev() {
            s.push(if self.byte >> k & 1 == 1 { '1' } else { '0' });
        }
        s
    }
}

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
    fn a_byte_after_ff_carries_seven_bits() {
        let mut w = BitWriter::new();
        w.put_bits(0xFF, 8);
        w.put_bits(0b111_1111, 7);
        w.put(1);
        assert_eq!(w.finish(), vec![0xFF, 0x7F, 0x80]);
    }

    #[test]
    fn a_header_never_ends_in_ff() {
        let mut w = BitWriter::new();
        w.put_bits(0xFF, 8);
        assert_eq!(w.finish(), vec![0xFF, 0x00]);
    }

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

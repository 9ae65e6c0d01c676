//! Tier-1: the embedded block coder of ITU-T T.800 Annex D, coding one code-block's quantised
//! (here: exact) wavelet coefficients bit-plane by bit-plane, most significant first, into one MQ
//! codeword (Annex C).
//!
//! Coefficients are scanned in stripes four rows high, column by column inside a stripe (D.1).
//! The first bit-plane that holds a one has a cleanup pass only; every later one has a significance
//! propagation pass (D.3.1), a magnitude refinement pass (D.3.3) and a cleanup pass (D.3.4), so a
//! block of `p` magnitude bit-planes makes `3p − 2` passes. Nothing outside the code-block counts as
//! significant, and the default mode switches are used (no bypass, no reset, no termination per
//! pass, no vertically causal contexts, no segmentation symbols): the code-block style byte of COD
//! is 0.

use crate::mq::{Context, MqEncoder};
use crate::subband::Orientation;

// A coefficient's flags: which of its eight neighbours are significant, the signs of the four
// horizontal and vertical ones, and its own state.
const SIG_N: u32 = 1 << 0;
const SIG_S: u32 = 1 << 1;
const SIG_W: u32 = 1 << 2;
const SIG_E: u32 = 1 << 3;
const SIG_NW: u32 = 1 << 4;
const SIG_NE: u32 = 1 << 5;
const SIG_SW: u32 = 1 << 6;
const SIG_SE: u32 = 1 << 7;
const NEIGHBOURS: u32 = 0xFF;
const NEG_N: u32 = 1 << 8;
const NEG_S: u32 = 1 << 9;
const NEG_W: u32 = 1 << 10;
const NEG_E: u32 = 1 << 11;
/// The coefficient is significant (its first one bit has been coded).
const SIG: u32 = 1 << 12;
/// Coded in this bit-plane's significance propagation pass (D.3.1's "visited").
const VISITED: u32 = 1 << 13;
/// Refined at least once (Table D.4 tells the first refinement from later ones).
const REFINED: u32 = 1 << 14;

/// Context labels of Annex D: 0–8 zero coding (Table D.1), 9–13 sign (Table D.3), 14–16 magnitude
/// refinement (Table D.4), 17 run-length and 18 uniform (D.3.4).
const CX_RUN: usize = 17;
const CX_UNIFORM: usize = 18;
const CONTEXTS: usize = 19;

/// The contexts' start states (Table D.7, D.4): all at state 0 with MPS 0, but the uniform context at
/// 46, the run-length context at 3 and the all-zero-neighbours zero-coding context at 4.
fn start_contexts() -> [Context; CONTEXTS] {
    let mut cx = [Context::default(); CONTEXTS];
    cx[0] = Context::starting_at(4);
    cx[CX_RUN] = Context::starting_at(3);
    cx[CX_UNIFORM] = Context::starting_at(46);
    cx
}

/// The zero-coding context (Table D.1) of a coefficient whose neighbour bits are `n`, in a subband
/// of orientation `o`.
fn zero_context(o: Orientation, n: u32) -> u8 {
    let count = |bits: &[u32]| bits.iter().filter(|&&b| n & b != 0).count() as u32;
    let h = count(&[SIG_W, SIG_E]);
    let v = count(&[SIG_N, SIG_S]);
    let d = count(&[SIG_NW, SIG_NE, SIG_SW, SIG_SE]);
    // LL and LH (vertically high-pass) favour the horizontal neighbours, HL the vertical ones.
    let (h, v) = match o {
        Orientation::HL => (v, h),
        _ => (h, v),
    };
    match o {
        Orientation::HH => match (d, h + v) {
            (3.., _) => 8,
            (2, 1..) => 7,
            (2, 0) => 6,
            (1, 2..) => 5,
            (1, 1) => 4,
            (1, 0) => 3,
            (0, 2..) => 2,
            (0, 1) => 1,
            _ => 0,
        },
        _ => match (h, v, d) {
            (2, _, _) => 8,
            (1, 1.., _) => 7,
            (1, 0, 1..) => 6,
            (1, 0, 0) => 5,
            (0, 2, _) => 4,
            (0, 1, _) => 3,
            (0, 0, 2..) => 2,
            (0, 0, 1) => 1,
            _ => 0,
        },
    }
}

/// The sign context and the bit it is XORed with (Tables D.2 and D.3) from the signs of the
/// significant horizontal and vertical neighbours.
fn sign_context(n: u32) -> (u8, u32) {
    let side = |sig: u32, neg: u32| -> i32 {
        match (n & sig != 0, n & neg != 0) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => -1,
        }
    };
    let h = (side(SIG_W, NEG_W) + side(SIG_E, NEG_E)).clamp(-1, 1);
    let v = (side(SIG_N, NEG_N) + side(SIG_S, NEG_S)).clamp(-1, 1);
    // Table D.3: the context depends on the pair up to a common sign flip, which the XOR bit undoes.
    let (h, v, xor) = if h < 0 || (h == 0 && v < 0) {
        (-h, -v, 1)
    } else {
        (h, v, 0)
    };
    let cx = match (h, v) {
        (1, 1) => 13,
        (1, 0) => 12,
        (1, -1) => 11,
        (0, 1) => 10,
        _ => 9,
    };
    (cx, xor)
}

/// Lookup tables for the contexts, built once per code-block set (they are small).
#[derive(Debug)]
pub(crate) struct Tables {
    zero: [[u8; 256]; 3],
    sign: [(u8, u8); 256],
}

impl Tables {
    pub(crate) fn new() -> Tables {
        let mut zero = [[0u8; 256]; 3];
        for (k, o) in [Orientation::LL, Orientation::HL, Orientation::HH]
            .into_iter()
            .enumerate()
        {
            for n in 0..256u32 {
                zero[k][n as usize] = zero_context(o, n);
            }
        }
        let mut sign = [(0u8, 0u8); 256];
        for i in 0..256u32 {
            // Index: the four significance bits (N, S, W, E), then their four sign bits.
            let n = (i & 0xF) | ((i >> 4) << 8);
            let (cx, xor) = sign_context(n);
            sign[i as usize] = (cx, xor as u8);
        }
        Tables { zero, sign }
    }

    fn zero_row(&self, o: Orientation) -> &[u8; 256] {
        match o {
            Orientation::LL | Orientation::LH => &self.zero[0],
            Orientation::HL => &self.zero[1],
            Orientation::HH => &self.zero[2],
        }
    }
}

/// One code-block, coded.
#[derive(Debug)]
pub(crate) struct CodedBlock {
    /// Magnitude bit-planes from the most significant one bit down (0 for an all-zero block).
    pub(crate) bitplanes: u32,
    /// Coding passes in the codeword.
    pub(crate) passes: u32,
    /// The MQ codeword of all passes (empty when `bitplanes` is 0).
    pub(crate) data: Vec<u8>,
}

/// The coder's state over one code-block: magnitudes, signs and flags, the flags with a border of
/// one on every side so that neighbours outside the block read as insignificant.
struct Block<'t> {
    width: usize,
    height: usize,
    stride: usize,
    magnitude: Vec<u32>,
    negative: Vec<bool>,
    flags: Vec<u32>,
    zero: &'t [u8; 256],
    sign: &'t [(u8, u8); 256],
    cx: [Context; CONTEXTS],
    mq: MqEncoder,
}

/// Codes the `width` × `height` coefficients `coefs` (row-major) of a code-block of a subband of
/// orientation `o`.
pub(crate) fn encode_block(
    tables: &Tables,
    coefs: &[i32],
    width: usize,
    height: usize,
    o: Orientation,
) -> CodedBlock {
    let magnitude: Vec<u32> = coefs.iter().map(|c| c.unsigned_abs()).collect();
    let max = magnitude.iter().copied().max().unwrap_or(0);
    let bitplanes = 32 - max.leading_zeros();
    if bitplanes == 0 {
        return CodedBlock {
            bitplanes: 0,
            passes: 0,
            data: Vec::new(),
        };
    }
    let stride = width + 2;
    let mut block = Block {
        width,
        height,
        stride,
        magnitude,
        negative: coefs.iter().map(|&c| c < 0).collect(),
        flags: vec![0; stride * (height + 2)],
        zero: tables.zero_row(o),
        sign: &tables.sign,
        cx: start_contexts(),
        mq: MqEncoder::new(),
    };
    block.cleanup(bitplanes - 1);
    for plane in (0..bitplanes - 1).rev() {
        block.significance_propagation(plane);
        block.magnitude_refinement(plane);
        block.cleanup(plane);
    }
    CodedBlock {
        bitplanes,
        passes: 3 * bitplanes - 2,
        data: block.mq.finish(),
    }
}

impl Block<'_> {
    /// Index into `flags` of coefficient (x, y).
    #[inline]
    fn at(&self, x: usize, y: usize) -> usize {
        (y + 1) * self.stride + x + 1
    }

    /// Calls `f(x, y)` for every coefficient in the stripe scan order of D.1.
    fn scan(&mut self, mut f: impl FnMut(&mut Self, usize, usize)) {
        for y0 in (0..self.height).step_by(4) {
            let rows = (self.height - y0).min(4);
            for x in 0..self.width {
                for y in y0..y0 + rows {
                    f(self, x, y);
                }
            }
        }
    }

    /// Codes the sign of the coefficient that just became significant and tells its neighbours.
    #[inline]
    fn become_significant(&mut self, x: usize, y: usize) {
        let i = self.at(x, y);
        let n = self.flags[i];
        let (cx, xor) = self.sign[((n & 0xF) | ((n >> 4) & 0xF0)) as usize];
        let neg = self.negative[y * self.width + x];
        self.mq
            .encode(&mut self.cx[cx as usize], u32::from(neg) ^ u32::from(xor));
        self.flags[i] |= SIG;
        let s = self.stride;
        let (nn, ns, nw, ne) = if neg {
            (NEG_N, NEG_S, NEG_W, NEG_E)
        } else {
            (0, 0, 0, 0)
        };
        // Each neighbour learns that this coefficient, on its opposite side, is significant.
        self.flags[i - s] |= SIG_S | ns;
        self.flags[i + s] |= SIG_N | nn;
        self.flags[i - 1] |= SIG_E | ne;
        self.flags[i + 1] |= SIG_W | nw;
        self.flags[i - s - 1] |= SIG_SE;
        self.flags[i - s + 1] |= SIG_SW;
        self.flags[i + s - 1] |= SIG_NE;
        self.flags[i + s + 1] |= SIG_NW;
    }

    #[inline]
    fn bit(&self, x: usize, y: usize, plane: u32) -> u32 {
        (self.magnitude[y * self.width + x] >> plane) & 1
    }

    /// Zero coding of one insignificant coefficient (D.3.1), and its sign if it becomes significant.
    #[inline]
    fn code_significance(&mut self, x: usize, y: usize, plane: u32) {
        let n = self.flags[self.at(x, y)];
        let cx = self.zero[(n & NEIGHBOURS) as usize] as usize;
        let bit = self.bit(x, y, plane);
        self.mq.encode(&mut self.cx[cx], bit);
        if bit == 1 {
            self.become_significant(x, y);
        }
    }

    /// The significance propagation pass (D.3.1): insignificant coefficients with at least one
    /// significant neighbour.
    fn significance_propagation(&mut self, plane: u32) {
        self.scan(|b, x, y| {
            let i = b.at(x, y);
            let f = b.flags[i];
            if f & SIG == 0 && f & NEIGHBOURS != 0 {
                b.code_significance(x, y, plane);
                b.flags[i] |= VISITED;
            }
        });
    }

    /// The magnitude refinement pass (D.3.3): coefficients significant before this bit-plane.
    fn magnitude_refinement(&mut self, plane: u32) {
        self.scan(|b, x, y| {
            let i = b.at(x, y);
            let f = b.flags[i];
            if f & (SIG | VISITED) == SIG {
                let cx = if f & REFINED != 0 {
                    16
                } else if f & NEIGHBOURS != 0 {
                    15
                } else {
                    14
                };
                let bit = b.bit(x, y, plane);
                b.mq.encode(&mut b.cx[cx], bit);
                b.flags[i] |= REFINED;
            }
        });
    }

    /// The cleanup pass (D.3.4): every coefficient not yet coded in this bit-plane, with run-length
    /// coding of whole stripe columns of four insignificant coefficients with no significant
    /// neighbour. Clears the visited marks for the next bit-plane.
    fn cleanup(&mut self, plane: u32) {
        for y0 in (0..self.height).step_by(4) {
            let rows = (self.height - y0).min(4);
            for x in 0..self.width {
                let mut first = y0;
                if rows == 4
                    && (y0..y0 + 4)
                        .all(|y| self.flags[self.at(x, y)] & (NEIGHBOURS | SIG | VISITED) == 0)
                {
                    match (y0..y0 + 4).find(|&y| self.bit(x, y, plane) == 1) {
                        None => {
                            self.mq.encode(&mut self.cx[CX_RUN], 0);
                            continue;
                        }
                        Some(y) => {
                            self.mq.encode(&mut self.cx[CX_RUN], 1);
                            let k = (y - y0) as u32;
                            self.mq.encode(&mut self.cx[CX_UNIFORM], k >> 1);
                            self.mq.encode(&mut self.cx[CX_UNIFORM], k & 1);
                            self.become_significant(x, y);
                            first = y + 1;
                        }
                    }
                }
                for y in first..y0 + rows {
                    let i = self.at(x, y);
                    let f = self.flags[i];
                    if f & VISITED != 0 {
                        self.flags[i] &= !VISITED;
                    } else if f & SIG == 0 {
                        self.code_significance(x, y, plane);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_coding_contexts_follow_table_d1() {
        // LL/LH: two horizontal neighbours give 8 whatever else; HL: two vertical ones do.
        assert_eq!(zero_context(Orientation::LH, SIG_W | SIG_E), 8);
        assert_eq!(zero_context(Orientation::HL, SIG_N | SIG_S), 8);
        assert_eq!(zero_context(Orientation::HL, SIG_W | SIG_E), 4);
        assert_eq!(zero_context(Orientation::LL, SIG_W | SIG_N), 7);
        assert_eq!(zero_context(Orientation::LL, SIG_W | SIG_NE), 6);
        assert_eq!(zero_context(Orientation::LL, SIG_NW), 1);
        assert_eq!(zero_context(Orientation::LL, SIG_NW | SIG_SE), 2);
        assert_eq!(zero_context(Orientation::HH, SIG_NW | SIG_NE | SIG_SW), 8);
        assert_eq!(zero_context(Orientation::HH, SIG_NW | SIG_NE | SIG_W), 7);
        assert_eq!(zero_context(Orientation::HH, SIG_NW | SIG_W | SIG_N), 5);
        assert_eq!(zero_context(Orientation::HH, SIG_N), 1);
        assert_eq!(zero_context(Orientation::HH, 0), 0);
    }

    #[test]
    fn sign_contexts_follow_tables_d2_and_d3() {
        assert_eq!(sign_context(0), (9, 0));
        assert_eq!(sign_context(SIG_W | SIG_N), (13, 0));
        assert_eq!(sign_context(SIG_W | NEG_W | SIG_N | NEG_N), (13, 1));
        assert_eq!(sign_context(SIG_W | SIG_N | NEG_N), (11, 0));
        assert_eq!(sign_context(SIG_N | NEG_N), (10, 1));
        // Opposite signs on one side cancel.
        assert_eq!(sign_context(SIG_W | SIG_E | NEG_E), (9, 0));
        assert_eq!(sign_context(SIG_W | NEG_W), (12, 1));
    }

    #[test]
    fn a_block_of_p_bitplanes_makes_3p_minus_2_passes() {
        let t = Tables::new();
        let b = encode_block(&t, &[0, 5, -3, 0], 2, 2, Orientation::HH);
        assert_eq!((b.bitplanes, b.passes), (3, 7));
        assert!(!b.data.is_empty());
        let z = encode_block(&t, &[0; 16], 4, 4, Orientation::LL);
        assert_eq!((z.bitplanes, z.passes, z.data.len()), (0, 0, 0));
    }
}

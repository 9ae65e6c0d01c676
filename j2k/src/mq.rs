//! The MQ arithmetic coder's encoder, ITU-T T.800 Annex C.2: an adaptive binary coder whose
//! probability estimates come from the 47-state Table C.2 (the same state machine as the JBIG2
//! coder), with carry resolution by bit stuffing after an `FF` byte (BYTEOUT) and a flush that
//! keeps the codeword decodable (FLUSH with SETBITS). The procedure names are those of C.2.

/// One row of Table C.2: the LPS probability estimate `Qe`, the next state after an MPS and after
/// an LPS, and whether an LPS swaps the meaning of the MPS.
struct State {
    qe: u32,
    nmps: u8,
    nlps: u8,
    switch: bool,
}

const fn s(qe: u32, nmps: u8, nlps: u8, switch: bool) -> State {
    State {
        qe,
        nmps,
        nlps,
        switch,
    }
}

/// T.800 Table C.2, indexed by the state number.
#[rustfmt::skip]
const STATES: [State; 47] = [
    s(0x5601, 1, 1, true),   s(0x3401, 2, 6, false),  s(0x1801, 3, 9, false),  s(0x0AC1, 4, 12, false),
    s(0x0521, 5, 29, false), s(0x0221, 38, 33, false), s(0x5601, 7, 6, true),  s(0x5401, 8, 14, false),
    s(0x4801, 9, 14, false), s(0x3801, 10, 14, false), s(0x3001, 11, 17, false), s(0x2401, 12, 18, false),
    s(0x1C01, 13, 20, false), s(0x1601, 29, 21, false), s(0x5601, 15, 14, true), s(0x5401, 16, 14, false),
    s(0x5101, 17, 15, false), s(0x4801, 18, 16, false), s(0x3801, 19, 17, false), s(0x3401, 20, 18, false),
    s(0x3001, 21, 19, false), s(0x2801, 22, 19, false), s(0x2401, 23, 20, false), s(0x2201, 24, 21, false),
    s(0x1C01, 25, 22, false), s(0x1801, 26, 23, false), s(0x1601, 27, 24, false), s(0x1401, 28, 25, false),
    s(0x1201, 29, 26, false), s(0x1101, 30, 27, false), s(0x0AC1, 31, 28, false), s(0x09C1, 32, 29, false),
    s(0x08A1, 33, 30, false), s(0x0521, 34, 31, false), s(0x0441, 35, 32, false), s(0x02A1, 36, 33, false),
    s(0x0221, 37, 34, false), s(0x0141, 38, 35, false), s(0x0111, 39, 36, false), s(0x0085, 40, 37, false),
    s(0x0049, 41, 38, false), s(0x0025, 42, 39, false), s(0x0015, 43, 40, false), s(0x0009, 44, 41, false),
    s(0x0005, 45, 42, false), s(0x0001, 45, 43, false), s(0x5601, 46, 46, false),
];

/// A context's adaptive state: its row of Table C.2 and its current more probable symbol.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Context {
    state: u8,
    mps: u8,
}

impl Context {
    /// A context starting in state `state` with MPS 0 (T.800 Table D.7 gives the start states).
    pub(crate) const fn starting_at(state: u8) -> Context {
        Context { state, mps: 0 }
    }
}

/// The MQ encoder's registers : interval `a`, code register `c`, the countdown `ct` to the
/// next byte out, and the bytes so far. `out[0]` stands for the byte before the codeword
/// (BPST − 1 in INITENC); it never takes a carry, because the first interval is 0x8000 wide, and it
/// is dropped when the codeword is taken.
#[derive(Debug)]
pub(crate) struct MqEncoder {
    a: u32,
    c: u32,
    ct: u32,
    out: Vec<u8>,
}

impl MqEncoder {
    /// INITENC.
    pub(crate) fn new() -> MqEncoder {
        MqEncoder {
            a: 0x8000,
            c: 0,
            ct: 12,
            out: vec![0],
        }
    }

    /// ENCODE: codes `bit` in context `cx`, with CODEMPS or CODELPS.
    #[inline]
    pub(crate) fn encode(&mut self, cx: &mut Context, bit: u32) {
        let row = &STATES[cx.state as usize];
        let qe = row.qe;
        self.a -= qe;
        if bit == u32::from(cx.mps) {
            if self.a & 0x8000 == 0 {
                // Conditional exchange: the MPS takes the larger sub-interval.
                if self.a < qe {
                    self.a = qe;
                } else {
                    self.c += qe;
                }
                cx.state = row.nmps;
                self.renormalise();
            } else {
                self.c += qe;
            }
        } else {
            if self.a < qe {
                self.c += qe;
            } else {
                self.a = qe;
            }
            if row.switch {
                cx.mps ^= 1;
            }
            cx.state = row.nlps;
            self.renormalise();
        }
    }

    /// RENORME: doubles the interval until it is at least 0x8000, shipping a byte each
    /// time eight (or seven, after `FF`) bits have left the code register.
    #[inline]
    fn renormalise(&mut self) {
        loop {
            self.a <<= 1;
            self.c <<= 1;
            self.ct -= 1;
            if self.ct == 0 {
                self.byte_out();
            }
            if self.a & 0x8000 != 0 {
                break;
            }
        }
    }

    /// BYTEOUT: a carry goes into the byte before, unless that byte is `FF`, after which
    /// only seven bits are shipped (bit stuffing), so no `FF` is ever followed by a byte above
    /// `8F` inside the codeword.
    fn byte_out(&mut self) {
        let last = self.out.len() - 1;
        if self.out[last] == 0xFF {
            self.push_seven();
        } else if self.c < 0x800_0000 {
            self.push_eight();
        } else {
            self.out[last] += 1;
            if self.out[last] == 0xFF {
                self.c &= 0x7FF_FFFF;
                self.push_seven();
            } else {
                self.push_eight();
            }
        }
    }

    fn push_seven(&mut self) {
        self.out.push((self.c >> 20) as u8);
        self.c &= 0xF_FFFF;
        self.ct = 7;
    }

    fn push_eight(&mut self) {
        self.out.push((self.c >> 19) as u8);
        self.c &= 0x7_FFFF;
        self.ct = 8;
    }

    /// FLUSH with SETBITS: sets as many low bits of the code register as stay inside the
    /// interval, ships the last two bytes, and drops a final `FF` (a decoder reads `FF`s past the
    /// end anyway). Returns the codeword.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let top = self.c + self.a;
        self.c |= 0xFFFF;
        if self.c >= top {
            self.c -= 0x8000;
        }
        self.c <<= self.ct;
        self.byte_out();
        self.c <<= self.ct;
        self.byte_out();
        if self.out.last() == Some(&0xFF) {
            self.out.pop();
        }
        self.out.remove(0);
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state's successors are states of the table, and only the equiprobable states swap.
    #[test]
    fn the_state_table_is_closed_and_swaps_only_at_one_half() {
        for (i, row) in STATES.iter().enumerate() {
            assert!((row.nmps as usize) < STATES.len() && (row.nlps as usize) < STATES.len());
            assert_eq!(row.switch, row.qe == 0x5601 && i != 46, "state {i}");
        }
    }

    #[test]
    fn a_codeword_never_has_ff_followed_by_a_byte_above_8f_nor_ends_in_ff() {
        let mut seed = 0x1234_5678u32;
        for run in 0..200 {
            let mut enc = MqEncoder::new();
            let mut cx = [Context::default(); 4];
            for i in 0..(run * 37 + 1) {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let bit = u32::from(seed % 7 < (run % 7) as u32);
                enc.encode(&mut cx[i % 4], bit);
            }
            let out = enc.finish();
            assert_ne!(out.last(), Some(&0xFF));
            for w in out.windows(2) {
                assert!(!(w[0] == 0xFF && w[1] > 0x8F), "{w:02X?}");
            }
        }
    }
}

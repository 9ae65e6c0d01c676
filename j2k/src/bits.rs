//! The bit writer of tier-2's packet headers (ITU-T T.800 B.10.1), which the tag trees
//! ([`crate::tagtree`]) and the packets ([`crate::t2`]) write into.

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
}

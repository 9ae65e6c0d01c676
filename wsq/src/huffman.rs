//! Huffman tables and the entropy-coded bit stream (JPEG-style canonical codes of at most 16 bits,
//! `FF 00` byte stuffing, restart markers `FF B0`–`FF B7`).

use crate::error::{Error, Result};

/// Longest code length the specification allows.
pub const MAX_CODE_LEN: usize = 16;

/// A table as carried in a DHT segment: how many codes of each length, and the symbols in code order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// `counts[i]` codes of length `i + 1`.
    pub counts: [u8; MAX_CODE_LEN],
    /// Symbols, shortest codes first.
    pub symbols: Vec<u8>,
}

/// Canonical code assignment: `(code, length)` for each entry of `symbols`, or why the table is bad.
fn canonical(t: &Table) -> std::result::Result<Vec<(u16, u8)>, String> {
    let total: usize = t.counts.iter().map(|&c| c as usize).sum();
    if total != t.symbols.len() {
        return Err(format!("{} symbols for {total} codes", t.symbols.len()));
    }
    let mut out = Vec::with_capacity(total);
    let mut code: u32 = 0;
    for (i, &count) in t.counts.iter().enumerate() {
        let len = i + 1;
        for _ in 0..count {
            // All ones is never a code: it would be confused with the padding before a marker.
            if code + 1 >= 1 << len {
                return Err(format!("too many codes of length {len}"));
            }
            out.push((code as u16, len as u8));
            code += 1;
        }
        code <<= 1;
    }
    Ok(out)
}

/// A table ready for decoding.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Per length: first code, last code (exclusive) and index of its first symbol.
    first: [u32; MAX_CODE_LEN + 1],
    end: [u32; MAX_CODE_LEN + 1],
    index: [usize; MAX_CODE_LEN + 1],
    symbols: Vec<u8>,
    /// Fast path: the next 8 bits give (symbol, length) when the code is at most 8 bits long.
    fast: Vec<(u8, u8)>,
}

impl Decoder {
    /// Checks a table and prepares it; `Err` carries the reason it is invalid.
    pub fn new(t: &Table) -> std::result::Result<Decoder, String> {
        let codes = canonical(t)?;
        if codes.is_empty() {
            return Err("the table has no codes".into());
        }
        let mut d = Decoder {
            first: [0; MAX_CODE_LEN + 1],
            end: [0; MAX_CODE_LEN + 1],
            index: [0; MAX_CODE_LEN + 1],
            symbols: t.symbols.clone(),
            fast: vec![(0, 0); 256],
        };
        let mut k = 0;
        for len in 1..=MAX_CODE_LEN {
            let count = t.counts[len - 1] as usize;
            if count > 0 {
                d.first[len] = codes[k].0 as u32;
                d.end[len] = codes[k].0 as u32 + count as u32;
                d.index[len] = k;
            }
            k += count;
        }
        for (&(code, len), &sym) in codes.iter().zip(&t.symbols) {
            if len <= 8 {
                let shift = 8 - len;
                let base = (code as usize) << shift;
                for slot in &mut d.fast[base..base + (1 << shift)] {
                    *slot = (sym, len);
                }
            }
        }
        Ok(d)
    }
}

/// Reader of one entropy-coded segment.
#[derive(Debug)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte to read.
    pub pos: usize,
    acc: u32,
    bits: u32,
    /// Restart markers passed.
    pub restarts: usize,
}

impl<'a> BitReader<'a> {
    /// Reads from `data[pos..]`.
    pub fn new(data: &'a [u8], pos: usize) -> BitReader<'a> {
        BitReader {
            data,
            pos,
            acc: 0,
            bits: 0,
            restarts: 0,
        }
    }

    /// Marker at `pos` (second byte), if the data there is a marker rather than coded bits.
    fn marker_here(&self) -> Option<u8> {
        match self.data.get(self.pos..self.pos + 2) {
            Some([0xFF, m]) if *m != 0 => Some(*m),
            _ => None,
        }
    }

    /// Pulls one byte into the accumulator; `false` at a marker or the end of the data.
    fn fill_byte(&mut self) -> bool {
        match self.data.get(self.pos) {
            None => false,
            Some(0xFF) => match self.data.get(self.pos + 1) {
                Some(0x00) => {
                    self.pos += 2;
                    self.acc = (self.acc << 8) | 0xFF;
                    self.bits += 8;
                    true
                }
                _ => false,
            },
            Some(&b) => {
                self.pos += 1;
                self.acc = (self.acc << 8) | b as u32;
                self.bits += 8;
                true
            }
        }
    }

    /// The buffered bits are padding (all ones, fewer than 8) and a marker follows.
    fn only_padding_left(&self) -> bool {
        self.bits < 8 && {
            let mask = (1u32 << self.bits) - 1;
            self.acc & mask == mask
        }
    }

    /// At a symbol boundary: skips restart markers (dropping the padding before them) and says
    /// whether the segment is over (padding, then a marker that is not a restart, or the end).
    pub fn at_end(&mut self) -> bool {
        loop {
            if !self.only_padding_left() {
                return false;
            }
            match self.marker_here() {
                Some(m) if (0xB0..=0xB7).contains(&m) => {
                    self.pos += 2;
                    self.acc = 0;
                    self.bits = 0;
                    self.restarts += 1;
                }
                Some(_) => return true,
                None if self.pos >= self.data.len() => return true,
                None => return false,
            }
        }
    }

    /// Next `n` (≤ 16) bits, most significant first.
    pub fn bits(&mut self, n: u32) -> Result<u32> {
        while self.bits < n {
            if !self.fill_byte() {
                return Err(Error::Truncated {
                    offset: self.pos,
                    what: "entropy-coded data",
                });
            }
        }
        self.bits -= n;
        let v = (self.acc >> self.bits) & ((1 << n) - 1);
        self.acc &= (1u32 << self.bits).wrapping_sub(1);
        Ok(v)
    }

    /// Decodes one symbol.
    pub fn symbol(&mut self, d: &Decoder) -> Result<u8> {
        if self.bits < 8 {
            while self.bits < 24 && self.fill_byte() {}
        }
        if self.bits >= 8 {
            let peek = (self.acc >> (self.bits - 8)) & 0xFF;
            let (sym, len) = d.fast[peek as usize];
            if len > 0 {
                self.bits -= len as u32;
                self.acc &= (1u32 << self.bits).wrapping_sub(1);
                return Ok(sym);
            }
        }
        let mut code = 0u32;
        for len in 1..=MAX_CODE_LEN {
            code = (code << 1) | self.bits(1)?;
            if code >= d.first[len] && code < d.end[len] {
                return Ok(d.symbols[d.index[len] + (code - d.first[len]) as usize]);
            }
        }
        Err(Error::Invalid {
            segment: "entropy-coded data",
            offset: self.pos,
            reason: "a bit sequence that is no code of the Huffman table".into(),
        })
    }
}

/// Writer of entropy-coded data with byte stuffing.
#[derive(Debug, Default)]
pub struct BitWriter {
    /// Bytes written so far.
    pub out: Vec<u8>,
    acc: u32,
    bits: u32,
}

impl BitWriter {
    /// Appends the low `n` (≤ 16) bits of `v`.
    pub fn put(&mut self, v: u32, n: u32) {
        self.acc = (self.acc << n) | (v & ((1 << n) - 1));
        self.bits += n;
        while self.bits >= 8 {
            self.bits -= 8;
            let b = (self.acc >> self.bits) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0x00);
            }
            self.acc &= (1u32 << self.bits).wrapping_sub(1);
        }
    }

    /// Pads the last byte with ones.
    pub fn flush(&mut self) {
        if self.bits > 0 {
            let n = 8 - self.bits;
            self.put((1 << n) - 1, n);
        }
    }
}

/// Encoding side of a table: code and length per symbol.
#[derive(Debug, Clone)]
pub struct Encoder {
    codes: Vec<(u16, u8)>,
}

impl Encoder {
    /// Code of each symbol of a valid table.
    pub fn new(t: &Table) -> Encoder {
        let mut codes = vec![(0, 0); 256];
        for (&(code, len), &sym) in canonical(t)
            .expect("tables built here are valid")
            .iter()
            .zip(&t.symbols)
        {
            codes[sym as usize] = (code, len);
        }
        Encoder { codes }
    }

    /// Writes `sym`, which must have a code.
    pub fn put(&self, w: &mut BitWriter, sym: u8) {
        let (code, len) = self.codes[sym as usize];
        debug_assert!(len > 0, "symbol {sym} has no code");
        w.put(code as u32, len as u32);
    }
}

/// An optimal table of codes of at most 16 bits for symbol frequencies `freq` (symbols 0–255).
///
/// Code lengths come from a Huffman tree; lengths over 16 are brought down by the length-limiting
/// adjustment of JPEG (ITU-T T.81 Annex K.3), and one code point of the longest length stays unused so
/// that no code is all ones.
pub fn optimal(freq: &[u64; 256]) -> Table {
    // Symbol 256 is a placeholder with the smallest weight: its code (all ones) is dropped.
    let mut weight: Vec<u64> = freq.to_vec();
    weight.push(1);
    let mut length = vec![0usize; 257];
    // Plain Huffman by repeated merging of the two lightest trees.
    let mut trees: Vec<(u64, Vec<usize>)> = weight
        .iter()
        .enumerate()
        .filter(|(_, &w)| w > 0)
        .map(|(s, &w)| (w, vec![s]))
        .collect();
    if trees.len() == 1 {
        length[trees[0].1[0]] = 1;
    }
    while trees.len() > 1 {
        trees.sort_by_key(|t| std::cmp::Reverse(t.0));
        let (w1, s1) = trees.pop().expect("two trees");
        let (w2, s2) = trees.pop().expect("two trees");
        for &s in s1.iter().chain(&s2) {
            length[s] += 1;
        }
        let mut merged = s1;
        merged.extend(s2);
        trees.push((w1 + w2, merged));
    }
    let mut bits = [0usize; 64];
    for &l in &length {
        if l > 0 {
            bits[l] += 1;
        }
    }
    // T.81 K.3: move pairs of codes from too-long lengths up the tree.
    let mut i = 63;
    while i > MAX_CODE_LEN {
        while bits[i] > 0 {
            let mut j = i - 2;
            while bits[j] == 0 {
                j -= 1;
            }
            bits[i] -= 2;
            bits[i - 1] += 1;
            bits[j + 1] += 2;
            bits[j] -= 1;
        }
        i -= 1;
    }
    // Drop the placeholder: it holds one of the longest codes.
    let mut longest = MAX_CODE_LEN;
    while bits[longest] == 0 {
        longest -= 1;
    }
    bits[longest] -= 1;
    // Symbols by decreasing frequency get the lengths in increasing order.
    let mut order: Vec<usize> = (0..256).filter(|&s| freq[s] > 0).collect();
    order.sort_by(|&a, &b| freq[b].cmp(&freq[a]).then(a.cmp(&b)));
    let mut counts = [0u8; MAX_CODE_LEN];
    let mut symbols = Vec::with_capacity(order.len());
    let mut next = order.into_iter();
    for len in 1..=MAX_CODE_LEN {
        counts[len - 1] = bits[len] as u8;
        for _ in 0..bits[len] {
            symbols.push(next.next().expect("as many codes as symbols") as u8);
        }
    }
    Table { counts, symbols }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimal_tables_round_trip_every_symbol_and_respect_16_bits() {
        // Fibonacci-like frequencies force a deep tree that must be limited.
        let mut freq = [0u64; 256];
        let (mut a, mut b) = (1u64, 1u64);
        for f in freq.iter_mut().take(40) {
            *f = a;
            (a, b) = (b, a + b);
        }
        freq[200] = 5;
        let t = optimal(&freq);
        let dec = Decoder::new(&t).expect("valid table");
        assert!(t.counts.iter().map(|&c| c as usize).sum::<usize>() == 41);
        let enc = Encoder::new(&t);
        let mut w = BitWriter::default();
        let syms: Vec<u8> = (0..40).chain([200, 0, 39, 7]).collect();
        for &s in &syms {
            enc.put(&mut w, s);
        }
        w.flush();
        w.out.extend([0xFF, 0xA1]);
        let mut r = BitReader::new(&w.out, 0);
        for &s in &syms {
            assert!(!r.at_end());
            assert_eq!(r.symbol(&dec).unwrap(), s);
        }
        assert!(r.at_end());
    }

    #[test]
    fn an_oversubscribed_table_is_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 2; // two 1-bit codes leave none for anything else: all-ones is reserved
        assert!(Decoder::new(&Table {
            counts,
            symbols: vec![1, 2]
        })
        .is_err());
    }

    #[test]
    fn single_symbol_tables_work() {
        let mut freq = [0u64; 256];
        freq[180] = 9;
        let t = optimal(&freq);
        let d = Decoder::new(&t).unwrap();
        let mut w = BitWriter::default();
        Encoder::new(&t).put(&mut w, 180);
        w.flush();
        assert_eq!(BitReader::new(&w.out, 0).symbol(&d).unwrap(), 180);
    }
}

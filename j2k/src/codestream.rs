//! The codestream's marker segments (ITU-T T.800 Annex A): SOC, SIZ, COD, QCD in the main header,
//! then one tile-part (SOT, SOD, the packets) and EOC.

/// Marker codes (A.4, A.5, A.6).
const SOC: u16 = 0xFF4F;
const SIZ: u16 = 0xFF51;
const COD: u16 = 0xFF52;
const QCD: u16 = 0xFF5C;
const SOT: u16 = 0xFF90;
const SOD: u16 = 0xFF93;
const EOC: u16 = 0xFFD9;

/// What the main header says about the image and its coding.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) components: u16,
    /// The reversible colour transform is applied to components 0–2 (COD's SGcod, A.6.1).
    pub(crate) colour_transform: bool,
    pub(crate) levels: u8,
    pub(crate) guard_bits: u8,
    /// εb per subband, in QCD order: LL, then HL, LH, HH per level, coarsest first.
    pub(crate) exponents: Vec<u8>,
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// SOC, SIZ (A.5.1), COD (A.6.1) and QCD (A.6.4).
pub(crate) fn main_header(h: &Header) -> Vec<u8> {
    let mut out = Vec::new();
    put16(&mut out, SOC);

    // SIZ: no capability beyond Part 1 (Rsiz 0), the image and a single tile at the origin, each
    // component unsigned 8-bit (Ssiz = depth − 1) and not subsampled.
    put16(&mut out, SIZ);
    put16(&mut out, 38 + 3 * h.components);
    put16(&mut out, 0);
    for v in [h.width, h.height, 0, 0, h.width, h.height, 0, 0] {
        put32(&mut out, v);
    }
    put16(&mut out, h.components);
    for _ in 0..h.components {
        out.extend_from_slice(&[7, 1, 1]);
    }

    // COD: default precincts (Scod 0), LRCP, one layer, the colour transform or not; the number of
    // decomposition levels, 64 × 64 code-blocks (exponents − 2), code-block style 0, and the
    // reversible 5/3 filter (transformation 1).
    put16(&mut out, COD);
    put16(&mut out, 12);
    out.push(0);
    out.push(0);
    put16(&mut out, 1);
    out.push(u8::from(h.colour_transform));
    out.extend_from_slice(&[h.levels, 4, 4, 0, 1]);

    // QCD: no quantisation (Sqcd's low five bits 0) with the guard bits in its top three; then one
    // byte per subband, its exponent in the top five bits (A.6.4).
    put16(&mut out, QCD);
    put16(&mut out, 3 + h.exponents.len() as u16);
    out.push(h.guard_bits << 5);
    out.extend(h.exponents.iter().map(|e| e << 3));
    out
}

/// The single tile-part (A.4.2: SOT with Psot counting from SOT's first byte to the end of the
/// data, tile 0, part 0 of 1), SOD, the packets, then EOC.
pub(crate) fn tile_and_end(out: &mut Vec<u8>, packets: &[Vec<u8>]) {
    let data: usize = packets.iter().map(Vec::len).sum();
    put16(out, SOT);
    put16(out, 10);
    put16(out, 0);
    put32(out, (12 + 2 + data) as u32);
    out.extend_from_slice(&[0, 1]);
    put16(out, SOD);
    for p in packets {
        out.extend_from_slice(p);
    }
    put16(out, EOC);
}

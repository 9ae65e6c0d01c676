//! A JPEG 2000 **lossless** encoder in safe Rust, for the finger and face images of ISO/IEC 19794
//! records: 8-bit greyscale or 8-bit RGB pixels in, a Part 1 codestream (ITU-T Rec. T.800 |
//! ISO/IEC 15444-1) or a JP2 file out, which any conforming decoder turns back into exactly the
//! same pixels.
//!
//! What it writes, and the clause of T.800 each module implements:
//!
//! | step | module | T.800 |
//! |---|---|---|
//! | DC level shift, reversible colour transform (RGB) | `colour` | G.1, G.2 |
//! | reversible 5/3 integer wavelet, up to five levels | `dwt` | F.4 |
//! | subbands and 64 × 64 code-blocks, one tile, one precinct per resolution | `subband` | B.5–B.7 |
//! | bit-plane coding: significance, refinement and cleanup passes | `t1` | D |
//! | the MQ arithmetic coder | `mq` | C.2 |
//! | tag trees | `tagtree` | B.10.2 |
//! | packets: one layer, LRCP order | `t2` | B.9, B.10, B.12 |
//! | SOC, SIZ, COD, QCD, SOT, SOD, EOC | `codestream` | A |
//! | the JP2 boxes | `jp2` | I |
//!
//! No quantisation: the coefficients are coded exactly, with the exponents of QCD from each
//! subband's nominal dynamic range (E.1: 8 bits plus the subband's gain) and as many guard bits as
//! the largest coefficient needs.
//!
//! ```
//! let pixels = vec![200u8; 40 * 30];
//! let jp2 = jemput_j2k::encode(40, 30, jemput_j2k::Colour::Grey, &pixels, jemput_j2k::Container::Jp2)?;
//! assert_eq!(&jp2[4..8], b"jP  ");
//! # Ok::<(), jemput_j2k::Error>(())
//! ```
#![forbid(unsafe_code)]

mod bits;
mod codestream;
mod colour;
mod dwt;
mod jp2;
mod mq;
mod subband;
mod t1;
mod t2;
mod tagtree;

use codestream::Header;
use subband::{Subband, BLOCK};
use t1::Tables;
use t2::CodedSubband;

/// Largest image the encoder takes (pixels): 64 megapixels, like the WSQ codec.
pub const MAX_PIXELS: usize = 64 << 20;

/// The pixels' colour: one 8-bit sample per pixel, or three (R, G, B) interleaved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// 8-bit greyscale.
    Grey,
    /// 8-bit RGB, coded through the reversible colour transform.
    Rgb,
}

impl Colour {
    fn samples(self) -> usize {
        match self {
            Colour::Grey => 1,
            Colour::Rgb => 3,
        }
    }
}

/// What the bytes are: a bare codestream (`.j2k`, starting `FF 4F FF 51`) or a JP2 file (`.jp2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// The codestream alone (T.800 Annex A).
    Codestream,
    /// The codestream in a JP2 file (T.800 Annex I).
    Jp2,
}

/// Why an image could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A side of zero pixels.
    #[error("a JPEG 2000 image needs at least one pixel; got {width} × {height}")]
    Empty {
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
    },
    /// More pixels than [`MAX_PIXELS`].
    #[error("image of {width} × {height} pixels refused: more than {MAX_PIXELS} pixels")]
    TooLarge {
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
    },
    /// The pixel buffer does not match the size and colour.
    #[error("{got} bytes of pixels for a {width} × {height} image that needs {expected}")]
    Length {
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
        /// Bytes the image needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
}

/// Encodes a `width` × `height` image, rows top to bottom, losslessly.
pub fn encode(
    width: u32,
    height: u32,
    colour: Colour,
    pixels: &[u8],
    container: Container,
) -> Result<Vec<u8>, Error> {
    if width == 0 || height == 0 {
        return Err(Error::Empty { width, height });
    }
    let (w, h) = (width as usize, height as usize);
    if w.saturating_mul(h) > MAX_PIXELS {
        return Err(Error::TooLarge { width, height });
    }
    let expected = w * h * colour.samples();
    if pixels.len() != expected {
        return Err(Error::Length {
            width,
            height,
            expected,
            got: pixels.len(),
        });
    }
    let mut planes = match colour {
        Colour::Grey => vec![colour::grey(pixels)],
        Colour::Rgb => colour::rgb(pixels).into(),
    };
    let levels = subband::levels_for(w, h);
    for plane in &mut planes {
        dwt::forward(plane, w, h, levels);
    }
    let resolutions = subband::resolutions(w, h, levels);

    // Tier-1 on every code-block: [component][resolution][subband].
    let tables = Tables::new();
    let mut coded: Vec<Vec<Vec<CodedSubband>>> = planes
        .iter()
        .map(|plane| {
            resolutions
                .iter()
                .map(|bands| {
                    bands
                        .iter()
                        .map(|b| code_subband(&tables, plane, w, b))
                        .collect()
                })
                .collect()
        })
        .collect();

    // QCD: εb = 8 + the subband's gain bits (E.1, the nominal range of 8-bit samples), and guard
    // bits enough for the largest coefficient of any component: Mb = G + εb − 1 (E-2) must cover
    // every code-block's bit-planes. The 5/3 filters' worst-case gain over five levels (the sum
    // of the absolute taps of the equivalent filters) is under 1.6 bits for LL, 2.3 for HL and
    // LH, 3 for HH, and the RCT's colour differences have one bit more than the samples, so no
    // image needs more than G = 4, well within the 3 bits of the field.
    let exponents: Vec<u8> = resolutions
        .iter()
        .flatten()
        .map(|b| 8 + b.orientation.gain_bits())
        .collect();
    let mut guard_bits = 2u32;
    for comp in &coded {
        for (s, e) in comp.iter().flatten().zip(&exponents) {
            let needed = s.blocks.iter().map(|b| b.bitplanes).max().unwrap_or(0);
            guard_bits = guard_bits.max((needed + 1).saturating_sub(u32::from(*e)));
        }
    }
    debug_assert!(guard_bits <= 7, "8-bit samples need at most 7 guard bits");
    let guard_bits = guard_bits.min(7);
    for comp in &mut coded {
        for (s, e) in comp.iter_mut().flatten().zip(&exponents) {
            s.max_bitplanes = guard_bits + u32::from(*e) - 1;
        }
    }

    // Tier-2, LRCP: resolution levels outermost, then components (one layer, one precinct).
    let mut packets = Vec::new();
    for r in 0..resolutions.len() {
        for comp in &coded {
            packets.push(t2::packet(&comp[r]));
        }
    }
    let header = Header {
        width,
        height,
        components: planes.len() as u16,
        colour_transform: colour == Colour::Rgb,
        levels: levels as u8,
        guard_bits: guard_bits as u8,
        exponents,
    };
    let mut out = codestream::main_header(&header);
    codestream::tile_and_end(&mut out, &packets);
    Ok(match container {
        Container::Codestream => out,
        Container::Jp2 => jp2::wrap(&out, width, height, header.components),
    })
}

/// Codes every code-block of one subband of a transformed `plane` of row length `width`.
fn code_subband(tables: &Tables, plane: &[i32], width: usize, band: &Subband) -> CodedSubband {
    let (bw, bh) = band.blocks();
    let mut blocks = Vec::with_capacity(bw * bh);
    let mut coefs = Vec::with_capacity(BLOCK * BLOCK);
    for by in 0..bh {
        for bx in 0..bw {
            let (x0, y0) = (bx * BLOCK, by * BLOCK);
            let cw = (band.width - x0).min(BLOCK);
            let ch = (band.height - y0).min(BLOCK);
            coefs.clear();
            for y in 0..ch {
                let row = (band.y0 + y0 + y) * width + band.x0 + x0;
                coefs.extend_from_slice(&plane[row..row + cw]);
            }
            blocks.push(t1::encode_block(tables, &coefs, cw, ch, band.orientation));
        }
    }
    CodedSubband {
        blocks_wide: bw,
        blocks_high: bh,
        blocks,
        max_bitplanes: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_sizes_are_refused() {
        assert_eq!(
            encode(0, 5, Colour::Grey, &[], Container::Codestream),
            Err(Error::Empty {
                width: 0,
                height: 5
            })
        );
        assert!(matches!(
            encode(2, 2, Colour::Rgb, &[0; 4], Container::Jp2),
            Err(Error::Length {
                expected: 12,
                got: 4,
                ..
            })
        ));
        assert!(matches!(
            encode(1 << 14, 1 << 14, Colour::Grey, &[], Container::Jp2),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn the_codestream_starts_with_soc_siz_and_ends_with_eoc() {
        let out = encode(
            3,
            2,
            Colour::Grey,
            &[1, 2, 3, 4, 5, 6],
            Container::Codestream,
        )
        .unwrap();
        assert_eq!(&out[..4], &[0xFF, 0x4F, 0xFF, 0x51]);
        assert_eq!(&out[out.len() - 2..], &[0xFF, 0xD9]);
    }
}

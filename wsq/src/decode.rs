//! The decoder: markers and segments, entropy decoding, dequantisation, inverse transform.

use crate::error::{Error, Result};
use crate::huffman::{self, BitReader, Table};
use crate::transform::{self, FilterPair, Filters, Plane};
use crate::tree::{Layout, CODED_SUBBANDS, SUBBANDS};
use crate::{marker, Image, MAX_PIXELS, MAX_RATIO};

/// The quantisation table of a DQT segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantization {
    /// Bin centre `C` (0.44 in the reference encoder).
    pub bin_center: f32,
    /// Bin width `Q` per subband; 0 means the subband is not coded.
    pub q: [f32; SUBBANDS],
    /// Zero-bin width `Z` per subband.
    pub z: [f32; SUBBANDS],
}

/// The frame header (SOF).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Black level `A` and white level `B` (informative).
    pub black: u8,
    /// White level.
    pub white: u8,
    /// Image height.
    pub height: u16,
    /// Image width.
    pub width: u16,
    /// Shift `M` added back after the inverse transform.
    pub shift: f32,
    /// Scale `R` the transformed image was divided by.
    pub scale: f32,
    /// Encoder number (2 for the FBI's).
    pub encoder: u8,
    /// Software implementation number.
    pub software: u16,
}

/// Everything a decode gives besides the pixels.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The image (ppi from the `NIST_COM` comment when there is one).
    pub image: Image,
    /// The frame header.
    pub frame: Frame,
    /// Comment segments, in file order.
    pub comments: Vec<Vec<u8>>,
    /// The restart interval of the last DRT segment, if any.
    pub restart_interval: Option<u16>,
    /// Restart markers met in the coded data.
    pub restarts: usize,
}

/// Scaled value `raw / 10^exp`.
pub(crate) fn unscale(raw: u32, exp: u8) -> f64 {
    raw as f64 / 10f64.powi(exp as i32)
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn u8(&mut self, what: &'static str) -> Result<u8> {
        let b = *self.data.get(self.pos).ok_or(Error::Truncated {
            offset: self.pos,
            what,
        })?;
        self.pos += 1;
        Ok(b)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from(self.u8(what)?) << 8 | u16::from(self.u8(what)?))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from(self.u16(what)?) << 16 | u32::from(self.u16(what)?))
    }
}

fn invalid(segment: &'static str, offset: usize, reason: impl Into<String>) -> Error {
    Error::Invalid {
        segment,
        offset,
        reason: reason.into(),
    }
}

/// Reads a segment's length field and returns the segment body as its own cursor.
fn segment<'a>(c: &mut Cursor<'a>, name: &'static str) -> Result<Cursor<'a>> {
    let start = c.pos;
    let len = c.u16(name)? as usize;
    if len < 2 {
        return Err(invalid(name, start, format!("length {len} is below 2")));
    }
    let end = start + len;
    if end > c.data.len() {
        return Err(Error::Truncated {
            offset: c.data.len(),
            what: name,
        });
    }
    c.pos = end;
    Ok(Cursor {
        data: &c.data[..end],
        pos: start + 2,
    })
}

fn expect_end(c: &Cursor, name: &'static str) -> Result<()> {
    if c.pos != c.data.len() {
        return Err(invalid(
            name,
            c.pos,
            format!("{} bytes left over at the end", c.data.len() - c.pos),
        ));
    }
    Ok(())
}

fn read_dtt(mut c: Cursor) -> Result<Filters> {
    let at = c.pos;
    let lo_len = c.u8("DTT")? as usize;
    let hi_len = c.u8("DTT")? as usize;
    transform::check_lengths(lo_len, hi_len).map_err(|r| invalid("DTT", at, r))?;
    let mut read = |n: usize| -> Result<Vec<f64>> {
        (0..n.div_ceil(2))
            .map(|_| {
                let at = c.pos;
                let sign = c.u8("DTT")?;
                let exp = c.u8("DTT")?;
                let raw = c.u32("DTT")?;
                let v = unscale(raw, exp);
                match sign {
                    0 => Ok(v),
                    1 => Ok(-v),
                    s => Err(invalid(
                        "DTT",
                        at,
                        format!("sign byte {s} is neither 0 nor 1"),
                    )),
                }
            })
            .collect()
    };
    let lo = read(lo_len)?;
    let hi = read(hi_len)?;
    expect_end(&c, "DTT")?;
    let pair = FilterPair::new(lo_len, hi_len, lo, hi).map_err(|r| invalid("DTT", at, r))?;
    Ok(pair.filters())
}

fn read_dqt(mut c: Cursor) -> Result<Quantization> {
    let exp = c.u8("DQT")?;
    let raw = c.u16("DQT")?;
    let mut q = Quantization {
        bin_center: unscale(raw.into(), exp) as f32,
        q: [0.0; SUBBANDS],
        z: [0.0; SUBBANDS],
    };
    for k in 0..SUBBANDS {
        let e = c.u8("DQT")?;
        q.q[k] = unscale(c.u16("DQT")?.into(), e) as f32;
        let e = c.u8("DQT")?;
        q.z[k] = unscale(c.u16("DQT")?.into(), e) as f32;
    }
    expect_end(&c, "DQT")?;
    Ok(q)
}

fn read_dht(mut c: Cursor, tables: &mut [Option<huffman::Decoder>; 8]) -> Result<()> {
    while c.pos < c.data.len() {
        let at = c.pos;
        let id = c.u8("DHT")? as usize;
        if id >= tables.len() {
            return Err(invalid("DHT", at, format!("table number {id} above 7")));
        }
        let mut counts = [0u8; 16];
        for n in &mut counts {
            *n = c.u8("DHT")?;
        }
        let total: usize = counts.iter().map(|&n| n as usize).sum();
        if total > 256 {
            return Err(invalid("DHT", at, format!("{total} codes for 256 symbols")));
        }
        let symbols = (0..total)
            .map(|_| c.u8("DHT"))
            .collect::<Result<Vec<u8>>>()?;
        let table = Table { counts, symbols };
        tables[id] = Some(huffman::Decoder::new(&table).map_err(|r| invalid("DHT", at, r))?);
    }
    Ok(())
}

fn read_sof(mut c: Cursor, input_len: usize) -> Result<Frame> {
    let f = Frame {
        black: c.u8("SOF")?,
        white: c.u8("SOF")?,
        height: c.u16("SOF")?,
        width: c.u16("SOF")?,
        shift: {
            let e = c.u8("SOF")?;
            unscale(c.u16("SOF")?.into(), e) as f32
        },
        scale: {
            let e = c.u8("SOF")?;
            unscale(c.u16("SOF")?.into(), e) as f32
        },
        encoder: c.u8("SOF")?,
        software: c.u16("SOF")?,
    };
    expect_end(&c, "SOF")?;
    let (w, h) = (u32::from(f.width), u32::from(f.height));
    let pixels = w as usize * h as usize;
    if pixels == 0 {
        return Err(invalid("SOF", c.pos, format!("image of {w} × {h} pixels")));
    }
    if pixels > MAX_PIXELS {
        return Err(Error::TooLarge {
            width: w,
            height: h,
            reason: "more pixels than the decoder's limit",
        });
    }
    if pixels > input_len.saturating_mul(MAX_RATIO) {
        return Err(Error::TooLarge {
            width: w,
            height: h,
            reason: "far more pixels than the file could describe",
        });
    }
    Ok(f)
}

/// Decodes a WSQ file.
pub fn decode(data: &[u8]) -> Result<Decoded> {
    if data.len() < 2 || data[0] != 0xFF || data[1] != marker::SOI {
        return Err(Error::NotWsq);
    }
    let mut c = Cursor { data, pos: 2 };
    let mut filters = None;
    let mut quant = None;
    let mut frame: Option<Frame> = None;
    let mut tables: [Option<huffman::Decoder>; 8] = Default::default();
    let mut comments = Vec::new();
    let mut restart_interval = None;
    let mut restarts = 0;
    // Quantised coefficients of the coded subbands, in coding order, across all blocks.
    let mut coeffs: Vec<i32> = Vec::new();
    let mut expected = 0usize;
    let mut blocks = 0usize;
    loop {
        let at = c.pos;
        let ff = c.u8("a marker")?;
        let m = c.u8("a marker")?;
        if ff != 0xFF {
            return Err(invalid(
                "marker",
                at,
                format!("{ff:02X} where a marker was due"),
            ));
        }
        if blocks > 0 && matches!(m, marker::DTT | marker::DQT) {
            // The coefficient count and the reconstruction rest on the tables of the first block.
            return Err(invalid(
                "file",
                at,
                "a transform or quantisation table after coded data began",
            ));
        }
        match m {
            marker::EOI => break,
            marker::COM => comments.push(segment(&mut c, "COM")?.data[at + 4..].to_vec()),
            marker::DTT => filters = Some(read_dtt(segment(&mut c, "DTT")?)?),
            marker::DQT => quant = Some(read_dqt(segment(&mut c, "DQT")?)?),
            marker::DHT => read_dht(segment(&mut c, "DHT")?, &mut tables)?,
            marker::DRT => {
                let mut s = segment(&mut c, "DRT")?;
                restart_interval = Some(s.u16("DRT")?);
                expect_end(&s, "DRT")?;
            }
            marker::SOF if frame.is_none() => {
                let f = read_sof(segment(&mut c, "SOF")?, data.len())?;
                frame = Some(f);
            }
            marker::SOB => {
                let mut s = segment(&mut c, "SOB")?;
                let id = s.u8("SOB")? as usize;
                expect_end(&s, "SOB")?;
                let (Some(f), Some(q), Some(_)) = (&frame, &quant, &filters) else {
                    return Err(invalid(
                        "SOB",
                        at,
                        "a block before the frame header, transform table or quantisation table",
                    ));
                };
                let table = tables.get(id).and_then(Option::as_ref).ok_or_else(|| {
                    invalid("SOB", at, format!("Huffman table {id} was never defined"))
                })?;
                if blocks == 0 {
                    let layout = Layout::new(f.width.into(), f.height.into());
                    expected = (0..CODED_SUBBANDS)
                        .filter(|&k| q.q[k] > 0.0)
                        .map(|k| layout.bands[k].w * layout.bands[k].h)
                        .sum();
                    coeffs.reserve(expected);
                }
                blocks += 1;
                let mut r = BitReader::new(data, c.pos);
                read_block(&mut r, table, &mut coeffs, expected)?;
                restarts += r.restarts;
                c.pos = r.pos;
            }
            other => {
                return Err(Error::UnexpectedMarker {
                    marker: other,
                    offset: at,
                })
            }
        }
    }
    let (Some(frame), Some(quant), Some(filters)) = (frame, quant, filters) else {
        return Err(invalid(
            "file",
            c.pos,
            "it ends without a frame header, transform table or quantisation table",
        ));
    };
    if coeffs.len() != expected || blocks == 0 {
        return Err(invalid(
            "file",
            c.pos,
            format!(
                "{} coefficients coded where the tables call for {expected}",
                coeffs.len()
            ),
        ));
    }
    let image = reconstruct(&frame, &quant, &filters, &coeffs);
    let ppi = crate::nist_com_ppi(&comments);
    Ok(Decoded {
        image: Image {
            width: frame.width.into(),
            height: frame.height.into(),
            ppi,
            pixels: image,
        },
        frame,
        comments,
        restart_interval,
        restarts,
    })
}

/// Decodes the symbols of one block, appending coefficients.
fn read_block(
    r: &mut BitReader,
    table: &huffman::Decoder,
    out: &mut Vec<i32>,
    expected: usize,
) -> Result<()> {
    let too_many = |r: &BitReader| {
        invalid(
            "entropy-coded data",
            r.pos,
            format!("more coefficients than the {expected} the tables call for"),
        )
    };
    while !r.at_end() {
        let sym = r.symbol(table)?;
        let mut zeros = 0usize;
        let mut value = None;
        match sym {
            1..=100 => zeros = sym as usize,
            101 => value = Some(r.bits(8)? as i32),
            102 => value = Some(-(r.bits(8)? as i32)),
            103 => value = Some(r.bits(16)? as i32),
            104 => value = Some(-(r.bits(16)? as i32)),
            105 => zeros = r.bits(8)? as usize,
            106 => zeros = r.bits(16)? as usize,
            107..=254 => value = Some(sym as i32 - 180),
            _ => {
                return Err(invalid(
                    "entropy-coded data",
                    r.pos,
                    format!("symbol {sym} has no meaning in WSQ"),
                ))
            }
        }
        if let Some(v) = value {
            if out.len() >= expected {
                return Err(too_many(r));
            }
            out.push(v);
        } else {
            if out.len() + zeros > expected {
                return Err(too_many(r));
            }
            out.resize(out.len() + zeros, 0);
        }
    }
    Ok(())
}

/// Dequantises, inverse-transforms, shifts and scales back to 8-bit pixels.
fn reconstruct(frame: &Frame, quant: &Quantization, filters: &Filters, coeffs: &[i32]) -> Vec<u8> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let layout = Layout::new(w, h);
    let mut plane = vec![0f32; w * h];
    let c = quant.bin_center;
    let mut next = coeffs.iter();
    for k in 0..CODED_SUBBANDS {
        let (q, z) = (quant.q[k], quant.z[k]);
        if q <= 0.0 {
            continue;
        }
        let b = layout.bands[k];
        for y in b.y..b.y + b.h {
            for v in &mut plane[y * w + b.x..y * w + b.x + b.w] {
                // The count was checked against the tables; a shortfall would read as zeros.
                let p = next.next().copied().unwrap_or(0) as f32;
                *v = if p > 0.0 {
                    (p - c) * q + z / 2.0
                } else if p < 0.0 {
                    (p + c) * q - z / 2.0
                } else {
                    0.0
                };
            }
        }
    }
    transform::inverse(
        filters,
        &layout,
        &mut Plane {
            data: &mut plane,
            width: w,
        },
    );
    plane
        .iter()
        .map(|&v| (v * frame.scale + frame.shift).round().clamp(0.0, 255.0) as u8)
        .collect()
}

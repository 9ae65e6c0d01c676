//! The pixels of a record's image, for jemput's own checks (fingerprint quality, face checks) and
//! for the WSQ file a packet keeps: WSQ through `jemput-wsq`, JPEG and PNG through `image`, JPEG
//! 2000 through `jpeg2k` over `openjp2` (`docs/iso19794.md` §5.1). Every decoder is told the size
//! the record's header gives before it allocates anything, and must produce exactly that size.

use image::{GrayImage, RgbImage};

use super::{FaceImage, FingerImage, ImageFormat, IsoError};

/// The most pixels jemput decodes from one representation (a 1000 ppi four-finger slap is about
/// 10 million, a 24-megapixel portrait 24 million).
pub const MAX_PIXELS: u64 = 40_000_000;

/// Decoded samples: one (grey) or three (RGB) 8-bit channels, row-major.
enum Decoded {
    Grey(GrayImage),
    Rgb(RgbImage),
}

impl FingerImage {
    /// The image as 8-bit grey pixels, `width` × `height` as the header says.
    pub fn grey_pixels(&self) -> Result<GrayImage, IsoError> {
        let (w, h) = (u32::from(self.width), u32::from(self.height));
        match self.format {
            ImageFormat::Raw | ImageFormat::RawPacked => {
                if self.bit_depth != 8 {
                    return Err(IsoError::Unsupported(format!(
                        "a raw finger image of bit depth {} (jemput reads 8-bit raw images)",
                        self.bit_depth
                    )));
                }
                check_size(self.format, w, h)?;
                let expected = w as usize * h as usize;
                GrayImage::from_raw(w, h, self.image.clone()).ok_or(IsoError::Image {
                    format: self.format.name(),
                    message: format!(
                        "{} bytes for a {w} × {h} image of one byte a pixel ({expected} needed)",
                        self.image.len()
                    ),
                })
            }
            ImageFormat::Wsq => {
                check_size(self.format, w, h)?;
                let d = jemput_wsq::decode(&self.image).map_err(|e| IsoError::Image {
                    format: "wsq",
                    message: e.to_string(),
                })?;
                let img = d.image;
                check_decoded(self.format, (img.width, img.height), (w, h))?;
                GrayImage::from_raw(img.width, img.height, img.pixels).ok_or(IsoError::Image {
                    format: "wsq",
                    message: "the decoder returned fewer pixels than its size".into(),
                })
            }
            _ => Ok(match decode_other(self.format, &self.image, w, h)? {
                Decoded::Grey(g) => g,
                Decoded::Rgb(rgb) => image::DynamicImage::ImageRgb8(rgb).to_luma8(),
            }),
        }
    }

    /// The image as a WSQ file at `bitrate` with its resolution, as a packet keeps a finger:
    /// the record's own WSQ when it is WSQ already (after checking it decodes to the header's
    /// size), otherwise the decoded pixels compressed.
    pub fn to_wsq(&self, bitrate: f32) -> Result<Vec<u8>, IsoError> {
        let pixels = self.grey_pixels()?;
        if self.format == ImageFormat::Wsq {
            return Ok(self.image.clone());
        }
        crate::imaging::finger::encode_wsq(
            pixels.width(),
            pixels.height(),
            self.ppi(),
            pixels.into_raw(),
            bitrate,
        )
        .map_err(|e| IsoError::Image {
            format: "wsq",
            message: format!("cannot compress the decoded image: {e}"),
        })
    }
}

impl FaceImage {
    /// The image as 8-bit RGB pixels, `width` × `height` as the header says (a greyscale image
    /// is expanded).
    pub fn rgb_pixels(&self) -> Result<RgbImage, IsoError> {
        Ok(
            match decode_other(
                self.format,
                &self.image,
                u32::from(self.width),
                u32::from(self.height),
            )? {
                Decoded::Rgb(rgb) => rgb,
                Decoded::Grey(g) => image::DynamicImage::ImageLuma8(g).to_rgb8(),
            },
        )
    }
}

fn check_size(format: ImageFormat, w: u32, h: u32) -> Result<(), IsoError> {
    if w == 0 || h == 0 {
        return Err(IsoError::Image {
            format: format.name(),
            message: format!("the header gives an empty image ({w} × {h})"),
        });
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(IsoError::Image {
            format: format.name(),
            message: format!("{w} × {h} is more than the {MAX_PIXELS} pixels jemput decodes"),
        });
    }
    Ok(())
}

fn check_decoded(format: ImageFormat, got: (u32, u32), header: (u32, u32)) -> Result<(), IsoError> {
    if got != header {
        return Err(IsoError::Image {
            format: format.name(),
            message: format!(
                "it is {} × {} pixels, but the record's header says {} × {}",
                got.0, got.1, header.0, header.1
            ),
        });
    }
    Ok(())
}

/// JPEG, PNG and JPEG 2000: the size in the image's own header is checked against the record's
/// before the image is decoded.
fn decode_other(format: ImageFormat, data: &[u8], w: u32, h: u32) -> Result<Decoded, IsoError> {
    check_size(format, w, h)?;
    let err = |message: String| IsoError::Image {
        format: format.name(),
        message,
    };
    match format {
        ImageFormat::Jpeg | ImageFormat::Png => {
            let f = if format == ImageFormat::Jpeg {
                image::ImageFormat::Jpeg
            } else {
                image::ImageFormat::Png
            };
            let reader = image::ImageReader::with_format(std::io::Cursor::new(data), f);
            let dims = reader.into_dimensions().map_err(|e| err(e.to_string()))?;
            check_decoded(format, dims, (w, h))?;
            let img =
                image::load_from_memory_with_format(data, f).map_err(|e| err(e.to_string()))?;
            Ok(match img {
                image::DynamicImage::ImageLuma8(g) => Decoded::Grey(g),
                other if other.color().channel_count() <= 2 => Decoded::Grey(other.to_luma8()),
                other => Decoded::Rgb(other.to_rgb8()),
            })
        }
        ImageFormat::Jpeg2000 | ImageFormat::Jpeg2000Lossless => {
            let siz = j2k_size(data).map_err(err)?;
            check_decoded(format, (siz.width, siz.height), (w, h))?;
            if !matches!(siz.components, 1 | 3) {
                return Err(err(format!(
                    "{} components (jemput reads grey and RGB images)",
                    siz.components
                )));
            }
            // openjp2 is a port of C code: a panic inside it on a hostile codestream is turned
            // into an error here rather than taking the kit down.
            let decoded = std::panic::catch_unwind(|| decode_j2k(data))
                .map_err(|_| err("the JPEG 2000 decoder gave up on this codestream".into()))?
                .map_err(err)?;
            match &decoded {
                Decoded::Grey(g) => check_decoded(format, g.dimensions(), (w, h))?,
                Decoded::Rgb(c) => check_decoded(format, c.dimensions(), (w, h))?,
            }
            Ok(decoded)
        }
        ImageFormat::Raw | ImageFormat::RawPacked | ImageFormat::Wsq => {
            Err(err("not a format a face record can hold".into()))
        }
    }
}

fn decode_j2k(data: &[u8]) -> Result<Decoded, String> {
    let img = jpeg2k::Image::from_bytes(data).map_err(|e| e.to_string())?;
    let px = img.get_pixels(None).map_err(|e| e.to_string())?;
    let (w, h) = (px.width, px.height);
    match px.data {
        jpeg2k::ImagePixelData::L8(v) => GrayImage::from_raw(w, h, v).map(Decoded::Grey),
        jpeg2k::ImagePixelData::Rgb8(v) => RgbImage::from_raw(w, h, v).map(Decoded::Rgb),
        jpeg2k::ImagePixelData::L16(v) => {
            GrayImage::from_raw(w, h, v.into_iter().map(|s| (s >> 8) as u8).collect())
                .map(Decoded::Grey)
        }
        jpeg2k::ImagePixelData::Rgb16(v) => {
            RgbImage::from_raw(w, h, v.into_iter().map(|s| (s >> 8) as u8).collect())
                .map(Decoded::Rgb)
        }
        _ => return Err("an image with an alpha channel".into()),
    }
    .ok_or_else(|| "its components have different sizes".to_string())
}

/// What a JPEG 2000 codestream's SIZ marker segment says (ISO/IEC 15444-1 Annex A.5.1).
#[derive(Debug, PartialEq, Eq)]
struct J2kSize {
    width: u32,
    height: u32,
    components: u16,
}

/// Finds the codestream (bare, or in a JP2 file's `jp2c` box) and reads its SIZ segment:
/// SOC `FF4F`, SIZ `FF51`, Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, tile sizes and offsets, Csiz.
fn j2k_size(data: &[u8]) -> Result<J2kSize, String> {
    let cs = codestream(data)?;
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(cs.get(at..at + 4)?.try_into().ok()?))
    };
    if cs.get(..4) != Some(&[0xFF, 0x4F, 0xFF, 0x51][..]) {
        return Err("no JPEG 2000 codestream (SOC and SIZ markers) at its start".into());
    }
    let short = || "the codestream ends inside its SIZ marker segment".to_string();
    let (x, y) = (be32(8).ok_or_else(short)?, be32(12).ok_or_else(short)?);
    let (xo, yo) = (be32(16).ok_or_else(short)?, be32(20).ok_or_else(short)?);
    let c = cs.get(40..42).ok_or_else(short)?;
    if xo > x || yo > y {
        return Err("its image offset lies outside its reference grid".into());
    }
    Ok(J2kSize {
        width: x - xo,
        height: y - yo,
        components: u16::from_be_bytes([c[0], c[1]]),
    })
}

/// The codestream: the data itself, or the contents of a JP2 file's `jp2c` box (ISO/IEC 15444-1
/// Annex I: boxes of a 4-byte length, 4-byte type, and an 8-byte length after them when the
/// first is 1; a length of 0 runs to the end).
fn codestream(data: &[u8]) -> Result<&[u8], String> {
    if data.starts_with(&[0xFF, 0x4F]) {
        return Ok(data);
    }
    let mut rest = data;
    while rest.len() >= 8 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as u64;
        let kind = &rest[4..8];
        let (header, len) = match len {
            0 => (8, rest.len() as u64),
            1 => {
                let Some(b) = rest.get(8..16) else { break };
                (16, u64::from_be_bytes(b.try_into().unwrap_or_default()))
            }
            n => (8, n),
        };
        if len < header as u64 || len > rest.len() as u64 {
            break;
        }
        if kind == b"jp2c" {
            return Ok(&rest[header..len as usize]);
        }
        rest = &rest[len as usize..];
    }
    Err("neither a JPEG 2000 codestream nor a JP2 file with one".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_siz_segment_gives_the_size_less_the_offset() {
        let mut cs = vec![0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x29, 0x00, 0x00];
        for v in [110u32, 220, 10, 20, 110, 220, 0, 0] {
            cs.extend_from_slice(&v.to_be_bytes());
        }
        cs.extend_from_slice(&[0x00, 0x01]);
        assert_eq!(
            j2k_size(&cs),
            Ok(J2kSize {
                width: 100,
                height: 200,
                components: 1
            })
        );
        // The same codestream in a JP2 file: a signature box, then jp2c.
        let mut jp2 = vec![0, 0, 0, 12, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A];
        jp2.extend_from_slice(&(8 + cs.len() as u32).to_be_bytes());
        jp2.extend_from_slice(b"jp2c");
        jp2.extend_from_slice(&cs);
        assert_eq!(j2k_size(&jp2).unwrap().width, 100);
        for n in 0..cs.len() {
            assert!(j2k_size(&cs[..n]).is_err(), "cut at {n}");
        }
        assert!(j2k_size(b"\x00\x00\x00\x01jp2c").is_err());
    }
}

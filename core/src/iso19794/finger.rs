//! ISO/IEC 19794-4:2011 finger image records: format identifier `FIR\0`, version `020\0`
//! (`docs/iso19794.md` §2).

use super::bytes::{
    count_u8, finish_record, length_u32, read_representations, Part, Reader, Writer,
};
use super::{CaptureDevice, CaptureTime, ImageFormat, IsoError, QualityBlock};
use crate::finger::FingerPosition;

const PART: Part = Part {
    standard: "ISO/IEC 19794-4 finger image",
    edition: "ISO/IEC 19794-4:2011",
    format_id: b"FIR\0",
    version: b"020\0",
    shown_id: "FIR\\0",
    shown_version: "020",
};
const GENERAL_HEADER_LEN: usize = 16;

/// A finger (or palm) position code, 19794-4:2011 Tables 6–8: 0 unknown, 1–10 the ten fingers as
/// [`FingerPosition`] numbers them, 13–15 the plain slaps, 20–36 palm areas, 40–50 two or three
/// fingers together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FingerCode(u8);

impl FingerCode {
    pub const UNKNOWN: FingerCode = FingerCode(0);
    /// Plain right four fingers (right slap): index, middle, ring, little.
    pub const RIGHT_FOUR: FingerCode = FingerCode(13);
    /// Plain left four fingers (left slap).
    pub const LEFT_FOUR: FingerCode = FingerCode(14);
    /// Plain thumbs (both thumbs together).
    pub const TWO_THUMBS: FingerCode = FingerCode(15);

    /// The code, if the standard defines it.
    pub fn new(code: u8) -> Option<Self> {
        matches!(code, 0..=10 | 13..=15 | 20..=36 | 40..=50).then_some(FingerCode(code))
    }

    pub fn code(self) -> u8 {
        self.0
    }

    /// The single finger this code names (1–10), if it names one.
    pub fn finger(self) -> Option<FingerPosition> {
        FingerPosition::new(self.0)
    }

    /// The fingers of a plain slap code (13, 14, 15), in position order.
    pub fn slap_fingers(self) -> Option<Vec<FingerPosition>> {
        let codes: &[u8] = match self.0 {
            13 => &[2, 3, 4, 5],
            14 => &[7, 8, 9, 10],
            15 => &[1, 6],
            _ => return None,
        };
        Some(
            codes
                .iter()
                .filter_map(|&c| FingerPosition::new(c))
                .collect(),
        )
    }
}

impl From<FingerPosition> for FingerCode {
    fn from(p: FingerPosition) -> Self {
        FingerCode(p.code())
    }
}

/// The unit of the four sampling rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScaleUnits {
    /// Pixels per inch (code 1).
    PixelsPerInch,
    /// Pixels per centimetre (code 2).
    PixelsPerCentimetre,
}

impl ScaleUnits {
    fn code(self) -> u8 {
        match self {
            ScaleUnits::PixelsPerInch => 1,
            ScaleUnits::PixelsPerCentimetre => 2,
        }
    }
}

/// A certification block: who certified the capture device, under which scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificationBlock {
    pub authority: u16,
    pub scheme: u8,
}

/// One finger image representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerImage {
    pub capture_time: CaptureTime,
    pub device: CaptureDevice,
    pub quality: Vec<QualityBlock>,
    /// Written only when the record's certification flag is set (it is, whenever any
    /// representation has a block).
    pub certifications: Vec<CertificationBlock>,
    pub position: FingerCode,
    /// Numbers the representations of one record, from 1.
    pub representation_number: u8,
    pub scale_units: ScaleUnits,
    /// The capture device's sampling rate, horizontal then vertical, in `scale_units`.
    pub scan_rate: (u16, u16),
    /// The image's sampling rate, horizontal then vertical, in `scale_units`.
    pub image_rate: (u16, u16),
    /// Bits per pixel (8 for the greyscale images jemput uses).
    pub bit_depth: u8,
    pub format: ImageFormat,
    /// Impression type, 19794-4:2011 Table 10 (0 live-scan plain, 1 live-scan rolled, …).
    pub impression: u8,
    pub width: u16,
    pub height: u16,
    /// The image data, coded as `format` says.
    pub image: Vec<u8>,
    /// Extended data blocks after the image (segmentation, annotation, comments), kept as bytes;
    /// the reader and the writer check that they are whole blocks.
    pub extended_data: Vec<u8>,
}

impl FingerImage {
    /// A live-scan plain 8-bit image sampled at `ppi` both ways, captured at an unspecified time
    /// by an unidentified device, with no quality block.
    pub fn new(
        position: FingerCode,
        format: ImageFormat,
        width: u16,
        height: u16,
        ppi: u16,
        image: Vec<u8>,
    ) -> Self {
        FingerImage {
            capture_time: CaptureTime::default(),
            device: CaptureDevice::default(),
            quality: Vec::new(),
            certifications: Vec::new(),
            position,
            representation_number: 1,
            scale_units: ScaleUnits::PixelsPerInch,
            scan_rate: (ppi, ppi),
            image_rate: (ppi, ppi),
            bit_depth: 8,
            format,
            impression: 0,
            width,
            height,
            image,
            extended_data: Vec::new(),
        }
    }

    /// The first quality block's score, when there is one and it is a score (not 255, failed).
    pub fn quality_score(&self) -> Option<u8> {
        self.quality.first().map(|q| q.score).filter(|&s| s <= 100)
    }

    /// The image's horizontal sampling rate in pixels per inch (rounded when the record uses
    /// pixels per centimetre).
    pub fn ppi(&self) -> u32 {
        let rate = u32::from(self.image_rate.0);
        match self.scale_units {
            ScaleUnits::PixelsPerInch => rate,
            ScaleUnits::PixelsPerCentimetre => (rate * 254 + 50) / 100,
        }
    }
}

/// A finger image record: one or more representations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerRecord {
    /// The general header's certification flag: whether each representation carries a
    /// certification block count. The writer sets it whenever a representation has a block.
    pub certification_flag: bool,
    pub images: Vec<FingerImage>,
}

impl FingerRecord {
    /// A record of these images, without certification blocks.
    pub fn new(images: Vec<FingerImage>) -> Self {
        FingerRecord {
            certification_flag: false,
            images,
        }
    }
}

/// Reads one finger image record. Every length and count must agree with the bytes given (the
/// whole slice is the record); anything else is an [`IsoError`].
pub fn read_finger_record(data: &[u8]) -> Result<FingerRecord, IsoError> {
    let mut r = Reader::new(data, 0);
    let count = PART.read_header(&mut r, data)?;
    let certification_flag = match r.u8("certification flag")? {
        0 => false,
        1 => true,
        v => {
            return Err(IsoError::InvalidValue {
                field: "certification flag",
                value: v.into(),
                hint: " (0 or 1)",
            })
        }
    };
    // The number of distinct finger positions: informative, recomputed when writing.
    r.u8("number of distinct finger positions")?;
    let images = read_representations(&mut r, count, 41, |r| {
        read_representation(r, certification_flag)
    })?;
    Ok(FingerRecord {
        certification_flag,
        images,
    })
}

fn read_representation(r: &mut Reader, certified: bool) -> Result<FingerImage, IsoError> {
    let capture_time = r.capture_time()?;
    let device = r.capture_device()?;
    let quality = r.quality_blocks()?;
    let mut certifications = Vec::new();
    if certified {
        let n = r.u8("number of certification blocks")?;
        for _ in 0..n {
            certifications.push(CertificationBlock {
                authority: r.u16("certification block")?,
                scheme: r.u8("certification block")?,
            });
        }
    }
    let code = r.u8("finger position")?;
    let position = FingerCode::new(code).ok_or(IsoError::InvalidValue {
        field: "finger position",
        value: code.into(),
        hint: " (0–10, 13–15, 20–36, 40–50)",
    })?;
    let representation_number = r.u8("representation number")?;
    let scale_units = match r.u8("scale units")? {
        1 => ScaleUnits::PixelsPerInch,
        2 => ScaleUnits::PixelsPerCentimetre,
        v => {
            return Err(IsoError::InvalidValue {
                field: "scale units",
                value: v.into(),
                hint: " (1 pixels per inch, 2 pixels per centimetre)",
            })
        }
    };
    let scan_rate = (
        r.u16("capture device spatial sampling rate")?,
        r.u16("capture device spatial sampling rate")?,
    );
    let image_rate = (
        r.u16("image spatial sampling rate")?,
        r.u16("image spatial sampling rate")?,
    );
    let bit_depth = r.u8("image bit depth")?;
    let compression = r.u8("image compression algorithm")?;
    let format = ImageFormat::from_finger_code(compression).ok_or(IsoError::InvalidValue {
        field: "image compression algorithm",
        value: compression.into(),
        hint: " (0 raw, 1 raw packed, 2 WSQ, 3 JPEG, 4 JPEG 2000 lossy, 5 lossless, 6 PNG)",
    })?;
    let impression = r.u8("impression type")?;
    let width = r.u16("horizontal line length")?;
    let height = r.u16("vertical line length")?;
    let image_len = r.u32("image data length")?;
    let image = r.take(image_len as usize, "image data")?.to_vec();
    let extended_start = r.offset();
    let extended_data = r.rest().to_vec();
    check_extended_data(&extended_data, extended_start)?;
    Ok(FingerImage {
        capture_time,
        device,
        quality,
        certifications,
        position,
        representation_number,
        scale_units,
        scan_rate,
        image_rate,
        bit_depth,
        format,
        impression,
        width,
        height,
        image,
        extended_data,
    })
}

/// Extended data is a run of blocks, each a 2-byte identification code (1 segmentation,
/// 2 annotation, 3 and above comments) and a 2-byte length counting those 4 bytes, then its data;
/// the run ends exactly at the representation's end.
fn check_extended_data(data: &[u8], base: usize) -> Result<(), IsoError> {
    let mut r = Reader::new(data, base);
    while r.remaining() > 0 {
        r.u16("extended data block identification code")?;
        let length = r.u16("extended data block length")?;
        let body = usize::from(length)
            .checked_sub(4)
            .ok_or(IsoError::InvalidValue {
                field: "extended data block length",
                value: length.into(),
                hint: " (it counts its own 4-byte header, so it is at least 4)",
            })?;
        r.take(body, "extended data block")?;
    }
    Ok(())
}

/// Writes a finger image record. Fails only on a value too large for its field (more than 255
/// quality blocks, an image over 4 GiB, …) or extended data that is not whole blocks.
pub fn write_finger_record(record: &FingerRecord) -> Result<Vec<u8>, IsoError> {
    let certified =
        record.certification_flag || record.images.iter().any(|i| !i.certifications.is_empty());
    let mut positions: Vec<u8> = record.images.iter().map(|i| i.position.0).collect();
    positions.sort_unstable();
    positions.dedup();

    let mut w = Writer::default();
    PART.write_header(&mut w, record.images.len())?;
    w.u8(u8::from(certified));
    w.u8(count_u8(
        "number of distinct finger positions",
        positions.len(),
    )?);
    debug_assert_eq!(w.out.len(), GENERAL_HEADER_LEN);

    for i in &record.images {
        let start = w.out.len();
        w.u32(0); // the representation length, patched below
        w.capture_time(&i.capture_time);
        w.capture_device(&i.device);
        w.quality_blocks(&i.quality)?;
        if certified {
            w.u8(count_u8(
                "number of certification blocks",
                i.certifications.len(),
            )?);
            for c in &i.certifications {
                w.u16(c.authority);
                w.u8(c.scheme);
            }
        }
        w.u8(i.position.0);
        w.u8(i.representation_number);
        w.u8(i.scale_units.code());
        w.u16(i.scan_rate.0);
        w.u16(i.scan_rate.1);
        w.u16(i.image_rate.0);
        w.u16(i.image_rate.1);
        w.u8(i.bit_depth);
        w.u8(i.format.finger_code());
        w.u8(i.impression);
        w.u16(i.width);
        w.u16(i.height);
        w.u32(length_u32("image data length", i.image.len())?);
        w.bytes(&i.image);
        check_extended_data(&i.extended_data, w.out.len())?;
        w.bytes(&i.extended_data);
        let len = length_u32("representation length", w.out.len() - start)?;
        w.patch_u32(start, len);
    }
    finish_record(w)
}

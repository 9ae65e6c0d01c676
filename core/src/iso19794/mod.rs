//! ISO/IEC 19794 biometric data interchange records: finger images (19794-4:2011, format
//! `FIR\0` version `020\0`) and face images (19794-5:2011, format `FAC\0` version `030\0`),
//! the versions MOSIP's Secure Biometric Interface returns in `bioValue`.
//!
//! [`read_finger_record`] and [`read_face_record`] take the bytes of one record and check every
//! length and count against the bytes there, returning an [`IsoError`] (never a panic) for
//! anything that does not add up; [`write_finger_record`] and [`write_face_record`] are their
//! inverse. The image inside a representation is kept as its bytes, in its [`ImageFormat`];
//! [`FingerImage::grey_pixels`], [`FingerImage::to_wsq`] and [`FaceImage::rgb_pixels`] decode it
//! (WSQ, JPEG, PNG, JPEG 2000, raw). The byte layout, field by field, with its public sources, is
//! `docs/iso19794.md`.

mod bytes;
mod error;
mod face;
mod finger;
mod pixels;
#[cfg(test)]
mod tests;

pub use error::IsoError;
pub use face::{
    read_face_record, write_face_record, FaceImage, FaceRecord, FacialInformation, LandmarkPoint,
};
pub use finger::{
    read_finger_record, write_finger_record, CertificationBlock, FingerCode, FingerImage,
    FingerRecord, ScaleUnits,
};
pub use pixels::MAX_PIXELS;

/// How the image inside a representation is coded. Finger records (19794-4:2011 Table 9) know all
/// of them; face records (19794-5:2011) only JPEG, JPEG 2000 and PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// Uncompressed, one sample per byte (finger code 0).
    Raw,
    /// Uncompressed, samples bit-packed when the bit depth is below 8 (finger code 1).
    RawPacked,
    /// WSQ, FBI/NIST Wavelet Scalar Quantization (finger code 2).
    Wsq,
    /// JPEG (finger code 3, face code 0).
    Jpeg,
    /// JPEG 2000, lossy (finger code 4, face code 1).
    Jpeg2000,
    /// JPEG 2000, lossless (finger code 5, face code 2).
    Jpeg2000Lossless,
    /// PNG (finger code 6, face code 3).
    Png,
}

impl ImageFormat {
    /// The image compression algorithm code of a finger representation.
    pub fn finger_code(self) -> u8 {
        match self {
            ImageFormat::Raw => 0,
            ImageFormat::RawPacked => 1,
            ImageFormat::Wsq => 2,
            ImageFormat::Jpeg => 3,
            ImageFormat::Jpeg2000 => 4,
            ImageFormat::Jpeg2000Lossless => 5,
            ImageFormat::Png => 6,
        }
    }

    pub fn from_finger_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => ImageFormat::Raw,
            1 => ImageFormat::RawPacked,
            2 => ImageFormat::Wsq,
            3 => ImageFormat::Jpeg,
            4 => ImageFormat::Jpeg2000,
            5 => ImageFormat::Jpeg2000Lossless,
            6 => ImageFormat::Png,
            _ => return None,
        })
    }

    /// The image data type code of a face representation; `None` for the formats a face record
    /// cannot hold (raw and WSQ).
    pub fn face_code(self) -> Option<u8> {
        match self {
            ImageFormat::Jpeg => Some(0),
            ImageFormat::Jpeg2000 => Some(1),
            ImageFormat::Jpeg2000Lossless => Some(2),
            ImageFormat::Png => Some(3),
            ImageFormat::Raw | ImageFormat::RawPacked | ImageFormat::Wsq => None,
        }
    }

    pub fn from_face_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => ImageFormat::Jpeg,
            1 => ImageFormat::Jpeg2000,
            2 => ImageFormat::Jpeg2000Lossless,
            3 => ImageFormat::Png,
            _ => return None,
        })
    }

    /// A short name for messages and JSON: `raw`, `raw-packed`, `wsq`, `jpeg`, `jpeg2000`,
    /// `jpeg2000-lossless`, `png`.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Raw => "raw",
            ImageFormat::RawPacked => "raw-packed",
            ImageFormat::Wsq => "wsq",
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Jpeg2000 => "jpeg2000",
            ImageFormat::Jpeg2000Lossless => "jpeg2000-lossless",
            ImageFormat::Png => "png",
        }
    }
}

/// When a representation was captured (ISO/IEC 19794-1:2011's 9-byte date and time, in UTC):
/// the fields as written, not checked, so that any record reads back to the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CaptureTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millisecond: u16,
}

impl CaptureTime {
    /// The capture time of an instant, in UTC.
    pub fn from_timestamp(t: jiff::Timestamp) -> Self {
        let d = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
        CaptureTime {
            // jiff's years are -9999..=9999; a record's are unsigned.
            year: u16::try_from(d.year()).unwrap_or(0),
            month: d.month() as u8,
            day: d.day() as u8,
            hour: d.hour() as u8,
            minute: d.minute() as u8,
            second: d.second() as u8,
            millisecond: d.millisecond() as u16,
        }
    }
}

/// Who made the capture device and which one it is (19794-1:2011 registered identifiers; 0 when
/// not reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CaptureDevice {
    /// Capture device technology identifier (a table of its own in each part).
    pub technology: u8,
    /// Capture device vendor identifier (an IBIA-registered CBEFF organisation).
    pub vendor: u16,
    /// Capture device type identifier, the vendor's own.
    pub device_type: u16,
}

/// One quality block: a score from one quality algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QualityBlock {
    /// 0–100, or 255 when the algorithm failed to score the sample.
    pub score: u8,
    /// The algorithm's vendor (an IBIA-registered CBEFF organisation).
    pub algorithm_vendor: u16,
    /// The vendor's own identifier of the algorithm.
    pub algorithm: u16,
}

//! ISO/IEC 19794-5:2011 face image records: format identifier `FAC\0`, version `030\0`
//! (`docs/iso19794.md` §3).

use super::bytes::{
    count_u16, finish_record, length_u32, read_representations, Part, Reader, Writer,
};
use super::{CaptureDevice, CaptureTime, ImageFormat, IsoError, QualityBlock};

const PART: Part = Part {
    standard: "ISO/IEC 19794-5 face image",
    edition: "ISO/IEC 19794-5:2011",
    format_id: b"FAC\0",
    version: b"030\0",
    shown_id: "FAC\\0",
    shown_version: "030",
};
const GENERAL_HEADER_LEN: usize = 17;

/// The facial information block: what is known of the face, coded as 19794-5:2011 §5.5 says
/// (0 is "unspecified" for every field). Kept as the codes written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FacialInformation {
    /// 0 unspecified, 1 male, 2 female, 255 unknown.
    pub gender: u8,
    pub eye_colour: u8,
    pub hair_colour: u8,
    pub subject_height: u8,
    /// The 24-bit property mask (glasses, moustache, …).
    pub properties: u32,
    /// The 16-bit expression code (1 neutral, …).
    pub expression: u16,
    /// Pose angle codes, yaw, pitch and roll.
    pub pose_angle: [u8; 3],
    /// Pose angle uncertainties, yaw, pitch and roll.
    pub pose_uncertainty: [u8; 3],
}

/// A landmark point (an eye centre, the nose tip, …), in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LandmarkPoint {
    pub point_type: u8,
    pub code: u8,
    pub x: u16,
    pub y: u16,
    pub z: u16,
}

/// One face image representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceImage {
    pub capture_time: CaptureTime,
    /// The technology identifier is the face source type (2 a digital still camera, …).
    pub device: CaptureDevice,
    pub quality: Vec<QualityBlock>,
    pub facial: FacialInformation,
    pub landmarks: Vec<LandmarkPoint>,
    /// 0 basic, 1 full frontal, 2 token frontal, 3 post-processed frontal; 0x80–0x82 the same
    /// three in 3D.
    pub face_image_type: u8,
    /// JPEG, JPEG 2000 (lossy or lossless) or PNG: the writer refuses the finger-only formats.
    pub format: ImageFormat,
    pub width: u16,
    pub height: u16,
    /// Spatial sampling rate level (0 under 180 ppi … 7 above 750 ppi).
    pub spatial_sampling_level: u8,
    /// Post-acquisition processing flags (16 bits).
    pub post_processing: u16,
    pub cross_reference: u8,
    /// Image colour space: 1 24-bit RGB, 2 YUV422, 3 8-bit greyscale, …
    pub colour_space: u8,
    /// The image data, coded as `format` says.
    pub image: Vec<u8>,
    /// A 3D representation's 3D information and data, after the image; kept as bytes.
    pub three_d_data: Vec<u8>,
}

impl FaceImage {
    /// A full frontal 24-bit RGB image from a digital still camera, captured at an unspecified
    /// time, nothing else known.
    pub fn new(format: ImageFormat, width: u16, height: u16, image: Vec<u8>) -> Self {
        FaceImage {
            capture_time: CaptureTime::default(),
            device: CaptureDevice {
                technology: 2,
                ..CaptureDevice::default()
            },
            quality: Vec::new(),
            facial: FacialInformation::default(),
            landmarks: Vec::new(),
            face_image_type: 1,
            format,
            width,
            height,
            spatial_sampling_level: 0,
            post_processing: 0,
            cross_reference: 0,
            colour_space: 1,
            image,
            three_d_data: Vec::new(),
        }
    }

    /// Whether this is a 3D representation (face image type 0x80 and above).
    pub fn is_3d(&self) -> bool {
        self.face_image_type >= 0x80
    }

    /// The first quality block's score, when there is one and it is a score (not 255, failed).
    pub fn quality_score(&self) -> Option<u8> {
        self.quality.first().map(|q| q.score).filter(|&s| s <= 100)
    }
}

/// A face image record: one or more representations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceRecord {
    /// How several representations relate in time (0 when there is one).
    pub temporal_semantics: u16,
    pub images: Vec<FaceImage>,
}

impl FaceRecord {
    pub fn new(images: Vec<FaceImage>) -> Self {
        FaceRecord {
            temporal_semantics: 0,
            images,
        }
    }
}

/// Reads one face image record. Every length and count must agree with the bytes given (the
/// whole slice is the record); anything else is an [`IsoError`].
pub fn read_face_record(data: &[u8]) -> Result<FaceRecord, IsoError> {
    let mut r = Reader::new(data, 0);
    let count = PART.read_header(&mut r, data)?;
    let flag = r.u8("certification flag")?;
    if flag != 0 {
        return Err(IsoError::InvalidValue {
            field: "certification flag",
            value: flag.into(),
            hint: " for a face record (it is 0: no certification blocks are defined for faces)",
        });
    }
    let temporal_semantics = r.u16("temporal semantics")?;
    let images = read_representations(&mut r, count, 51, read_representation)?;
    Ok(FaceRecord {
        temporal_semantics,
        images,
    })
}

fn read_representation(r: &mut Reader) -> Result<FaceImage, IsoError> {
    let capture_time = r.capture_time()?;
    let device = r.capture_device()?;
    let quality = r.quality_blocks()?;
    let landmark_count = r.u16("number of landmark points")?;
    let facial = FacialInformation {
        gender: r.u8("gender")?,
        eye_colour: r.u8("eye colour")?,
        hair_colour: r.u8("hair colour")?,
        subject_height: r.u8("subject height")?,
        properties: r.u24("property mask")?,
        expression: r.u16("expression")?,
        pose_angle: [
            r.u8("pose angle")?,
            r.u8("pose angle")?,
            r.u8("pose angle")?,
        ],
        pose_uncertainty: [
            r.u8("pose angle uncertainty")?,
            r.u8("pose angle uncertainty")?,
            r.u8("pose angle uncertainty")?,
        ],
    };
    let mut landmarks = Vec::with_capacity(usize::from(landmark_count).min(r.remaining() / 8));
    for _ in 0..landmark_count {
        landmarks.push(LandmarkPoint {
            point_type: r.u8("landmark point")?,
            code: r.u8("landmark point")?,
            x: r.u16("landmark point")?,
            y: r.u16("landmark point")?,
            z: r.u16("landmark point")?,
        });
    }
    let face_image_type = r.u8("face image type")?;
    if !matches!(face_image_type, 0..=3 | 0x80..=0x82) {
        return Err(IsoError::InvalidValue {
            field: "face image type",
            value: face_image_type.into(),
            hint: " (0–3 for 2D, 0x80–0x82 for 3D)",
        });
    }
    let data_type = r.u8("image data type")?;
    let format = ImageFormat::from_face_code(data_type).ok_or(IsoError::InvalidValue {
        field: "image data type",
        value: data_type.into(),
        hint: " (0 JPEG, 1 JPEG 2000 lossy, 2 JPEG 2000 lossless, 3 PNG)",
    })?;
    let width = r.u16("width")?;
    let height = r.u16("height")?;
    let spatial_sampling_level = r.u8("spatial sampling rate level")?;
    let post_processing = r.u16("post-acquisition processing")?;
    let cross_reference = r.u8("cross reference")?;
    let colour_space = r.u8("image colour space")?;
    let image_len = r.u32("image data length")?;
    let image = r.take(image_len as usize, "image data")?.to_vec();
    let rest = r.rest();
    if face_image_type < 0x80 && !rest.is_empty() {
        return Err(IsoError::TrailingBytes {
            after: "the image data of a 2D representation",
            count: rest.len(),
        });
    }
    Ok(FaceImage {
        capture_time,
        device,
        quality,
        facial,
        landmarks,
        face_image_type,
        format,
        width,
        height,
        spatial_sampling_level,
        post_processing,
        cross_reference,
        colour_space,
        image,
        three_d_data: rest.to_vec(),
    })
}

/// Writes a face image record. Fails on a format a face record cannot hold (raw, WSQ), on 3D
/// data after a 2D image, and on a value too large for its field.
pub fn write_face_record(record: &FaceRecord) -> Result<Vec<u8>, IsoError> {
    let mut w = Writer::default();
    PART.write_header(&mut w, record.images.len())?;
    w.u8(0); // certification flag: none for faces
    w.u16(record.temporal_semantics);
    debug_assert_eq!(w.out.len(), GENERAL_HEADER_LEN);

    for i in &record.images {
        let data_type = i.format.face_code().ok_or_else(|| {
            IsoError::Unsupported(format!(
                "a face record cannot hold a {} image: use JPEG, JPEG 2000 or PNG",
                i.format.name()
            ))
        })?;
        if !i.is_3d() && !i.three_d_data.is_empty() {
            return Err(IsoError::Unsupported(
                "a 2D face representation (face image type below 0x80) cannot carry 3D data"
                    .to_string(),
            ));
        }
        if i.facial.properties > 0xFF_FFFF {
            return Err(IsoError::TooLarge {
                field: "property mask",
                value: i.facial.properties.into(),
                max: 0xFF_FFFF,
            });
        }
        let start = w.out.len();
        w.u32(0); // the representation length, patched below
        w.capture_time(&i.capture_time);
        w.capture_device(&i.device);
        w.quality_blocks(&i.quality)?;
        w.u16(count_u16("number of landmark points", i.landmarks.len())?);
        let f = &i.facial;
        w.u8(f.gender);
        w.u8(f.eye_colour);
        w.u8(f.hair_colour);
        w.u8(f.subject_height);
        w.u24(f.properties);
        w.u16(f.expression);
        w.bytes(&f.pose_angle);
        w.bytes(&f.pose_uncertainty);
        for p in &i.landmarks {
            w.u8(p.point_type);
            w.u8(p.code);
            w.u16(p.x);
            w.u16(p.y);
            w.u16(p.z);
        }
        w.u8(i.face_image_type);
        w.u8(data_type);
        w.u16(i.width);
        w.u16(i.height);
        w.u8(i.spatial_sampling_level);
        w.u16(i.post_processing);
        w.u8(i.cross_reference);
        w.u8(i.colour_space);
        w.u32(length_u32("image data length", i.image.len())?);
        w.bytes(&i.image);
        w.bytes(&i.three_d_data);
        let len = length_u32("representation length", w.out.len() - start)?;
        w.patch_u32(start, len);
    }
    finish_record(w)
}

//! The ISO/IEC 19794 records jemput's device service returns in `bioValue` (the specification's
//! "ISO format"): fingers as 19794-4:2011, faces as 19794-5:2011, their images coded as
//! [`FingerCoding`] and [`FaceCoding`] say. By default both are JPEG 2000 lossless (a JP2 file),
//! which MOSIP's biometric specification asks of registration devices and MOSIP's record
//! validators require for registration (`docs/iso19794.md` §5.2).

use jemput_core::iso19794::{
    write_face_record, write_finger_record, CaptureTime, FaceImage, FaceRecord, FingerCode,
    FingerImage, FingerRecord, ImageFormat, QualityBlock,
};

/// WSQ bit rate of the finger images (the FBI's usual 0.75 bit per pixel, as the packet uses).
const WSQ_BITRATE: f32 = 0.75;

/// How a finger record's image is coded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FingerCoding {
    /// JPEG 2000 lossless in a JP2 file (compression code 5): MOSIP's registration format.
    #[default]
    Jpeg2000Lossless,
    /// WSQ at 0.75 bit per pixel (code 2): about a tenth of the size, lossy; MOSIP accepts it
    /// from authentication devices only.
    Wsq,
}

/// How the service codes the images of its records: one choice for fingers, one for faces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Codings {
    pub finger: FingerCoding,
    pub face: FaceCoding,
}

/// How a face record's image is coded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FaceCoding {
    /// JPEG 2000 lossless in a JP2 file (image data type 2) of the decoded photo: MOSIP's
    /// registration format.
    #[default]
    Jpeg2000Lossless,
    /// The camera's own JPEG as it gave it (type 0): several times smaller, not what MOSIP's
    /// registration validation accepts.
    Jpeg,
}

impl std::str::FromStr for FingerCoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jpeg2000-lossless" => Ok(FingerCoding::Jpeg2000Lossless),
            "wsq" => Ok(FingerCoding::Wsq),
            _ => Err(format!(
                "{s:?}: the finger image is jpeg2000-lossless or wsq"
            )),
        }
    }
}

impl std::str::FromStr for FaceCoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jpeg2000-lossless" => Ok(FaceCoding::Jpeg2000Lossless),
            "jpeg" => Ok(FaceCoding::Jpeg),
            _ => Err(format!(
                "{s:?}: the face image is jpeg2000-lossless or jpeg"
            )),
        }
    }
}

fn small(v: u32, what: &str) -> Result<u16, String> {
    u16::try_from(v).map_err(|_| format!("{what} {v} does not fit an ISO record"))
}

/// One finger (position 1–10) as a 19794-4 record holding its image coded as `coding` and
/// `quality` (0–100).
pub fn finger_record(
    img: &jemput_drivers::FingerImage,
    position: u8,
    quality: u8,
    coding: FingerCoding,
) -> Result<Vec<u8>, String> {
    let (format, data) = match coding {
        FingerCoding::Jpeg2000Lossless => (
            ImageFormat::Jpeg2000Lossless,
            jemput_j2k::encode(
                img.width,
                img.height,
                jemput_j2k::Colour::Grey,
                &img.pixels,
                jemput_j2k::Container::Jp2,
            )
            .map_err(|e| format!("JPEG 2000: {e}"))?,
        ),
        FingerCoding::Wsq => (
            ImageFormat::Wsq,
            jemput_core::imaging::finger::encode_wsq(
                img.width,
                img.height,
                img.ppi,
                img.pixels.clone(),
                WSQ_BITRATE,
            )
            .map_err(|e| format!("WSQ: {e}"))?,
        ),
    };
    let code = FingerCode::new(position).ok_or_else(|| format!("finger position {position}"))?;
    let mut rep = FingerImage::new(
        code,
        format,
        small(img.width, "width")?,
        small(img.height, "height")?,
        small(img.ppi, "resolution")?,
        data,
    );
    rep.capture_time = CaptureTime::from_timestamp(jiff::Timestamp::now());
    rep.quality = vec![QualityBlock {
        score: quality.min(100),
        algorithm_vendor: 0,
        algorithm: 0,
    }];
    write_finger_record(&FingerRecord::new(vec![rep])).map_err(|e| e.to_string())
}

/// A face (RGB) as a 19794-5 record: JPEG 2000 lossless, or a JPEG at quality 90.
pub fn face_record(img: &image::RgbImage, coding: FaceCoding) -> Result<Vec<u8>, String> {
    match coding {
        FaceCoding::Jpeg2000Lossless => face_record_lossless(img),
        FaceCoding::Jpeg => {
            let jpeg = jemput_drivers::synth::jpeg_rgb(img, 90);
            face_record_jpeg(jpeg, img.width(), img.height())
        }
    }
}

/// A camera's JPEG of `width` × `height` (decoded: `rgb`) as a 19794-5 record: the JPEG kept as
/// the camera gave it, or its pixels in JPEG 2000 lossless.
pub fn face_record_photo(
    jpeg: Vec<u8>,
    rgb: &image::RgbImage,
    coding: FaceCoding,
) -> Result<Vec<u8>, String> {
    match coding {
        FaceCoding::Jpeg2000Lossless => face_record_lossless(rgb),
        FaceCoding::Jpeg => face_record_jpeg(jpeg, rgb.width(), rgb.height()),
    }
}

fn face_record_lossless(img: &image::RgbImage) -> Result<Vec<u8>, String> {
    let jp2 = jemput_j2k::encode(
        img.width(),
        img.height(),
        jemput_j2k::Colour::Rgb,
        img.as_raw(),
        jemput_j2k::Container::Jp2,
    )
    .map_err(|e| format!("JPEG 2000: {e}"))?;
    face_record_image(
        ImageFormat::Jpeg2000Lossless,
        jp2,
        img.width(),
        img.height(),
    )
}

fn face_record_jpeg(jpeg: Vec<u8>, width: u32, height: u32) -> Result<Vec<u8>, String> {
    face_record_image(ImageFormat::Jpeg, jpeg, width, height)
}

fn face_record_image(
    format: ImageFormat,
    data: Vec<u8>,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, String> {
    let mut rep = FaceImage::new(
        format,
        small(width, "width")?,
        small(height, "height")?,
        data,
    );
    rep.capture_time = CaptureTime::from_timestamp(jiff::Timestamp::now());
    write_face_record(&FaceRecord::new(vec![rep])).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::iso19794::{read_face_record, read_finger_record};

    fn print() -> jemput_drivers::FingerImage {
        let pos = jemput_drivers::FingerPosition::new(2).unwrap();
        jemput_drivers::synth::fingerprint(11, pos, 0.9)
    }

    #[test]
    fn a_finger_is_jpeg_2000_lossless_by_default_and_decodes_to_the_scanners_pixels() {
        let img = print();
        let rec = read_finger_record(&finger_record(&img, 2, 80, FingerCoding::default()).unwrap())
            .unwrap();
        let f = &rec.images[0];
        assert_eq!(f.format, ImageFormat::Jpeg2000Lossless);
        assert_eq!(
            &f.image[4..8],
            b"jP  ",
            "a JP2 file, as MOSIP's devices write"
        );
        let grey = f.grey_pixels().unwrap();
        assert_eq!((grey.width(), grey.height()), (img.width, img.height));
        assert!(grey.as_raw() == &img.pixels, "lossless means every pixel");
        println!(
            "finger {} × {}: JPEG 2000 lossless {} bytes ({:.2}:1)",
            img.width,
            img.height,
            f.image.len(),
            img.pixels.len() as f64 / f.image.len() as f64
        );
        assert!(f.image.len() < img.pixels.len());
    }

    #[test]
    fn wsq_is_still_there_on_request() {
        let img = print();
        let rec =
            read_finger_record(&finger_record(&img, 2, 80, FingerCoding::Wsq).unwrap()).unwrap();
        assert_eq!(rec.images[0].format, ImageFormat::Wsq);
    }

    #[test]
    fn a_face_is_jpeg_2000_lossless_rgb_by_default_or_a_jpeg() {
        let img = jemput_drivers::synth::face(4, [200, 40, 40]);
        let rec = read_face_record(&face_record(&img, FaceCoding::default()).unwrap()).unwrap();
        let f = &rec.images[0];
        assert_eq!(
            (f.format, f.colour_space),
            (ImageFormat::Jpeg2000Lossless, 1)
        );
        assert!(f.rgb_pixels().unwrap() == img, "lossless means every pixel");
        let rec = read_face_record(&face_record(&img, FaceCoding::Jpeg).unwrap()).unwrap();
        assert_eq!(rec.images[0].format, ImageFormat::Jpeg);
    }

    #[test]
    fn codings_parse_from_their_names_only() {
        assert_eq!("wsq".parse(), Ok(FingerCoding::Wsq));
        assert_eq!(
            "jpeg2000-lossless".parse(),
            Ok(FingerCoding::Jpeg2000Lossless)
        );
        assert_eq!("jpeg".parse(), Ok(FaceCoding::Jpeg));
        assert!("jpeg".parse::<FingerCoding>().is_err());
        assert!("wsq".parse::<FaceCoding>().is_err());
    }
}

//! The ISO/IEC 19794 records jemput's device service returns in `bioValue` (the specification's
//! "ISO format"): fingers as 19794-4:2011 with a WSQ image, faces as 19794-5:2011 with a JPEG.

use jemput_core::iso19794::{
    write_face_record, write_finger_record, CaptureTime, FaceImage, FaceRecord, FingerCode,
    FingerImage, FingerRecord, ImageFormat, QualityBlock,
};

/// WSQ bit rate of the finger images (the FBI's usual 0.75 bit per pixel, as the packet uses).
const WSQ_BITRATE: f32 = 0.75;

fn small(v: u32, what: &str) -> Result<u16, String> {
    u16::try_from(v).map_err(|_| format!("{what} {v} does not fit an ISO record"))
}

/// One finger (position 1–10) as a 19794-4 record holding its WSQ image and `quality` (0–100).
pub fn finger_record(
    img: &jemput_drivers::FingerImage,
    position: u8,
    quality: u8,
) -> Result<Vec<u8>, String> {
    let wsq = jemput_core::imaging::finger::encode_wsq(
        img.width,
        img.height,
        img.ppi,
        img.pixels.clone(),
        WSQ_BITRATE,
    )
    .map_err(|e| format!("WSQ: {e}"))?;
    let code = FingerCode::new(position).ok_or_else(|| format!("finger position {position}"))?;
    let mut rep = FingerImage::new(
        code,
        ImageFormat::Wsq,
        small(img.width, "width")?,
        small(img.height, "height")?,
        small(img.ppi, "resolution")?,
        wsq,
    );
    rep.capture_time = CaptureTime::from_timestamp(jiff::Timestamp::now());
    rep.quality = vec![QualityBlock {
        score: quality.min(100),
        algorithm_vendor: 0,
        algorithm: 0,
    }];
    write_finger_record(&FingerRecord::new(vec![rep])).map_err(|e| e.to_string())
}

/// A face (RGB) as a 19794-5 record holding a JPEG.
pub fn face_record(img: &image::RgbImage) -> Result<Vec<u8>, String> {
    let jpeg = jemput_drivers::synth::jpeg_rgb(img, 90);
    face_record_jpeg(jpeg, img.width(), img.height())
}

/// A camera's JPEG of `width` × `height` as a 19794-5 record, the JPEG kept as the camera gave it.
pub fn face_record_jpeg(jpeg: Vec<u8>, width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut rep = FaceImage::new(
        ImageFormat::Jpeg,
        small(width, "width")?,
        small(height, "height")?,
        jpeg,
    );
    rep.capture_time = CaptureTime::from_timestamp(jiff::Timestamp::now());
    write_face_record(&FaceRecord::new(vec![rep])).map_err(|e| e.to_string())
}

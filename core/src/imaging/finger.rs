//! A kept fingerprint as a packet stores it: WSQ at the capture policy's bit rate, in a file named
//! by its finger position.

use crate::finger::FingerPosition;

/// Media type of a WSQ fingerprint file.
pub const WSQ_MEDIA_TYPE: &str = "image/x-wsq";

/// Compresses an 8-bit greyscale finger image (`width × height` bytes, row-major) to WSQ at
/// `bitrate`, with its resolution written to `NIST_COM`.
pub fn encode_wsq(
    width: u32,
    height: u32,
    ppi: u32,
    pixels: Vec<u8>,
    bitrate: f32,
) -> Result<Vec<u8>, jemput_wsq::Error> {
    jemput_wsq::encode(
        &jemput_wsq::Image {
            width,
            height,
            ppi: Some(ppi),
            pixels,
        },
        &jemput_wsq::EncodeOptions {
            bitrate,
            ppi: Some(ppi),
            ..Default::default()
        },
    )
}

/// The packet file name of a finger: `finger-NN.wsq`.
pub fn wsq_file_name(pos: FingerPosition) -> String {
    format!("finger-{:02}.wsq", pos.code())
}

//! Frames to a JPEG still, purely: MJPEG frames are checked (a JPEG start marker, an end marker,
//! a readable header) and kept as they are; YUYV frames are converted to RGB (BT.601, limited
//! range, as UVC cameras send) and encoded with the `image` crate.

/// Why a frame cannot be made into a still.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("the camera delivered an empty frame")]
    Empty,
    #[error("the MJPEG frame does not start with a JPEG start-of-image marker (starts {start})")]
    NotJpeg { start: String },
    #[error(
        "the MJPEG frame ends before its end-of-image marker ({bytes} bytes): a frame cut short"
    )]
    Truncated { bytes: usize },
    #[error("the MJPEG frame is not a readable JPEG: {reason}")]
    BadJpeg { reason: String },
    #[error("the YUYV frame has {got} bytes, {need} needed for {width}x{height} with {stride} bytes a line")]
    TooShort {
        got: usize,
        need: usize,
        width: u32,
        height: u32,
        stride: usize,
    },
    #[error("a YUYV line of {stride} bytes cannot hold {width} pixels (and YUYV widths are even)")]
    BadGeometry { width: u32, stride: usize },
    #[error("cannot encode the still as JPEG: {0}")]
    Encode(String),
}

/// Checks that an MJPEG frame is a whole JPEG image and returns it without the padding some
/// cameras leave after the end marker, with its size from the JPEG header.
pub fn check_mjpeg(frame: &[u8]) -> Result<(&[u8], u32, u32), FrameError> {
    if frame.is_empty() {
        return Err(FrameError::Empty);
    }
    if !frame.starts_with(&[0xFF, 0xD8]) {
        let start = frame
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(FrameError::NotJpeg { start });
    }
    // The end marker, allowing zero padding after it.
    let trimmed = {
        let mut end = frame.len();
        while end > 2 && frame[end - 1] == 0 {
            end -= 1;
        }
        &frame[..end]
    };
    if trimmed.len() < 4 || !trimmed.ends_with(&[0xFF, 0xD9]) {
        return Err(FrameError::Truncated { bytes: frame.len() });
    }
    let (w, h) =
        image::ImageReader::with_format(std::io::Cursor::new(trimmed), image::ImageFormat::Jpeg)
            .into_dimensions()
            .map_err(|e| FrameError::BadJpeg {
                reason: e.to_string(),
            })?;
    Ok((trimmed, w, h))
}

/// Converts a YUYV 4:2:2 frame (`stride` bytes a line, ≥ 2 × width) to packed RGB8.
pub fn yuyv_to_rgb(
    frame: &[u8],
    width: u32,
    height: u32,
    stride: usize,
) -> Result<Vec<u8>, FrameError> {
    let w = width as usize;
    let h = height as usize;
    if w == 0 || h == 0 {
        return Err(FrameError::Empty);
    }
    if !w.is_multiple_of(2) || stride < w * 2 {
        return Err(FrameError::BadGeometry { width, stride });
    }
    let need = stride * (h - 1) + w * 2;
    if frame.len() < need {
        return Err(FrameError::TooShort {
            got: frame.len(),
            need,
            width,
            height,
            stride,
        });
    }
    let mut rgb = Vec::with_capacity(w * h * 3);
    for row in 0..h {
        let line = &frame[row * stride..row * stride + w * 2];
        for quad in line.chunks_exact(4) {
            let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
            rgb.extend_from_slice(&ycbcr_to_rgb(y0, u, v));
            rgb.extend_from_slice(&ycbcr_to_rgb(y1, u, v));
        }
    }
    Ok(rgb)
}

/// One pixel, BT.601 limited range (Y 16–235, Cb/Cr 16–240), in 8-bit fixed point.
pub fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(cb) - 128;
    let e = i32::from(cr) - 128;
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [
        clamp(c + 409 * e),
        clamp(c - 100 * d - 208 * e),
        clamp(c + 516 * d),
    ]
}

/// Encodes packed RGB8 as a baseline JPEG at `quality` (1–100).
pub fn encode_jpeg(
    rgb: &[u8],
    width: u32,
    height: u32,
    quality: u8,
) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::new();
    let mut enc =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100));
    enc.encode(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| FrameError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn yuyv_flat(w: usize, h: usize, y: u8, u: u8, v: u8) -> Vec<u8> {
        [y, u, y, v].repeat(w / 2 * h)
    }

    #[test]
    fn limited_range_black_white_and_primaries_convert_to_full_range_rgb() {
        assert_eq!(ycbcr_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(ycbcr_to_rgb(235, 128, 128), [255, 255, 255]);
        assert_eq!(ycbcr_to_rgb(126, 128, 128), [128, 128, 128]);
        // BT.601 red (Y 81, Cb 90, Cr 240) is close to pure red.
        let [r, g, b] = ycbcr_to_rgb(81, 90, 240);
        assert!(r >= 250 && g <= 5 && b <= 5, "{r} {g} {b}");
        // and blue (Y 41, Cb 240, Cr 110).
        let [r, g, b] = ycbcr_to_rgb(41, 240, 110);
        assert!(r <= 5 && g <= 5 && b >= 250, "{r} {g} {b}");
    }

    #[test]
    fn a_yuyv_frame_with_padded_lines_converts_pixel_by_pixel() {
        // 2x2, stride 8 (4 bytes of padding a line); left column black, right white.
        let frame = [16, 128, 235, 128, 9, 9, 9, 9, 16, 128, 235, 128];
        let rgb = yuyv_to_rgb(&frame, 2, 2, 8).unwrap();
        assert_eq!(rgb, [0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
    }

    #[test]
    fn short_frames_and_odd_geometry_are_errors_not_panics() {
        let frame = yuyv_flat(4, 4, 100, 128, 128);
        assert!(matches!(
            yuyv_to_rgb(&frame[..31], 4, 4, 8),
            Err(FrameError::TooShort { need: 32, .. })
        ));
        assert!(matches!(
            yuyv_to_rgb(&frame, 3, 4, 8),
            Err(FrameError::BadGeometry { .. })
        ));
        assert!(matches!(
            yuyv_to_rgb(&frame, 4, 4, 6),
            Err(FrameError::BadGeometry { .. })
        ));
        assert_eq!(yuyv_to_rgb(&[], 0, 0, 0), Err(FrameError::Empty));
    }

    #[test]
    fn a_yuyv_still_encodes_to_a_jpeg_that_decodes_at_its_size() {
        let (w, h) = (64u32, 48u32);
        let rgb = yuyv_to_rgb(&yuyv_flat(64, 48, 180, 100, 150), w, h, 128).unwrap();
        let jpeg = encode_jpeg(&rgb, w, h, 90).unwrap();
        let (kept, jw, jh) = check_mjpeg(&jpeg).unwrap();
        assert_eq!((kept.len(), jw, jh), (jpeg.len(), w, h));
        let img = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        let want = ycbcr_to_rgb(180, 100, 150);
        let got = img.get_pixel(10, 10).0;
        for i in 0..3 {
            assert!(got[i].abs_diff(want[i]) <= 3, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn mjpeg_frames_are_checked_for_both_markers_and_padding_is_dropped() {
        let rgb = vec![128u8; 16 * 16 * 3];
        let jpeg = encode_jpeg(&rgb, 16, 16, 80).unwrap();
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 100]);
        let (kept, w, h) = check_mjpeg(&padded).unwrap();
        assert_eq!((kept, w, h), (&jpeg[..], 16, 16));
        assert_eq!(check_mjpeg(&[]), Err(FrameError::Empty));
        assert!(matches!(
            check_mjpeg(&[0x00, 0x01, 0x02, 0x03]),
            Err(FrameError::NotJpeg { start }) if start == "00 01 02 03"
        ));
        assert!(matches!(
            check_mjpeg(&jpeg[..jpeg.len() / 2]),
            Err(FrameError::Truncated { .. })
        ));
        // Start and end markers around garbage: not readable.
        assert!(matches!(
            check_mjpeg(&[0xFF, 0xD8, 0x12, 0x34, 0xFF, 0xD9]),
            Err(FrameError::BadJpeg { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_yuyv_bytes_convert_to_three_bytes_a_pixel_or_a_clear_error(
            data in proptest::collection::vec(any::<u8>(), 0..2048),
            half_w in 0u32..20,
            h in 0u32..20,
            pad in 0usize..8,
        ) {
            let w = half_w * 2;
            let stride = w as usize * 2 + pad;
            match yuyv_to_rgb(&data, w, h, stride) {
                Ok(rgb) => {
                    prop_assert_eq!(rgb.len(), (w * h * 3) as usize);
                    prop_assert!(data.len() >= stride * (h as usize - 1) + w as usize * 2);
                }
                Err(FrameError::Empty) => prop_assert!(w == 0 || h == 0),
                Err(FrameError::TooShort { got, need, .. }) => prop_assert!(got < need),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }

        #[test]
        fn grey_yuyv_gives_equal_channels_that_grow_with_luma(y in 0u8..=255, y2 in 0u8..=255) {
            let [r, g, b] = ycbcr_to_rgb(y, 128, 128);
            prop_assert!(r == g && g == b);
            let [r2, ..] = ycbcr_to_rgb(y2, 128, 128);
            if y <= y2 { prop_assert!(r <= r2) } else { prop_assert!(r >= r2) }
            if y <= 16 { prop_assert_eq!(r, 0) }
            if y >= 235 { prop_assert_eq!(r, 255) }
        }
    }
}

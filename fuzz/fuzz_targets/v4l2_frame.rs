//! Fuzzes what the V4L2 driver makes of a camera's frames: `check_mjpeg` (an MJPEG frame as the
//! camera sent it) and `yuyv_to_rgb` (a YUYV frame with a geometry from the first bytes), and
//! the pure format choice over frame sizes from the input.
//!
//! Invariants: nothing panics; an accepted MJPEG frame is a prefix of the input that starts with
//! SOI and ends with EOI; a converted YUYV frame has three bytes a pixel; a chosen size fits the
//! maximum.
#![no_main]

use jemput_drivers::v4l2::convert::{check_mjpeg, yuyv_to_rgb};
use jemput_drivers::v4l2::format::{choose, FormatInfo, FourCc, FrameSizes, Size};
use libfuzzer_sys::fuzz_target;

fn word(data: &[u8], i: usize) -> u32 {
    let b = |k: usize| u32::from(data.get(i + k).copied().unwrap_or(0));
    b(0) | b(1) << 8
}

fuzz_target!(|data: &[u8]| {
    if let Ok((jpeg, _, _)) = check_mjpeg(data) {
        assert!(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9]));
        assert_eq!(jpeg, &data[..jpeg.len()]);
    }
    let (w, h, pad) = (word(data, 0) % 512, word(data, 2) % 512, word(data, 4) % 64);
    let frame = data.get(6..).unwrap_or(&[]);
    if let Ok(rgb) = yuyv_to_rgb(frame, w, h, (w * 2 + pad) as usize) {
        assert_eq!(rgb.len(), (w * h * 3) as usize);
    }
    let sizes: Vec<Size> = data
        .chunks_exact(4)
        .take(16)
        .map(|c| Size {
            width: u32::from(u16::from_le_bytes([c[0], c[1]])),
            height: u32::from(u16::from_le_bytes([c[2], c[3]])),
        })
        .collect();
    let max = Size {
        width: 1 + word(data, 0) * 2,
        height: 1 + word(data, 2) * 2,
    };
    let stepwise = FrameSizes::Stepwise {
        min: sizes.first().copied().unwrap_or(max),
        max: sizes.get(1).copied().unwrap_or(max),
        step: sizes.get(2).copied().unwrap_or(max),
    };
    for (code, sizes) in [
        (FourCc::MJPG, FrameSizes::Discrete { sizes }),
        (FourCc::YUYV, stepwise),
    ] {
        let f = FormatInfo {
            fourcc: code.to_string(),
            description: String::new(),
            compressed: code.is_jpeg(),
            sizes,
            code: code.0,
        };
        if let Ok(c) = choose(std::slice::from_ref(&f), max) {
            let s = c.size.expect("both formats list sizes");
            assert!(s.fits(max) && s.pixels() > 0, "{s} within {max}");
        }
    }
});

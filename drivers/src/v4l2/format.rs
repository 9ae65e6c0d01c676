//! Formats and frame sizes, and the pure choice of what to capture: MJPEG when the camera offers
//! it, else YUYV, at the largest frame size within the configured maximum.

use schemars::JsonSchema;
use serde::Serialize;

pub use crate::Size;

/// A V4L2 pixel format code (four ASCII characters, little-endian in a u32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub u32);

impl FourCc {
    /// Motion-JPEG: every frame is a JPEG image.
    pub const MJPG: FourCc = FourCc::new(*b"MJPG");
    /// Plain JPEG (some older UVC drivers report it for the same stream).
    pub const JPEG: FourCc = FourCc::new(*b"JPEG");
    /// YUYV 4:2:2 (Y0 U Y1 V per two pixels).
    pub const YUYV: FourCc = FourCc::new(*b"YUYV");

    /// The code of four ASCII characters.
    pub const fn new(c: [u8; 4]) -> Self {
        FourCc(u32::from_le_bytes(c))
    }

    /// Whether frames of this format are JPEG images.
    pub fn is_jpeg(self) -> bool {
        self == Self::MJPG || self == Self::JPEG
    }
}

impl std::fmt::Display for FourCc {
    /// The four characters as `v4l2-ctl` prints them: bit 31 marks the big-endian variant of a
    /// format (`v4l2_fourcc_be`) and is shown as a `-BE` suffix; other bytes outside printable
    /// ASCII as `.`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const BIG_ENDIAN: u32 = 1 << 31;
        for b in (self.0 & !BIG_ENDIAN).to_le_bytes() {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            };
            write!(f, "{c}")?;
        }
        if self.0 & BIG_ENDIAN != 0 {
            f.write_str("-BE")?;
        }
        Ok(())
    }
}

/// The frame sizes a format offers (`VIDIOC_ENUM_FRAMESIZES`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FrameSizes {
    /// A list of sizes (UVC webcams).
    Discrete { sizes: Vec<Size> },
    /// Any size from `min` to `max` in steps (`step` 1 × 1: continuous).
    Stepwise { min: Size, max: Size, step: Size },
    /// The driver does not enumerate sizes; only the current one is known.
    Unknown,
}

impl FrameSizes {
    /// The largest size within `max` (by pixel count, then width), if any.
    pub fn largest_within(&self, max: Size) -> Option<Size> {
        match self {
            FrameSizes::Discrete { sizes } => sizes
                .iter()
                .copied()
                .filter(|s| s.fits(max) && s.pixels() > 0)
                .max_by_key(|s| (s.pixels(), s.width)),
            FrameSizes::Stepwise {
                min,
                max: top,
                step,
            } => {
                let side = |lo: u32, hi: u32, step: u32, cap: u32| -> Option<u32> {
                    let hi = hi.min(cap);
                    if hi < lo || lo == 0 {
                        return None;
                    }
                    let step = step.max(1);
                    Some(lo + (hi - lo) / step * step)
                };
                let width = side(min.width, top.width, step.width, max.width)?;
                let height = side(min.height, top.height, step.height, max.height)?;
                Some(Size { width, height })
            }
            FrameSizes::Unknown => None,
        }
    }
}

/// One format a capture node offers, with its frame sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FormatInfo {
    /// The four-character code, e.g. `MJPG`, `YUYV`.
    pub fourcc: String,
    /// The driver's description, e.g. `Motion-JPEG`.
    pub description: String,
    /// Whether the driver flags it as compressed.
    pub compressed: bool,
    pub sizes: FrameSizes,
    #[serde(skip)]
    #[schemars(skip)]
    pub code: u32,
}

impl FormatInfo {
    /// The format's code.
    pub fn fourcc(&self) -> FourCc {
        FourCc(self.code)
    }
}

/// What to capture: a format the driver can read, and a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub fourcc: FourCc,
    /// `None` when the driver lists no sizes: keep the node's current size.
    pub size: Option<Size>,
}

/// Why no format could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChoiceError {
    #[error("the camera offers neither MJPEG nor YUYV (it offers: {offered}); jemput reads only those two")]
    NoSupportedFormat { offered: String },
    #[error("no {fourcc} frame size fits within {max} (the smallest is {smallest}); raise the maximum size")]
    NoSizeWithin {
        fourcc: String,
        max: Size,
        smallest: String,
    },
}

/// Chooses MJPEG when offered (the camera compresses; frames are JPEG stills as they are), else
/// YUYV, at the largest size within `max`. A format with sizes, none within `max`, is passed
/// over for the other; if neither fits, the error names the smallest size offered.
pub fn choose(formats: &[FormatInfo], max: Size) -> Result<Choice, ChoiceError> {
    let usable: Vec<&FormatInfo> = [FourCc::MJPG, FourCc::JPEG, FourCc::YUYV]
        .into_iter()
        .filter_map(|want| formats.iter().find(|f| f.fourcc() == want))
        .collect();
    if usable.is_empty() {
        let offered = if formats.is_empty() {
            "nothing".to_string()
        } else {
            formats
                .iter()
                .map(|f| f.fourcc.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(ChoiceError::NoSupportedFormat { offered });
    }
    for f in &usable {
        match &f.sizes {
            FrameSizes::Unknown => {
                return Ok(Choice {
                    fourcc: f.fourcc(),
                    size: None,
                })
            }
            sizes => {
                if let Some(size) = sizes.largest_within(max) {
                    return Ok(Choice {
                        fourcc: f.fourcc(),
                        size: Some(size),
                    });
                }
            }
        }
    }
    let first = usable[0];
    let smallest = match &first.sizes {
        FrameSizes::Discrete { sizes } => sizes
            .iter()
            .min_by_key(|s| s.pixels())
            .map_or("none".into(), Size::to_string),
        FrameSizes::Stepwise { min, .. } => min.to_string(),
        FrameSizes::Unknown => "unknown".into(),
    };
    Err(ChoiceError::NoSizeWithin {
        fourcc: first.fourcc.clone(),
        max,
        smallest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sz(width: u32, height: u32) -> Size {
        Size { width, height }
    }

    fn fmt(code: FourCc, sizes: FrameSizes) -> FormatInfo {
        FormatInfo {
            fourcc: code.to_string(),
            description: String::new(),
            compressed: code.is_jpeg(),
            sizes,
            code: code.0,
        }
    }

    fn discrete(list: &[(u32, u32)]) -> FrameSizes {
        FrameSizes::Discrete {
            sizes: list.iter().map(|&(w, h)| sz(w, h)).collect(),
        }
    }

    const FULL_HD: Size = Size {
        width: 1920,
        height: 1080,
    };

    #[test]
    fn fourcc_codes_read_as_their_characters() {
        assert_eq!(FourCc::MJPG.0, 0x4750_4a4d);
        assert_eq!(FourCc::YUYV.0, 0x5659_5559);
        assert_eq!(FourCc::YUYV.to_string(), "YUYV");
        assert_eq!(FourCc(0x0000_0001).to_string(), "....");
        // V4L2_PIX_FMT_Y16_BE = v4l2_fourcc_be('Y', '1', '6', ' '), as v4l2-ctl shows it.
        assert_eq!(
            FourCc(u32::from_le_bytes(*b"Y16 ") | 1 << 31).to_string(),
            "Y16 -BE"
        );
        assert_eq!(
            FourCc(u32::from_le_bytes(*b"XR15") | 1 << 31).to_string(),
            "XR15-BE"
        );
    }

    #[test]
    fn mjpeg_is_preferred_over_yuyv_at_its_largest_size_within_the_maximum() {
        let formats = [
            fmt(FourCc::YUYV, discrete(&[(640, 480), (1280, 720)])),
            fmt(
                FourCc::MJPG,
                discrete(&[(640, 480), (1920, 1080), (3840, 2160)]),
            ),
        ];
        let c = choose(&formats, FULL_HD).unwrap();
        assert_eq!(c.fourcc, FourCc::MJPG);
        assert_eq!(c.size, Some(FULL_HD), "4K is over the maximum");
    }

    #[test]
    fn yuyv_is_taken_when_mjpeg_is_absent_and_other_formats_are_ignored() {
        let formats = [
            fmt(FourCc::new(*b"NV12"), discrete(&[(4096, 2160)])),
            fmt(
                FourCc::YUYV,
                discrete(&[(320, 240), (1280, 720), (640, 480)]),
            ),
        ];
        let c = choose(&formats, FULL_HD).unwrap();
        assert_eq!(c.fourcc, FourCc::YUYV);
        assert_eq!(c.size, Some(sz(1280, 720)));
    }

    #[test]
    fn an_mjpeg_format_with_no_size_within_the_maximum_falls_back_to_yuyv() {
        let formats = [
            fmt(FourCc::MJPG, discrete(&[(3840, 2160)])),
            fmt(FourCc::YUYV, discrete(&[(640, 480)])),
        ];
        let c = choose(&formats, FULL_HD).unwrap();
        assert_eq!((c.fourcc, c.size), (FourCc::YUYV, Some(sz(640, 480))));
    }

    #[test]
    fn nothing_fitting_names_the_smallest_size_and_no_usable_format_names_the_offer() {
        let formats = [fmt(FourCc::YUYV, discrete(&[(1280, 720), (640, 480)]))];
        let e = choose(&formats, sz(320, 240)).unwrap_err();
        assert_eq!(
            e,
            ChoiceError::NoSizeWithin {
                fourcc: "YUYV".into(),
                max: sz(320, 240),
                smallest: "640x480".into()
            }
        );
        let e = choose(&[fmt(FourCc::new(*b"NV12"), FrameSizes::Unknown)], FULL_HD).unwrap_err();
        assert!(e.to_string().contains("NV12"), "{e}");
        let e = choose(&[], FULL_HD).unwrap_err();
        assert!(e.to_string().contains("offers: nothing"), "{e}");
    }

    #[test]
    fn stepwise_sizes_are_rounded_down_to_a_step_within_the_maximum() {
        let s = FrameSizes::Stepwise {
            min: sz(16, 16),
            max: sz(4096, 2304),
            step: sz(8, 8),
        };
        assert_eq!(s.largest_within(sz(1000, 700)), Some(sz(1000, 696)));
        assert_eq!(s.largest_within(sz(10, 10)), None, "below the minimum");
        let c = choose(&[fmt(FourCc::YUYV, s)], FULL_HD).unwrap();
        assert_eq!(c.size, Some(FULL_HD));
    }

    #[test]
    fn a_format_without_size_enumeration_keeps_the_current_size() {
        let c = choose(&[fmt(FourCc::YUYV, FrameSizes::Unknown)], FULL_HD).unwrap();
        assert_eq!(c.size, None);
    }

    #[test]
    fn sizes_parse_from_width_x_height() {
        assert_eq!("1280x720".parse::<Size>(), Ok(sz(1280, 720)));
        assert_eq!("640X480".parse::<Size>(), Ok(sz(640, 480)));
        for bad in ["", "1280", "0x480", "axb", "-1x2"] {
            assert!(bad.parse::<Size>().is_err(), "{bad}");
        }
    }
}

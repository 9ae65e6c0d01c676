//! Pad calibration: where the signing area lies in digitizer units, learnt from two corner taps, and
//! how a trace is mapped into it ([`SIGNING_AREA`] by default). Serialisable so the kit can keep it; its id is recorded with every
//! capture made under it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::Isdv4Error;
use crate::{PenPoint, PenTrace};

/// The signing area a pad's calibration maps traces onto, in pixels: what
/// [`Isdv4::calibrate`](super::Isdv4::calibrate) is given when the pad is calibrated as a
/// [`SignaturePad`](crate::SignaturePad).
pub const SIGNING_AREA: (u32, u32) = (600, 180);

/// Taps closer than this (digitizer units, about 2 mm on a 100 units/mm sensor) cannot be corners.
const MIN_SPAN: u32 = 200;

/// A mapping from digitizer units to the signing area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PadCalibration {
    /// `isdv4-cal-` and 16 hex digits: FNV-1a (64-bit) of the values below; changes when they do.
    pub id: String,
    /// Digitizer x, y where the operator tapped the signing area's top-left corner.
    pub top_left: [u32; 2],
    /// Digitizer x, y of the bottom-right tap. May be left of / above `top_left` on a pad mounted
    /// upside down; the mapping then mirrors.
    pub bottom_right: [u32; 2],
    /// Width and height of the signing area in the units of calibrated traces.
    pub area: [u32; 2],
}

/// FNV-1a, 64-bit: small, stable across Rust releases (unlike `DefaultHasher`), enough for an id.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl PadCalibration {
    /// Builds a calibration from the two corner taps, mapping onto an `area` of the given size.
    pub fn from_taps(
        top_left: (u32, u32),
        bottom_right: (u32, u32),
        area: (u32, u32),
    ) -> Result<Self, Isdv4Error> {
        let mut cal = PadCalibration {
            id: String::new(),
            top_left: [top_left.0, top_left.1],
            bottom_right: [bottom_right.0, bottom_right.1],
            area: [area.0, area.1],
        };
        cal.check_spans()?;
        cal.id = cal.expected_id();
        Ok(cal)
    }

    fn check_spans(&self) -> Result<(), Isdv4Error> {
        let dx = self.top_left[0].abs_diff(self.bottom_right[0]);
        let dy = self.top_left[1].abs_diff(self.bottom_right[1]);
        if dx < MIN_SPAN || dy < MIN_SPAN {
            return Err(Isdv4Error::Calibration(format!(
                "the corner taps are only {dx} × {dy} units apart (at least {MIN_SPAN} needed)"
            )));
        }
        if self.area[0] == 0 || self.area[1] == 0 {
            return Err(Isdv4Error::Calibration(format!(
                "the signing area is {} × {}, it needs a width and a height",
                self.area[0], self.area[1]
            )));
        }
        Ok(())
    }

    fn expected_id(&self) -> String {
        let canon = format!(
            "isdv4-cal-v1:{},{},{},{},{},{}",
            self.top_left[0],
            self.top_left[1],
            self.bottom_right[0],
            self.bottom_right[1],
            self.area[0],
            self.area[1]
        );
        format!("isdv4-cal-{:016x}", fnv1a64(canon.as_bytes()))
    }

    /// Checks a calibration read back from storage: sane spans and an id matching its values.
    pub fn validate(&self) -> Result<(), Isdv4Error> {
        self.check_spans()?;
        if self.id != self.expected_id() {
            return Err(Isdv4Error::Calibration(format!(
                "the stored id {} does not match its values (expected {}); the record was edited or damaged",
                self.id,
                self.expected_id()
            )));
        }
        Ok(())
    }

    /// Maps one digitizer position into the signing area, clamped to its edges.
    pub fn map(&self, x: u32, y: u32) -> (u32, u32) {
        let axis = |v: u32, a: u32, b: u32, size: u32| -> u32 {
            let (v, a, b) = (f64::from(v), f64::from(a), f64::from(b));
            let t = ((v - a) / (b - a)).clamp(0.0, 1.0);
            (t * f64::from(size)).round() as u32
        };
        (
            axis(x, self.top_left[0], self.bottom_right[0], self.area[0]),
            axis(y, self.top_left[1], self.bottom_right[1], self.area[1]),
        )
    }

    /// The trace in signing-area units; extents become the area's size.
    pub fn apply(&self, trace: &PenTrace) -> PenTrace {
        PenTrace {
            extent_x: self.area[0],
            extent_y: self.area[1],
            max_pressure: trace.max_pressure,
            points: trace
                .points
                .iter()
                .map(|p| {
                    let (x, y) = self.map(p.x, p.y);
                    PenPoint { x, y, ..*p }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corner_taps_map_to_the_area_corners_and_clamp_outside() {
        let cal = PadCalibration::from_taps((1_000, 500), (9_000, 2_500), (800, 200)).unwrap();
        assert_eq!(cal.map(1_000, 500), (0, 0));
        assert_eq!(cal.map(9_000, 2_500), (800, 200));
        assert_eq!(cal.map(5_000, 1_500), (400, 100));
        assert_eq!(cal.map(0, 9_999), (0, 200));
    }

    #[test]
    fn a_pad_mounted_upside_down_mirrors() {
        let cal = PadCalibration::from_taps((9_000, 2_500), (1_000, 500), (800, 200)).unwrap();
        assert_eq!(cal.map(9_000, 2_500), (0, 0));
        assert_eq!(cal.map(3_000, 1_000), (600, 150));
    }

    #[test]
    fn the_id_follows_the_values_and_survives_json() {
        let a = PadCalibration::from_taps((1_000, 500), (9_000, 2_500), (800, 200)).unwrap();
        let b = PadCalibration::from_taps((1_001, 500), (9_000, 2_500), (800, 200)).unwrap();
        assert!(
            a.id.starts_with("isdv4-cal-") && a.id.len() == 26,
            "{}",
            a.id
        );
        assert_ne!(a.id, b.id);
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"top_left\":[1000,500]"), "{json}");
        let back: PadCalibration = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        back.validate().unwrap();
        let mut edited = a.clone();
        edited.area[0] = 900;
        let e = edited.validate().unwrap_err().to_string();
        assert!(e.contains("does not match its values"), "{e}");
    }

    #[test]
    fn taps_too_close_together_are_refused_with_what_to_do() {
        let e = PadCalibration::from_taps((1_000, 500), (1_050, 2_500), (800, 200)).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("50 × 2000 units apart"), "{msg}");
        assert!(msg.contains("tap the two corners again"), "{msg}");
    }

    #[test]
    fn applying_maps_every_point_and_keeps_pen_state_and_time() {
        let cal = PadCalibration::from_taps((1_000, 1_000), (3_000, 2_000), (100, 50)).unwrap();
        let trace = PenTrace {
            extent_x: 4_000,
            extent_y: 3_000,
            max_pressure: 1023,
            points: vec![PenPoint {
                x: 2_000,
                y: 1_500,
                pressure: 700,
                t_ms: 12,
                touching: true,
            }],
        };
        let out = cal.apply(&trace);
        assert_eq!(
            (out.extent_x, out.extent_y, out.max_pressure),
            (100, 50, 1023)
        );
        assert_eq!(
            out.points,
            vec![PenPoint {
                x: 50,
                y: 25,
                pressure: 700,
                t_ms: 12,
                touching: true
            }]
        );
    }
}

//! The signature: the pen trace is the primary record ([`SignatureTrace`], the documented JSON file
//! `schemas/pen-trace.schema.json`), and the PNG is rendered from it ([`render`]) with an
//! anti-aliased stroke whose width follows the pen pressure.
//!
//! A resident who cannot sign may make a simple line or write their name (docs/field.md §3);
//! the operator records which with a [`SignatureKind`], kept in the trace file and the manifest.

use image::{GrayImage, ImageEncoder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::pen::{PenPoint, PenTrace};
use crate::device::DeviceRecord;

/// Value of [`SignatureTrace::format`].
pub const TRACE_FORMAT: &str = "jemput-pen-trace/1";

/// What the resident wrote on the pad; chosen by the operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    /// The resident's usual signature.
    #[default]
    Signature,
    /// A simple line or mark from a resident who cannot sign (accepted, and flagged).
    SimpleMark,
    /// The resident's name written out instead of a signature (accepted, and flagged).
    WrittenName,
}

impl SignatureKind {
    /// Whether this is something other than a usual signature (shown flagged to the office).
    pub fn is_flagged(self) -> bool {
        self != SignatureKind::Signature
    }

    /// Operator-facing label in Bahasa Indonesia.
    pub fn label_id(self) -> &'static str {
        match self {
            SignatureKind::Signature => "Tanda tangan",
            SignatureKind::SimpleMark => "Garis sederhana (tidak dapat tanda tangan)",
            SignatureKind::WrittenName => "Nama ditulis (tidak dapat tanda tangan)",
        }
    }

    /// Label in English.
    pub fn label_en(self) -> &'static str {
        match self {
            SignatureKind::Signature => "Signature",
            SignatureKind::SimpleMark => "Simple line (cannot sign)",
            SignatureKind::WrittenName => "Written name (cannot sign)",
        }
    }
}

/// The pen trace file (`signature-trace.json` in a packet): every sample the pad reported, what
/// the resident wrote, the pad and its calibration. The signature PNG is rendered from this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureTrace {
    /// Format identifier, `jemput-pen-trace/1`.
    pub format: String,
    /// What the resident wrote: a signature, a simple mark, or the written name.
    pub kind: SignatureKind,
    /// The pad that recorded the trace, when known.
    pub device: Option<DeviceRecord>,
    /// Id of the pad calibration in force (`jemput calibrate`); with one, coordinates are in
    /// signing-area units rather than raw sensor units.
    pub calibration_id: Option<String>,
    /// Width of the coordinate space: `x` runs from 0 (left) to this (right).
    pub extent_x: u32,
    /// Height of the coordinate space: `y` runs from 0 (top) to this (bottom).
    pub extent_y: u32,
    /// Full-scale pressure: `pressure` runs from 0 (pen up) to this.
    pub max_pressure: u32,
    /// The samples in the order the pad reported them, pen up and pen down.
    pub points: Vec<PenPoint>,
}

/// Why a trace file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    #[error("not a pen trace: {0}; expected a JSON file as `jemput capture signature --trace` writes (schemas/pen-trace.schema.json)")]
    Parse(String),
    #[error("unknown pen trace format {0:?}; this jemput reads {TRACE_FORMAT}")]
    Format(String),
    #[error("the pen trace has a zero extent ({0} × {1}); the pad must report its size")]
    Extent(u32, u32),
}

impl SignatureTrace {
    /// A trace file for `trace` as recorded by `device` with `calibration_id`.
    pub fn new(
        trace: PenTrace,
        kind: SignatureKind,
        device: Option<DeviceRecord>,
        calibration_id: Option<String>,
    ) -> Self {
        SignatureTrace {
            format: TRACE_FORMAT.into(),
            kind,
            device,
            calibration_id,
            extent_x: trace.extent_x,
            extent_y: trace.extent_y,
            max_pressure: trace.max_pressure,
            points: trace.points,
        }
    }

    /// The bare trace (points and extents).
    pub fn pen_trace(&self) -> PenTrace {
        PenTrace {
            extent_x: self.extent_x,
            extent_y: self.extent_y,
            max_pressure: self.max_pressure,
            points: self.points.clone(),
        }
    }

    /// Reads a trace file; a bare [`PenTrace`] (as jemput wrote before this format) is read as a
    /// signature of unknown device.
    pub fn parse(bytes: &[u8]) -> Result<Self, TraceError> {
        let t = match serde_json::from_slice::<SignatureTrace>(bytes) {
            Ok(t) => t,
            Err(first) => match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(v) if v.get("format").is_none() => {
                    let bare: PenTrace = serde_json::from_value(v)
                        .map_err(|_| TraceError::Parse(first.to_string()))?;
                    SignatureTrace::new(bare, SignatureKind::Signature, None, None)
                }
                _ => return Err(TraceError::Parse(first.to_string())),
            },
        };
        if t.format != TRACE_FORMAT {
            return Err(TraceError::Format(t.format));
        }
        if t.extent_x == 0 || t.extent_y == 0 {
            return Err(TraceError::Extent(t.extent_x, t.extent_y));
        }
        Ok(t)
    }

    /// The file's bytes: pretty JSON ending in a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a trace serialises");
        v.push(b'\n');
        v
    }
}

/// How a trace becomes a picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Image width in pixels; the height follows the trace's aspect ratio.
    pub width: u32,
    /// Stroke width in pixels at the lightest touch.
    pub min_stroke: f32,
    /// Stroke width in pixels at full pressure.
    pub max_stroke: f32,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            width: 600,
            min_stroke: 0.8,
            max_stroke: 4.0,
        }
    }
}

/// Grey level of paper and of ink.
const PAPER: f32 = 255.0;
const INK: f32 = 20.0;

/// The stroke width (pixels) drawn for `pressure` out of `max_pressure`: linear from
/// `min_stroke` at 0 to `max_stroke` at full scale.
pub fn stroke_width(opts: &RenderOptions, pressure: u32, max_pressure: u32) -> f32 {
    let p = (pressure as f32 / max_pressure.max(1) as f32).clamp(0.0, 1.0);
    opts.min_stroke + (opts.max_stroke - opts.min_stroke) * p
}

/// Renders the pen-down segments of `trace` dark on white. The pad's area is fitted into
/// `opts.width` × (width × extent_y ÷ extent_x) pixels with a margin of half the widest stroke;
/// each segment is a tapered capsule whose width runs from one sample's pressure to the next, and
/// each pixel is shaded by how much of it the stroke covers (anti-aliasing).
pub fn render(trace: &SignatureTrace, opts: &RenderOptions) -> GrayImage {
    let (ex, ey) = (trace.extent_x.max(1) as f32, trace.extent_y.max(1) as f32);
    let width = opts.width.max(8);
    let height = ((width as f32 * ey / ex).round() as u32).clamp(8, width * 4);
    let (w, h) = (width as usize, height as usize);
    let margin = opts.max_stroke.max(opts.min_stroke) / 2.0 + 1.0;
    let scale = ((width as f32 - 2.0 * margin) / ex).min((height as f32 - 2.0 * margin) / ey);
    let (ox, oy) = (
        (width as f32 - scale * ex) / 2.0,
        (height as f32 - scale * ey) / 2.0,
    );
    let at = |p: &PenPoint| (ox + scale * p.x as f32, oy + scale * p.y as f32);
    let mut cover = vec![0.0f32; w * h];
    for pair in trace.points.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if !(a.touching && b.touching) {
            continue;
        }
        let ra = stroke_width(opts, a.pressure, trace.max_pressure) / 2.0;
        let rb = stroke_width(opts, b.pressure, trace.max_pressure) / 2.0;
        stamp_segment(&mut cover, w, h, at(a), at(b), ra, rb);
    }
    // A lone pen-down sample (a dot) still leaves a mark.
    for (i, p) in trace.points.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| trace.points[j].touching);
        let next = trace.points.get(i + 1).map(|q| q.touching);
        if p.touching && prev != Some(true) && next != Some(true) {
            let r = stroke_width(opts, p.pressure, trace.max_pressure) / 2.0;
            stamp_segment(&mut cover, w, h, at(p), at(p), r, r);
        }
    }
    let pixels = cover
        .iter()
        .map(|c| (PAPER - (PAPER - INK) * c.clamp(0.0, 1.0)).round() as u8)
        .collect();
    GrayImage::from_raw(width, height, pixels).expect("buffer sized width × height")
}

/// Covers the pixels of a capsule from `p` (radius `rp`) to `q` (radius `rq`); coverage of a
/// pixel is 1 inside, 0 a pixel's width outside, linear across the edge, and the largest of the
/// segments' coverages where segments meet.
fn stamp_segment(
    cover: &mut [f32],
    w: usize,
    h: usize,
    p: (f32, f32),
    q: (f32, f32),
    rp: f32,
    rq: f32,
) {
    let r = rp.max(rq);
    let x0 = (p.0.min(q.0) - r - 1.0).floor().max(0.0) as usize;
    let y0 = (p.1.min(q.1) - r - 1.0).floor().max(0.0) as usize;
    let x1 = ((p.0.max(q.0) + r + 2.0).ceil().max(0.0) as usize).min(w);
    let y1 = ((p.1.max(q.1) + r + 2.0).ceil().max(0.0) as usize).min(h);
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let len2 = dx * dx + dy * dy;
    for y in y0..y1 {
        for x in x0..x1 {
            let (cx, cy) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = if len2 > 0.0 {
                (((cx - p.0) * dx + (cy - p.1) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (nx, ny) = (p.0 + t * dx - cx, p.1 + t * dy - cy);
            let d = (nx * nx + ny * ny).sqrt();
            let radius = rp + (rq - rp) * t;
            let c = (radius + 0.5 - d).clamp(0.0, 1.0);
            let cell = &mut cover[y * w + x];
            *cell = cell.max(c);
        }
    }
}

/// Encodes a rendered signature as PNG.
pub fn png(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .expect("encoding a greyscale image into memory cannot fail");
    out
}

/// Identifier of the signature quality score ([`quality`]), recorded with the score.
pub const SIGNATURE_QUALITY_ID: &str = "jemput-sigq/1";

/// What [`quality`] measured on a trace, and the score it gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignatureQuality {
    /// The score, 0–100.
    pub score: u8,
    /// Pen-down samples.
    pub samples: usize,
    /// Pen-down strokes.
    pub strokes: usize,
    /// Ink path length, in widths of the signing area.
    pub ink_widths: f64,
    /// Width of the ink's bounding box, as a fraction of the signing area's width.
    pub span: f64,
    /// How much the pen turned along its strokes, in radians.
    pub turning: f64,
}

/// How much was written, as a quality score 0–100 (`jemput-sigq/1`, jemput's own measure).
///
/// A signature is judged by how much it records, not by whose it is. Four parts, each capped at
/// 1 — the pen-down samples (against 60), the strokes (against 2), the ink length (against 1.5
/// widths of the signing area) and the horizontal span of the ink (against 30 % of the width) —
/// give their geometric mean; that is weighed by how much the pen turned (`0.5 + 0.5 × turning`,
/// the turning summed along each stroke against three full turns, 6π), so a straight stroke gets
/// half of what a curving one does. The score is 100 × the result, rounded down. An empty trace, a
/// tap or a dot score 0; a single straight line across the pad about 35; a usual signature of a
/// couple of words 90–100. It finds a pad that recorded nothing useful (a pen lifted too early, a
/// stuck button, a trace cut short); it does not verify the signer.
pub fn quality(trace: &PenTrace) -> SignatureQuality {
    let w = f64::from(trace.extent_x.max(1));
    // Turning is measured between points at least this far apart (in widths), so sensor jitter
    // on a pen held still does not count as writing.
    const STEP: f64 = 0.005;
    let mut samples = 0usize;
    let mut strokes = 0usize;
    let mut ink = 0.0f64;
    let mut turning = 0.0f64;
    let (mut min_x, mut max_x) = (u32::MAX, 0u32);
    let mut last: Option<&PenPoint> = None;
    // Within a stroke: the last vertex the turning was measured from, and the heading from it.
    let mut vertex = (0.0f64, 0.0f64);
    let mut heading: Option<f64> = None;
    for p in &trace.points {
        if !p.touching {
            last = None;
            continue;
        }
        samples += 1;
        min_x = min_x.min(p.x);
        max_x = max_x.max(p.x);
        let here = (f64::from(p.x) / w, f64::from(p.y) / w);
        match last {
            None => {
                strokes += 1;
                vertex = here;
                heading = None;
            }
            Some(q) => {
                // Both axes in widths of the area (the pads' units are square).
                let dx = f64::from(p.x) - f64::from(q.x);
                let dy = f64::from(p.y) - f64::from(q.y);
                ink += dx.hypot(dy) / w;
                let (vx, vy) = (here.0 - vertex.0, here.1 - vertex.1);
                if vx.hypot(vy) >= STEP {
                    let h = vy.atan2(vx);
                    if let Some(prev) = heading {
                        let mut d = (h - prev).abs();
                        if d > std::f64::consts::PI {
                            d = 2.0 * std::f64::consts::PI - d;
                        }
                        turning += d;
                    }
                    heading = Some(h);
                    vertex = here;
                }
            }
        }
        last = Some(p);
    }
    let span = if samples == 0 {
        0.0
    } else {
        f64::from(max_x - min_x) / w
    };
    let parts = [
        samples as f64 / 60.0,
        strokes as f64 / 2.0,
        ink / 1.5,
        span / 0.3,
    ];
    let amount = parts
        .iter()
        .map(|p| p.clamp(0.0, 1.0))
        .product::<f64>()
        .powf(1.0 / parts.len() as f64);
    let curving = (turning / (6.0 * std::f64::consts::PI)).clamp(0.0, 1.0);
    let q = amount * (0.5 + 0.5 * curving);
    SignatureQuality {
        score: (100.0 * q).floor().clamp(0.0, 100.0) as u8,
        samples,
        strokes,
        ink_widths: ink,
        span,
        turning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trace of `points` on a pad of the synthetic pad's size.
    fn pad_trace(points: Vec<PenPoint>) -> PenTrace {
        PenTrace {
            extent_x: 10_000,
            extent_y: 3_000,
            max_pressure: 1023,
            points,
        }
    }

    #[test]
    fn quality_is_zero_for_nothing_and_low_for_a_dot() {
        let empty = pad_trace(Vec::new());
        assert_eq!(quality(&empty).score, 0);
        let hover = pad_trace(
            (0..50)
                .map(|i| point(100 + i * 10, 500, 0, i * 5))
                .collect(),
        );
        assert_eq!(quality(&hover).score, 0, "hovering never touches");
        let dot = pad_trace((0..50).map(|i| point(3_000, 2_000, 500, i * 5)).collect());
        let q = quality(&dot);
        assert_eq!((q.samples, q.strokes), (50, 1));
        assert_eq!(q.score, 0, "a pen held still draws no ink: {q:?}");
    }

    fn point(x: u32, y: u32, pressure: u32, t_ms: u32) -> PenPoint {
        PenPoint {
            x,
            y,
            pressure,
            t_ms,
            touching: pressure > 0,
        }
    }

    /// Ink across column `x`, in pixels: the sum of each pixel's darkness (1 = full ink).
    fn ink_across(img: &GrayImage, x: u32, rows: std::ops::Range<u32>) -> f32 {
        rows.map(|y| (PAPER - f32::from(img.get_pixel(x, y).0[0])) / (PAPER - INK))
            .sum()
    }

    /// Two horizontal strokes: light on top, firm below, and a third whose pressure ramps up.
    fn strokes() -> SignatureTrace {
        let mut points = Vec::new();
        let mut t = 0;
        for (y, p0, p1) in [(2_000, 200, 200), (5_000, 1000, 1000), (8_000, 0, 1000)] {
            for i in 0..=40 {
                t += 5;
                let p = p0 + (p1 - p0) * i / 40;
                points.push(point(1_000 + i * 200, y, p.max(1), t));
            }
            t += 5;
            points.push(point(9_000, y, 0, t));
        }
        SignatureTrace::new(
            PenTrace {
                extent_x: 10_000,
                extent_y: 10_000,
                max_pressure: 1000,
                points,
            },
            SignatureKind::Signature,
            None,
            None,
        )
    }

    #[test]
    fn stroke_width_follows_pressure_in_the_rendered_image() {
        let opts = RenderOptions {
            width: 400,
            min_stroke: 1.0,
            max_stroke: 6.0,
        };
        let img = render(&strokes(), &opts);
        assert_eq!(img.dimensions(), (400, 400));
        let scale = (400.0 - 2.0 * 4.0) / 10_000.0;
        let row = |y: f32| (4.0 + y * scale) as u32;
        let band = |y: f32| row(y) - 10..row(y) + 10;
        // Light stroke: 200/1000 of the way from 1 to 6 px = 2 px; firm: 5.8 px.
        let light = ink_across(&img, 200, band(2_000.0));
        let firm = ink_across(&img, 200, band(5_000.0));
        assert!((light - 2.0).abs() < 0.35, "light stroke {light} px wide");
        assert!((firm - 5.8).abs() < 0.35, "firm stroke {firm} px wide");
        // The ramp gets wider from left to right.
        let ramp: Vec<f32> = [60, 120, 200, 280, 340]
            .iter()
            .map(|&x| ink_across(&img, x, band(8_000.0)))
            .collect();
        assert!(ramp.windows(2).all(|w| w[1] > w[0] + 0.3), "{ramp:?}");
    }

    #[test]
    fn edges_are_anti_aliased_and_pen_up_moves_leave_no_ink() {
        let img = render(&strokes(), &RenderOptions::default());
        let grey = img
            .pixels()
            .filter(|p| p.0[0] > INK as u8 + 10 && p.0[0] < 245)
            .count();
        let dark = img.pixels().filter(|p| p.0[0] <= INK as u8 + 10).count();
        assert!(grey > 300 && dark > 300, "{grey} grey, {dark} dark pixels");
        // The pen lifts at x = 9 000 and moves down to the next stroke: the right edge stays paper.
        let x = (img.width() as f32 * 0.95) as u32;
        assert!((0..img.height()).all(|y| img.get_pixel(x, y).0[0] == 255));
    }

    #[test]
    fn a_bare_pen_trace_still_reads_and_other_formats_do_not() {
        let bare = serde_json::to_vec(&strokes().pen_trace()).unwrap();
        let t = SignatureTrace::parse(&bare).unwrap();
        assert_eq!(
            (t.kind, t.device, t.points.len()),
            (SignatureKind::Signature, None, 126)
        );
        let mut other = strokes();
        other.format = "jemput-pen-trace/9".into();
        let e = SignatureTrace::parse(&other.to_json()).unwrap_err();
        assert!(e.to_string().contains("jemput-pen-trace/9"), "{e}");
        let e = SignatureTrace::parse(b"{\"points\": 3}").unwrap_err();
        assert!(e.to_string().contains("not a pen trace"), "{e}");
        let mut flat = strokes();
        flat.extent_y = 0;
        assert!(matches!(
            SignatureTrace::parse(&flat.to_json()),
            Err(TraceError::Extent(10_000, 0))
        ));
    }

    #[test]
    fn kind_and_calibration_survive_the_file() {
        let mut t = strokes();
        t.kind = SignatureKind::WrittenName;
        t.calibration_id = Some("cal-1".into());
        let back = SignatureTrace::parse(&t.to_json()).unwrap();
        assert_eq!(back, t);
        assert!(back.kind.is_flagged());
        assert!(!SignatureKind::Signature.is_flagged());
    }
}

//! Face photo checks without a face model: size, aspect ratio, exposure, sharpness, background
//! uniformity and the background colour rule; and the JPEG the photo is stored as.
//!
//! Each check gives the operator a pass or fail, the number it measured and the threshold it was
//! held to ([`CheckResult`]). The checks are [`FaceCheck`]s, so a face detector (eyes open, one
//! face, pose, neutral expression) can be added beside them with [`FaceChecker::with`].
//!
//! **No face detector ships.** None of the checks here knows where the face is: they measure the
//! whole frame, its centre and its border, so eyes closed, a turned head, two people or no one at
//! all pass unnoticed. A detector could be installed from a registry — the `rustface` crate
//! (SeetaFace, BSD-2, with its model file in the crate), or on PyPI `opencv-python-headless` (Haar
//! cascades bundled) and `mediapipe` (BlazeFace bundled) — but none is wired in yet: it is left for
//! later, behind [`FaceCheck`]. The algorithm id [`FACE_CHECKS_ID`] is recorded with every report
//! so results are never mistaken for a detector's.

use image::{imageops, GrayImage, RgbImage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Identifier of the built-in checks, recorded in every [`FaceReport`].
pub const FACE_CHECKS_ID: &str = "jemput-face-checks/1";

/// Identifier of the face quality score ([`FaceReport::quality_score`]), recorded with the score.
pub const FACE_QUALITY_ID: &str = "jemput-faceq/1";

/// Width the sharpness measure works at: larger photos are scaled down to it first, so the same
/// scene scores the same whatever the camera's resolution.
const ANALYSIS_WIDTH: u32 = 480;
/// A pixel whose luma is at or above this is a clipped highlight.
const HIGHLIGHT_LUMA: u8 = 247;
/// A pixel whose luma is at or below this is a clipped shadow.
const SHADOW_LUMA: u8 = 8;
/// Thickness of the border bands that show the background, as a fraction of the width (side bands)
/// and the height (top band).
const BORDER: f64 = 0.08;
/// The side bands reach this far down the frame (below it, the shoulders may touch the edges).
const SIDE_BAND_DEPTH: f64 = 0.55;

/// Everything the face checks and the stored photo are held to (`face` in the kit config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FaceSettings {
    /// Smallest accepted photo width in pixels.
    pub min_width: u32,
    /// Smallest accepted photo height in pixels.
    pub min_height: u32,
    /// Expected width ÷ height (0.75 for a 3 × 4 portrait).
    pub aspect: f64,
    /// Largest accepted difference between the photo's width ÷ height and `aspect`.
    pub aspect_tolerance: f64,
    /// Largest accepted fraction (0–1) of pixels with clipped highlights (luma ≥ 247).
    pub max_highlight_clip: f64,
    /// Largest accepted fraction (0–1) of pixels with clipped shadows (luma ≤ 8).
    pub max_shadow_clip: f64,
    /// Smallest accepted variance of the Laplacian of the central half of the photo, measured at
    /// 480 px wide (a blurred or shaken photo scores low).
    pub min_sharpness: f64,
    /// Largest accepted standard deviation (grey levels, RMS over R, G, B) of the background seen in
    /// the top and upper side borders (a cluttered or unevenly lit backdrop scores high).
    pub max_background_std: f64,
    /// Which backdrop colour the resident's photo needs.
    pub background: BackgroundRule,
    /// How the photo is stored in the packet.
    pub store: JpegSettings,
}

impl Default for FaceSettings {
    fn default() -> Self {
        FaceSettings {
            min_width: 400,
            min_height: 500,
            aspect: 0.75,
            aspect_tolerance: 0.05,
            max_highlight_clip: 0.05,
            max_shadow_clip: 0.05,
            min_sharpness: 30.0,
            max_background_std: 12.0,
            background: BackgroundRule::default(),
            store: JpegSettings::default(),
        }
    }
}

/// The backdrop colour rule (docs/field.md §1, press-level, so a setting): citizens born in an
/// odd year on one colour, in an even year on another, foreigners on a third. Off when disabled or
/// when the birth year is unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BackgroundRule {
    /// Whether the rule is checked at all.
    pub enabled: bool,
    /// Backdrop for citizens born in an odd year, `[r, g, b]` (red as reported).
    pub odd_year: [u8; 3],
    /// Backdrop for citizens born in an even year, `[r, g, b]` (blue as reported).
    pub even_year: [u8; 3],
    /// Backdrop for foreigners, `[r, g, b]` (orange as reported).
    pub foreigner: [u8; 3],
    /// Largest accepted distance in RGB space (0–441) between the measured backdrop and the
    /// expected colour; lighting and white balance move it, another colour moves it far more.
    pub max_distance: f64,
}

impl Default for BackgroundRule {
    fn default() -> Self {
        BackgroundRule {
            enabled: true,
            odd_year: [200, 30, 40],
            even_year: [30, 70, 200],
            foreigner: [240, 130, 30],
            max_distance: 100.0,
        }
    }
}

impl BackgroundRule {
    /// The backdrop colour `ctx` calls for, with its name; `None` when the rule is off or the
    /// resident's birth year is unknown (a foreigner needs no birth year).
    pub fn expected(&self, ctx: &FaceContext) -> Option<([u8; 3], &'static str)> {
        if !self.enabled {
            return None;
        }
        if ctx.foreigner {
            return Some((self.foreigner, "foreigner"));
        }
        let year = ctx.birth_year?;
        Some(if year.rem_euclid(2) == 1 {
            (self.odd_year, "odd birth year")
        } else {
            (self.even_year, "even birth year")
        })
    }
}

/// The JPEG the face is stored as: cropped to the width ÷ height of `width × height` about the
/// centre, scaled down to that size (never up), encoded at `quality`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JpegSettings {
    /// Stored width in pixels.
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
    /// JPEG quality 1–100.
    pub quality: u8,
}

impl Default for JpegSettings {
    fn default() -> Self {
        JpegSettings {
            width: 480,
            height: 640,
            quality: 90,
        }
    }
}

/// What the checks know about the resident.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaceContext {
    /// Year of birth, when known (drives the backdrop colour rule).
    pub birth_year: Option<i16>,
    /// Whether the resident is a foreigner (KTP-el for foreigners).
    pub foreigner: bool,
}

/// How a measured value is held to its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// Passes when the value is at least the threshold.
    AtLeast,
    /// Passes when the value is at most the threshold.
    AtMost,
}

/// The outcome of one check, as the operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    /// Stable id of the check, e.g. `sharpness`.
    pub check: String,
    /// Whether the photo passed this check.
    pub passed: bool,
    /// What was measured.
    pub value: f64,
    /// What it was held to.
    pub threshold: f64,
    /// Whether `value` must reach `threshold` or stay under it.
    pub bound: Bound,
    /// Unit of `value` and `threshold`, e.g. `px`, `fraction`.
    pub unit: String,
    /// What the check looks at, or on failure what to do, in Bahasa Indonesia.
    pub message_id: String,
    /// The same in English.
    pub message_en: String,
}

impl CheckResult {
    /// A result for `value` held to `threshold` by `bound`; the messages are the advice shown on
    /// failure, or the check's name on a pass.
    pub fn measure(
        check: &str,
        value: f64,
        threshold: f64,
        bound: Bound,
        unit: &str,
        ok: (&str, &str),
        fail: (&str, &str),
    ) -> CheckResult {
        let passed = match bound {
            Bound::AtLeast => value >= threshold,
            Bound::AtMost => value <= threshold,
        };
        let (id, en) = if passed { ok } else { fail };
        CheckResult {
            check: check.into(),
            passed,
            value,
            threshold,
            bound,
            unit: unit.into(),
            message_id: id.into(),
            message_en: en.into(),
        }
    }
}

/// All checks of one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaceReport {
    /// Algorithm id of the built-in checks ([`FACE_CHECKS_ID`]) and of any plugged-in check.
    pub algorithms: Vec<String>,
    /// Whether every check passed.
    pub passed: bool,
    /// Each check's outcome, in the order they ran.
    pub checks: Vec<CheckResult>,
    /// Photo size as decoded.
    pub width: u32,
    /// Photo height as decoded.
    pub height: u32,
}

impl FaceReport {
    /// How many checks passed.
    pub fn passed_count(&self) -> usize {
        self.checks.iter().filter(|c| c.passed).count()
    }

    /// The photo's quality score 0–100 ([`FACE_QUALITY_ID`]): the margin of its weakest check.
    ///
    /// Each check's measured value is set against its threshold as a ratio `r` (`value /
    /// threshold` for an at-least bound, `threshold / value` for an at-most one), so `r ≥ 1` is a
    /// pass; the check's part is `50 · min(r, 2)`, and the score is the smallest part, rounded
    /// down. So **50 means every check passed** (with no headroom on at least one), 100 that every
    /// check passed with its value at least twice as good as needed, and a score under 50 tells
    /// how far the worst check fell short (25: half of what it needed). A report with no checks
    /// scores 0. This is jemput's own measure of how far the photo is from the checks' limits —
    /// not an ISO/IEC 29794-5 face quality nor MOSIP's SDK score — so its thresholds are not
    /// comparable with theirs.
    pub fn quality_score(&self) -> u8 {
        let parts = self.checks.iter().map(|c| {
            let r = match c.bound {
                Bound::AtLeast if c.threshold <= 0.0 => 2.0,
                Bound::AtLeast => c.value / c.threshold,
                Bound::AtMost if c.value <= 0.0 => 2.0,
                Bound::AtMost => c.threshold / c.value,
            };
            let r = if r.is_nan() { 0.0 } else { r };
            // A failed check never reaches 50, even where rounding would lift it there.
            let part = 50.0 * r.clamp(0.0, 2.0);
            if c.passed {
                part.max(50.0)
            } else {
                part.min(49.0)
            }
        });
        let worst = parts.fold(f64::INFINITY, f64::min);
        if worst.is_finite() {
            worst.floor().clamp(0.0, 100.0) as u8
        } else {
            0
        }
    }
}

/// A decoded photo and the grey version the checks share.
#[derive(Debug, Clone)]
pub struct FacePhoto {
    /// The photo in RGB.
    pub rgb: RgbImage,
    /// Its luma (Rec. 601).
    pub luma: GrayImage,
}

impl FacePhoto {
    /// Wraps an RGB image.
    pub fn new(rgb: RgbImage) -> Self {
        let luma = imageops::grayscale(&rgb);
        FacePhoto { rgb, luma }
    }

    /// Decodes a JPEG (or PNG) file.
    pub fn decode(bytes: &[u8]) -> Result<Self, FaceError> {
        let img = image::load_from_memory(bytes).map_err(|e| FaceError::Decode(e.to_string()))?;
        if img.width() == 0 || img.height() == 0 {
            return Err(FaceError::Decode("the image has no pixels".into()));
        }
        Ok(FacePhoto::new(img.to_rgb8()))
    }
}

/// Why a photo could not be checked or stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FaceError {
    #[error(
        "the photo is not a readable image ({0}); take it again, and check the camera saves JPEG"
    )]
    Decode(String),
    #[error("cannot encode the photo as JPEG: {0}")]
    Encode(String),
}

/// One check of a face photo. The built-in ones measure the frame; a face detector plugs in here.
pub trait FaceCheck: Send + Sync {
    /// Identifier recorded in the report's `algorithms` (e.g. a detector's name and version).
    fn algorithm_id(&self) -> &str {
        FACE_CHECKS_ID
    }
    /// The outcomes for `photo`; empty when the check does not apply (e.g. no birth year).
    fn check(&self, photo: &FacePhoto, ctx: &FaceContext) -> Vec<CheckResult>;
}

/// Runs a list of checks: the built-in ones from [`FaceSettings`], and any added.
pub struct FaceChecker {
    checks: Vec<Box<dyn FaceCheck>>,
}

impl std::fmt::Debug for FaceChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceChecker")
            .field("checks", &self.checks.len())
            .finish()
    }
}

impl FaceChecker {
    /// The built-in checks with `settings`' thresholds.
    pub fn new(settings: &FaceSettings) -> Self {
        let s = settings.clone();
        FaceChecker {
            checks: vec![
                Box::new(Resolution(s.clone())),
                Box::new(Exposure(s.clone())),
                Box::new(Sharpness(s.clone())),
                Box::new(Background(s)),
            ],
        }
    }

    /// Adds a check (a face detector, say) after the built-in ones.
    pub fn with(mut self, check: Box<dyn FaceCheck>) -> Self {
        self.checks.push(check);
        self
    }

    /// Runs every check on `photo`.
    pub fn run(&self, photo: &FacePhoto, ctx: &FaceContext) -> FaceReport {
        let mut algorithms: Vec<String> = Vec::new();
        let mut checks = Vec::new();
        for c in &self.checks {
            let id = c.algorithm_id().to_string();
            if !algorithms.contains(&id) {
                algorithms.push(id);
            }
            checks.extend(c.check(photo, ctx));
        }
        FaceReport {
            algorithms,
            passed: checks.iter().all(|c| c.passed),
            checks,
            width: photo.rgb.width(),
            height: photo.rgb.height(),
        }
    }
}

struct Resolution(FaceSettings);

impl FaceCheck for Resolution {
    fn check(&self, photo: &FacePhoto, _: &FaceContext) -> Vec<CheckResult> {
        let s = &self.0;
        let (w, h) = photo.rgb.dimensions();
        let small = (
            "Foto terlalu kecil: pakai resolusi kamera yang lebih tinggi atau dekatkan kamera",
            "Photo too small: use a higher camera resolution or move closer",
        );
        let aspect = f64::from(w) / f64::from(h);
        vec![
            CheckResult::measure(
                "width",
                w.into(),
                s.min_width.into(),
                Bound::AtLeast,
                "px",
                ("Lebar foto", "Photo width"),
                small,
            ),
            CheckResult::measure(
                "height",
                h.into(),
                s.min_height.into(),
                Bound::AtLeast,
                "px",
                ("Tinggi foto", "Photo height"),
                small,
            ),
            CheckResult::measure(
                "aspect_ratio",
                (aspect - s.aspect).abs(),
                s.aspect_tolerance,
                Bound::AtMost,
                &format!("|width/height − {}| (photo: {aspect:.3})", s.aspect),
                ("Perbandingan lebar/tinggi", "Width to height ratio"),
                (
                    "Perbandingan lebar/tinggi salah: pegang kamera tegak (potret)",
                    "Wrong width to height ratio: hold the camera upright (portrait)",
                ),
            ),
        ]
    }
}

struct Exposure(FaceSettings);

impl FaceCheck for Exposure {
    fn check(&self, photo: &FacePhoto, _: &FaceContext) -> Vec<CheckResult> {
        let n = photo.luma.as_raw().len().max(1) as f64;
        let high = photo.luma.as_raw().iter().filter(|&&v| v >= HIGHLIGHT_LUMA);
        let low = photo.luma.as_raw().iter().filter(|&&v| v <= SHADOW_LUMA);
        vec![
            CheckResult::measure(
                "highlights_clipped",
                high.count() as f64 / n,
                self.0.max_highlight_clip,
                Bound::AtMost,
                "fraction",
                ("Bagian terlalu terang", "Blown-out highlights"),
                (
                    "Foto terlalu terang: kurangi cahaya atau matikan lampu kilat",
                    "Photo too bright: reduce the light or turn the flash off",
                ),
            ),
            CheckResult::measure(
                "shadows_clipped",
                low.count() as f64 / n,
                self.0.max_shadow_clip,
                Bound::AtMost,
                "fraction",
                ("Bagian terlalu gelap", "Crushed shadows"),
                (
                    "Foto terlalu gelap: tambah cahaya di depan wajah",
                    "Photo too dark: add light in front of the face",
                ),
            ),
        ]
    }
}

struct Sharpness(FaceSettings);

/// Variance of the 4-neighbour Laplacian over the central half (in each direction) of `luma`,
/// after scaling it to 480 px wide when it is wider.
pub fn laplacian_variance(luma: &GrayImage) -> f64 {
    let scaled;
    let img = if luma.width() > ANALYSIS_WIDTH {
        let h = (u64::from(luma.height()) * u64::from(ANALYSIS_WIDTH) / u64::from(luma.width()))
            .max(1) as u32;
        scaled = imageops::resize(luma, ANALYSIS_WIDTH, h, imageops::FilterType::Triangle);
        &scaled
    } else {
        luma
    };
    let (w, h) = img.dimensions();
    let (x0, x1) = ((w / 4).max(1), (w * 3 / 4).min(w.saturating_sub(1)));
    let (y0, y1) = ((h / 4).max(1), (h * 3 / 4).min(h.saturating_sub(1)));
    let px = |x: u32, y: u32| f64::from(img.get_pixel(x, y).0[0]);
    let (mut sum, mut sum2, mut n) = (0.0, 0.0, 0.0);
    for y in y0..y1 {
        for x in x0..x1 {
            let l = px(x - 1, y) + px(x + 1, y) + px(x, y - 1) + px(x, y + 1) - 4.0 * px(x, y);
            sum += l;
            sum2 += l * l;
            n += 1.0;
        }
    }
    if n == 0.0 {
        return 0.0;
    }
    let mean = sum / n;
    (sum2 / n - mean * mean).max(0.0)
}

impl FaceCheck for Sharpness {
    fn check(&self, photo: &FacePhoto, _: &FaceContext) -> Vec<CheckResult> {
        vec![CheckResult::measure(
            "sharpness",
            laplacian_variance(&photo.luma),
            self.0.min_sharpness,
            Bound::AtLeast,
            "Laplacian variance",
            ("Ketajaman", "Sharpness"),
            (
                "Foto kabur: fokuskan kamera, tahan kamera diam, minta warga tidak bergerak",
                "Photo blurred: focus, hold the camera still, ask the resident not to move",
            ),
        )]
    }
}

struct Background(FaceSettings);

/// Mean colour and RMS standard deviation (over R, G, B) of the top band and the upper side bands.
pub fn background_stats(rgb: &RgbImage) -> ([f64; 3], f64) {
    let (w, h) = rgb.dimensions();
    let bx = ((f64::from(w) * BORDER).round() as u32).max(1).min(w);
    let by = ((f64::from(h) * BORDER).round() as u32).max(1).min(h);
    let side_end = ((f64::from(h) * SIDE_BAND_DEPTH).round() as u32).clamp(by, h);
    let mut sum = [0.0f64; 3];
    let mut sum2 = [0.0f64; 3];
    let mut n = 0.0;
    let mut add = |x: u32, y: u32| {
        let p = rgb.get_pixel(x, y).0;
        for c in 0..3 {
            let v = f64::from(p[c]);
            sum[c] += v;
            sum2[c] += v * v;
        }
        n += 1.0;
    };
    for y in 0..by {
        for x in 0..w {
            add(x, y);
        }
    }
    for y in by..side_end {
        for x in (0..bx).chain(w.saturating_sub(bx)..w) {
            add(x, y);
        }
    }
    if n == 0.0 {
        return ([0.0; 3], 0.0);
    }
    let mean = sum.map(|s| s / n);
    let var: f64 = (0..3)
        .map(|c| (sum2[c] / n - mean[c] * mean[c]).max(0.0))
        .sum::<f64>()
        / 3.0;
    (mean, var.sqrt())
}

impl FaceCheck for Background {
    fn check(&self, photo: &FacePhoto, ctx: &FaceContext) -> Vec<CheckResult> {
        let (mean, std) = background_stats(&photo.rgb);
        let mut out = vec![CheckResult::measure(
            "background_uniform",
            std,
            self.0.max_background_std,
            Bound::AtMost,
            "grey levels (std)",
            ("Latar polos", "Plain background"),
            (
                "Latar belakang tidak polos: pasang kain latar di belakang kepala, ratakan cahaya",
                "Background not plain: hang the backdrop behind the head, light it evenly",
            ),
        )];
        if let Some((want, why)) = self.0.background.expected(ctx) {
            let d = (0..3)
                .map(|c| (mean[c] - f64::from(want[c])).powi(2))
                .sum::<f64>()
                .sqrt();
            let (fid, fen) = match why {
                "foreigner" => (
                    "Warna latar salah: WNA memakai latar oranye",
                    "Wrong backdrop colour: foreigners use the orange backdrop",
                ),
                "odd birth year" => (
                    "Warna latar salah: lahir di tahun ganjil memakai latar merah",
                    "Wrong backdrop colour: an odd birth year uses the red backdrop",
                ),
                _ => (
                    "Warna latar salah: lahir di tahun genap memakai latar biru",
                    "Wrong backdrop colour: an even birth year uses the blue backdrop",
                ),
            };
            out.push(CheckResult::measure(
                "background_colour",
                d,
                self.0.background.max_distance,
                Bound::AtMost,
                "RGB distance",
                ("Warna latar", "Backdrop colour"),
                (fid, fen),
            ));
        }
        out
    }
}

/// Crops `rgb` about its centre to the width ÷ height of `store`, scales it down to that size
/// (never up) and encodes it as JPEG. Returns the file and its size.
pub fn encode_for_storage(
    rgb: &RgbImage,
    store: &JpegSettings,
) -> Result<(Vec<u8>, u32, u32), FaceError> {
    let (w, h) = rgb.dimensions();
    if w == 0 || h == 0 || store.width == 0 || store.height == 0 {
        return Err(FaceError::Encode(format!(
            "cannot fit a {w} × {h} photo into {} × {}",
            store.width, store.height
        )));
    }
    // Crop to the target aspect.
    let target = f64::from(store.width) / f64::from(store.height);
    let (cw, ch) = if f64::from(w) / f64::from(h) > target {
        (((f64::from(h) * target).round() as u32).clamp(1, w), h)
    } else {
        (w, ((f64::from(w) / target).round() as u32).clamp(1, h))
    };
    let cropped = imageops::crop_imm(rgb, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
    let out = if cw > store.width {
        imageops::resize(
            &cropped,
            store.width,
            store.height,
            imageops::FilterType::CatmullRom,
        )
    } else {
        cropped
    };
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, store.quality.clamp(1, 100))
        .encode_image(&out)
        .map_err(|e| FaceError::Encode(e.to_string()))?;
    Ok((bytes, out.width(), out.height()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(value: f64, threshold: f64, bound: Bound) -> CheckResult {
        CheckResult::measure("c", value, threshold, bound, "u", ("", ""), ("", ""))
    }

    fn report_of(checks: Vec<CheckResult>) -> FaceReport {
        FaceReport {
            algorithms: vec![FACE_CHECKS_ID.into()],
            passed: checks.iter().all(|c| c.passed),
            checks,
            width: 480,
            height: 640,
        }
    }

    #[test]
    fn the_quality_score_is_the_weakest_checks_margin_and_50_means_all_passed() {
        use Bound::*;
        // Exactly at every threshold: 50.
        let at = report_of(vec![
            measured(100.0, 100.0, AtLeast),
            measured(0.1, 0.1, AtMost),
        ]);
        assert_eq!(at.quality_score(), 50);
        // Twice as good as needed everywhere (or better): 100.
        let good = report_of(vec![
            measured(300.0, 100.0, AtLeast),
            measured(0.0, 0.1, AtMost),
        ]);
        assert_eq!(good.quality_score(), 100);
        // The weakest decides: one check at 1.5× gives 75 whatever the others.
        let mixed = report_of(vec![
            measured(150.0, 100.0, AtLeast),
            measured(0.01, 0.1, AtMost),
        ]);
        assert_eq!(mixed.quality_score(), 75);
        // A failed check, however close, stays under 50, and how far it fell shows.
        let close = report_of(vec![
            measured(99.9, 100.0, AtLeast),
            measured(0.0, 0.1, AtMost),
        ]);
        assert!(!close.passed);
        assert_eq!(close.quality_score(), 49);
        let half = report_of(vec![measured(0.2, 0.1, AtMost)]);
        assert_eq!(half.quality_score(), 25);
        // Nothing measured, or nonsense measured, is no quality.
        assert_eq!(report_of(Vec::new()).quality_score(), 0);
        assert_eq!(
            report_of(vec![measured(f64::NAN, 1.0, AtLeast)]).quality_score(),
            0
        );
    }

    #[test]
    fn bytes_that_are_no_image_give_an_error() {
        let e = FacePhoto::decode(b"\xFF\xD8not a jpeg").unwrap_err();
        assert!(e.to_string().contains("take it again"), "{e}");
    }
}

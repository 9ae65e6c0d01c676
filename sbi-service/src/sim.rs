//! The simulated devices of `jemput sbi serve --sim`: a slap scanner (deviceSubId 1 left slap,
//! 2 right slap, 3 two thumbs; each slap segmented into its fingers, exceptions left out) and a
//! camera, both drawing the drivers' synthetic prints and faces of one resident. Both give a live
//! preview (`STREAM`): the camera a face that sways in and out of the guide frame, the slap
//! scanner its fingers being pressed on the platen, each with the guides and a quality bar the
//! specification asks a preview to show.

use std::sync::atomic::Ordering;
use std::time::Duration;

use image::{GrayImage, Rgb, RgbImage};
use jemput_drivers::synth;
use jemput_drivers::{CaptureControl, FingerPosition};

use jemput_sbi::proto;

use crate::records;
use crate::serve::{Backend, CaptureFailure, Captured, Wraps};

/// The simulated camera's backdrop (red: a citizen born in an odd year).
const BACKDROP: [u8; 3] = [200, 40, 40];
/// The simulated camera's preview frames: a quarter of the portrait's pixels.
pub const CAMERA_PREVIEW: (u32, u32) = (240, 320);
/// How much smaller than the scanner's image each finger of the slap preview is.
const SLAP_PREVIEW_SCALE: u32 = 4;
/// Pixels around and between the fingers of the slap preview.
const SLAP_PREVIEW_GAP: u32 = 12;
/// Frames of one press in the slap preview: the fingers come down for half, then lie still.
const PRESS_FRAMES: u64 = 20;
/// JPEG quality of preview frames.
const PREVIEW_JPEG_QUALITY: u8 = 80;
/// The guides' colours: placed well, not yet.
const GOOD: [u8; 3] = [40, 200, 60];
const NOT_YET: [u8; 3] = [240, 190, 20];

/// The simulated slap scanner.
#[derive(Debug, Clone)]
pub struct SimSlap {
    /// Whose fingers it reads.
    pub person_seed: u64,
    /// 0.0–1.0: how clean the prints are (the device's quality score is this × 100).
    pub quality: f32,
    /// How the records code each print.
    pub finger_image: records::FingerCoding,
}

impl Backend for SimSlap {
    fn bio_type(&self) -> &'static str {
        "Finger"
    }
    fn device_sub_type(&self) -> &'static str {
        "Slap"
    }
    fn make(&self) -> String {
        "jemput".into()
    }
    fn model(&self) -> String {
        "sim-slap".into()
    }
    fn serial(&self) -> String {
        "JEMPUTSIMSLAP0001".into()
    }
    fn sub_ids(&self) -> Vec<u8> {
        vec![1, 2, 3]
    }
    fn capture(
        &self,
        _sub_id: u8,
        fingers: &[u8],
        _exceptions: &[String],
        _control: &jemput_drivers::CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        fingers
            .iter()
            .map(|&f| self.finger(f, self.quality))
            .collect()
    }

    /// The slap's fingers pressed on the platen again and again: each press they come down
    /// (faint and high) and lie still (dark, each framed as the device segments it).
    fn preview(
        &self,
        sub_id: u8,
        _interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure> {
        let fingers = proto::slap_fingers(sub_id).ok_or_else(|| CaptureFailure {
            code: 109,
            info: format!("{}: sub-id {sub_id}", proto::error_text(109)),
        })?;
        let prints: Vec<GrayImage> = fingers
            .iter()
            .filter_map(|&f| FingerPosition::new(f))
            .map(|f| {
                let img = synth::fingerprint(self.person_seed, f, self.quality);
                let full = GrayImage::from_raw(img.width, img.height, img.pixels)
                    .unwrap_or_else(|| GrayImage::new(1, 1));
                image::imageops::resize(
                    &full,
                    (full.width() / SLAP_PREVIEW_SCALE).max(1),
                    (full.height() / SLAP_PREVIEW_SCALE).max(1),
                    image::imageops::FilterType::Triangle,
                )
            })
            .collect();
        for n in 0u64.. {
            if control.cancel.load(Ordering::SeqCst) || !each(slap_frame(&prints, n)) {
                break;
            }
        }
        Ok(())
    }
}

/// The size of the slap preview of fingers `cell` pixels each: room for four side by side, and
/// the quality bar below.
pub fn slap_preview_size(cell: (u32, u32)) -> (u32, u32) {
    (
        4 * cell.0 + 5 * SLAP_PREVIEW_GAP,
        cell.1 + 3 * SLAP_PREVIEW_GAP + 40,
    )
}

/// Frame `n` of the slap preview of `prints` (its fingers, already small).
fn slap_frame(prints: &[GrayImage], n: u64) -> Vec<u8> {
    let cell = prints
        .first()
        .map(|p| (p.width(), p.height()))
        .unwrap_or((1, 1));
    let (w, h) = slap_preview_size(cell);
    let mut img = RgbImage::from_pixel(w, h, Rgb([250, 250, 250]));
    // How far the press has come: from a tenth (fingers just above) to 1.0 (on the platen).
    let press = ((n % PRESS_FRAMES + 1) as f32 / (PRESS_FRAMES / 2) as f32).min(1.0);
    let lift = ((1.0 - press) * 30.0) as u32;
    let used = prints.len() as u32 * (cell.0 + SLAP_PREVIEW_GAP) - SLAP_PREVIEW_GAP;
    let left = (w - used.min(w)) / 2;
    for (i, p) in prints.iter().enumerate() {
        let x0 = left + i as u32 * (cell.0 + SLAP_PREVIEW_GAP);
        let y0 = SLAP_PREVIEW_GAP + lift;
        for (x, y, px) in p.enumerate_pixels() {
            let v = 255.0 - (255.0 - f32::from(px.0[0])) * press;
            if x0 + x < w && y0 + y < h {
                img.put_pixel(x0 + x, y0 + y, Rgb([v as u8; 3]));
            }
        }
        if press >= 1.0 {
            outline(&mut img, (x0, SLAP_PREVIEW_GAP), cell, GOOD);
        }
    }
    let colour = if press >= 1.0 { GOOD } else { NOT_YET };
    quality_bar(&mut img, press, colour);
    synth::jpeg_rgb(&img, PREVIEW_JPEG_QUALITY)
}

/// A rectangle's outline, two pixels wide, clipped to the image.
fn outline(img: &mut RgbImage, at: (u32, u32), size: (u32, u32), colour: [u8; 3]) {
    let (w, h) = img.dimensions();
    let (x1, y1) = (at.0 + size.0, at.1 + size.1);
    for y in at.1..=y1.min(h - 1) {
        for x in at.0..=x1.min(w - 1) {
            let edge = x < at.0 + 2 || x + 2 > x1 || y < at.1 + 2 || y + 2 > y1;
            if edge {
                img.put_pixel(x, y, Rgb(colour));
            }
        }
    }
}

/// The quality bar along the bottom of a preview frame: `level` (0.0–1.0) of its width filled.
fn quality_bar(img: &mut RgbImage, level: f32, colour: [u8; 3]) {
    let (w, h) = img.dimensions();
    let full = w.saturating_sub(20);
    let filled = (full as f32 * level.clamp(0.0, 1.0)) as u32;
    for y in h.saturating_sub(18)..h.saturating_sub(8) {
        for x in 10..10 + full {
            let c = if x < 10 + filled {
                colour
            } else {
                [90, 90, 90]
            };
            img.put_pixel(x, y, Rgb(c));
        }
    }
}

impl SimSlap {
    /// Finger `f` (its position code) as a print of `quality`.
    fn finger(&self, f: u8, quality: f32) -> Result<Captured, CaptureFailure> {
        let pos = FingerPosition::new(f).ok_or(CaptureFailure {
            code: 109,
            info: format!("finger position {f}"),
        })?;
        let img = synth::fingerprint(self.person_seed, pos, quality);
        let record = records::finger_record(&img, f, (quality * 100.0) as u8, self.finger_image)
            .map_err(|e| CaptureFailure { code: 102, info: e })?;
        Ok(Captured {
            sub_type: proto::finger_name(f).map(str::to_string),
            record,
            quality: quality * 100.0,
        })
    }
}

/// How clean a poor print of [`SimSlapPoorFinger`] is: a faint print, well below the capture
/// policy's default threshold in jemput's own quality (`jemput-fq/1`, about 15) and in the
/// device's score (10).
pub const POOR_QUALITY: f32 = 0.1;

/// A test and training aid (`jemput sbi serve --sim --sim-poor-finger N[:K]`, repeatable): the
/// simulated slap scanner whose fingers `poor` come out as poor prints ([`POOR_QUALITY`]) — each
/// in its first K captures (then as the scanner's others do: a finger placed better on a retry),
/// or in every capture (a worn or scarred finger) — to see what a client does with a finger
/// below its threshold.
#[derive(Debug)]
pub struct SimSlapPoorFinger {
    pub slap: SimSlap,
    /// Each poor finger's position code (1 right thumb … 10 left little) and how many captures
    /// of it are still to come out poor (`u32::MAX`: all of them).
    pub poor: Vec<(u8, std::sync::atomic::AtomicU32)>,
}

impl Wraps for SimSlapPoorFinger {
    type Inner = SimSlap;
    fn inner(&self) -> &SimSlap {
        &self.slap
    }
    fn capture(
        &self,
        _sub_id: u8,
        fingers: &[u8],
        _exceptions: &[String],
        _control: &jemput_drivers::CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        fingers
            .iter()
            .map(|&f| {
                let poor = self.poor.iter().any(|(finger, left)| {
                    *finger == f
                        && left
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| match n {
                                u32::MAX => Some(n),
                                _ => n.checked_sub(1),
                            })
                            .is_ok()
                });
                let quality = if poor {
                    POOR_QUALITY
                } else {
                    self.slap.quality
                };
                self.slap.finger(f, quality)
            })
            .collect()
    }
}

/// The simulated camera.
#[derive(Debug, Clone)]
pub struct SimCamera {
    pub person_seed: u64,
    /// How the record codes the photo.
    pub face_image: records::FaceCoding,
}

impl Backend for SimCamera {
    fn bio_type(&self) -> &'static str {
        "Face"
    }
    fn device_sub_type(&self) -> &'static str {
        "Full face"
    }
    fn make(&self) -> String {
        "jemput".into()
    }
    fn model(&self) -> String {
        "sim-camera".into()
    }
    fn serial(&self) -> String {
        "JEMPUTSIMCAM00001".into()
    }
    fn sub_ids(&self) -> Vec<u8> {
        vec![0]
    }
    fn capture(
        &self,
        _sub_id: u8,
        _fingers: &[u8],
        _exceptions: &[String],
        _control: &jemput_drivers::CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        let img = synth::face(self.person_seed, BACKDROP);
        let record = records::face_record(&img, self.face_image)
            .map_err(|e| CaptureFailure { code: 102, info: e })?;
        Ok(vec![Captured {
            sub_type: None,
            record,
            quality: 90.0,
        }])
    }

    /// The resident swaying before the camera: [`CAMERA_PREVIEW`] frames of the portrait moved
    /// about the guide frame, the guide and the quality bar green while the face is well within.
    fn preview(
        &self,
        _sub_id: u8,
        _interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure> {
        let (w, h) = CAMERA_PREVIEW;
        let face = image::imageops::resize(
            &synth::face(self.person_seed, BACKDROP),
            w,
            h,
            image::imageops::FilterType::Triangle,
        );
        for n in 0u64.. {
            if control.cancel.load(Ordering::SeqCst) || !each(camera_frame(&face, n)) {
                break;
            }
        }
        Ok(())
    }
}

/// Frame `n` of the camera's preview of `face` (already preview-sized).
fn camera_frame(face: &RgbImage, n: u64) -> Vec<u8> {
    const SWAY: f32 = 14.0;
    let (w, h) = face.dimensions();
    let t = n as f32;
    let (dx, dy) = (
        (SWAY * (t * 0.35).sin()).round(),
        (6.0 * (t * 0.23).sin()).round(),
    );
    let mut img = RgbImage::from_pixel(w, h, Rgb(BACKDROP));
    image::imageops::overlay(&mut img, face, dx as i64, dy as i64);
    let centred = dx.abs() <= 4.0 && dy.abs() <= 3.0;
    let colour = if centred { GOOD } else { NOT_YET };
    // The guide: where the head belongs in the portrait (its middle half across, upper part).
    outline(&mut img, (w / 4, h / 10), (w / 2, h * 11 / 20), colour);
    quality_bar(&mut img, 1.0 - 0.7 * dx.abs() / SWAY, colour);
    synth::jpeg_rgb(&img, PREVIEW_JPEG_QUALITY)
}

//! The simulated devices of `jemput sbi serve --sim`: a slap scanner (deviceSubId 1 left slap,
//! 2 right slap, 3 two thumbs; each slap segmented into its fingers, exceptions left out) and a
//! camera, both drawing the drivers' synthetic prints and faces of one resident.

use jemput_drivers::synth;
use jemput_drivers::FingerPosition;

use jemput_sbi::proto;

use crate::records;
use crate::serve::{Backend, CaptureFailure, Captured};

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

impl Backend for SimSlapPoorFinger {
    fn bio_type(&self) -> &'static str {
        self.slap.bio_type()
    }
    fn device_sub_type(&self) -> &'static str {
        self.slap.device_sub_type()
    }
    fn make(&self) -> String {
        self.slap.make()
    }
    fn model(&self) -> String {
        self.slap.model()
    }
    fn serial(&self) -> String {
        self.slap.serial()
    }
    fn sub_ids(&self) -> Vec<u8> {
        self.slap.sub_ids()
    }
    fn capture(
        &self,
        _sub_id: u8,
        fingers: &[u8],
        _exceptions: &[String],
        _control: &jemput_drivers::CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        use std::sync::atomic::Ordering;
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
        let img = synth::face(self.person_seed, [200, 40, 40]);
        let record = records::face_record(&img, self.face_image)
            .map_err(|e| CaptureFailure { code: 102, info: e })?;
        Ok(vec![Captured {
            sub_type: None,
            record,
            quality: 90.0,
        }])
    }
}

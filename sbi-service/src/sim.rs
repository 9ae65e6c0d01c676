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
        slap_fingers(self.person_seed, fingers, |_| self.quality)
    }
}

/// The fingers a slap was asked for, each drawn at the quality `quality_of` gives it.
fn slap_fingers(
    person_seed: u64,
    fingers: &[u8],
    quality_of: impl Fn(u8) -> f32,
) -> Result<Vec<Captured>, CaptureFailure> {
    fingers
        .iter()
        .map(|&f| {
            let pos = FingerPosition::new(f).ok_or(CaptureFailure {
                code: 109,
                info: format!("finger position {f}"),
            })?;
            let quality = quality_of(f);
            let img = synth::fingerprint(person_seed, pos, quality);
            let record = records::finger_record(&img, f, (quality * 100.0) as u8)
                .map_err(|e| CaptureFailure { code: 102, info: e })?;
            Ok(Captured {
                sub_type: proto::finger_name(f).map(str::to_string),
                record,
                quality: quality * 100.0,
            })
        })
        .collect()
}

/// The simulated slap scanner with some fingers that always read poorly (`jemput sbi serve --sim
/// --sim-poor-finger N`): a worn or scarred finger, for training and for testing what a client
/// does with a finger below its threshold.
#[derive(Debug, Clone)]
pub struct SimSlapPoor {
    pub slap: SimSlap,
    /// Finger positions (1–10) drawn at `poor_quality` instead of the slap's quality.
    pub poor: Vec<u8>,
    /// 0.0–1.0, as [`SimSlap::quality`].
    pub poor_quality: f32,
}

impl Backend for SimSlapPoor {
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
        slap_fingers(self.slap.person_seed, fingers, |f| {
            if self.poor.contains(&f) {
                self.poor_quality
            } else {
                self.slap.quality
            }
        })
    }
}

/// The simulated camera.
#[derive(Debug, Clone)]
pub struct SimCamera {
    pub person_seed: u64,
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
        let record =
            records::face_record(&img).map_err(|e| CaptureFailure { code: 102, info: e })?;
        Ok(vec![Captured {
            sub_type: None,
            record,
            quality: 90.0,
        }])
    }
}

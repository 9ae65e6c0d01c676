//! Complete synthetic visits with the device models' generators (`jemput_drivers::synth`): the
//! demo's, the tests' and trainers' visits, never from a real person. The visit's structure is
//! built by `jemput_core::sample`.

use image::{GrayImage, RgbImage};
use jemput_core::imaging::signature::PenTrace;
use jemput_core::packet::PacketFile;
use jemput_core::sample::{self, Generator};
use jemput_core::visit::{FingerPosition, Visit};
use jemput_drivers::synth;

pub use jemput_core::sample::{synthetic_nik, SampleOptions};

/// The device models' synthetic generators, as a [`Generator`] of visits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Synthetic;

impl Generator for Synthetic {
    fn face(&self, seed: u64, background: [u8; 3]) -> RgbImage {
        synth::face(seed, background)
    }
    fn fingerprint(&self, seed: u64, finger: FingerPosition, quality: f32) -> (GrayImage, u32) {
        let img = synth::fingerprint(seed, crate::devices::finger_of(finger), quality);
        let ppi = img.ppi;
        let gray = GrayImage::from_raw(img.width, img.height, img.pixels)
            .expect("the generator's image has width × height pixels");
        (gray, ppi)
    }
    fn signature(&self, seed: u64, name: &str) -> PenTrace {
        crate::devices::pen_trace(synth::signature_trace(seed, name))
    }
    fn document(&self, seed: u64, title: &str) -> RgbImage {
        synth::document(seed, title)
    }
}

/// A complete synthetic visit and its files, deterministic in `seed` (except times and ids).
pub fn synthetic_visit(seed: u64, opts: &SampleOptions) -> (Visit, Vec<PacketFile>) {
    sample::synthetic_visit(&Synthetic, seed, opts)
}

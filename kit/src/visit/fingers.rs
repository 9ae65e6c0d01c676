//! One finger through the capture policy: capture from the scanner, score the uncompressed image,
//! retry while below the threshold, keep the best, force or record an exception — then compress the
//! kept image to WSQ. The rules themselves are [`jemput_core::visit::policy::PolicyRun`]; this file does the
//! I/O around them and tells an observer about every attempt.

use std::time::Duration;

use image::GrayImage;
use jemput_drivers::{CaptureControl, DeviceError, FingerImage, FingerprintScanner, NO_FINGER};

use super::error::CaptureError;
use jemput_core::imaging::quality::FingerQuality;
use jemput_core::visit::policy::{Attempt, Failure, ModalityPolicy, Outcome, PolicyRun, Step};
use jemput_core::visit::FingerPosition;

/// What one attempt gave, as the operator is told.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    /// Captured and scored.
    Scored { score: u8, threshold: u8 },
    /// Nothing on the sensor before the timeout.
    NothingDetected,
}

/// What the policy does after the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptNext {
    /// At or above the threshold: kept.
    Accepted,
    /// Below the threshold (or nothing detected) with attempts left: capture again.
    Retry,
    /// No attempts left: the best attempt (`kept_attempt`) is kept, marked forced.
    Forced { kept_attempt: u32 },
    /// No attempts left and nothing may be kept: the finger becomes an exception.
    Exception,
}

/// One attempt, reported to a [`CaptureObserver`] as soon as it is scored.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptEvent {
    pub finger: FingerPosition,
    /// 1-based.
    pub attempt: u32,
    pub max_attempts: u32,
    /// The quality algorithm's id, e.g. `jemput-fq/1`.
    pub algorithm: String,
    pub result: AttemptResult,
    pub next: AttemptNext,
}

impl AttemptEvent {
    /// One line for the operator in Bahasa Indonesia.
    pub fn line_id(&self) -> String {
        let head = format!(
            "jari {:02} ({}) percobaan {}/{}",
            self.finger.code(),
            self.finger.name_id(),
            self.attempt,
            self.max_attempts
        );
        let result = match &self.result {
            AttemptResult::Scored { score, threshold } => {
                format!("skor {score} (ambang {threshold}, {})", self.algorithm)
            }
            AttemptResult::NothingDetected => "jari tidak terdeteksi".to_string(),
        };
        let next = match self.next {
            AttemptNext::Accepted => "diterima".to_string(),
            AttemptNext::Retry => "ulangi".to_string(),
            AttemptNext::Forced { kept_attempt } => {
                format!("disimpan paksa (percobaan terbaik {kept_attempt})")
            }
            AttemptNext::Exception => "dicatat sebagai pengecualian".to_string(),
        };
        format!("{head}: {result} — {next}")
    }

    /// The same line in English.
    pub fn line_en(&self) -> String {
        let head = format!(
            "finger {:02} ({}) attempt {}/{}",
            self.finger.code(),
            self.finger.name_en(),
            self.attempt,
            self.max_attempts
        );
        let result = match &self.result {
            AttemptResult::Scored { score, threshold } => {
                format!("score {score} (threshold {threshold}, {})", self.algorithm)
            }
            AttemptResult::NothingDetected => "no finger detected".to_string(),
        };
        let next = match self.next {
            AttemptNext::Accepted => "accepted".to_string(),
            AttemptNext::Retry => "capture again".to_string(),
            AttemptNext::Forced { kept_attempt } => {
                format!("kept as forced (best attempt {kept_attempt})")
            }
            AttemptNext::Exception => "recorded as an exception".to_string(),
        };
        format!("{head}: {result} — {next}")
    }
}

/// Told about every attempt while a finger goes through the policy (the CLI prints a line).
pub trait CaptureObserver {
    fn attempt(&mut self, event: &AttemptEvent);
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl CaptureObserver for NoObserver {
    fn attempt(&mut self, _: &AttemptEvent) {}
}

/// Collects the events (tests, summaries).
impl CaptureObserver for Vec<AttemptEvent> {
    fn attempt(&mut self, event: &AttemptEvent) {
        self.push(event.clone());
    }
}

/// How one finger ended.
#[derive(Debug, Clone)]
pub enum FingerOutcome {
    Kept {
        image: FingerImage,
        score: u8,
        /// Attempts made in all.
        attempts: u32,
        forced: bool,
    },
    Exception {
        failure: Failure,
        attempts: u32,
    },
}

/// The uncompressed image as the quality algorithm takes it.
fn gray(img: &FingerImage) -> Option<GrayImage> {
    GrayImage::from_raw(img.width, img.height, img.pixels.clone())
}

/// Captures `pos` under `policy`: every attempt is scored by `quality` on the uncompressed image
/// and reported to `observer`. Device errors other than "no finger" end the visit's capture with
/// an error (what was captured before is already in the draft).
pub fn capture_finger(
    scanner: &mut dyn FingerprintScanner,
    pos: FingerPosition,
    policy: &ModalityPolicy,
    quality: &dyn FingerQuality,
    timeout: Duration,
    observer: &mut dyn CaptureObserver,
) -> Result<FingerOutcome, CaptureError> {
    let mut run = PolicyRun::new(*policy);
    let max_attempts = policy.max_attempts.max(1);
    loop {
        let attempt_no = run.next_attempt();
        let control = CaptureControl {
            timeout,
            cancel: Default::default(),
        };
        let (attempt, result) = match scanner.capture_finger(&control) {
            Ok(img) => {
                // An image whose size disagrees with its pixels is a device fault; it scores 0.
                let score = gray(&img).map(|g| quality.score(&g).score).unwrap_or(0);
                (
                    Attempt::Scored {
                        score,
                        capture: img,
                    },
                    AttemptResult::Scored {
                        score,
                        threshold: policy.threshold,
                    },
                )
            }
            Err(DeviceError::Timeout(_, what)) if what == NO_FINGER => {
                (Attempt::NothingDetected, AttemptResult::NothingDetected)
            }
            Err(source) => {
                return Err(CaptureError::Device {
                    what: format!("capturing finger {} ({})", pos.code(), pos.name_en()),
                    source,
                })
            }
        };
        let step = run.attempt(attempt);
        let next = match &step {
            Step::Retry(_) => AttemptNext::Retry,
            Step::Done(Outcome::Kept { forced: false, .. }) => AttemptNext::Accepted,
            Step::Done(Outcome::Kept { kept_attempt, .. }) => AttemptNext::Forced {
                kept_attempt: *kept_attempt,
            },
            Step::Done(Outcome::Exception { .. }) => AttemptNext::Exception,
        };
        observer.attempt(&AttemptEvent {
            finger: pos,
            attempt: attempt_no,
            max_attempts,
            algorithm: quality.algorithm_id().to_string(),
            result,
            next,
        });
        match step {
            Step::Retry(r) => run = r,
            Step::Done(Outcome::Kept {
                capture,
                score,
                attempts,
                forced,
                ..
            }) => {
                return Ok(FingerOutcome::Kept {
                    image: capture,
                    score,
                    attempts,
                    forced,
                })
            }
            Step::Done(Outcome::Exception { failure, attempts }) => {
                return Ok(FingerOutcome::Exception { failure, attempts })
            }
        }
    }
}

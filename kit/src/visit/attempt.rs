//! Every capture attempt as the operator is told about it: what was captured (the face, a finger,
//! the signature), its score against the threshold, and what the capture policy does next. The
//! capture steps report each attempt to a [`CaptureObserver`] the moment it is scored; the CLI
//! prints a line, a web UI can show it live.

use jemput_core::visit::FingerPosition;
/// A finger attempt's image, as [`CaptureObserver::finger_image`] is told it.
pub use jemput_drivers::FingerImage;

/// What an attempt captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// The face photo.
    Face,
    /// One finger.
    Finger(FingerPosition),
    /// The signature (or the simple mark or written name the resident made instead).
    Signature,
}

impl Subject {
    /// What it is, in Bahasa Indonesia.
    fn name_id(self) -> String {
        match self {
            Subject::Face => "foto wajah".into(),
            Subject::Finger(f) => format!("jari {:02} ({})", f.code(), f.name_id()),
            Subject::Signature => "tanda tangan".into(),
        }
    }

    /// What it is, in English.
    fn name_en(self) -> String {
        match self {
            Subject::Face => "face photo".into(),
            Subject::Finger(f) => format!("finger {:02} ({})", f.code(), f.name_en()),
            Subject::Signature => "signature".into(),
        }
    }
}

/// What one attempt gave, as the operator is told.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    /// Captured and scored.
    Scored { score: u8, threshold: u8 },
    /// Nothing on the sensor before the timeout (fingers).
    NothingDetected,
    /// The device delivered something that is no readable image (a face photo); it counts as a
    /// failed attempt.
    Unreadable,
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
    /// No attempts left and nothing may be kept: the step fails and the slot stays as it was
    /// (the face, the signature).
    Refused,
}

/// One attempt, reported to a [`CaptureObserver`] as soon as it is scored.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptEvent {
    pub subject: Subject,
    /// 1-based.
    pub attempt: u32,
    pub max_attempts: u32,
    /// The quality algorithm's id, e.g. `jemput-fq/1`, `jemput-faceq/1`, `jemput-sigq/1`.
    pub algorithm: String,
    pub result: AttemptResult,
    pub next: AttemptNext,
    /// The stable ids of the checks the attempt failed (a face photo's, e.g. `background_colour`);
    /// empty for fingers and signatures.
    pub failed_checks: Vec<String>,
}

impl AttemptEvent {
    /// The finger the attempt was at, if it was a finger's.
    pub fn finger(&self) -> Option<FingerPosition> {
        match self.subject {
            Subject::Finger(f) => Some(f),
            _ => None,
        }
    }

    /// One line for the operator in Bahasa Indonesia.
    pub fn line_id(&self) -> String {
        let head = format!(
            "{} percobaan {}/{}",
            self.subject.name_id(),
            self.attempt,
            self.max_attempts
        );
        let result = match &self.result {
            AttemptResult::Scored { score, threshold } => {
                format!("skor {score} (ambang {threshold}, {})", self.algorithm)
            }
            AttemptResult::NothingDetected => "jari tidak terdeteksi".to_string(),
            AttemptResult::Unreadable => "gambar tidak terbaca".to_string(),
        };
        let next = match self.next {
            AttemptNext::Accepted => "diterima".to_string(),
            AttemptNext::Retry => "ulangi".to_string(),
            AttemptNext::Forced { kept_attempt } => {
                format!("disimpan paksa (percobaan terbaik {kept_attempt})")
            }
            AttemptNext::Exception => "dicatat sebagai pengecualian".to_string(),
            AttemptNext::Refused => "ditolak".to_string(),
        };
        format!("{head}: {result} — {next}")
    }

    /// The same line in English.
    pub fn line_en(&self) -> String {
        let head = format!(
            "{} attempt {}/{}",
            self.subject.name_en(),
            self.attempt,
            self.max_attempts
        );
        let result = match &self.result {
            AttemptResult::Scored { score, threshold } => {
                format!("score {score} (threshold {threshold}, {})", self.algorithm)
            }
            AttemptResult::NothingDetected => "no finger detected".to_string(),
            AttemptResult::Unreadable => "unreadable image".to_string(),
        };
        let next = match self.next {
            AttemptNext::Accepted => "accepted".to_string(),
            AttemptNext::Retry => "capture again".to_string(),
            AttemptNext::Forced { kept_attempt } => {
                format!("kept as forced (best attempt {kept_attempt})")
            }
            AttemptNext::Exception => "recorded as an exception".to_string(),
            AttemptNext::Refused => "refused".to_string(),
        };
        format!("{head}: {result} — {next}")
    }
}

/// Told about every attempt while a face, a finger or a signature goes through the policy.
pub trait CaptureObserver {
    fn attempt(&mut self, event: &AttemptEvent);

    /// The uncompressed image of finger attempt `attempt` (1-based) as the scanner delivered it
    /// and as it is scored, told before [`Self::attempt`] reports its score. Only the kept image
    /// is saved (as WSQ, in the draft); a UI that shows the others keeps them in memory, never on
    /// disk. Ignored unless an observer wants it.
    fn finger_image(&mut self, finger: FingerPosition, attempt: u32, image: &FingerImage) {
        let _ = (finger, attempt, image);
    }

    /// A pen sample of signature attempt `sample.attempt` as the pad reports it, while the
    /// resident signs (for a trace drawn live; pads that cannot report samples as they come tell
    /// none). Nothing biometric is kept by telling it; ignored unless an observer wants it.
    fn pen(&mut self, sample: &PenSample) {
        let _ = sample;
    }
}

/// One pen sample while the resident signs, in the pad's own units (before any calibration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PenSample {
    /// The signature attempt (1-based) it belongs to: a new attempt starts a new trace.
    pub attempt: u32,
    pub x: u32,
    pub y: u32,
    /// Whether the pen touches the pad (a stroke); `false` is a lift or hovering.
    pub down: bool,
    /// The pad's width and height in the same units.
    pub width: u32,
    pub height: u32,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(subject: Subject, result: AttemptResult, next: AttemptNext) -> AttemptEvent {
        AttemptEvent {
            subject,
            attempt: 1,
            max_attempts: 3,
            algorithm: "x/1".into(),
            result,
            next,
            failed_checks: Vec::new(),
        }
    }

    #[test]
    fn each_subject_is_named_in_both_languages() {
        let scored = AttemptResult::Scored {
            score: 13,
            threshold: 40,
        };
        let f = event(
            Subject::Finger(FingerPosition::new(2).unwrap()),
            scored.clone(),
            AttemptNext::Retry,
        );
        assert_eq!(
            f.line_id(),
            "jari 02 (telunjuk kanan) percobaan 1/3: skor 13 (ambang 40, x/1) — ulangi"
        );
        assert_eq!(
            f.line_en(),
            "finger 02 (right index) attempt 1/3: score 13 (threshold 40, x/1) — capture again"
        );
        let face = event(
            Subject::Face,
            AttemptResult::Unreadable,
            AttemptNext::Refused,
        );
        assert_eq!(
            face.line_id(),
            "foto wajah percobaan 1/3: gambar tidak terbaca — ditolak"
        );
        assert_eq!(
            face.line_en(),
            "face photo attempt 1/3: unreadable image — refused"
        );
        let sig = event(
            Subject::Signature,
            scored,
            AttemptNext::Forced { kept_attempt: 1 },
        );
        assert!(sig.line_id().starts_with("tanda tangan percobaan 1/3"));
        assert!(sig.line_en().ends_with("kept as forced (best attempt 1)"));
        assert_eq!(sig.finger(), None);
        assert_eq!(f.finger(), FingerPosition::new(2));
    }
}

//! The capture policy: per modality a quality threshold, a number of attempts, keep-best and
//! whether a capture below the threshold may be kept ("forced"). [`PolicyRun`] is the pure state
//! machine one slot (one finger) goes through; it never touches a device or a file, so the rules
//! are tested on their own and the capture loop only feeds it attempts.
//!
//! Defaults follow MOSIP's registration client (docs/field.md §4): fingers 40, three
//! attempts, keep the highest-quality attempt, forced capture allowed and recorded. jemput's
//! finger score is its own measure (`jemput-fq/1`), not NFIQ 2, so the threshold 40 is a starting
//! point to be tuned in the field, not an NFIQ 2 equivalence. The face's score (`jemput-faceq/1`)
//! is the margin of its weakest check, so its threshold is 50 ("every check passed") rather than
//! MOSIP's 9; the signature's (`jemput-sigq/1`) measures how much was written, with threshold 0
//! (MOSIP has none).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The rules for one modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModalityPolicy {
    /// Lowest quality score (0–100) a capture needs to be accepted without forcing.
    pub threshold: u8,
    /// Captures tried at most per slot, the first one included (MOSIP: 3 retries).
    pub max_attempts: u32,
    /// When no attempt reaches the threshold, keep the highest-scoring one (`true`, MOSIP's
    /// behaviour) rather than the last.
    pub keep_best: bool,
    /// Whether a capture still below the threshold after every attempt may be kept, marked
    /// `forced`. When `false` the slot becomes an exception (reason `poor_quality`).
    pub allow_forced: bool,
}

/// The capture policy of a kit (`[capture]` in `config.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapturePolicy {
    /// Each finger (scored with the kit's fingerprint quality algorithm on the uncompressed image).
    #[serde(default = "default_finger")]
    pub finger: ModalityPolicy,
    /// The face photo, scored with `jemput-faceq/1` ([`crate::imaging::face::FaceReport::quality_score`]):
    /// 50, the default, means every face check passed; MOSIP's face threshold (9) belongs to its
    /// SDK's scale and is not comparable.
    #[serde(default = "default_face")]
    pub face: ModalityPolicy,
    /// The signature (a usual signature only: a simple mark or a written name is accepted and
    /// flagged whatever it scores), scored with `jemput-sigq/1` ([`crate::imaging::signature::quality`]).
    /// MOSIP has no signature threshold, so the default 0 accepts any trace.
    #[serde(default = "default_signature")]
    pub signature: ModalityPolicy,
    /// WSQ bit rate fingerprints are compressed at (0.75 ≈ 15:1, the FBI's usual setting).
    #[serde(default = "default_wsq_bitrate")]
    pub wsq_bitrate: f32,
}

/// MOSIP's finger threshold (slaps and thumbs).
pub const FINGER_THRESHOLD: u8 = 40;
/// The face threshold: on jemput's face score (`jemput-faceq/1`) 50 means every face check passed.
/// (MOSIP's is 9 on its SDK's scale, which this score does not share.)
pub const FACE_THRESHOLD: u8 = 50;
/// MOSIP's number of tries per modality.
pub const MAX_ATTEMPTS: u32 = 3;
/// The FBI's usual WSQ bit rate.
pub const WSQ_BITRATE: f32 = 0.75;

fn default_finger() -> ModalityPolicy {
    ModalityPolicy {
        threshold: FINGER_THRESHOLD,
        max_attempts: MAX_ATTEMPTS,
        keep_best: true,
        allow_forced: true,
    }
}

fn default_face() -> ModalityPolicy {
    ModalityPolicy {
        threshold: FACE_THRESHOLD,
        ..default_finger()
    }
}

fn default_signature() -> ModalityPolicy {
    // MOSIP gives no signature threshold; a trace that was drawn at all is accepted.
    ModalityPolicy {
        threshold: 0,
        ..default_finger()
    }
}

fn default_wsq_bitrate() -> f32 {
    WSQ_BITRATE
}

impl Default for CapturePolicy {
    fn default() -> Self {
        CapturePolicy {
            finger: default_finger(),
            face: default_face(),
            signature: default_signature(),
            wsq_bitrate: WSQ_BITRATE,
        }
    }
}

/// Why a policy is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("capture policy: {0} must be at least 1 attempt")]
    NoAttempts(&'static str),
    #[error("capture policy: {0} threshold {1} is above 100")]
    Threshold(&'static str, u8),
    #[error("capture policy: WSQ bit rate {0} is outside 0.1–8.0 (0.75 is the usual)")]
    Bitrate(f32),
}

impl CapturePolicy {
    /// Checks the numbers a hand-edited `config.toml` may get wrong.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for (name, m) in [
            ("finger", &self.finger),
            ("face", &self.face),
            ("signature", &self.signature),
        ] {
            if m.max_attempts == 0 {
                return Err(PolicyError::NoAttempts(name));
            }
            if m.threshold > 100 {
                return Err(PolicyError::Threshold(name, m.threshold));
            }
        }
        if !(0.1..=8.0).contains(&self.wsq_bitrate) {
            return Err(PolicyError::Bitrate(self.wsq_bitrate));
        }
        Ok(())
    }
}

/// What one attempt gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt<T> {
    /// A capture and its quality score (computed before any compression).
    Scored { score: u8, capture: T },
    /// The device saw nothing (no finger on the sensor before the timeout).
    NothingDetected,
}

/// Why a slot ends without a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Every attempt scored below the threshold and forcing is not allowed.
    BelowThreshold { best_score: u8 },
    /// No attempt detected anything.
    NothingDetected,
}

/// How a slot ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// A capture is kept: at or above the threshold, or `forced` below it.
    Kept {
        capture: T,
        score: u8,
        /// Attempts made in all.
        attempts: u32,
        /// Which attempt (1-based) is kept.
        kept_attempt: u32,
        forced: bool,
    },
    /// No capture is kept: the slot becomes an exception with this reason.
    Exception { failure: Failure, attempts: u32 },
}

/// What to do after an attempt.
#[derive(Debug)]
pub enum Step<T> {
    /// Try again (the run so far is carried on).
    Retry(PolicyRun<T>),
    /// The slot is decided.
    Done(Outcome<T>),
}

/// One slot going through the policy: feed it attempts with [`PolicyRun::attempt`] until it says
/// [`Step::Done`].
#[derive(Debug, Clone)]
pub struct PolicyRun<T> {
    policy: ModalityPolicy,
    attempts: u32,
    /// The candidate kept so far below the threshold: (score, attempt number, capture).
    candidate: Option<(u8, u32, T)>,
}

impl<T> PolicyRun<T> {
    /// Starts a slot under `policy` (a policy of 0 attempts is treated as 1).
    pub fn new(policy: ModalityPolicy) -> Self {
        PolicyRun {
            policy,
            attempts: 0,
            candidate: None,
        }
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The attempt number the next attempt will have (1-based).
    pub fn next_attempt(&self) -> u32 {
        self.attempts + 1
    }

    /// The rules this run follows.
    pub fn policy(&self) -> &ModalityPolicy {
        &self.policy
    }

    /// Takes one attempt's result and decides: retry, or done.
    pub fn attempt(mut self, attempt: Attempt<T>) -> Step<T> {
        self.attempts += 1;
        let n = self.attempts;
        if let Attempt::Scored { score, capture } = attempt {
            if score >= self.policy.threshold {
                return Step::Done(Outcome::Kept {
                    capture,
                    score,
                    attempts: n,
                    kept_attempt: n,
                    forced: false,
                });
            }
            let better = match &self.candidate {
                None => true,
                // Keep-best keeps the first of equal scores; otherwise the latest attempt wins.
                Some((best, _, _)) => !self.policy.keep_best || score > *best,
            };
            if better {
                self.candidate = Some((score, n, capture));
            }
        }
        if n < self.policy.max_attempts.max(1) {
            return Step::Retry(self);
        }
        Step::Done(match self.candidate {
            Some((score, kept_attempt, capture)) if self.policy.allow_forced => Outcome::Kept {
                capture,
                score,
                attempts: n,
                kept_attempt,
                forced: true,
            },
            Some((best_score, _, _)) => Outcome::Exception {
                failure: Failure::BelowThreshold { best_score },
                attempts: n,
            },
            None => Outcome::Exception {
                failure: Failure::NothingDetected,
                attempts: n,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(
        threshold: u8,
        max_attempts: u32,
        keep_best: bool,
        allow_forced: bool,
    ) -> ModalityPolicy {
        ModalityPolicy {
            threshold,
            max_attempts,
            keep_best,
            allow_forced,
        }
    }

    /// Feeds `attempts` (None = nothing detected; Some(score) with the attempt number as the
    /// capture) and returns the outcome and how many were consumed.
    fn run(p: ModalityPolicy, attempts: &[Option<u8>]) -> (Outcome<u32>, usize) {
        let mut r = PolicyRun::new(p);
        for (i, a) in attempts.iter().enumerate() {
            let a = match a {
                Some(score) => Attempt::Scored {
                    score: *score,
                    capture: i as u32 + 1,
                },
                None => Attempt::NothingDetected,
            };
            match r.attempt(a) {
                Step::Retry(next) => r = next,
                Step::Done(o) => return (o, i + 1),
            }
        }
        panic!("the run wanted more than {} attempts", attempts.len());
    }

    #[test]
    fn mosip_defaults() {
        let p = CapturePolicy::default();
        assert_eq!(p.finger, policy(40, 3, true, true));
        assert_eq!(p.face.threshold, 50);
        assert_eq!(p.wsq_bitrate, 0.75);
        p.validate().unwrap();
    }

    #[test]
    fn first_good_attempt_is_kept_at_once() {
        let (o, used) = run(policy(40, 3, true, true), &[Some(70), Some(99)]);
        assert_eq!(used, 1);
        assert_eq!(
            o,
            Outcome::Kept {
                capture: 1,
                score: 70,
                attempts: 1,
                kept_attempt: 1,
                forced: false
            }
        );
    }

    #[test]
    fn retries_until_the_threshold_is_met() {
        let (o, used) = run(policy(40, 3, true, true), &[Some(10), Some(39), Some(40)]);
        assert_eq!(used, 3);
        assert_eq!(
            o,
            Outcome::Kept {
                capture: 3,
                score: 40,
                attempts: 3,
                kept_attempt: 3,
                forced: false
            }
        );
    }

    #[test]
    fn forced_after_the_last_attempt_keeps_the_best() {
        let (o, used) = run(
            policy(40, 3, true, true),
            &[Some(20), Some(35), Some(12), Some(90)],
        );
        assert_eq!(used, 3, "never a fourth attempt");
        assert_eq!(
            o,
            Outcome::Kept {
                capture: 2,
                score: 35,
                attempts: 3,
                kept_attempt: 2,
                forced: true
            }
        );
    }

    #[test]
    fn without_keep_best_the_last_attempt_is_kept() {
        let (o, _) = run(policy(40, 3, false, true), &[Some(20), Some(35), Some(12)]);
        assert!(matches!(
            o,
            Outcome::Kept {
                capture: 3,
                score: 12,
                kept_attempt: 3,
                forced: true,
                ..
            }
        ));
    }

    #[test]
    fn equal_scores_keep_the_first() {
        let (o, _) = run(policy(40, 3, true, true), &[Some(30), Some(30), Some(5)]);
        assert!(matches!(
            o,
            Outcome::Kept {
                kept_attempt: 1,
                ..
            }
        ));
    }

    #[test]
    fn forcing_off_gives_an_exception_with_the_best_score() {
        let (o, _) = run(policy(40, 3, true, false), &[Some(20), Some(35), Some(12)]);
        assert_eq!(
            o,
            Outcome::Exception {
                failure: Failure::BelowThreshold { best_score: 35 },
                attempts: 3
            }
        );
    }

    #[test]
    fn nothing_detected_every_time_is_an_exception() {
        let (o, used) = run(policy(40, 3, true, true), &[None, None, None]);
        assert_eq!(used, 3);
        assert_eq!(
            o,
            Outcome::Exception {
                failure: Failure::NothingDetected,
                attempts: 3
            }
        );
    }

    #[test]
    fn a_poor_print_between_empty_attempts_is_forced() {
        let (o, _) = run(policy(40, 3, true, true), &[None, Some(22), None]);
        assert!(matches!(
            o,
            Outcome::Kept {
                capture: 2,
                score: 22,
                attempts: 3,
                kept_attempt: 2,
                forced: true
            }
        ));
    }

    #[test]
    fn zero_threshold_accepts_anything_scored_and_one_attempt_decides_at_once() {
        let (o, _) = run(policy(0, 3, true, false), &[Some(0)]);
        assert!(matches!(o, Outcome::Kept { forced: false, .. }));
        let (o, used) = run(policy(40, 1, true, false), &[Some(3)]);
        assert_eq!(used, 1);
        assert!(matches!(o, Outcome::Exception { attempts: 1, .. }));
        let (_, used) = run(policy(40, 0, true, true), &[Some(3)]);
        assert_eq!(used, 1, "0 attempts behaves as 1");
    }

    #[test]
    fn validate_names_the_bad_number() {
        let mut p = CapturePolicy::default();
        p.finger.max_attempts = 0;
        assert_eq!(p.validate(), Err(PolicyError::NoAttempts("finger")));
        let mut p = CapturePolicy::default();
        p.face.threshold = 101;
        assert_eq!(p.validate(), Err(PolicyError::Threshold("face", 101)));
        let p = CapturePolicy {
            wsq_bitrate: 0.0,
            ..Default::default()
        };
        assert!(matches!(p.validate(), Err(PolicyError::Bitrate(_))));
    }

    #[test]
    fn config_text_with_only_a_threshold_keeps_the_other_defaults() {
        let p: CapturePolicy = toml::from_str(
            "[finger]\nthreshold = 55\nmax_attempts = 5\nkeep_best = true\nallow_forced = false\n",
        )
        .unwrap();
        assert_eq!(p.finger, policy(55, 5, true, false));
        assert_eq!(p.face, CapturePolicy::default().face);
        assert_eq!(p.wsq_bitrate, 0.75);
    }
}

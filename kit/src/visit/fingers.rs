//! One finger through the capture policy: capture from the scanner, score the uncompressed image,
//! retry while below the threshold, keep the best, force or record an exception — then compress the
//! kept image to WSQ and save it to the draft ([`finger_slot`]). The rules themselves are
//! [`jemput_core::visit::policy::PolicyRun`]; this file does the I/O around them and tells an
//! observer about every attempt. A scanner that asks its device for a named finger (an SBI
//! single-finger scanner, `crate::sbi::SbiFingerScanner`) is told the finger first; one that
//! gives its own quality score and an original record with each image (an SBI scanner's
//! `qualityScore` and signed ISO/IEC 19794-4 record) has both kept with the attempt, and the kept
//! attempt's saved beside the WSQ (`finger-NN.iso19794-4`, as a slap's fingers).

use image::GrayImage;
use jemput_drivers::{CaptureControl, DeviceError, FingerImage, FingerprintScanner, NO_FINGER};

use super::attempt::{AttemptEvent, AttemptNext, AttemptResult, CaptureObserver, Subject};
use super::draft::Drafts;
use super::error::CaptureError;
use jemput_core::imaging::finger::{encode_wsq, wsq_file_name, WSQ_MEDIA_TYPE};
use jemput_core::imaging::quality::FingerQuality;
use jemput_core::visit::policy::{Attempt, Failure, ModalityPolicy, Outcome, PolicyRun, Step};
use jemput_core::visit::{
    Capture, Exception, ExceptionReason, FingerPosition, Permanence, Quality, Slot, Visit,
};

/// The name of the original ISO/IEC 19794-4 record kept beside finger `pos`'s WSQ.
pub fn iso_record_file_name(pos: FingerPosition) -> String {
    format!("finger-{:02}.iso19794-4", pos.code())
}

/// How one finger ended.
#[derive(Debug, Clone)]
pub enum FingerOutcome {
    Kept {
        image: FingerImage,
        /// The device's own score of the kept image, for a scanner that gives one.
        device_quality: Option<f32>,
        /// The device's original record of the kept image, for a scanner that gives one.
        record: Option<Vec<u8>>,
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

/// One attempt's image with what the scanner said of it.
struct Taken {
    image: FingerImage,
    device_quality: Option<f32>,
    record: Option<Vec<u8>>,
}

/// The uncompressed image as the quality algorithm takes it.
fn gray(img: &FingerImage) -> Option<GrayImage> {
    GrayImage::from_raw(img.width, img.height, img.pixels.clone())
}

/// Captures `pos` under `policy`: every attempt waits for the finger within `control`'s timeout
/// (and stops when its cancel flag is set), is scored by `quality` on the uncompressed image and
/// is reported to `observer`. Device errors other than "no finger" end the visit's capture with
/// an error (what was captured before is already in the draft).
pub fn capture_finger(
    scanner: &mut dyn FingerprintScanner,
    pos: FingerPosition,
    policy: &ModalityPolicy,
    quality: &dyn FingerQuality,
    control: &CaptureControl,
    observer: &mut dyn CaptureObserver,
) -> Result<FingerOutcome, CaptureError> {
    let mut run = PolicyRun::new(*policy);
    scanner.set_finger(pos.code());
    loop {
        let attempt_no = run.next_attempt();
        let (attempt, result) = match scanner.capture_finger(control) {
            Ok(img) => {
                observer.finger_image(pos, attempt_no, &img);
                // An image whose size disagrees with its pixels is a device fault; it scores 0.
                let score = gray(&img).map(|g| quality.score(&g).score).unwrap_or(0);
                (
                    Attempt::Scored {
                        score,
                        capture: Taken {
                            image: img,
                            device_quality: scanner.last_device_quality(),
                            record: scanner.last_record().map(<[u8]>::to_vec),
                        },
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
        observer.attempt(&attempt_event(
            pos, attempt_no, policy, quality, result, &step,
        ));
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
                    image: capture.image,
                    device_quality: capture.device_quality,
                    record: capture.record,
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

/// How long a finger waits and what it is held to: the parts of a visit's plan one finger needs.
#[derive(Clone, Copy)]
pub struct FingerSettings<'a> {
    /// How long to wait for a finger on the sensor, per attempt, and the flag that cuts it short.
    pub control: &'a CaptureControl,
    /// Thresholds, attempts, keep-best and forcing for fingers.
    pub policy: &'a ModalityPolicy,
    /// The WSQ bit rate the kept image is compressed at.
    pub wsq_bitrate: f32,
    /// Scores each attempt on the uncompressed image.
    pub quality: &'a dyn FingerQuality,
}

impl std::fmt::Debug for FingerSettings<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FingerSettings")
            .field("timeout", &self.control.timeout)
            .field("policy", self.policy)
            .field("wsq_bitrate", &self.wsq_bitrate)
            .field("quality", &self.quality.algorithm_id())
            .finish()
    }
}

/// One finger through the policy ([`capture_finger`]), the kept image compressed to WSQ and saved
/// to the draft as `finger-NN.wsq`, the device's original record (if the scanner gave one) beside
/// it as `finger-NN.iso19794-4`: the slot to record, a capture or an exception (`poor_quality`,
/// `not_detected`). The caller records the slot in the visit and saves the record.
pub fn finger_slot(
    visit: &Visit,
    drafts: &Drafts,
    scanner: &mut dyn FingerprintScanner,
    calibration: Option<String>,
    pos: FingerPosition,
    settings: FingerSettings<'_>,
    observer: &mut dyn CaptureObserver,
) -> Result<Slot, CaptureError> {
    let started = jiff::Timestamp::now();
    let outcome = capture_finger(
        scanner,
        pos,
        settings.policy,
        settings.quality,
        settings.control,
        observer,
    )?;
    Ok(match outcome {
        FingerOutcome::Kept {
            image,
            device_quality,
            record,
            score,
            attempts,
            forced,
        } => {
            let wsq = encode_wsq(
                image.width,
                image.height,
                image.ppi,
                image.pixels.clone(),
                settings.wsq_bitrate,
            )
            .map_err(|source| CaptureError::Wsq {
                finger: pos.code(),
                source,
            })?;
            let name = wsq_file_name(pos);
            drafts.save_file(visit.id, &name, &wsq)?;
            let mut extra_files = Vec::new();
            if let Some(record) = &record {
                let original = iso_record_file_name(pos);
                drafts.save_file(visit.id, &original, record)?;
                extra_files.push(original);
            }
            Slot::Captured(Capture {
                file: name,
                media_type: WSQ_MEDIA_TYPE.into(),
                extra_files,
                captured_at: started,
                device: crate::devices::record(scanner.info()),
                calibration_id: calibration,
                device_quality,
                quality: Some(Quality {
                    score,
                    algorithm: settings.quality.algorithm_id().to_string(),
                }),
                retries: attempts.saturating_sub(1),
                forced,
                width: Some(image.width),
                height: Some(image.height),
                ppi: Some(image.ppi),
                face_checks: None,
                signature_kind: None,
            })
        }
        FingerOutcome::Exception { failure, .. } => policy_exception(failure),
    })
}

/// What the operator is told of finger `pos`'s attempt `attempt` (which gave `result`), given
/// the policy's answer `step` to it: a single finger's and a slap's fingers' alike.
pub(super) fn attempt_event<C>(
    pos: FingerPosition,
    attempt: u32,
    policy: &ModalityPolicy,
    quality: &dyn FingerQuality,
    result: AttemptResult,
    step: &Step<C>,
) -> AttemptEvent {
    AttemptEvent {
        subject: Subject::Finger(pos),
        attempt,
        max_attempts: policy.max_attempts.max(1),
        algorithm: quality.algorithm_id().to_string(),
        result,
        next: match step {
            Step::Retry(_) => AttemptNext::Retry,
            Step::Done(Outcome::Kept { forced: false, .. }) => AttemptNext::Accepted,
            Step::Done(Outcome::Kept { kept_attempt, .. }) => AttemptNext::Forced {
                kept_attempt: *kept_attempt,
            },
            Step::Done(Outcome::Exception { .. }) => AttemptNext::Exception,
        },
        failed_checks: Vec::new(),
    }
}

/// The exception the policy records for a finger that did not reach the threshold (poor
/// quality) or was never detected, for now (temporary).
pub(super) fn policy_exception(failure: Failure) -> Slot {
    Slot::Exception(Exception {
        reason: match failure {
            Failure::BelowThreshold { .. } => ExceptionReason::PoorQuality,
            Failure::NothingDetected => ExceptionReason::NotDetected,
        },
        permanence: Permanence::Temporary,
        proof_file: None,
        noted_at: jiff::Timestamp::now(),
    })
}

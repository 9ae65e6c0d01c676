//! The fingers of one slap of an SBI slap scanner (`crate::sbi`) through the capture policy: the
//! slap is taken, each finger scored by jemput's own quality on its decoded image and run through
//! its own [`PolicyRun`]; while some fingers are still to be retried the slap is taken again for
//! those fingers only. Each kept finger is saved to the draft as WSQ (`finger-NN.wsq`, as a
//! single-finger scanner's) with the device's original ISO/IEC 19794-4 record beside it
//! (`finger-NN.iso19794-4`, an extra file of the capture). Fingers the plan has exceptions for are
//! sent to the device as exceptions and recorded as the plan says.

use jemput_core::imaging::finger::{encode_wsq, wsq_file_name, WSQ_MEDIA_TYPE};
use jemput_core::visit::policy::{Attempt, Outcome, PolicyRun, Step};
use jemput_core::visit::{
    Capture, Exception, ExceptionReason, FingerPosition, Permanence, Quality, Slot, Visit,
};
use jemput_drivers::FingerImage;

use super::attempt::{AttemptResult, CaptureObserver};
use super::draft::Drafts;
use super::error::CaptureError;
use super::fingers::{attempt_event, iso_record_file_name, policy_exception, FingerSettings};
use crate::sbi::{SbiSlapScanner, Slap, SlapError, SlapFinger};

/// A finger of the slap still going through the policy.
struct Running {
    pos: FingerPosition,
    run: PolicyRun<SlapFinger>,
}

/// The slots of the fingers of `slap` in `fingers` (the whole slap, or one finger of it taken
/// again): the plan's exceptions (`planned`) as they are, the others captured through the policy
/// and saved to the draft; the slap's planned fingers are sent to the device as exceptions. The caller records the slots in the visit
/// and saves it. A device error or a refused answer ends the slap with an error; files of fingers
/// already decided may be in the draft by then, unreferenced until a slot names them.
#[allow(clippy::too_many_arguments)]
pub fn slap_slots(
    visit: &Visit,
    drafts: &Drafts,
    scanner: &mut SbiSlapScanner,
    slap: Slap,
    fingers: &[FingerPosition],
    planned: &[(FingerPosition, ExceptionReason, Permanence)],
    settings: FingerSettings<'_>,
    observer: &mut dyn CaptureObserver,
) -> Result<Vec<(FingerPosition, Slot)>, CaptureError> {
    let started = jiff::Timestamp::now();
    let missing: Vec<FingerPosition> = planned.iter().map(|(p, _, _)| *p).collect();
    let mut out: Vec<(FingerPosition, Slot)> = Vec::new();
    let mut running: Vec<Running> = Vec::new();
    for pos in slap.fingers().into_iter().filter(|p| fingers.contains(p)) {
        match planned.iter().find(|(p, _, _)| *p == pos) {
            Some((_, reason, permanence)) => out.push((
                pos,
                Slot::Exception(Exception {
                    reason: reason.clone(),
                    permanence: *permanence,
                    proof_file: None,
                    noted_at: jiff::Timestamp::now(),
                }),
            )),
            None => running.push(Running {
                pos,
                run: PolicyRun::new(*settings.policy),
            }),
        }
    }
    while !running.is_empty() {
        let wanted: Vec<FingerPosition> = running.iter().map(|r| r.pos).collect();
        let got = scanner
            .capture_fingers(slap, &wanted, &missing, settings.control)
            .map_err(|e| match e {
                SlapError::Device(source) => CaptureError::Device {
                    what: format!("capturing the {}", slap.name()),
                    source,
                },
                SlapError::Sbi(e) => CaptureError::Device {
                    what: format!("capturing the {}", slap.name()),
                    source: jemput_drivers::DeviceError::Protocol(e.to_string()),
                },
            })?;
        let mut still = Vec::new();
        for r in running {
            // The answer passed the checks, so it holds every finger asked for exactly once.
            let Some(finger) = got.iter().find(|f| f.position == r.pos).cloned() else {
                return Err(CaptureError::Device {
                    what: format!("capturing the {}", slap.name()),
                    source: jemput_drivers::DeviceError::BadData(format!(
                        "finger {} missing from the answer",
                        r.pos.code()
                    )),
                });
            };
            let attempt_no = r.run.next_attempt();
            observer.finger_image(
                r.pos,
                attempt_no,
                &FingerImage {
                    width: finger.image.width(),
                    height: finger.image.height(),
                    ppi: finger.ppi,
                    pixels: finger.image.as_raw().clone(),
                },
            );
            let score = settings.quality.score(&finger.image).score;
            let step = r.run.attempt(Attempt::Scored {
                score,
                capture: finger,
            });
            observer.attempt(&attempt_event(
                r.pos,
                attempt_no,
                settings.policy,
                settings.quality,
                AttemptResult::Scored {
                    score,
                    threshold: settings.policy.threshold,
                },
                &step,
            ));
            match step {
                Step::Retry(run) => still.push(Running { pos: r.pos, run }),
                Step::Done(Outcome::Kept {
                    capture,
                    score,
                    attempts,
                    forced,
                    ..
                }) => {
                    let slot = kept_slot(
                        visit, drafts, scanner, &capture, score, attempts, forced, started,
                        settings,
                    )?;
                    out.push((r.pos, slot));
                }
                Step::Done(Outcome::Exception { failure, .. }) => {
                    out.push((r.pos, policy_exception(failure)))
                }
            }
        }
        running = still;
    }
    let order = slap.fingers();
    out.sort_by_key(|(p, _)| order.iter().position(|o| o == p));
    Ok(out)
}

/// A kept finger saved to the draft: its WSQ and its original record.
#[allow(clippy::too_many_arguments)]
fn kept_slot(
    visit: &Visit,
    drafts: &Drafts,
    scanner: &SbiSlapScanner,
    finger: &SlapFinger,
    score: u8,
    attempts: u32,
    forced: bool,
    started: jiff::Timestamp,
    settings: FingerSettings<'_>,
) -> Result<Slot, CaptureError> {
    let pos = finger.position;
    let wsq = encode_wsq(
        finger.image.width(),
        finger.image.height(),
        finger.ppi,
        finger.image.as_raw().clone(),
        settings.wsq_bitrate,
    )
    .map_err(|source| CaptureError::Wsq {
        finger: pos.code(),
        source,
    })?;
    let name = wsq_file_name(pos);
    let record = iso_record_file_name(pos);
    drafts.save_file(visit.id, &name, &wsq)?;
    drafts.save_file(visit.id, &record, &finger.record)?;
    Ok(Slot::Captured(Capture {
        file: name,
        media_type: WSQ_MEDIA_TYPE.into(),
        extra_files: vec![record],
        captured_at: started,
        device: crate::devices::record(scanner.info()),
        calibration_id: None,
        device_quality: Some(finger.device_quality),
        quality: Some(Quality {
            score,
            algorithm: settings.quality.algorithm_id().to_string(),
        }),
        retries: attempts.saturating_sub(1),
        forced,
        width: Some(finger.image.width()),
        height: Some(finger.image.height()),
        ppi: Some(finger.ppi),
        face_checks: None,
        signature_kind: None,
    }))
}

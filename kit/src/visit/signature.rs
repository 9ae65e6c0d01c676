//! The visit's signature: the pen trace recorded by the pad is saved as the primary record
//! (`signature-trace.json`, [`SignatureTrace`]), and `signature.png` is rendered from it.
//!
//! A usual signature goes through the capture policy (`[capture.signature]`) on its
//! `jemput-sigq/1` score ([`signature::quality`]): signed again up to `max_attempts` times while
//! under the threshold, the best kept as forced, or refused when forcing is off. A simple mark or a
//! written name is kept at once whatever it scores: it is flagged by its kind instead.

use jemput_drivers::{CaptureControl, SignaturePad};

use super::attempt::{AttemptEvent, AttemptNext, AttemptResult, CaptureObserver, Subject};
use super::draft::Drafts;
use super::error::CaptureError;
use jemput_core::imaging::signature::{self, RenderOptions, SignatureKind, SignatureTrace};
use jemput_core::visit::policy::{Attempt, Failure, ModalityPolicy, Outcome, PolicyRun, Step};
use jemput_core::visit::*;

/// Name of the rendered signature inside the packet.
pub const SIGNATURE_FILE: &str = "signature.png";
/// Name of the pen trace inside the packet.
pub const TRACE_FILE: &str = "signature-trace.json";

/// Records the signature (or the simple mark or written name `kind` says) from `pad` under
/// `policy`, reporting every attempt to `observer`, saves the kept trace and its rendering to the
/// draft, and records the capture in `visit`.
#[allow(clippy::too_many_arguments)]
pub fn capture_signature(
    visit: &mut Visit,
    drafts: &Drafts,
    pad: &mut dyn SignaturePad,
    calibration_id: Option<String>,
    kind: SignatureKind,
    policy: &ModalityPolicy,
    control: &CaptureControl,
    observer: &mut dyn CaptureObserver,
) -> Result<(), CaptureError> {
    // A simple mark or a written name is what it is: one attempt, kept, never "forced".
    let policy = if kind.is_flagged() {
        ModalityPolicy {
            threshold: 0,
            max_attempts: 1,
            ..*policy
        }
    } else {
        *policy
    };
    let mut run = PolicyRun::new(policy);
    let (trace, score, attempts, forced) = loop {
        let attempt = run.next_attempt();
        let trace = pad
            .record_signature_live(control, &mut |p, (width, height)| {
                observer.pen(&super::attempt::PenSample {
                    attempt,
                    x: p.x,
                    y: p.y,
                    down: p.touching,
                    width,
                    height,
                })
            })
            .map(crate::devices::pen_trace)
            .map_err(|source| CaptureError::Device {
                what: format!("recording the signature (attempt {attempt})"),
                source,
            })?;
        let score = signature::quality(&trace).score;
        if score < policy.threshold {
            tracing::warn!(
                attempt,
                score,
                threshold = policy.threshold,
                "tanda tangan kurang jelas, minta tanda tangan ulang / the signature is too slight, ask for it again"
            );
        }
        let step = run.attempt(Attempt::Scored {
            score,
            capture: trace,
        });
        observer.attempt(&AttemptEvent {
            subject: Subject::Signature,
            attempt,
            max_attempts: policy.max_attempts.max(1),
            algorithm: signature::SIGNATURE_QUALITY_ID.into(),
            result: AttemptResult::Scored {
                score,
                threshold: policy.threshold,
            },
            next: match &step {
                Step::Retry(_) => AttemptNext::Retry,
                Step::Done(Outcome::Kept { forced: false, .. }) => AttemptNext::Accepted,
                Step::Done(Outcome::Kept { kept_attempt, .. }) => AttemptNext::Forced {
                    kept_attempt: *kept_attempt,
                },
                Step::Done(Outcome::Exception { .. }) => AttemptNext::Refused,
            },
            failed_checks: Vec::new(),
        });
        match step {
            Step::Retry(next) => run = next,
            Step::Done(Outcome::Kept {
                capture,
                score,
                attempts,
                forced,
                ..
            }) => break (capture, score, attempts, forced),
            Step::Done(Outcome::Exception { failure, attempts }) => {
                let best_score = match failure {
                    Failure::BelowThreshold { best_score } => best_score,
                    Failure::NothingDetected => 0,
                };
                return Err(CaptureError::SignatureQuality {
                    attempts,
                    best_score,
                    threshold: policy.threshold,
                });
            }
        }
    };
    let file = SignatureTrace::new(
        trace,
        kind,
        Some(crate::devices::record(pad.info())),
        calibration_id.clone(),
    );
    // The trace first: it is the record; the picture can always be rendered again from it.
    drafts.save_file(visit.id, TRACE_FILE, &file.to_json())?;
    let img = signature::render(&file, &RenderOptions::default());
    drafts.save_file(visit.id, SIGNATURE_FILE, &signature::png(&img))?;
    visit.captures.signature = Some(Slot::Captured(Capture {
        file: SIGNATURE_FILE.into(),
        media_type: "image/png".into(),
        extra_files: vec![TRACE_FILE.into()],
        captured_at: jiff::Timestamp::now(),
        device: crate::devices::record(pad.info()),
        calibration_id,
        device_quality: None,
        quality: Some(Quality {
            score,
            algorithm: signature::SIGNATURE_QUALITY_ID.into(),
        }),
        retries: attempts - 1,
        forced,
        width: Some(img.width()),
        height: Some(img.height()),
        ppi: None,
        face_checks: None,
        signature_kind: Some(kind),
    }));
    drafts.save_visit(visit)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::sample::{synthetic_visit, SampleOptions};
    use jemput_drivers::{DeviceError, DeviceInfo, PenPoint, PenTrace};

    /// A pad that hands out the traces it was given, one per signing.
    struct ScriptedPad {
        info: DeviceInfo,
        traces: Vec<PenTrace>,
        signed: usize,
    }

    impl ScriptedPad {
        fn new(traces: Vec<PenTrace>) -> Self {
            ScriptedPad {
                info: DeviceInfo {
                    driver: "scripted".into(),
                    model: "test pad".into(),
                    serial: None,
                    firmware: None,
                },
                traces,
                signed: 0,
            }
        }
    }

    impl jemput_drivers::Device for ScriptedPad {
        fn info(&self) -> &DeviceInfo {
            &self.info
        }
    }

    impl SignaturePad for ScriptedPad {
        fn record_signature(&mut self, _: &CaptureControl) -> Result<PenTrace, DeviceError> {
            let t = self.traces.get(self.signed).cloned();
            self.signed += 1;
            t.ok_or(DeviceError::Timeout(
                std::time::Duration::from_secs(1),
                "no more signings scripted",
            ))
        }
    }

    fn signature(seed: u64) -> PenTrace {
        jemput_drivers::synth::signature_trace(seed, "Siti Aminah")
    }

    /// A short straight line: what a pen lifted too early leaves.
    fn slip() -> PenTrace {
        let pad = signature(1);
        let points = (0..20)
            .map(|i| PenPoint {
                x: 1_000 + i * 30,
                y: 2_000,
                pressure: 300,
                t_ms: i * 5,
                touching: true,
            })
            .collect();
        PenTrace { points, ..pad }
    }

    fn policy(threshold: u8, allow_forced: bool) -> ModalityPolicy {
        ModalityPolicy {
            threshold,
            max_attempts: 3,
            keep_best: true,
            allow_forced,
        }
    }

    fn run(
        pad: &mut ScriptedPad,
        kind: SignatureKind,
        policy: &ModalityPolicy,
    ) -> (Visit, Result<(), CaptureError>, Vec<AttemptEvent>) {
        let dir = tempfile::tempdir().unwrap();
        let drafts = Drafts::new(
            dir.path().join("drafts"),
            age::x25519::Identity::generate().to_public(),
        );
        let (mut v, _) = synthetic_visit(
            5,
            &SampleOptions {
                biometrics_from_devices: true,
                ..Default::default()
            },
        );
        let control = CaptureControl {
            timeout: std::time::Duration::from_secs(1),
            cancel: Default::default(),
        };
        let mut events = Vec::new();
        let r = capture_signature(
            &mut v,
            &drafts,
            pad,
            None,
            kind,
            policy,
            &control,
            &mut events,
        );
        (v, r, events)
    }

    fn kept(v: &Visit) -> &Capture {
        match v.captures.signature.as_ref() {
            Some(Slot::Captured(c)) => c,
            other => panic!("signature slot: {other:?}"),
        }
    }

    #[test]
    fn a_slip_of_the_pen_is_signed_again_and_the_signature_kept_with_its_score() {
        let mut pad = ScriptedPad::new(vec![slip(), signature(2)]);
        let (v, r, events) = run(&mut pad, SignatureKind::Signature, &policy(60, true));
        r.unwrap();
        assert_eq!(pad.signed, 2);
        let c = kept(&v);
        let q = c.quality.as_ref().unwrap();
        assert_eq!(q.algorithm, signature::SIGNATURE_QUALITY_ID);
        assert_eq!(
            q.score,
            signature::quality(&crate::devices::pen_trace(signature(2))).score
        );
        assert!(q.score >= 60);
        assert_eq!((c.retries, c.forced), (1, false));
        // The observer saw both signings, each with its score against the threshold.
        let seen: Vec<_> = events
            .iter()
            .map(|e| (e.subject, e.attempt, e.max_attempts, e.next))
            .collect();
        assert_eq!(
            seen,
            [
                (Subject::Signature, 1, 3, AttemptNext::Retry),
                (Subject::Signature, 2, 3, AttemptNext::Accepted)
            ]
        );
        assert_eq!(
            events[1].result,
            AttemptResult::Scored {
                score: q.score,
                threshold: 60
            }
        );
        assert!(events[0]
            .line_id()
            .starts_with("tanda tangan percobaan 1/3: skor"));
    }

    #[test]
    fn below_the_threshold_every_time_the_best_is_kept_forced_or_refused() {
        let slips = || vec![slip(), slip(), slip()];
        let mut pad = ScriptedPad::new(slips());
        let (v, r, events) = run(&mut pad, SignatureKind::Signature, &policy(60, true));
        r.unwrap();
        assert_eq!(pad.signed, 3);
        assert_eq!(events[2].next, AttemptNext::Forced { kept_attempt: 1 });
        let c = kept(&v);
        assert_eq!((c.retries, c.forced), (2, true));
        assert!(c.quality.as_ref().unwrap().score < 60);

        let mut pad = ScriptedPad::new(slips());
        let (v, r, events) = run(&mut pad, SignatureKind::Signature, &policy(60, false));
        assert_eq!(events[2].next, AttemptNext::Refused);
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("threshold 60") && msg.contains("3 attempts"),
            "{msg}"
        );
        assert!(v.captures.signature.is_none(), "nothing is kept");
    }

    #[test]
    fn a_simple_mark_is_kept_at_once_whatever_it_scores() {
        let mut pad = ScriptedPad::new(vec![slip(), signature(2)]);
        let (v, r, events) = run(&mut pad, SignatureKind::SimpleMark, &policy(60, false));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].next, AttemptNext::Accepted);
        r.unwrap();
        assert_eq!(pad.signed, 1);
        let c = kept(&v);
        assert_eq!((c.retries, c.forced), (0, false));
        assert_eq!(c.signature_kind, Some(SignatureKind::SimpleMark));
        assert!(c.quality.as_ref().unwrap().score < 60);
    }
}

//! The visit's face photo: taken with a [`Camera`] (the PTP driver over any USB transport), held
//! to the face checks ([`jemput_core::imaging::face`]) under the capture policy's simple form (up to
//! three attempts, keep the best, record when it was kept below the checks), stored as JPEG at the
//! configured size with the check results in the manifest.

use jemput_drivers::{Camera, CaptureControl};

use super::attempt::{AttemptEvent, AttemptNext, AttemptResult, CaptureObserver, Subject};
use super::draft::Drafts;
use super::error::CaptureError;
use jemput_core::imaging::face::{
    encode_for_storage, FaceChecker, FaceContext, FacePhoto, FaceReport, FaceSettings,
    FACE_QUALITY_ID,
};
use jemput_core::visit::*;

/// Name of the face photo inside the packet.
pub const FACE_FILE: &str = "face.jpg";

/// How many photos to take and what to keep: the face's part of the kit's capture policy
/// (`[capture.face]`, [`jemput_core::visit::policy::CapturePolicy::face`]). A photo passes when its
/// quality score ([`FaceReport::quality_score`], `jemput-faceq/1`) reaches `threshold`; at the
/// default 50 that is exactly "every face check passed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FacePolicy {
    /// Lowest quality score (0–100) a photo needs to be kept without being flagged forced.
    pub threshold: u8,
    /// Photos to take at most until one passes (at least 1).
    pub max_attempts: u32,
    /// After the last attempt, keep the best photo (flagged `forced`) instead of failing.
    pub keep_best: bool,
}

impl Default for FacePolicy {
    fn default() -> Self {
        FacePolicy {
            threshold: jemput_core::visit::policy::FACE_THRESHOLD,
            max_attempts: 3,
            keep_best: true,
        }
    }
}

impl From<&jemput_core::visit::policy::ModalityPolicy> for FacePolicy {
    fn from(p: &jemput_core::visit::policy::ModalityPolicy) -> Self {
        FacePolicy {
            threshold: p.threshold,
            max_attempts: p.max_attempts.max(1),
            keep_best: p.allow_forced,
        }
    }
}

/// What the face step did.
#[derive(Debug, Clone)]
pub struct FaceOutcome {
    /// Photos taken, including the kept one.
    pub attempts: u32,
    /// The kept photo's checks.
    pub report: FaceReport,
    /// The kept photo's quality score (`jemput-faceq/1`).
    pub score: u8,
    /// Kept although its score is below the policy's threshold.
    pub forced: bool,
}

/// What the checks know about `visit`'s resident: the birth year, when entered. (The visit model
/// has no nationality yet, so the foreigner backdrop is not chosen from a visit.)
pub fn context_of(visit: &Visit) -> FaceContext {
    FaceContext {
        birth_year: visit.resident.birth_date.map(|d| d.year()),
        foreigner: visit.resident.foreigner,
    }
}

/// Takes the face photo for `visit` with `camera`, checks it, and saves it to the draft: up to
/// `policy.max_attempts` photos until one's quality score reaches `policy.threshold`; else the
/// best-scoring one (the first of equals), marked forced. Every attempt is reported to
/// `observer`. A photo that is no readable image counts as a failed attempt; a camera error ends
/// the step with the error (nothing captured so far in the visit is lost: it is already in the
/// draft).
#[allow(clippy::too_many_arguments)]
pub fn capture_face(
    visit: &mut Visit,
    drafts: &Drafts,
    camera: &mut dyn Camera,
    calibration_id: Option<String>,
    settings: &FaceSettings,
    policy: &FacePolicy,
    control: &CaptureControl,
    observer: &mut dyn CaptureObserver,
) -> Result<FaceOutcome, CaptureError> {
    let checker = FaceChecker::new(settings);
    let ctx = context_of(visit);
    let max_attempts = policy.max_attempts.max(1);
    // The best photo so far: the photo, its checks, its score and which attempt it was.
    let mut best: Option<(FacePhoto, FaceReport, u8, u32)> = None;
    // The device's own score of the best photo (an SBI camera's `qualityScore`).
    let mut best_device_quality: Option<f32> = None;
    let mut attempts = 0;
    let mut last_decode_error = None;
    while attempts < max_attempts {
        attempts += 1;
        let shot = camera
            .capture_photo(control)
            .map_err(|source| CaptureError::Device {
                what: format!("taking the face photo (attempt {attempts})"),
                source,
            })?;
        let device_quality = camera.last_device_quality();
        let last = attempts == max_attempts;
        // What the policy does after this attempt, given the best photo once it is counted.
        let next = |best: &Option<(FacePhoto, FaceReport, u8, u32)>, accepted: bool| match best {
            _ if accepted => AttemptNext::Accepted,
            _ if !last => AttemptNext::Retry,
            Some((_, _, _, kept_attempt)) if policy.keep_best => AttemptNext::Forced {
                kept_attempt: *kept_attempt,
            },
            _ => AttemptNext::Refused,
        };
        let photo = match FacePhoto::decode(&shot.jpeg) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(attempt = attempts, %e, "the camera's photo is unreadable");
                last_decode_error = Some(e);
                observer.attempt(&AttemptEvent {
                    subject: Subject::Face,
                    attempt: attempts,
                    max_attempts,
                    algorithm: FACE_QUALITY_ID.into(),
                    result: AttemptResult::Unreadable,
                    next: next(&best, false),
                    failed_checks: Vec::new(),
                });
                continue;
            }
        };
        let report = checker.run(&photo, &ctx);
        let score = report.quality_score();
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.message_en.as_str())
            .collect();
        tracing::info!(
            attempt = attempts,
            score,
            passed = report.passed,
            failed = ?failed,
            "face photo checked"
        );
        let failed_checks = report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.check.clone())
            .collect();
        let better = best.as_ref().is_none_or(|(_, _, b, _)| score > *b);
        if better {
            best = Some((photo, report, score, attempts));
            best_device_quality = device_quality;
        }
        let accepted = score >= policy.threshold;
        observer.attempt(&AttemptEvent {
            subject: Subject::Face,
            attempt: attempts,
            max_attempts,
            algorithm: FACE_QUALITY_ID.into(),
            result: AttemptResult::Scored {
                score,
                threshold: policy.threshold,
            },
            next: next(&best, accepted),
            failed_checks,
        });
        if accepted {
            break;
        }
    }
    let Some((photo, report, score, _)) = best else {
        return Err(CaptureError::Face(
            last_decode_error.expect("no photo means every attempt failed to decode"),
        ));
    };
    let forced = score < policy.threshold;
    if forced && !policy.keep_best {
        return Err(CaptureError::FaceChecks {
            attempts,
            score,
            threshold: policy.threshold,
            failed: report
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.message_en.clone())
                .collect(),
        });
    }
    let (jpeg, width, height) = encode_for_storage(&photo.rgb, &settings.store)?;
    drafts.save_file(visit.id, FACE_FILE, &jpeg)?;
    visit.captures.face = Some(Slot::Captured(Capture {
        file: FACE_FILE.into(),
        media_type: "image/jpeg".into(),
        extra_files: Vec::new(),
        captured_at: jiff::Timestamp::now(),
        device: crate::devices::record(camera.info()),
        calibration_id,
        device_quality: best_device_quality,
        quality: Some(Quality {
            score,
            algorithm: FACE_QUALITY_ID.into(),
        }),
        retries: attempts - 1,
        forced,
        width: Some(width),
        height: Some(height),
        ppi: None,
        face_checks: Some(Box::new(report.clone())),
        signature_kind: None,
    }));
    drafts.save_visit(visit)?;
    Ok(FaceOutcome {
        attempts,
        report,
        score,
        forced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::attempt::{AttemptEvent, NoObserver};
    use crate::visit::sample::{synthetic_visit, SampleOptions};
    use jemput_drivers::ptp::{ModelLog, OperationCode, PtpCamera, PtpConfig, PtpFault};
    use jemput_drivers::ptp::{PtpModel, PtpModelConfig};
    use jemput_drivers::usb::MemUsb;

    const RED: [u8; 3] = [200, 30, 40];
    const BLUE: [u8; 3] = [30, 70, 200];

    struct Kit {
        _dir: tempfile::TempDir,
        drafts: Drafts,
        identity: age::x25519::Identity,
    }

    fn kit() -> Kit {
        let dir = tempfile::tempdir().unwrap();
        let identity = age::x25519::Identity::generate();
        let drafts = Drafts::new(dir.path().join("drafts"), identity.to_public());
        Kit {
            _dir: dir,
            drafts,
            identity,
        }
    }

    /// A visit whose face slot is still empty, for a resident born in `year`.
    fn visit(year: i16) -> Visit {
        let opts = SampleOptions {
            biometrics_from_devices: true,
            ..Default::default()
        };
        let (mut v, _) = synthetic_visit(3, &opts);
        assert!(v.captures.face.is_none());
        v.resident.birth_date = Some(jiff::civil::date(year, 5, 17));
        v
    }

    /// The PTP driver opened on the camera model over the in-memory USB transport.
    fn camera(background: [u8; 3], faults: Vec<PtpFault>) -> (PtpCamera<MemUsb>, ModelLog) {
        let (usb, log, ep) = PtpModel::transport(PtpModelConfig {
            background,
            faults,
            ..PtpModelConfig::default().fast()
        });
        (PtpCamera::open(usb, ep, PtpConfig::default()).unwrap(), log)
    }

    /// One face step with the default settings and policy.
    fn take(
        k: &Kit,
        v: &mut Visit,
        cam: &mut PtpCamera<MemUsb>,
    ) -> Result<FaceOutcome, CaptureError> {
        take_with(k, v, cam, &FacePolicy::default())
    }

    /// One face step with the default settings under `policy`.
    fn take_with(
        k: &Kit,
        v: &mut Visit,
        cam: &mut PtpCamera<MemUsb>,
        policy: &FacePolicy,
    ) -> Result<FaceOutcome, CaptureError> {
        capture_face(
            v,
            &k.drafts,
            cam,
            None,
            &FaceSettings::default(),
            policy,
            &control(),
            &mut NoObserver,
        )
    }

    /// One face step with the default settings and policy, and every attempt the observer saw.
    fn take_seen(
        k: &Kit,
        v: &mut Visit,
        cam: &mut PtpCamera<MemUsb>,
    ) -> (Result<FaceOutcome, CaptureError>, Vec<AttemptEvent>) {
        let mut events = Vec::new();
        let r = capture_face(
            v,
            &k.drafts,
            cam,
            None,
            &FaceSettings::default(),
            &FacePolicy::default(),
            &control(),
            &mut events,
        );
        (r, events)
    }

    fn control() -> CaptureControl {
        CaptureControl {
            timeout: std::time::Duration::from_secs(10),
            cancel: Default::default(),
        }
    }

    fn captures(log: &ModelLog) -> usize {
        let ops = log.operations();
        ops.iter()
            .filter(|o| **o == OperationCode::INITIATE_CAPTURE)
            .count()
    }

    fn face_capture(v: &Visit) -> &Capture {
        match v.captures.face.as_ref() {
            Some(Slot::Captured(c)) => c,
            other => panic!("face slot: {other:?}"),
        }
    }

    #[test]
    fn a_good_photo_through_the_ptp_driver_is_checked_and_stored_at_the_configured_size() {
        let k = kit();
        let mut v = visit(1981); // odd: red
        let (mut cam, log) = camera(RED, vec![]);
        let mut settings = FaceSettings::default();
        settings.store.width = 360;
        settings.store.height = 480;
        settings.store.quality = 85;
        let out = capture_face(
            &mut v,
            &k.drafts,
            &mut cam,
            Some("ptp-0123abcd".into()),
            &settings,
            &FacePolicy::default(),
            &control(),
            &mut NoObserver,
        )
        .unwrap();
        assert_eq!((out.attempts, out.forced), (1, false));
        assert_eq!(captures(&log), 1);
        let c = face_capture(&v);
        assert_eq!((c.retries, c.forced), (0, false));
        assert_eq!(c.calibration_id.as_deref(), Some("ptp-0123abcd"));
        let q = c.quality.as_ref().expect("the face is scored");
        assert_eq!(q.algorithm, FACE_QUALITY_ID);
        assert!(q.score >= 50 && q.score == out.score, "{q:?}");
        assert_eq!((c.width, c.height), (Some(360), Some(480)));
        assert_eq!(c.device.driver, "ptp");
        let report = c.face_checks.as_ref().unwrap();
        assert!(report.passed);
        assert!(report.checks.iter().any(|r| r.check == "background_colour"));
        // In the draft, as a JPEG of that size.
        let (back, files) = k.drafts.load(v.id, &k.identity).unwrap();
        assert_eq!(back, v);
        let jpeg = &files.iter().find(|f| f.name == FACE_FILE).unwrap().bytes;
        let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (360, 480));
    }

    #[test]
    fn a_dark_first_photo_is_retaken_and_the_second_kept() {
        let k = kit();
        let mut v = visit(1990); // even: blue
        let (mut cam, log) = camera(BLUE, vec![PtpFault::Underexposed { times: 1 }]);
        let (out, events) = take_seen(&k, &mut v, &mut cam);
        let out = out.unwrap();
        assert_eq!((out.attempts, out.forced), (2, false));
        let seen: Vec<_> = events.iter().map(|e| (e.attempt, e.next)).collect();
        assert_eq!(seen, [(1, AttemptNext::Retry), (2, AttemptNext::Accepted)]);
        assert!(events.iter().all(|e| e.subject == Subject::Face));
        assert_eq!(
            events[1].result,
            AttemptResult::Scored {
                score: out.score,
                threshold: 50
            }
        );
        assert!(!events[0].failed_checks.is_empty() && events[1].failed_checks.is_empty());
        assert_eq!(captures(&log), 2);
        let c = face_capture(&v);
        assert_eq!((c.retries, c.forced), (1, false));
        assert!(c.face_checks.as_ref().unwrap().passed);
    }

    #[test]
    fn a_foreign_resident_is_held_to_the_foreigners_backdrop_whatever_the_birth_year() {
        const ORANGE: [u8; 3] = [240, 130, 30];
        let k = kit();
        let mut v = visit(1981); // odd, but a foreigner: orange, not red
        v.resident.foreigner = true;
        let (mut cam, _) = camera(ORANGE, vec![]);
        let out = take(&k, &mut v, &mut cam).unwrap();
        assert_eq!((out.attempts, out.forced), (1, false));

        let mut v = visit(1981);
        v.resident.foreigner = true;
        let (mut cam, _) = camera(RED, vec![]);
        let out = take(&k, &mut v, &mut cam).unwrap();
        assert_eq!(
            (out.attempts, out.forced),
            (3, true),
            "red is a citizen's backdrop"
        );
    }

    #[test]
    fn the_wrong_backdrop_is_tried_three_times_then_kept_as_forced() {
        let k = kit();
        let mut v = visit(1981); // odd: red expected, the studio has blue
        let (mut cam, log) = camera(BLUE, vec![]);
        let (out, events) = take_seen(&k, &mut v, &mut cam);
        let out = out.unwrap();
        assert_eq!((out.attempts, out.forced), (3, true));
        assert_eq!(captures(&log), 3);
        assert_eq!(events.len(), 3);
        assert_eq!(events[2].next, AttemptNext::Forced { kept_attempt: 1 });
        assert!(events
            .iter()
            .all(|e| e.failed_checks == ["background_colour"]));
        assert!(events[2]
            .line_id()
            .starts_with("foto wajah percobaan 3/3: skor"));
        let c = face_capture(&v);
        assert_eq!((c.retries, c.forced), (2, true));
        let failed: Vec<_> = c
            .face_checks
            .as_ref()
            .unwrap()
            .checks
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.check.as_str())
            .collect();
        assert_eq!(failed, ["background_colour"]);
    }

    #[test]
    fn the_threshold_decides_on_the_score_both_ways() {
        let k = kit();
        // Above what a good photo reaches: every attempt taken, the best kept as forced.
        let mut v = visit(1981);
        let (mut cam, log) = camera(RED, vec![]);
        let strict = FacePolicy {
            threshold: 100,
            ..FacePolicy::default()
        };
        let out = take_with(&k, &mut v, &mut cam, &strict).unwrap();
        assert!(out.report.passed && out.score < 100, "score {}", out.score);
        assert_eq!((out.attempts, out.forced, captures(&log)), (3, true, 3));
        assert_eq!(face_capture(&v).quality.as_ref().unwrap().score, out.score);
        // Without forcing, the error says the score and that no check failed.
        let mut v = visit(1981);
        let (mut cam, _) = camera(RED, vec![]);
        let refuse = FacePolicy {
            keep_best: false,
            ..strict
        };
        let e = take_with(&k, &mut v, &mut cam, &refuse).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("threshold 100") && msg.contains("headroom"),
            "{msg}"
        );
        assert!(v.captures.face.is_none());
        // Lowered to 0: a photo on the wrong backdrop is kept at once, not forced.
        let mut v = visit(1981);
        let (mut cam, log) = camera(BLUE, vec![]);
        let lenient = FacePolicy {
            threshold: 0,
            ..FacePolicy::default()
        };
        let out = take_with(&k, &mut v, &mut cam, &lenient).unwrap();
        assert!(!out.report.passed && out.score < 50, "score {}", out.score);
        assert_eq!((out.attempts, out.forced, captures(&log)), (1, false, 1));
    }

    #[test]
    fn without_keep_best_a_failing_face_is_an_error_and_the_slot_stays_empty() {
        let k = kit();
        let mut v = visit(1981);
        let (mut cam, _) = camera(BLUE, vec![]);
        let policy = FacePolicy {
            max_attempts: 2,
            keep_best: false,
            ..FacePolicy::default()
        };
        let e = take_with(&k, &mut v, &mut cam, &policy).unwrap_err();
        assert!(
            e.to_string().contains("2 attempts") && e.to_string().contains("red backdrop"),
            "{e}"
        );
        assert!(v.captures.face.is_none());
    }

    #[test]
    fn an_unplugged_camera_is_a_device_error_naming_the_face() {
        let k = kit();
        let mut v = visit(1981);
        let (mut cam, _) = camera(RED, vec![PtpFault::UnplugMidTransfer { after: 2000 }]);
        let e = take(&k, &mut v, &mut cam).unwrap_err();
        assert!(e.to_string().contains("face photo"), "{e}");
        assert!(v.captures.face.is_none());
    }
}

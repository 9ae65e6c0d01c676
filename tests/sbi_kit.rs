//! The kit's SBI devices (`jemput_kit::sbi`) against jemput's own device service run in this
//! process over real HTTP on loopback: an SBI camera is a `Camera` like any other (the JPEG of its
//! ISO/IEC 19794-5 record), and a slap scanner takes the 4-4-2 with a missing finger as an
//! exception, every finger decoded from its ISO/IEC 19794-4 record and the three slaps linked in
//! one hash chain (recomputed here). A broken chain, an untrusted CA, a device of the wrong kind
//! and a cancelled capture are refused with nothing returned.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use jemput_core::finger::FingerPosition;
use jemput_drivers::{Camera, CaptureControl, DeviceError};
use jemput_kit::sbi::{SbiCamera, SbiSlapScanner, Slap, SlapError};
use jemput_sbi_service::keys;
use jemput_sbi_service::serve::Fault;
use jemput_sbi_service::testing::{sim_backends, trust_of, TestService};

fn control() -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_secs(10),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

#[test]
fn an_sbi_camera_is_a_camera_whose_photo_is_the_records_image_as_a_jpeg() {
    let svc = TestService::sim(3);
    let cam = SbiCamera::open(&svc.selector(2, 0), svc.trust()).unwrap();
    let mut cam: Box<dyn Camera + Send> = Box::new(cam);
    assert_eq!(cam.info().driver, "sbi");
    assert!(cam.info().model.contains("sim-camera"), "{:?}", cam.info());
    let photo = cam.capture_photo(&control()).unwrap();
    assert_eq!(&photo.jpeg[..2], [0xff, 0xd8]);
    let img = image::load_from_memory(&photo.jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (photo.width, photo.height));
    assert!(photo.width >= 100 && photo.height >= 100, "{photo:?}");

    // The slap scanner is not a camera, and a camera is not a slap scanner.
    let e = SbiCamera::open(&svc.selector(1, 1), svc.trust()).unwrap_err();
    assert!(e.to_string().contains("not a camera"), "{e}");
    let e = SbiSlapScanner::open(&svc.selector(2, 0), svc.trust()).unwrap_err();
    assert!(e.to_string().contains("not a slap scanner"), "{e}");
    let e = SbiCamera::open(&svc.selector(9, 0), svc.trust()).unwrap_err();
    assert!(e.to_string().contains("lists no device 9"), "{e}");
}

#[test]
fn the_4_4_2_with_a_missing_finger_gives_decoded_fingers_in_one_hash_chain() {
    let svc = TestService::sim(3);
    let mut scanner = SbiSlapScanner::open(&svc.selector(1, 1), svc.trust()).unwrap();
    assert_eq!(scanner.default_slap(), Slap::Left);
    let missing = [FingerPosition::new(9).unwrap()]; // left ring
    let mut all = Vec::new();
    for slap in [Slap::Left, Slap::Right, Slap::Thumbs] {
        let fingers = scanner.capture_slap(slap, &missing, &control()).unwrap();
        all.extend(fingers);
    }
    let codes: Vec<u8> = all.iter().map(|f| f.position.code()).collect();
    assert_eq!(codes, [7, 8, 10, 2, 3, 4, 5, 6, 1]);
    let mut prev = jemput_sbi::chain::first_previous_hash();
    for f in &all {
        assert_eq!(f.device_quality, 80.0, "{f:?}");
        assert!(f.image.width() > 200 && f.image.height() > 200, "{f:?}");
        assert_eq!(f.ppi, 500, "{f:?}");
        // The original record, as signed: it parses and is of this finger.
        let rec = jemput_core::iso19794::read_finger_record(&f.record).unwrap();
        assert_eq!(rec.images[0].position.code(), f.position.code());
        let decoded = rec.images[0].grey_pixels().unwrap();
        assert_eq!(decoded, f.image);
        // Not a blank image: a print has ridges and valleys.
        let (lo, hi) = f
            .image
            .pixels()
            .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
        assert!(hi - lo > 100, "{f:?}: grey levels {lo}–{hi}");
        // The three slaps are one chain: each hash follows from the one before.
        prev = jemput_sbi::chain::next_hash(&prev, &f.record).unwrap();
        assert_eq!(f.hash, prev, "{f:?}");
    }

    // Every finger of a slap missing: refused without asking the device.
    let thumbs = [1, 6].map(|c| FingerPosition::new(c).unwrap());
    let e = scanner
        .capture_slap(Slap::Thumbs, &thumbs, &control())
        .unwrap_err();
    assert!(matches!(e, SlapError::Sbi(_)), "{e}");
    assert!(e.to_string().contains("marked missing"), "{e}");
}

#[test]
fn a_broken_chain_an_untrusted_ca_and_a_cancel_return_nothing() {
    let svc = TestService::start_with(None, sim_backends(3), Fault::BrokenChain);
    let mut scanner = SbiSlapScanner::open(&svc.selector(1, 2), svc.trust()).unwrap();
    let e = scanner
        .capture_slap(Slap::Right, &[], &control())
        .unwrap_err();
    assert!(e.to_string().contains("hash chain is broken"), "{e}");

    let good = TestService::sim(3);
    let other = tempfile::tempdir().unwrap();
    keys::keygen(other.path(), "Another Provider", "X1").unwrap();
    let mut untrusted = SbiSlapScanner::open(
        &good.selector(1, 3),
        trust_of(&other.path().join(keys::CA_CERT)),
    )
    .unwrap();
    let e = untrusted
        .capture_slap(Slap::Thumbs, &[], &control())
        .unwrap_err();
    assert!(e.to_string().contains("not trusted"), "{e}");
    let mut cam = SbiCamera::open(
        &good.selector(2, 0),
        trust_of(&other.path().join(keys::CA_CERT)),
    )
    .unwrap();
    let e = cam.capture_photo(&control()).unwrap_err();
    assert!(e.to_string().contains("not trusted"), "{e}");

    let c = control();
    c.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut cam = SbiCamera::open(&good.selector(2, 0), good.trust()).unwrap();
    assert!(matches!(cam.capture_photo(&c), Err(DeviceError::Cancelled)));
    // The camera still works after a cancelled capture.
    cam.capture_photo(&control()).unwrap();
}

/// The visit engine with an SBI slap scanner: the 4-4-2 (left slap, right slap, two thumbs) with a
/// finger the plan has an exception for sent as an exception and recorded as planned; every other
/// finger through the policy, kept in the draft as WSQ with the device's original ISO/IEC 19794-4
/// record beside it (an extra file of the capture), and told to the observer.
#[test]
fn a_visit_takes_the_4_4_2_from_an_sbi_slap_scanner_keeping_the_original_records() {
    use jemput_core::visit::{Category, ExceptionReason, Permanence, Slot};
    use jemput_kit::visit::attempt::AttemptEvent;
    use jemput_kit::visit::devices::SessionDevices;
    use jemput_kit::visit::draft::Drafts;
    use jemput_kit::visit::plan::CapturePlan;
    use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
    use jemput_kit::visit::session::VisitSession;

    let svc = TestService::sim(3);
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let drafts = Drafts::new(dir.path().join("drafts"), identity.to_public());
    let (visit, _) = synthetic_visit(
        11,
        &SampleOptions {
            category: Category::Lansia,
            biometrics_from_devices: true,
            ..Default::default()
        },
    );
    let id = visit.id;
    let scanner = SbiSlapScanner::open(&svc.selector(1, 1), svc.trust()).unwrap();
    let devices = SessionDevices {
        slap_scanner: Some(scanner),
        ..Default::default()
    };
    let ring = FingerPosition::new(9).unwrap();
    let plan = CapturePlan {
        finger_exceptions: vec![(ring, ExceptionReason::Amputated, Permanence::Permanent)],
        timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let mut session = VisitSession::start(drafts, visit, devices, plan).unwrap();
    let mut events: Vec<AttemptEvent> = Vec::new();
    let slots = session.run_slaps(&mut events).unwrap();
    let order: Vec<u8> = slots.iter().map(|(p, _)| p.code()).collect();
    assert_eq!(order, [7, 8, 9, 10, 2, 3, 4, 5, 6, 1]);
    assert!(events.len() >= 9, "one attempt or more per captured finger");

    let drafts = session.drafts().clone();
    let (saved, files) = drafts.load(id, &identity).unwrap();
    let file = |name: &str| {
        files
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{name} not in the draft"))
            .bytes
            .clone()
    };
    for (pos, slot) in &slots {
        let in_visit = saved
            .captures
            .fingers
            .get(pos)
            .unwrap_or_else(|| panic!("finger {} not recorded in the saved visit", pos.code()));
        assert_eq!(in_visit, slot);
        if *pos == ring {
            assert!(
                matches!(slot, Slot::Exception(e) if e.reason == ExceptionReason::Amputated),
                "{slot:?}"
            );
            assert!(!files.iter().any(|f| f.name.starts_with("finger-09")));
            continue;
        }
        let Slot::Captured(c) = slot else {
            panic!("finger {}: {slot:?}", pos.code());
        };
        assert_eq!(c.device.driver, "sbi");
        assert_eq!(c.file, format!("finger-{:02}.wsq", pos.code()));
        assert_eq!(
            c.extra_files,
            [format!("finger-{:02}.iso19794-4", pos.code())]
        );
        let wsq = jemput_wsq::decode(&file(&c.file)).unwrap();
        assert_eq!(Some(wsq.image.width), c.width);
        let rec = jemput_core::iso19794::read_finger_record(&file(&c.extra_files[0])).unwrap();
        assert_eq!(rec.images[0].position.code(), pos.code());
        assert_eq!(Some(u32::from(rec.images[0].width)), c.width);
    }
}

/// Scores in the order given, one per finger scored (the test's stand-in for a quality
/// algorithm, so that which fingers pass is known).
struct Scripted(std::sync::Mutex<std::collections::VecDeque<u8>>);

impl jemput_core::imaging::quality::FingerQuality for Scripted {
    fn algorithm_id(&self) -> &str {
        "scripted/1"
    }
    fn score(&self, _: &image::GrayImage) -> jemput_core::imaging::quality::QualityReport {
        jemput_core::imaging::quality::QualityReport {
            score: self.0.lock().unwrap().pop_front().expect("a score left"),
            measures: Default::default(),
        }
    }
}

/// A finger below the threshold is taken again alone: the slap is asked again for that finger
/// only, and the better capture is kept; the others keep their first.
#[test]
fn a_slap_is_taken_again_for_the_fingers_below_the_threshold_only() {
    use jemput_core::visit::{Category, Slot};
    use jemput_kit::visit::attempt::{AttemptEvent, AttemptNext};
    use jemput_kit::visit::devices::SessionDevices;
    use jemput_kit::visit::draft::Drafts;
    use jemput_kit::visit::plan::CapturePlan;
    use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
    use jemput_kit::visit::session::VisitSession;

    let svc = TestService::sim(3);
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let drafts = Drafts::new(dir.path().join("drafts"), identity.to_public());
    let (visit, _) = synthetic_visit(
        12,
        &SampleOptions {
            category: Category::Lansia,
            biometrics_from_devices: true,
            ..Default::default()
        },
    );
    let scanner = SbiSlapScanner::open(&svc.selector(1, 1), svc.trust()).unwrap();
    let devices = SessionDevices {
        slap_scanner: Some(scanner),
        ..Default::default()
    };
    let mut plan = CapturePlan {
        timeout: Duration::from_secs(10),
        ..Default::default()
    };
    plan.policy.finger.threshold = 50;
    plan.policy.finger.max_attempts = 3;
    // Left slap: index 90, middle 10, ring 70, little 20; then middle 80, little 30; then
    // little 40 (its last attempt: kept best and forced, or an exception, as the policy says).
    let scores = [90, 10, 70, 20, 80, 30, 40];
    let mut session = VisitSession::start(drafts, visit, devices, plan.clone())
        .unwrap()
        .with_quality(Box::new(Scripted(std::sync::Mutex::new(scores.into()))));
    let mut events: Vec<AttemptEvent> = Vec::new();
    let slots = session
        .run_slap(jemput_kit::sbi::Slap::Left, &mut events)
        .unwrap();
    let seen: Vec<(u8, u32, AttemptNext)> = events
        .iter()
        .map(|e| match e.subject {
            jemput_kit::visit::attempt::Subject::Finger(p) => (p.code(), e.attempt, e.next),
            _ => panic!("{e:?}"),
        })
        .collect();
    let little_last = if plan.policy.finger.allow_forced {
        AttemptNext::Forced { kept_attempt: 3 }
    } else {
        AttemptNext::Exception
    };
    assert_eq!(
        seen,
        [
            (7, 1, AttemptNext::Accepted),
            (8, 1, AttemptNext::Retry),
            (9, 1, AttemptNext::Accepted),
            (10, 1, AttemptNext::Retry),
            (8, 2, AttemptNext::Accepted),
            (10, 2, AttemptNext::Retry),
            (10, 3, little_last),
        ]
    );
    let retries = |code: u8| match &slots.iter().find(|(p, _)| p.code() == code).unwrap().1 {
        Slot::Captured(c) => Some((c.retries, c.quality.as_ref().unwrap().score)),
        Slot::Exception(_) => None,
    };
    assert_eq!(retries(7), Some((0, 90)));
    assert_eq!(retries(8), Some((1, 80)));
    assert_eq!(retries(9), Some((0, 70)));
}

/// With only an SBI slap scanner the session's plan still has a step per finger: each asks the
/// finger's slap for that finger alone, so `run` of one finger fills that slot only and `run_all`
/// fills them all (the planned exception recorded without asking the device).
#[test]
fn the_session_steps_take_a_slap_scanner_finger_by_finger() {
    use jemput_core::visit::{Category, ExceptionReason, Permanence, Slot};
    use jemput_kit::visit::attempt::NoObserver;
    use jemput_kit::visit::devices::SessionDevices;
    use jemput_kit::visit::draft::Drafts;
    use jemput_kit::visit::plan::CapturePlan;
    use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
    use jemput_kit::visit::session::VisitSession;
    use jemput_kit::visit::step::Step;

    let svc = TestService::sim(3);
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let drafts = Drafts::new(dir.path().join("drafts"), identity.to_public());
    let (visit, _) = synthetic_visit(
        13,
        &SampleOptions {
            category: Category::Lansia,
            biometrics_from_devices: true,
            ..Default::default()
        },
    );
    let scanner = SbiSlapScanner::open(&svc.selector(1, 2), svc.trust()).unwrap();
    let devices = SessionDevices {
        slap_scanner: Some(scanner),
        ..Default::default()
    };
    let thumb = FingerPosition::new(1).unwrap();
    let plan = CapturePlan {
        finger_exceptions: vec![(
            thumb,
            ExceptionReason::BandagedOrInjured,
            Permanence::Temporary,
        )],
        timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let mut session = VisitSession::start(drafts, visit, devices, plan).unwrap();
    let fingers: Vec<Step> = session
        .steps()
        .into_iter()
        .filter(|s| matches!(s, Step::Finger(_)))
        .collect();
    assert_eq!(fingers.len(), 10, "{:?}", session.steps());

    let seven = Step::Finger(FingerPosition::new(7).unwrap());
    session.run(seven, &mut NoObserver).unwrap();
    let recorded: Vec<u8> = session
        .visit()
        .captures
        .fingers
        .keys()
        .map(|p| p.code())
        .collect();
    assert_eq!(recorded, [7], "one finger step fills one slot");
    match &session.visit().captures.fingers[&FingerPosition::new(7).unwrap()] {
        Slot::Captured(c) => assert_eq!(c.extra_files, ["finger-07.iso19794-4"]),
        other => panic!("{other:?}"),
    }

    session.run_all(&mut NoObserver).unwrap();
    let v = session.visit();
    assert_eq!(v.captures.fingers.len(), 10);
    for (p, slot) in &v.captures.fingers {
        match slot {
            Slot::Exception(e) => {
                assert_eq!(*p, thumb);
                assert_eq!(e.reason, ExceptionReason::BandagedOrInjured);
            }
            Slot::Captured(c) => {
                assert_ne!(*p, thumb);
                assert_eq!(c.device.driver, "sbi");
                assert_eq!(c.extra_files.len(), 1, "{c:?}");
            }
        }
    }
    assert!(session
        .pending()
        .iter()
        .all(|s| !matches!(s, Step::Finger(_))));
}

//! The session through the real drivers on the device models: EF01 and ISDV4 and NMEA on ptys,
//! PTP over the in-memory USB transport.

use std::time::Duration;

use jemput_core::visit::{Category, ExceptionReason, FingerPosition, Permanence, Slot, Visit};
use jemput_drivers::ef01::{
    self, Degradation, Ef01, Ef01Model, Fault, ModelHandle, ModelOptions, PoorPrint,
};
use jemput_drivers::isdv4::{Handwriting, Isdv4, Isdv4Config, Isdv4Model, Isdv4ModelConfig};
use jemput_drivers::nmea::{NmeaConfig, NmeaGps, NmeaModel, NmeaModelConfig};
use jemput_drivers::ptp::{PtpCamera, PtpConfig, PtpFault, PtpModel, PtpModelConfig};
use jemput_drivers::PortLink;

use super::*;
use crate::visit::attempt::{AttemptEvent, AttemptNext, AttemptResult, NoObserver};
use crate::visit::sample::{synthetic_visit, SampleOptions};

const SEED: u64 = 23;
const RED: [u8; 3] = [200, 30, 40];

fn pos(code: u8) -> FingerPosition {
    FingerPosition::new(code).unwrap()
}

/// The device models of one visit; dropping it stops them.
struct Models {
    ef01: Option<ModelHandle>,
    _pen: Isdv4Model,
    _gps: NmeaModel,
}

/// A kit's drafts, the identity that opens them, and the models.
struct Rig {
    _dir: tempfile::TempDir,
    drafts: Drafts,
    identity: age::x25519::Identity,
    models: Models,
}

impl Rig {
    /// What the draft on disk holds now.
    fn saved(&self, id: uuid::Uuid) -> (Visit, Vec<jemput_core::packet::PacketFile>) {
        self.drafts.load(id, &self.identity).unwrap()
    }

    fn file_on_disk(&self, id: uuid::Uuid, name: &str) -> bool {
        self._dir
            .path()
            .join("drafts")
            .join(id.to_string())
            .join(format!("{name}.age"))
            .exists()
    }
}

/// A resident whose biometrics and documents come from the devices, with no location yet.
fn visit(category: Category) -> Visit {
    let (mut v, _) = synthetic_visit(
        SEED,
        &SampleOptions {
            category,
            biometrics_from_devices: true,
            ..Default::default()
        },
    );
    v.place.location = None;
    v.captures.documents.clear();
    v
}

/// Every device on its model: the fingerprint module (fast, starting at the right thumb, with
/// `poor` prints), the pen pad, the GPS receiver and the camera (with `camera_faults`; the
/// resident in front of the backdrop `visit`'s resident needs).
fn rig(visit: &Visit, poor: Vec<PoorPrint>, camera_faults: Vec<PtpFault>) -> (Rig, SessionDevices) {
    let backdrop = jemput_core::imaging::face::FaceSettings::default()
        .background
        .expected(&crate::visit::face::context_of(visit))
        .map_or(RED, |(c, _)| c);
    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let drafts = Drafts::new(dir.path().join("drafts"), identity.to_public());
    let (ef01, ef01_path) = Ef01Model::spawn_on_pty(ModelOptions {
        person_seed: SEED,
        first_finger: jemput_drivers::FingerPosition::new(1).unwrap(),
        finger_after_polls: 0,
        poor_prints: poor,
        // The resident keeps placing a finger until it comes out well.
        placements_per_finger: 10,
        ..ModelOptions::fast()
    })
    .unwrap();
    let scanner = Ef01::open(
        PortLink::open(&ef01_path, 57_600).unwrap(),
        ef01::DEFAULT_ADDRESS,
        ef01::DEFAULT_PASSWORD,
    )
    .unwrap();
    let (pen, pen_path) = Isdv4Model::on_pty(
        Isdv4ModelConfig {
            handwriting: Handwriting::Signature {
                seed: SEED,
                name: "Warga".into(),
            },
            ..Default::default()
        }
        .fast(),
    )
    .unwrap();
    let pad = Isdv4::open(
        &pen_path,
        Isdv4Config {
            idle_end: Duration::from_millis(300),
            ..Default::default()
        },
    )
    .unwrap();
    let (gps, gps_path) = NmeaModel::on_pty(
        NmeaModelConfig {
            lat: -3.1,
            lon: 121.1,
            ..Default::default()
        }
        .fast(),
    )
    .unwrap();
    let gps_device = NmeaGps::open(&gps_path, NmeaConfig { baud: 4_800 }).unwrap();
    let (usb, _log, ep) = PtpModel::transport(PtpModelConfig {
        background: backdrop,
        faults: camera_faults,
        ..PtpModelConfig::default().fast()
    });
    let camera = PtpCamera::open(usb, ep, PtpConfig::default()).unwrap();
    let devices = SessionDevices {
        camera: Some(Box::new(camera)),
        camera_calibration: Some("ptp-cal-0001".into()),
        scanner: Some(Box::new(scanner)),
        scanner_calibration: None,
        pad: Some(Box::new(pad)),
        pad_calibration: None,
        gps: Some(Box::new(gps_device)),
        slap_scanner: None,
    };
    let rig = Rig {
        _dir: dir,
        drafts,
        identity,
        models: Models {
            ef01: Some(ef01),
            _pen: pen,
            _gps: gps,
        },
    };
    (rig, devices)
}

fn plan() -> CapturePlan {
    CapturePlan {
        timeout: Duration::from_secs(10),
        fix_timeout: Duration::from_secs(3),
        ..Default::default()
    }
}

fn captured(slot: Option<&Slot>) -> &jemput_core::visit::Capture {
    match slot {
        Some(Slot::Captured(c)) => c,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_session_is_send_so_a_web_ui_can_hold_it_across_threads() {
    fn send<T: Send>() {}
    send::<VisitSession>();
    send::<SessionDevices>();
}

#[test]
fn the_steps_follow_the_visit_and_the_devices_chosen() {
    let v = visit(Category::Lansia);
    let (r, devices) = rig(&v, Vec::new(), Vec::new());
    let fingers: Vec<Step> = FingerPosition::all().map(Step::Finger).collect();
    let s = VisitSession::start(r.drafts.clone(), v, devices, plan()).unwrap();
    let mut want = vec![Step::Location, Step::Face];
    want.extend(fingers.iter().copied());
    want.push(Step::Signature);
    assert_eq!(s.steps(), want);
    assert_eq!(s.next_step(), Some(Step::Location));
    let (_, mut devices) = s.into_parts();

    // Without a pad or a scanner: no signature, and only the fingers the plan has exceptions for.
    let pad = devices.pad.take();
    let scanner = devices.scanner.take();
    let mut p = plan();
    p.finger_exceptions = vec![(pos(4), ExceptionReason::Amputated, Permanence::Permanent)];
    p.documents = 2;
    let s = VisitSession::start(r.drafts.clone(), visit(Category::Lansia), devices, p).unwrap();
    assert_eq!(
        s.steps(),
        [
            Step::Location,
            Step::Face,
            Step::Finger(pos(4)),
            Step::Document(1),
            Step::Document(2)
        ]
    );
    let (_, mut devices) = s.into_parts();

    // A document-only visit records no biometrics.
    devices.pad = pad;
    devices.scanner = scanner;
    let mut p = plan();
    p.documents = 1;
    let s = VisitSession::start(r.drafts.clone(), visit(Category::Dokumen), devices, p).unwrap();
    assert_eq!(s.steps(), [Step::Location, Step::Document(1)]);
}

#[test]
fn every_attempt_reaches_the_observer_in_step_order_and_each_step_is_in_the_draft() {
    // The right index is placed poorly once: the policy retries it.
    let poor = vec![PoorPrint::repeated(
        jemput_drivers::FingerPosition::new(2).unwrap(),
        1,
        Degradation::PartialContact,
    )];
    let v = visit(Category::Lansia);
    let (r, devices) = rig(&v, poor, vec![PtpFault::Underexposed { times: 1 }]);
    let mut s = VisitSession::start(r.drafts.clone(), v, devices, plan()).unwrap();
    let id = s.visit().id;
    let mut events: Vec<AttemptEvent> = Vec::new();
    while let Some(step) = s.next_step() {
        s.run(step, &mut events).unwrap();
        // Saved the moment the step ended.
        assert_eq!(r.saved(id).0, *s.visit(), "after {step}");
    }
    assert!(matches!(s.fix(), Some(FixOutcome::Fix(_))), "{:?}", s.fix());
    let subjects: Vec<(Subject, u32, AttemptNext)> = events
        .iter()
        .map(|e| (e.subject, e.attempt, e.next))
        .collect();
    let mut want = vec![
        (Subject::Face, 1, AttemptNext::Retry),
        (Subject::Face, 2, AttemptNext::Accepted),
        (Subject::Finger(pos(1)), 1, AttemptNext::Accepted),
        (Subject::Finger(pos(2)), 1, AttemptNext::Retry),
        (Subject::Finger(pos(2)), 2, AttemptNext::Accepted),
    ];
    want.extend((3..=10).map(|c| (Subject::Finger(pos(c)), 1, AttemptNext::Accepted)));
    want.push((Subject::Signature, 1, AttemptNext::Accepted));
    assert_eq!(subjects, want);
    // Each attempt carries its score against the threshold.
    assert!(events.iter().all(|e| matches!(
        e.result,
        AttemptResult::Scored { threshold, .. } if threshold == match e.subject {
            Subject::Face => 50,
            Subject::Finger(_) => 40,
            Subject::Signature => 0,
        }
    )));

    let (saved, files) = r.saved(id);
    assert!(saved.readiness().is_empty(), "{:?}", saved.readiness());
    assert!(saved.place.location.is_some());
    let face = captured(saved.captures.face.as_ref());
    assert_eq!((face.retries, face.device.driver.as_str()), (1, "ptp"));
    assert_eq!(face.calibration_id.as_deref(), Some("ptp-cal-0001"));
    assert_eq!(captured(saved.captures.fingers.get(&pos(2))).retries, 1);
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"face.jpg") && names.contains(&"finger-10.wsq"));
    assert!(names.contains(&"signature-trace.json"), "{names:?}");
    assert_eq!(s.next_step(), None);
}

#[test]
fn running_a_step_again_replaces_only_its_slot_in_the_draft() {
    // Finger 2 is placed poorly three times: kept as forced. Asked again, the resident places it
    // well.
    let poor = vec![PoorPrint::repeated(
        jemput_drivers::FingerPosition::new(2).unwrap(),
        3,
        Degradation::LowContrast,
    )];
    let v = visit(Category::Lansia);
    let (r, devices) = rig(&v, poor, Vec::new());
    let mut s = VisitSession::start(r.drafts.clone(), v, devices, plan()).unwrap();
    let id = s.visit().id;
    for step in [Step::Face, Step::Finger(pos(1)), Step::Finger(pos(2))] {
        s.run(step, &mut NoObserver).unwrap();
    }
    let before = r.saved(id).0;
    let forced = captured(before.captures.fingers.get(&pos(2)));
    assert_eq!((forced.retries, forced.forced), (2, true));

    let mut events: Vec<AttemptEvent> = Vec::new();
    let out = s.run(Step::Finger(pos(2)), &mut events).unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].next, AttemptNext::Accepted);
    let after = r.saved(id).0;
    let again = captured(after.captures.fingers.get(&pos(2)));
    assert_eq!(out, StepOutcome::Slot(Slot::Captured(again.clone())));
    assert_eq!((again.retries, again.forced), (0, false));
    assert!(again.quality.as_ref().unwrap().score >= 40);
    assert!(again.captured_at > forced.captured_at);
    // Nothing else changed.
    assert_eq!(after.captures.face, before.captures.face);
    assert_eq!(
        after.captures.fingers.get(&pos(1)),
        before.captures.fingers.get(&pos(1))
    );
    assert_eq!(after.captures.fingers.len(), 2);

    // Retaking the face replaces the face and only the face.
    let face_before = captured(after.captures.face.as_ref()).clone();
    s.run(Step::Face, &mut NoObserver).unwrap();
    let (retaken, files) = r.saved(id);
    assert!(captured(retaken.captures.face.as_ref()).captured_at > face_before.captured_at);
    assert_eq!(retaken.captures.fingers, after.captures.fingers);
    assert_eq!(files.iter().filter(|f| f.name == "face.jpg").count(), 1);

    // The operator then records finger 2 as bandaged: its image leaves the draft.
    assert!(r.file_on_disk(id, "finger-02.wsq"));
    s.record_exception(
        Subject::Finger(pos(2)),
        ExceptionReason::BandagedOrInjured,
        Permanence::Temporary,
    )
    .unwrap();
    let (saved, files) = r.saved(id);
    assert!(matches!(
        saved.captures.fingers.get(&pos(2)),
        Some(Slot::Exception(e)) if e.reason == ExceptionReason::BandagedOrInjured
    ));
    assert!(!files.iter().any(|f| f.name == "finger-02.wsq"));
    assert!(!r.file_on_disk(id, "finger-02.wsq"));
    assert!(r.file_on_disk(id, "finger-01.wsq"));

    // Marked missing by mistake, with a proof photo: withdrawn, the finger is empty again in the
    // draft, the photo gone, and it is captured like any other; a capture is never withdrawn.
    s.record_exception_with_proof(
        Subject::Finger(pos(2)),
        ExceptionReason::BandagedOrInjured,
        Permanence::Temporary,
    )
    .unwrap();
    assert!(r.file_on_disk(id, "proof-finger-02.jpg"));
    assert!(s.withdraw_exception(Subject::Finger(pos(2))).unwrap());
    let (saved, files) = r.saved(id);
    assert_eq!(saved.captures.fingers.get(&pos(2)), None);
    assert!(!files.iter().any(|f| f.name == "proof-finger-02.jpg"));
    assert!(!r.file_on_disk(id, "proof-finger-02.jpg"));
    assert!(!s.withdraw_exception(Subject::Finger(pos(1))).unwrap());
    assert!(!s.withdraw_exception(Subject::Finger(pos(2))).unwrap());
    assert_eq!(r.saved(id).0.captures.fingers, saved.captures.fingers);
    s.run(Step::Finger(pos(2)), &mut NoObserver).unwrap();
    assert!(!captured(r.saved(id).0.captures.fingers.get(&pos(2))).forced);
}

#[test]
fn an_unplugged_scanner_mid_visit_leaves_every_earlier_capture_in_the_draft() {
    let v = visit(Category::Lansia);
    let (mut r, devices) = rig(&v, Vec::new(), Vec::new());
    let mut s = VisitSession::start(r.drafts.clone(), v, devices, plan()).unwrap();
    let id = s.visit().id;
    for step in [
        Step::Location,
        Step::Face,
        Step::Finger(pos(1)),
        Step::Finger(pos(2)),
        Step::Finger(pos(3)),
    ] {
        s.run(step, &mut NoObserver).unwrap();
    }
    let before = s.visit().clone();

    // A retake of finger 3 that fails on the way puts the earlier capture back.
    let model = r.models.ef01.as_ref().unwrap();
    model.inject(Fault::UnplugMidTransfer { packet: 5 });
    let e = s.run(Step::Finger(pos(3)), &mut NoObserver).unwrap_err();
    assert!(matches!(e, CaptureError::Device { .. }), "{e}");
    assert!(e.to_string().contains("finger 3"), "{e}");
    assert_eq!(*s.visit(), before);
    assert_eq!(r.saved(id).0, before);
    assert!(!s.pending().contains(&Step::Finger(pos(3))));

    // The next finger fails too (the module is gone); then the kit dies.
    assert!(s.run(Step::Finger(pos(4)), &mut NoObserver).is_err());
    assert_eq!(s.next_step(), Some(Step::Finger(pos(4))));
    drop(s);
    drop(r.models.ef01.take());

    let (saved, files) = r.saved(id);
    assert_eq!(saved, before);
    assert!(saved.place.location.is_some());
    assert!(saved.captures.face.is_some());
    assert_eq!(
        saved.captures.fingers.keys().copied().collect::<Vec<_>>(),
        [pos(1), pos(2), pos(3)]
    );
    assert_eq!(files.len(), 4, "face and three fingers");

    // Resumed from the draft with a new scanner, the session starts where the visit stopped.
    let (r2, devices) = rig(&saved, Vec::new(), Vec::new());
    let s = VisitSession::start(r.drafts.clone(), saved, devices, plan()).unwrap();
    assert_eq!(s.next_step(), Some(Step::Finger(pos(4))));
    drop(r2);
}

#[test]
fn document_photos_are_taken_in_order_and_can_be_retaken() {
    let v = visit(Category::Dokumen);
    let (r, mut devices) = rig(&v, Vec::new(), Vec::new());
    devices.scanner = None;
    let mut p = plan();
    p.documents = 1;
    let mut s = VisitSession::start(r.drafts.clone(), v, devices, p).unwrap();
    let id = s.visit().id;
    let e = s.run(Step::Document(2), &mut NoObserver).unwrap_err();
    assert!(
        matches!(e, CaptureError::DocumentOutOfOrder { asked: 2, next: 1 }),
        "{e}"
    );
    s.run_all(&mut NoObserver).unwrap();
    let (saved, files) = r.saved(id);
    assert!(saved.readiness().is_empty(), "{:?}", saved.readiness());
    assert_eq!(saved.captures.documents.len(), 1);
    let doc = &saved.captures.documents[0];
    assert_eq!(
        (doc.file.as_str(), doc.device.driver.as_str()),
        ("document-1.jpg", "ptp")
    );
    assert!(files.iter().any(|f| f.name == "document-1.jpg"));

    s.run(Step::Document(2), &mut NoObserver).unwrap();
    s.run(Step::Document(1), &mut NoObserver).unwrap();
    let saved = r.saved(id).0;
    let names: Vec<&str> = saved
        .captures
        .documents
        .iter()
        .map(|d| d.file.as_str())
        .collect();
    assert_eq!(names, ["document-1.jpg", "document-2.jpg"]);
    assert!(saved.captures.documents[0].captured_at > doc.captured_at);
}

#[test]
fn a_step_without_its_device_says_which_device_is_missing() {
    let v = visit(Category::Lansia);
    let (r, mut devices) = rig(&v, Vec::new(), Vec::new());
    devices.pad = None;
    let mut s = VisitSession::start(r.drafts.clone(), v, devices, plan()).unwrap();
    assert!(!s.steps().contains(&Step::Signature));
    let e = s.run(Step::Signature, &mut NoObserver).unwrap_err();
    assert!(e.to_string().contains("no signature pad"), "{e}");
    assert!(s.visit().captures.signature.is_none());
}

#[test]
fn the_cancel_flag_cuts_a_finger_short_from_another_thread() {
    // The resident never places finger 1; the scanner would wait 10 s per attempt.
    let (model, path) = Ef01Model::spawn_on_pty(ModelOptions {
        first_finger: jemput_drivers::FingerPosition::new(1).unwrap(),
        absent_fingers: vec![jemput_drivers::FingerPosition::new(1).unwrap()],
        absent_for: Duration::from_secs(60),
        ..ModelOptions::fast()
    })
    .unwrap();
    let scanner = Ef01::open(
        PortLink::open(&path, 57_600).unwrap(),
        ef01::DEFAULT_ADDRESS,
        ef01::DEFAULT_PASSWORD,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drafts = Drafts::new(
        dir.path().join("drafts"),
        age::x25519::Identity::generate().to_public(),
    );
    let devices = SessionDevices {
        scanner: Some(Box::new(scanner)),
        ..Default::default()
    };
    let mut s = VisitSession::start(drafts, visit(Category::Lansia), devices, plan()).unwrap();
    let cancel = s.cancel_flag();
    let started = std::time::Instant::now();
    let operator = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        cancel.store(true, Ordering::SeqCst);
    });
    let e = s.run(Step::Finger(pos(1)), &mut NoObserver).unwrap_err();
    operator.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(e.to_string().contains("cancelled"), "{e}");
    assert!(s.visit().captures.fingers.is_empty());
    assert_eq!(s.next_step(), Some(Step::Location));
    drop(s);
    model.stop();
}

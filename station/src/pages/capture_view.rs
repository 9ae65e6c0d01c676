//! What a capture step page shows, built from the draft as it is and the station's devices: the
//! slot (a capture with its score, forced flag, retries, face checks or pen trace; or an
//! exception), the hand of ten fingers, the attempts of the step's last run (a finger's with its
//! image), the finger before, the device panel, the backdrop the colour rule asks for, and where
//! the browser goes next. The routes are in [`super::capture`].

use std::collections::HashMap;

use jemput_core::imaging::face::{Bound, FaceReport};
use jemput_core::imaging::signature::{SignatureKind, SignatureTrace};
use jemput_core::visit::{
    Capture, DocumentKind, ExceptionReason, FingerPosition, Permanence, Slot, Visit,
};
use jemput_kit::home::KitHome;
use jemput_kit::visit::{progress, Step, StepKind};
use serde::Serialize;
use uuid::Uuid;

use crate::devices::{attempt_text, Role, RoleView};
use crate::i18n::Lang;
use crate::App;

/// Exception reasons an operator can pick: (form value, message id).
pub(super) const REASONS: [(&str, &str); 7] = [
    ("bandaged", "reason-bandaged"),
    ("amputated", "reason-amputated"),
    ("unable_to_sign", "reason-unable-to-sign"),
    ("blind", "reason-blind"),
    ("refused", "reason-refused"),
    ("device_failure", "reason-device-failure"),
    ("other", "reason-other"),
];

fn reason_id(r: &ExceptionReason) -> &'static str {
    match r {
        ExceptionReason::BandagedOrInjured => "reason-bandaged",
        ExceptionReason::Amputated => "reason-amputated",
        ExceptionReason::UnableToSign => "reason-unable-to-sign",
        ExceptionReason::Blind => "reason-blind",
        ExceptionReason::Refused => "reason-refused",
        ExceptionReason::DeviceFailure => "reason-device-failure",
        ExceptionReason::PoorQuality => "reason-poor-quality",
        ExceptionReason::NotDetected => "reason-not-detected",
        ExceptionReason::Other(_) => "reason-other",
    }
}

/// The message id of a finger's name, e.g. `finger-07`.
pub(super) fn finger_id(p: FingerPosition) -> String {
    format!("finger-{:02}", p.code())
}

/// Every message id this file builds.
pub fn message_ids_used() -> Vec<String> {
    let mut ids: Vec<String> = REASONS.iter().map(|r| r.1.to_string()).collect();
    ids.extend(
        [
            "reason-poor-quality",
            "reason-not-detected",
            "capture-need-reason",
            "capture-need-consent",
            "capture-busy",
            "capture-failed",
            "step-face",
            "step-signature",
            "step-document",
            "step-finger",
            "finger-done",
            "finger-retried",
            "finger-forced",
            "finger-exception",
            "finger-pending",
            "document-akta",
            "document-kia",
            "document-kk",
            "document-all",
            "instruction-face",
            "instruction-fingers",
            "instruction-signature",
            "instruction-documents",
        ]
        .map(String::from),
    );
    ids.extend(FingerPosition::all().map(finger_id));
    ids
}

/// The resident as the pages name them.
pub(super) fn who(v: &Visit) -> String {
    v.resident
        .name
        .clone()
        .unwrap_or_else(|| match &v.resident.reference {
            jemput_core::visit::ResidentRef::Nik(n) => n.clone(),
            jemput_core::visit::ResidentRef::Worklist(w) => w.clone(),
        })
}

pub(super) fn step_url(id: Uuid, next: Option<Step>) -> String {
    match next {
        Some(s) => format!("/visit/{id}/step/{}", s.id()),
        None => format!("/visit/{id}/review"),
    }
}

/// What the page shows of a slot.
#[derive(Debug, Default, Serialize)]
pub(super) struct SlotView {
    captured: bool,
    image: Option<String>,
    score: Option<u8>,
    threshold: Option<u8>,
    algorithm: Option<String>,
    passed: bool,
    retries: u32,
    forced: bool,
    checks: Vec<CheckView>,
    /// The pen trace as SVG polylines (one per stroke) in a `0 0 w h` view box.
    strokes: Vec<String>,
    view_box: Option<String>,
    signature_kind: Option<String>,
    reason: Option<&'static str>,
    reason_text: Option<String>,
    permanent: bool,
    /// An exception's proof photo, from the draft.
    proof: Option<String>,
    /// The device's own quality score of a capture (an SBI device's), as the review shows it.
    device_score: Option<String>,
}

#[derive(Debug, Serialize)]
struct CheckView {
    name: String,
    value: String,
    bound: &'static str,
    threshold: String,
    unit: String,
    passed: bool,
}

#[derive(Debug, Serialize)]
struct FingerView {
    code: u8,
    step: String,
    name: String,
    /// `done`, `retried`, `forced`, `exception`, `pending`.
    state: &'static str,
    current: bool,
    score: Option<u8>,
}

#[derive(Debug, Serialize)]
struct LastView {
    step: String,
    title: String,
    slot: SlotView,
    attempts: Vec<AttemptView>,
}

/// One attempt of a step's last run: what it scored and, for a finger, its image (in memory).
#[derive(Debug, Serialize)]
pub(super) struct AttemptView {
    text: String,
    image: Option<String>,
    accepted: bool,
}

pub(super) fn attempt_views(app: &App, lang: Lang, id: Uuid, step: Step) -> Vec<AttemptView> {
    use jemput_kit::visit::attempt::AttemptNext;
    app.devices
        .attempts(id, step)
        .iter()
        .map(|e| AttemptView {
            text: attempt_text(&app.i18n, lang, e),
            image: app
                .devices
                .image(id, step, e.attempt)
                .map(|_| format!("/visit/{id}/attempt/{}/{}", step.id(), e.attempt)),
            accepted: matches!(e.next, AttemptNext::Accepted),
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub(super) struct StepView {
    pub(super) id: String,
    who: String,
    pub(super) step: String,
    kind: &'static str,
    title: String,
    slot: Option<SlotView>,
    attempts: Vec<AttemptView>,
    hand: Vec<FingerView>,
    last: Option<LastView>,
    problem: Option<String>,
    devices: Vec<RoleView>,
    role: &'static str,
    next: String,
    next_is_review: bool,
    backdrop: Option<String>,
    reasons: Vec<(&'static str, &'static str)>,
    documents: Vec<(&'static str, String)>,
    another_document: Option<String>,
    simulated: bool,
    done: usize,
    needed: usize,
}

pub(super) fn threshold_of(home: &KitHome, step: Step) -> u8 {
    let p = &home.config.capture;
    match step.kind() {
        StepKind::Face => p.face.threshold,
        StepKind::Fingers => p.finger.threshold,
        StepKind::Signature => p.signature.threshold,
        _ => 0,
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn checks_view(report: &FaceReport, lang: Lang) -> Vec<CheckView> {
    report
        .checks
        .iter()
        .map(|c| CheckView {
            name: match lang {
                Lang::Id => c.message_id.clone(),
                Lang::En => c.message_en.clone(),
            },
            value: number(c.value),
            bound: match c.bound {
                Bound::AtLeast => "≥",
                Bound::AtMost => "≤",
            },
            threshold: number(c.threshold),
            unit: c.unit.clone(),
            passed: c.passed,
        })
        .collect()
}

/// The strokes of a pen trace, scaled into a view box 1000 units wide.
fn strokes(trace: &SignatureTrace) -> (Vec<String>, String) {
    let (w, h) = (trace.extent_x.max(1) as f64, trace.extent_y.max(1) as f64);
    let scale = 1000.0 / w;
    let mut out = Vec::new();
    let mut current = String::new();
    for p in &trace.points {
        if p.touching {
            current.push_str(&format!(
                "{:.1},{:.1} ",
                p.x as f64 * scale,
                p.y as f64 * scale
            ));
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current).trim_end().to_string());
        }
    }
    if !current.is_empty() {
        out.push(current.trim_end().to_string());
    }
    (out, format!("0 0 1000 {:.0}", (h * scale).max(1.0)))
}

pub(super) fn slot_view(
    id: Uuid,
    slot: &Slot,
    threshold: u8,
    lang: Lang,
    files: &HashMap<String, Vec<u8>>,
) -> SlotView {
    match slot {
        Slot::Captured(c) => captured_view(id, c, threshold, lang, files),
        Slot::Exception(e) => SlotView {
            reason: Some(reason_id(&e.reason)),
            reason_text: match &e.reason {
                ExceptionReason::Other(t) => Some(t.clone()),
                _ => None,
            },
            permanent: e.permanence == Permanence::Permanent,
            proof: e
                .proof_file
                .as_ref()
                .map(|f| format!("/visit/{id}/image/{f}")),
            ..Default::default()
        },
    }
}

fn captured_view(
    id: Uuid,
    c: &Capture,
    threshold: u8,
    lang: Lang,
    files: &HashMap<String, Vec<u8>>,
) -> SlotView {
    let mut v = SlotView {
        captured: true,
        image: Some(format!("/visit/{id}/image/{}", c.file)),
        score: c.quality.as_ref().map(|q| q.score),
        algorithm: c.quality.as_ref().map(|q| q.algorithm.clone()),
        threshold: (threshold > 0).then_some(threshold),
        retries: c.retries,
        forced: c.forced,
        device_score: c.device_quality.map(|d| format!("{d:.1}")),
        ..Default::default()
    };
    v.passed = !c.forced && v.score.is_none_or(|s| s >= threshold);
    if let Some(report) = &c.face_checks {
        v.checks = checks_view(report, lang);
    }
    if let Some(kind) = c.signature_kind {
        v.signature_kind = Some(
            match kind {
                SignatureKind::Signature => "signature",
                SignatureKind::SimpleMark => "simple_mark",
                SignatureKind::WrittenName => "written_name",
            }
            .into(),
        );
    }
    for extra in &c.extra_files {
        if let Some(trace) = files
            .get(extra)
            .and_then(|b| serde_json::from_slice::<SignatureTrace>(b).ok())
        {
            let (s, vb) = strokes(&trace);
            v.strokes = s;
            v.view_box = Some(vb);
        }
    }
    v
}

pub(super) fn finger_state(slot: Option<&Slot>) -> (&'static str, Option<u8>) {
    match slot {
        None => ("pending", None),
        Some(Slot::Exception(_)) => ("exception", None),
        Some(Slot::Captured(c)) => {
            let score = c.quality.as_ref().map(|q| q.score);
            if c.forced {
                ("forced", score)
            } else if c.retries > 0 {
                ("retried", score)
            } else {
                ("done", score)
            }
        }
    }
}

/// A step's title in the session's language.
fn title(app: &App, lang: Lang, step: Step) -> String {
    let i = &app.i18n;
    match step {
        Step::Finger(p) => {
            let mut a = fluent_bundle::FluentArgs::new();
            a.set("code", format!("{:02}", p.code()));
            a.set("name", i.text(lang, &finger_id(p), None));
            i.text(lang, "step-finger", Some(&a))
        }
        Step::Document(n) => {
            let mut a = fluent_bundle::FluentArgs::new();
            a.set("n", n);
            i.text(lang, "step-document", Some(&a))
        }
        Step::Signature => i.text(lang, "step-signature", None),
        _ => i.text(lang, "step-face", None),
    }
}

/// What a step page shows after `problem` (if any): built from the draft as it is now.
#[allow(clippy::too_many_arguments)]
pub(super) fn step_view(
    app: &App,
    lang: Lang,
    home: &KitHome,
    visit: &Visit,
    files: &HashMap<String, Vec<u8>>,
    step: Step,
    problem: Option<String>,
    last: Option<Step>,
) -> StepView {
    let id = visit.id;
    let held = |s: Step| match s {
        Step::Face => visit.captures.face.clone(),
        Step::Finger(p) => visit.captures.fingers.get(&p).cloned(),
        Step::Signature => visit.captures.signature.clone(),
        Step::Document(n) => n
            .checked_sub(1)
            .and_then(|i| visit.captures.documents.get(i as usize))
            .cloned()
            .map(Slot::Captured),
        Step::Location => None,
    };
    let slot = held(step).map(|s| slot_view(id, &s, threshold_of(home, step), lang, files));
    let hand = if step.kind() == StepKind::Fingers {
        FingerPosition::all()
            .map(|p| {
                let (state, score) = finger_state(visit.captures.fingers.get(&p));
                FingerView {
                    code: p.code(),
                    step: Step::Finger(p).id(),
                    name: app.i18n.text(lang, &finger_id(p), None),
                    state,
                    current: Step::Finger(p) == step,
                    score,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let last = last.filter(|l| *l != step).and_then(|l| {
        let s = held(l)?;
        Some(LastView {
            step: l.id(),
            title: title(app, lang, l),
            slot: slot_view(id, &s, threshold_of(home, l), lang, files),
            attempts: attempt_views(app, lang, id, l),
        })
    });
    // The next step once this one is done: the first the visit needs after it, else the first it
    // needs at all.
    let needed = progress::needed(visit);
    let next = needed
        .iter()
        .copied()
        .find(|s| *s > step && !progress::filled(visit, *s))
        .or_else(|| progress::first_missing(visit).filter(|s| *s != step));
    // With a slap scanner the fingers count as their three slaps.
    let by_slap = app.devices.slaps(id);
    let (done, needed_n) = if by_slap {
        super::slap_steps::count(visit)
    } else {
        progress::count(visit)
    };
    let backdrop = (step == Step::Face)
        .then(|| {
            home.config
                .face
                .background
                .expected(&jemput_kit::visit::face::context_of(visit))
        })
        .flatten()
        .map(|(c, _)| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]));
    let another_document = match step {
        Step::Document(n) if (n as usize) <= visit.captures.documents.len() => {
            Some(Step::Document(visit.captures.documents.len() as u32 + 1).id())
        }
        _ => None,
    };
    StepView {
        id: id.to_string(),
        who: who(visit),
        step: step.id(),
        kind: step.kind().name(),
        title: title(app, lang, step),
        slot,
        attempts: attempt_views(app, lang, id, step),
        hand,
        last,
        problem,
        devices: app.devices.panel(),
        role: Role::of(step).code(),
        next: step_url(id, next),
        next_is_review: next.is_none(),
        backdrop,
        reasons: REASONS.to_vec(),
        documents: DocumentKind::ALL
            .iter()
            .map(|d| (d.code(), format!("document-{}", d.code())))
            .collect(),
        another_document,
        simulated: app.devices.simulated(),
        done,
        needed: needed_n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::imaging::signature::PenPoint;

    #[test]
    fn a_pen_trace_becomes_one_polyline_per_stroke_in_a_1000_wide_box() {
        let p = |x, y, touching| PenPoint {
            x,
            y,
            pressure: if touching { 100 } else { 0 },
            t_ms: 0,
            touching,
        };
        let trace = SignatureTrace {
            format: "jemput-pen-trace/1".into(),
            kind: SignatureKind::Signature,
            device: None,
            calibration_id: None,
            extent_x: 2000,
            extent_y: 600,
            max_pressure: 1023,
            points: vec![
                p(0, 0, true),
                p(2000, 600, true),
                p(10, 10, false),
                p(100, 200, true),
                p(300, 400, true),
            ],
        };
        let (s, vb) = strokes(&trace);
        assert_eq!(s, ["0.0,0.0 1000.0,300.0", "50.0,100.0 150.0,200.0"]);
        assert_eq!(vb, "0 0 1000 300");
    }
}

//! The capture steps in the browser: `GET /visit/{id}/step/{step}` (step = `Step::id()`: `face`,
//! `finger-07`, `signature`, `document-1`) and its actions — `…/capture` ("Ambil foto", "Ambil
//! sidik jari", "Ambil tanda tangan"; run again it retakes), `…/redo` (the same, from the
//! captured view), `…/exception` ("Pengecualian": reason and permanence) — and the capture images
//! from the draft (`GET /visit/{id}/file/{name}`, decrypted in memory, `no-store`).
//!
//! A capture runs the kit's `VisitSession` on a blocking thread with the devices taken from
//! [`crate::devices::Devices`]; every attempt goes to the browser as it is scored (`GET /events`,
//! [`super::live`]) and the draft is saved after every capture. When the step is done the
//! browser goes on to the next step in the engine's order, or to `/visit/{id}/review` when none
//! is left. A face photo, a signature, a document photo, a finger kept as forced stay on their
//! page so the operator sees the checks and decides to retake or go on.
//!
//! Not here (the engine does not offer them): the images of the attempts a finger did not keep
//! (only the kept one is saved, as WSQ), a proof photo beside a finger exception, and the pen
//! trace drawn live while the resident signs (the pad driver hands the trace over when the
//! signature is done; the page draws it then).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jemput_core::imaging::face::{Bound, FaceReport};
use jemput_core::imaging::signature::{SignatureKind, SignatureTrace};
use jemput_core::visit::{
    Capture, DocumentKind, ExceptionReason, FingerPosition, Permanence, Slot, Visit,
};
use jemput_kit::home::KitHome;
use jemput_kit::visit::attempt::{AttemptEvent, CaptureObserver};
use jemput_kit::visit::plan::CapturePlan;
use jemput_kit::visit::{progress, CaptureError, SessionDevices, Step, StepKind, VisitSession};
use serde::Serialize;
use uuid::Uuid;

use super::{Base, Ctx};
use crate::devices::{attempt_text, problem_text, Role, RoleView};
use crate::i18n::Lang;
use crate::security::Session;
use crate::App;

/// Exception reasons an operator can pick: (form value, message id).
const REASONS: [(&str, &str); 7] = [
    ("bandaged", "reason-bandaged"),
    ("amputated", "reason-amputated"),
    ("unable_to_sign", "reason-unable-to-sign"),
    ("blind", "reason-blind"),
    ("refused", "reason-refused"),
    ("device_failure", "reason-device-failure"),
    ("other", "reason-other"),
];

fn reason_of(code: &str, other: &str) -> Option<ExceptionReason> {
    Some(match code {
        "bandaged" => ExceptionReason::BandagedOrInjured,
        "amputated" => ExceptionReason::Amputated,
        "unable_to_sign" => ExceptionReason::UnableToSign,
        "blind" => ExceptionReason::Blind,
        "refused" => ExceptionReason::Refused,
        "device_failure" => ExceptionReason::DeviceFailure,
        "other" if !other.trim().is_empty() => ExceptionReason::Other(other.trim().to_string()),
        _ => return None,
    })
}

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
fn finger_id(p: FingerPosition) -> String {
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
fn who(v: &Visit) -> String {
    v.resident
        .name
        .clone()
        .unwrap_or_else(|| match &v.resident.reference {
            jemput_core::visit::ResidentRef::Nik(n) => n.clone(),
            jemput_core::visit::ResidentRef::Worklist(w) => w.clone(),
        })
}

/// The steps a visit needs, with document photos beyond the first that it holds.
fn valid_step(v: &Visit, step: Step) -> bool {
    match step {
        Step::Location => false,
        Step::Document(n) => {
            !v.category.records_biometrics() && n as usize <= v.captures.documents.len() + 1
        }
        _ => v.category.records_biometrics(),
    }
}

fn step_url(id: Uuid, next: Option<Step>) -> String {
    match next {
        Some(s) => format!("/visit/{id}/step/{}", s.id()),
        None => format!("/visit/{id}/review"),
    }
}

/// The plan of one capture: the kit's policy and face settings, waits that suit the devices.
fn plan(home: &KitHome, v: &Visit, step: Step, realtime: bool, kind: SignatureKind) -> CapturePlan {
    let documents = if v.category.records_biometrics() {
        0
    } else {
        let asked = match step {
            Step::Document(n) => n,
            _ => 1,
        };
        asked.max(v.captures.documents.len() as u32).max(1)
    };
    CapturePlan {
        finger_exceptions: Vec::new(),
        timeout: std::time::Duration::from_secs(if realtime { 60 } else { 20 }),
        fix_timeout: std::time::Duration::from_secs(if realtime { 10 } else { 3 }),
        policy: home.config.capture.clone(),
        face: home.config.face.clone(),
        signature_kind: kind,
        documents,
    }
}

/// The next step after the session's work: the first the engine has not done with the devices
/// held, else the first the visit still needs (its device may be missing: its page says so).
fn next_after(session: &VisitSession) -> Option<Step> {
    session
        .pending()
        .into_iter()
        .find(|s| *s != Step::Location)
        .or_else(|| progress::first_missing(session.visit()))
}

/// What the page shows of a slot.
#[derive(Debug, Default, Serialize)]
struct SlotView {
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
struct AttemptView {
    text: String,
    image: Option<String>,
    accepted: bool,
}

fn attempt_views(app: &App, lang: Lang, id: Uuid, step: Step) -> Vec<AttemptView> {
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
struct StepView {
    id: String,
    who: String,
    step: String,
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

fn threshold_of(home: &KitHome, step: Step) -> u8 {
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

fn slot_view(
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
        image: Some(format!("/visit/{id}/file/{}", c.file)),
        score: c.quality.as_ref().map(|q| q.score),
        algorithm: c.quality.as_ref().map(|q| q.algorithm.clone()),
        threshold: (threshold > 0).then_some(threshold),
        retries: c.retries,
        forced: c.forced,
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

fn finger_state(slot: Option<&Slot>) -> (&'static str, Option<u8>) {
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
fn step_view(
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
    let (done, needed_n) = progress::count(visit);
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

fn render(app: &App, session: &Session, status: StatusCode, view: StepView) -> Response {
    app.pages.page(
        status,
        "capture_step.html",
        &Ctx {
            base: Base::new(app, session, "/home"),
            page: view,
        },
    )
}

/// What a blocking job found.
enum Loaded {
    Page(Box<StepView>),
    Go(String),
    Missing(String),
}

/// A draft as a page needs it: the kit home, the drafts, the visit and its files by name.
type Draft = (
    KitHome,
    jemput_kit::visit::Drafts,
    Visit,
    HashMap<String, Vec<u8>>,
);

/// Loads the draft (with the unlocked key) and the kit home.
fn open_draft(app: &App, id: Uuid) -> Result<Draft, String> {
    let identity = app
        .lock
        .identity(Instant::now())
        .ok_or_else(|| "locked".to_string())?;
    let home = KitHome::open(&app.home).map_err(|e| e.to_string())?;
    let drafts = home.drafts().map_err(|e| e.to_string())?;
    let (visit, files) = drafts.load(id, &identity).map_err(|e| e.to_string())?;
    let files = files.into_iter().map(|f| (f.name, f.bytes)).collect();
    Ok((home, drafts, visit, files))
}

fn parse_step(raw: &str) -> Option<Step> {
    raw.parse::<Step>().ok()
}

/// `GET /visit/{id}/step/{step}`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let Some(step) = parse_step(&raw) else {
        return (StatusCode::NOT_FOUND, "no such step").into_response();
    };
    let lang = session.lang;
    let a = app.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let (home, _, visit, files) = open_draft(&a, id).map_err(Loaded::Missing)?;
        if !valid_step(&visit, step) {
            return Err(Loaded::Missing(format!(
                "this visit has no step {}",
                step.id()
            )));
        }
        if !visit.consent.as_ref().is_some_and(|c| c.given) {
            return Err(Loaded::Go(format!("/visit/{id}/consent")));
        }
        // Open the visit's devices now, so the panel says what is there.
        a.devices.prepare(&home.root, &visit, &home.config.face);
        let last = progress::needed(&visit)
            .into_iter()
            .rfind(|s| *s < step && progress::filled(&visit, *s));
        Ok(Loaded::Page(Box::new(step_view(
            &a, lang, &home, &visit, &files, step, None, last,
        ))))
    })
    .await
    .unwrap_or_else(|e| Err(Loaded::Missing(e.to_string())));
    match loaded {
        Ok(Loaded::Page(v)) => render(&app, &session, StatusCode::OK, *v),
        Ok(Loaded::Go(to)) | Err(Loaded::Go(to)) => Redirect::to(&to).into_response(),
        Ok(Loaded::Missing(e)) | Err(Loaded::Missing(e)) => {
            (StatusCode::NOT_FOUND, e).into_response()
        }
        Err(Loaded::Page(_)) => unreachable!("a page is never an error"),
    }
}

/// Tells the station's devices (and so the browsers) about every attempt.
struct Live<'a> {
    app: &'a App,
    visit: Uuid,
    step: Step,
}

impl CaptureObserver for Live<'_> {
    fn attempt(&mut self, e: &AttemptEvent) {
        self.app.devices.attempt(self.visit, self.step, e);
    }

    fn finger_image(
        &mut self,
        _: FingerPosition,
        attempt: u32,
        image: &jemput_kit::visit::attempt::FingerImage,
    ) {
        // Kept in memory as PNG for the page; an image whose size disagrees is not shown.
        if let Some(img) =
            image::GrayImage::from_raw(image.width, image.height, image.pixels.clone())
        {
            let png = jemput_core::imaging::signature::png(&img);
            self.app
                .devices
                .keep_image(self.visit, self.step, attempt, png);
        }
    }
}

/// Runs `step` on the devices and says where the browser goes or what the page shows.
fn run_capture(app: &App, lang: Lang, id: Uuid, step: Step, kind: SignatureKind) -> Loaded {
    let (home, drafts, visit, _) = match open_draft(app, id) {
        Ok(x) => x,
        Err(e) => return Loaded::Missing(e),
    };
    if !valid_step(&visit, step) {
        return Loaded::Missing(format!("this visit has no step {}", step.id()));
    }
    if !visit.consent.as_ref().is_some_and(|c| c.given) {
        return Loaded::Go(format!("/visit/{id}/consent"));
    }
    let page_with = |app: &App, problem: String, last: Option<Step>| {
        let (home, _, visit, files) = match open_draft(app, id) {
            Ok(x) => x,
            Err(e) => return Loaded::Missing(e),
        };
        Loaded::Page(Box::new(step_view(
            app,
            lang,
            &home,
            &visit,
            &files,
            step,
            Some(problem),
            last,
        )))
    };
    let devices = match app
        .devices
        .take(&home.root, &visit, &home.config.face, step)
    {
        Ok(d) => d,
        Err(busy) => {
            let mut a = fluent_bundle::FluentArgs::new();
            a.set("step", busy.0);
            return page_with(app, app.i18n.text(lang, "capture-busy", Some(&a)), None);
        }
    };
    app.devices.clear_attempts(id, step);
    let plan = plan(&home, &visit, step, app.devices.realtime(), kind);
    let mut session = match VisitSession::start(drafts, visit, devices, plan) {
        Ok(s) => s,
        Err(e) => {
            app.devices.give_back(id, SessionDevices::default(), None);
            return page_with(app, problem_text(&app.i18n, lang, &e), None);
        }
    };
    // The location is logged when a GPS receiver is there, never required.
    if session.steps().contains(&Step::Location) && !session.is_done(Step::Location) {
        let _ = session.run(Step::Location, &mut jemput_kit::visit::attempt::NoObserver);
    }
    let ran = session.run(
        step,
        &mut Live {
            app,
            visit: id,
            step,
        },
    );
    let next = next_after(&session);
    let (visit, devices) = session.into_parts();
    match ran {
        Ok(_) => {
            app.devices.give_back(id, devices, None);
            // A finger kept without forcing goes on; anything else stays to be looked at.
            let accepted = match step {
                Step::Finger(p) => {
                    matches!(visit.captures.fingers.get(&p), Some(Slot::Captured(c)) if !c.forced)
                }
                _ => false,
            };
            if accepted {
                Loaded::Go(step_url(id, next))
            } else {
                Loaded::Go(format!("/visit/{id}/step/{}", step.id()))
            }
        }
        Err(e) => {
            let text = problem_text(&app.i18n, lang, &e);
            let failed = matches!(
                e,
                CaptureError::Device { .. } | CaptureError::NoDevice { .. }
            )
            .then(|| (Role::of(step), text.clone()));
            app.devices.give_back(id, devices, failed);
            page_with(app, text, None)
        }
    }
}

/// `POST /visit/{id}/step/{step}/capture` (and `/redo`): captures the step from its device.
pub async fn capture(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let Some(step) = parse_step(&raw) else {
        return (StatusCode::NOT_FOUND, "no such step").into_response();
    };
    let kind = match f.get("kind").map(String::as_str) {
        Some("simple_mark") => SignatureKind::SimpleMark,
        Some("written_name") => SignatureKind::WrittenName,
        _ => SignatureKind::Signature,
    };
    let lang = session.lang;
    let a = app.clone();
    let done = tokio::task::spawn_blocking(move || run_capture(&a, lang, id, step, kind))
        .await
        .unwrap_or_else(|e| Loaded::Missing(e.to_string()));
    answer(&app, &session, done)
}

fn answer(app: &App, session: &Session, done: Loaded) -> Response {
    match done {
        Loaded::Page(v) => render(app, session, StatusCode::OK, *v),
        Loaded::Go(to) => Redirect::to(&to).into_response(),
        Loaded::Missing(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

/// `POST /visit/{id}/step/{step}/exception` ("Pengecualian"): `reason` (and `other` for its
/// text), `permanence`, and for a document photo `document` (akta, kia, kk or all).
pub async fn exception(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let Some(step) = parse_step(&raw) else {
        return (StatusCode::NOT_FOUND, "no such step").into_response();
    };
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let reason = reason_of(&field("reason"), &field("other"));
    let permanence = if field("permanence") == "permanent" {
        Permanence::Permanent
    } else {
        Permanence::Temporary
    };
    let document = field("document").parse::<DocumentKind>().ok();
    let lang = session.lang;
    let a = app.clone();
    let done = tokio::task::spawn_blocking(move || {
        let (home, drafts, visit, files) = match open_draft(&a, id) {
            Ok(x) => x,
            Err(e) => return Loaded::Missing(e),
        };
        if !valid_step(&visit, step) {
            return Loaded::Missing(format!("this visit has no step {}", step.id()));
        }
        if !visit.consent.as_ref().is_some_and(|c| c.given) {
            return Loaded::Go(format!("/visit/{id}/consent"));
        }
        let Some(reason) = reason else {
            let text = a.i18n.text(lang, "capture-need-reason", None);
            return Loaded::Page(Box::new(step_view(
                &a,
                lang,
                &home,
                &visit,
                &files,
                step,
                Some(text),
                None,
            )));
        };
        let plan = plan(&home, &visit, step, false, SignatureKind::Signature);
        let mut session = match VisitSession::start(drafts, visit, SessionDevices::default(), plan)
        {
            Ok(s) => s,
            Err(e) => return Loaded::Missing(e.to_string()),
        };
        let recorded = match (step.subject(), step) {
            (Some(subject), _) => session.record_exception(subject, reason, permanence),
            (None, Step::Document(_)) => session.record_document_exception(
                document.unwrap_or(DocumentKind::All),
                reason,
                permanence,
            ),
            _ => return Loaded::Missing("no exception for this step".into()),
        };
        match recorded {
            Ok(()) => Loaded::Go(step_url(id, next_after(&session))),
            Err(e) => {
                let text = problem_text(&a.i18n, lang, &e);
                let (visit, _) = session.into_parts();
                Loaded::Page(Box::new(step_view(
                    &a,
                    lang,
                    &home,
                    &visit,
                    &files,
                    step,
                    Some(text),
                    None,
                )))
            }
        }
    })
    .await
    .unwrap_or_else(|e| Loaded::Missing(e.to_string()));
    answer(&app, &session, done)
}

/// A draft file as the browser shows it: a finger's WSQ as PNG, a photo or the rendered
/// signature as it is.
fn viewable(name: &str, bytes: Vec<u8>) -> Result<(&'static str, Vec<u8>), String> {
    if name.ends_with(".wsq") {
        let d = jemput_wsq::decode(&bytes).map_err(|e| e.to_string())?;
        let img = image::GrayImage::from_raw(d.image.width, d.image.height, d.image.pixels)
            .ok_or("the WSQ image's size disagrees with its pixels")?;
        Ok(("image/png", jemput_core::imaging::signature::png(&img)))
    } else if name.ends_with(".jpg") || name.ends_with(".jpeg") {
        Ok(("image/jpeg", bytes))
    } else if name.ends_with(".png") {
        Ok(("image/png", bytes))
    } else {
        Err(format!("{name} is not an image"))
    }
}

/// `GET /visit/{id}/file/{name}`: a capture image of the visit, decrypted in memory and never
/// kept by the browser (`Cache-Control: no-store`, as every answer of the station).
pub async fn file(State(app): State<Arc<App>>, Path((id, name)): Path<(Uuid, String)>) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let a = app.clone();
    let got = tokio::task::spawn_blocking(move || {
        let (_, _, _, mut files) = open_draft(&a, id)?;
        let bytes = files
            .remove(&name)
            .ok_or_else(|| format!("the visit has no file {name}"))?;
        viewable(&name, bytes)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match got {
        Ok((content_type, bytes)) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

/// `GET /visit/{id}/attempt/{step}/{n}`: the image of finger attempt `n` of the step's last run,
/// from memory (PNG, `no-store`); gone once the kit locks or the step runs again.
pub async fn attempt_image(
    State(app): State<Arc<App>>,
    Path((id, raw, n)): Path<(Uuid, String, u32)>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let image = parse_step(&raw).and_then(|step| app.devices.image(id, step, n));
    match image {
        Some(png) => {
            let mut r = png.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        None => (StatusCode::NOT_FOUND, "no such attempt image").into_response(),
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

    #[test]
    fn exception_reasons_are_read_from_the_form_and_other_needs_its_text() {
        assert_eq!(
            reason_of("bandaged", ""),
            Some(ExceptionReason::BandagedOrInjured)
        );
        assert_eq!(reason_of("other", "  "), None);
        assert_eq!(
            reason_of("other", "jari kaku"),
            Some(ExceptionReason::Other("jari kaku".into()))
        );
        assert_eq!(reason_of("nonsense", ""), None);
    }
}

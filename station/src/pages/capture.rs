//! The capture steps in the browser (what a page shows: [`super::capture_view`]): `GET /visit/{id}/step/{step}` (step = `Step::id()`: `face`,
//! `finger-07`, `signature`, `document-1`) and its actions — `…/capture` ("Ambil foto", "Ambil
//! sidik jari", "Ambil tanda tangan"; run again it retakes), `…/redo` (the same, from the
//! captured view), `…/exception` ("Pengecualian": reason and permanence) — and the capture images
//! from the draft (`GET /visit/{id}/image/{name}`, decrypted in memory, `no-store`).
//!
//! A capture runs the kit's `VisitSession` on a blocking thread with the devices taken from
//! [`crate::devices::Devices`]; every attempt goes to the browser as it is scored (`GET /events`,
//! [`super::live`]) and the draft is saved after every capture. When the step is done the
//! browser goes on to the next step in the engine's order, or to `/visit/{id}/review` when none
//! is left. A face photo, a signature, a document photo, a finger kept as forced stay on their
//! page so the operator sees the checks and decides to retake or go on.
//!
//! While the resident signs, each pen sample the pad reports goes to the browser too (`pen`
//! events on `GET /events`), which draws the trace live; the page draws the kept trace from the
//! draft when the signature is done (and without the script).
//!
//! A finger's exception may take a proof photo with the camera ("Foto bukti", `proof=1`): the
//! devices are taken for the camera's role and the kit's `record_exception_with_proof` saves it.
//!
//! With an SBI slap scanner the fingers go 4-4-2 on the slap pages ([`super::slaps`]): a finger
//! step's page sends the browser to the slap that takes it.
//!
//! Not here (the engine does not offer them): the images of the attempts a finger did not keep
//! (only the kept one is saved, as WSQ).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::{DocumentKind, ExceptionReason, FingerPosition, Permanence, Slot, Visit};
use jemput_kit::home::KitHome;
use jemput_kit::sbi::Slap;
use jemput_kit::visit::attempt::{AttemptEvent, CaptureObserver};
use jemput_kit::visit::plan::CapturePlan;
use jemput_kit::visit::{progress, CaptureError, SessionDevices, Step, VisitSession};
use uuid::Uuid;

use super::capture_view::{step_url, step_view, StepView};
use super::{Base, Ctx};
use crate::devices::{problem_text, Busy, Role};
use crate::i18n::Lang;
use crate::security::Session;
use crate::App;

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

/// The plan of one capture: the kit's policy and face settings, waits that suit the devices.
pub(super) fn plan(
    home: &KitHome,
    v: &Visit,
    step: Step,
    realtime: bool,
    kind: SignatureKind,
) -> CapturePlan {
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

fn render(app: &App, session: &Session, status: StatusCode, view: StepView) -> Response {
    // The language switch comes back to this step.
    let base = Base::new(
        app,
        session,
        &format!("/visit/{}/step/{}", view.id, view.step),
    );
    app.pages
        .page(status, "capture_step.html", &Ctx { base, page: view })
}

/// Whether `path` is a step page's own address, `/visit/{uuid}/step/{step}` (where the language
/// switch may send the browser back to).
pub fn is_step_path(path: &str) -> bool {
    let mut parts = path.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(""), Some("visit"), Some(id), Some("step"), Some(step), None)
            if id.parse::<Uuid>().is_ok() && parse_step(step).is_some()
    )
}

/// What a blocking job found.
pub(super) enum Loaded {
    Page(Box<StepView>),
    /// A slap's page ([`super::slaps`]).
    Slap(Box<super::slap_view::SlapView>),
    Go(String),
    Missing(String),
}

/// A draft as a page needs it: the kit home, the drafts, the visit and its files by name.
pub(super) type Draft = (
    KitHome,
    jemput_kit::visit::Drafts,
    Visit,
    HashMap<String, Vec<u8>>,
);

/// The draft of visit `id` for a page or an action of `step`; `Err` is the answer instead: the
/// visit is missing or has no such step, or its consent is not given yet (back to consent).
pub(super) fn draft_for_step(app: &App, id: Uuid, step: Step) -> Result<Draft, Loaded> {
    let draft = open_draft(app, id).map_err(Loaded::Missing)?;
    let visit = &draft.2;
    if !valid_step(visit, step) {
        return Err(Loaded::Missing(format!(
            "this visit has no step {}",
            step.id()
        )));
    }
    if !visit.consent.as_ref().is_some_and(|c| c.given) {
        return Err(Loaded::Go(format!("/visit/{id}/consent")));
    }
    Ok(draft)
}

pub(super) fn open_draft(app: &App, id: Uuid) -> Result<Draft, String> {
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

/// Whether a job on a draft may take the station's devices (a capture, a proof photo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Takes {
    Nothing,
    Devices,
}

/// What every page and action on a draft's step or slap does around its own work: a locked kit
/// goes to unlock, an address that names no `target` is not found, and `job` runs on a blocking
/// thread (it loads the draft, may hold the devices) with the session's language; its answer is
/// rendered. A job that stopped short (panicked) is not found; when it may have held the devices
/// they are forgotten, so that the next step opens them afresh rather than finding them busy.
pub(super) async fn on_draft<T: Send + 'static>(
    app: Arc<App>,
    session: Session,
    target: Result<T, &'static str>,
    takes: Takes,
    job: impl FnOnce(&App, Lang, T) -> Loaded + Send + 'static,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let target = match target {
        Ok(t) => t,
        Err(why) => return (StatusCode::NOT_FOUND, why).into_response(),
    };
    let lang = session.lang;
    let a = app.clone();
    let done = tokio::task::spawn_blocking(move || job(&a, lang, target))
        .await
        .unwrap_or_else(|e| {
            tracing::error!("a job on a draft stopped: {e}");
            if takes == Takes::Devices {
                app.devices.abandon();
            }
            Loaded::Missing(format!("stopped: {e}"))
        });
    answer(&app, &session, done)
}

/// `GET /visit/{id}/step/{step}`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
) -> Response {
    let step = parse_step(&raw).ok_or("no such step");
    on_draft(app, session, step, Takes::Nothing, move |a, lang, step| {
        let (home, _, visit, files) = match draft_for_step(a, id, step) {
            Ok(x) => x,
            Err(answer) => return answer,
        };
        // Open the visit's devices now, so the panel says what is there.
        a.devices.prepare(&home.root, &visit, &home.config.face);
        // With a slap scanner a finger is taken in its slap (4-4-2).
        if let Step::Finger(p) = step {
            if a.devices.slaps(id) {
                return Loaded::Go(super::slap_view::slap_url_for(&visit, p));
            }
        }
        let last = progress::needed(&visit)
            .into_iter()
            .rfind(|s| *s < step && progress::filled(&visit, *s));
        Loaded::Page(Box::new(step_view(
            a, lang, &home, &visit, &files, step, None, last,
        )))
    })
    .await
}

/// Tells the station's devices (and so the browsers) about every attempt: a finger's under its
/// own step (`finger-07`), also when it was taken in a slap.
pub(super) struct Live<'a> {
    pub(super) app: &'a App,
    pub(super) visit: Uuid,
    pub(super) step: Step,
}

impl CaptureObserver for Live<'_> {
    fn attempt(&mut self, e: &AttemptEvent) {
        let step = match e.subject {
            jemput_kit::visit::attempt::Subject::Finger(p) => Step::Finger(p),
            _ => self.step,
        };
        self.app.devices.attempt(self.visit, step, e);
    }

    fn pen(&mut self, sample: &jemput_kit::visit::attempt::PenSample) {
        self.app.devices.pen(self.visit, self.step, sample);
    }

    fn finger_image(
        &mut self,
        finger: FingerPosition,
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
                .keep_image(self.visit, Step::Finger(finger), attempt, png);
        }
    }
}

/// Runs `run` on a session of `visit` over `devices` with `plan`, the location logged first when
/// a GPS receiver is there, and gives the devices back (closed, with the problem, when the device
/// of `role` failed): what a step's capture and a slap's share. `Ok`: the visit as saved and the
/// step to go on with; `Err`: what went wrong, in the operator's words.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_engine(
    app: &App,
    lang: Lang,
    id: Uuid,
    (drafts, visit): (jemput_kit::visit::Drafts, Visit),
    devices: SessionDevices,
    plan: CapturePlan,
    role: Role,
    run: impl FnOnce(&mut VisitSession) -> Result<(), CaptureError>,
) -> Result<(Visit, Option<Step>), String> {
    let mut session = match VisitSession::start(drafts, visit, devices, plan) {
        Ok(s) => s,
        Err(e) => {
            app.devices.give_back(id, SessionDevices::default(), None);
            return Err(problem_text(&app.i18n, lang, &e));
        }
    };
    // The location is logged when a GPS receiver is there, never required.
    if session.steps().contains(&Step::Location) && !session.is_done(Step::Location) {
        let _ = session.run(Step::Location, &mut jemput_kit::visit::attempt::NoObserver);
    }
    let ran = run(&mut session);
    let next = next_after(&session);
    let (visit, devices) = session.into_parts();
    match ran {
        Ok(()) => {
            app.devices.give_back(id, devices, None);
            Ok((visit, next))
        }
        Err(e) => {
            let text = problem_text(&app.i18n, lang, &e);
            let failed = matches!(
                e,
                CaptureError::Device { .. } | CaptureError::NoDevice { .. }
            )
            .then(|| (role, text.clone()));
            app.devices.give_back(id, devices, failed);
            Err(text)
        }
    }
}

/// The page of `step` saying `problem` (nothing was captured or recorded), or the page of the
/// slap that takes the finger when the form came from there (`to_slap`).
fn problem_page(
    app: &App,
    lang: Lang,
    id: Uuid,
    step: Step,
    to_slap: bool,
    problem: String,
) -> Loaded {
    if let (Step::Finger(p), true) = (step, to_slap) {
        return super::slaps::finger_problem(app, lang, id, p, problem);
    }
    match open_draft(app, id) {
        Ok((home, _, visit, files)) => Loaded::Page(Box::new(step_view(
            app,
            lang,
            &home,
            &visit,
            &files,
            step,
            Some(problem),
            None,
        ))),
        Err(e) => Loaded::Missing(e),
    }
}

/// Runs `step` on the devices and says where the browser goes or what the page shows.
fn run_capture(app: &App, lang: Lang, id: Uuid, step: Step, kind: SignatureKind) -> Loaded {
    let (home, drafts, visit, _) = match draft_for_step(app, id, step) {
        Ok(x) => x,
        Err(answer) => return answer,
    };
    let devices = match app
        .devices
        .take(&home.root, &visit, &home.config.face, step)
    {
        Ok(d) => d,
        Err(busy) => {
            return problem_page(app, lang, id, step, false, busy_text(app, lang, busy));
        }
    };
    app.devices.clear_attempts(id, step);
    let plan = plan(&home, &visit, step, app.devices.realtime(), kind);
    let mut live = Live {
        app,
        visit: id,
        step,
    };
    let ran = run_engine(
        app,
        lang,
        id,
        (drafts, visit),
        devices,
        plan,
        Role::of(step),
        |session| session.run(step, &mut live).map(|_| ()),
    );
    match ran {
        Ok((visit, next)) => {
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
        Err(text) => problem_page(app, lang, id, step, false, text),
    }
}

/// `POST /visit/{id}/step/{step}/capture` (and `/redo`): captures the step from its device.
pub async fn capture(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let kind = match f.get("kind").map(String::as_str) {
        Some("simple_mark") => SignatureKind::SimpleMark,
        Some("written_name") => SignatureKind::WrittenName,
        _ => SignatureKind::Signature,
    };
    let step = parse_step(&raw).ok_or("no such step");
    on_draft(app, session, step, Takes::Devices, move |a, lang, step| {
        run_capture(a, lang, id, step, kind)
    })
    .await
}

pub(super) fn answer(app: &App, session: &Session, done: Loaded) -> Response {
    match done {
        Loaded::Page(v) => render(app, session, StatusCode::OK, *v),
        Loaded::Slap(v) => super::slaps::render(app, session, *v),
        Loaded::Go(to) => Redirect::to(&to).into_response(),
        Loaded::Missing(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

/// `POST /visit/{id}/step/{step}/exception` ("Pengecualian"): `reason` (and `other` for its
/// text), `permanence`, and for a document photo `document` (akta, kia, kk or all); for a finger
/// `proof=1` takes a proof photo with the camera, and `back=slap` goes back to the finger's slap.
pub async fn exception(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let step = parse_step(&raw).ok_or("no such step");
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let reason = reason_of(&field("reason"), &field("other"));
    let permanence = if field("permanence") == "permanent" {
        Permanence::Permanent
    } else {
        Permanence::Temporary
    };
    let document = field("document").parse::<DocumentKind>().ok();
    // "Foto bukti": a proof photo beside a finger's exception, taken with the camera.
    let proof = field("proof") == "1" && matches!(step, Ok(Step::Finger(_)));
    let back_to_slap = field("back") == "slap";
    let takes = if proof {
        Takes::Devices
    } else {
        Takes::Nothing
    };
    on_draft(app, session, step, takes, move |a, lang, step| {
        let (home, drafts, visit, _) = match draft_for_step(a, id, step) {
            Ok(x) => x,
            Err(answer) => return answer,
        };
        // The step's page again (or the slap's it was sent from), saying why nothing was recorded.
        let page = |text: String| problem_page(a, lang, id, step, back_to_slap, text);
        let Some(reason) = reason else {
            return page(a.i18n.text(lang, "capture-need-reason", None));
        };
        let plan = plan(
            &home,
            &visit,
            step,
            a.devices.realtime(),
            SignatureKind::Signature,
        );
        // Only a proof photo needs a device: the camera (the face step's role).
        let devices = if proof {
            match a
                .devices
                .take(&home.root, &visit, &home.config.face, Step::Face)
            {
                Ok(d) => d,
                Err(busy) => return page(busy_text(a, lang, busy)),
            }
        } else {
            SessionDevices::default()
        };
        let mut session = match VisitSession::start(drafts, visit, devices, plan) {
            Ok(s) => s,
            Err(e) => {
                if proof {
                    a.devices.give_back(id, SessionDevices::default(), None);
                }
                return Loaded::Missing(e.to_string());
            }
        };
        let recorded = match (step.subject(), step) {
            (Some(subject), _) if proof => {
                session.record_exception_with_proof(subject, reason, permanence)
            }
            (Some(subject), _) => session.record_exception(subject, reason, permanence),
            (None, Step::Document(_)) => session.record_document_exception(
                document.unwrap_or(DocumentKind::All),
                reason,
                permanence,
            ),
            _ => return Loaded::Missing("no exception for this step".into()),
        };
        let next = next_after(&session);
        let failed = recorded
            .as_ref()
            .err()
            .map(|e| problem_text(&a.i18n, lang, e));
        let (_, devices) = session.into_parts();
        if proof {
            // The camera goes back; closed, to be opened afresh, when it failed.
            let camera_failed = matches!(
                recorded,
                Err(CaptureError::Device { .. } | CaptureError::NoDevice { .. })
            );
            let problem = failed.clone().filter(|_| camera_failed);
            a.devices
                .give_back(id, devices, problem.map(|p| (Role::Camera, p)));
        }
        match recorded {
            // Marked missing from a slap's page: back to that slap.
            Ok(()) if back_to_slap => match step {
                Step::Finger(p) => Loaded::Go(super::slaps::page_url(id, Slap::of(p))),
                _ => Loaded::Go(step_url(id, next)),
            },
            Ok(()) => Loaded::Go(step_url(id, next)),
            Err(_) => page(failed.unwrap_or_default()),
        }
    })
    .await
}

/// `POST /visit/{id}/step/{step}/withdraw` ("Batalkan tanda tidak ada"): takes back the exception
/// recorded for the step (a finger marked missing by mistake), which is then captured like any
/// other — from a slap, the device is asked for it again. `back=slap` goes back to the finger's
/// slap, otherwise to the step's page.
pub async fn withdraw(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let back_to_slap = f.get("back").is_some_and(|b| b == "slap");
    let step = parse_step(&raw).ok_or("no such step");
    on_draft(app, session, step, Takes::Nothing, move |a, lang, step| {
        let (home, drafts, visit, _) = match draft_for_step(a, id, step) {
            Ok(x) => x,
            Err(answer) => return answer,
        };
        let Some(subject) = step.subject() else {
            return Loaded::Missing("no exception for this step".into());
        };
        let plan = plan(
            &home,
            &visit,
            step,
            a.devices.realtime(),
            SignatureKind::Signature,
        );
        let withdrawn = VisitSession::start(drafts, visit, SessionDevices::default(), plan)
            .and_then(|mut session| session.withdraw_exception(subject));
        match (withdrawn, step) {
            (Err(e), _) => problem_page(
                a,
                lang,
                id,
                step,
                back_to_slap,
                problem_text(&a.i18n, lang, &e),
            ),
            (Ok(_), Step::Finger(p)) if back_to_slap => {
                Loaded::Go(super::slaps::page_url(id, Slap::of(p)))
            }
            (Ok(_), _) => Loaded::Go(format!("/visit/{id}/step/{}", step.id())),
        }
    })
    .await
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

/// `GET /visit/{id}/image/{name}`: a capture image of the visit, decrypted in memory and never
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

/// "The device is busy with another step" (`capture-busy`), naming the step that holds it.
pub(super) fn busy_text(app: &App, lang: Lang, busy: Busy) -> String {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("step", busy.0);
    app.i18n.text(lang, "capture-busy", Some(&args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_step_pages_own_address_is_a_step_path() {
        let id = "0b7d4d2e-5d7e-4f4f-9d59-1d2f3c4b5a69";
        assert!(is_step_path(&format!("/visit/{id}/step/finger-07")));
        assert!(is_step_path(&format!("/visit/{id}/step/face")));
        for bad in [
            format!("//evil.example/visit/{id}/step/face"),
            format!("/visit/{id}/step/finger-11"),
            format!("/visit/{id}/step/face/extra"),
            "/visit/not-a-uuid/step/face".to_string(),
            format!("https://evil.example/visit/{id}/step/face"),
        ] {
            assert!(!is_step_path(&bad), "{bad}");
        }
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

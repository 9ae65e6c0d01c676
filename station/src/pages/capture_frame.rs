//! What the capture steps' pages ([`super::capture`]) and the slap pages ([`super::slaps`])
//! share around their own work: a visit's draft loaded for a step (or the answer instead: the kit
//! locked, the visit or its step missing, consent not given), the job run on a blocking thread in
//! the session's language, the visit engine run over the station's devices with every attempt
//! told to the browsers as it is scored ([`Live`]), and the answer drawn as the step's or the
//! slap's page.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::{FingerPosition, Visit};
use jemput_kit::home::KitHome;
use jemput_kit::visit::attempt::{AttemptEvent, CaptureObserver};
use jemput_kit::visit::plan::CapturePlan;
use jemput_kit::visit::{progress, CaptureError, SessionDevices, Step, VisitSession};
use uuid::Uuid;

use super::capture_view::StepView;
use super::slap_view::SlapView;
use super::{Base, Ctx};
use crate::devices::{problem_text, Busy, Role};
use crate::i18n::Lang;
use crate::security::Session;
use crate::App;

/// The steps a visit needs, with document photos beyond the first that it holds.
pub(super) fn valid_step(v: &Visit, step: Step) -> bool {
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
pub(super) fn next_after(session: &VisitSession) -> Option<Step> {
    session
        .pending()
        .into_iter()
        .find(|s| *s != Step::Location)
        .or_else(|| progress::first_missing(session.visit()))
}

pub(super) fn render_step(
    app: &App,
    session: &Session,
    status: StatusCode,
    view: StepView,
) -> Response {
    // The language switch comes back to this step.
    let base = Base::new(
        app,
        session,
        &format!("/visit/{}/step/{}", view.id, view.step),
    );
    app.pages
        .page(status, "capture_step.html", &Ctx { base, page: view })
}

/// What a blocking job found.
pub(super) enum Loaded {
    Page(Box<StepView>),
    /// A slap's page ([`super::slaps`]).
    Slap(Box<SlapView>),
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

pub(super) fn answer(app: &App, session: &Session, done: Loaded) -> Response {
    match done {
        Loaded::Page(v) => render_step(app, session, StatusCode::OK, *v),
        Loaded::Slap(v) => render_slap(app, session, *v),
        Loaded::Go(to) => Redirect::to(&to).into_response(),
        Loaded::Missing(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

/// "The device is busy with another step" (`capture-busy`), naming the step that holds it.
pub(super) fn busy_text(app: &App, lang: Lang, busy: Busy) -> String {
    let mut args = fluent_bundle::FluentArgs::new();
    args.set("step", busy.0);
    app.i18n.text(lang, "capture-busy", Some(&args))
}

pub(super) fn render_slap(app: &App, session: &Session, view: SlapView) -> Response {
    // The language switch comes back to this slap.
    let base = Base::new(
        app,
        session,
        &format!("/visit/{}/slap/{}", view.id, view.slap),
    );
    app.pages.page(
        StatusCode::OK,
        "capture_slap.html",
        &Ctx { base, page: view },
    )
}

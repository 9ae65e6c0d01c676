//! The fingers 4-4-2 with an SBI slap scanner (`jemput ui --scanner sbi:PORT/DEVICEID/SUBID`):
//! when the visit's devices hold a slap scanner for the scanner role (and no single-finger
//! scanner), its ten finger steps are three slap steps — the left slap (left index to little),
//! the right slap, the two thumbs, in that order — with one page each, `GET
//! /visit/{id}/slap/{left|right|thumbs}`, and one capture, `POST …/capture`, which runs the kit's
//! `VisitSession::run_slap`: every finger of the slap through the capture policy, the fingers
//! below the threshold taken again in a slap of their own (`jemput_kit::visit::slaps`).
//!
//! A finger the operator marked missing (an exception with a reason, recorded through the finger
//! step's own `…/exception` route with `back=slap`) is sent to the device as missing and not
//! asked for; an exception the policy recorded (poor quality, not detected) is taken again with
//! the slap. The page shows each finger's kept image, jemput's score and the device's own score,
//! its attempts (live over `GET /events` while the slap runs, each under its finger) and a form to
//! mark it missing. A finger step's own address (`/visit/{id}/step/finger-07`, as the review
//! links it) sends the browser to the slap that takes it.
//!
//! Without a slap scanner none of this shows: the per-finger pages ([`super::capture`]) are used.
//! What the page shows: [`super::slap_view`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Form};
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::{ExceptionReason, FingerPosition, Permanence, Slot};
use jemput_kit::sbi::Slap;
use jemput_kit::visit::Step;
use uuid::Uuid;

use super::capture_frame::{
    busy_text, draft_for_step, on_draft, open_draft, plan, run_engine, Live, Loaded, Takes,
};
use super::capture_view::step_url;
use super::slap_steps::{code, page_url, parse};
use super::slap_view::{marked_missing, slap_view};
use crate::devices::Role;
use crate::i18n::Lang;
use crate::security::Session;
use crate::App;

/// The step of the slap's first finger: what the slap's pages and actions check the draft for
/// (a biometric visit with its consent given), as a finger step's do.
fn first_step(slap: Slap) -> Step {
    Step::Finger(slap.fingers()[0])
}

/// `GET /visit/{id}/slap/{slap}`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
) -> Response {
    let slap = parse(&raw).ok_or("no such slap");
    on_draft(app, session, slap, Takes::Nothing, move |a, lang, slap| {
        let (home, _, visit, files) = match draft_for_step(a, id, first_step(slap)) {
            Ok(x) => x,
            Err(answer) => return answer,
        };
        a.devices.prepare(&home.root, &visit, &home.config.face);
        if !a.devices.slaps(id) {
            // No slap scanner (any more): the slap's fingers one by one.
            return Loaded::Go(step_url(id, Some(first_step(slap))));
        }
        Loaded::Slap(Box::new(slap_view(
            a, lang, &home, &visit, &files, slap, None,
        )))
    })
    .await
}

/// `POST /visit/{id}/slap/{slap}/capture`: takes the slap, or with `finger=NN` ("Ambil ulang
/// jari ini") that finger of it alone, the others kept as they are; the page then shows what each
/// finger came to.
pub async fn capture(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let finger = f
        .get("finger")
        .map(|n| n.parse::<u8>().ok().and_then(FingerPosition::new));
    let target = match (parse(&raw), finger) {
        (None, _) => Err("no such slap"),
        (Some(_), Some(None)) => Err("no such finger"),
        (Some(slap), Some(Some(p))) if Slap::of(p) != slap => Err("no such finger in this slap"),
        (Some(slap), finger) => Ok((slap, finger.flatten())),
    };
    on_draft(
        app,
        session,
        target,
        Takes::Devices,
        move |a, lang, (slap, only)| run_slap(a, lang, id, slap, only),
    )
    .await
}

/// The page of the slap that takes finger `p`, saying `problem` (an exception not recorded from
/// its form).
pub(super) fn finger_problem(
    app: &App,
    lang: Lang,
    id: Uuid,
    p: FingerPosition,
    problem: String,
) -> Loaded {
    match open_draft(app, id) {
        Ok((home, _, visit, files)) => Loaded::Slap(Box::new(slap_view(
            app,
            lang,
            &home,
            &visit,
            &files,
            Slap::of(p),
            Some(problem),
        ))),
        Err(e) => Loaded::Missing(e),
    }
}

/// Takes `slap`, or only its finger `only` (the slap asked for that finger, the others sent as
/// exceptions and their slots left as they are).
fn run_slap(app: &App, lang: Lang, id: Uuid, slap: Slap, only: Option<FingerPosition>) -> Loaded {
    let first = first_step(slap);
    let (home, drafts, visit, _) = match draft_for_step(app, id, first) {
        Ok(x) => x,
        Err(answer) => return answer,
    };
    let page_with = |problem: String| finger_problem(app, lang, id, slap.fingers()[0], problem);
    let devices = match app.devices.take_for(
        &home.root,
        &visit,
        &home.config.face,
        Role::Scanner,
        format!("slap-{}", code(slap)),
    ) {
        Ok(d) => d,
        Err(busy) => return page_with(busy_text(app, lang, busy)),
    };
    let fingers = slap.fingers();
    for p in fingers.iter().filter(|p| only.is_none_or(|o| o == **p)) {
        app.devices.clear_attempts(id, Step::Finger(*p));
    }
    let mut plan = plan(
        &home,
        &visit,
        first,
        app.devices.realtime(),
        SignatureKind::Signature,
    );
    // The fingers marked missing go to the device as missing (and keep their exception).
    plan.finger_exceptions = visit
        .captures
        .fingers
        .iter()
        .filter(|(_, s)| marked_missing(Some(s)))
        .filter_map(|(p, s)| match s {
            Slot::Exception(e) => Some((*p, e.reason.clone(), e.permanence)),
            Slot::Captured(_) => None,
        })
        .collect::<Vec<(FingerPosition, ExceptionReason, Permanence)>>();
    if fingers.iter().all(|p| plan.finger_exception(*p).is_some()) {
        app.devices.give_back(id, devices, None);
        return Loaded::Go(page_url(id, slap));
    }
    let mut live = Live {
        app,
        visit: id,
        step: first,
    };
    let ran = run_engine(
        app,
        lang,
        id,
        (drafts, visit),
        devices,
        plan,
        Role::Scanner,
        |session| match only {
            // The session's finger step with a slap scanner asks the slap for that finger alone.
            Some(p) => session.run(Step::Finger(p), &mut live).map(|_| ()),
            None => session.run_slap(slap, &mut live).map(|_| ()),
        },
    );
    match ran {
        Ok(_) => Loaded::Go(page_url(id, slap)),
        Err(text) => page_with(text),
    }
}

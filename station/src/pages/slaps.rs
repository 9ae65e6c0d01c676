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
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::{ExceptionReason, FingerPosition, Permanence, Slot, Visit};
use jemput_kit::sbi::Slap;
use jemput_kit::visit::{CaptureError, SessionDevices, Step, VisitSession};
use uuid::Uuid;

use super::capture::{answer, busy_text, open_draft, plan, Live, Loaded};
use super::capture_view::step_url;
use super::slap_view::{marked_missing, slap_view, SlapView};
use super::{Base, Ctx};
use crate::devices::{problem_text, Role};
use crate::i18n::Lang;
use crate::security::Session;
use crate::App;

/// The slaps in the order the 4-4-2 takes them.
pub const SLAPS: [Slap; 3] = [Slap::Left, Slap::Right, Slap::Thumbs];

/// `left`, `right`, `thumbs`: a slap in the station's addresses.
pub fn code(slap: Slap) -> &'static str {
    match slap {
        Slap::Left => "left",
        Slap::Right => "right",
        Slap::Thumbs => "thumbs",
    }
}

fn parse(raw: &str) -> Option<Slap> {
    SLAPS.into_iter().find(|s| code(*s) == raw)
}

/// `/visit/{id}/slap/{slap}`.
pub fn page_url(id: Uuid, slap: Slap) -> String {
    format!("/visit/{id}/slap/{}", code(slap))
}

/// Whether a page address is a slap page's, `/visit/{uuid}/slap/{slap}` (where the language
/// switch may send the browser back to).
pub fn is_slap_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "visit", id, "slap", slap] if id.parse::<Uuid>().is_ok() && parse(slap).is_some()
    )
}

pub(super) fn render(app: &App, session: &Session, view: SlapView) -> Response {
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

/// What a slap page or action may go on with: a biometric visit with its consent given.
fn usable(visit: &Visit) -> Result<(), Loaded> {
    if !visit.category.records_biometrics() {
        return Err(Loaded::Missing("this visit takes no fingerprints".into()));
    }
    if !visit.consent.as_ref().is_some_and(|c| c.given) {
        return Err(Loaded::Go(format!("/visit/{}/consent", visit.id)));
    }
    Ok(())
}

/// `GET /visit/{id}/slap/{slap}`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let Some(slap) = parse(&raw) else {
        return (StatusCode::NOT_FOUND, "no such slap").into_response();
    };
    let lang = session.lang;
    let a = app.clone();
    let shown = tokio::task::spawn_blocking(move || {
        let (home, _, visit, files) = match open_draft(&a, id) {
            Ok(x) => x,
            Err(e) => return Loaded::Missing(e),
        };
        if let Err(l) = usable(&visit) {
            return l;
        }
        a.devices.prepare(&home.root, &visit, &home.config.face);
        if !a.devices.slaps(id) {
            // No slap scanner (any more): the slap's fingers one by one.
            let first = Step::Finger(slap.fingers()[0]);
            return Loaded::Go(step_url(id, Some(first)));
        }
        Loaded::Slap(Box::new(slap_view(
            &a, lang, &home, &visit, &files, slap, None,
        )))
    })
    .await
    .unwrap_or_else(|e| Loaded::Missing(e.to_string()));
    answer(&app, &session, shown)
}

/// `POST /visit/{id}/slap/{slap}/capture`: takes the slap; the page then shows what each finger
/// came to.
pub async fn capture(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path((id, raw)): Path<(Uuid, String)>,
    Form(_): Form<HashMap<String, String>>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let Some(slap) = parse(&raw) else {
        return (StatusCode::NOT_FOUND, "no such slap").into_response();
    };
    let lang = session.lang;
    let a = app.clone();
    let shown = tokio::task::spawn_blocking(move || run_slap(&a, lang, id, slap))
        .await
        .unwrap_or_else(|e| {
            tracing::error!("the capture of the {} stopped: {e}", slap.name());
            app.devices.abandon();
            Loaded::Missing(format!("the capture stopped: {e}"))
        });
    answer(&app, &session, shown)
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

fn run_slap(app: &App, lang: Lang, id: Uuid, slap: Slap) -> Loaded {
    let (home, drafts, visit, _) = match open_draft(app, id) {
        Ok(x) => x,
        Err(e) => return Loaded::Missing(e),
    };
    if let Err(l) = usable(&visit) {
        return l;
    }
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
    for p in &fingers {
        app.devices.clear_attempts(id, Step::Finger(*p));
    }
    let first = Step::Finger(fingers[0]);
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
    let mut session = match VisitSession::start(drafts, visit, devices, plan) {
        Ok(s) => s,
        Err(e) => {
            app.devices.give_back(id, SessionDevices::default(), None);
            return page_with(problem_text(&app.i18n, lang, &e));
        }
    };
    // The location is logged when a GPS receiver is there, never required.
    if session.steps().contains(&Step::Location) && !session.is_done(Step::Location) {
        let _ = session.run(Step::Location, &mut jemput_kit::visit::attempt::NoObserver);
    }
    let ran = session.run_slap(
        slap,
        &mut Live {
            app,
            visit: id,
            step: first,
        },
    );
    let (_, devices) = session.into_parts();
    match ran {
        Ok(_) => {
            app.devices.give_back(id, devices, None);
            Loaded::Go(page_url(id, slap))
        }
        Err(e) => {
            let text = problem_text(&app.i18n, lang, &e);
            let failed = matches!(
                e,
                CaptureError::Device { .. } | CaptureError::NoDevice { .. }
            )
            .then(|| (Role::Scanner, text.clone()));
            app.devices.give_back(id, devices, failed);
            page_with(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_slap_pages_own_address_is_a_slap_path() {
        let id = "0b7d4d2e-5d7e-4f4f-9d59-1d2f3c4b5a69";
        for slap in ["left", "right", "thumbs"] {
            assert!(is_slap_path(&format!("/visit/{id}/slap/{slap}")), "{slap}");
        }
        for bad in [
            format!("/visit/{id}/slap/middle"),
            format!("/visit/{id}/slap/left/capture"),
            format!("//evil.example/visit/{id}/slap/left"),
            "/visit/not-a-uuid/slap/left".to_string(),
        ] {
            assert!(!is_slap_path(&bad), "{bad}");
        }
    }

    #[test]
    fn the_slaps_take_the_ten_fingers_in_4_4_2_order() {
        let codes: Vec<Vec<u8>> = SLAPS
            .iter()
            .map(|s| s.fingers().iter().map(|p| p.code()).collect())
            .collect();
        assert_eq!(codes, [vec![7, 8, 9, 10], vec![2, 3, 4, 5], vec![6, 1]]);
    }
}

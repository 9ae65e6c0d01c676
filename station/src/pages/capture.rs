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
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::{DocumentKind, ExceptionReason, Permanence, Slot};
use jemput_kit::sbi::Slap;
use jemput_kit::visit::{progress, CaptureError, SessionDevices, Step, VisitSession};
use uuid::Uuid;

use super::capture_frame::{
    busy_text, draft_for_step, next_after, on_draft, open_draft, plan, run_engine, Live, Loaded,
    Takes,
};
use super::capture_view::{step_url, step_view};
use crate::devices::{problem_text, Role};
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

fn parse_step(raw: &str) -> Option<Step> {
    raw.parse::<Step>().ok()
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
                return Loaded::Go(super::slap_steps::slap_url_for(&visit, p));
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
                Step::Finger(p) => Loaded::Go(super::slap_steps::page_url(id, Slap::of(p))),
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
                Loaded::Go(super::slap_steps::page_url(id, Slap::of(p)))
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

//! The device panel (`GET /devices`; with `--sim`, its training control `POST /devices/trouble`
//! that unplugs a model device in the middle of its next capture and plugs it in again) and the
//! live events of the devices (`GET /events`,
//! Server-Sent Events): each attempt of the capture in progress as soon as it is scored, in the
//! session's language, and a note when the panel changed. `station/assets/capture.js` shows them
//! on the step page while the capture request is still running.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use axum::Form;
use serde::Serialize;

use super::{Base, Ctx};
use crate::devices::{attempt_text, Event, Role, RoleView, Trouble};
use crate::security::Session;
use crate::App;

#[derive(Debug, Serialize)]
struct PanelView {
    devices: Vec<RoleView>,
    simulated: bool,
    busy: Option<String>,
}

/// `GET /devices`: each role's device and its state.
pub async fn panel(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    app.pages.page(
        StatusCode::OK,
        "devices.html",
        &Ctx {
            base: Base::new(&app, &session, "/home"),
            page: PanelView {
                devices: app.devices.panel(),
                simulated: app.devices.simulated(),
                busy: app.devices.busy(),
            },
        },
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct TroubleForm {
    role: String,
    /// `unplug` or `replug`.
    action: String,
}

/// `POST /devices/trouble` (`role`, `action`): training only — on the device models of
/// `jemput ui --sim` a trainer unplugs a role's device in the middle of its next capture
/// (`unplug`) and plugs it in again (`replug`). 404 without the models; 409 while a capture has
/// the devices out.
pub async fn trouble(State(app): State<Arc<App>>, Form(f): Form<TroubleForm>) -> Response {
    if !app.devices.simulated() {
        return (
            StatusCode::NOT_FOUND,
            "only the device models of `jemput ui --sim` can be unplugged from here",
        )
            .into_response();
    }
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let trouble = match f.action.as_str() {
        "unplug" => Trouble::Unplug,
        "replug" => Trouble::Replug,
        _ => return (StatusCode::BAD_REQUEST, "action is `unplug` or `replug`").into_response(),
    };
    let Some(role) = Role::parse(&f.role) else {
        return (
            StatusCode::BAD_REQUEST,
            "role is camera, scanner, pad or gps",
        )
            .into_response();
    };
    let unpluggable = app
        .devices
        .panel()
        .iter()
        .any(|r| r.role == role.code() && r.can_unplug);
    if trouble == Trouble::Unplug && !unpluggable {
        return (
            StatusCode::BAD_REQUEST,
            "this device's model cannot be unplugged",
        )
            .into_response();
    }
    if app.devices.trouble(role, trouble) {
        Redirect::to("/devices").into_response()
    } else {
        (
            StatusCode::CONFLICT,
            "a capture has the devices out: try again when it ends",
        )
            .into_response()
    }
}

/// `GET /events`: `attempt` events (`{"visit", "step", "text"}`), `pen` events while a
/// signature is written (`{"visit", "step", "attempt", "x", "y", "down", "w", "h"}`: a sample in
/// the pad's units, `w`×`h` its extent) and `devices` events, until the station stops. Locked: 204, which tells the browser not to reconnect.
pub async fn events(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let rx = app.devices.subscribe();
    let closing = app.devices.closing();
    let lang = session.lang;
    let stream = futures_util::stream::unfold(
        (rx, closing, app),
        move |(mut rx, mut closing, app)| async move {
            loop {
                let got = tokio::select! {
                    got = rx.recv() => got,
                    _ = closing.wait_for(|c| *c) => return None,
                };
                let event = match got {
                    Ok(Event::Attempt { visit, step, event }) => {
                        #[derive(Serialize)]
                        struct A {
                            visit: String,
                            step: String,
                            text: String,
                            /// A finger attempt's image (kept in memory before it was scored).
                            image: Option<String>,
                        }
                        let image = event
                            .finger()
                            .map(|_| format!("/visit/{visit}/attempt/{step}/{}", event.attempt));
                        let data = serde_json::to_string(&A {
                            visit: visit.to_string(),
                            step,
                            text: attempt_text(&app.i18n, lang, &event),
                            image,
                        })
                        .unwrap_or_default();
                        SseEvent::default().event("attempt").data(data)
                    }
                    Ok(Event::Pen {
                        visit,
                        step,
                        sample,
                    }) => {
                        #[derive(Serialize)]
                        struct P {
                            visit: String,
                            step: String,
                            attempt: u32,
                            x: u32,
                            y: u32,
                            down: bool,
                            w: u32,
                            h: u32,
                        }
                        let data = serde_json::to_string(&P {
                            visit: visit.to_string(),
                            step,
                            attempt: sample.attempt,
                            x: sample.x,
                            y: sample.y,
                            down: sample.down,
                            w: sample.width,
                            h: sample.height,
                        })
                        .unwrap_or_default();
                        SseEvent::default().event("pen").data(data)
                    }
                    Ok(Event::Devices) => SseEvent::default().event("devices").data("{}"),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                };
                return Some((Ok::<_, Infallible>(event), (rx, closing, app)));
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

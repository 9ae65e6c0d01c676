//! The device panel (`GET /devices`) and the live events of the devices (`GET /events`,
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
use serde::Serialize;

use super::{Base, Ctx};
use crate::devices::{attempt_text, Event, RoleView};
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

/// `GET /events`: `attempt` events (`{"visit", "step", "text"}`) and `devices` events, until the
/// station stops. Locked: 204, which tells the browser not to reconnect.
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

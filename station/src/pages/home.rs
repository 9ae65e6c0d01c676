//! The home page ("Beranda"): today's worklist from the last sync, the visits in progress, the
//! queue and the link to the hub, and the offline limits with how close the kit is to each —
//! read through the kit's own APIs, as `jemput worklist`, `visit list` and `status` read them.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use jemput_kit::home::KitHome;
use jemput_kit::store::Store;
use jemput_kit::sync::client::load_state;
use jemput_kit::sync::status::{kit_status, probe_hub};
use serde::Serialize;

use super::view::{home_view, HomeView};
use super::{Base, Ctx};
use crate::security::Session;
use crate::App;

/// Reads what the page shows. Blocking (SQLite, files, decrypting drafts): run off the
/// request threads.
fn gather(
    root: &std::path::Path,
    identity: &age::x25519::Identity,
    refresh_after: u64,
) -> Result<HomeView, String> {
    let home = KitHome::open(root).map_err(|e| e.to_string())?;
    let store = Store::open(&home.root).map_err(|e| e.to_string())?;
    let status = kit_status(&home, &store).map_err(|e| e.to_string())?;
    let kit_id = home.config.kit_id.clone();
    let worklist: Vec<_> = load_state(&home)
        .map_err(|e| e.to_string())?
        .map(|(_, body)| body.worklist)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.is_for(&kit_id))
        .collect();
    let drafts = home.drafts().map_err(|e| e.to_string())?;
    // Only each draft's record is decrypted (not its capture files); one that cannot be read is
    // shown with its error rather than hiding the others.
    let visits: Vec<_> = drafts
        .list()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|id| {
            (
                id,
                drafts.load_record(id, identity).map_err(|e| e.to_string()),
            )
        })
        .collect();
    Ok(home_view(
        &kit_id,
        home.config.operator.clone(),
        &status,
        &worklist,
        &visits,
        refresh_after,
    ))
}

#[derive(Debug, Serialize)]
struct Failed {
    message: &'static str,
    detail: String,
}

/// `GET /home`; locked: to the unlock page.
pub async fn page(State(app): State<Arc<App>>, Extension(session): Extension<Session>) -> Response {
    let Some(identity) = app.lock.identity(Instant::now()) else {
        return Redirect::to("/unlock").into_response();
    };
    let root = app.home.clone();
    // Reload a little after the idle time: a kit that locked itself then shows the unlock page
    // instead of leaving residents' names on the screen.
    let refresh_after = app.lock.idle().as_secs() + 15;
    let gathered =
        tokio::task::spawn_blocking(move || gather(&root, &identity, refresh_after)).await;
    let base = Base::new(&app, &session, "/home");
    match gathered.map_err(|e| e.to_string()).and_then(|r| r) {
        Ok(mut view) => {
            for d in &mut view.drafts {
                d.next_text = match d.next_step.as_deref() {
                    Some("consent") => Some(app.i18n.text(session.lang, "resume-consent", None)),
                    s => s
                        .and_then(|s| s.parse::<jemput_kit::visit::Step>().ok())
                        .map(|s| super::review::step_text(&app.i18n, session.lang, s)),
                };
            }
            app.pages
                .page(StatusCode::OK, "home.html", &Ctx { base, page: view })
        }
        Err(detail) => app.pages.page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.html",
            &Ctx {
                base,
                page: Failed {
                    message: "home-failed",
                    detail,
                },
            },
        ),
    }
}

#[derive(Debug, Serialize)]
struct Link {
    /// `none` (no hub set), `up`, `down`.
    state: &'static str,
    url: Option<String>,
    why: Option<String>,
}

#[derive(Debug, Serialize)]
struct LinkCtx {
    lang: &'static str,
    link: Link,
}

/// `GET /home/link`: whether the hub answers now (loaded by the home page once it shows, as the
/// probe can take seconds).
pub async fn link(State(app): State<Arc<App>>, Extension(session): Extension<Session>) -> Response {
    let link = match KitHome::open(&app.home) {
        Err(e) => Link {
            state: "down",
            url: None,
            why: Some(e.to_string()),
        },
        Ok(home) => match home.config.hub_url.clone() {
            None => Link {
                state: "none",
                url: None,
                why: None,
            },
            Some(url) => match probe_hub(&url, home.config.hub_cert_sha256.as_deref()).await {
                Ok(()) => Link {
                    state: "up",
                    url: Some(url),
                    why: None,
                },
                Err(why) => Link {
                    state: "down",
                    url: Some(url),
                    why: Some(why),
                },
            },
        },
    };
    app.pages.page(
        StatusCode::OK,
        "link.html",
        &LinkCtx {
            lang: session.lang.code(),
            link,
        },
    )
}

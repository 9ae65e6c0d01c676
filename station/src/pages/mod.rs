//! The routes: `/` sends to the unlock page or home; `/unlock`, `/lock`, `/home` (and its link
//! fragment `/home/link`), `/lang`, and the embedded assets. Every route sits behind
//! [`crate::security::guard`].

pub mod capture;
mod capture_frame;
pub mod capture_view;
pub mod home;
pub mod live;
pub mod review;
pub mod slap_steps;
pub mod slap_view;
pub mod slaps;
pub mod unlock;
pub mod upload;
pub mod view;
pub mod visit;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::security::Session;
use crate::App;

/// Every route, behind the guard.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/unlock", get(unlock::page).post(unlock::submit))
        .route("/lock", post(unlock::lock))
        .route("/home", get(home::page))
        .route("/home/link", get(home::link))
        .route("/visit/new", get(visit::new_form).post(visit::new_submit))
        .route(
            "/visit/{id}/consent",
            get(visit::consent_form).post(visit::consent_submit),
        )
        .route("/visit/{id}", get(review::resume))
        .route("/visit/{id}/review", get(review::review))
        .route("/visit/{id}/file/{name}", get(review::file))
        .route("/visit/{id}/seal", post(review::seal))
        .route("/upload", get(upload::page).post(upload::submit))
        .route("/upload/status", get(upload::status))
        .route("/visit/{id}/step/{step}", get(capture::page))
        .route("/visit/{id}/step/{step}/capture", post(capture::capture))
        .route("/visit/{id}/step/{step}/redo", post(capture::capture))
        .route(
            "/visit/{id}/step/{step}/exception",
            post(capture::exception),
        )
        .route("/visit/{id}/step/{step}/withdraw", post(capture::withdraw))
        .route("/visit/{id}/slap/{slap}", get(slaps::page))
        .route("/visit/{id}/slap/{slap}/capture", post(slaps::capture))
        .route("/visit/{id}/image/{name}", get(capture::file))
        .route(
            "/visit/{id}/attempt/{step}/{n}",
            get(capture::attempt_image),
        )
        .route("/devices", get(live::panel))
        .route("/devices/trouble", post(live::trouble))
        .route("/events", get(live::events))
        .route("/lang", post(lang))
        .route("/assets/{name}", get(crate::assets::serve))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::security::guard,
        ))
        .with_state(app)
}

/// What every page's frame shows: the language, the CSRF token its forms carry, where the
/// language switch comes back to, whether the kit is unlocked, and the training banner.
#[derive(Debug, Serialize)]
pub struct Base {
    pub lang: &'static str,
    pub csrf: String,
    pub path: String,
    pub unlocked: bool,
    /// The training kit's passphrase, when the kit is one.
    pub training: Option<String>,
}

impl Base {
    pub fn new(app: &App, session: &Session, path: &str) -> Base {
        Base {
            lang: session.lang.code(),
            csrf: session.csrf.clone(),
            path: path.to_string(),
            unlocked: app.lock.locked(Instant::now()).is_none(),
            training: app.training.as_ref().map(|t| t.passphrase.clone()),
        }
    }
}

/// A page's context: the frame and the page's own fields side by side.
#[derive(Debug, Serialize)]
pub struct Ctx<T: Serialize> {
    #[serde(flatten)]
    pub base: Base,
    #[serde(flatten)]
    pub page: T,
}

async fn root(State(app): State<Arc<App>>) -> Redirect {
    if app.lock.locked(Instant::now()).is_some() {
        Redirect::to("/unlock")
    } else {
        Redirect::to("/home")
    }
}

#[derive(Debug, Deserialize)]
pub struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// `POST /lang`: the session's language, then back to the page it came from.
async fn lang(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Form(f): Form<LangForm>,
) -> Response {
    let Some(lang) = Lang::parse(&f.lang) else {
        return (StatusCode::BAD_REQUEST, "lang is `id` or `en`").into_response();
    };
    app.guard.set_lang(&session.id, lang);
    // Only a page of the station's own, never an address elsewhere.
    let back = match f.back.as_str() {
        p @ ("/home" | "/unlock") => p,
        p if capture::is_step_path(p) || slap_steps::is_slap_path(p) || visit::is_visit_path(p) => {
            p
        }
        _ => "/",
    };
    Redirect::to(back).into_response()
}

async fn not_found(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
) -> Response {
    #[derive(Serialize)]
    struct E {
        message: &'static str,
    }
    app.pages.page(
        StatusCode::NOT_FOUND,
        "error.html",
        &Ctx {
            base: Base::new(&app, &session, "/"),
            page: E {
                message: "error-not-found",
            },
        },
    )
}

//! The unlock page ("Buka kunci"): the kit passphrase unlocks the draft identity, which then
//! stays in memory until the operator locks the kit ("Kunci") or it sits idle too long.

use std::sync::Arc;
use std::time::Instant;

use age::secrecy::SecretString;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jemput_core::keys::KeyError;
use jemput_kit::home::{HomeError, KitHome};
use serde::{Deserialize, Serialize};

use super::{Base, Ctx};
use crate::lock::Locked;
use crate::security::Session;
use crate::App;

#[derive(Debug, Serialize)]
struct UnlockView {
    /// A message id: why the last try failed.
    error: Option<&'static str>,
    /// The technical detail of an unexpected failure (English, for a technician).
    detail: Option<String>,
    /// Set when the kit locked itself.
    auto_locked: bool,
    lock_minutes: u64,
}

fn render(app: &App, session: &Session, status: StatusCode, view: UnlockView) -> Response {
    app.pages.page(
        status,
        "unlock.html",
        &Ctx {
            base: Base::new(app, session, "/unlock"),
            page: view,
        },
    )
}

fn minutes(app: &App) -> u64 {
    app.lock.idle().as_secs().div_ceil(60)
}

/// `GET /unlock`.
pub async fn page(State(app): State<Arc<App>>, Extension(session): Extension<Session>) -> Response {
    let locked = app.lock.locked(Instant::now());
    if locked.is_none() {
        return Redirect::to("/home").into_response();
    }
    let view = UnlockView {
        error: None,
        detail: None,
        auto_locked: locked == Some(Locked::Idle),
        lock_minutes: minutes(&app),
    };
    render(&app, &session, StatusCode::OK, view)
}

#[derive(Debug, Deserialize)]
pub struct UnlockForm {
    #[serde(default)]
    passphrase: String,
}

/// `POST /unlock`: the passphrase against the kit's draft key (scrypt, about a second, off the
/// request threads).
pub async fn submit(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Form(f): Form<UnlockForm>,
) -> Response {
    let failed = |error: &'static str, detail: Option<String>| {
        let view = UnlockView {
            error: Some(error),
            detail,
            auto_locked: false,
            lock_minutes: minutes(&app),
        };
        render(&app, &session, StatusCode::UNPROCESSABLE_ENTITY, view)
    };
    if f.passphrase.is_empty() {
        return failed("unlock-empty", None);
    }
    let root = app.home.clone();
    let passphrase = SecretString::from(f.passphrase);
    let result = tokio::task::spawn_blocking(move || {
        KitHome::open(&root).and_then(|home| home.unlock_drafts(&passphrase))
    })
    .await;
    match result {
        Ok(Ok(identity)) => {
            app.lock.unlock(identity, Instant::now());
            tracing::info!("station unlocked");
            Redirect::to("/home").into_response()
        }
        Ok(Err(HomeError::Key(KeyError::WrongPassphrase))) => {
            tracing::info!("station: wrong passphrase");
            failed("unlock-wrong", None)
        }
        Ok(Err(e)) => failed("unlock-failed", Some(e.to_string())),
        Err(e) => failed("unlock-failed", Some(e.to_string())),
    }
}

/// `POST /lock`: drops the draft identity at once.
pub async fn lock(State(app): State<Arc<App>>) -> Redirect {
    app.lock.lock();
    tracing::info!("station locked by the operator");
    Redirect::to("/unlock")
}

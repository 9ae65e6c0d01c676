//! What every console page shares: the frame a signed-in page is drawn in, a message page,
//! redirects, times as the console shows them, and running database work off the async threads.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jemput_hub::office::{Role, Session};
use jemput_web::i18n::Lang;
use minijinja::{context, Value};

use crate::Console;

pub(crate) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(crate) fn lang_of(s: &Session) -> Lang {
    Lang::parse(&s.lang).unwrap_or_default()
}

/// What every signed-in page gets: language, CSRF token, who is signed in, which tab.
pub(crate) fn base(s: &Session, tab: &str) -> Value {
    context! {
        lang => lang_of(s).code(),
        csrf => s.csrf,
        user => s.account,
        admin => s.role == Role::Admin,
        tab => tab,
    }
}

/// A page with a message (an error or a refusal) in the session's language.
pub(crate) fn message(c: &Console, s: &Session, status: StatusCode, text: String) -> Response {
    c.pages.page(
        status,
        "message.html",
        &context! { ..base(s, ""), ..context! { text => text } },
    )
}

/// Runs `f` (database or file work) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("console work panicked")
}

pub(crate) fn time(t: jiff::Timestamp) -> String {
    format!("{t:.0}")
}

//! Who may talk to the station: the guard every request passes before a page sees it.
//!
//! - The `Host` header must be the address the station listens on (`127.0.0.1:PORT`): a page on
//!   another site whose name an attacker re-points at 127.0.0.1 (DNS rebinding) is refused.
//! - The printed URL carries a random token; opening it starts a browser session: an `HttpOnly`,
//!   `SameSite=Strict` cookie with a session id of its own, then a redirect to the URL without
//!   the token. Every other request without a valid session cookie gets 403.
//! - State changes are `POST` only, with the session's CSRF token (form field `csrf` or header
//!   `X-CSRF-Token`) and, when the browser sends one, an `Origin` equal to the station's.
//! - Every answer says `Cache-Control: no-store` (pages show residents and, later, captures), and
//!   carries a content security policy that allows nothing outside the station.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use jemput_web::http::random_token;
use jemput_web::http::{cookie_value, form_field, query_param, refuse, same};

use crate::i18n::Lang;
use crate::App;

/// The session cookie's name.
pub const COOKIE: &str = "jemput_station";
/// The query parameter of the printed URL.
pub const TOKEN_PARAM: &str = "token";
/// The form field and the header that carry the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Browser sessions kept at once; opening the URL again past this drops the oldest.
const MAX_SESSIONS: usize = 16;
/// Largest form body read (a passphrase, a few fields).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The content security policy of every answer: the station's own scripts, styles and images,
/// no frames, forms posting only to itself.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// One browser session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie's value.
    pub id: String,
    /// The token every POST of this session must carry.
    pub csrf: String,
    pub lang: Lang,
    created: u64,
}

/// The station's secrets and sessions.
#[derive(Debug)]
pub struct Guard {
    token: String,
    host: String,
    origin: String,
    sessions: Mutex<(u64, HashMap<String, Session>)>,
}

impl Guard {
    /// A guard for a station listening on `host` (`127.0.0.1:PORT`).
    pub fn new(host: String) -> Guard {
        Guard {
            token: random_token(),
            origin: format!("http://{host}"),
            host,
            sessions: Mutex::new((0, HashMap::new())),
        }
    }

    /// The URL to print and open: the station's address with the token.
    pub fn url(&self) -> String {
        format!("{}/?{TOKEN_PARAM}={}", self.origin, self.token)
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<String, Session>)> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_session(&self) -> Session {
        let mut s = self.sessions();
        s.0 += 1;
        let created = s.0;
        if s.1.len() >= MAX_SESSIONS {
            let oldest = s.1.values().min_by_key(|x| x.created).map(|x| x.id.clone());
            if let Some(oldest) = oldest {
                s.1.remove(&oldest);
            }
        }
        let session = Session {
            id: random_token(),
            csrf: random_token(),
            lang: Lang::default(),
            created,
        };
        s.1.insert(session.id.clone(), session.clone());
        session
    }

    fn session(&self, id: &str) -> Option<Session> {
        self.sessions().1.get(id).cloned()
    }

    /// Sets the language of session `id`.
    pub fn set_lang(&self, id: &str, lang: Lang) {
        if let Some(s) = self.sessions().1.get_mut(id) {
            s.lang = lang;
        }
    }
}

fn forbidden_no_session() -> Response {
    refuse(
        StatusCode::FORBIDDEN,
        "Ditolak: buka alamat lengkap (dengan token) yang dicetak oleh `jemput ui`.",
        "Forbidden: open the whole address (with its token) that `jemput ui` printed.",
    )
}

/// The middleware in front of every route.
pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut resp = check(&app, req, next).await;
    jemput_web::http::secure_headers(&mut resp, CSP);
    resp
}

async fn check(app: &App, req: Request, next: Next) -> Response {
    let guard = &app.guard;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if host != Some(guard.host.as_str()) {
        return refuse(
            StatusCode::FORBIDDEN,
            "Ditolak: alamat Host tidak dikenal; buka stasiun hanya lewat alamat yang dicetak oleh `jemput ui`.",
            "Forbidden: unknown Host; open the station only at the address `jemput ui` printed.",
        );
    }
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD && method != Method::POST {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "Metode tidak diizinkan.",
            "Method not allowed.",
        );
    }
    // The printed URL: its token starts a session.
    if let Some(token) = query_param(req.uri().query(), TOKEN_PARAM) {
        if method != Method::GET || req.uri().path() != "/" || !same(token, &guard.token) {
            return forbidden_no_session();
        }
        let session = guard.new_session();
        let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", session.id);
        let mut r = StatusCode::SEE_OTHER.into_response();
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/"));
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        return r;
    }
    let Some(session) = cookie_value(req.headers(), COOKIE).and_then(|id| guard.session(id)) else {
        return forbidden_no_session();
    };
    let req = if method == Method::POST {
        match check_post(guard, &session, req).await {
            Ok(req) => req,
            Err(r) => return r,
        }
    } else {
        req
    };
    app.lock.activity(std::time::Instant::now());
    let mut req = req;
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// A POST must come from the station's own page: its `Origin` (when sent) and the session's
/// CSRF token. Returns the request with its body put back.
async fn check_post(guard: &Guard, session: &Session, req: Request) -> Result<Request, Response> {
    let csrf_refused = || {
        refuse(
            StatusCode::FORBIDDEN,
            "Ditolak: permintaan ini tidak datang dari halaman stasiun (token CSRF atau Origin salah). Muat ulang halaman lalu coba lagi.",
            "Forbidden: this request did not come from the station's page (wrong CSRF token or Origin). Reload the page and try again.",
        )
    };
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        if origin.to_str().ok() != Some(guard.origin.as_str()) {
            return Err(csrf_refused());
        }
    }
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return match h.to_str() {
            Ok(v) if same(v, &session.csrf) => Ok(req),
            _ => Err(csrf_refused()),
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Isian terlalu besar.",
                "The form is too large.",
            )
        })?;
    match form_field(&bytes, CSRF_FIELD) {
        Some(v) if same(&v, &session.csrf) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(csrf_refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded() {
        let g = Guard::new("127.0.0.1:9".into());
        assert!(g.url().starts_with("http://127.0.0.1:9/?token="));
        let first = g.new_session();
        for _ in 0..MAX_SESSIONS {
            g.new_session();
        }
        assert!(g.session(&first.id).is_none(), "the oldest is dropped");
        assert_eq!(g.sessions().1.len(), MAX_SESSIONS);
    }
}

//! Who may use the console: the middleware every console request passes.
//!
//! - Signing in (`/console/login`) needs an account (`jemput hub users add`), within the rate
//!   limits of `jemput_hub::office`; its form carries a token that must equal a pre-session
//!   cookie (login CSRF).
//! - A session is a cookie `jemput_console`: `Secure`, `HttpOnly`, `SameSite=Strict`, `Path=/console`,
//!   its value random (the database keeps only its SHA-256). Without one a page redirects to the
//!   sign-in page and a `POST` is refused.
//! - Every `POST` carries the session's CSRF token (form field `csrf`; a file upload carries it as
//!   a part its handler checks, [`MULTIPART_PATHS`]) and, when the browser sends `Origin`, an
//!   origin on the hub's own `Host`.
//! - A viewer's `POST` is refused here, whatever route it names, except signing out and the
//!   language ([`VIEWER_POSTS`]): no handler can forget the check.
//! - Every answer is `no-store` with a content security policy that allows only the console's
//!   own stylesheet and inline `data:` images (the QR code).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jemput_hub::office::Role;
use jemput_web::http::{cookie_value, form_field, read_form, refuse, same, secure_headers};

use crate::Console;

/// The session cookie.
pub const COOKIE: &str = "jemput_console";
/// The pre-session cookie the sign-in form's token must equal.
pub const LOGIN_COOKIE: &str = "jemput_console_login";
/// The form field of the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The `POST`s a viewer may make.
pub const VIEWER_POSTS: &[&str] = &["/console/logout", "/console/lang"];
/// The `POST`s that take `multipart/form-data`; their handlers check the CSRF part.
pub const MULTIPART_PATHS: &[&str] = &["/console/worklist"];
/// Largest form read here (the settings' TOML is the biggest).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The content security policy of every console answer.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A cookie as the console sets it.
pub fn cookie(name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; Secure; HttpOnly; SameSite=Strict{age}"
    ))
    .expect("cookie values are hex")
}

pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The middleware in front of every console route.
pub async fn guard(State(c): State<Arc<Console>>, req: Request, next: Next) -> Response {
    let mut resp = check(&c, req, next).await;
    secure_headers(&mut resp, CSP);
    resp
}

pub fn csrf_refused() -> Response {
    refuse(
        StatusCode::FORBIDDEN,
        "Ditolak: permintaan ini tidak datang dari halaman konsol (token CSRF atau Origin salah). Muat ulang halaman lalu coba lagi.",
        "Forbidden: this request did not come from the console's page (wrong CSRF token or Origin). Reload the page and try again.",
    )
}

/// A viewer's attempt to change something.
pub fn viewer_refused() -> Response {
    refuse(
        StatusCode::FORBIDDEN,
        "Ditolak: akun pemantau (viewer) tidak dapat mengubah apa pun; minta admin kantor.",
        "Forbidden: a viewer account cannot change anything; ask an office admin.",
    )
}

fn origin_ok(req: &Request) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, h)| h);
    matches!((origin_host, host), (Some(o), Some(h)) if o == h)
}

async fn check(c: &Console, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/console/assets/") {
        return next.run(req).await;
    }
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD && method != Method::POST {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "Metode tidak diizinkan.",
            "Method not allowed.",
        );
    }
    if method == Method::POST && !origin_ok(&req) {
        return csrf_refused();
    }
    if path == "/console/login" {
        if method != Method::POST {
            return next.run(req).await;
        }
        let expected = cookie_value(req.headers(), LOGIN_COOKIE).map(str::to_string);
        return match read_form(req, MAX_FORM_BYTES).await {
            Ok((req, fields)) => match (expected, form_field(&fields, CSRF_FIELD)) {
                (Some(e), Some(v)) if same(&e, &v) => next.run(req).await,
                _ => csrf_refused(),
            },
            Err(r) => r,
        };
    }
    let found = match cookie_value(req.headers(), COOKIE) {
        Some(id) => {
            let (office, id) = (c.office.clone(), id.to_string());
            crate::pages::frame::blocking(move || office.session(&id, now())).await
        }
        None => Ok(None),
    };
    let session = match found {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("console session lookup: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    let Some(session) = session else {
        if method == Method::POST {
            return refuse(
                StatusCode::FORBIDDEN,
                "Ditolak: masuk dulu ke konsol.",
                "Forbidden: sign in to the console first.",
            );
        }
        let mut r = StatusCode::SEE_OTHER.into_response();
        r.headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/console/login"));
        return r;
    };
    let mut req = req;
    if method == Method::POST {
        if session.role != Role::Admin && !VIEWER_POSTS.contains(&path.as_str()) {
            return viewer_refused();
        }
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if multipart {
            // Its handler reads the parts and checks the `csrf` one before anything else.
            if !MULTIPART_PATHS.contains(&path.as_str()) {
                return csrf_refused();
            }
        } else {
            match read_form(req, MAX_FORM_BYTES).await {
                Ok((r, fields)) => match form_field(&fields, CSRF_FIELD) {
                    Some(v) if same(&v, &session.csrf) => req = r,
                    _ => return csrf_refused(),
                },
                Err(r) => return r,
            }
        }
    }
    req.extensions_mut().insert(session);
    next.run(req).await
}

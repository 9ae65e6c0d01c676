//! Files a front end embeds and serves as they are (CSS, scripts).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded asset: (name, content type, bytes).
pub type Asset = (&'static str, &'static str, &'static [u8]);

/// The answer for asset `name` of `assets`: its bytes with its content type, or 404.
pub fn serve(assets: &[Asset], name: &str) -> Response {
    match assets.iter().find(|a| a.0 == name) {
        Some(&(_, content_type, bytes)) => {
            let mut r = bytes.into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            r
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

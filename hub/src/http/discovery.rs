//! `OPTIONS` (tus discovery: version, extensions, checksums, sizes) and `GET /v1/info`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use jemput_core::wire::tus::{CHECKSUM_ALGORITHMS, TUS_EXTENSIONS, TUS_VERSION};

use super::headers::{JEMPUT_MAX_CHUNK, TUS_VERSION_H};
use super::state::AppState;

pub(crate) async fn discovery(State(st): State<Arc<AppState>>) -> Response {
    let max = st.hub.config().max_size.to_string();
    (
        StatusCode::NO_CONTENT,
        [
            (TUS_VERSION_H.clone(), TUS_VERSION.to_string()),
            (
                HeaderName::from_static("tus-extension"),
                TUS_EXTENSIONS.to_string(),
            ),
            (
                HeaderName::from_static("tus-checksum-algorithm"),
                CHECKSUM_ALGORITHMS.to_string(),
            ),
            (HeaderName::from_static("tus-max-size"), max),
            (
                JEMPUT_MAX_CHUNK.clone(),
                st.hub.config().max_chunk.to_string(),
            ),
        ],
    )
        .into_response()
}

pub(crate) async fn info(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(st.hub.info()).into_response()
}

//! `GET /v1/sync`: the requesting kit's signed sync document (`docs/hub-protocol.md` §8).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};

use super::auth::authenticate;
use super::error::ApiError;
use super::state::{blocking, AppState};

/// `GET /v1/sync`: the requesting kit's sync document.
pub(crate) async fn get_sync(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let kit = authenticate(&st, &method, &uri, &headers).await?;
    let doc = blocking(&st.hub, move |hub| hub.sync_document(&kit.kit_id)).await?;
    Ok(axum::Json(doc).into_response())
}

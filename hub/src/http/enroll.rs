//! `POST /v1/enroll`: a kit's key registered in exchange for a one-time token (the tokens and the
//! answer are [`crate::enroll`]'s). No `Jemput-Auth`: the token is the credential.

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jemput_core::wire::enroll::{EnrollRequest, ENROLL_PATH};

use super::body::too_slow;
use crate::enroll::{answer, refuse, MAX_BODY};
use crate::Hub;

/// The enrollment route, merged into the hub's router.
pub(crate) fn routes(hub: Arc<Hub>) -> Router {
    Router::new()
        .route(ENROLL_PATH, post(enroll))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(hub)
}

async fn enroll(
    State(hub): State<Arc<Hub>>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            // A body cut for its pace (`body.rs`) is a request that did not arrive in time: 408,
            // and the connection is closed (RFC 9110 §15.5.9).
            if let Some(why) = too_slow(&rejection) {
                return (
                    StatusCode::REQUEST_TIMEOUT,
                    [
                        ("content-type", "text/plain; charset=utf-8"),
                        ("connection", "close"),
                    ],
                    format!("the enrollment request did not arrive in time: {why}\n"),
                )
                    .into_response();
            }
            return refuse(rejection.status(), rejection.body_text()).into_response();
        }
    };
    let req: EnrollRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("not an enrollment request: {e}"),
            )
            .into_response()
        }
    };
    let answer = tokio::task::spawn_blocking(move || answer(&hub, &req))
        .await
        .unwrap_or_else(|_| Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "hub error")));
    match answer {
        Ok(r) => Json(r).into_response(),
        Err(r) => r.into_response(),
    }
}

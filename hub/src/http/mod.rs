//! The HTTP side of the hub: tus 1.0.0 (core, creation, termination, checksum, expiration) with
//! request authentication, the packet header at creation, and receipts at completion
//! (`docs/hub-protocol.md`), the sync document and enrollment.
//!
//! Every answer that is not a success is a status code with a one-line reason as `text/plain`
//! ([`error`]). Every request body is paced ([`body`]): a body that stalls or trickles is cut.
//! Checks run in a fixed order so that nothing about an upload is revealed before the
//! request is authenticated: `Tus-Resumable` (412, [`headers`]), `Jemput-Auth` (401, [`auth`]),
//! then the request itself: creation ([`create`]), `HEAD`/`DELETE` and receipts ([`upload`]),
//! `PATCH` ([`patch`]), verification and the receipt at completion ([`complete`]), and the sync
//! document ([`sync`]); enrollment ([`enroll`]) needs a token instead. This file is the router.

mod auth;
mod body;
pub(crate) mod complete;
mod create;
mod discovery;
mod enroll;
mod error;
mod headers;
mod patch;
mod state;
mod sync;
mod upload;

use std::sync::Arc;

use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, options};
use axum::Router;
use jemput_core::wire::tus::{INFO_PATH, RECEIPTS_PATH, TUS_VERSION, UPLOADS_PATH};

use crate::Hub;
use headers::TUS_RESUMABLE;
use state::AppState;

/// The routes under `/v1/`; also starts the task that expires idle uploads until `stop`.
pub(crate) fn router(hub: Arc<Hub>, stop: tokio::sync::watch::Receiver<bool>) -> Router {
    let state = Arc::new(AppState::new(hub));
    tokio::spawn(upload::expire_idle(state.clone(), stop));
    let uploads = Router::new()
        .route(
            UPLOADS_PATH,
            options(discovery::discovery).post(create::create),
        )
        .route(
            &format!("{UPLOADS_PATH}/{{id}}"),
            options(discovery::discovery)
                .head(upload::head)
                .patch(patch::patch)
                .delete(upload::terminate),
        )
        .layer(axum::middleware::map_response(
            |mut r: Response| async move {
                r.headers_mut()
                    .insert(TUS_RESUMABLE.clone(), HeaderValue::from_static(TUS_VERSION));
                r
            },
        ));
    let enroll = enroll::routes(state.hub.clone());
    let pace = body::Pace::of(state.hub.config());
    Router::new()
        .route(INFO_PATH, get(discovery::info))
        .route(
            &format!("{RECEIPTS_PATH}/{{packet_id}}"),
            get(upload::receipt),
        )
        .route(jemput_core::wire::sync::SYNC_PATH, get(sync::get_sync))
        .merge(uploads)
        .with_state(state)
        .merge(enroll)
        // Outermost: every body, whichever route reads it, keeps the hub's pace.
        .layer(axum::middleware::map_request(
            move |req: axum::extract::Request| body::pace_request(pace, req),
        ))
}

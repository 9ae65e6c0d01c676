//! A refusal: a status code, a one-line reason as `text/plain`, and any extra headers.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A refusal: status, one-line reason, extra headers.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn with(mut self, name: &HeaderName, value: impl ToString) -> ApiError {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            self.headers.push((name.clone(), v));
        }
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("hub error: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("hub error: {e}; try again later"),
        )
    }

    pub(crate) fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "no such upload")
    }
}

/// Seconds a kit is asked to wait while the object store is unavailable.
const OBJECT_STORE_RETRY_AFTER: u64 = 10;

/// Seconds a kit is asked to wait while the hub's database cannot be reached.
const DATABASE_RETRY_AFTER: u64 = 5;

impl From<crate::HubError> for ApiError {
    fn from(e: crate::HubError) -> ApiError {
        match e {
            // The kit waits and asks again (`Retry-After`); the upload keeps every byte.
            e @ crate::HubError::ObjectStoreUnavailable { .. } => {
                tracing::warn!("{e}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("object store unavailable: the hub cannot store the packet now; the upload keeps its bytes, ask again later ({e})"),
                )
                .with(&header::RETRY_AFTER, OBJECT_STORE_RETRY_AFTER)
            }
            // The same while the database is away (the scale-out backend's PostgreSQL
            // restarting): nothing was changed by this request.
            e if e.is_database_unavailable() => {
                tracing::warn!("{e}");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{e}; the hub keeps every byte it has, ask again later"),
                )
                .with(&header::RETRY_AFTER, DATABASE_RETRY_AFTER)
            }
            e => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.message;
        body.push('\n');
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            body,
        )
            .into_response();
        for (k, v) in self.headers {
            r.headers_mut().insert(k, v);
        }
        r
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

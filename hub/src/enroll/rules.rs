//! The rules of enrollment that do not depend on where tokens and kits are kept: why a request
//! is refused ([`Refusal`]), and the checks of a token and of a kit already registered, which
//! both backends (`enroll` on SQLite, `pg::registry` on PostgreSQL) apply to their rows.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use crate::{parse_ts, HubError};
use jemput_core::wire::enroll::{EnrollRequest, EnrollToken};

/// Why an enrollment was refused: an HTTP status and a one-line reason for the kit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status code.
    pub status: StatusCode,
    /// The reason, one line.
    pub message: String,
}

pub(crate) fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

impl From<HubError> for Refusal {
    fn from(e: HubError) -> Refusal {
        tracing::error!("enrollment failed: {e}");
        let status = if e.is_database_unavailable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        refuse(status, format!("hub error: {e}; try again later"))
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Refusal {
        HubError::from(e).into()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            [("content-type", "text/plain; charset=utf-8")],
            format!("{}\n", self.message),
        )
            .into_response()
    }
}

/// The refusal of a token this hub never issued (or whose secret is wrong: the same answer).
pub(crate) fn unknown_token() -> Refusal {
    refuse(
        StatusCode::UNAUTHORIZED,
        "unknown enrollment token: this hub never issued it (check it was copied whole, and that this is the hub that issued it)",
    )
}

/// The checks of a token row against a request, whichever database holds it.
pub(crate) fn check_token(
    req: &EnrollRequest,
    hub_cert_sha256: &str,
    now: Timestamp,
    secret_hash: &str,
    expires: &str,
    used_at: Option<String>,
    used_by: Option<String>,
) -> Result<(), Refusal> {
    if !same(secret_hash, &EnrollToken::secret_hash(&req.token_secret)) {
        return Err(unknown_token());
    }
    if let Some(at) = used_at {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "enrollment token {} was already used (by kit {} at {at}); a token enrolls one kit once: ask the office for a new one",
                req.token_id,
                used_by.as_deref().unwrap_or("?")
            ),
        ));
    }
    let expires = parse_ts("token expiry", expires.to_string())?;
    if now >= expires {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "enrollment token {} expired at {expires:.0}; ask the office for a new one",
                req.token_id
            ),
        ));
    }
    if !req.cert_sha256.eq_ignore_ascii_case(hub_cert_sha256) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "the token pins hub certificate {} but this hub's is {hub_cert_sha256}: the token was made for another hub or before the certificate changed",
                req.cert_sha256
            ),
        ));
    }
    Ok(())
}

/// Whether the kit must be registered now, given its row if it has one (key, revoked at).
pub(crate) fn check_existing(
    req: &EnrollRequest,
    existing: Option<(String, Option<String>)>,
) -> Result<bool, Refusal> {
    match existing {
        Some((_, Some(revoked))) => Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "kit {} was revoked at {revoked}; a revoked kit is never enrolled again: set up a new kit home (`jemput init`) and enroll that",
                req.kit_id
            ),
        )),
        Some((key, None)) if key != req.kit_key.to_string() => Err(refuse(
            StatusCode::CONFLICT,
            format!(
                "kit id {} is registered under another key; revoke it at the office first, or enroll a new kit home",
                req.kit_id
            ),
        )),
        // The same kit and key again (it lost the first answer): register nothing new.
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

/// Compares two hex digests without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

//! `Jemput-Auth`: every request but discovery and enrollment is signed with a registered kit's
//! key over its method, path, tus headers, time and a nonce (`docs/hub-protocol.md` §1). A request
//! that fails is a `401` saying why — except that an unknown kit, a revoked kit and a bad
//! signature get one and the same answer (which of them it was goes to the log only), so that
//! nobody without a kit key learns which kit ids exist. Each nonce is accepted once, also across
//! restarts (`crate::nonces` keeps them in hub.sqlite).

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use jemput_core::wire::auth::{self, AuthError, AuthHeader, Covered, Request};

use super::error::ApiError;
use super::headers::header_str;
use super::state::{blocking, AppState};
use crate::nonces::{Durability, NonceRefusal};
use crate::registry::KitEntry;

/// The one answer to an unknown kit, a revoked kit and a bad signature.
pub(crate) fn not_accepted(kit_id: &str) -> String {
    format!(
        "not accepted: kit {kit_id} is unknown or revoked at this hub, or the request is not signed with its registered key; enroll the kit (`jemput enroll`) or ask the office"
    )
}

/// The tus headers a request signature covers, as this request carries them.
fn covered(headers: &HeaderMap) -> Result<Covered<'_>, ApiError> {
    Ok(Covered {
        offset: header_str(headers, "upload-offset")?,
        length: header_str(headers, "upload-length")?,
        metadata: header_str(headers, "upload-metadata")?,
        checksum: header_str(headers, "upload-checksum")?,
    })
}

/// Checks `Jemput-Auth` against the registry and the nonces seen; the kit on success.
pub(crate) async fn authenticate(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<KitEntry, ApiError> {
    let unauthorized = |m: String| ApiError::new(StatusCode::UNAUTHORIZED, m);
    let value = header_str(headers, auth::HEADER)
        .map_err(|_| unauthorized("missing or malformed Jemput-Auth: not ASCII".into()))?
        .ok_or_else(|| unauthorized("missing or malformed Jemput-Auth: no header".into()))?;
    let parsed = AuthHeader::parse(value)
        .map_err(|e| unauthorized(format!("missing or malformed Jemput-Auth: {e}")))?;
    // The time first: its answer is the same whatever the kit id, so it reveals nothing.
    let now = jiff::Timestamp::now().as_second();
    if parsed.t.abs_diff(now) > auth::REPLAY_WINDOW_SECS.unsigned_abs() {
        return Err(unauthorized(format!(
            "stale request time: t={} is more than {} s from the hub's time {now}; check the kit's clock",
            parsed.t,
            auth::REPLAY_WINDOW_SECS
        )));
    }
    let request = Request {
        method: method.as_str(),
        path: uri.path(),
        headers: covered(headers)?,
    };
    let kit_id = parsed.kit_id.clone();
    let kit = blocking(&st.hub, move |hub| hub.registry().get(&kit_id)).await?;
    let refuse = |why: &str| {
        tracing::warn!(kit = %parsed.kit_id, path = %uri.path(), "request not accepted: {why}");
        unauthorized(not_accepted(&parsed.kit_id))
    };
    let kit = match kit {
        None => return Err(refuse("unknown kit")),
        Some(k) if k.revoked => return Err(refuse("revoked kit")),
        Some(k) => k,
    };
    match parsed.verify(&kit.kit_key, &request, now) {
        Ok(()) => {}
        Err(AuthError::BadSignature(_)) => {
            return Err(refuse(
                "bad signature (the request does not verify with the registered key)",
            ))
        }
        Err(e) => {
            return Err(unauthorized(format!(
                "missing or malformed Jemput-Auth: {e}"
            )))
        }
    }
    // Kept in hub.sqlite before the request is served, so a restart does not forget it; a
    // `PATCH`'s and a creation's without an fsync (`crate::nonces::Durability`).
    let (kit_id, nonce, t) = (kit.kit_id.clone(), parsed.nonce.clone(), parsed.t);
    let durability = if method == Method::PATCH || method == Method::POST {
        Durability::WithItsEffect
    } else {
        Durability::Synced
    };
    let taken = blocking(&st.hub, move |hub| {
        hub.nonces().take(&kit_id, &nonce, t, now, durability)
    })
    .await?;
    match taken {
        Ok(()) => {}
        Err(NonceRefusal::Replayed) => {
            tracing::warn!(kit = %kit.kit_id, path = %uri.path(), "replayed request refused");
            return Err(unauthorized(format!(
                "replayed request: nonce {} of kit {} was already used; every request needs a fresh nonce",
                parsed.nonce, kit.kit_id
            )));
        }
        Err(NonceRefusal::Full) => {
            tracing::warn!("too many requests within the replay window; refusing new ones");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many requests within the replay window; try again later",
            )
            .with(&axum::http::header::RETRY_AFTER, auth::REPLAY_WINDOW_SECS));
        }
    }
    // "Last seen" for `jemput hub kits` (to the minute); never holds up the request.
    if kit.seen_lately(jiff::Timestamp::now()) {
        return Ok(kit);
    }
    let (hub, kit_id) = (st.hub.clone(), kit.kit_id.clone());
    tokio::task::spawn_blocking(move || {
        if let Err(e) = hub.registry().touch(&kit_id) {
            tracing::warn!(kit = %kit_id, "cannot record when the kit was last seen: {e}");
        }
    });
    Ok(kit)
}

//! `Jemput-Auth`: every request but discovery and enrollment is signed with a registered kit's
//! key (`docs/hub-protocol.md` §1). A request that fails is a `401` saying why.

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use jemput_core::wire::auth::{self, AuthError, AuthHeader};

use super::error::ApiError;
use super::headers::header_str;
use super::state::{blocking, AppState};
use crate::registry::KitEntry;

/// Checks `Jemput-Auth` against the registry; the kit on success.
pub(crate) async fn authenticate(
    st: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    offset: Option<u64>,
) -> Result<KitEntry, ApiError> {
    let unauthorized = |m: String| ApiError::new(StatusCode::UNAUTHORIZED, m);
    let value = header_str(headers, auth::HEADER)
        .map_err(|_| unauthorized("missing or malformed Jemput-Auth: not ASCII".into()))?
        .ok_or_else(|| unauthorized("missing or malformed Jemput-Auth: no header".into()))?;
    let parsed = AuthHeader::parse(value)
        .map_err(|e| unauthorized(format!("missing or malformed Jemput-Auth: {e}")))?;
    let kit_id = parsed.kit_id.clone();
    let kit = blocking(&st.hub, move |hub| hub.registry().get(&kit_id)).await?;
    let Some(kit) = kit else {
        return Err(unauthorized(format!(
            "unknown kit: {} is not registered at this hub; enroll it (`jemput enroll` with a token from `jemput hub enroll-token`)",
            parsed.kit_id
        )));
    };
    if kit.revoked {
        return Err(unauthorized(format!(
            "revoked kit: {} was revoked at this hub; ask the office",
            kit.kit_id
        )));
    }
    let now = jiff::Timestamp::now().as_second();
    match parsed.verify(&kit.kit_key, method.as_str(), uri.path(), offset, now) {
        Ok(()) => {
            // "Last seen" for `jemput hub kits`; never holds up the request.
            let (hub, kit_id) = (st.hub.clone(), kit.kit_id.clone());
            tokio::task::spawn_blocking(move || {
                if let Err(e) = hub.registry().touch(&kit_id) {
                    tracing::warn!(kit = %kit_id, "cannot record when the kit was last seen: {e}");
                }
            });
            Ok(kit)
        }
        Err(AuthError::Stale { t, now }) => Err(unauthorized(format!(
            "stale request time: t={t} is more than {} s from the hub's time {now}; check the kit's clock",
            auth::REPLAY_WINDOW_SECS
        ))),
        Err(AuthError::BadSignature(k)) => Err(unauthorized(format!(
            "bad signature: the request does not verify with the registered key of kit {k}"
        ))),
        Err(e) => Err(unauthorized(format!("missing or malformed Jemput-Auth: {e}"))),
    }
}

//! An upload in progress: finding it for its kit and locking it, `HEAD` (the offset), `DELETE`
//! (termination), expiry (also of uploads nobody asks about), and `GET /v1/receipts/<packet id>`.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use jemput_core::wire::receipt::Receipt;

use super::auth::authenticate;
use super::error::{ApiError, ApiResult};
use super::headers::{
    check_tus_resumable, JEMPUT_RECEIPT, UPLOAD_EXPIRES, UPLOAD_LENGTH, UPLOAD_METADATA,
    UPLOAD_OFFSET,
};
use super::state::{blocking, AppState};
use crate::registry::KitEntry;
use crate::storage::valid_packet_id;
use crate::uploads::{valid_upload_id, Upload, UploadState};

/// Finds the authenticated kit's upload and takes its lock. Unknown ids, ids of another kit's
/// uploads and ids that cannot be upload ids are all `404`; ended uploads `410`.
pub(crate) async fn locked_upload(
    st: &AppState,
    kit: &KitEntry,
    id: &str,
) -> Result<(Upload, tokio::sync::OwnedMutexGuard<()>), ApiError> {
    if !valid_upload_id(id) {
        return Err(ApiError::not_found());
    }
    let guard = st.upload_lock(id).lock_owned().await;
    let id2 = id.to_string();
    let kit_id = kit.kit_id.clone();
    // The offset reported and resumed from is never past the bytes the `.part` file holds (a
    // power cut may have taken chunks whose offsets were committed: `uploads`' durability rules).
    let up = blocking(&st.hub, move |hub| {
        hub.uploads()
            .get(&id2)?
            .filter(|u| u.kit_id == kit_id)
            .map(|u| hub.uploads().reconcile(u))
            .transpose()
    })
    .await?
    .ok_or_else(ApiError::not_found)?;
    match up.state {
        UploadState::Terminated | UploadState::Failed => Err(ApiError::new(
            StatusCode::GONE,
            format!(
                "upload {} was {}{}",
                up.upload_id,
                if up.state == UploadState::Failed {
                    "refused"
                } else {
                    "terminated"
                },
                up.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ),
        )),
        UploadState::Open if is_expired(&up, st.hub.config().upload_expiry_secs) => {
            let id2 = up.upload_id.clone();
            blocking(&st.hub, move |hub| {
                hub.uploads()
                    .finish(&id2, UploadState::Terminated, Some("expired"))
            })
            .await?;
            Err(ApiError::new(
                StatusCode::GONE,
                format!("upload {} expired; create a new one", up.upload_id),
            ))
        }
        _ => Ok((up, guard)),
    }
}

pub(crate) async fn receipt_of(
    st: &AppState,
    packet_id: &str,
) -> Result<Option<Receipt>, ApiError> {
    let id = packet_id.to_string();
    Ok(blocking(&st.hub, move |hub| hub.storage().held(&id))
        .await?
        .map(|h| h.receipt))
}

pub(crate) async fn head(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    check_tus_resumable(&headers)?;
    let kit = authenticate(&st, &method, &uri, &headers).await?;
    let (up, _guard) = locked_upload(&st, &kit, &id).await?;
    let mut r = StatusCode::OK.into_response();
    let h = r.headers_mut();
    let put = |h: &mut HeaderMap, name: &HeaderName, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(name.clone(), v);
        }
    };
    put(h, &UPLOAD_OFFSET, up.offset.to_string());
    put(h, &UPLOAD_LENGTH, up.length.to_string());
    put(h, &UPLOAD_METADATA, up.metadata.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if up.state == UploadState::Open {
        if let Some(e) = expires(&up, st.hub.config().upload_expiry_secs) {
            put(h, &UPLOAD_EXPIRES, e);
        }
    } else if let Some(receipt) = receipt_of(&st, &up.packet_id).await? {
        put(h, &JEMPUT_RECEIPT, receipt.to_header_value());
    }
    Ok(r)
}

pub(crate) async fn terminate(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    check_tus_resumable(&headers)?;
    let kit = authenticate(&st, &method, &uri, &headers).await?;
    let (up, _guard) = locked_upload(&st, &kit, &id).await?;
    if up.state == UploadState::Open {
        blocking(&st.hub, move |hub| {
            hub.uploads().finish(
                &up.upload_id,
                UploadState::Terminated,
                Some("terminated by the kit"),
            )
        })
        .await?;
    }
    // A finished upload's packet and receipt stay: termination does not withdraw a receipt.
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// RFC 9110 date of when an open upload expires.
pub(crate) fn expires(up: &Upload, expiry_secs: u64) -> Option<String> {
    let at = up
        .updated_at
        .checked_add(jiff::SignedDuration::from_secs(
            expiry_secs.min(i64::MAX as u64 / 2) as i64,
        ))
        .ok()?;
    Some(at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

/// Expires idle uploads while the hub serves: every quarter of `upload_expiry_secs` (at least
/// every second, at most every ten minutes) each open upload idle for longer is terminated and its
/// `.part` file removed, under the upload's lock; one that a request holds is left for the next
/// round. Runs until `stop` turns true.
pub(crate) async fn expire_idle(st: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let expiry = st.hub.config().upload_expiry_secs;
    let every = std::time::Duration::from_secs((expiry / 4).clamp(1, 600));
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let found = blocking(&st.hub, move |hub| {
            hub.uploads().expired(jiff::Timestamp::now(), expiry)
        })
        .await;
        let ids = match found {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!("cannot look for expired uploads: {e}");
                continue;
            }
        };
        for id in ids {
            let Ok(guard) = st.upload_lock(&id).try_lock_owned() else {
                continue;
            };
            let done = blocking(&st.hub, move |hub| -> Result<bool, crate::HubError> {
                let _guard = guard;
                match hub.uploads().get(&id)? {
                    Some(up) if up.state == UploadState::Open && is_expired(&up, expiry) => {
                        hub.uploads()
                            .finish(&id, UploadState::Terminated, Some("expired"))?;
                        tracing::info!(upload = %id, kit = %up.kit_id, "an idle upload expired");
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            })
            .await;
            if let Err(e) = done {
                tracing::warn!("cannot expire an upload: {e}");
            }
        }
    }
}

pub(crate) fn is_expired(up: &Upload, expiry_secs: u64) -> bool {
    let idle = jiff::Timestamp::now().duration_since(up.updated_at);
    idle.as_secs() > expiry_secs.min(i64::MAX as u64) as i64
}

pub(crate) async fn receipt(
    State(st): State<Arc<AppState>>,
    UrlPath(packet_id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    let kit = authenticate(&st, &method, &uri, &headers).await?;
    let none = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "this hub holds no verified packet {packet_id:?} of kit {}",
                kit.kit_id
            ),
        )
    };
    if !valid_packet_id(&packet_id) {
        return Err(none());
    }
    let id = packet_id.clone();
    let held = blocking(&st.hub, move |hub| hub.storage().held(&id)).await?;
    match held {
        Some(h) if h.kit_id == kit.kit_id => Ok(axum::Json(h.receipt).into_response()),
        Some(_) => Err(none()),
        None => match store_complete_upload(&st, &kit, &packet_id).await? {
            Some(receipt) => Ok(axum::Json(receipt).into_response()),
            None => Err(none()),
        },
    }
}

/// Stores the kit's upload of `packet_id` if it holds every byte but its packet is not stored (the
/// storage failed at completion, e.g. the object store did not answer): the kit asks for the
/// receipt after `HEAD` showed the whole length, and gets it once the packet is stored.
async fn store_complete_upload(
    st: &AppState,
    kit: &KitEntry,
    packet_id: &str,
) -> Result<Option<Receipt>, ApiError> {
    let (k, p) = (kit.kit_id.clone(), packet_id.to_string());
    let open = blocking(&st.hub, move |hub| hub.uploads().find_open(&k, &p)).await?;
    let Some(up) = open.filter(|u| u.offset == u.length) else {
        return Ok(None);
    };
    let (up, _guard) = locked_upload(st, kit, &up.upload_id).await?;
    if up.state != UploadState::Open || up.offset != up.length {
        // Completed meanwhile by its own PATCH.
        return receipt_of(st, packet_id).await;
    }
    let receipt = blocking(&st.hub, move |hub| {
        let r = super::complete::complete(hub, &up);
        hub.wake_workers();
        r
    })
    .await?;
    Ok(Some(receipt))
}

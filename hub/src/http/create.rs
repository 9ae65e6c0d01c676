//! Creation (`POST /v1/uploads`): the kit's signed packet prelude in `Upload-Metadata` is checked
//! before any byte is accepted; a packet the hub already holds gets its receipt at once.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use jemput_core::keys::sign::OUTER_DOMAIN;
use jemput_core::packet::parse_prelude;
use jemput_core::wire::receipt::Receipt;
use jemput_core::wire::tus::{parse_metadata, MAX_METADATA_LEN, UPLOADS_PATH};

use super::auth::authenticate;
use super::error::{ApiError, ApiResult};
use super::headers::{
    check_tus_resumable, header_str, parse_decimal, JEMPUT_MAX_CHUNK, JEMPUT_RECEIPT,
    UPLOAD_EXPIRES,
};
use super::state::{blocking, AppState};
use super::upload::{expires, is_expired};
use crate::storage::valid_packet_id;
use crate::uploads::{NewUpload, Upload, UploadState};

pub(crate) async fn create(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    check_tus_resumable(&headers)?;
    let kit = authenticate(&st, &method, &uri, &headers).await?;
    let config = st.hub.config();

    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::bad_request(
            "Upload-Defer-Length is not supported: send Upload-Length, the size of the packet file",
        ));
    }
    let length = header_str(&headers, "upload-length")?
        .ok_or_else(|| ApiError::bad_request("missing Upload-Length (the packet file size)"))?;
    let length = parse_decimal("Upload-Length", length)?;
    if length > config.max_size {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the packet is {length} bytes, over this hub's Tus-Max-Size of {} bytes",
                config.max_size
            ),
        ));
    }

    let metadata = header_str(&headers, "upload-metadata")?.ok_or_else(|| {
        ApiError::bad_request(
            "missing Upload-Metadata: it must carry `packet <base64 of the packet prelude>`",
        )
    })?;
    if metadata.len() > MAX_METADATA_LEN {
        return Err(ApiError::bad_request(format!(
            "Upload-Metadata is {} bytes, over the limit of {MAX_METADATA_LEN}",
            metadata.len()
        )));
    }
    let pairs = parse_metadata(metadata)
        .map_err(|e| ApiError::bad_request(format!("malformed Upload-Metadata: {e}")))?;
    let prelude = pairs
        .into_iter()
        .find(|(k, _)| k == "packet")
        .and_then(|(_, v)| v)
        .ok_or_else(|| {
            ApiError::bad_request(
                "Upload-Metadata has no `packet` value (base64 of the packet prelude)",
            )
        })?;
    let parsed = parse_prelude(&prelude).map_err(|e| {
        ApiError::bad_request(format!("the packet metadata is not a packet prelude: {e}"))
    })?;
    if parsed.payload_offset != prelude.len() {
        return Err(ApiError::bad_request(format!(
            "the packet metadata holds {} bytes after the outer signature; send exactly the prelude",
            prelude.len() - parsed.payload_offset
        )));
    }
    let h = &parsed.header;
    if !valid_packet_id(&h.packet_id) {
        return Err(ApiError::bad_request(format!(
            "packet id {:?} is not a packet id: the format has a random UUID (version 4), lowercase with hyphens",
            h.packet_id
        )));
    }
    if !h
        .kit_key
        .verify(OUTER_DOMAIN, &parsed.header_bytes, &parsed.signature)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "forged or damaged packet header: the outer signature does not verify with the header's kit key",
        ));
    }
    if h.kit_id != kit.kit_id || h.kit_key != kit.kit_key {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the packet was sealed by kit {} (key {}), not by the authenticated kit {}",
                h.kit_id, h.kit_key, kit.kit_id
            ),
        ));
    }
    // The header comes from outside: its payload_length may be anything up to 2^64 - 1.
    let Some(expected) = (parsed.payload_offset as u64).checked_add(h.payload_length) else {
        return Err(ApiError::bad_request(format!(
            "the header's payload_length {} is impossible: with {} bytes of prelude the packet would be over 2^64 - 1 bytes",
            h.payload_length, parsed.payload_offset
        )));
    };
    if length != expected {
        return Err(ApiError::bad_request(format!(
            "Upload-Length {length} does not match the header: {} bytes of prelude + {} of payload = {expected}",
            parsed.payload_offset, h.payload_length
        )));
    }

    let _creating = st.creation.lock().await;
    let header = parsed.header.clone();
    let metadata = metadata.to_string();
    let expiry = config.upload_expiry_secs;
    let made = blocking(&st.hub, move |hub| -> Result<Created, ApiError> {
        if let Some(held) = hub.storage().held(&header.packet_id)? {
            if held.kit_id == header.kit_id && held.payload_sha256 == header.payload_sha256 {
                return Ok(Created::AlreadyHeld(held.receipt));
            }
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "packet id {} is already held for another packet; nothing was uploaded",
                    header.packet_id
                ),
            ));
        }
        // A packet id belongs to the first kit that created an upload of it: no other kit can
        // claim it, whatever it learnt of the id (headers, events, webhooks).
        if let Some(owner) = hub.uploads().claimant(&header.packet_id)? {
            if owner != header.kit_id {
                tracing::warn!(kit = %header.kit_id, owner = %owner, packet = %header.packet_id, "creation under another kit's packet id refused");
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "packet id {} belongs to another kit at this hub; nothing was uploaded",
                        header.packet_id
                    ),
                ));
            }
        }
        if let Some(up) = hub.uploads().find_open(&header.kit_id, &header.packet_id)? {
            if up.prelude == prelude && up.length == length && !is_expired(&up, expiry) {
                return Ok(Created::Resume(up));
            }
            hub.uploads().finish(
                &up.upload_id,
                UploadState::Terminated,
                Some("replaced by a new creation of the packet"),
            )?;
        }
        check_kit_quota(hub, &header.kit_id, length)?;
        let up = hub.uploads().create(&NewUpload {
            kit_id: &header.kit_id,
            packet_id: &header.packet_id,
            metadata: &metadata,
            prelude: &prelude,
            length,
        })?;
        Ok(Created::New(up))
    })
    .await?;
    match made {
        Created::AlreadyHeld(receipt) => {
            tracing::info!(kit = %kit.kit_id, "creation of a packet already held: its receipt again");
            Ok((
                StatusCode::OK,
                [
                    (JEMPUT_RECEIPT.clone(), receipt.to_header_value()),
                    (JEMPUT_MAX_CHUNK.clone(), config.max_chunk.to_string()),
                ],
            )
                .into_response())
        }
        Created::New(up) | Created::Resume(up) => {
            st.hub.wake_workers();
            tracing::info!(kit = %kit.kit_id, upload = %up.upload_id, packet = %up.packet_id, offset = up.offset, "upload created or resumed");
            let mut r = (
                StatusCode::CREATED,
                [
                    (header::LOCATION, format!("{UPLOADS_PATH}/{}", up.upload_id)),
                    (JEMPUT_MAX_CHUNK.clone(), config.max_chunk.to_string()),
                ],
            )
                .into_response();
            if let Some(e) = expires(&up, expiry).and_then(|e| HeaderValue::from_str(&e).ok()) {
                r.headers_mut().insert(UPLOAD_EXPIRES.clone(), e);
            }
            Ok(r)
        }
    }
}

/// Seconds a kit over its upload quota is told to wait (`Retry-After`).
const QUOTA_RETRY_AFTER_SECS: u64 = 60;

/// Refuses a new upload of `length` bytes that would take the kit past
/// `max_open_uploads_per_kit` or `max_open_upload_bytes_per_kit`.
///
/// The answer is `429 Too Many Requests` with `Retry-After` (RFC 6585 §4): the kit asks for more
/// than the hub grants it at once, and may ask again when its uploads finish or expire. Not `413`,
/// which tus (and the kit, `docs/hub-protocol.md` §5) reads at creation as "this packet is over
/// `Tus-Max-Size` and never fits": the packet fits, only not now.
fn check_kit_quota(hub: &crate::Hub, kit_id: &str, length: u64) -> Result<(), ApiError> {
    let config = hub.config();
    let (open, declared) =
        hub.uploads()
            .open_of_kit(kit_id, jiff::Timestamp::now(), config.upload_expiry_secs)?;
    let too_many = open >= config.max_open_uploads_per_kit;
    let too_big = declared.saturating_add(length) > config.max_open_upload_bytes_per_kit;
    if !too_many && !too_big {
        return Ok(());
    }
    tracing::warn!(kit = %kit_id, open, declared, "creation refused: the kit's open uploads are at its limit");
    Err(ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "kit {kit_id} has {open} unfinished uploads declaring {declared} bytes; this hub allows a kit {} unfinished uploads and {} bytes (max_open_uploads_per_kit, max_open_upload_bytes_per_kit), and this packet is {length} bytes: finish or terminate an upload, or retry after {QUOTA_RETRY_AFTER_SECS} s",
            config.max_open_uploads_per_kit, config.max_open_upload_bytes_per_kit
        ),
    )
    .with(&header::RETRY_AFTER, QUOTA_RETRY_AFTER_SECS))
}

enum Created {
    New(Upload),
    Resume(Upload),
    AlreadyHeld(Receipt),
}

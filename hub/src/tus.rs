//! The HTTP side of the hub: tus 1.0.0 (core, creation, termination, checksum, expiration) with
//! request authentication, the packet header at creation, and receipts at completion
//! (`docs/hub-protocol.md`).
//!
//! Every answer that is not a success is a status code with a one-line reason as `text/plain`.
//! Checks run in a fixed order so that nothing about an upload is revealed before the request is
//! authenticated: `Tus-Resumable` (412), `Jemput-Auth` (401), then the request itself.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, options};
use axum::Router;
use jemput_core::wire::tus::{
    parse_metadata, parse_upload_checksum, parse_upload_number, ChunkHasher, CHECKSUM_ALGORITHMS,
    INFO_PATH, MAX_METADATA_LEN, OFFSET_OCTET_STREAM, RECEIPTS_PATH, TUS_EXTENSIONS, TUS_VERSION,
    UPLOADS_PATH,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::registry::KitEntry;
use crate::storage::{
    valid_packet_id, valid_upload_id, NewUpload, PutOutcome, Upload, UploadState,
};
use crate::Hub;
use jemput_core::keys::sign::OUTER_DOMAIN;
use jemput_core::packet::{parse_prelude, Header};
use jemput_core::wire::auth::{self, AuthError, AuthHeader};
use jemput_core::wire::receipt::{Receipt, ReceiptBody};

/// Bodies of refused `PATCH`es up to this size are read and dropped, so the kit can read the answer
/// on a connection that stays usable; larger ones are answered at once and the connection closed.
const DRAIN_LIMIT: u64 = 64 * 1024;

static TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
static TUS_VERSION_H: HeaderName = HeaderName::from_static("tus-version");
static UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
static UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
static UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
static UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
static JEMPUT_RECEIPT: HeaderName = HeaderName::from_static("jemput-receipt");
static JEMPUT_MAX_CHUNK: HeaderName = HeaderName::from_static("jemput-max-chunk");

/// A refusal: status, one-line reason, extra headers.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    fn with(mut self, name: &HeaderName, value: impl ToString) -> ApiError {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            self.headers.push((name.clone(), v));
        }
        self
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("hub error: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("hub error: {e}; try again later"),
        )
    }

    fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "no such upload")
    }
}

impl From<crate::HubError> for ApiError {
    fn from(e: crate::HubError) -> ApiError {
        ApiError::internal(e)
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

type ApiResult = Result<Response, ApiError>;

/// Shared state of the handlers.
pub(crate) struct AppState {
    pub(crate) hub: Arc<Hub>,
    /// One lock per upload: `HEAD`, `PATCH`, `DELETE` and completion of an upload never interleave.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Creation is serialised so that two creations of one packet yield one upload.
    creation: tokio::sync::Mutex<()>,
}

impl AppState {
    fn upload_lock(&self, upload_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 256 {
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(upload_id.to_string()).or_default().clone()
    }
}

/// The routes under `/v1/`.
pub(crate) fn router(hub: Arc<Hub>) -> Router {
    let state = Arc::new(AppState {
        hub,
        locks: Mutex::new(HashMap::new()),
        creation: tokio::sync::Mutex::new(()),
    });
    let uploads = Router::new()
        .route(UPLOADS_PATH, options(discovery).post(create))
        .route(
            &format!("{UPLOADS_PATH}/{{id}}"),
            options(discovery).head(head).patch(patch).delete(terminate),
        )
        .layer(axum::middleware::map_response(
            |mut r: Response| async move {
                r.headers_mut()
                    .insert(TUS_RESUMABLE.clone(), HeaderValue::from_static(TUS_VERSION));
                r
            },
        ));
    let enroll = crate::enroll::routes(state.hub.clone());
    Router::new()
        .route(INFO_PATH, get(info))
        .route(&format!("{RECEIPTS_PATH}/{{packet_id}}"), get(receipt))
        .route(
            jemput_core::wire::sync::SYNC_PATH,
            get(crate::kit_sync::get_sync),
        )
        .merge(uploads)
        .with_state(state)
        .merge(enroll)
}

/// Runs `f` on the blocking pool (SQLite commits and fsyncs must not stall the runtime).
pub(crate) async fn blocking<T: Send + 'static>(
    hub: &Arc<Hub>,
    f: impl FnOnce(&Hub) -> T + Send + 'static,
) -> T {
    let hub = hub.clone();
    tokio::task::spawn_blocking(move || f(&hub))
        .await
        .expect("a hub task panicked")
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request(format!("{name} is not ASCII text")))
        })
        .transpose()
}

/// `Upload-Offset` or `Upload-Length`, or a `400` saying what is wrong.
fn parse_decimal(name: &str, v: &str) -> Result<u64, ApiError> {
    parse_upload_number(name, v).map_err(ApiError::bad_request)
}

fn check_tus_resumable(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(&TUS_RESUMABLE).map(|v| v.as_bytes()) {
        Some(v) if v == TUS_VERSION.as_bytes() => Ok(()),
        Some(v) => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "Tus-Resumable {} is not supported; this hub speaks tus {TUS_VERSION}",
                String::from_utf8_lossy(v)
            ),
        )
        .with(&TUS_VERSION_H, TUS_VERSION)),
        None => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!("missing Tus-Resumable header; this hub speaks tus {TUS_VERSION}"),
        )
        .with(&TUS_VERSION_H, TUS_VERSION)),
    }
}

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

/// RFC 9110 date of when an open upload expires.
fn expires(up: &Upload, expiry_secs: u64) -> Option<String> {
    let at = up
        .updated_at
        .checked_add(jiff::SignedDuration::from_secs(
            expiry_secs.min(i64::MAX as u64 / 2) as i64,
        ))
        .ok()?;
    Some(at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

fn is_expired(up: &Upload, expiry_secs: u64) -> bool {
    let idle = jiff::Timestamp::now().duration_since(up.updated_at);
    idle.as_secs() > expiry_secs.min(i64::MAX as u64) as i64
}

// ---------------------------------------------------------------------------------------------
// OPTIONS, info

async fn discovery(State(st): State<Arc<AppState>>) -> Response {
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

async fn info(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(st.hub.info()).into_response()
}

// ---------------------------------------------------------------------------------------------
// Creation

async fn create(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    check_tus_resumable(&headers)?;
    let kit = authenticate(&st, &method, &uri, &headers, None).await?;
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
            "packet id {:?} is not acceptable (1 to 128 of A-Z a-z 0-9 _ -)",
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
    let expected = parsed.payload_offset as u64 + h.payload_length;
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

enum Created {
    New(Upload),
    Resume(Upload),
    AlreadyHeld(Receipt),
}

// ---------------------------------------------------------------------------------------------
// HEAD, DELETE

/// Finds the authenticated kit's upload and takes its lock. Unknown ids, ids of another kit's
/// uploads and ids that cannot be upload ids are all `404`; ended uploads `410`.
async fn locked_upload(
    st: &AppState,
    kit: &KitEntry,
    id: &str,
) -> Result<(Upload, tokio::sync::OwnedMutexGuard<()>), ApiError> {
    if !valid_upload_id(id) {
        return Err(ApiError::not_found());
    }
    let guard = st.upload_lock(id).lock_owned().await;
    let id2 = id.to_string();
    let up = blocking(&st.hub, move |hub| hub.uploads().get(&id2))
        .await?
        .filter(|u| u.kit_id == kit.kit_id)
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

async fn receipt_of(st: &AppState, packet_id: &str) -> Result<Option<Receipt>, ApiError> {
    let id = packet_id.to_string();
    Ok(blocking(&st.hub, move |hub| hub.storage().held(&id))
        .await?
        .map(|h| h.receipt))
}

async fn head(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    check_tus_resumable(&headers)?;
    let kit = authenticate(&st, &method, &uri, &headers, None).await?;
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

async fn terminate(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    check_tus_resumable(&headers)?;
    let kit = authenticate(&st, &method, &uri, &headers, None).await?;
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

// ---------------------------------------------------------------------------------------------
// PATCH

/// A per-chunk checksum being computed, and the digest the kit sent.
struct Checksum {
    hasher: ChunkHasher,
    want: Vec<u8>,
}

impl Checksum {
    fn parse(v: &str) -> Result<Checksum, ApiError> {
        let (alg, want) = parse_upload_checksum(v).map_err(ApiError::bad_request)?;
        Ok(Checksum {
            hasher: ChunkHasher::new(alg),
            want,
        })
    }

    fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    fn matches(&self) -> bool {
        self.hasher.finish() == self.want
    }
}

/// How reading a `PATCH` body ended.
#[derive(Debug, PartialEq, Eq)]
enum BodyEnd {
    /// All of it arrived.
    Complete,
    /// The connection broke, the body stalled, or it ended short of its `Content-Length`.
    Cut(String),
    /// More than `max_chunk` bytes.
    OverChunk,
    /// Bytes past `Upload-Length`.
    OverLength,
}

async fn next_frame(body: &mut Body) -> Option<Result<axum::body::Bytes, axum::Error>> {
    loop {
        let frame =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await?;
        match frame {
            Ok(f) => match f.into_data() {
                Ok(data) => return Some(Ok(data)),
                Err(_trailers) => continue,
            },
            Err(e) => return Some(Err(e)),
        }
    }
}

/// Reads and drops a refused request's body if it is small, so the answer can be read.
async fn drain(mut body: Body, declared: Option<u64>, idle: Duration) {
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return;
    }
    let mut seen = 0u64;
    while let Ok(Some(Ok(data))) = tokio::time::timeout(idle, next_frame(&mut body)).await {
        seen += data.len() as u64;
        if seen > DRAIN_LIMIT {
            return;
        }
    }
}

async fn patch(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let idle = Duration::from_secs(st.hub.config().idle_timeout_secs);
    let declared = header_str(&headers, "content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    match patch_checks(&st, &id, &method, &uri, &headers, declared).await {
        Ok(Ready::Append(job)) => {
            // The work runs in its own task, so that whatever ends this handler early (a
            // connection torn down, a server shutting down) cannot stop it between the write and
            // the fsync and the offset update: what arrived is always kept and recorded.
            let st2 = st.clone();
            tokio::spawn(async move { append(st2, job, body, declared, idle).await })
                .await
                .unwrap_or_else(|e| Err(ApiError::internal(e)))
        }
        Ok(Ready::Done(r)) => {
            drain(body, declared, idle).await;
            Ok(r)
        }
        Err(e) => {
            drain(body, declared, idle).await;
            Err(e)
        }
    }
}

struct AppendJob {
    up: Upload,
    checksum: Option<Checksum>,
    guard: tokio::sync::OwnedMutexGuard<()>,
}

enum Ready {
    Append(Box<AppendJob>),
    Done(Response),
}

async fn patch_checks(
    st: &AppState,
    id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    declared: Option<u64>,
) -> Result<Ready, ApiError> {
    check_tus_resumable(headers)?;
    let offset = header_str(headers, "upload-offset")?
        .ok_or_else(|| ApiError::bad_request("missing Upload-Offset"))?;
    let offset = parse_decimal("Upload-Offset", offset)?;
    let kit = authenticate(st, method, uri, headers, Some(offset)).await?;
    let (up, guard) = locked_upload(st, &kit, id).await?;
    let content_type = header_str(headers, "content-type")?.unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(OFFSET_OCTET_STREAM) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be {OFFSET_OCTET_STREAM}, got {content_type:?}"),
        ));
    }
    let checksum = header_str(headers, "upload-checksum")?
        .map(Checksum::parse)
        .transpose()?;
    let offset_header = |o: u64| (UPLOAD_OFFSET.clone(), o.to_string());
    if up.state == UploadState::Done {
        if offset == up.length && declared.unwrap_or(0) == 0 {
            let mut r = (StatusCode::NO_CONTENT, [offset_header(up.length)]).into_response();
            if let Some(receipt) = receipt_of(st, &up.packet_id).await? {
                if let Ok(v) = HeaderValue::from_str(&receipt.to_header_value()) {
                    r.headers_mut().insert(JEMPUT_RECEIPT.clone(), v);
                }
            }
            return Ok(Ready::Done(r));
        }
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "upload {} is complete ({} bytes); HEAD returns its receipt",
                up.upload_id, up.length
            ),
        )
        .with(&UPLOAD_OFFSET, up.length));
    }
    if offset != up.offset {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "Upload-Offset {offset} does not match the hub's offset {}; HEAD and resume from it",
                up.offset
            ),
        )
        .with(&UPLOAD_OFFSET, up.offset));
    }
    let max_chunk = st.hub.config().max_chunk;
    if let Some(n) = declared {
        if n > max_chunk {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a PATCH body may be at most {max_chunk} bytes; this one is {n}: send smaller chunks"),
            )
            .with(&JEMPUT_MAX_CHUNK, max_chunk));
        }
        if offset + n > up.length {
            return Err(ApiError::bad_request(format!(
                "the chunk of {n} bytes at offset {offset} runs past Upload-Length {}",
                up.length
            )));
        }
    }
    Ok(Ready::Append(Box::new(AppendJob {
        up,
        checksum,
        guard,
    })))
}

/// Streams the body into the `.part` file at the upload's offset, keeps or discards it, records
/// the new offset, and completes the upload when it has all its bytes.
async fn append(
    st: Arc<AppState>,
    job: Box<AppendJob>,
    mut body: Body,
    declared: Option<u64>,
    idle: Duration,
) -> ApiResult {
    let AppendJob {
        up,
        mut checksum,
        guard: _guard,
    } = *job;
    let max_chunk = st.hub.config().max_chunk;
    let path = st.hub.uploads().part_path(&up.upload_id);
    let io_err = |what: &str, e: std::io::Error| {
        ApiError::internal(format!("cannot {what} {}: {e}", path.display()))
    };
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .await
        .map_err(|e| io_err("open", e))?;
    // Bytes past the recorded offset are a torn tail of an interrupted PATCH: never trusted.
    file.set_len(up.offset)
        .await
        .map_err(|e| io_err("truncate", e))?;
    file.seek(SeekFrom::Start(up.offset))
        .await
        .map_err(|e| io_err("seek", e))?;

    let mut received = 0u64;
    let end = loop {
        let frame = match tokio::time::timeout(idle, next_frame(&mut body)).await {
            Err(_) => break BodyEnd::Cut(format!("no bytes for {} s", idle.as_secs())),
            Ok(None) => {
                break match declared {
                    Some(n) if n != received => {
                        BodyEnd::Cut(format!("the body ended after {received} of {n} bytes"))
                    }
                    _ => BodyEnd::Complete,
                }
            }
            Ok(Some(Err(e))) => break BodyEnd::Cut(e.to_string()),
            Ok(Some(Ok(data))) => data,
        };
        let n = frame.len() as u64;
        if received + n > max_chunk {
            break BodyEnd::OverChunk;
        }
        if up.offset + received + n > up.length {
            break BodyEnd::OverLength;
        }
        file.write_all(&frame)
            .await
            .map_err(|e| io_err("write", e))?;
        if let Some(c) = checksum.as_mut() {
            c.update(&frame);
        }
        received += n;
    };

    // Keep what arrived unless it cannot be trusted: a checksummed chunk is kept only whole and
    // matching; an oversized one never.
    let (keep, refusal) = match end {
        BodyEnd::Complete => match checksum.take() {
            Some(c) if !c.matches() => (
                false,
                Some(ApiError::new(
                    StatusCode::from_u16(460).expect("460 is a status code"),
                    format!(
                        "checksum mismatch: the chunk was discarded, the offset stays {}",
                        up.offset
                    ),
                )),
            ),
            _ => (true, None),
        },
        BodyEnd::Cut(why) => {
            tracing::info!(upload = %up.upload_id, "PATCH body cut: {why}");
            let keep = checksum.is_none();
            (
                keep,
                Some(ApiError::bad_request(format!(
                    "the request body was cut ({why}); HEAD for the offset and resume"
                ))),
            )
        }
        BodyEnd::OverChunk => (
            false,
            Some(
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("a PATCH body may be at most {max_chunk} bytes: send smaller chunks"),
                )
                .with(&JEMPUT_MAX_CHUNK, max_chunk),
            ),
        ),
        BodyEnd::OverLength => (
            false,
            Some(ApiError::bad_request(format!(
                "the chunk runs past Upload-Length {}; nothing of it was kept",
                up.length
            ))),
        ),
    };
    let new_offset = if keep {
        up.offset + received
    } else {
        up.offset
    };
    file.flush().await.map_err(|e| io_err("write", e))?;
    if !keep {
        file.set_len(up.offset)
            .await
            .map_err(|e| io_err("truncate", e))?;
    }
    file.sync_data().await.map_err(|e| io_err("sync", e))?;
    drop(file);
    if new_offset != up.offset {
        let id = up.upload_id.clone();
        blocking(&st.hub, move |hub| {
            hub.uploads().set_offset(&id, new_offset)
        })
        .await?;
    }

    if new_offset == up.length {
        let mut done = up.clone();
        done.offset = new_offset;
        let receipt = blocking(&st.hub, move |hub| {
            let r = complete(hub, &done);
            hub.wake_workers();
            r
        })
        .await?;
        tracing::info!(upload = %up.upload_id, packet = %up.packet_id, "packet verified and stored");
        return Ok((
            StatusCode::NO_CONTENT,
            [
                (UPLOAD_OFFSET.clone(), new_offset.to_string()),
                (JEMPUT_RECEIPT.clone(), receipt.to_header_value()),
            ],
        )
            .into_response());
    }
    if let Some(e) = refusal {
        return Err(e.with(&UPLOAD_OFFSET, new_offset));
    }
    let mut r = (
        StatusCode::NO_CONTENT,
        [(UPLOAD_OFFSET.clone(), new_offset.to_string())],
    )
        .into_response();
    let mut now = up.clone();
    now.updated_at = jiff::Timestamp::now();
    if let Some(e) = expires(&now, st.hub.config().upload_expiry_secs)
        .and_then(|e| HeaderValue::from_str(&e).ok())
    {
        r.headers_mut().insert(UPLOAD_EXPIRES.clone(), e);
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Completion

/// Verifies a complete upload and stores it: the prelude is the one accepted at creation, the
/// length is right, the payload hashes to the header's SHA-256, the outer signature verifies with
/// the key registered for the kit. Then a receipt is signed and the packet stored with it. On any
/// failure the upload is ended as failed (its bytes removed) and the answer is `422`.
pub(crate) fn complete(hub: &Hub, up: &Upload) -> Result<Receipt, ApiError> {
    match verify_part(hub, up) {
        Ok(header) => {
            let body = ReceiptBody {
                receipt_version: 1,
                hub_id: hub.config().hub_id.clone(),
                packet_id: header.packet_id.clone(),
                kit_id: header.kit_id.clone(),
                payload_sha256: header.payload_sha256.clone(),
                size: up.length,
                received_at: jiff::Timestamp::now(),
            };
            let receipt = Receipt::sign(&body, &hub.key);
            let part = hub.uploads().part_path(&up.upload_id);
            match hub
                .storage()
                .put_packet(&header, &part, up.length, &receipt)?
            {
                PutOutcome::Stored(r) | PutOutcome::AlreadyHeld(r) => {
                    hub.uploads()
                        .finish(&up.upload_id, UploadState::Done, None)?;
                    Ok(r)
                }
                PutOutcome::Conflict(held) => fail(
                    hub,
                    up,
                    format!(
                        "packet id {} is already held for another packet (kit {})",
                        held.packet_id, held.kit_id
                    ),
                ),
            }
        }
        Err(why) => fail(hub, up, why),
    }
}

fn fail(hub: &Hub, up: &Upload, why: String) -> Result<Receipt, ApiError> {
    tracing::warn!(upload = %up.upload_id, packet = %up.packet_id, "packet refused: {why}");
    hub.uploads()
        .finish(&up.upload_id, UploadState::Failed, Some(&why))?;
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("packet refused, upload terminated: {why}"),
    ))
}

/// The checks of [`complete`], reading the `.part` file in blocks (memory does not grow with the
/// packet). `Err` is the reason for refusal.
fn verify_part(hub: &Hub, up: &Upload) -> Result<Header, String> {
    let path = hub.uploads().part_path(&up.upload_id);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open the uploaded bytes: {e}"))?;
    let on_disk = file
        .metadata()
        .map_err(|e| format!("cannot read the uploaded bytes: {e}"))?
        .len();
    if on_disk < up.length {
        return Err(format!(
            "{on_disk} bytes on disk, Upload-Length is {}",
            up.length
        ));
    }
    if on_disk > up.length {
        file.set_len(up.length)
            .map_err(|e| format!("cannot cut a torn tail: {e}"))?;
    }
    let mut prelude = vec![0u8; up.prelude.len()];
    file.read_exact(&mut prelude)
        .map_err(|e| format!("cannot read the uploaded prelude: {e}"))?;
    if prelude != up.prelude {
        return Err("the uploaded header differs from the one given at creation".into());
    }
    let p = parse_prelude(&prelude).map_err(|e| format!("bad prelude: {e}"))?;
    if !p
        .header
        .kit_key
        .verify(OUTER_DOMAIN, &p.header_bytes, &p.signature)
    {
        return Err("the outer signature does not verify".into());
    }
    match hub.registry().get(&p.header.kit_id) {
        Ok(Some(k)) if k.kit_key == p.header.kit_key => {}
        Ok(_) => {
            return Err(format!(
                "the header's kit key is not the key registered for kit {}",
                p.header.kit_id
            ))
        }
        Err(e) => return Err(format!("cannot read the kit registry: {e}")),
    }
    let payload_len = up.length - p.payload_offset as u64;
    if payload_len != p.header.payload_length {
        return Err(format!(
            "the payload is {payload_len} bytes, the header says {}",
            p.header.payload_length
        ));
    }
    file.seek(SeekFrom::Start(p.payload_offset as u64))
        .map_err(|e| format!("cannot read the payload: {e}"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = payload_len;
    while left > 0 {
        let n = (left as usize).min(buf.len());
        file.read_exact(&mut buf[..n])
            .map_err(|e| format!("cannot read the payload: {e}"))?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    if hex::encode(hasher.finalize()) != p.header.payload_sha256 {
        return Err("the payload's SHA-256 does not match the signed header".into());
    }
    if on_disk > up.length {
        file.sync_data()
            .map_err(|e| format!("cannot sync the uploaded bytes: {e}"))?;
    }
    Ok(p.header)
}

// ---------------------------------------------------------------------------------------------
// Receipts

async fn receipt(
    State(st): State<Arc<AppState>>,
    UrlPath(packet_id): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult {
    let kit = authenticate(&st, &method, &uri, &headers, None).await?;
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
        _ => Err(none()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::wire::tus::{MAX_CHUNK_HEADER, RECEIPT_HEADER};

    #[test]
    fn the_header_names_are_the_shared_ones() {
        assert_eq!(JEMPUT_RECEIPT.as_str(), RECEIPT_HEADER.to_ascii_lowercase());
        assert_eq!(
            JEMPUT_MAX_CHUNK.as_str(),
            MAX_CHUNK_HEADER.to_ascii_lowercase()
        );
    }

    #[test]
    fn checksum_headers_name_what_is_wrong() {
        let ok = Checksum::parse("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=").unwrap();
        let mut c = ok;
        c.update(b"hello world");
        assert!(c.matches());
        assert!(Checksum::parse("md5 AAAA")
            .err()
            .unwrap()
            .message
            .contains("md5"));
        assert!(Checksum::parse("sha1").is_err());
        assert!(Checksum::parse("sha256 Kq5sNclPz7QV2+lfQIuc6R7oRu0=").is_err());
    }
}

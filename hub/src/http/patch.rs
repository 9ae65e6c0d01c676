//! `PATCH`: appending a chunk at the offset the hub holds, with the chunk's checksum (required: the
//! request signature covers the body through it) checked and the packet prelude compared as they
//! arrive, a stalled or cut body kept up to what arrived, and completion when the last byte lands.
//!
//! A chunk is answered once it is written and its offset committed, without an fsync: only the
//! completed packet is made durable, before its receipt (`crate::uploads`' durability rules,
//! `docs/hub-protocol.md` §6).

use std::io::SeekFrom;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jemput_core::wire::tus::{parse_upload_checksum, ChunkHasher, OFFSET_OCTET_STREAM};
use std::sync::Arc;

use super::auth::authenticate;
use super::complete::complete;
use super::error::{ApiError, ApiResult};
use super::headers::{
    check_tus_resumable, header_str, parse_decimal, JEMPUT_MAX_CHUNK, JEMPUT_RECEIPT,
    UPLOAD_EXPIRES, UPLOAD_OFFSET,
};
use super::state::{blocking, AppState};
use super::upload::{expires, locked_upload, receipt_of};
use crate::uploads::{Upload, UploadState};

/// Bodies of refused `PATCH`es up to this size are read and dropped, so the kit can read the answer
/// on a connection that stays usable; larger ones are answered at once and the connection closed.
const DRAIN_LIMIT: u64 = 64 * 1024;

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
    /// A byte of the packet prelude differs from the prelude given at creation (at this offset).
    NotThePrelude(u64),
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

pub(crate) async fn patch(
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
            // the offset update: what arrived is always kept and recorded.
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
    let kit = authenticate(st, method, uri, headers).await?;
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
    if checksum.is_none() && declared != Some(0) {
        return Err(ApiError::bad_request(
            "missing Upload-Checksum: the request signature covers a PATCH body through its checksum (blake3, sha256 or sha1); send one",
        ));
    }
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
        if offset.checked_add(n).is_none_or(|end| end > up.length) {
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
    // The scale-out backend stages a chunk in the database once it is whole (any process may
    // take the next one): it is gathered in memory, at most `max_chunk` bytes.
    let staged = st.hub.uploads().staged_in_database();
    let mut file: Option<PartWriter> = None;
    // Sized by the declared length (checked against `max_chunk` and the upload's length above)
    // so that growing by doubling never holds twice the chunk.
    let mut chunk = match (staged, declared) {
        (true, Some(n)) => Vec::with_capacity(n.min(max_chunk) as usize),
        _ => Vec::new(),
    };
    if !staged {
        file = Some(PartWriter::new(path.clone(), up.offset));
    }

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
        if let Some(at) = prelude_mismatch(&up.prelude, up.offset + received, &frame) {
            break BodyEnd::NotThePrelude(at);
        }
        if let Some(c) = checksum.as_mut() {
            c.update(&frame);
        }
        match file.as_mut() {
            Some(f) => f.push(frame).await.map_err(|e| io_err("write", e))?,
            None => chunk.extend_from_slice(&frame),
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
        BodyEnd::NotThePrelude(at) => (
            false,
            Some(ApiError::bad_request(format!(
                "byte {at} differs from the packet prelude given at creation; nothing of this chunk was kept, the offset stays {}",
                up.offset
            ))),
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
    if let Some(file) = file {
        // Written through to the kernel before the offset is committed, so that the file is never
        // shorter than the offset while the machine runs; no fsync: a power cut may take these
        // bytes, and the hub then reports fewer (`Uploads::reconcile`).
        // The new offset is committed in the same hand-off to a blocking thread as the last
        // bytes are written.
        let truncate_to = (!keep).then_some(up.offset);
        let (hub, id) = (st.hub.clone(), up.upload_id.clone());
        let commit =
            (new_offset != up.offset).then_some(move || hub.uploads().set_offset(&id, new_offset));
        file.finish(truncate_to, commit)
            .await
            .map_err(|(what, e)| io_err(what, e))??;
    }
    if staged && new_offset != up.offset {
        // Compare-and-set: only if no other request (in this process or another) moved the
        // offset since this PATCH was checked.
        let (id, at) = (up.upload_id.clone(), up.offset);
        let appended = blocking(&st.hub, move |hub| {
            hub.uploads().append_staged(&id, at, &chunk)
        })
        .await?;
        if let Err(now) = appended {
            tracing::info!(upload = %up.upload_id, "a PATCH lost the race for offset {at}: the upload is at {now}");
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "Upload-Offset {at} is no longer the hub's offset ({now}): another request appended first; HEAD and resume from it"
                ),
            )
            .with(&UPLOAD_OFFSET, now));
        }
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

/// Bytes of a `PATCH` body gathered before they go to the `.part` file in one write on a
/// blocking thread: a body arrives in frames of a few KiB to a few hundred, and a write per frame
/// was a hand-off to another thread per frame (the server's CPU per packet, BENCHMARKS.md). At
/// most this much of a body is held per `PATCH` (the kit's chunks are up to 1 MiB).
const WRITE_BATCH: usize = 512 * 1024;

/// The `.part` file of an upload being appended to at `offset`, opened with the first batch and
/// written in batches of [`WRITE_BATCH`] on tokio's blocking threads. An error names what failed
/// (`open`, `write`, …) for the message.
struct PartWriter {
    path: std::path::PathBuf,
    offset: u64,
    /// `None` before the first batch, and while a batch is being written.
    file: Option<std::fs::File>,
    pending: Vec<axum::body::Bytes>,
    pending_len: usize,
}

type PartError = (&'static str, std::io::Error);

impl PartWriter {
    fn new(path: std::path::PathBuf, offset: u64) -> PartWriter {
        PartWriter {
            path,
            offset,
            file: None,
            pending: Vec::new(),
            pending_len: 0,
        }
    }

    /// Adds `frame`; writes the batch once it holds [`WRITE_BATCH`] bytes.
    async fn push(&mut self, frame: axum::body::Bytes) -> std::io::Result<()> {
        self.pending_len += frame.len();
        self.pending.push(frame);
        if self.pending_len >= WRITE_BATCH {
            self.write_pending(None, None::<fn() -> Result<(), crate::HubError>>)
                .await
                .map_err(|(_, e)| e)?
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// Writes what is pending, cuts the file to `truncate_to` if given (a chunk discarded), then
    /// runs `commit` (the new offset) on the same blocking thread.
    async fn finish(
        mut self,
        truncate_to: Option<u64>,
        commit: Option<impl FnOnce() -> Result<(), crate::HubError> + Send + 'static>,
    ) -> Result<Result<(), crate::HubError>, PartError> {
        self.write_pending(truncate_to, commit).await
    }

    async fn write_pending(
        &mut self,
        truncate_to: Option<u64>,
        commit: Option<impl FnOnce() -> Result<(), crate::HubError> + Send + 'static>,
    ) -> Result<Result<(), crate::HubError>, PartError> {
        let file = self.file.take();
        let (path, offset) = (self.path.clone(), self.offset);
        let batch = std::mem::take(&mut self.pending);
        self.pending_len = 0;
        let (file, committed) = tokio::task::spawn_blocking(move || {
            use std::io::{Seek, Write};
            let mut file = match file {
                Some(f) => f,
                None => {
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(|e| ("open", e))?;
                    // Bytes past the recorded offset are a torn tail of an interrupted PATCH:
                    // never trusted.
                    f.set_len(offset).map_err(|e| ("truncate", e))?;
                    f.seek(SeekFrom::Start(offset)).map_err(|e| ("seek", e))?;
                    f
                }
            };
            for b in &batch {
                file.write_all(b).map_err(|e| ("write", e))?;
            }
            if let Some(len) = truncate_to {
                file.set_len(len).map_err(|e| ("truncate", e))?;
            }
            let committed = commit.map_or(Ok(()), |c| c());
            Ok::<_, PartError>((file, committed))
        })
        .await
        .map_err(|e| ("write", std::io::Error::other(e)))??;
        self.file = Some(file);
        Ok(committed)
    }
}

/// The offset of the first byte of `frame` (which starts at `at` in the upload) that differs from
/// the prelude accepted at creation, if any. Bytes past the prelude are not compared.
fn prelude_mismatch(prelude: &[u8], at: u64, frame: &[u8]) -> Option<u64> {
    let start = usize::try_from(at).ok().filter(|&s| s < prelude.len())?;
    let expected = &prelude[start..];
    frame
        .iter()
        .zip(expected)
        .position(|(a, b)| a != b)
        .map(|i| at + i as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_prelude_bytes_are_compared_as_they_arrive() {
        let prelude = b"JEMPUT-PACKET";
        assert_eq!(
            prelude_mismatch(prelude, 0, b"JEMPUT-PACKET and more"),
            None
        );
        assert_eq!(prelude_mismatch(prelude, 7, b"PACKETxyz"), None);
        assert_eq!(prelude_mismatch(prelude, 13, b"anything"), None);
        assert_eq!(prelude_mismatch(prelude, 0, b"JEMPUT_"), Some(6));
        assert_eq!(prelude_mismatch(prelude, 10, b"KEX"), Some(12));
        assert_eq!(prelude_mismatch(prelude, u64::MAX, b"x"), None);
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

//! A small tus 1.0.0 client over `reqwest`: discovery (`OPTIONS`), creation, `HEAD`, `PATCH` with an
//! optional per-chunk checksum, termination, and the hub's receipt lookup.
//!
//! Every request but `OPTIONS` carries `Tus-Resumable: 1.0.0` and, when the client has a kit key, a
//! `Jemput-Auth` signature over method, path, tus headers (the `PATCH` body through its
//! `Upload-Checksum`), time and a fresh nonce, made when the request is sent
//! (`docs/hub-protocol.md` §1). Status codes are turned into [`TusError`] variants the uploader
//! acts on (§5 of the same document); of an error body at most [`MAX_ERROR_BODY`] bytes are read.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode, Url};

use crate::pin::{self, CertPin, PinMismatch, PinnedVerifier};
use jemput_core::keys::SigningKey;
use jemput_core::wire::auth;
use jemput_core::wire::tus::{
    self, MAX_CHUNK_HEADER, OFFSET_OCTET_STREAM, RECEIPT_HEADER, TUS_VERSION,
};

pub use jemput_core::wire::tus::ChecksumAlgorithm;

/// Time allowed to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a request without a body to send.
const BASE_TIMEOUT: Duration = Duration::from_secs(30);
/// The slowest link a `PATCH` timeout allows for: 4 KiB/s (32 kbit/s, below a 2G link's 64 kbit/s).
const SLOWEST_BYTES_PER_SEC: u64 = 4 * 1024;
/// The most of an error body the kit reads (hubs answer with one line; the rest is dropped).
pub const MAX_ERROR_BODY: usize = 4 * 1024;
/// The most of a receipt body the kit reads (a receipt is well under 2 KiB).
const MAX_RECEIPT_BODY: usize = 64 * 1024;

/// What a server said about itself in answer to `OPTIONS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `Tus-Version`, most preferred first.
    pub versions: Vec<String>,
    /// `Tus-Extension`.
    pub extensions: Vec<String>,
    /// `Tus-Checksum-Algorithm`.
    pub checksum_algorithms: Vec<String>,
    /// `Tus-Max-Size`, when given.
    pub max_size: Option<u64>,
    /// `Jemput-Max-Chunk`: the largest `PATCH` body the hub reads, when it says.
    pub max_chunk: Option<u64>,
}

fn list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Capabilities {
    /// Reads the tus discovery headers.
    pub fn from_headers(headers: &HeaderMap) -> Capabilities {
        Capabilities {
            versions: list(headers, "tus-version"),
            extensions: list(headers, "tus-extension"),
            checksum_algorithms: list(headers, "tus-checksum-algorithm"),
            max_size: header_u64(headers, "tus-max-size"),
            max_chunk: header_u64(headers, MAX_CHUNK_HEADER).filter(|&m| m > 0),
        }
    }

    /// Whether the server offers extension `name` (e.g. `termination`).
    pub fn supports(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e == name)
    }

    /// The checksum to send with each `PATCH`: blake3 when offered (the cheapest of the three for
    /// the kit's battery and the hub's CPU), else sha256, else sha1 (mandatory in the extension);
    /// none without the checksum extension.
    pub fn checksum(&self) -> Option<ChecksumAlgorithm> {
        if !self.supports("checksum") {
            return None;
        }
        let offered =
            |alg: ChecksumAlgorithm| self.checksum_algorithms.iter().any(|a| a == alg.name());
        [ChecksumAlgorithm::Blake3, ChecksumAlgorithm::Sha256]
            .into_iter()
            .find(|&alg| offered(alg))
            .or(Some(ChecksumAlgorithm::Sha1))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    header_str(headers, name).and_then(|v| v.parse().ok())
}

/// The kit identity requests are signed with.
#[derive(Debug)]
pub struct KitAuth {
    pub kit_id: String,
    pub key: SigningKey,
}

/// What a creation request produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Creation {
    /// `201`: a new upload (or the hub's unfinished one of the same packet) at `url`; the hub's
    /// `Jemput-Max-Chunk`, when it sent one.
    Created { url: Url, max_chunk: Option<u64> },
    /// `200`: the hub already holds this packet; its receipt header, if it sent one.
    AlreadyHeld { receipt: Option<String> },
}

/// Where an upload stands on the server (`HEAD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub length: Option<u64>,
}

/// The answer to a `PATCH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patched {
    /// The server's new offset.
    pub offset: u64,
    /// The `Jemput-Receipt` header, sent by a hub with the last byte.
    pub receipt: Option<String>,
}

/// A failed tus request, by what the uploader does about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TusError {
    /// No answer: connection refused or cut, timeout, a body cut short.
    #[error("{method} {url}: no answer from the server: {source}")]
    Network {
        method: Method,
        url: Url,
        #[source]
        source: reqwest::Error,
    },
    /// `404`, `410` (or `403` on an existing upload): the upload is unknown, expired or terminated.
    #[error("{method} {url}: the upload is gone on the server (HTTP {status})")]
    Gone {
        method: Method,
        url: Url,
        status: u16,
    },
    /// `409` to a `PATCH`: the offset sent is not the server's; asking `HEAD` and resuming helps.
    #[error("{method} {url}: the server's offset differs from ours (HTTP 409); resuming from the server's offset")]
    Conflict { method: Method, url: Url },
    /// A refusal of the packet itself that no retry can change: `400`, `403`, `409` or `422` to a
    /// creation (e.g. the packet id belongs to another kit), `422` at completion.
    #[error("{method} {url}: the hub refused this packet for good (HTTP {status}): {reason}")]
    PacketRefused {
        method: Method,
        url: Url,
        status: u16,
        reason: String,
    },
    /// `460`: the chunk's checksum did not match; the server discarded it.
    #[error(
        "{method} {url}: the server found a checksum mismatch and discarded the chunk (HTTP 460)"
    )]
    ChecksumMismatch { method: Method, url: Url },
    /// `413` at creation: the packet is larger than the server accepts.
    #[error("the packet is larger than this server accepts (HTTP 413{}); it stays queued for a hub that takes it", max.map(|m| format!(", Tus-Max-Size {m}")).unwrap_or_default())]
    TooLarge { max: Option<u64> },
    /// `413` to a `PATCH`: the chunk was larger than the server (or a proxy before it) reads in
    /// one request; the packet is fine, smaller chunks will do.
    #[error("{method} {url}: the chunk was larger than the server takes in one request (HTTP 413{})", max.map(|m| format!(", {MAX_CHUNK_HEADER} {m}")).unwrap_or_default())]
    ChunkTooLarge {
        method: Method,
        url: Url,
        max: Option<u64>,
    },
    /// `401`: the hub does not accept this kit.
    #[error(
        "the hub refused this kit (HTTP 401): {reason}; {}",
        unauthorized_hint(reason)
    )]
    Unauthorized { reason: String },
    /// `429` or `503` with `Retry-After`: the hub is busy (its connection caps, this kit's limit
    /// of open uploads) and says when to ask again; asking sooner only adds to its load.
    #[error("{method} {url}: the hub is busy, retry after {} s (HTTP {status}: {reason})", retry_after.as_secs())]
    Busy {
        method: Method,
        url: Url,
        status: u16,
        reason: String,
        /// What `Retry-After` asked for, at most [`super::pacing::MAX_RETRY_AFTER`].
        retry_after: Duration,
    },
    /// `5xx` or `429` (without `Retry-After`): the server is in trouble; try again later.
    #[error("{method} {url}: server error (HTTP {status}): {reason}")]
    Server {
        method: Method,
        url: Url,
        status: u16,
        reason: String,
    },
    /// Any other refusal (`400`, `403` at creation, `412`, `415`, `422`, …).
    #[error("{method} {url}: refused (HTTP {status}): {reason}")]
    Refused {
        method: Method,
        url: Url,
        status: u16,
        reason: String,
    },
    /// The hub presented another TLS certificate than the pinned one.
    #[error(transparent)]
    PinMismatch(#[from] PinMismatch),
    /// An answer that breaks the protocol (a missing or unreadable header).
    #[error("{method} {url}: not a tus 1.0.0 answer: {what}")]
    Protocol {
        method: Method,
        url: Url,
        what: String,
    },
}

fn unauthorized_hint(reason: &str) -> &'static str {
    if reason.contains("stale") || reason.contains("time") {
        "check the kit's clock against the hub's"
    } else if reason.contains("replayed") {
        "a request was sent twice; run `jemput upload` again"
    } else if reason.contains("not accepted") {
        "check `jemput config show` for the right hub"
    } else {
        "enroll the kit with the hub, or ask the office whether it was revoked (or check `jemput config show` for the right hub)"
    }
}

impl TusError {
    /// Whether waiting and trying again may help (network trouble, a server error).
    pub fn is_transient(&self) -> bool {
        matches!(self, TusError::Network { .. } | TusError::Server { .. })
    }
}

/// A tus client for one creation endpoint.
#[derive(Debug)]
pub struct TusClient {
    http: reqwest::Client,
    endpoint: Url,
    auth: Option<KitAuth>,
    pin: Option<Arc<PinnedVerifier>>,
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("jemput/", env!("CARGO_PKG_VERSION")))
}

impl TusClient {
    /// A client creating uploads at `endpoint`, signing requests with `auth` when given.
    pub fn new(endpoint: Url, auth: Option<KitAuth>) -> TusClient {
        let http = client_builder()
            .build()
            .expect("the HTTP client builds with rustls");
        TusClient {
            http,
            endpoint,
            auth,
            pin: None,
        }
    }

    /// From now on, `https` connections accept exactly the certificate with this SHA-256 (and
    /// never the WebPKI roots); another certificate fails with [`TusError::PinMismatch`].
    pub fn pin_certificate(&mut self, pin: &CertPin) {
        let (http, verifier) = pin::pinned_client(client_builder(), pin);
        self.http = http;
        self.pin = Some(verifier);
    }

    /// The creation endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    fn request(&self, method: Method, url: &Url, offset: Option<u64>) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method.clone(), url.clone())
            .timeout(BASE_TIMEOUT);
        if method != Method::OPTIONS {
            req = req.header("Tus-Resumable", TUS_VERSION);
        }
        if let Some(o) = offset {
            req = req.header("Upload-Offset", o);
        }
        req
    }

    /// Signs a built request over its method, path and tus headers as they will be sent.
    fn sign(&self, req: &mut reqwest::Request) {
        let Some(a) = &self.auth else { return };
        if req.method() == Method::OPTIONS {
            return;
        }
        let value = {
            let h = req.headers();
            let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
            let request = auth::Request {
                method: req.method().as_str(),
                path: req.url().path(),
                headers: auth::Covered {
                    offset: get("upload-offset"),
                    length: get("upload-length"),
                    metadata: get("upload-metadata"),
                    checksum: get("upload-checksum"),
                },
            };
            auth::sign(
                &a.kit_id,
                &a.key,
                &request,
                jiff::Timestamp::now().as_second(),
            )
        };
        if let Ok(v) = HeaderValue::from_str(&value) {
            req.headers_mut().insert(auth::HEADER, v);
        }
    }

    async fn send(
        &self,
        method: Method,
        url: &Url,
        req: reqwest::RequestBuilder,
    ) -> Result<Response, TusError> {
        let network =
            |source: reqwest::Error| match self.pin.as_ref().and_then(|p| p.take_mismatch()) {
                Some(m) => TusError::PinMismatch(m),
                None => TusError::Network {
                    method: method.clone(),
                    url: url.clone(),
                    source,
                },
            };
        let mut req = req.build().map_err(network)?;
        self.sign(&mut req);
        let resp = self.http.execute(req).await.map_err(network)?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let advertised_chunk = header_u64(resp.headers(), MAX_CHUNK_HEADER).filter(|&m| m > 0);
        let max_size = header_u64(resp.headers(), "tus-max-size");
        let retry_after = header_str(resp.headers(), RETRY_AFTER.as_str())
            .and_then(|v| super::pacing::retry_after(v, jiff::Timestamp::now()));
        // A body that breaks off gives no reason; the status still says what happened.
        let reason = first_line(read_capped(resp, MAX_ERROR_BODY).await.unwrap_or_default());
        let (m, u, code) = (method.clone(), url.clone(), status.as_u16());
        let for_good = match code {
            400 | 403 | 409 | 422 => method == Method::POST,
            _ => false,
        } || (code == 422 && method == Method::PATCH);
        if for_good {
            return Err(TusError::PacketRefused {
                method: m,
                url: u,
                status: code,
                reason,
            });
        }
        Err(match code {
            401 => TusError::Unauthorized { reason },
            404 | 410 => TusError::Gone {
                method: m,
                url: u,
                status: code,
            },
            403 if method != Method::POST => TusError::Gone {
                method: m,
                url: u,
                status: code,
            },
            409 => TusError::Conflict { method: m, url: u },
            460 => TusError::ChecksumMismatch { method: m, url: u },
            413 if method == Method::PATCH => TusError::ChunkTooLarge {
                method: m,
                url: u,
                max: advertised_chunk,
            },
            413 => TusError::TooLarge { max: max_size },
            429 | 503 if retry_after.is_some() => TusError::Busy {
                method: m,
                url: u,
                status: code,
                reason,
                retry_after: retry_after.unwrap_or_default(),
            },
            429 | 500..=599 => TusError::Server {
                method: m,
                url: u,
                status: code,
                reason,
            },
            _ => TusError::Refused {
                method: m,
                url: u,
                status: code,
                reason,
            },
        })
    }

    fn protocol(&self, method: Method, url: &Url, what: impl Into<String>) -> TusError {
        TusError::Protocol {
            method,
            url: url.clone(),
            what: what.into(),
        }
    }

    /// `OPTIONS` on the endpoint: the server's version, extensions and limits.
    pub async fn options(&self) -> Result<Capabilities, TusError> {
        let url = &self.endpoint;
        let req = self.request(Method::OPTIONS, url, None);
        let resp = self.send(Method::OPTIONS, url, req).await?;
        let caps = Capabilities::from_headers(resp.headers());
        if !caps.versions.iter().any(|v| v == TUS_VERSION) {
            return Err(self.protocol(
                Method::OPTIONS,
                url,
                format!(
                    "the server does not speak tus {TUS_VERSION} (Tus-Version: {:?}); is this the upload endpoint?",
                    caps.versions.join(",")
                ),
            ));
        }
        Ok(caps)
    }

    /// Creates an upload of `length` bytes with `Upload-Metadata` built from `metadata`
    /// (values base64-encoded here).
    pub async fn create(
        &self,
        length: u64,
        metadata: &[(&str, &[u8])],
    ) -> Result<Creation, TusError> {
        let url = &self.endpoint;
        let meta = tus::encode_metadata(metadata);
        let mut req = self
            .request(Method::POST, url, None)
            .header("Upload-Length", length)
            .body(Vec::new());
        if !meta.is_empty() {
            req = req.header("Upload-Metadata", meta);
        }
        let resp = self.send(Method::POST, url, req).await?;
        let max_chunk = header_u64(resp.headers(), MAX_CHUNK_HEADER).filter(|&m| m > 0);
        let receipt = header_str(resp.headers(), RECEIPT_HEADER).map(str::to_owned);
        if resp.status() == StatusCode::OK && receipt.is_some() {
            return Ok(Creation::AlreadyHeld { receipt });
        }
        let location = header_str(resp.headers(), LOCATION.as_str())
            .ok_or_else(|| self.protocol(Method::POST, url, "no Location in the answer"))?;
        let upload = url.join(location).map_err(|e| {
            self.protocol(Method::POST, url, format!("bad Location {location:?}: {e}"))
        })?;
        Ok(Creation::Created {
            url: upload,
            max_chunk,
        })
    }

    /// `HEAD` of an upload: the server's offset (the truth on resume) and length.
    pub async fn head(&self, upload: &Url) -> Result<Position, TusError> {
        let req = self
            .request(Method::HEAD, upload, None)
            .header("Cache-Control", "no-store");
        let resp = self.send(Method::HEAD, upload, req).await?;
        let offset = header_u64(resp.headers(), "upload-offset")
            .ok_or_else(|| self.protocol(Method::HEAD, upload, "no Upload-Offset"))?;
        Ok(Position {
            offset,
            length: header_u64(resp.headers(), "upload-length"),
        })
    }

    /// `PATCH` of `chunk` at `offset`, with its checksum when `checksum` is given.
    pub async fn patch(
        &self,
        upload: &Url,
        offset: u64,
        chunk: Bytes,
        checksum: Option<ChecksumAlgorithm>,
    ) -> Result<Patched, TusError> {
        let timeout =
            BASE_TIMEOUT + Duration::from_secs(chunk.len() as u64 / SLOWEST_BYTES_PER_SEC);
        let mut req = self
            .request(Method::PATCH, upload, Some(offset))
            .timeout(timeout)
            .header(CONTENT_TYPE, HeaderValue::from_static(OFFSET_OCTET_STREAM));
        if let Some(alg) = checksum {
            req = req.header("Upload-Checksum", alg.header_value(&chunk));
        }
        let resp = self.send(Method::PATCH, upload, req.body(chunk)).await?;
        let new = header_u64(resp.headers(), "upload-offset")
            .ok_or_else(|| self.protocol(Method::PATCH, upload, "no Upload-Offset"))?;
        Ok(Patched {
            offset: new,
            receipt: header_str(resp.headers(), RECEIPT_HEADER).map(str::to_owned),
        })
    }

    /// Terminates an upload (`DELETE`).
    pub async fn delete(&self, upload: &Url) -> Result<(), TusError> {
        let req = self.request(Method::DELETE, upload, None);
        self.send(Method::DELETE, upload, req).await.map(drop)
    }

    /// The hub's receipt lookup for a packet: `GET /v1/receipts/{packet_id}` beside the
    /// `/v1/uploads` endpoint. `Ok(None)` when the hub has no verified packet of that id, or when
    /// the endpoint is not a jemput hub's (a plain tus server has no receipts).
    pub async fn receipt(&self, packet_id: &str) -> Result<Option<String>, TusError> {
        let Some(url) = receipts_url(&self.endpoint, packet_id) else {
            return Ok(None);
        };
        let req = self.request(Method::GET, &url, None);
        match self.send(Method::GET, &url, req).await {
            Ok(resp) => read_capped(resp, MAX_RECEIPT_BODY)
                .await
                .map(Some)
                .map_err(|source| TusError::Network {
                    method: Method::GET,
                    url,
                    source,
                }),
            Err(TusError::Gone { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `…/v1/receipts/<id>` for an endpoint ending in `/v1/uploads`; `None` for other endpoints.
pub fn receipts_url(endpoint: &Url, packet_id: &str) -> Option<Url> {
    let path = endpoint.path().trim_end_matches('/');
    let base = path.strip_suffix("/v1/uploads")?;
    let mut url = endpoint.clone();
    url.set_path(&format!("{base}/v1/receipts/{packet_id}"));
    url.set_query(None);
    Some(url)
}

/// At most `limit` bytes of a body, as text (lossy). The rest is never read: a server cannot make
/// the kit hold more than `limit` bytes of it.
pub async fn read_capped(resp: Response, limit: usize) -> Result<String, reqwest::Error> {
    let body = read_capped_bytes(resp, limit).await?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// At most `limit` bytes of a body; the rest is never read.
pub async fn read_capped_bytes(
    mut resp: Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while body.len() < limit {
        match resp.chunk().await? {
            Some(c) => body.extend_from_slice(&c[..c.len().min(limit - body.len())]),
            None => break,
        }
    }
    Ok(body)
}

/// The first line of an error body, at most 200 characters (hubs answer with a one-line reason).
fn first_line(body: String) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    let mut s: String = line.chars().take(200).collect();
    if s.is_empty() {
        s.push_str("no reason given");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_checksum_is_blake3_then_sha256_when_offered_sha1_otherwise_and_none_without_the_extension(
    ) {
        let jemput = Capabilities::from_headers(&headers(&[
            ("Tus-Extension", "checksum"),
            (
                "Tus-Checksum-Algorithm",
                jemput_core::wire::tus::CHECKSUM_ALGORITHMS,
            ),
        ]));
        assert_eq!(jemput.checksum(), Some(ChecksumAlgorithm::Blake3));
        let hub = Capabilities::from_headers(&headers(&[
            ("Tus-Version", "1.0.0"),
            ("Tus-Extension", "creation,termination,checksum,expiration"),
            ("Tus-Checksum-Algorithm", "sha1, sha256"),
            ("Tus-Max-Size", "16777216"),
        ]));
        assert_eq!(hub.checksum(), Some(ChecksumAlgorithm::Sha256));
        assert_eq!(hub.max_size, Some(16 << 20));
        assert!(hub.supports("termination"));
        let sha1_only = Capabilities::from_headers(&headers(&[
            ("Tus-Extension", "checksum"),
            ("Tus-Checksum-Algorithm", "md5,sha1"),
        ]));
        assert_eq!(sha1_only.checksum(), Some(ChecksumAlgorithm::Sha1));
        // @tus/server: no checksum extension at all.
        let node = Capabilities::from_headers(&headers(&[(
            "Tus-Extension",
            "creation,creation-with-upload,termination,creation-defer-length,expiration",
        )]));
        assert_eq!(node.checksum(), None);
    }

    #[test]
    fn checksum_headers_match_the_tus_specification_example() {
        // tus 1.0.0 checksum extension: body "hello world".
        assert_eq!(
            ChecksumAlgorithm::Sha1.header_value(b"hello world"),
            "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="
        );
        assert_eq!(
            ChecksumAlgorithm::Sha256.header_value(b"hello world"),
            "sha256 uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
        );
    }

    #[test]
    fn receipts_live_beside_the_hub_upload_endpoint_only() {
        let hub: Url = "http://10.0.0.2:8080/v1/uploads".parse().unwrap();
        assert_eq!(
            receipts_url(&hub, "p1").unwrap().as_str(),
            "http://10.0.0.2:8080/v1/receipts/p1"
        );
        let proxied: Url = "https://x.example/jemput/v1/uploads/".parse().unwrap();
        assert_eq!(
            receipts_url(&proxied, "p1").unwrap().as_str(),
            "https://x.example/jemput/v1/receipts/p1"
        );
        let plain: Url = "http://127.0.0.1:1080/files/".parse().unwrap();
        assert_eq!(receipts_url(&plain, "p1"), None);
    }

    #[test]
    fn error_bodies_are_cut_to_one_line() {
        assert_eq!(first_line("unknown kit\nmore".into()), "unknown kit");
        assert_eq!(first_line(String::new()), "no reason given");
        assert_eq!(first_line("x".repeat(500)).len(), 200);
    }
}

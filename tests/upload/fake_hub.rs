//! A fake hub: enough of `docs/hub-protocol.md` to exercise the kit's receipt and error paths
//! (signed or forged receipts, a packet already held, `409`, `460`, `413`, `401`, a busy `429`/`503`
//! with `Retry-After`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jemput_core::keys::{PublicKey, SigningKey};
use jemput_core::wire::auth::{self, AuthHeader};
use jemput_core::wire::receipt::{Receipt, ReceiptBody};
use sha2::{Digest, Sha256};

use super::Kit;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    Normal,
    AlreadyHeld,
    Status(u16),
    /// This status (`429`, `503`) with this `Retry-After`: a busy hub.
    Busy(u16, &'static str),
}

pub struct FakeHub {
    pub kit_key: PublicKey,
    pub receipt_key: SigningKey,
    pub creation: Creation,
    pub patch_faults: VecDeque<u16>,
    pub header: Option<jemput_core::packet::Header>,
    pub data: Vec<u8>,
    pub length: u64,
    pub checksums: Vec<String>,
    pub requests: Vec<String>,
    /// Bodies over this many bytes are refused with `413` (a hub's or a proxy's limit).
    pub max_body: Option<usize>,
    /// Whether `OPTIONS` advertises `max_body` as `Jemput-Max-Chunk` (a hub does, a proxy not).
    pub advertise: bool,
    /// The size of every `PATCH` body received, refused ones included.
    pub chunk_sizes: Vec<usize>,
    /// Set this flag once this many `PATCH`es were applied (a kit asked to stop mid-upload).
    pub stop_after: Option<(usize, Arc<std::sync::atomic::AtomicBool>)>,
}

pub type Hub = Arc<Mutex<FakeHub>>;

fn reply(status: u16, headers: &[(&str, String)]) -> Response {
    let mut r = Response::builder()
        .status(status)
        .header("Tus-Resumable", "1.0.0");
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.body(axum::body::Body::empty()).unwrap()
}

impl FakeHub {
    fn receipt(&self) -> String {
        let h = self.header.as_ref().unwrap();
        let body = ReceiptBody {
            receipt_version: 1,
            hub_id: "hub-fake".into(),
            packet_id: h.packet_id.clone(),
            kit_id: h.kit_id.clone(),
            payload_sha256: h.payload_sha256.clone(),
            size: self.length,
            received_at: jiff::Timestamp::now(),
        };
        Receipt::sign(&body, &self.receipt_key).to_header_value()
    }

    /// Checks `Jemput-Auth` as a hub does (signature over method, path and tus headers); `Some(401)`
    /// when it fails.
    fn auth(&mut self, method: &str, path: &str, headers: &HeaderMap) -> Option<Response> {
        self.requests.push(method.to_owned());
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let request = auth::Request {
            method,
            path,
            headers: auth::Covered {
                offset: get("upload-offset"),
                length: get("upload-length"),
                metadata: get("upload-metadata"),
                checksum: get("upload-checksum"),
            },
        };
        let ok = get("jemput-auth")
            .and_then(|v| AuthHeader::parse(v).ok())
            .is_some_and(|a| {
                a.verify(&self.kit_key, &request, jiff::Timestamp::now().as_second())
                    .is_ok()
            });
        (!ok).then(|| (StatusCode::UNAUTHORIZED, "bad signature").into_response())
    }
}

async fn hub_options(AxState(hub): AxState<Hub>) -> Response {
    let h = hub.lock().unwrap();
    let mut headers = vec![
        ("Tus-Version", "1.0.0".into()),
        ("Tus-Extension", "creation,termination,checksum".into()),
        ("Tus-Checksum-Algorithm", "sha1,sha256".into()),
    ];
    if let (true, Some(m)) = (h.advertise, h.max_body) {
        headers.push(("Jemput-Max-Chunk", m.to_string()));
    }
    reply(204, &headers)
}

async fn hub_create(AxState(hub): AxState<Hub>, headers: HeaderMap) -> Response {
    let mut h = hub.lock().unwrap();
    if let Some(r) = h.auth("POST", "/v1/uploads", &headers) {
        return r;
    }
    let meta = headers["upload-metadata"].to_str().unwrap();
    let prelude = B64.decode(meta.strip_prefix("packet ").unwrap()).unwrap();
    h.header = Some(
        jemput_core::packet::format::parse_prelude(&prelude)
            .unwrap()
            .header,
    );
    h.length = headers["upload-length"].to_str().unwrap().parse().unwrap();
    match h.creation {
        Creation::Status(401) => (StatusCode::UNAUTHORIZED, "revoked kit").into_response(),
        Creation::Status(s) => reply(s, &[]),
        Creation::Busy(s, after) => reply(s, &[("Retry-After", after.into())]),
        Creation::AlreadyHeld => reply(200, &[("Jemput-Receipt", h.receipt())]),
        Creation::Normal => reply(201, &[("Location", "/v1/uploads/u1".into())]),
    }
}

async fn hub_head(AxState(hub): AxState<Hub>, headers: HeaderMap) -> Response {
    let mut h = hub.lock().unwrap();
    if let Some(r) = h.auth("HEAD", "/v1/uploads/u1", &headers) {
        return r;
    }
    reply(
        200,
        &[
            ("Upload-Offset", h.data.len().to_string()),
            ("Upload-Length", h.length.to_string()),
            ("Cache-Control", "no-store".into()),
        ],
    )
}

async fn hub_patch(AxState(hub): AxState<Hub>, headers: HeaderMap, body: Bytes) -> Response {
    let mut h = hub.lock().unwrap();
    if let Some(r) = h.auth("PATCH", "/v1/uploads/u1", &headers) {
        return r;
    }
    let checksum = headers["upload-checksum"].to_str().unwrap().to_owned();
    let want = format!("sha256 {}", B64.encode(Sha256::digest(&body)));
    assert_eq!(checksum, want, "the kit sends the sha256 of each chunk");
    h.checksums.push(checksum);
    h.chunk_sizes.push(body.len());
    if h.max_body.is_some_and(|m| body.len() > m) {
        return reply(413, &[]);
    }
    if let Some(fault) = h.patch_faults.pop_front() {
        return reply(fault, &[]);
    }
    let offset: usize = headers["upload-offset"].to_str().unwrap().parse().unwrap();
    if offset != h.data.len() {
        return reply(409, &[]);
    }
    h.data.extend_from_slice(&body);
    let applied = h.chunk_sizes.len();
    if let Some((n, flag)) = &h.stop_after {
        if applied >= *n {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let mut extra = vec![("Upload-Offset", h.data.len().to_string())];
    if h.data.len() as u64 == h.length {
        extra.push(("Jemput-Receipt", h.receipt()));
    }
    reply(204, &extra)
}

pub async fn start_hub(
    kit: &Kit,
    receipt_key: SigningKey,
    creation: Creation,
    faults: &[u16],
) -> (String, Hub) {
    let hub = Arc::new(Mutex::new(FakeHub {
        kit_key: kit.key.public(),
        receipt_key,
        creation,
        patch_faults: faults.iter().copied().collect(),
        header: None,
        data: Vec::new(),
        length: 0,
        checksums: Vec::new(),
        requests: Vec::new(),
        max_body: None,
        advertise: false,
        chunk_sizes: Vec::new(),
        stop_after: None,
    }));
    let app = axum::Router::new()
        .route("/v1/uploads", post(hub_create).options(hub_options))
        .route(
            "/v1/uploads/u1",
            axum::routing::head(hub_head).patch(hub_patch),
        )
        .with_state(hub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}"), hub)
}

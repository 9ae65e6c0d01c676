//! The hub under bad input, over real HTTP on loopback: every kind of bad request at once, next to
//! good uploads that must still go through. Each bad request gets its precise status and reason,
//! nothing of it is stored as accepted (no packet file, no receipt row), and the good packets end
//! byte-identical with receipts that verify. Also the requests that never reach a handler: a head
//! that stalls, bytes that are not HTTP, headers too large for any request.
//!
//! The single refusals are specified one by one in `tests/hub.rs`; this file is about all of them
//! together, and about the transport.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::packet::parse_prelude;
use jemput_core::wire::auth;
use jemput_core::wire::receipt::Receipt;
use jemput_hub::{HubConfig, HubHandle, Registry};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A kit's request being built: signed over what it carries when it is sent.
struct KitRequest<'a> {
    h: &'a Hub,
    kit: &'a str,
    b: reqwest::RequestBuilder,
}

impl KitRequest<'_> {
    fn header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.b = self.b.header(name, value.as_ref());
        self
    }

    fn body(mut self, body: impl Into<reqwest::Body>) -> Self {
        self.b = self.b.body(body);
        self
    }

    async fn send(self) -> reqwest::Result<reqwest::Response> {
        let req = signed(self.b, self.kit, self.h.key(self.kit));
        self.h.http.execute(req).await
    }
}

const KIT_A: &str = "kit-a";
const KIT_B: &str = "kit-b";

struct Hub {
    hub: HubHandle,
    data: PathBuf,
    a: SigningKey,
    b: SigningKey,
    recipient: String,
    http: reqwest::Client,
    /// The hub's state backend (`JEMPUT_TEST_HUB_BACKEND`); dropped after the hub.
    backend: HubBackend,
    _dir: tempfile::TempDir,
}

/// A hub on loopback with two registered kits.
fn start(tune: impl FnOnce(&mut HubConfig)) -> Hub {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let (mut config, backend) = init_hub(&data);
    tune(&mut config);
    config.save(&data).unwrap();
    let (a, b) = (SigningKey::generate(), SigningKey::generate());
    register_kit(&data, KIT_A, &a.public(), None);
    register_kit(&data, KIT_B, &b.public(), None);
    Hub {
        hub: jemput_hub::spawn_local(&data).unwrap(),
        data,
        a,
        b,
        recipient: office().keys.recipient,
        http: client_for(&config),
        backend,
        _dir: dir,
    }
}

/// A client whose pooled connections stay idle for less than the hub's idle timeout: a hub that
/// closes one just as it is reused fails that request (IncompleteMessage), which the tests with a
/// one-second idle timeout would hit now and then.
fn client_for(config: &HubConfig) -> reqwest::Client {
    let idle = Duration::from_millis(config.idle_timeout_secs.saturating_mul(1000) / 2);
    reqwest::Client::builder()
        .pool_idle_timeout(idle)
        .build()
        .unwrap()
}

fn metadata(packet: &[u8]) -> String {
    let end = parse_prelude(packet).unwrap().payload_offset;
    format!("packet {}", B64.encode(&packet[..end]))
}

fn packet_id(packet: &[u8]) -> String {
    parse_prelude(packet).unwrap().header.packet_id
}

/// What a bad request got: status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    async fn of(r: reqwest::Response) -> Answer {
        Answer {
            status: r.status().as_u16(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    fn expect(&self, status: u16, says: &str, what: &str) {
        assert_eq!(self.status, status, "{what}: {self:?}");
        assert!(
            self.body.contains(says),
            "{what}: {:?} should say {says:?}",
            self.body
        );
    }
}

impl Hub {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub.url)
    }

    fn key(&self, kit: &str) -> &SigningKey {
        if kit == KIT_A {
            &self.a
        } else {
            &self.b
        }
    }

    /// A request of `kit` at `path` with `Upload-Offset` when given; signed when sent.
    fn request<'a>(
        &'a self,
        kit: &'a str,
        method: Method,
        path: &str,
        offset: Option<u64>,
    ) -> KitRequest<'a> {
        let mut b = self
            .http
            .request(method, self.url(path))
            .header("Tus-Resumable", "1.0.0");
        if let Some(o) = offset {
            b = b.header("Upload-Offset", o.to_string());
        }
        KitRequest { h: self, kit, b }
    }

    fn packet(&self, kit: &str, payload: &[u8]) -> Vec<u8> {
        resign(self.key(kit), kit, &self.recipient, payload)
    }

    async fn create(&self, kit: &str, packet: &[u8]) -> reqwest::Response {
        self.request(kit, Method::POST, "/v1/uploads", None)
            .header("Upload-Length", packet.len().to_string())
            .header("Upload-Metadata", metadata(packet))
            .send()
            .await
            .unwrap()
    }

    async fn created(&self, kit: &str, packet: &[u8]) -> String {
        let r = self.create(kit, packet).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.headers()["location"].to_str().unwrap().to_string()
    }

    /// A `PATCH` with `checksum`, or else the chunk's own sha256 (every PATCH carries one).
    async fn patch(
        &self,
        kit: &str,
        loc: &str,
        offset: u64,
        chunk: &[u8],
        checksum: Option<String>,
    ) -> reqwest::Response {
        let checksum =
            checksum.unwrap_or_else(|| format!("sha256 {}", B64.encode(Sha256::digest(chunk))));
        self.request(kit, Method::PATCH, loc, Some(offset))
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Checksum", checksum)
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap()
    }

    async fn head_offset(&self, kit: &str, loc: &str) -> u64 {
        let r = self
            .request(kit, Method::HEAD, loc, None)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Uploads `packet` in chunks of `chunk` bytes; returns the verified receipt.
    async fn upload(&self, kit: &str, packet: &[u8], chunk: usize) -> Receipt {
        let loc = self.created(kit, packet).await;
        let mut at = 0;
        loop {
            let end = (at + chunk).min(packet.len());
            let r = self
                .patch(kit, &loc, at as u64, &packet[at..end], None)
                .await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT, "good upload at {at}");
            if end == packet.len() {
                let v = r.headers()["jemput-receipt"].to_str().unwrap();
                let receipt = Receipt::from_header_value(v).unwrap();
                let h = parse_prelude(packet).unwrap().header;
                receipt
                    .verify_for(&self.hub.hub_key, &h.packet_id, &h.payload_sha256)
                    .unwrap();
                return receipt;
            }
            at = end;
        }
    }

    /// The rows of a query of the hub's database, columns joined by `|`: read from
    /// `hub.sqlite`, or with `psql` on the scale-out backend (the same SQL runs on both).
    fn query(&self, sql: &str) -> Vec<String> {
        if let Some(pg) = &self.backend.pg {
            let text = pg.psql(sql).unwrap();
            return text.lines().map(str::to_string).collect();
        }
        let db = rusqlite::Connection::open(self.data.join(jemput_hub::DB_FILE)).unwrap();
        let mut q = db.prepare(sql).unwrap();
        let n = q.column_count();
        let rows = q
            .query_map([], |r| {
                let cols: Vec<String> = (0..n)
                    .map(|i| match r.get_ref(i).unwrap() {
                        rusqlite::types::ValueRef::Null => String::new(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                        other => panic!("unexpected column {other:?}"),
                    })
                    .collect();
                Ok(cols.join("|"))
            })
            .unwrap();
        rows.map(|r| r.unwrap()).collect()
    }

    /// `SELECT count(*) …` of the hub's database.
    fn count(&self, sql: &str) -> i64 {
        self.query(sql)[0].parse().unwrap()
    }

    /// Packet ids that have a receipt row in the hub database.
    fn receipt_rows(&self) -> Vec<String> {
        self.query("SELECT packet_id FROM receipts ORDER BY packet_id")
    }

    /// Whether the hub holds received bytes of upload `id`: its `.part` file in the embedded
    /// backend, rows of `upload_chunks` in PostgreSQL.
    fn staged(&self, id: &str) -> bool {
        if self.backend.pg.is_some() {
            return self.count(&format!(
                "SELECT count(*) FROM upload_chunks WHERE upload_id = '{id}'"
            )) > 0;
        }
        self.data
            .join(jemput_hub::UPLOADS_DIR)
            .join(format!("{id}.part"))
            .exists()
    }

    /// Packet files the hub holds, by packet id.
    fn packet_files(&self) -> Vec<String> {
        let mut v: Vec<String> = walk(&self.data.join(jemput_hub::PACKETS_DIR))
            .into_iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Sends `bytes` on a fresh connection, then reads until the hub closes it (or `wait` ends).
    /// Sends `bytes` on a fresh connection and reads until the hub closes it or `wait` passes:
    /// what came back, and whether the hub closed the connection (end of stream or a reset).
    async fn raw(&self, bytes: &[u8], wait: Duration) -> (String, bool) {
        let mut s = tokio::net::TcpStream::connect(self.hub.addr).await.unwrap();
        s.write_all(bytes).await.unwrap();
        let mut answer = Vec::new();
        let closed = match tokio::time::timeout(wait, s.read_to_end(&mut answer)).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => true,
            Ok(Err(e)) => panic!("reading the hub's answer: {e}"),
            Err(_) => false,
        };
        (String::from_utf8_lossy(&answer).into_owned(), closed)
    }
}

/// Every bad request of one kind: runs it against the hub and checks the answer. Returns the
/// packet ids it tried to get stored (none may be).
async fn bad_requests(h: &Hub, round: u32) -> Vec<String> {
    let mut tried = Vec::new();

    // Forged header: the declared payload length changed without re-signing.
    let mut forged = h.packet(KIT_A, &noise(3000, round));
    let p = parse_prelude(&forged).unwrap();
    let text = String::from_utf8(p.header_bytes.clone()).unwrap();
    let changed = text.replace("\"payload_length\":3000", "\"payload_length\":3001");
    let start = jemput_core::packet::MAGIC.len() + 4;
    forged.splice(start..start + text.len(), changed.bytes());
    forged.push(0);
    tried.push(packet_id(&forged));
    Answer::of(h.create(KIT_A, &forged).await).await.expect(
        422,
        "forged or damaged packet header",
        "forged header",
    );

    // Damaged header: one bit of the signature flipped.
    let mut damaged = h.packet(KIT_A, &noise(3000, round + 1));
    let end = parse_prelude(&damaged).unwrap().payload_offset;
    damaged[end - 1] ^= 0x01;
    tried.push(packet_id(&damaged));
    Answer::of(h.create(KIT_A, &damaged).await).await.expect(
        422,
        "outer signature",
        "damaged header",
    );

    // An unknown kit, signing with its own key.
    let stranger = SigningKey::generate();
    let pkt = resign(&stranger, "kit-x", &h.recipient, &noise(2000, round + 2));
    tried.push(packet_id(&pkt));
    let b = h
        .http
        .post(h.url("/v1/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", pkt.len().to_string())
        .header("Upload-Metadata", metadata(&pkt));
    let r = h.http.execute(signed(b, "kit-x", &stranger)).await.unwrap();
    Answer::of(r)
        .await
        .expect(401, "not accepted: kit kit-x", "unknown kit");

    // Kit B's packet replayed under kit A's authentication.
    let of_b = h.packet(KIT_B, &noise(2000, round + 3));
    tried.push(packet_id(&of_b));
    Answer::of(h.create(KIT_A, &of_b).await).await.expect(
        403,
        "sealed by kit kit-b",
        "another kit's packet",
    );

    // Wrong Upload-Length, and one over Tus-Max-Size.
    let pkt = h.packet(KIT_A, &noise(2000, round + 4));
    tried.push(packet_id(&pkt));
    for (len, status, says) in [
        (pkt.len() + 1, 400, "does not match the header"),
        (pkt.len() - 1, 400, "does not match the header"),
        (
            h.config_max() as usize + 1,
            413,
            "over this hub's Tus-Max-Size",
        ),
    ] {
        let r = h
            .request(KIT_A, Method::POST, "/v1/uploads", None)
            .header("Upload-Length", len.to_string())
            .header("Upload-Metadata", metadata(&pkt))
            .send()
            .await
            .unwrap();
        Answer::of(r).await.expect(status, says, "Upload-Length");
    }

    // Malformed and oversized metadata.
    let big = format!(
        "packet {}",
        B64.encode(vec![1u8; jemput_core::wire::tus::MAX_METADATA_LEN])
    );
    for (meta, says) in [
        ("packet", "no `packet` value"),
        ("packet ****", "not base64"),
        ("packet aGk=,packet aGk=", "given twice"),
        ("packet aGVsbG8gd29ybGQ=", "not a packet prelude"),
        (big.as_str(), "over the limit"),
    ] {
        let r = h
            .request(KIT_A, Method::POST, "/v1/uploads", None)
            .header("Upload-Length", "5000")
            .header("Upload-Metadata", meta)
            .send()
            .await
            .unwrap();
        Answer::of(r).await.expect(400, says, "metadata");
    }

    // A real upload of kit A that then gets wrong offsets, bad checksums and a garbage body.
    let pkt = h.packet(KIT_A, &noise(6000, round + 5));
    let id = packet_id(&pkt);
    tried.push(id.clone());
    let loc = h.created(KIT_A, &pkt).await;
    assert_eq!(
        h.patch(KIT_A, &loc, 0, &pkt[..1000], None).await.status(),
        204
    );
    let r = h.patch(KIT_A, &loc, 700, &pkt[700..2000], None).await;
    assert_eq!(
        r.headers()["upload-offset"],
        "1000",
        "a 409 names the offset"
    );
    Answer::of(r)
        .await
        .expect(409, "HEAD and resume", "wrong offset");
    let wrong = format!("sha256 {}", B64.encode(Sha256::digest(b"not this chunk")));
    Answer::of(
        h.patch(KIT_A, &loc, 1000, &pkt[1000..3000], Some(wrong))
            .await,
    )
    .await
    .expect(460, "checksum mismatch", "bad checksum");
    // Kit B cannot see or touch kit A's upload.
    Answer::of(h.patch(KIT_B, &loc, 1000, &pkt[1000..3000], None).await)
        .await
        .expect(404, "no such upload", "another kit's upload");
    // A captured request signature does not carry over to another offset.
    let sum = format!("sha256 {}", B64.encode(Sha256::digest(&pkt[1001..2000])));
    let captured = {
        let b = h
            .http
            .patch(h.url(&loc))
            .header("Upload-Offset", "1000")
            .header("Upload-Checksum", &sum);
        signed(b, KIT_A, &h.a).headers()[auth::HEADER].clone()
    };
    let r = h
        .http
        .patch(h.url(&loc))
        .header("Tus-Resumable", "1.0.0")
        .header(auth::HEADER, captured)
        .header("Upload-Offset", "1001")
        .header("Upload-Checksum", &sum)
        .header("Content-Type", "application/offset+octet-stream")
        .body(pkt[1001..2000].to_vec())
        .send()
        .await
        .unwrap();
    Answer::of(r)
        .await
        .expect(401, "not accepted: kit kit-a", "replayed request signature");
    assert_eq!(h.head_offset(KIT_A, &loc).await, 1000);
    // The rest as garbage of the right length: refused at completion, upload gone.
    let garbage = noise(pkt.len() - 1000, round + 99);
    Answer::of(h.patch(KIT_A, &loc, 1000, &garbage, None).await)
        .await
        .expect(422, "SHA-256 does not match", "garbage body");
    let r = h
        .request(KIT_A, Method::HEAD, &loc, None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE, "a refused upload is gone");

    // Ids with path traversal, on uploads and receipts.
    for path in [
        "/v1/uploads/..%2F..%2Fhub.toml",
        "/v1/uploads/%2e%2e%2fhub.ed25519",
        "/v1/uploads/....%2f",
    ] {
        let r = h
            .request(KIT_A, Method::PATCH, path, Some(0))
            .header("Content-Type", "application/offset+octet-stream")
            .body(b"hub_id = \"hub-evil\"\n".to_vec())
            .send()
            .await
            .unwrap();
        Answer::of(r).await.expect(404, "no such upload", path);
    }
    for path in [
        "/v1/receipts/..%2Fhub.toml",
        "/v1/receipts/%2e%2e%2f%2e%2e%2fhub.sqlite",
    ] {
        let r = h
            .request(KIT_A, Method::GET, path, None)
            .send()
            .await
            .unwrap();
        Answer::of(r)
            .await
            .expect(404, "holds no verified packet", path);
    }
    tried
}

impl Hub {
    fn config_max(&self) -> u64 {
        HubConfig::load(&self.data).unwrap().max_size
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_request_at_once_is_refused_precisely_while_good_uploads_go_through() {
    let h = std::sync::Arc::new(start(|c| {
        c.max_size = 1 << 20;
        c.idle_timeout_secs = 2;
    }));
    let files_before = walk(&h.data.join(jemput_hub::PACKETS_DIR));
    assert!(files_before.is_empty());

    // Stalled clients first: one mid-head, one mid-body; they must not hold anyone up.
    let pkt = h.packet(KIT_A, &noise(4000, 7));
    let stalled_loc = h.created(KIT_A, &pkt).await;
    let mut mid_body = tokio::net::TcpStream::connect(h.hub.addr).await.unwrap();
    let sum = format!("sha256 {}", B64.encode(Sha256::digest(&pkt[..4000])));
    let a = {
        let b = h
            .http
            .patch(h.url(&stalled_loc))
            .header("Upload-Offset", "0")
            .header("Upload-Checksum", &sum);
        signed(b, KIT_A, &h.a).headers()[auth::HEADER].clone()
    };
    let head = format!(
        "PATCH {stalled_loc} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n{}: {}\r\n\
         Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\
         Upload-Checksum: {sum}\r\nContent-Length: 4000\r\n\r\n",
        auth::HEADER,
        a.to_str().unwrap()
    );
    mid_body.write_all(head.as_bytes()).await.unwrap();
    mid_body.write_all(&pkt[..1234]).await.unwrap();
    let mut mid_head = tokio::net::TcpStream::connect(h.hub.addr).await.unwrap();
    mid_head
        .write_all(b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nTus-Resum")
        .await
        .unwrap();

    let mut good = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..4u32 {
        let kit = if i % 2 == 0 { KIT_A } else { KIT_B };
        let packet = h.packet(kit, &noise(20_000 + 5000 * i as usize, 100 + i));
        good.push(packet.clone());
        let h = h.clone();
        tasks.spawn(async move {
            h.upload(kit, &packet, 4096).await;
            Vec::new()
        });
    }
    for round in 0..3u32 {
        let h = h.clone();
        tasks.spawn(async move { bad_requests(&h, round * 10).await });
    }
    let mut tried = Vec::new();
    while let Some(r) = tasks.join_next().await {
        tried.extend(r.unwrap());
    }

    // The hub ended the stalled body after its idle timeout; a chunk that cannot be checked
    // against its checksum is not kept.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), mid_body.read_to_end(&mut answer))
        .await
        .expect("the hub ends a stalled body")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"));
    assert_eq!(h.head_offset(KIT_A, &stalled_loc).await, 0);
    drop(mid_head);

    let mut want: Vec<String> = good.iter().map(|p| packet_id(p)).collect();
    want.sort();
    assert_eq!(h.receipt_rows(), want, "receipts for the good packets only");
    assert_eq!(
        h.packet_files(),
        want,
        "packet files of the good packets only"
    );
    for id in &tried {
        assert!(!want.contains(id));
    }
    for p in &good {
        let stored = h
            .data
            .join(jemput_hub::PACKETS_DIR)
            .join(format!("{}.jpk", packet_id(p)));
        assert_eq!(&std::fs::read(stored).unwrap(), p, "byte-identical");
    }
}

#[tokio::test]
async fn a_request_time_at_the_ends_of_the_integer_range_is_stale_not_a_crash() {
    let h = start(|_| {});
    let pkt = h.packet(KIT_A, &noise(2000, 1));
    for t in [i64::MIN, i64::MIN + 1, i64::MAX, -1] {
        let mut req = h
            .http
            .post(h.url("/v1/uploads"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", pkt.len().to_string())
            .header("Upload-Metadata", metadata(&pkt))
            .build()
            .unwrap();
        let a = auth_for(&req, KIT_A, &h.a, t, &auth::new_nonce());
        req.headers_mut().insert(auth::HEADER, a.parse().unwrap());
        let r = h
            .http
            .execute(req)
            .await
            .unwrap_or_else(|e| panic!("t={t}: the hub dropped the request: {e}"));
        Answer::of(r)
            .await
            .expect(401, "stale request time", &format!("t={t}"));
    }
    h.upload(KIT_A, &pkt, 1000).await;
}

#[tokio::test]
async fn bytes_that_are_not_http_get_400_and_the_connection_is_closed() {
    let h = start(|_| {});
    for junk in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not a TLS hello really\r\n\r\n"[..],
        b"GARBAGE\r\n\r\n",
        b"PATCH /v1/uploads/x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"PATCH /v1/uploads/x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"PATCH /v1/uploads/x HTTP/1.1\r\nHo st: x\r\n\r\n",
    ] {
        let (answer, closed) = h.raw(junk, Duration::from_secs(5)).await;
        assert!(
            answer.starts_with("HTTP/1.1 400"),
            "{:?} got {answer:?}",
            String::from_utf8_lossy(junk)
        );
        assert!(
            closed,
            "{:?}: the hub kept the connection open for 5 s after its 400",
            String::from_utf8_lossy(junk)
        );
    }
    // The check can tell the difference: a well-formed request is answered on a connection the
    // hub keeps open.
    let (answer, closed) = h
        .raw(
            b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n",
            Duration::from_secs(1),
        )
        .await;
    assert!(answer.starts_with("HTTP/1.1 "), "{answer:?}");
    assert!(!closed, "a well-formed request's connection was closed");
    let pkt = h.packet(KIT_A, &noise(3000, 2));
    h.upload(KIT_A, &pkt, 3000).await;
}

#[tokio::test]
async fn headers_too_large_for_any_request_get_431_and_the_hub_serves_on() {
    let h = start(|_| {});
    // Past the HTTP layer's buffer (about 400 KiB): refused before a handler runs.
    let huge = format!(
        "POST /v1/uploads HTTP/1.1\r\nHost: x\r\nUpload-Metadata: packet {}\r\n\r\n",
        "A".repeat(600 * 1024)
    );
    let (answer, _) = h.raw(huge.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    // Too many header lines.
    let mut many = String::from("POST /v1/uploads HTTP/1.1\r\nHost: x\r\n");
    for i in 0..200 {
        many.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    let (answer, _) = h.raw(many.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    let pkt = h.packet(KIT_B, &noise(3000, 3));
    h.upload(KIT_B, &pkt, 1500).await;
}

#[tokio::test]
async fn many_clients_stalled_mid_head_do_not_hold_up_an_upload() {
    // All of them from the kit's own address: the per-address cap must not be what saves it here.
    let h = start(|c| c.max_connections_per_peer = 128);
    let mut stalled = Vec::new();
    for _ in 0..100 {
        let mut s = tokio::net::TcpStream::connect(h.hub.addr).await.unwrap();
        s.write_all(b"PATCH /v1/uploads/0123 HTTP/1.1\r\nHost: x\r\nUpload-Off")
            .await
            .unwrap();
        stalled.push(s);
    }
    let pkt = h.packet(KIT_A, &noise(50_000, 4));
    tokio::time::timeout(Duration::from_secs(20), h.upload(KIT_A, &pkt, 8192))
        .await
        .expect("an upload goes through beside 100 stalled clients");
    assert_eq!(h.receipt_rows(), vec![packet_id(&pkt)]);
}

#[tokio::test]
async fn a_client_stalled_mid_head_is_disconnected_after_the_idle_timeout() {
    let h = start(|c| c.idle_timeout_secs = 1);
    let mut s = tokio::net::TcpStream::connect(h.hub.addr).await.unwrap();
    s.write_all(b"PATCH /v1/uploads/0123 HTTP/1.1\r\nHost: x\r\nUpload-Off")
        .await
        .unwrap();
    // The hub closes the connection (no request head, so no answer): the read sees the end.
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf))
        .await
        .expect("the hub closes a connection whose request head stalls")
        .unwrap_or(0);
    assert_eq!(n, 0, "got {:?}", String::from_utf8_lossy(&buf[..n]));
    // A request that completes its head in time is still served on a new connection.
    let pkt = h.packet(KIT_A, &noise(5_000, 9));
    h.upload(KIT_A, &pkt, 4096).await;
    assert_eq!(h.receipt_rows(), vec![packet_id(&pkt)]);
}

/// A packet prelude of kit A signed over a header with these values (nothing else checks them).
fn prelude_of(h: &Hub, packet_id: &str, payload_length: u64) -> Vec<u8> {
    let header = jemput_core::packet::Header {
        format_version: 1,
        packet_id: packet_id.into(),
        kit_id: KIT_A.into(),
        kit_key: h.a.public(),
        created_at: jiff::Timestamp::now(),
        recipients: vec![jemput_core::keys::recipient_key_id(&h.recipient)],
        payload_length,
        payload_sha256: "00".repeat(32),
    };
    let hb = serde_json::to_vec(&header).unwrap();
    let sig = h.a.sign(jemput_core::keys::sign::OUTER_DOMAIN, &hb);
    jemput_core::packet::format::encode_prelude(&hb, &sig)
}

#[tokio::test]
async fn a_payload_length_near_2_to_the_64_or_a_packet_id_that_is_not_a_uuid_is_refused_with_400() {
    let h = start(|_| {});
    let create = |prelude: Vec<u8>, length: u64| {
        h.request(KIT_A, Method::POST, "/v1/uploads", None)
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", format!("packet {}", B64.encode(prelude)))
            .send()
    };
    // 2^64 - 1 bytes of payload after the prelude: the sum does not fit in 64 bits. The old check
    // wrapped around and compared against a small number.
    let id = uuid::Uuid::new_v4().to_string();
    for payload_length in [u64::MAX, u64::MAX - 10] {
        let prelude = prelude_of(&h, &id, payload_length);
        let wrapped = (prelude.len() as u64).wrapping_add(payload_length);
        let r = create(prelude, wrapped).await.unwrap();
        Answer::of(r).await.expect(
            400,
            &format!("payload_length {payload_length} is impossible"),
            "payload_length",
        );
    }
    // Packet ids must be UUIDs (version 4, lowercase with hyphens), as the format says.
    let a128 = "a".repeat(128);
    for bad in [
        "-",
        a128.as_str(),
        "PKT_1",
        &id.to_uppercase(),
        &id.replace('-', ""),
    ] {
        let prelude = prelude_of(&h, bad, 10);
        let length = prelude.len() as u64 + 10;
        let r = create(prelude, length).await.unwrap();
        Answer::of(r)
            .await
            .expect(400, "is not a packet id", &format!("packet id {bad:?}"));
    }
    assert!(h.receipt_rows().is_empty());
    let uploads = h.count("SELECT count(*) FROM uploads");
    assert_eq!(uploads, 0, "no upload was created for a refused header");
    // The hub serves on: a good packet goes through.
    let pkt = h.packet(KIT_A, &noise(3000, 11));
    h.upload(KIT_A, &pkt, 3000).await;
}

/// A TCP connection to the hub from the loopback address `from` (any of 127.0.0.0/8), so that
/// tests can stand for several peers.
async fn connect_from(from: &str, hub: std::net::SocketAddr) -> tokio::net::TcpStream {
    let s = tokio::net::TcpSocket::new_v4().unwrap();
    s.bind(format!("{from}:0").parse().unwrap()).unwrap();
    s.connect(hub).await.unwrap()
}

/// What arrives on `s` within `wait` (until the hub closes it or the time is up).
async fn read_for(s: &mut tokio::net::TcpStream, wait: Duration) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(wait, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

/// The head of an enrollment request announcing a body of 100 000 bytes.
const SLOW_ENROLL: &[u8] =
    b"POST /v1/enroll HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n\
                             Content-Length: 100000\r\n\r\n{";

/// Writes `bytes` one at a time, one every `every`, until done or the hub stops reading.
fn trickle(mut w: tokio::net::tcp::OwnedWriteHalf, bytes: Vec<u8>, every: Duration) {
    tokio::spawn(async move {
        for b in bytes {
            tokio::time::sleep(every).await;
            if w.write_all(&[b]).await.is_err() {
                return;
            }
        }
    });
}

#[tokio::test]
async fn a_trickled_body_is_cut_after_its_deadline_and_a_cut_patch_is_sent_again() {
    // A body must average 100 bytes/s after its first second. The trickles below send 5 bytes/s
    // and never stall for the idle timeout, so only the minimum rate can cut them.
    let h = start(|c| {
        c.idle_timeout_secs = 1;
        c.min_body_rate = 100;
    });

    // Unauthenticated: an enrollment whose body never ends.
    let s = connect_from("127.0.0.1", h.hub.addr).await;
    let (mut r, mut w) = s.into_split();
    let started = std::time::Instant::now();
    w.write_all(SLOW_ENROLL).await.unwrap();
    trickle(w, vec![b' '; 200], Duration::from_millis(200));
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), r.read_to_end(&mut answer))
        .await
        .expect("the hub cuts a body that trickles")
        .unwrap();
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the body came too slowly"), "{answer}");
    assert!(answer.contains("min_body_rate"), "{answer}");
    assert!(took < Duration::from_secs(6), "cut after {took:?}");

    // A kit's PATCH that trickles: cut the same way. Every PATCH carries the checksum of its whole
    // chunk (docs/hub-protocol.md §1), so a cut one cannot be checked and none of it is kept.
    let pkt = h.packet(KIT_A, &noise(4000, 21));
    let loc = h.created(KIT_A, &pkt).await;
    let s = connect_from("127.0.0.1", h.hub.addr).await;
    let (mut r, mut w) = s.into_split();
    let checksum = format!("sha256 {}", B64.encode(Sha256::digest(&pkt)));
    let t = jiff::Timestamp::now().as_second();
    let request = auth::Request {
        method: "PATCH",
        path: &loc,
        headers: auth::Covered {
            offset: Some("0"),
            checksum: Some(&checksum),
            ..Default::default()
        },
    };
    let a = auth::sign(KIT_A, &h.a, &request, t);
    let head = format!(
        "PATCH {loc} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n{}: {a}\r\n\
         Upload-Offset: 0\r\nUpload-Checksum: {checksum}\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        auth::HEADER,
        pkt.len()
    );
    w.write_all(head.as_bytes()).await.unwrap();
    trickle(w, pkt[..200].to_vec(), Duration::from_millis(200));
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), r.read_to_end(&mut answer))
        .await
        .expect("the hub cuts a PATCH body that trickles")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("the body came too slowly"), "{answer}");
    assert_eq!(
        h.head_offset(KIT_A, &loc).await,
        0,
        "a cut chunk is discarded whole"
    );
    assert!(answer.contains("upload-offset: 0"), "{answer}");
    // The kit sends the chunk again and the packet completes.
    let r = h.patch(KIT_A, &loc, 0, &pkt, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(h.receipt_rows(), vec![packet_id(&pkt)]);
}

#[tokio::test]
async fn a_flood_of_slow_bodies_from_one_address_gets_429_while_kits_upload() {
    // The attack, scaled down: slow enrollment bodies from one address. The idle timeout
    // is long, so the flood's connections would be held for the whole test.
    let h = start(|c| {
        c.max_connections = 40;
        c.max_connections_per_peer = 8;
        c.idle_timeout_secs = 60;
    });
    let mut flood = Vec::new();
    for _ in 0..30 {
        let mut s = connect_from("127.0.0.2", h.hub.addr).await;
        s.write_all(SLOW_ENROLL).await.unwrap();
        flood.push(s);
    }
    let mut refused = 0;
    let mut held = Vec::new();
    for mut s in flood {
        let got = read_for(&mut s, Duration::from_millis(300)).await;
        if got.is_empty() {
            held.push(s);
            continue;
        }
        assert!(got.starts_with("HTTP/1.1 429 Too Many Requests"), "{got}");
        assert!(got.contains("\r\nRetry-After: 10\r\n"), "{got}");
        assert!(got.contains("max_connections_per_peer"), "{got}");
        refused += 1;
    }
    assert_eq!((held.len(), refused), (8, 22));

    // Other addresses are served as if nothing happened.
    let info = h.http.get(h.url("/v1/info")).send().await.unwrap();
    assert_eq!(info.status(), StatusCode::OK);
    let pkt = h.packet(KIT_A, &noise(30_000, 22));
    tokio::time::timeout(Duration::from_secs(20), h.upload(KIT_A, &pkt, 8192))
        .await
        .expect("a kit uploads beside the flood");
    assert_eq!(h.receipt_rows(), vec![packet_id(&pkt)]);

    // A closed connection gives its slot back: the address is served again.
    drop(held);
    let mut served = false;
    for _ in 0..50 {
        let mut s = connect_from("127.0.0.2", h.hub.addr).await;
        s.write_all(b"GET /v1/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        if read_for(&mut s, Duration::from_secs(2))
            .await
            .starts_with("HTTP/1.1 200")
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        served,
        "the address is served again once its connections closed"
    );
}

#[tokio::test]
async fn over_the_global_cap_connections_get_503_until_the_deadlines_free_the_slots() {
    let h = start(|c| {
        c.max_connections = 12;
        c.max_connections_per_peer = 4;
        c.idle_timeout_secs = 2;
        c.min_body_rate = 100;
    });
    // Twelve connections from three addresses, each holding a slot its own way: silent, a head
    // that stops half-way, a body that stops after one byte.
    let mut flood = Vec::new();
    for (i, from) in ["127.0.0.2", "127.0.0.3", "127.0.0.4"].iter().enumerate() {
        for j in 0..4 {
            let mut s = connect_from(from, h.hub.addr).await;
            match (i * 4 + j) % 3 {
                0 => {}
                1 => s
                    .write_all(b"GET /v1/info HTTP/1.1\r\nHost: x\r\nAcc")
                    .await
                    .unwrap(),
                _ => s.write_all(SLOW_ENROLL).await.unwrap(),
            }
            flood.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    // The hub is full: a new peer, and a kit, get 503 with Retry-After.
    let mut s = connect_from("127.0.0.5", h.hub.addr).await;
    s.write_all(b"GET /v1/info HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let got = read_for(&mut s, Duration::from_secs(3)).await;
    assert!(got.starts_with("HTTP/1.1 503 Service Unavailable"), "{got}");
    assert!(got.contains("\r\nRetry-After: 10\r\n"), "{got}");
    assert!(
        got.contains("limit of 12 connections (max_connections)"),
        "{got}"
    );
    let r = h.http.get(h.url("/v1/info")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "10");

    // Every flood connection is closed by its deadline (2 s for heads, 2 s + a few ms for a
    // body of one byte), and then kits are served again.
    for (i, mut s) in flood.into_iter().enumerate() {
        let got = read_for(&mut s, Duration::from_secs(10)).await;
        match i % 3 {
            2 => assert!(got.starts_with("HTTP/1.1 408"), "body {i}: {got}"),
            _ => assert!(got.is_empty(), "head {i}: {got}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let mut ok = false;
    for _ in 0..50 {
        let r = h.http.get(h.url("/v1/info")).send().await.unwrap();
        if r.status() == StatusCode::OK {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "/v1/info answers once the flood is cut");
    let pkt = h.packet(KIT_B, &noise(20_000, 23));
    h.upload(KIT_B, &pkt, 8192).await;
    assert_eq!(h.receipt_rows(), vec![packet_id(&pkt)]);
}

#[tokio::test]
async fn a_kit_past_its_open_upload_count_or_bytes_gets_429_and_other_kits_do_not() {
    let h = start(|c| {
        c.max_size = 100_000;
        c.max_open_uploads_per_kit = 3;
        c.max_open_upload_bytes_per_kit = 150_000;
    });
    // Three small uploads fill kit A's count.
    let small: Vec<Vec<u8>> = (0..4)
        .map(|i| h.packet(KIT_A, &noise(1000, 30 + i)))
        .collect();
    let mut locs = Vec::new();
    for p in &small[..3] {
        locs.push(h.created(KIT_A, p).await);
    }
    let r = h.create(KIT_A, &small[3]).await;
    assert_eq!(r.headers()["retry-after"], "60");
    Answer::of(r).await.expect(
        429,
        "kit kit-a has 3 unfinished uploads",
        "the 4th open upload",
    );
    // Creating one of the open packets again resumes it: not a new upload, not refused.
    let r = h.create(KIT_A, &small[0]).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["location"].to_str().unwrap(), locs[0]);
    // The limit is kit A's: kit B creates as usual.
    let of_b = h.packet(KIT_B, &noise(1000, 40));
    let loc_b = h.created(KIT_B, &of_b).await;
    // A finished or terminated upload no longer counts.
    let r = h
        .request(KIT_A, Method::DELETE, &locs[1], None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = h.patch(KIT_A, &locs[2], 0, &small[2], None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    h.created(KIT_A, &small[3]).await;
    h.created(KIT_A, &h.packet(KIT_A, &noise(1000, 41))).await;

    // Declared bytes: two uploads of about 60 000 bytes fit under kit B's 150 000; a third does
    // not, though the count would allow it.
    let r = h
        .request(KIT_B, Method::DELETE, &loc_b, None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let big: Vec<Vec<u8>> = (0..3)
        .map(|i| h.packet(KIT_B, &noise(60_000, 50 + i)))
        .collect();
    h.created(KIT_B, &big[0]).await;
    h.created(KIT_B, &big[1]).await;
    let r = h.create(KIT_B, &big[2]).await;
    let declared = big[0].len() + big[1].len();
    Answer::of(r).await.expect(
        429,
        &format!("kit kit-b has 2 unfinished uploads declaring {declared} bytes"),
        "declared bytes over the kit's limit",
    );
    let open = h.count("SELECT count(*) FROM uploads WHERE state = 'open' AND kit_id = 'kit-b'");
    assert_eq!(open, 2, "the refused creation made no upload");
}

#[tokio::test]
async fn an_idle_upload_expires_per_config_while_the_hub_serves() {
    let h = start(|c| {
        c.upload_expiry_secs = 2;
        c.max_open_uploads_per_kit = 1;
    });
    let pkt = h.packet(KIT_A, &noise(3000, 60));
    let loc = h.created(KIT_A, &pkt).await;
    assert_eq!(
        h.patch(KIT_A, &loc, 0, &pkt[..500], None).await.status(),
        StatusCode::NO_CONTENT
    );
    let id = loc.rsplit('/').next().unwrap().to_string();
    assert!(h.staged(&id));
    // Nobody asks about it; the hub expires it by itself and removes its bytes.
    let started = std::time::Instant::now();
    while h.staged(&id) && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!h.staged(&id), "the idle upload's bytes are removed");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(1), "expired after {took:?}");
    let row = h.query(&format!(
        "SELECT state, note FROM uploads WHERE upload_id = '{id}'"
    ));
    assert_eq!(row, ["terminated|expired"]);
    let r = h
        .request(KIT_A, Method::HEAD, &loc, None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    // It no longer counts against the kit: the packet uploads anew.
    h.upload(KIT_A, &pkt, 3000).await;
}

#[tokio::test]
async fn the_hub_database_is_0600_in_a_0700_directory_even_when_made_in_an_open_one() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    jemput_hub::init(&data).unwrap();
    assert_eq!(
        mode(&data),
        0o700,
        "hub init tightens an existing open directory"
    );
    let db = data.join(jemput_hub::DB_FILE);
    assert_eq!(mode(&db), 0o600);

    // A hub made by an older jemput: its database world-readable, in an open directory.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kit = SigningKey::generate();
    Registry::open(&data)
        .unwrap()
        .add(KIT_A, &kit.public(), None)
        .unwrap();
    let hub = jemput_hub::spawn_local(&data).unwrap();
    let h = Hub {
        hub,
        data: data.clone(),
        a: kit,
        b: SigningKey::generate(),
        recipient: office().keys.recipient,
        http: reqwest::Client::new(),
        // The permissions of `hub.sqlite`: the embedded backend whatever the suite runs on.
        backend: HubBackend { pg: None },
        _dir: dir,
    };
    let pkt = h.packet(KIT_A, &noise(3000, 70));
    h.upload(KIT_A, &pkt, 3000).await;
    assert_eq!(mode(&data), 0o700, "opening the hub tightens its directory");
    for f in ["hub.sqlite", "hub.sqlite-wal", "hub.sqlite-shm"] {
        let p = data.join(f);
        assert!(p.exists(), "{f} exists while the hub serves");
        assert_eq!(mode(&p), 0o600, "{f}");
    }
    assert_eq!(h.receipt_rows(), vec![packet_id(&pkt)]);
}

#[tokio::test]
async fn over_https_a_connection_past_the_per_address_cap_gets_429_after_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let mut config = jemput_hub::init(&data).unwrap();
    config.max_connections_per_peer = 2;
    config.save(&data).unwrap();
    let hub = jemput_hub::spawn_local_tls(&data).unwrap();
    // Two connections that never start their TLS handshake hold this address's slots.
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(connect_from("127.0.0.1", hub.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The kit pins the certificate; this client only needs to get through the handshake.
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/v1/info", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "10");
    let body = r.text().await.unwrap();
    assert!(body.contains("max_connections_per_peer"), "{body}");
    // Another address is served.
    let other = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let r = other
        .get(format!("{}/v1/info", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(held);
}

//! The hub over real HTTP on loopback: tus 1.0.0 with request signatures, the packet header checked
//! at creation, verify-before-accept at completion, signed receipts, and every refusal with its
//! status code, its reason, and what is (not) left on disk. Protocol: `docs/hub-protocol.md`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::*;
use jemput_core::keys::SigningKey;
use jemput_core::packet::parse_prelude;
use jemput_core::wire::auth;
use jemput_core::wire::receipt::Receipt;
use jemput_hub::{HubConfig, HubHandle, Registry};
use predicates::prelude::*;
use reqwest::{Method, Response, StatusCode};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KIT_ID: &str = "kit-test";

/// A hub on loopback with one registered kit (`kit-test`) and an office to seal packets for.
struct Fixture {
    hub: HubHandle,
    data: PathBuf,
    kit: SigningKey,
    office: Office,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    fixture_with(|_| {})
}

/// Like [`fixture`], with `hub.toml` changed by `tune` before the hub starts.
fn fixture_with(tune: impl FnOnce(&mut HubConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let mut config = jemput_hub::init(&data).unwrap();
    tune(&mut config);
    config.save(&data).unwrap();
    let kit = SigningKey::generate();
    Registry::open(&data)
        .unwrap()
        .add(KIT_ID, &kit.public(), Some("tim uji"))
        .unwrap();
    let hub = jemput_hub::spawn_local(&data).unwrap();
    // A pooled connection is kept idle for less than the hub's idle timeout: a hub that closes one
    // just as the client reuses it fails that request (IncompleteMessage), which some tests here
    // would hit with their one-second idle timeouts.
    let idle = Duration::from_millis(config.idle_timeout_secs.saturating_mul(1000) / 2);
    let http = reqwest::Client::builder()
        .pool_idle_timeout(idle)
        .build()
        .unwrap();
    Fixture {
        hub,
        data,
        kit,
        office: office(),
        http,
        _dir: dir,
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn prelude(packet: &[u8]) -> &[u8] {
    &packet[..parse_prelude(packet).unwrap().payload_offset]
}

fn metadata(packet: &[u8]) -> String {
    format!("packet {}", B64.encode(prelude(packet)))
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

fn offset_of(r: &Response) -> u64 {
    header(r, "upload-offset")
        .expect("an Upload-Offset header")
        .parse()
        .unwrap()
}

fn b64_digest<D: Digest>(bytes: &[u8]) -> String {
    B64.encode(D::digest(bytes))
}

/// Files under `dir`, as paths relative to it.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_path_buf())
        .collect()
}

impl Fixture {
    /// The hub stopped, `between` run on its data directory, and the hub started again there.
    fn restarted(self, between: impl FnOnce(&Path)) -> Fixture {
        let Fixture {
            hub,
            data,
            kit,
            office,
            http,
            _dir,
        } = self;
        hub.shutdown().unwrap();
        between(&data);
        Fixture {
            hub: jemput_hub::spawn_local(&data).unwrap(),
            data,
            kit,
            office,
            http,
            _dir,
        }
    }

    /// Registers another kit, `kit_id`, at the hub; its key.
    fn register(&self, kit_id: &str) -> SigningKey {
        let key = SigningKey::generate();
        Registry::open(&self.data)
            .unwrap()
            .add(kit_id, &key.public(), None)
            .unwrap();
        key
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hub.url)
    }

    /// A request from the kit at `path` with `Upload-Offset` when given; signed when sent.
    fn request(&self, method: Method, path: &str, offset: Option<u64>) -> KitRequest<'_> {
        let mut b = self
            .http
            .request(method, self.url(path))
            .header("Tus-Resumable", "1.0.0");
        if let Some(o) = offset {
            b = b.header("Upload-Offset", o.to_string());
        }
        KitRequest { f: self, b }
    }

    async fn create(&self, packet: &[u8]) -> Response {
        self.request(Method::POST, "/v1/uploads", None)
            .header("Upload-Length", packet.len().to_string())
            .header("Upload-Metadata", metadata(packet))
            .send()
            .await
            .unwrap()
    }

    /// Creates an upload and returns its path (`/v1/uploads/<id>`).
    async fn created(&self, packet: &[u8]) -> String {
        let r = self.create(packet).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
        header(&r, "location").unwrap().to_string()
    }

    /// A `PATCH` with the chunk's sha256 `Upload-Checksum` (the signature covers the body so).
    async fn patch(&self, location: &str, offset: u64, chunk: &[u8]) -> Response {
        let sum = format!("sha256 {}", b64_digest::<Sha256>(chunk));
        self.patch_with(location, offset, chunk, Some(sum)).await
    }

    async fn patch_with(
        &self,
        location: &str,
        offset: u64,
        chunk: &[u8],
        checksum: Option<String>,
    ) -> Response {
        let mut b = self
            .request(Method::PATCH, location, Some(offset))
            .header("Content-Type", "application/offset+octet-stream")
            .body(chunk.to_vec());
        if let Some(c) = checksum {
            b = b.header("Upload-Checksum", c);
        }
        b.send().await.unwrap()
    }

    async fn head(&self, location: &str) -> Response {
        self.request(Method::HEAD, location, None)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a whole packet in one PATCH; returns the receipt.
    async fn upload(&self, packet: &[u8]) -> Receipt {
        let loc = self.created(packet).await;
        let r = self.patch(&loc, 0, packet).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        Receipt::from_header_value(header(&r, "jemput-receipt").unwrap()).unwrap()
    }

    fn part_len(&self, location: &str) -> u64 {
        let id = location.rsplit('/').next().unwrap();
        std::fs::metadata(self.data.join("uploads").join(format!("{id}.part")))
            .unwrap()
            .len()
    }

    fn stored(&self, packet_id: &str) -> PathBuf {
        self.data.join("packets").join(format!("{packet_id}.jpk"))
    }

    /// A valid packet of `kit-test` around `payload` (no real encryption: the hub never decrypts).
    fn packet_with_payload(&self, payload: &[u8]) -> Vec<u8> {
        resign(&self.kit, KIT_ID, &self.office.keys.recipient, payload)
    }
}

/// A kit's request being built: signed over what it carries when it is sent.
struct KitRequest<'a> {
    f: &'a Fixture,
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

    async fn send(self) -> reqwest::Result<Response> {
        self.f
            .http
            .execute(signed(self.b, KIT_ID, &self.f.kit))
            .await
    }
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

#[tokio::test]
async fn discovery_and_info_advertise_tus_1_0_0_checksums_and_limits() {
    let f = fixture();
    let r = f
        .http
        .request(Method::OPTIONS, f.url("/v1/uploads"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&r, "tus-version"), Some("1.0.0"));
    assert_eq!(
        header(&r, "tus-extension"),
        Some("creation,termination,checksum,expiration")
    );
    assert_eq!(
        header(&r, "tus-checksum-algorithm"),
        Some(jemput_core::wire::tus::CHECKSUM_ALGORITHMS)
    );
    assert_eq!(header(&r, "tus-max-size"), Some("67108864"));
    assert_eq!(header(&r, "jemput-max-chunk"), Some("8388608"));

    let r = f.http.get(f.url("/v1/info")).send().await.unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    let info: jemput_hub::HubInfo = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(info.hub_id, f.hub.hub_id);
    assert_eq!(info.hub_key, f.hub.hub_key);
    assert_eq!(info.tus_version, "1.0.0");
    assert_eq!(info.max_size, 64 << 20);
    assert!(info.hub_id.starts_with("hub-") && info.hub_id.len() == 12);
}

#[tokio::test]
async fn a_sealed_packet_uploaded_in_several_patches_is_stored_byte_identical_with_a_receipt_that_verifies(
) {
    let f = fixture();
    let sealed = small_packet(&f.kit, &f.office);
    let packet = &sealed.bytes;
    let loc = f.created(packet).await;
    assert!(loc.starts_with("/v1/uploads/") && loc.len() == "/v1/uploads/".len() + 32);

    let r = f.head(&loc).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(offset_of(&r), 0);
    assert_eq!(
        header(&r, "upload-length"),
        Some(&*packet.len().to_string())
    );
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    assert_eq!(header(&r, "upload-metadata"), Some(&*metadata(packet)));
    assert_eq!(header(&r, "tus-resumable"), Some("1.0.0"));

    // Four chunks, checksummed with sha1, then sha256 (every PATCH carries a checksum).
    let bounds = [0, 1000, packet.len() / 2, packet.len() - 100, packet.len()];
    let mut last = None;
    for (i, w) in bounds.windows(2).enumerate() {
        let chunk = &packet[w[0]..w[1]];
        let checksum = match i {
            0 => Some(format!("sha1 {}", b64_digest::<Sha1>(chunk))),
            _ => Some(format!("sha256 {}", b64_digest::<Sha256>(chunk))),
        };
        let r = f.patch_with(&loc, w[0] as u64, chunk, checksum).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(offset_of(&r), w[1] as u64);
        assert_eq!(header(&r, "tus-resumable"), Some("1.0.0"));
        if w[1] < packet.len() {
            assert!(header(&r, "jemput-receipt").is_none());
            assert_eq!(
                f.part_len(&loc),
                w[1] as u64,
                "the offset is what is on disk"
            );
        }
        last = Some(r);
    }
    let last = last.unwrap();
    let receipt = Receipt::from_header_value(header(&last, "jemput-receipt").unwrap()).unwrap();
    let body = receipt
        .verify_for(
            &f.hub.hub_key,
            &sealed.header.packet_id,
            &sealed.header.payload_sha256,
        )
        .unwrap();
    assert_eq!(body.hub_id, f.hub.hub_id);
    assert_eq!(body.kit_id, KIT_ID);
    assert_eq!(body.size, packet.len() as u64);

    assert_eq!(
        std::fs::read(f.stored(&sealed.header.packet_id)).unwrap(),
        *packet
    );
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());

    // The receipt is there to fetch again, and HEAD on the finished upload carries it.
    let path = format!("/v1/receipts/{}", sealed.header.packet_id);
    let r = f.request(Method::GET, &path, None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let fetched: Receipt = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(fetched, receipt);
    let r = f.head(&loc).await;
    assert_eq!(offset_of(&r), packet.len() as u64);
    assert_eq!(
        Receipt::from_header_value(header(&r, "jemput-receipt").unwrap()).unwrap(),
        receipt
    );
}

#[tokio::test]
async fn creating_a_packet_the_hub_already_holds_returns_the_same_receipt_and_stores_nothing_twice()
{
    let f = fixture();
    let packet = f.packet_with_payload(&payload(5000, 1));
    let first = f.upload(&packet).await;
    let stored_before = files_under(&f.data);

    let r = f.create(&packet).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(header(&r, "location").is_none());
    let again = Receipt::from_header_value(header(&r, "jemput-receipt").unwrap()).unwrap();
    assert_eq!(again, first, "the very same receipt, not a new one");
    assert_eq!(files_under(&f.data), stored_before);
    assert_eq!(files_under(&f.data.join("packets")).len(), 1);
}

#[tokio::test]
async fn creating_an_unfinished_packet_again_resumes_the_same_upload() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(5000, 2));
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..700]).await.status(), 204);

    let r = f.create(&packet).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(header(&r, "location"), Some(&*loc));
    assert_eq!(offset_of(&f.head(&loc).await), 700);
    assert_eq!(files_under(&f.data.join("uploads")).len(), 1);
}

#[tokio::test]
async fn a_patch_at_the_wrong_offset_is_refused_with_409_and_changes_nothing() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(5000, 3));
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..500]).await.status(), 204);
    for wrong in [0, 400, 600] {
        let r = f.patch(&loc, wrong, &packet[wrong as usize..1000]).await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(offset_of(&r), 500, "the 409 names the hub's offset");
        assert!(r.text().await.unwrap().contains("HEAD and resume"));
    }
    assert_eq!(offset_of(&f.head(&loc).await), 500);
    assert_eq!(f.part_len(&loc), 500);
}

#[tokio::test]
async fn a_chunk_with_a_wrong_checksum_is_discarded_with_460_and_the_offset_stays() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(5000, 4));
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..500]).await.status(), 204);
    for algo in ["sha1", "sha256"] {
        let wrong = match algo {
            "sha1" => b64_digest::<Sha1>(b"something else"),
            _ => b64_digest::<Sha256>(b"something else"),
        };
        let r = f
            .patch_with(
                &loc,
                500,
                &packet[500..3000],
                Some(format!("{algo} {wrong}")),
            )
            .await;
        assert_eq!(r.status().as_u16(), 460);
        assert_eq!(offset_of(&r), 500);
        assert!(r.text().await.unwrap().contains("checksum mismatch"));
        assert_eq!(offset_of(&f.head(&loc).await), 500);
        assert_eq!(f.part_len(&loc), 500, "the discarded chunk is not on disk");
    }
    // The same chunk with its right checksum is then accepted.
    let chunk = &packet[500..3000];
    let r = f
        .patch_with(
            &loc,
            500,
            chunk,
            Some(format!("sha256 {}", b64_digest::<Sha256>(chunk))),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(offset_of(&r), 3000);
}

#[tokio::test]
async fn an_unknown_or_malformed_checksum_is_refused_with_400() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 5));
    let loc = f.created(&packet).await;
    for (value, says) in [
        ("md5 1B2M2Y8AsgTpgAmY7PhCfg==", "not supported"),
        ("crc32 AAAAAA==", "not supported"),
        ("sha1", "<algorithm> <base64 digest>"),
        ("sha1 !!!", "not base64"),
        (
            "sha256 Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
            "sha256 digests are 32",
        ),
    ] {
        let r = f
            .patch_with(&loc, 0, &packet[..100], Some(value.into()))
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{value}");
        assert!(r.text().await.unwrap().contains(says), "{value}");
    }
    assert_eq!(offset_of(&f.head(&loc).await), 0);
}

#[tokio::test]
async fn requests_without_tus_resumable_1_0_0_get_412_with_tus_version() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 6));
    let loc = f.created(&packet).await;
    for (method, path) in [
        (Method::POST, "/v1/uploads"),
        (Method::HEAD, loc.as_str()),
        (Method::PATCH, loc.as_str()),
        (Method::DELETE, loc.as_str()),
    ] {
        for version in [None, Some("0.2.2")] {
            let mut b = f.http.request(method.clone(), f.url(path));
            if let Some(v) = version {
                b = b.header("Tus-Resumable", v);
            }
            let r = f.http.execute(signed(b, KIT_ID, &f.kit)).await.unwrap();
            assert_eq!(
                r.status(),
                StatusCode::PRECONDITION_FAILED,
                "{method} {version:?}"
            );
            assert_eq!(header(&r, "tus-version"), Some("1.0.0"));
        }
    }
    assert_eq!(offset_of(&f.head(&loc).await), 0);
}

#[tokio::test]
async fn a_packet_over_the_max_size_is_refused_at_creation_with_413() {
    let f = fixture_with(|c| c.max_size = 4000);
    let packet = f.packet_with_payload(&payload(5000, 7));
    let r = f.create(&packet).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("Tus-Max-Size of 4000"));
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_patch_over_the_chunk_limit_or_past_the_upload_length_is_refused_and_nothing_kept() {
    let f = fixture_with(|c| c.max_chunk = 1000);
    let packet = f.packet_with_payload(&payload(5000, 8));
    let loc = f.created(&packet).await;
    let r = f.patch(&loc, 0, &packet[..1001]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(header(&r, "jemput-max-chunk"), Some("1000"));
    assert!(r.text().await.unwrap().contains("at most 1000 bytes"));
    assert_eq!(f.patch(&loc, 0, &packet[..1000]).await.status(), 204);

    let mut long = packet[packet.len() - 500..].to_vec();
    let start = packet.len() as u64 - 500;
    // Walk to 500 bytes before the end, then send 501.
    let mut at = 1000u64;
    while at < start {
        let end = (at + 1000).min(start);
        let r = f.patch(&loc, at, &packet[at as usize..end as usize]).await;
        assert_eq!(r.status(), 204);
        at = end;
    }
    long.push(0);
    let r = f.patch(&loc, start, &long).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("past Upload-Length"));
    assert_eq!(offset_of(&f.head(&loc).await), start);
}

#[tokio::test]
async fn a_patch_with_the_wrong_content_type_is_refused_with_415() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 9));
    let loc = f.created(&packet).await;
    for ct in [None, Some("application/octet-stream"), Some("text/plain")] {
        let mut b = f
            .request(Method::PATCH, &loc, Some(0))
            .body(packet[..100].to_vec());
        if let Some(ct) = ct {
            b = b.header("Content-Type", ct);
        }
        let r = b.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
    }
    assert_eq!(offset_of(&f.head(&loc).await), 0);
}

#[tokio::test]
async fn unknown_revoked_and_badly_signed_requests_get_one_401_and_stale_or_malformed_ones_say_why()
{
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 10));
    let build = || {
        f.http
            .post(f.url("/v1/uploads"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", packet.len().to_string())
            .header("Upload-Metadata", metadata(&packet))
            .build()
            .unwrap()
    };
    let post = |a: Option<String>| {
        let mut req = build();
        if let Some(a) = a {
            req.headers_mut().insert(auth::HEADER, a.parse().unwrap());
        }
        f.http.execute(req)
    };
    let body_of = |r: Response| async move {
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        r.text().await.unwrap()
    };
    let stranger = SigningKey::generate();
    // Signs the creation as `kit` with `key` at `t`, for `path` instead of its own when given.
    let sign_as = |kit: &str, key: &SigningKey, path: Option<&str>, t: i64| {
        let mut req = build();
        if let Some(p) = path {
            req.url_mut().set_path(p);
        }
        Some(auth_for(&req, kit, key, t, &auth::new_nonce()))
    };
    let named = [
        (None, "missing or malformed Jemput-Auth"),
        (
            Some("kit=kit-test, t=1".into()),
            "missing or malformed Jemput-Auth",
        ),
        // A version 1 header: no nonce.
        (
            Some(format!(
                "kit=kit-test, t={}, sig={}",
                now(),
                B64.encode([7u8; 64])
            )),
            "missing or malformed Jemput-Auth",
        ),
        (
            sign_as(KIT_ID, &f.kit, None, now() - 301),
            "stale request time",
        ),
        (
            sign_as(KIT_ID, &f.kit, None, now() + 400),
            "stale request time",
        ),
        // The time is checked before the kit is looked up: an unknown kit learns nothing more.
        (
            sign_as("kit-other", &stranger, None, now() - 301),
            "stale request time",
        ),
    ];
    for (header, reason) in named {
        let body = body_of(post(header).await.unwrap()).await;
        assert!(
            body.starts_with(reason),
            "{body:?} should start with {reason:?}"
        );
    }
    // An unknown kit, a wrong key, and a signature over another path or other tus headers all
    // get the same answer (the hub's log says which).
    let mut other_length = build();
    other_length
        .headers_mut()
        .insert("upload-length", "1".parse().unwrap());
    let not_accepted = |kit: &str| {
        format!("not accepted: kit {kit} is unknown or revoked at this hub, or the request is not signed with its registered key; enroll the kit (`jemput enroll`) or ask the office\n")
    };
    let same = [
        (sign_as("kit-other", &stranger, None, now()), "kit-other"),
        (sign_as(KIT_ID, &stranger, None, now()), KIT_ID),
        (sign_as(KIT_ID, &f.kit, Some("/v1/other"), now()), KIT_ID),
        (
            Some(auth_for(
                &other_length,
                KIT_ID,
                &f.kit,
                now(),
                &auth::new_nonce(),
            )),
            KIT_ID,
        ),
    ];
    for (header, kit) in same {
        assert_eq!(
            body_of(post(header).await.unwrap()).await,
            not_accepted(kit)
        );
    }

    let loc = f.created(&packet).await;
    Registry::open(&f.data).unwrap().revoke(KIT_ID).unwrap();
    let r = post(sign_as(KIT_ID, &f.kit, None, now())).await.unwrap();
    assert_eq!(body_of(r).await, not_accepted(KIT_ID));
    let r = f.patch(&loc, 0, &packet[..100]).await;
    assert_eq!(body_of(r).await, not_accepted(KIT_ID));
    assert_eq!(f.part_len(&loc), 0);
}

#[tokio::test]
async fn a_captured_request_is_accepted_once_and_its_signature_binds_the_body() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 25));
    let loc = f.created(&packet).await;
    // A signed HEAD, captured and sent again: the second is a replay.
    let head = signed(
        f.http.head(f.url(&loc)).header("Tus-Resumable", "1.0.0"),
        KIT_ID,
        &f.kit,
    );
    let again = head.try_clone().unwrap();
    assert_eq!(f.http.execute(head).await.unwrap().status(), StatusCode::OK);
    let r = f.http.execute(again).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The same for a request with an answer body, which says why.
    let sync = signed(f.http.get(f.url("/v1/sync")), KIT_ID, &f.kit);
    let again = sync.try_clone().unwrap();
    assert_eq!(f.http.execute(sync).await.unwrap().status(), StatusCode::OK);
    let r = f.http.execute(again).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(body.starts_with("replayed request: nonce"), "{body}");

    // A captured PATCH at offset 0 sent with 100 other bytes: its prelude bytes are checked as
    // they arrive, and nothing is kept.
    let patch_at = |offset: u64, sum: &str| {
        f.http
            .patch(f.url(&loc))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Checksum", sum)
    };
    let sum = format!("sha256 {}", b64_digest::<Sha256>(&packet[..1000]));
    let captured = signed(
        patch_at(0, &sum).body(packet[..1000].to_vec()),
        KIT_ID,
        &f.kit,
    );
    let r = patch_at(0, &sum)
        .header(auth::HEADER, captured.headers()[auth::HEADER].clone())
        .body(vec![0x5a; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("byte 0 differs from the packet prelude"));
    assert_eq!((offset_of(&f.head(&loc).await), f.part_len(&loc)), (0, 0));

    // Past the prelude, the body is bound by the checksum the signature covers: a captured PATCH
    // with its body swapped keeps nothing (460).
    assert_eq!(f.patch(&loc, 0, &packet[..1000]).await.status(), 204);
    let chunk = &packet[1000..2000];
    let sum = format!("sha256 {}", b64_digest::<Sha256>(chunk));
    let captured = signed(patch_at(1000, &sum).body(chunk.to_vec()), KIT_ID, &f.kit);
    let auth_value = captured.headers()[auth::HEADER].clone();
    let r = patch_at(1000, &sum)
        .header(auth::HEADER, auth_value.clone())
        .body(vec![0x5a; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 460, "{:?}", r.text().await);
    assert_eq!(
        (offset_of(&f.head(&loc).await), f.part_len(&loc)),
        (1000, 1000)
    );
    // Swapping the checksum for the forged body's own breaks the signature instead.
    let forged_sum = format!("sha256 {}", b64_digest::<Sha256>(&[0x5a; 1000]));
    let r = patch_at(1000, &forged_sum)
        .header(auth::HEADER, auth_value)
        .body(vec![0x5a; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The nonce went with the first use, forged or not: the captured request is spent.
    let r = f.http.execute(captured).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().starts_with("replayed request"));
    assert_eq!(
        (offset_of(&f.head(&loc).await), f.part_len(&loc)),
        (1000, 1000)
    );

    // A PATCH without a checksum has an unbound body: refused before a byte is kept.
    let r = f
        .request(Method::PATCH, &loc, Some(1000))
        .header("Content-Type", "application/offset+octet-stream")
        .body(chunk.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("missing Upload-Checksum"));
    // A freshly signed request goes through.
    assert_eq!(f.patch(&loc, 1000, chunk).await.status(), 204);
    assert_eq!(offset_of(&f.head(&loc).await), 2000);
}

#[tokio::test]
async fn a_request_captured_before_a_restart_is_refused_after_it() {
    let Fixture {
        hub,
        data,
        kit,
        http,
        _dir,
        ..
    } = fixture();
    let captured = signed(http.get(format!("{}/v1/sync", hub.url)), KIT_ID, &kit);
    let mut again = captured.try_clone().unwrap();
    assert_eq!(
        http.execute(captured).await.unwrap().status(),
        StatusCode::OK
    );
    // The hub stops and starts again on the same data directory (within the replay window).
    tokio::task::spawn_blocking(move || hub.shutdown().unwrap())
        .await
        .unwrap();
    let hub = jemput_hub::spawn_local(&data).unwrap();
    again.url_mut().set_port(Some(hub.addr.port())).unwrap();
    let r = http.execute(again).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(body.starts_with("replayed request: nonce"), "{body}");
    // A fresh request of the same kit is served.
    let fresh = signed(http.get(format!("{}/v1/sync", hub.url)), KIT_ID, &kit);
    assert_eq!(http.execute(fresh).await.unwrap().status(), StatusCode::OK);
    tokio::task::spawn_blocking(move || hub.shutdown().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_hub_log_says_which_of_unknown_revoked_or_bad_signature_the_one_401_was() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    jemput_hub::init(&data).unwrap();
    let (good, revoked) = (SigningKey::generate(), SigningKey::generate());
    let registry = Registry::open(&data).unwrap();
    registry.add("kit-good", &good.public(), None).unwrap();
    registry.add("kit-gone", &revoked.public(), None).unwrap();
    registry.revoke("kit-gone").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
        .args(["hub", "serve", "--plain-http", "--data"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the hub did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/v1/sync");
    let stranger = SigningKey::generate();
    let mut bodies = Vec::new();
    for (kit_id, key) in [
        ("kit-none", &stranger),
        ("kit-gone", &revoked),
        ("kit-good", &stranger),
    ] {
        let t = now();
        let v = auth::sign(kit_id, key, &auth::Request::new("GET", "/v1/sync"), t);
        let r = http.get(&url).header(auth::HEADER, v).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        bodies.push(r.text().await.unwrap().replace(kit_id, "KIT"));
    }
    // The three answers are one; only the log tells them apart.
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let line_of = |kit_id: &str| {
        log.lines()
            .find(|l| l.contains("request not accepted") && l.contains(&format!("kit={kit_id}")))
            .unwrap_or_else(|| panic!("no log line for {kit_id} in:\n{log}"))
            .to_owned()
    };
    assert!(line_of("kit-none").contains("unknown kit"), "{log}");
    assert!(line_of("kit-gone").contains("revoked kit"), "{log}");
    assert!(line_of("kit-good").contains("bad signature"), "{log}");
    assert!(line_of("kit-good").contains("path=/v1/sync"), "{log}");
}

#[tokio::test]
async fn prelude_bytes_that_differ_from_the_header_given_at_creation_are_refused_as_they_arrive() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 26));
    let loc = f.created(&packet).await;
    let mut chunk = packet[..1000].to_vec();
    chunk[40] ^= 0xff;
    let r = f.patch(&loc, 0, &chunk).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("byte 40 differs from the packet prelude"),
        "the refusal names the byte"
    );
    assert_eq!((offset_of(&f.head(&loc).await), f.part_len(&loc)), (0, 0));
    // The upload is not spoiled: the real bytes complete it.
    let r = f.patch(&loc, 0, &packet).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_kit_cannot_claim_a_packet_id_another_kit_created_an_upload_of() {
    let f = fixture();
    let other = f.register("kit-other");
    let recipient = &f.office.keys.recipient;
    let create_as = |key: &SigningKey, packet: &[u8]| {
        let b = f
            .http
            .post(f.url("/v1/uploads"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", packet.len().to_string())
            .header("Upload-Metadata", metadata(packet));
        f.http.execute(signed(b, "kit-other", key))
    };
    // kit-test starts uploading: its packet id is now in the hub's events and webhooks.
    let packet = f.packet_with_payload(&payload(3000, 27));
    let id = parse_prelude(&packet).unwrap().header.packet_id;
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..1000]).await.status(), 204);
    // kit-other seals a packet of its own under that id: refused before a byte is taken.
    let squat = resign_id(&other, "kit-other", &id, recipient, &payload(500, 28));
    let r = create_as(&other, &squat).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("belongs to another kit"));
    // kit-test's packet completes and is stored under its id.
    let r = f.patch(&loc, 1000, &packet[1000..]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(std::fs::read(f.stored(&id)).unwrap(), packet);

    // The claim outlives the upload: terminated before any byte, the id stays kit-test's.
    let packet = f.packet_with_payload(&payload(3000, 29));
    let id = parse_prelude(&packet).unwrap().header.packet_id;
    let loc = f.created(&packet).await;
    let r = f.request(Method::DELETE, &loc, None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let squat = resign_id(&other, "kit-other", &id, recipient, &payload(500, 30));
    let r = create_as(&other, &squat).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(!f.stored(&id).exists());
    // And kit-test can still upload it.
    f.upload(&packet).await.verify(&f.hub.hub_key).unwrap();
}

#[tokio::test]
async fn a_packet_of_another_kit_is_refused_at_creation_with_403() {
    let f = fixture();
    let other = f.register("kit-other");
    let recipient = &f.office.keys.recipient;
    let cases = [
        // kit-other's own packet, replayed by kit-test.
        resign(&other, "kit-other", recipient, &payload(2000, 11)),
        // Claims to be kit-test's but is signed by another key.
        resign(&other, KIT_ID, recipient, &payload(2000, 12)),
    ];
    for packet in cases {
        let r = f.create(&packet).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("not by the authenticated kit kit-test"));
    }
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_forged_header_is_refused_at_creation_before_any_byte() {
    let f = fixture();
    let mut packet = f.packet_with_payload(&payload(3000, 13));
    let p = parse_prelude(&packet).unwrap();
    // Change the declared payload length in the header JSON without re-signing it.
    let text = String::from_utf8(p.header_bytes.clone()).unwrap();
    let forged = text.replace("\"payload_length\":3000", "\"payload_length\":3001");
    assert_ne!(forged, text);
    let start = jemput_core::packet::MAGIC.len() + 4;
    packet.splice(start..start + text.len(), forged.bytes());
    packet.push(0);
    let r = f.create(&packet).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("outer signature"));

    // A flipped bit in the signature itself.
    let mut packet = f.packet_with_payload(&payload(3000, 14));
    let sig_end = parse_prelude(&packet).unwrap().payload_offset;
    packet[sig_end - 1] ^= 1;
    assert_eq!(f.create(&packet).await.status(), 422);
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_payload_that_does_not_match_its_signed_hash_is_refused_at_completion_with_422_and_nothing_is_stored(
) {
    let f = fixture();
    let mut packet = f.packet_with_payload(&payload(4000, 15));
    let id = parse_prelude(&packet).unwrap().header.packet_id;
    let last = packet.len() - 1;
    packet[last] ^= 0x80;
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..2000]).await.status(), 204);
    let r = f.patch(&loc, 2000, &packet[2000..]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(header(&r, "jemput-receipt").is_none());
    assert!(r.text().await.unwrap().contains("SHA-256"));

    assert!(!f.stored(&id).exists());
    assert_eq!(files_under(&f.data.join("packets")), Vec::<PathBuf>::new());
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());
    assert_eq!(f.head(&loc).await.status(), StatusCode::GONE);
    let r = f
        .request(Method::GET, &format!("/v1/receipts/{id}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // `hub packets` lists it rejected with the reason, and the outbox holds its events.
    let rows = jemput_hub::packets::list(&f.data).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, jemput_hub::packets::PacketState::Rejected);
    assert!(rows[0].reason.as_deref().unwrap().contains("SHA-256"));
    let conn = rusqlite::Connection::open(f.data.join(jemput_hub::DB_FILE)).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM events WHERE packet_id = ?1 ORDER BY event_id")
        .unwrap()
        .query_map([&id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds, ["received", "rejected"]);
}

#[tokio::test]
async fn garbage_oversized_or_mismatched_metadata_is_refused_with_400() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 16));
    let mut with_payload_byte = prelude(&packet).to_vec();
    with_payload_byte.push(packet[with_payload_byte.len()]);
    let big = B64.encode(vec![7u8; jemput_core::wire::tus::MAX_METADATA_LEN]);
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing Upload-Metadata"),
        (Some("packet".into()), "no `packet` value"),
        (Some("filename aGVsbG8=".into()), "no `packet` value"),
        (Some("packet !!!not-base64".into()), "not base64"),
        (
            Some("packet aGVsbG8=,packet aGVsbG8=".into()),
            "given twice",
        ),
        (
            Some(format!("packet {}", B64.encode(b"GIF89a not a packet"))),
            "not a packet prelude",
        ),
        (
            Some(format!("packet {}", B64.encode(&prelude(&packet)[..50]))),
            "not a packet prelude",
        ),
        (
            Some(format!("packet {}", B64.encode(&with_payload_byte))),
            "send exactly the prelude",
        ),
        (Some(format!("packet {big}")), "over the limit"),
    ];
    for (value, says) in cases {
        let mut b = f
            .request(Method::POST, "/v1/uploads", None)
            .header("Upload-Length", packet.len().to_string());
        if let Some(v) = &value {
            b = b.header("Upload-Metadata", v);
        }
        let r = b.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{says}");
        let body = r.text().await.unwrap();
        assert!(body.contains(says), "{body:?} should say {says:?}");
    }
    for length in [
        "".to_string(),
        "-1".into(),
        "abc".into(),
        (packet.len() - 1).to_string(),
        (packet.len() + 1).to_string(),
    ] {
        let r = f
            .request(Method::POST, "/v1/uploads", None)
            .header("Upload-Length", length.clone())
            .header("Upload-Metadata", metadata(&packet))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::BAD_REQUEST,
            "Upload-Length {length:?}"
        );
    }
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn an_upload_id_with_path_traversal_is_404_and_touches_no_file() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 17));
    let loc = f.created(&packet).await;
    let config_before = std::fs::read(f.data.join(jemput_hub::CONFIG_FILE)).unwrap();
    let key_before = std::fs::read(f.data.join(jemput_hub::KEY_FILE)).unwrap();
    let files_before = files_under(&f.data);
    for path in [
        "/v1/uploads/..%2F..%2Fhub.toml",
        "/v1/uploads/..%2Fhub.ed25519",
        "/v1/uploads/%2E%2E%2Fpackets",
        "/v1/uploads/..",
        "/v1/uploads/0123456789abcdef0123456789ABCDEF",
    ] {
        for method in [Method::HEAD, Method::DELETE] {
            let r = f.request(method.clone(), path, None).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        }
        let r = f
            .request(Method::PATCH, path, Some(0))
            .header("Content-Type", "application/offset+octet-stream")
            .body(b"hub_id = \"hub-evil\"\n".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "PATCH {path}");
    }
    assert_eq!(
        std::fs::read(f.data.join(jemput_hub::CONFIG_FILE)).unwrap(),
        config_before
    );
    assert_eq!(
        std::fs::read(f.data.join(jemput_hub::KEY_FILE)).unwrap(),
        key_before
    );
    let ignore_db = |v: Vec<PathBuf>| -> Vec<PathBuf> {
        v.into_iter()
            .filter(|p| !p.to_string_lossy().starts_with("hub.sqlite"))
            .collect()
    };
    assert_eq!(ignore_db(files_under(&f.data)), ignore_db(files_before));
    assert_eq!(f.part_len(&loc), 0);
}

#[tokio::test]
async fn another_kits_upload_is_invisible_404() {
    let f = fixture();
    let other = f.register("kit-other");
    let packet = f.packet_with_payload(&payload(3000, 18));
    let loc = f.created(&packet).await;
    let b = f.http.head(f.url(&loc)).header("Tus-Resumable", "1.0.0");
    let r = f
        .http
        .execute(signed(b, "kit-other", &other))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_terminates_an_upload_and_later_requests_get_410() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(3000, 19));
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..1000]).await.status(), 204);
    let r = f.request(Method::DELETE, &loc, None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());
    assert_eq!(f.head(&loc).await.status(), StatusCode::GONE);
    assert_eq!(f.patch(&loc, 1000, &packet[1000..]).await.status(), 410);
    // A new creation starts over.
    let again = f.created(&packet).await;
    assert_ne!(again, loc);
    assert_eq!(offset_of(&f.head(&again).await), 0);
}

#[tokio::test]
async fn an_upload_idle_past_its_expiry_is_gone_410() {
    let f = fixture_with(|c| c.upload_expiry_secs = 1);
    let packet = f.packet_with_payload(&payload(3000, 20));
    let loc = f.created(&packet).await;
    let r = f.patch(&loc, 0, &packet[..100]).await;
    assert!(header(&r, "upload-expires").unwrap().ends_with(" GMT"));
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let r = f.head(&loc).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(
        r.text().await.unwrap_or_default().is_empty(),
        "HEAD has no body"
    );
    assert_eq!(files_under(&f.data.join("uploads")), Vec::<PathBuf>::new());
}

/// The `Jemput-Auth` value of a kit's PATCH with these `Upload-Offset` and `Upload-Checksum`.
fn patch_auth(f: &Fixture, loc: &str, offset: u64, checksum: &str) -> String {
    let offset = offset.to_string();
    let request = auth::Request {
        method: "PATCH",
        path: loc,
        headers: auth::Covered {
            offset: Some(&offset),
            checksum: Some(checksum),
            ..auth::Covered::default()
        },
    };
    auth::sign(KIT_ID, &f.kit, &request, now())
}

/// Opens a connection and sends the head of a PATCH announcing `chunk` (its length and sha256
/// checksum); the body is the caller's to send, or not.
async fn raw_patch_head(
    f: &Fixture,
    loc: &str,
    offset: u64,
    chunk: &[u8],
) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(f.hub.addr).await.unwrap();
    let sum = format!("sha256 {}", b64_digest::<Sha256>(chunk));
    let a = patch_auth(f, loc, offset, &sum);
    let head = format!(
        "PATCH {loc} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\n{}: {a}\r\n\
         Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n\
         Upload-Checksum: {sum}\r\nContent-Length: {}\r\n\r\n",
        f.hub.addr,
        auth::HEADER,
        chunk.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

#[tokio::test]
async fn a_patch_cut_mid_body_is_discarded_whole_and_the_upload_resumes() {
    // Every PATCH carries a checksum (the signature covers the body through it), so a cut chunk
    // cannot be checked and none of it is kept.
    let f = fixture();
    let sealed = small_packet(&f.kit, &f.office);
    let packet = &sealed.bytes;
    let loc = f.created(packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..500]).await.status(), 204);

    let mut s = raw_patch_head(&f, &loc, 500, &packet[500..4000]).await;
    s.write_all(&packet[500..1500]).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(s);

    let r = f.head(&loc).await;
    assert_eq!(offset_of(&r), 500);
    assert_eq!(
        f.part_len(&loc),
        500,
        "the offset is exactly what is on disk"
    );

    let r = f.patch(&loc, 500, &packet[500..]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let receipt = Receipt::from_header_value(header(&r, "jemput-receipt").unwrap()).unwrap();
    receipt
        .verify_for(
            &f.hub.hub_key,
            &sealed.header.packet_id,
            &sealed.header.payload_sha256,
        )
        .unwrap();
    assert_eq!(
        std::fs::read(f.stored(&sealed.header.packet_id)).unwrap(),
        *packet
    );
}

#[tokio::test]
async fn a_cut_checksummed_chunk_is_discarded_whole() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(5000, 21));
    let loc = f.created(&packet).await;
    let mut s = tokio::net::TcpStream::connect(f.hub.addr).await.unwrap();
    let a = patch_auth(
        &f,
        &loc,
        0,
        &format!("sha1 {}", b64_digest::<Sha1>(&packet[..4000])),
    );
    let head = format!(
        "PATCH {loc} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n{}: {a}\r\n\
         Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n\
         Upload-Checksum: sha1 {}\r\nContent-Length: 4000\r\n\r\n",
        auth::HEADER,
        b64_digest::<Sha1>(&packet[..4000])
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&packet[..1500]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(s);
    assert_eq!(offset_of(&f.head(&loc).await), 0);
    assert_eq!(f.part_len(&loc), 0);
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_is_cut_and_the_hub_serves_others_meanwhile() {
    let f = fixture_with(|c| c.idle_timeout_secs = 1);
    let packet = f.packet_with_payload(&payload(5000, 22));
    let loc = f.created(&packet).await;
    let mut s = raw_patch_head(&f, &loc, 0, &packet[..4000]).await;
    s.write_all(&packet[..1200]).await.unwrap();

    // Meanwhile another upload goes through.
    let other = f.packet_with_payload(&payload(2000, 23));
    let receipt = f.upload(&other).await;
    receipt.verify(&f.hub.hub_key).unwrap();

    // The stalled request ends after the idle timeout; its unchecked part is not kept.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .expect("the hub ends a stalled request")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 400"));
    assert_eq!(offset_of(&f.head(&loc).await), 0);
    assert_eq!(f.part_len(&loc), 0);
}

#[tokio::test]
async fn receipts_are_served_only_to_the_kit_that_uploaded() {
    let f = fixture();
    let packet = f.packet_with_payload(&payload(2000, 24));
    let id = parse_prelude(&packet).unwrap().header.packet_id;
    f.upload(&packet).await;
    let other = f.register("kit-other");
    let path = format!("/v1/receipts/{id}");
    let r = f
        .http
        .execute(signed(f.http.get(f.url(&path)), "kit-other", &other))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = f
        .request(Method::GET, "/v1/receipts/no-such-packet", None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = f.http.get(f.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_restarted_hub_keeps_uploads_in_progress_and_receipts() {
    let f = fixture();
    let done = f.packet_with_payload(&payload(2000, 25));
    let receipt = f.upload(&done).await;
    let packet = f.packet_with_payload(&payload(4000, 26));
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..1000]).await.status(), 204);
    let f = f.restarted(|_| {});
    assert_eq!(offset_of(&f.head(&loc).await), 1000);
    let r = f.patch(&loc, 1000, &packet[1000..]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = f.create(&done).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        Receipt::from_header_value(header(&r, "jemput-receipt").unwrap()).unwrap(),
        receipt
    );
}

#[tokio::test]
async fn bytes_from_before_a_restart_that_fail_the_packet_hash_restart_the_upload_once_then_it_is_refused(
) {
    // `PATCH`es are not fsynced (docs/hub-protocol.md §6): bytes written before the hub last
    // started may be a power cut's, so a failed hash over them restarts the upload from 0 (409);
    // bytes all written since judge the packet (422).
    let f = fixture();
    let mut packet = f.packet_with_payload(&payload(4000, 27));
    let last = packet.len() - 1;
    packet[last] ^= 0x55; // the payload no longer hashes to the signed header
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..1000]).await.status(), 204);
    let f = f.restarted(|_| {});
    let r = f.patch(&loc, 1000, &packet[1000..]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(offset_of(&r), 0);
    assert!(r.text().await.unwrap().contains("SHA-256"));
    assert_eq!((offset_of(&f.head(&loc).await), f.part_len(&loc)), (0, 0));
    let r = f.patch(&loc, 0, &packet).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("SHA-256 does not match"));
    assert_eq!(f.head(&loc).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn a_restarted_hub_reports_only_the_bytes_its_part_file_holds() {
    // A power cut took chunks whose offsets were committed: the file is shorter than the offset.
    let f = fixture();
    let packet = f.packet_with_payload(&payload(4000, 28));
    let loc = f.created(&packet).await;
    assert_eq!(f.patch(&loc, 0, &packet[..3000]).await.status(), 204);
    let f = f.restarted(|data| {
        let id = loc.rsplit('/').next().unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(data.join("uploads").join(format!("{id}.part")))
            .unwrap()
            .set_len(1200)
            .unwrap();
    });
    assert_eq!(offset_of(&f.head(&loc).await), 1200);
    let r = f.patch(&loc, 3000, &packet[3000..]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(offset_of(&r), 1200);
    let r = f.patch(&loc, 1200, &packet[1200..]).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    Receipt::from_header_value(header(&r, "jemput-receipt").unwrap()).unwrap();
    let id = parse_prelude(&packet).unwrap().header.packet_id;
    assert_eq!(std::fs::read(f.stored(&id)).unwrap(), packet);
}

#[test]
fn the_hub_cli_creates_a_hub_registers_lists_and_revokes_kits() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    let out = jemput()
        .args(["hub", "init", "--json", "--data"])
        .arg(&data)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(v["hub_id"].as_str().unwrap().starts_with("hub-"));
    // The embedded backend: no PostgreSQL, packets in the data directory.
    assert!(
        v["postgres"].is_null() && v["object_store"].is_null(),
        "{v}"
    );
    let key_file = data.join(jemput_hub::KEY_FILE);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        SigningKey::load(&key_file).unwrap().public().to_string(),
        v["hub_key"].as_str().unwrap()
    );
    jemput()
        .args(["hub", "init", "--data"])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains("already holds a hub"));

    let kit = SigningKey::generate().public().to_string();
    jemput()
        .args([
            "hub",
            "kits",
            "add",
            "--kit-id",
            "kit-a1",
            "--name",
            "Tim Nunukan",
        ])
        .args(["--kit-key", &kit, "--data"])
        .arg(&data)
        .assert()
        .success()
        .stdout(predicate::str::contains("kit-a1"));
    jemput()
        .args([
            "hub",
            "kits",
            "add",
            "--kit-id",
            "kit-a1",
            "--kit-key",
            &kit,
            "--data",
        ])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains("already registered"));
    jemput()
        .args(["hub", "kits", "revoke", "kit-a1", "--data"])
        .arg(&data)
        .assert()
        .success();
    let out = jemput()
        .args(["hub", "kits", "--json", "--data"])
        .arg(&data)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v[0]["kit_id"], "kit-a1");
    assert_eq!(v[0]["kit_key"], kit.as_str());
    assert_eq!(v[0]["name"], "Tim Nunukan");
    assert_eq!(v[0]["revoked"], true);
    jemput()
        .args(["hub", "kits", "revoke", "kit-zz", "--data"])
        .arg(&data)
        .assert()
        .failure()
        .stderr(predicate::str::contains("no kit kit-zz"));
    // The console's audit log holds the command line's changes, and only those that were made.
    let log: Vec<_> = jemput_hub::office::Office::open(&data)
        .unwrap()
        .audit(10)
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.detail))
        .collect();
    let cli = jemput_hub::office::CLI_ACTOR.to_string();
    assert_eq!(
        log,
        [
            (cli.clone(), "kit.revoke".to_string(), "kit-a1".to_string()),
            (cli, "kit.add".to_string(), "kit-a1".to_string()),
        ]
    );
}

#[test]
fn hub_serve_refuses_plain_http_off_loopback_without_the_flag() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("hub");
    jemput_hub::init(&data).unwrap();
    jemput()
        .args([
            "hub",
            "serve",
            "--plain-http",
            "--listen",
            "0.0.0.0:0",
            "--data",
        ])
        .arg(&data)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("not a loopback address")
                .and(predicate::str::contains("--insecure-http")),
        );
    jemput()
        .args(["hub", "serve", "--listen", "127.0.0.1:0"])
        .env_remove("JEMPUT_HUB_DATA")
        .assert()
        .failure()
        .stderr(predicate::str::contains("--data"));
}

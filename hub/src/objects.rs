//! Stored packets in an S3-compatible object store ([`ObjectStorage`]), for a hub that outgrows
//! one machine (`docs/scale-out.md`, "Object store"): `[object_store]` in `hub.toml` names the
//! bucket as `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`, the credentials come from
//! `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` or from a private file `hub.toml` names. The
//! receipt rows stay in the hub database, as with [`crate::DirStorage`].
//!
//! Written once: a packet's object key ends in the SHA-256 of its bytes
//! (`PREFIX/<packet id>/<sha256>.jpk`), so a key only ever holds those bytes. Putting the same
//! packet again (a retry, a crash between the put and the receipt) rewrites the same bytes; a
//! different packet under the same id goes to another key and is refused when its receipt would
//! be committed, because the receipt row of the first is there. This does not rely on the store
//! honouring conditional writes (`If-None-Match: *`), which Garage 2.5 ignores (the test
//! `garage_ignores_if_none_match` in `tests/object_store.rs` shows it).
//!
//! Durable before the receipt: the receipt row is committed only after the object store
//! acknowledged the whole object (a `PUT` answered `200`, its body checked by the store against
//! the SigV4 payload hash; a packet over 16 MiB goes as a multipart upload, acknowledged when the
//! store completes it from its parts), so the receipt leaves the hub only for a packet the store
//! holds.
//!
//! The object store client is async and the [`Storage`] trait is sync, called from blocking
//! threads (the HTTP handlers run storage on tokio's blocking pool, the CLI has no runtime): the
//! bridge is here and only here, a runtime of one worker thread owned by the storage, to which
//! each call is handed and waited for.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::storage::{already, commit_receipt, held_row, valid_packet_id, HeldPacket};
use crate::storage::{PutOutcome, Storage};
use crate::{lock, Backend, HubError};
use jemput_core::packet::{Header, EXTENSION};
use jemput_core::wire::receipt::Receipt;

/// `[object_store]` in `hub.toml`: where packets are stored instead of `<data>/packets/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// The bucket: `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`, e.g.
    /// `s3://packets?endpoint=http://127.0.0.1:3900&region=garage`. Without `endpoint`, Amazon
    /// S3 itself; plain `http://` only for an endpoint on loopback.
    pub url: String,
    /// A file with the credentials (`access_key_id = "…"`, `secret_access_key = "…"`), readable by
    /// the hub's user only; a relative path is taken from the data directory. Without it the hub
    /// reads `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` from its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<PathBuf>,
}

/// An object store URL, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    pub bucket: String,
    /// Key prefix, without slashes at either end; empty for none.
    pub prefix: String,
    /// `None`: Amazon S3 itself.
    pub endpoint: Option<url::Url>,
    pub region: String,
}

/// The region when the URL names none (what Amazon S3 and most S3-compatible stores take).
pub const DEFAULT_REGION: &str = "us-east-1";

impl ObjectUrl {
    /// Parses `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`; `Err` says what is wrong.
    pub fn parse(text: &str) -> Result<ObjectUrl, String> {
        let u = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        if u.scheme() != "s3" {
            return Err(format!(
                "the scheme is {:?}; write s3://BUCKET?endpoint=URL&region=REGION",
                u.scheme()
            ));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err("credentials do not go in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or credentials_file in hub.toml".into());
        }
        let bucket = u.host_str().unwrap_or("").to_string();
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-'));
        if !bucket_ok {
            return Err(format!(
                "bad bucket name {bucket:?}: 3 to 63 characters from a-z 0-9 . -"
            ));
        }
        if u.port().is_some() {
            return Err("a port goes in the endpoint, not after the bucket".into());
        }
        let prefix = u.path().trim_matches('/').to_string();
        let prefix_ok = prefix.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        });
        if !prefix.is_empty() && !prefix_ok {
            return Err(format!(
                "bad key prefix {prefix:?}: segments of A-Z a-z 0-9 . - _ separated by /"
            ));
        }
        let mut endpoint = None;
        let mut region = None;
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "endpoint" if endpoint.is_none() => {
                    endpoint = Some(parse_endpoint(&v)?);
                }
                "region" if region.is_none() => {
                    if v.is_empty()
                        || !v
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
                    {
                        return Err(format!("bad region {v:?}"));
                    }
                    region = Some(v.into_owned());
                }
                "endpoint" | "region" => return Err(format!("{k} is given twice")),
                _ => {
                    return Err(format!(
                        "unknown parameter {k:?}: only endpoint and region are understood"
                    ))
                }
            }
        }
        Ok(ObjectUrl {
            bucket,
            prefix,
            endpoint,
            region: region.unwrap_or_else(|| DEFAULT_REGION.into()),
        })
    }

    /// Whether requests go over plain HTTP (allowed only to a loopback endpoint).
    pub fn plain_http(&self) -> bool {
        self.endpoint.as_ref().is_some_and(|e| e.scheme() == "http")
    }
}

impl fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        match &self.endpoint {
            Some(e) => write!(f, " at {}", e.as_str().trim_end_matches('/')),
            None => write!(f, " (Amazon S3, {})", self.region),
        }
    }
}

fn parse_endpoint(v: &str) -> Result<url::Url, String> {
    let e = url::Url::parse(v).map_err(|e| format!("bad endpoint {v:?} ({e})"))?;
    match e.scheme() {
        "https" => {}
        "http" => {
            let loopback = match e.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(a)) => IpAddr::V4(a).is_loopback(),
                Some(url::Host::Ipv6(a)) => IpAddr::V6(a).is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(format!(
                    "endpoint {v} is plain http to another machine: packets and signed requests would cross the network in clear text; use https (plain http is only for an object store on this machine's loopback)"
                ));
            }
        }
        other => {
            return Err(format!(
                "endpoint {v}: the scheme must be https or http, not {other:?}"
            ))
        }
    }
    if e.host().is_none() || e.path() != "/" || e.query().is_some() {
        return Err(format!(
            "endpoint {v} must be scheme, host and port only (e.g. http://127.0.0.1:3900)"
        ));
    }
    Ok(e)
}

/// The credentials file's contents.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    access_key_id: String,
    secret_access_key: String,
}

/// An access key id and its secret.
#[derive(Clone)]
struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Environment variables the credentials are read from when `hub.toml` names no file.
pub const ACCESS_KEY_VAR: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";

fn load_credentials(data: &Path, config: &ObjectStoreConfig) -> Result<Credentials, HubError> {
    let Some(file) = &config.credentials_file else {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        return match (var(ACCESS_KEY_VAR), var(SECRET_KEY_VAR)) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
                access_key_id,
                secret_access_key,
            }),
            _ => Err(HubError::BadObjectStore {
                value: config.url.clone(),
                why: format!("no credentials: set {ACCESS_KEY_VAR} and {SECRET_KEY_VAR} in the hub's environment, or name a file with credentials_file under [object_store] in hub.toml"),
            }),
        };
    };
    use std::os::unix::fs::PermissionsExt;
    let path = data.join(file);
    let bad = |why: String| HubError::BadObjectStore {
        value: path.display().to_string(),
        why,
    };
    let meta = std::fs::metadata(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "the credentials file is readable by other users (mode {mode:o}); run `chmod 600 {}`",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let c: CredentialsFile = toml::from_str(&text).map_err(|e| {
        bad(format!(
            "not a credentials file (access_key_id = \"…\", secret_access_key = \"…\"): {}",
            e.message()
        ))
    })?;
    if c.access_key_id.is_empty() || c.secret_access_key.is_empty() {
        return Err(bad(
            "access_key_id and secret_access_key must not be empty".into()
        ));
    }
    Ok(Credentials {
        access_key_id: c.access_key_id,
        secret_access_key: c.secret_access_key,
    })
}

/// Verified packets in an object store, receipts in the hub's state (SQLite or PostgreSQL).
pub struct ObjectStorage {
    url: ObjectUrl,
    /// The client, or why there is none (no credentials): a command that never touches packets
    /// (`hub enroll-token`) works without them; `hub serve` refuses to start.
    store: Result<Arc<dyn ObjectStore>, String>,
    state: Backend,
    /// The packet ids this process is storing now (embedded state only; on PostgreSQL an
    /// advisory lock does this across processes).
    storing: Storing,
    /// The bridge from the sync trait to the async client; `None` only while dropping.
    rt: Option<tokio::runtime::Runtime>,
}

/// The packet ids being stored, so that two completions of one packet id in this process store
/// one after the other: the second then finds the first's receipt before it writes anything.
/// Without it both could pass the "already held?" check, both write an object (different packets
/// under one id go under different keys), and the one whose receipt lost left its object in the
/// store, referenced by nothing. The put itself is not under the database's lock, so other
/// packets' puts and the hub's other requests go on meanwhile.
#[derive(Default)]
struct Storing {
    ids: std::sync::Mutex<std::collections::HashSet<String>>,
    freed: std::sync::Condvar,
}

/// One packet id taken in [`Storing`]; freed when dropped.
struct StoringId<'a> {
    storing: &'a Storing,
    id: String,
}

impl Storing {
    /// Takes `id`, waiting while another completion in this process holds it.
    fn take(&self, id: &str) -> StoringId<'_> {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        while ids.contains(id) {
            ids = self.freed.wait(ids).unwrap_or_else(|e| e.into_inner());
        }
        ids.insert(id.to_string());
        StoringId {
            storing: self,
            id: id.to_string(),
        }
    }
}

impl Drop for StoringId<'_> {
    fn drop(&mut self) {
        let mut ids = self.storing.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.remove(&self.id);
        self.storing.freed.notify_all();
    }
}

impl fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStorage")
            .field("url", &self.url.to_string())
            .finish_non_exhaustive()
    }
}

impl Drop for ObjectStorage {
    fn drop(&mut self) {
        // The hub may be dropped on an async thread, where dropping a runtime would block.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// How long one request may take to connect, and to finish.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the client retries a failed request (network errors, `5xx`) before the hub answers
/// the kit `503`: short, because the kit retries too and a kit's request should not hang.
const RETRY_FOR: Duration = Duration::from_secs(10);

impl ObjectStorage {
    /// The storage `config` names, for the hub in `data`. Nothing is sent yet: see
    /// [`Storage::check`].
    pub(crate) fn open(
        data: &Path,
        config: &ObjectStoreConfig,
        state: Backend,
    ) -> Result<Self, HubError> {
        let url = ObjectUrl::parse(&config.url).map_err(|why| HubError::BadObjectStore {
            value: config.url.clone(),
            why,
        })?;
        let store = match load_credentials(data, config) {
            Ok(c) => Ok(build(&url, &c)?),
            Err(e @ HubError::BadObjectStore { .. }) if config.credentials_file.is_none() => {
                Err(e.to_string())
            }
            Err(e) => return Err(e),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("jemput-objects")
            .enable_all()
            .build()
            .map_err(HubError::Serve)?;
        Ok(ObjectStorage {
            url,
            store,
            state,
            storing: Storing::default(),
            rt: Some(rt),
        })
    }

    /// Writes the verified packet in `file` under its key and returns the key, once the store
    /// acknowledged it. The same bytes go under the same key whatever happened before: an
    /// unconditional put.
    fn put_object(&self, header: &Header, file: &Path, size: u64) -> Result<String, HubError> {
        if size > SINGLE_PUT_MAX {
            return self.put_in_parts(header, file, size);
        }
        let bytes = std::fs::read(file).map_err(HubError::io("read", file))?;
        if bytes.len() as u64 != size {
            return Err(HubError::Io {
                what: "read the verified packet",
                path: file.to_path_buf(),
                source: std::io::Error::other(format!(
                    "{} bytes, the upload has {size}",
                    bytes.len()
                )),
            });
        }
        let key = self.key_for(&header.packet_id, &hex::encode(Sha256::digest(&bytes)));
        let store = self.store()?;
        let at = Key::from(key.as_str());
        let put = self.run(async move { store.put(&at, PutPayload::from(bytes)).await });
        put.map_err(|e| self.error(format!("store packet {}", header.packet_id), e))?;
        Ok(key)
    }

    /// [`Self::put_object`] for a packet larger than [`SINGLE_PUT_MAX`]: a multipart upload of
    /// [`PART_SIZE`] parts read from the file as they go, so the hub holds a few parts of the
    /// packet, not the whole of it. The key needs the SHA-256 of the bytes first, so the file is
    /// read twice; the second reading is hashed again, and should it differ from the first
    /// (the file changed under the hub) the upload is aborted and nothing is stored. The store
    /// acknowledges the object only when it completes the upload, after every part (each checked
    /// by the store against its SigV4 payload hash).
    fn put_in_parts(&self, header: &Header, file: &Path, size: u64) -> Result<String, HubError> {
        let (sha256, len) = sha256_of_file(file)?;
        if len != size {
            return Err(HubError::Io {
                what: "read the verified packet",
                path: file.to_path_buf(),
                source: std::io::Error::other(format!("{len} bytes, the upload has {size}")),
            });
        }
        let key = self.key_for(&header.packet_id, &sha256);
        let store = self.store()?;
        let at = Key::from(key.as_str());
        let path = file.to_path_buf();
        let put = self.run(async move { write_parts(store, at, &path, &sha256).await });
        match put {
            Ok(()) => Ok(key),
            Err(PartsError::Store(e)) => {
                Err(self.error(format!("store packet {}", header.packet_id), e))
            }
            Err(PartsError::Read(source)) => Err(HubError::Io {
                what: "read the verified packet",
                path: file.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the bytes of a held packet under their key, then reads the object back and compares
    /// its SHA-256 with theirs (`jemput hub migrate`): the key, once the store returned exactly
    /// these bytes.
    pub(crate) fn put_checked(&self, packet_id: &str, bytes: Vec<u8>) -> Result<String, HubError> {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let key = self.key_for(packet_id, &sha256);
        let store = self.store()?;
        let at = Key::from(key.as_str());
        let (put_store, put_at) = (store.clone(), at.clone());
        self.run(async move { put_store.put(&put_at, PutPayload::from(bytes)).await })
            .map_err(|e| self.error(format!("store packet {packet_id}"), e))?;
        let got = self
            .run(async move {
                match store.get(&at).await {
                    Ok(r) => r.bytes().await,
                    Err(e) => Err(e),
                }
            })
            .map_err(|e| self.error(format!("read back packet {packet_id} ({key})"), e))?;
        let back = hex::encode(Sha256::digest(&got));
        if back != sha256 {
            return Err(HubError::MigrateRefused {
                why: format!(
                    "the object store {} returned other bytes for {key} than were written (SHA-256 {back}, written {sha256}); check the store's health before migrating again",
                    self.url
                ),
            });
        }
        Ok(key)
    }

    /// The key a packet with these bytes is stored under.
    pub fn key_for(&self, packet_id: &str, sha256_hex: &str) -> String {
        object_key(&self.url.prefix, packet_id, sha256_hex)
    }

    fn store(&self) -> Result<Arc<dyn ObjectStore>, HubError> {
        self.store.clone().map_err(|why| HubError::BadObjectStore {
            value: self.url.to_string(),
            why,
        })
    }

    /// Runs `fut` on the storage's runtime and waits for it.
    fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.rt
            .as_ref()
            .expect("the runtime lives until the storage is dropped")
            .spawn(async move {
                let _ = tx.send(fut.await);
            });
        rx.recv()
            .expect("the object store task ends by sending its result")
    }

    /// An `object_store` error as the hub's: refused (credentials, bucket) or unavailable.
    fn error(&self, what: String, e: object_store::Error) -> HubError {
        let store = self.url.to_string();
        let why = e.to_string();
        let refused = match &e {
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. }
            | object_store::Error::NotFound { .. } => true,
            // A `4xx` other than those: the request itself was refused (a wrong region, a
            // malformed key id); retrying will not help. Network errors and `5xx` may pass.
            _ => client_error(&why),
        };
        if refused {
            HubError::ObjectStoreRefused { store, what, why }
        } else {
            HubError::ObjectStoreUnavailable { store, what, why }
        }
    }
}

/// Packets up to this size go to the store in one `PUT`, read whole; larger ones in parts
/// ([`ObjectStorage::put_in_parts`]). A packet is ~200 KB in the field; the hub accepts up to
/// `max_size` (64 MiB by default), and a few of those completing at once would otherwise each
/// be held whole.
pub(crate) const SINGLE_PUT_MAX: u64 = 16 << 20;
/// The size of one part of a multipart upload: above S3's smallest (5 MiB, all parts but the
/// last), few enough requests for a 64 MiB packet.
const PART_SIZE: usize = 8 << 20;
/// Parts sent at once: one being read while one is in flight.
const PARTS_IN_FLIGHT: usize = 2;

/// The SHA-256 (hex) and length of `file`, read in blocks.
fn sha256_of_file(file: &Path) -> Result<(String, u64), HubError> {
    use std::io::Read;
    let mut f = std::fs::File::open(file).map_err(HubError::io("open", file))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(HubError::io("read", file))?;
        if n == 0 {
            return Ok((hex::encode(hash.finalize()), len));
        }
        hash.update(&buf[..n]);
        len += n as u64;
    }
}

/// Why a multipart upload failed: reading the packet, or the store.
enum PartsError {
    Read(std::io::Error),
    Store(object_store::Error),
}

/// Sends `file` to `at` as a multipart upload of [`PART_SIZE`] parts, completing it only if the
/// bytes sent hash to `sha256` (hex); aborts it otherwise or on any error, so the store keeps no
/// parts.
async fn write_parts(
    store: Arc<dyn ObjectStore>,
    at: Key,
    file: &Path,
    sha256: &str,
) -> Result<(), PartsError> {
    use tokio::io::AsyncReadExt;
    let upload = store.put_multipart(&at).await.map_err(PartsError::Store)?;
    let mut parts = object_store::WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let sent = async {
        let mut f = tokio::fs::File::open(file)
            .await
            .map_err(PartsError::Read)?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).await.map_err(PartsError::Read)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            parts
                .wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(PartsError::Store)?;
            parts.write(&buf[..n]);
        }
        if hex::encode(hash.finalize()) != sha256 {
            return Err(PartsError::Read(std::io::Error::other(
                "the file changed while it was being stored",
            )));
        }
        Ok(())
    }
    .await;
    match sent {
        Ok(()) => parts.finish().await.map(drop).map_err(PartsError::Store),
        Err(e) => {
            if let Err(abort) = parts.abort().await {
                tracing::warn!(key = %at, "cannot abort the multipart upload: {abort}");
            }
            Err(e)
        }
    }
}

/// `PREFIX/<packet id>/<sha256>.jpk`.
pub fn object_key(prefix: &str, packet_id: &str, sha256_hex: &str) -> String {
    let name = format!("{packet_id}/{sha256_hex}.{EXTENSION}");
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

/// Whether an `object_store` message reports an HTTP `4xx` answer (the client's `RetryError` is
/// not public, so its text is read: "… status code: 4NN …").
fn client_error(message: &str) -> bool {
    message.match_indices("status code: 4").any(|(i, _)| {
        let rest = &message.as_bytes()[i + "status code: ".len()..];
        rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit)
    })
}

fn build(url: &ObjectUrl, c: &Credentials) -> Result<Arc<dyn ObjectStore>, HubError> {
    let mut b = AmazonS3Builder::new()
        .with_bucket_name(&url.bucket)
        .with_region(&url.region)
        .with_access_key_id(&c.access_key_id)
        .with_secret_access_key(&c.secret_access_key)
        .with_client_options(
            ClientOptions::new()
                .with_connect_timeout(CONNECT_TIMEOUT)
                .with_timeout(REQUEST_TIMEOUT)
                .with_allow_http(url.plain_http()),
        )
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 4,
            retry_timeout: RETRY_FOR,
        });
    if let Some(e) = &url.endpoint {
        // Path-style requests (`endpoint/bucket/key`): what S3-compatible stores on one host take.
        b = b
            .with_endpoint(e.as_str().trim_end_matches('/'))
            .with_virtual_hosted_style_request(false);
    }
    let s3 = b.build().map_err(|e| HubError::BadObjectStore {
        value: url.to_string(),
        why: e.to_string(),
    })?;
    Ok(Arc::new(s3))
}

impl Storage for ObjectStorage {
    fn put_packet(
        &self,
        header: &Header,
        file: &Path,
        size: u64,
        receipt: &Receipt,
    ) -> Result<PutOutcome, HubError> {
        let db = match &self.state {
            // On PostgreSQL the put runs under the packet id's lock, the receipt committed after it.
            Backend::Postgres(pool) => {
                return crate::pg::storage::put_with(pool, header, size, receipt, || {
                    self.put_object(header, file, size)
                });
            }
            Backend::Embedded(db) => db,
        };
        let _storing = self.storing.take(&header.packet_id);
        if let Some(held) = held_row(&lock(db), &header.packet_id)? {
            return Ok(already(header, held));
        }
        if !valid_packet_id(&header.packet_id) {
            return Err(HubError::Corrupt {
                what: "packet id",
                value: header.packet_id.clone(),
            });
        }
        let key = self.put_object(header, file, size)?;
        crate::test_hold::hold("moved");
        // The receipt row (with the opening row and the event) only now that the store holds it.
        let mut conn = lock(db);
        let outcome = commit_receipt(&mut conn, header, size, &key, receipt)?;
        if let PutOutcome::Conflict(held) = &outcome {
            // Not with `storing` held, in one process; should another process have written this
            // database (it is the embedded backend's, one process's), say what is left over.
            tracing::warn!(
                packet = %header.packet_id,
                "another packet with this id was receipted meanwhile; the object {key} is left unreferenced (held: kit {})",
                held.kit_id
            );
        }
        Ok(outcome)
    }

    fn held(&self, packet_id: &str) -> Result<Option<HeldPacket>, HubError> {
        match &self.state {
            Backend::Embedded(db) => held_row(&lock(db), packet_id),
            Backend::Postgres(pool) => crate::pg::storage::held(pool, packet_id),
        }
    }

    fn read_packet(&self, packet_id: &str) -> Result<Vec<u8>, HubError> {
        let key: Option<String> = match &self.state {
            Backend::Embedded(db) => {
                use rusqlite::OptionalExtension;
                lock(db)
                    .query_row(
                        "SELECT file FROM receipts WHERE packet_id = ?1",
                        [packet_id],
                        |r| r.get(0),
                    )
                    .optional()?
            }
            Backend::Postgres(pool) => crate::pg::storage::file_of(pool, packet_id)?,
        };
        let Some(key) = key else {
            return Err(HubError::Corrupt {
                what: "held packet id",
                value: packet_id.into(),
            });
        };
        let store = self.store()?;
        let at = Key::from(key.as_str());
        let got = self.run(async move {
            match store.get(&at).await {
                Ok(r) => r.bytes().await,
                Err(e) => Err(e),
            }
        });
        got.map(|b| b.to_vec())
            .map_err(|e| self.error(format!("read packet {packet_id} ({key})"), e))
    }

    fn check(&self) -> Result<(), HubError> {
        let store = self.store()?;
        let prefix = (!self.url.prefix.is_empty()).then(|| Key::from(self.url.prefix.as_str()));
        let listed = self.run(async move { store.list_with_delimiter(prefix.as_ref()).await });
        listed
            .map(|_| ())
            .map_err(|e| self.error("list the bucket".into(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_garage_url_names_bucket_endpoint_and_region() {
        let u =
            ObjectUrl::parse("s3://packets?endpoint=http://127.0.0.1:3900&region=garage").unwrap();
        assert_eq!(u.bucket, "packets");
        assert_eq!(u.prefix, "");
        assert_eq!(
            u.endpoint.as_ref().unwrap().as_str(),
            "http://127.0.0.1:3900/"
        );
        assert_eq!(u.region, "garage");
        assert!(u.plain_http());
        assert_eq!(u.to_string(), "s3://packets at http://127.0.0.1:3900");
        let u =
            ObjectUrl::parse("s3://jemput-sulteng/prov/72?endpoint=https://s3.example.id").unwrap();
        assert_eq!(u.prefix, "prov/72");
        assert_eq!(u.region, DEFAULT_REGION);
        assert!(!u.plain_http());
        assert_eq!(
            object_key(&u.prefix, "p", "ab"),
            format!("prov/72/p/ab.{EXTENSION}")
        );
        assert_eq!(object_key("", "p", "ab"), format!("p/ab.{EXTENSION}"));
    }

    #[test]
    fn bad_urls_are_refused_saying_why() {
        let why = |s: &str| ObjectUrl::parse(s).unwrap_err();
        assert!(
            why("http://packets").contains("scheme"),
            "{}",
            why("http://packets")
        );
        assert!(why("s3://ab").contains("bucket"));
        assert!(why("s3://Packets_1").contains("bucket"));
        assert!(why("s3://key:secret@packets").contains("credentials do not go in the URL"));
        assert!(why("s3://packets?endpoint=http://10.0.0.5:3900").contains("clear text"));
        assert!(why("s3://packets?endpoint=http://s3.example.id").contains("clear text"));
        assert!(why("s3://packets?endpoint=ftp://127.0.0.1").contains("https or http"));
        assert!(why("s3://packets?endpoint=http://127.0.0.1:3900/x").contains("host and port only"));
        assert!(why("s3://packets?bucket=x").contains("unknown parameter"));
        assert!(why("s3://packets?region=a&region=b").contains("twice"));
        assert!(why("s3://packets/a b").contains("prefix"));
        assert!(why("s3://packets:9000").contains("port"));
        for ok in [
            "s3://packets?endpoint=http://localhost:3900",
            "s3://packets?endpoint=http://[::1]:3900",
            "s3://packets?endpoint=https://10.0.0.5:3900",
        ] {
            assert!(ObjectUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn only_4xx_answers_count_as_refusals() {
        assert!(client_error(
            "Generic S3 error: Server returned non-2xx status code: 400 Bad Request: <Error>"
        ));
        assert!(!client_error(
            "Generic S3 error: Server returned non-2xx status code: 503 Service Unavailable"
        ));
        assert!(!client_error("error sending request: connection refused"));
        assert!(!client_error("status code: 4"));
    }

    /// Object storage over the `object_store` crate's in-memory store (this test is of the
    /// hub's ordering, not of S3: `tests/object_store.rs` runs against Garage) and an embedded
    /// database in `dir`.
    fn in_memory(dir: &Path) -> (ObjectStorage, Arc<object_store::memory::InMemory>) {
        let mem = Arc::new(object_store::memory::InMemory::new());
        let db = crate::open_db(&dir.join("hub.db")).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let storage = ObjectStorage {
            url: ObjectUrl::parse(&config(None).url).unwrap(),
            store: Ok(mem.clone()),
            state: Backend::Embedded(Arc::new(std::sync::Mutex::new(db))),
            storing: Storing::default(),
            rt: Some(rt),
        };
        (storage, mem)
    }

    /// A packet `id` of `kit` (its header, the file of `bytes`, a receipt for it), in `dir`.
    fn packet(
        dir: &Path,
        id: &str,
        kit: &str,
        bytes: &[u8],
    ) -> (Header, PathBuf, jemput_core::wire::receipt::Receipt) {
        use jemput_core::keys::SigningKey;
        use jemput_core::wire::receipt::{Receipt, ReceiptBody};
        let header = Header {
            format_version: 1,
            packet_id: id.into(),
            kit_id: kit.into(),
            kit_key: SigningKey::generate().public(),
            created_at: jiff::Timestamp::now(),
            recipients: vec![],
            payload_length: bytes.len() as u64,
            payload_sha256: hex::encode(Sha256::digest(bytes)),
        };
        let file = dir.join(format!("{kit}.part"));
        std::fs::write(&file, bytes).unwrap();
        let body = ReceiptBody {
            receipt_version: 1,
            hub_id: "hub-test".into(),
            packet_id: id.into(),
            kit_id: kit.into(),
            payload_sha256: header.payload_sha256.clone(),
            size: bytes.len() as u64,
            received_at: jiff::Timestamp::now(),
        };
        (header, file, Receipt::sign(&body, &SigningKey::generate()))
    }

    /// The keys under `id/` in `mem`.
    fn keys_in(mem: &Arc<object_store::memory::InMemory>, id: &str) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let listed = rt
            .block_on(mem.list_with_delimiter(Some(&Key::from(id))))
            .unwrap();
        listed
            .objects
            .iter()
            .map(|m| m.location.to_string())
            .collect()
    }

    /// While a completion in this process is storing a packet id, a second packet under that
    /// id waits, then finds the first's receipt and is refused without writing an object. (Both
    /// used to pass the "already held?" check and write an object each; the one whose receipt
    /// lost was left in the store, referenced by nothing.)
    #[test]
    fn a_second_packet_under_an_id_being_stored_waits_and_leaves_no_object() {
        let dir = tempfile::tempdir().unwrap();
        let (storage, mem) = in_memory(dir.path());
        let id = "0b7f6a55-43c4-4d3e-9b8a-3c1f2e5d6a70";
        let (a, a_file, a_receipt) = packet(dir.path(), id, "kit-a", b"the first packet");
        let (b, b_file, b_receipt) = packet(dir.path(), id, "kit-b", b"another packet");
        // The first packet's completion is storing the id.
        let first = storage.storing.take(id);
        std::thread::scope(|s| {
            let second = s.spawn(|| storage.put_packet(&b, &b_file, 14, &b_receipt));
            std::thread::sleep(Duration::from_millis(300));
            assert!(!second.is_finished(), "the second put did not wait");
            assert_eq!(keys_in(&mem, id), Vec::<String>::new());
            // The first completion writes its object and commits its receipt, then lets go.
            let Backend::Embedded(db) = &storage.state else {
                unreachable!()
            };
            let key = storage.key_for(id, &a.payload_sha256);
            crate::storage::commit_receipt(&mut lock(db), &a, 16, &key, &a_receipt).unwrap();
            drop(first);
            let outcome = second.join().unwrap().unwrap();
            assert!(
                matches!(&outcome, PutOutcome::Conflict(h) if h.kit_id == "kit-a"),
                "{outcome:?}"
            );
        });
        assert_eq!(keys_in(&mem, id), Vec::<String>::new());
        assert!(a_file.exists());
    }

    fn config(file: Option<&str>) -> ObjectStoreConfig {
        ObjectStoreConfig {
            url: "s3://packets?endpoint=http://127.0.0.1:1&region=garage".into(),
            credentials_file: file.map(PathBuf::from),
        }
    }

    #[test]
    fn a_credentials_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("s3.toml");
        std::fs::write(&f, "access_key_id = \"GK1\"\nsecret_access_key = \"s\"\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_credentials(dir.path(), &config(Some("s3.toml"))).unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = load_credentials(dir.path(), &config(Some("s3.toml"))).unwrap();
        assert_eq!(c.access_key_id, "GK1");
        assert!(!format!("{c:?}").contains("secret_access_key: \"s\""));
        std::fs::write(&f, "access_key = \"GK1\"\n").unwrap();
        let e = load_credentials(dir.path(), &config(Some("s3.toml"))).unwrap_err();
        assert!(e.to_string().contains("not a credentials file"), "{e}");
        let e = load_credentials(dir.path(), &config(Some("absent.toml"))).unwrap_err();
        assert!(e.to_string().contains("cannot read it"), "{e}");
    }
}

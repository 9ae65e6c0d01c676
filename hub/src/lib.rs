//! The office hub: a tus 1.0.0 server that verifies each packet before it accepts it and answers
//! with a receipt signed by the hub key. The protocol is `docs/hub-protocol.md`.
//!
//! Layout of a hub data directory:
//!
//! ```text
//! <data>/hub.toml               hub id and limits (HubConfig)
//! <data>/hub.ed25519            the hub's signing key (PKCS#8 PEM, 0600): receipts are signed with it
//! <data>/hub-cert.pem           the hub's self-signed TLS certificate; kits pin its SHA-256
//! <data>/hub-cert.key           its private key (PKCS#8 PEM, 0600)
//! <data>/hub.sqlite             kit registry, enrollment tokens, uploads in progress, receipts,
//!                               request nonces within the replay window, the office console's
//!                               accounts, sessions and audit log (`office`)
//!                               (WAL, synchronous=FULL; 0600 with its -wal and -shm, in a 0700
//!                               directory)
//! <data>/uploads/<id>.part      bytes of an upload in progress, not fsynced: the hub resumes from
//!                               min(`offset`, its length) (`uploads`' durability rules)
//! <data>/packets/<packet id>.jpk verified packets, each with a receipt in the database
//! <data>/quarantine/<packet id>.jpk packets that passed the outer checks but that the office
//!                               identity could not open (no receipt; `.why` beside each)
//! <data>/packets/<packet id>.jpk verified packets, each with a receipt in the database (unless
//!                               hub.toml names an object store: [`objects`])
//! <data>/worklist.json          the worklist kits receive in their sync document
//! <data>/kit-settings.toml      settings kits receive (offline policy, retention, recipients)
//! <data>/embedded-backup/       after `jemput hub migrate`: the embedded hub's hub.sqlite, old
//!                               hub.toml, worklist, settings and uploads, kept for a roll back
//!                               ([`migrate`])
//! ```
//!
//! The hub serves HTTPS with its own certificate (plain HTTP only on loopback or when told
//! `--insecure-http`); kits enroll with one-time tokens ([`enroll`]) or are registered by hand
//! (`jemput hub kits add`); the worklist and kit settings are served signed ([`kit_sync`]).
//!
//! After a packet is stored, a background task opens it with the office identity when one is
//! configured ([`opener`]), and every packet state change goes to a durable outbox that a second
//! task posts to the configured webhooks ([`events`]).

mod connlimit;
pub mod enroll;
pub mod error;
pub mod events;
mod http;
pub mod kit_sync;
pub mod migrate;
mod nonces;
pub mod objects;
pub mod office;
pub mod opener;
pub mod packets;
pub mod pg;
pub mod registry;
pub mod server;
pub mod storage;
mod test_hold;
pub mod tls;
pub mod uploads;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use jemput_core::fsutil;
use jemput_core::keys::{PublicKey, SigningKey};

pub use enroll::{IssuedToken, Tokens};
pub use error::HubError;
pub use objects::{ObjectStorage, ObjectStoreConfig};
pub use pg::PostgresConfig;
pub use registry::{KitEntry, Registry};
pub use server::{
    serve, serve_tls_until, serve_tls_until_with, serve_until, serve_until_with, spawn_local,
    spawn_local_tls, ExtraRoutes, HubHandle,
};
pub use storage::{DirStorage, HeldPacket, PutOutcome, Storage};
pub use uploads::{Upload, UploadState, Uploads};

/// The hub config file, in the data directory.
pub const CONFIG_FILE: &str = "hub.toml";
/// The hub signing key, in the data directory.
pub const KEY_FILE: &str = "hub.ed25519";
/// The hub database, in the data directory.
pub const DB_FILE: &str = "hub.sqlite";
/// Partial uploads, under the data directory.
pub const UPLOADS_DIR: &str = "uploads";
/// Verified packets, under the data directory.
pub const PACKETS_DIR: &str = "packets";

/// Largest packet a new hub accepts (`Tus-Max-Size`).
pub const DEFAULT_MAX_SIZE: u64 = 64 << 20;
/// Largest body of one `PATCH` a new hub reads; what a kit sends beyond it is refused with `413`.
pub const DEFAULT_MAX_CHUNK: u64 = 8 << 20;
/// How long an upload in progress is kept without activity (`Upload-Expires`).
pub const DEFAULT_UPLOAD_EXPIRY_SECS: u64 = 24 * 3600;
/// How long a request head may take, and a request body stall, before the hub ends the request.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
/// Bytes per second a request body must average once `idle_timeout_secs` have passed.
pub const DEFAULT_MIN_BODY_RATE: u64 = 1024;
/// Connections served at once, from all peers together.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Connections served at once from one peer address.
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 32;
/// Unfinished uploads one kit may hold at once.
pub const DEFAULT_MAX_OPEN_UPLOADS_PER_KIT: u64 = 32;
/// Bytes one kit's unfinished uploads may declare (`Upload-Length`) together.
pub const DEFAULT_MAX_OPEN_UPLOAD_BYTES_PER_KIT: u64 = 1 << 30;

const DIR_MODE: u32 = 0o700;

/// The hub's settings, `hub.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// The hub's id, `hub-` and 8 hex digits; receipts name it.
    pub hub_id: String,
    /// Largest packet file accepted, in bytes (`Tus-Max-Size`).
    #[serde(default = "default_max_size")]
    pub max_size: u64,
    /// Largest body of one `PATCH`, in bytes.
    #[serde(default = "default_max_chunk")]
    pub max_chunk: u64,
    /// Seconds an unfinished upload is kept after its last byte arrived.
    #[serde(default = "default_upload_expiry")]
    pub upload_expiry_secs: u64,
    /// Seconds a request head may take, and a request body may stall, before the hub ends the
    /// request (a `PATCH` keeps what arrived); also the grace before `min_body_rate` counts.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Bytes per second a request body must average after its first `idle_timeout_secs`; a
    /// slower body is cut (a body of L bytes has `idle_timeout_secs + L / min_body_rate` seconds).
    #[serde(default = "default_min_body_rate")]
    pub min_body_rate: u64,
    /// Connections served at once; more are answered `503` with `Retry-After` and closed. Lowered
    /// at start to fit the open-files limit (`ulimit -n`), keeping 64 for the hub's files.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections served at once from one peer address; more are answered `429` with
    /// `Retry-After` and closed.
    #[serde(default = "default_max_connections_per_peer")]
    pub max_connections_per_peer: usize,
    /// Unfinished uploads one kit may hold; a creation past it is refused with `429`.
    #[serde(default = "default_max_open_uploads_per_kit")]
    pub max_open_uploads_per_kit: u64,
    /// Bytes one kit's unfinished uploads may declare together; a creation past it is refused
    /// with `429`.
    #[serde(default = "default_max_open_upload_bytes_per_kit")]
    pub max_open_upload_bytes_per_kit: u64,
    /// The office age recipients (`age1…`) enrolled kits are told to encrypt packets to.
    #[serde(default)]
    pub office_recipients: Vec<String>,
    /// The office's age identity file (`AGE-SECRET-KEY-1…`; a relative path is taken from the data
    /// directory): with it the hub opens every verified packet and records the result; without it
    /// packets are recorded "not opened".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_identity: Option<PathBuf>,
    /// Seconds a status event is retried before the hub gives up delivering it.
    #[serde(default = "default_event_max_age")]
    pub event_max_age_secs: u64,
    /// First wait, in milliseconds, before retrying a webhook delivery (doubles each time).
    #[serde(default = "default_webhook_retry_base")]
    pub webhook_retry_base_ms: u64,
    /// Longest wait, in seconds, between retries of a webhook delivery.
    #[serde(default = "default_webhook_retry_max")]
    pub webhook_retry_max_secs: u64,
    /// Where status events are posted (`[[webhooks]]` tables: `url`, `secret`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<events::WebhookConfig>,
    /// The scale-out backend: with a `[postgres]` table the hub's state (kits, tokens, uploads,
    /// receipts, openings, events, nonces, worklist, settings) lives in this PostgreSQL database
    /// instead of `hub.sqlite`, shared by every `jemput hub serve` process of the hub
    /// (`docs/scale-out.md`). Without it: the embedded backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PostgresConfig>,
    /// Store verified packets in an S3-compatible object store instead of `<data>/packets/`
    /// (`[object_store]`: `url`, `credentials_file`; `docs/scale-out.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_store: Option<objects::ObjectStoreConfig>,
    /// Load balancers in front of the hub, by the address the hub sees them connect from (e.g.
    /// `["127.0.0.1"]` for HAProxy on the same machine). From these only, the office console
    /// takes the browser's address from `X-Forwarded-For` for its sign-in limits; from any other
    /// peer the header is ignored (anyone could send it). Empty: the connection's own address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Status events are retried for three days by default.
pub const DEFAULT_EVENT_MAX_AGE_SECS: u64 = 3 * 24 * 3600;

fn default_event_max_age() -> u64 {
    DEFAULT_EVENT_MAX_AGE_SECS
}
fn default_webhook_retry_base() -> u64 {
    1000
}
fn default_webhook_retry_max() -> u64 {
    600
}

fn default_max_size() -> u64 {
    DEFAULT_MAX_SIZE
}
fn default_max_chunk() -> u64 {
    DEFAULT_MAX_CHUNK
}
fn default_upload_expiry() -> u64 {
    DEFAULT_UPLOAD_EXPIRY_SECS
}
fn default_idle_timeout() -> u64 {
    DEFAULT_IDLE_TIMEOUT_SECS
}
fn default_min_body_rate() -> u64 {
    DEFAULT_MIN_BODY_RATE
}
fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}
fn default_max_connections_per_peer() -> usize {
    DEFAULT_MAX_CONNECTIONS_PER_PEER
}
fn default_max_open_uploads_per_kit() -> u64 {
    DEFAULT_MAX_OPEN_UPLOADS_PER_KIT
}
fn default_max_open_upload_bytes_per_kit() -> u64 {
    DEFAULT_MAX_OPEN_UPLOAD_BYTES_PER_KIT
}

impl HubConfig {
    /// Reads `hub.toml` from a data directory.
    pub fn load(data: &Path) -> Result<HubConfig, HubError> {
        let path = data.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(HubError::NotInitialised { path: data.into() })
            }
            Err(e) => return Err(HubError::io("read", &path)(e)),
        };
        let config: HubConfig = toml::from_str(&text).map_err(|e| HubError::BadConfig {
            path: path.clone(),
            why: e.to_string(),
        })?;
        if config.max_size == 0 || config.max_chunk == 0 {
            return Err(HubError::BadConfig {
                path,
                why: "max_size and max_chunk must be positive".into(),
            });
        }
        if config.min_body_rate == 0
            || config.max_connections == 0
            || config.max_connections_per_peer == 0
            || config.max_open_uploads_per_kit == 0
            || config.max_open_upload_bytes_per_kit == 0
        {
            return Err(HubError::BadConfig {
                path,
                why: "min_body_rate, max_connections, max_connections_per_peer, max_open_uploads_per_kit and max_open_upload_bytes_per_kit must be positive".into(),
            });
        }
        if config.max_open_upload_bytes_per_kit < config.max_size {
            return Err(HubError::BadConfig {
                path,
                why: format!(
                    "max_open_upload_bytes_per_kit ({}) is below max_size ({}): a packet of max_size could never be uploaded",
                    config.max_open_upload_bytes_per_kit, config.max_size
                ),
            });
        }
        for r in &config.office_recipients {
            jemput_core::keys::parse_recipient(r).map_err(|e| HubError::BadConfig {
                path: path.clone(),
                why: format!("office_recipients: {e}"),
            })?;
        }
        if let Some(pg) = &config.postgres {
            pg.parse_url().map_err(|why| HubError::BadConfig {
                path: path.clone(),
                why,
            })?;
        }
        if let Some(os) = &config.object_store {
            objects::ObjectUrl::parse(&os.url).map_err(|e| HubError::BadConfig {
                path: path.clone(),
                why: format!("object_store.url {:?}: {e}", os.url),
            })?;
        }
        for hook in &config.webhooks {
            if let Some(why) = hook.url_problem() {
                return Err(HubError::BadConfig { path, why });
            }
            if hook.secret.len() < 16 {
                return Err(HubError::BadConfig {
                    path,
                    why: format!(
                        "the secret of webhook {} is shorter than 16 characters; use a long random one",
                        hook.url
                    ),
                });
            }
        }
        Ok(config)
    }

    /// Writes `hub.toml` durably.
    pub fn save(&self, data: &Path) -> Result<(), HubError> {
        let path = data.join(CONFIG_FILE);
        let text = toml::to_string_pretty(self).expect("the hub config serialises");
        fsutil::write_atomic(&path, text.as_bytes(), 0o600).map_err(HubError::io("write", &path))
    }
}

/// What `GET /v1/info` answers (no authentication needed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HubInfo {
    /// The hub's id.
    pub hub_id: String,
    /// The hub's ed25519 public key: receipts verify with it.
    pub hub_key: PublicKey,
    /// The tus version spoken: `1.0.0`.
    pub tus_version: String,
    /// Largest packet file accepted, in bytes.
    pub max_size: u64,
    /// Largest body of one `PATCH`, in bytes.
    pub max_chunk: u64,
}

/// `jemput hub init --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HubInitOutput {
    /// The data directory.
    pub data: PathBuf,
    /// The new hub's id.
    pub hub_id: String,
    /// The hub's public key, to pin on kits (`jemput init --hub-key`).
    pub hub_key: PublicKey,
    /// Path of the hub's signing key.
    pub key_file: PathBuf,
    /// Largest packet file accepted, in bytes.
    pub max_size: u64,
    /// The hub's TLS certificate (PEM).
    pub cert_file: PathBuf,
    /// Its SHA-256, which enrolled kits pin.
    pub cert_sha256: String,
    /// The names in the certificate.
    pub sans: Vec<String>,
    /// The office recipients enrolled kits receive.
    pub office_recipients: Vec<String>,
    /// Where the hub's state lives when it is not `hub.sqlite`: the PostgreSQL URL (never with a
    /// password); `null` for the embedded backend.
    pub postgres: Option<String>,
    /// The object store verified packets go to; `null` for `<data>/packets/`.
    pub object_store: Option<String>,
}

/// What a new hub gets besides its keys.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// Names for the TLS certificate; empty means [`tls::default_sans`].
    pub sans: Vec<String>,
    /// Office age recipients handed to enrolled kits.
    pub office_recipients: Vec<String>,
    /// The office's hub signing key (`hub.ed25519` from `jemput office keygen`), copied into the
    /// data directory so the hub signs with the key kits were told to pin; `None` makes a new
    /// one.
    pub hub_key: Option<PathBuf>,
    /// The scale-out backend: keep the hub's state in this PostgreSQL database (`None`: the
    /// embedded SQLite database).
    pub postgres: Option<PostgresConfig>,
}

/// Creates a hub in `data` with the default certificate names and no office recipient; see
/// [`init_with`].
pub fn init(data: &Path) -> Result<HubConfig, HubError> {
    init_with(data, &InitOptions::default())
}

/// Creates a hub in `data` (created if missing): id, signing key (the office's from
/// `opts.hub_key`, or a new one), TLS certificate, `hub.toml`, database, directories. Refuses to
/// touch a directory that already holds a hub key, certificate or config.
pub fn init_with(data: &Path, opts: &InitOptions) -> Result<HubConfig, HubError> {
    for r in &opts.office_recipients {
        jemput_core::keys::parse_recipient(r).map_err(|e| HubError::BadRecipient {
            value: r.clone(),
            why: e.to_string(),
        })?;
    }
    // Read the office's key before creating anything: a typo leaves no half-made hub behind.
    let office_key = opts.hub_key.as_deref().map(SigningKey::load).transpose()?;
    private_data_dir(data)?;
    for f in [KEY_FILE, CONFIG_FILE, tls::CERT_FILE, tls::CERT_KEY_FILE] {
        let p = data.join(f);
        if p.exists() {
            return Err(HubError::AlreadyInitialised { path: p });
        }
    }
    for d in [UPLOADS_DIR, PACKETS_DIR] {
        let p = data.join(d);
        fsutil::ensure_dir(&p, DIR_MODE).map_err(HubError::io("create", &p))?;
    }
    let key = office_key.unwrap_or_else(SigningKey::generate);
    key.save(&data.join(KEY_FILE))?;
    let config = HubConfig {
        hub_id: format!("hub-{}", hex::encode(rand::random::<[u8; 4]>())),
        max_size: DEFAULT_MAX_SIZE,
        max_chunk: DEFAULT_MAX_CHUNK,
        upload_expiry_secs: DEFAULT_UPLOAD_EXPIRY_SECS,
        idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
        min_body_rate: DEFAULT_MIN_BODY_RATE,
        max_connections: DEFAULT_MAX_CONNECTIONS,
        max_connections_per_peer: DEFAULT_MAX_CONNECTIONS_PER_PEER,
        max_open_uploads_per_kit: DEFAULT_MAX_OPEN_UPLOADS_PER_KIT,
        max_open_upload_bytes_per_kit: DEFAULT_MAX_OPEN_UPLOAD_BYTES_PER_KIT,
        office_recipients: opts.office_recipients.clone(),
        office_identity: None,
        event_max_age_secs: DEFAULT_EVENT_MAX_AGE_SECS,
        webhook_retry_base_ms: default_webhook_retry_base(),
        webhook_retry_max_secs: default_webhook_retry_max(),
        webhooks: Vec::new(),
        postgres: opts.postgres.clone(),
        object_store: None,
        trusted_proxies: Vec::new(),
    };
    let sans = if opts.sans.is_empty() {
        tls::default_sans()
    } else {
        opts.sans.clone()
    };
    // The database first: an unreachable PostgreSQL leaves no half-made hub behind.
    match &config.postgres {
        Some(pg_config) => {
            pg_config.parse_url().map_err(|why| HubError::Postgres {
                url: pg_config.url.clone(),
                why,
            })?;
            let pool = pg::connect(data, pg_config)?;
            pg::claim(&pool, &config.hub_id, &pg_config.url)?;
        }
        None => {
            open_db(&data.join(DB_FILE))?;
        }
    }
    tls::create_cert(data, &sans)?;
    // The config is written last: a directory with hub.toml is a complete hub.
    config.save(data)?;
    fsutil::sync_dir(data).map_err(HubError::io("sync", data))?;
    Ok(config)
}

/// Creates the data directory `0700`, or takes the group and other permissions away from an
/// existing one (the database in it names kits, packets and upload URLs); refuses a directory
/// that cannot be tightened.
fn private_data_dir(data: &Path) -> Result<(), HubError> {
    match fsutil::private_dir(data) {
        Ok(Some(mode)) => {
            tracing::warn!(
                "{} was open to other users (mode {mode:o}); it is now 0700",
                data.display()
            );
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(source) => Err(HubError::NotPrivate {
            path: data.to_path_buf(),
            source,
        }),
    }
}

/// The hub database connection, shared by the registry and the storage of one process.
pub(crate) type Db = Arc<Mutex<Connection>>;

pub(crate) fn lock(db: &Db) -> std::sync::MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves no half-done transaction (rusqlite rolls back on
    // drop), so a poisoned lock is still usable.
    db.lock().unwrap_or_else(|p| p.into_inner())
}

/// SQL run through the connection's cache of prepared statements: the statements of a request
/// are the same every time, and preparing each anew (SQLite parsing and planning it) was 8 % of
/// the hub's CPU per packet in a profile (BENCHMARKS.md, "the server's CPU per packet"). The
/// embedded backend's code calls these instead of rusqlite's `execute` and `query_row`.
pub(crate) trait CachedSql {
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize>;
    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl CachedSql for Connection {
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Distinct statements kept prepared per connection (rusqlite's default is 16, fewer than the
/// hub's statements, so the least recently used would be prepared again and again).
const STATEMENT_CACHE: usize = 256;

/// Version 1: kits, uploads in progress, receipts.
const V1_KITS_UPLOADS_RECEIPTS: &str = "
CREATE TABLE kits (
    kit_id     TEXT PRIMARY KEY NOT NULL,
    kit_key    TEXT NOT NULL,
    name       TEXT,
    added_at   TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE uploads (
    upload_id  TEXT PRIMARY KEY NOT NULL,
    kit_id     TEXT NOT NULL,
    packet_id  TEXT NOT NULL,
    metadata   TEXT NOT NULL,
    prelude    BLOB NOT NULL,
    length     INTEGER NOT NULL CHECK (length > 0),
    offset     INTEGER NOT NULL CHECK (offset >= 0 AND offset <= length),
    state      TEXT NOT NULL CHECK (state IN ('open', 'done', 'terminated', 'failed')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    note       TEXT
) STRICT;
CREATE INDEX uploads_by_packet ON uploads (kit_id, packet_id, state);

CREATE TABLE receipts (
    packet_id      TEXT PRIMARY KEY NOT NULL,
    kit_id         TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    size           INTEGER NOT NULL CHECK (size > 0),
    file           TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    receipt        TEXT NOT NULL
) STRICT;
";

/// Version 2: enrollment tokens (only the secret's hash), and when each kit was last seen and by
/// which token it enrolled.
const V2_ENROLLMENT: &str = "
CREATE TABLE enroll_tokens (
    token_id      TEXT PRIMARY KEY NOT NULL,
    secret_sha256 TEXT NOT NULL,
    name          TEXT,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    used_by       TEXT
) STRICT;
ALTER TABLE kits ADD COLUMN last_seen_at TEXT;
ALTER TABLE kits ADD COLUMN enrolled_with TEXT;
";

/// Version 3: opening results of held packets, the status event outbox and its deliveries.
const V3_OPENINGS_EVENTS: &str = "
CREATE TABLE openings (
    packet_id  TEXT PRIMARY KEY NOT NULL REFERENCES receipts (packet_id),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'opened', 'open_failed', 'not_opened')),
    reason     TEXT,
    files      INTEGER,
    updated_at TEXT NOT NULL
) STRICT;
INSERT INTO openings (packet_id, state, updated_at)
    SELECT packet_id, 'pending', received_at FROM receipts;

CREATE TABLE events (
    event_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    packet_id  TEXT NOT NULL,
    kit_id     TEXT NOT NULL,
    size       INTEGER,
    reason     TEXT,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE deliveries (
    event_id   INTEGER NOT NULL REFERENCES events (event_id),
    url        TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'gave_up')),
    attempts   INTEGER NOT NULL,
    next_at    TEXT NOT NULL,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, url)
) STRICT;
";

/// Version 4: the request nonces accepted within the replay window, so that a restart does not
/// forget them (`nonces`).
const V4_REQUEST_NONCES: &str = "
CREATE TABLE request_nonces (
    kit_id TEXT NOT NULL,
    nonce  TEXT NOT NULL,
    t      INTEGER NOT NULL,
    PRIMARY KEY (kit_id, nonce)
) STRICT, WITHOUT ROWID;
CREATE INDEX request_nonces_by_time ON request_nonces (t);
";

/// Version 5: what an `opened` event says of the visit (category, worklist entry and place), as
/// JSON (`events::OpenedVisit`).
const V5_EVENT_VISIT: &str = "
ALTER TABLE events ADD COLUMN visit TEXT;
";

/// Version 6: the office console's accounts (argon2 hashes), sessions (SHA-256 of the cookie),
/// failed sign-ins within the rate limit's window, and the audit log (`office`).
const V6_CONSOLE: &str = "
CREATE TABLE console_accounts (
    name          TEXT PRIMARY KEY NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE TABLE console_sessions (
    id_sha256  TEXT PRIMARY KEY NOT NULL,
    account    TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE TABLE console_login_failures (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX console_login_failures_by_time ON console_login_failures (at);
CREATE TABLE console_audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;
";

fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1_KITS_UPLOADS_RECEIPTS).comment("kits, uploads and receipts"),
        M::up(V2_ENROLLMENT).comment("enrollment tokens, kits last seen"),
        M::up(V3_OPENINGS_EVENTS).comment("openings, status events and deliveries"),
        M::up(V4_REQUEST_NONCES).comment("request nonces within the replay window"),
        M::up(V5_EVENT_VISIT).comment("the visit an opened event names"),
        M::up(V6_CONSOLE).comment("office console accounts, sessions, sign-in failures, audit"),
    ])
}

/// Opens (creating) the hub database: WAL, `synchronous=FULL`, a busy timeout, migrated.
pub(crate) fn open_db(path: &Path) -> Result<Connection, HubError> {
    let open_err = |source| HubError::OpenDb {
        path: path.to_path_buf(),
        source,
    };
    // Readable by the hub's user only, with its -wal and -shm files: SQLite would create them
    // with the umask's mode (0644, world-readable).
    for p in fsutil::private_sqlite_files(path).map_err(HubError::io("make private", path))? {
        tracing::warn!(
            "{} was readable by other users; it is now 0600",
            p.display()
        );
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(open_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(HubError::NotWal {
            path: path.to_path_buf(),
            mode,
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    migrations().to_latest(&mut conn)?;
    Ok(conn)
}

/// Opens the database of an initialised hub.
pub(crate) fn open_hub_db(data: &Path) -> Result<Db, HubError> {
    HubConfig::load(data)?;
    Ok(Arc::new(Mutex::new(open_db(&data.join(DB_FILE))?)))
}

/// Where the hub's state lives: `hub.sqlite` (the embedded backend) or a PostgreSQL database
/// shared by every process of the hub (the scale-out backend, [`pg`]). Each part of the state
/// (registry, tokens, uploads, storage, events, nonces, kit sync) dispatches on it.
#[derive(Clone)]
pub(crate) enum Backend {
    Embedded(Db),
    Postgres(pg::Pool),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Embedded(_) => "Backend::Embedded",
            Backend::Postgres(_) => "Backend::Postgres",
        })
    }
}

/// Opens the state of an initialised hub, on the backend its `hub.toml` names.
pub(crate) fn open_backend(data: &Path) -> Result<Backend, HubError> {
    let config = HubConfig::load(data)?;
    backend_of(data, &config)
}

fn backend_of(data: &Path, config: &HubConfig) -> Result<Backend, HubError> {
    match &config.postgres {
        Some(pg_config) => {
            let pool = pg::connect(data, pg_config)?;
            pg::claim(&pool, &config.hub_id, &pg_config.url)?;
            Ok(Backend::Postgres(pool))
        }
        None => Ok(Backend::Embedded(Arc::new(Mutex::new(open_db(
            &data.join(DB_FILE),
        )?)))),
    }
}

/// A timestamp as stored: RFC 3339, UTC, nine fractional digits (text order is time order).
pub(crate) fn ts_text(ts: jiff::Timestamp) -> String {
    format!("{ts:.9}")
}

pub(crate) fn parse_ts(what: &'static str, value: String) -> Result<jiff::Timestamp, HubError> {
    value.parse().map_err(|_| HubError::Corrupt { what, value })
}

/// An opened hub: config, key, registry, uploads in progress and the packet storage.
pub struct Hub {
    data: PathBuf,
    config: HubConfig,
    key: SigningKey,
    registry: Registry,
    tokens: Tokens,
    cert_sha256: Option<String>,
    uploads: Uploads,
    storage: Box<dyn Storage>,
    state: Backend,
    /// Request nonces accepted within the replay window, kept across restarts.
    nonces: nonces::Nonces,
    /// The office identity, when configured: packets are opened with it.
    identities: Option<Vec<age::x25519::Identity>>,
    /// Wakes the opener and the webhook worker after a state change.
    wake_opener: Arc<tokio::sync::Notify>,
    wake_events: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("data", &self.data)
            .field("hub_id", &self.config.hub_id)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Opens the hub in `data` with the directory + SQLite storage, and finishes what a crash
    /// interrupted (see [`Hub::recover`]).
    pub fn open(data: &Path) -> Result<Hub, HubError> {
        let config = HubConfig::load(data)?;
        let key = SigningKey::load(&data.join(KEY_FILE))?;
        private_data_dir(data)?;
        for d in [UPLOADS_DIR, PACKETS_DIR] {
            let p = data.join(d);
            fsutil::ensure_dir(&p, DIR_MODE).map_err(HubError::io("create", &p))?;
        }
        let cert_sha256 = match tls::HubCert::load(data) {
            Ok(c) => Some(c.fingerprint()),
            Err(HubError::NoCertificate { .. }) => None,
            Err(e) => return Err(e),
        };
        let identities = match &config.office_identity {
            Some(path) => {
                let path = data.join(path);
                Some(
                    jemput_core::keys::office::load_identities(&path).map_err(|e| {
                        HubError::OfficeIdentity {
                            path: path.clone(),
                            why: e.to_string(),
                        }
                    })?,
                )
            }
            None => None,
        };
        let state = backend_of(data, &config)?;
        let nonces = nonces::Nonces::open_state(state.clone(), jiff::Timestamp::now().as_second())?;
        let storage: Box<dyn Storage> = match (&state, &config.object_store) {
            (_, Some(os)) => Box::new(ObjectStorage::open(data, os, state.clone())?),
            (Backend::Embedded(db), None) => Box::new(DirStorage::new(data, db.clone())),
            (Backend::Postgres(pool), None) => {
                Box::new(pg::storage::PgDirStorage::new(data, pool.clone()))
            }
        };
        let hub = Hub {
            data: data.to_path_buf(),
            registry: Registry::with_state(state.clone()),
            tokens: Tokens::with_state(state.clone()),
            cert_sha256,
            uploads: Uploads::with_state(data, state.clone()),
            storage,
            state,
            nonces,
            identities,
            wake_opener: Arc::default(),
            wake_events: Arc::default(),
            config,
            key,
        };
        hub.recover()?;
        if hub.identities.is_some() {
            let n = opener::requeue_not_opened(&hub)?;
            if n > 0 {
                tracing::info!("{n} packets not opened before will be opened now");
            }
        }
        Ok(hub)
    }

    /// Wakes the opener and the webhook worker (after a packet's state changed).
    pub(crate) fn wake_workers(&self) {
        self.wake_opener.notify_one();
        // Every webhook task waits on it; one that is busy finds the event on its next round.
        self.wake_events.notify_waiters();
    }

    /// Where a held packet's file is.
    pub fn packet_path(&self, packet_id: &str) -> PathBuf {
        self.data
            .join(PACKETS_DIR)
            .join(format!("{packet_id}.{}", jemput_core::packet::EXTENSION))
    }

    /// Whether packets are opened (an office identity is configured).
    pub fn opens_packets(&self) -> bool {
        self.identities.is_some()
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The hub's public key (receipts verify with it).
    pub fn public_key(&self) -> PublicKey {
        self.key.public()
    }

    /// The request nonces accepted within the replay window.
    pub(crate) fn nonces(&self) -> &nonces::Nonces {
        &self.nonces
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The enrollment tokens.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The SHA-256 of the hub's TLS certificate, when it has one (kits pin it).
    pub fn cert_sha256(&self) -> Option<&str> {
        self.cert_sha256.as_deref()
    }

    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    pub fn uploads(&self) -> &Uploads {
        &self.uploads
    }

    /// What `GET /v1/info` answers.
    pub fn info(&self) -> HubInfo {
        HubInfo {
            hub_id: self.config.hub_id.clone(),
            hub_key: self.key.public(),
            tus_version: jemput_core::wire::tus::TUS_VERSION.into(),
            max_size: self.config.max_size,
            max_chunk: self.config.max_chunk,
        }
    }

    /// Moves every committed transaction from the write-ahead log into `hub.sqlite` and empties
    /// the log (`PRAGMA wal_checkpoint(TRUNCATE)`), as a stopping hub does: the data directory is
    /// then one self-contained database file. Committed data was durable before; this only
    /// tidies. Returns the pages the log held.
    pub fn checkpoint(&self) -> Result<i64, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => lock(db),
            // PostgreSQL keeps its own log; nothing of it is in the data directory.
            Backend::Postgres(_) => return Ok(0),
        };
        let (busy, log): (i64, i64) = db
            .row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|source| HubError::OpenDb {
                path: self.data.join(DB_FILE),
                source,
            })?;
        if busy != 0 {
            tracing::warn!("the hub database was busy; its write-ahead log stays (it is replayed on the next start)");
        }
        Ok(log)
    }

    /// Finishes what a crash interrupted: every open upload's offset is brought down to the bytes
    /// its `.part` file holds ([`Uploads::reconcile_at_start`]); an upload that holds all its
    /// bytes but whose packet was not yet stored is verified and stored now (or failed, or started
    /// again when a power cut may have damaged its bytes); expired uploads are removed.
    pub fn recover(&self) -> Result<(), HubError> {
        self.uploads.reconcile_at_start()?;
        for up in self.uploads.complete_but_open(jiff::Timestamp::now())? {
            // On PostgreSQL another process may have finished it since the list was read.
            let Some(up) = self
                .uploads
                .get(&up.upload_id)?
                .filter(|u| u.state == UploadState::Open && u.offset == u.length)
            else {
                continue;
            };
            match http::complete::complete_saying(self, &up) {
                Ok(c) if c.stored_now => {
                    tracing::info!(upload = %up.upload_id, "finished an upload a restart interrupted")
                }
                Ok(_) => {
                    tracing::info!(upload = %up.upload_id, "an upload a restart interrupted had its packet stored already; ended it")
                }
                Err(e) => {
                    tracing::warn!(upload = %up.upload_id, "an interrupted upload was not stored: {}", e.message)
                }
            }
        }
        let expired = self
            .uploads
            .remove_expired(jiff::Timestamp::now(), self.config.upload_expiry_secs)?;
        if expired > 0 {
            tracing::info!("removed {expired} expired uploads");
        }
        fsutil::remove_temp_leftovers(&self.data.join(PACKETS_DIR))
            .map_err(HubError::io("clean", self.data.join(PACKETS_DIR)))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of table `t` as another process sees them: this test binary run again for
    /// [`reader_process`] alone.
    fn rows_seen_by_another_process(db: &Path) -> i64 {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "tests::reader_process",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("JEMPUT_TEST_READER_DB", db)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{said}");
        said.lines()
            .find_map(|l| l.strip_prefix("ROWS="))
            .unwrap_or_else(|| panic!("the reader said: {said}"))
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    #[ignore = "the other process of a_second_connection_keeps_other_processes_from_deleting_the_log"]
    fn reader_process() {
        let Some(db) = std::env::var_os("JEMPUT_TEST_READER_DB") else {
            return;
        };
        let conn = Connection::open(db).unwrap();
        let n: i64 = conn
            .row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        println!("ROWS={n}");
        // Closing here is the point: the last connection to close deletes the -wal file.
        drop(conn);
    }

    /// A hub process opens its database more than once (the server, the opener, the console). The
    /// second opening must not drop the first one's locks, or a `jemput hub packets` run beside
    /// the hub deletes the write-ahead log the hub goes on writing to, and every later receipt is
    /// lost to other processes (and to the hub after a restart).
    #[test]
    fn a_second_connection_keeps_other_processes_from_deleting_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DB_FILE);
        let first = open_db(&db).unwrap();
        first
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let _second = open_db(&db).unwrap();
        assert_eq!(rows_seen_by_another_process(&db), 1);
        first.exec("INSERT INTO t VALUES (2)", []).unwrap();
        assert_eq!(
            rows_seen_by_another_process(&db),
            2,
            "a write after another process closed its connection was lost"
        );
        drop(first);
        assert_eq!(rows_seen_by_another_process(&db), 2);
    }
}

//! The scale-out backend of the hub's state: PostgreSQL instead of `hub.sqlite`
//! (`docs/scale-out.md`). Several `jemput hub serve` processes, on one machine or several, share
//! one database; everything one process decides that another must see is decided here, in a
//! transaction: the kit registry and tokens, upload offsets (compare-and-set) and the bytes of
//! uploads in progress (`upload_chunks`), receipts, openings, the events outbox and its
//! deliveries (leased, so two processes never post the same event at once), request nonces, the
//! worklist and the kit settings, and the office console's accounts, sessions and audit log
//! (`office`).
//!
//! The client is the rust-postgres project's blocking `postgres` crate behind an `r2d2` pool. Its
//! calls block, like the hub's SQLite calls, and run where those do: on tokio's blocking threads
//! (`spawn_blocking`) or in the CLI, never on a runtime thread.
//!
//! Timestamps are stored as the same RFC 3339 text as in SQLite (`ts_text`: nine fractional
//! digits, UTC, so text order is time order), which keeps the two backends' queries alike.

pub(crate) mod events;
pub(crate) mod kit_sync;
pub(crate) mod office;
pub(crate) mod registry;
pub(crate) mod storage;
pub(crate) mod uploads;

use std::path::{Path, PathBuf};
use std::time::Duration;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::HubError;

type R2d2Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// A pool of connections to the hub's PostgreSQL database (cheap to clone: one pool).
///
/// The blocking client closes a connection by running a small runtime of its own, which tokio
/// forbids on a thread that drives a runtime; a hub is often dropped on one (when a server
/// stops). So the last clone of the pool is dropped on a thread of its own there.
#[derive(Clone)]
pub struct Pool(std::sync::Arc<PoolHolder>);

#[doc(hidden)]
pub struct PoolHolder(Option<R2d2Pool>, String);

impl std::fmt::Debug for PoolHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pg::PoolHolder")
    }
}

impl Drop for PoolHolder {
    fn drop(&mut self) {
        let Some(pool) = self.0.take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl std::ops::Deref for Pool {
    type Target = R2d2Pool;
    fn deref(&self) -> &R2d2Pool {
        self.0
             .0
            .as_ref()
            .expect("the pool is only taken when dropped")
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pg::Pool")
    }
}

/// `[postgres]` in `hub.toml`: the hub's state lives in this PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// A libpq connection URL without a password, e.g.
    /// `postgresql://jemput@/jemput?host=/run/postgresql` (a Unix socket) or
    /// `postgresql://jemput@db.office.lan/jemput`.
    pub url: String,
    /// A file holding the role's password (a relative path is taken from the data directory),
    /// readable by the hub's user only; `PGPASSWORD` in the environment is used first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Connections each hub process keeps open at most.
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
}

fn default_pool_size() -> u32 {
    16
}

impl PostgresConfig {
    /// A config for `url` with the defaults.
    pub fn new(url: &str) -> PostgresConfig {
        PostgresConfig {
            url: url.to_string(),
            password_file: None,
            pool_size: default_pool_size(),
        }
    }

    /// The URL parsed, refused when it carries a password (it would sit in `hub.toml` and in
    /// the process list when given on a command line).
    pub fn parse_url(&self) -> Result<postgres::Config, String> {
        let cfg: postgres::Config = self
            .url
            .parse()
            .map_err(|e| format!("bad PostgreSQL URL {:?}: {e}", self.url))?;
        if cfg.get_password().is_some() {
            return Err(
                "the PostgreSQL URL carries a password; remove it and give the password in PGPASSWORD or in a file named by password_file in hub.toml".into(),
            );
        }
        if cfg.get_dbname().is_none() {
            return Err(format!(
                "the PostgreSQL URL {:?} names no database (…/DBNAME)",
                self.url
            ));
        }
        Ok(cfg)
    }
}

/// Reads the password: `PGPASSWORD`, else the password file (which must be private).
fn password(data: &Path, cfg: &PostgresConfig) -> Result<Option<String>, HubError> {
    if let Ok(p) = std::env::var("PGPASSWORD") {
        if !p.is_empty() {
            return Ok(Some(p));
        }
    }
    let Some(file) = &cfg.password_file else {
        return Ok(None);
    };
    let path = data.join(file);
    let bad = |why: String| HubError::BadConfig {
        path: data.join(crate::CONFIG_FILE),
        why,
    };
    let meta = std::fs::metadata(&path).map_err(HubError::io("read", &path))?;
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "the PostgreSQL password file {} can be read by other users (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(HubError::io("read", &path))?;
    let p = text.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        return Err(bad(format!(
            "the PostgreSQL password file {} is empty",
            path.display()
        )));
    }
    Ok(Some(p))
}

/// Connects to the hub's database and brings its schema up to date. `data` is the data
/// directory (for a relative password file and error messages).
pub(crate) fn connect(data: &Path, cfg: &PostgresConfig) -> Result<Pool, HubError> {
    let mut pg = cfg.parse_url().map_err(|why| HubError::BadConfig {
        path: data.join(crate::CONFIG_FILE),
        why,
    })?;
    if let Some(p) = password(data, cfg)? {
        pg.password(p);
    }
    pg.application_name("jemput-hub");
    pg.connect_timeout(Duration::from_secs(10));
    let manager = PostgresConnectionManager::new(pg, NoTls);
    let pool = r2d2::Pool::builder()
        .max_size(cfg.pool_size.max(1))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(15))
        .build(manager)
        .map_err(|e| HubError::Postgres {
            url: cfg.url.clone(),
            why: e.to_string(),
        })?;
    let pool = Pool(std::sync::Arc::new(PoolHolder(Some(pool), cfg.url.clone())));
    migrate(&pool, &cfg.url)?;
    Ok(pool)
}

/// A connection from the pool, or why none could be had (the server is down or full), naming
/// the database's URL (it never holds a password).
/// Lets the transaction `tx` commit without waiting for its write-ahead log to reach the disk
/// (`SET LOCAL synchronous_commit = off`: PostgreSQL documentation, "Asynchronous Commit"): for a
/// `PATCH`'s chunk and offset and its request nonce, which the hub need not keep through a crash
/// (`docs/scale-out.md`, "Durability"). A crash can lose such a commit only together with every
/// commit after it (the log is written in order), and any synchronous commit — a receipt's —
/// flushes the log up to itself, the asynchronous commits before it included.
pub(crate) fn no_wal_flush(tx: &mut postgres::Transaction<'_>) -> Result<(), HubError> {
    tx.batch_execute("SET LOCAL synchronous_commit = off")?;
    Ok(())
}

pub(crate) fn conn(
    pool: &Pool,
) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, HubError> {
    pool.get().map_err(|e| HubError::Postgres {
        url: pool.0 .1.clone(),
        why: e.to_string(),
    })
}

/// The schema, one migration a version. Applied in order, each in its own transaction, under an
/// advisory lock so that processes starting together do not apply one twice.
const MIGRATIONS: &[(&str, &str)] = &[
    (
    "kits, tokens, uploads and staged chunks, receipts, openings, events, deliveries, nonces, documents, the hub's id",
    "
CREATE TABLE hub_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE kits (
    kit_id        TEXT PRIMARY KEY,
    kit_key       TEXT NOT NULL,
    name          TEXT,
    added_at      TEXT NOT NULL,
    revoked_at    TEXT,
    last_seen_at  TEXT,
    enrolled_with TEXT
);
CREATE TABLE enroll_tokens (
    token_id      TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    name          TEXT,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    used_by       TEXT
);
CREATE TABLE uploads (
    seq        BIGSERIAL UNIQUE,
    upload_id  TEXT PRIMARY KEY,
    kit_id     TEXT NOT NULL,
    packet_id  TEXT NOT NULL,
    metadata   TEXT NOT NULL,
    prelude    BYTEA NOT NULL,
    length     BIGINT NOT NULL CHECK (length > 0),
    \"offset\"   BIGINT NOT NULL CHECK (\"offset\" >= 0 AND \"offset\" <= length),
    state      TEXT NOT NULL CHECK (state IN ('open', 'done', 'terminated', 'failed')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX uploads_by_packet ON uploads (kit_id, packet_id, state);
CREATE INDEX uploads_by_packet_id ON uploads (packet_id, seq);
CREATE TABLE upload_chunks (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id),
    start     BIGINT NOT NULL CHECK (start >= 0),
    data      BYTEA NOT NULL,
    PRIMARY KEY (upload_id, start)
);
CREATE TABLE receipts (
    packet_id      TEXT PRIMARY KEY,
    kit_id         TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    size           BIGINT NOT NULL CHECK (size > 0),
    file           TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    receipt        TEXT NOT NULL
);
CREATE TABLE openings (
    packet_id  TEXT PRIMARY KEY REFERENCES receipts (packet_id),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'opened', 'open_failed', 'not_opened')),
    reason     TEXT,
    files      BIGINT,
    updated_at TEXT NOT NULL
);
CREATE TABLE events (
    event_id   BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL,
    packet_id  TEXT NOT NULL,
    kit_id     TEXT NOT NULL,
    size       BIGINT,
    reason     TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE deliveries (
    event_id   BIGINT NOT NULL REFERENCES events (event_id),
    url        TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'gave_up')),
    attempts   INTEGER NOT NULL,
    next_at    TEXT NOT NULL,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, url)
);
CREATE TABLE request_nonces (
    kit_id TEXT NOT NULL,
    nonce  TEXT NOT NULL,
    t      BIGINT NOT NULL,
    PRIMARY KEY (kit_id, nonce)
);
CREATE INDEX request_nonces_by_time ON request_nonces (t);
CREATE TABLE documents (
    name       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
",
    ),
    (
        "events.visit: what an opened event says of the visit (JSON, as in SQLite)",
        "ALTER TABLE events ADD COLUMN visit TEXT;",
    ),
    (
        "the office console: accounts, sessions, failed sign-ins, audit log (as in SQLite)",
        "
CREATE TABLE console_accounts (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE console_sessions (
    id_sha256  TEXT PRIMARY KEY,
    account    TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE console_login_failures (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX console_login_failures_by_time ON console_login_failures (at);
CREATE TABLE console_audit (
    id     BIGSERIAL PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
",
    ),
];

/// A key of the advisory lock migrations hold ("jemput" in ASCII).
const MIGRATION_LOCK: i64 = 0x6a656d707574;

fn migrate(pool: &Pool, url: &str) -> Result<(), HubError> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS jemput_migrations (
             version    INTEGER PRIMARY KEY,
             comment    TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )?;
    let done: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM jemput_migrations",
            &[],
        )?
        .get(0);
    if done as usize > MIGRATIONS.len() {
        return Err(HubError::Postgres {
            url: url.into(),
            why: format!(
                "the database's schema is version {done}, newer than this jemput's {}; install the newer jemput",
                MIGRATIONS.len()
            ),
        });
    }
    for (i, (comment, sql)) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO jemput_migrations (version, comment, applied_at) VALUES ($1, $2, $3)",
            &[
                &(i as i32 + 1),
                comment,
                &crate::ts_text(jiff::Timestamp::now()),
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Records `hub_id` as the database's hub, or refuses a database that belongs to another hub
/// (two hubs sharing one database would mix their kits and packets).
pub(crate) fn claim(pool: &Pool, hub_id: &str, url: &str) -> Result<(), HubError> {
    let mut c = conn(pool)?;
    c.execute(
        "INSERT INTO hub_meta (key, value) VALUES ('hub_id', $1) ON CONFLICT (key) DO NOTHING",
        &[&hub_id],
    )?;
    let owner: String = c
        .query_one("SELECT value FROM hub_meta WHERE key = 'hub_id'", &[])?
        .get(0);
    if owner != hub_id {
        return Err(HubError::Postgres {
            url: url.into(),
            why: format!(
                "the database belongs to hub {owner}, not {hub_id}; give each hub its own database (copy the data directory of {owner} to run more processes of it)"
            ),
        });
    }
    Ok(())
}

/// An `i64` column as `u64` (sizes, offsets: never negative by the schema's checks).
pub(crate) fn u(v: i64) -> u64 {
    v.max(0) as u64
}

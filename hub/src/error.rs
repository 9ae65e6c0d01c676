//! Errors of the hub library: the data directory, the registry, storage. Each says what to do next.
//!
//! Errors a kit sees over HTTP are not these: they are status codes with a one-line reason, built
//! in `tus.rs`.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong opening or running a hub outside one request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// `hub init` found a hub already there.
    #[error("{path} already holds a hub; choose another --data directory (an existing hub key is never overwritten)")]
    AlreadyInitialised {
        /// The file that exists.
        path: PathBuf,
    },

    /// The data directory has no hub.
    #[error("no hub at {path}: create one with `jemput hub init --data {path}`")]
    NotInitialised {
        /// The data directory.
        path: PathBuf,
    },

    /// A file or directory of the hub could not be read or written.
    #[error("cannot {what} {path}: {source}; check that the hub data directory is on a mounted, writable disk")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The data directory is open to other users and cannot be made private.
    #[error("{path} can be read by other users and cannot be made private: {source}; run `chmod 700 {path}` as its owner, or choose another --data directory")]
    NotPrivate {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// `hub.toml` does not parse.
    #[error("the hub config {path} is malformed: {why}; fix it by hand or restore it")]
    BadConfig {
        /// The config file.
        path: PathBuf,
        /// What the parser said.
        why: String,
    },

    /// The hub key could not be written or read.
    #[error(transparent)]
    Key(#[from] jemput_core::keys::KeyError),

    /// The hub database could not be opened or configured.
    #[error("cannot open the hub database {path}: {source}; check its permissions")]
    OpenDb {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite refused write-ahead logging.
    #[error("the hub database {path} cannot use write-ahead logging (journal mode stayed {mode:?}); keep the hub data on a local disk")]
    NotWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },

    /// A query failed.
    #[error("hub database error: {0}; retry, and if it persists check the disk")]
    Sqlite(#[from] rusqlite::Error),

    /// The schema could not be brought up to date.
    #[error("cannot upgrade the hub database schema: {0}; if it was written by a newer jemput, install that version")]
    Migration(#[from] rusqlite_migration::Error),

    /// A PostgreSQL query failed (the scale-out backend).
    #[error("hub database (PostgreSQL) error: {}; retry, and if it persists check that the PostgreSQL server is up and reachable", pg_error_text(.0))]
    Pg(#[from] postgres::Error),

    /// The PostgreSQL database could not be reached or set up (the scale-out backend).
    #[error("cannot use the hub's PostgreSQL database {url}: {why}")]
    Postgres {
        /// The connection URL (it never holds a password).
        url: String,
        /// What went wrong.
        why: String,
    },

    /// A row holds a value this version cannot read.
    #[error("the hub database holds an unreadable {what} {value:?}; it was edited or damaged")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// The value found.
        value: String,
    },

    /// A kit id that the registry does not accept.
    #[error("bad kit id {0:?}: use 1 to 64 characters from A-Z a-z 0-9 . _ -")]
    BadKitId(String),

    /// `hub kits add` for a kit id already registered.
    #[error(
        "kit {0} is already registered; revoke it and register the new key under a new kit id"
    )]
    KitExists(String),

    /// `hub kits revoke` for a kit id not registered.
    #[error("no kit {0} in the registry; `jemput hub kits` lists them")]
    UnknownKit(String),

    /// The hub has no TLS certificate yet.
    #[error("the hub at {path} has no TLS certificate yet; `jemput hub serve --data {path}` creates one on its first start")]
    NoCertificate {
        /// The data directory.
        path: PathBuf,
    },

    /// The hub certificate or its key could not be made or read.
    #[error("the hub certificate {path} is unusable: {why}")]
    BadCertificate {
        /// The certificate or key file.
        path: PathBuf,
        /// What failed.
        why: String,
    },

    /// An office recipient given to the hub is not an age X25519 recipient.
    #[error("bad office recipient {value:?}: {why}; give the office's age1… public key")]
    BadRecipient {
        /// The value given.
        value: String,
        /// What the parser said.
        why: String,
    },

    /// An enrollment token could not be issued.
    #[error("bad enrollment token request: {0}")]
    BadToken(String),

    /// The office identity named in `hub.toml` cannot be read.
    #[error("cannot read the office identity {path}: {why}; fix office_identity in hub.toml (or `jemput hub init --office-identity FILE` for a new hub)")]
    OfficeIdentity {
        /// The identity file.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },

    /// The object store named in `hub.toml` or on the command line cannot be used as given.
    #[error("bad object store {value:?}: {why}")]
    BadObjectStore {
        /// The URL or file given.
        value: String,
        /// What is wrong with it.
        why: String,
    },

    /// The object store refused the hub's credentials, or has no such bucket: retrying will not
    /// help.
    #[error("the object store {store} refused to {what}: {why}; check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or credentials_file under [object_store] in hub.toml), that the bucket exists and that the key may read and write it")]
    ObjectStoreRefused {
        /// The bucket and endpoint.
        store: String,
        /// What the hub was doing.
        what: String,
        /// What the object store said.
        why: String,
    },

    /// The object store did not answer, or answered with a server error: a later try may work.
    #[error("the object store {store} is unavailable ({what}): {why}; check that it runs and that this machine reaches it; nothing is receipted until it stores the packet")]
    ObjectStoreUnavailable {
        /// The bucket and endpoint.
        store: String,
        /// What the hub was doing.
        what: String,
        /// What went wrong.
        why: String,
    },

    /// `jemput hub migrate` refused to start, or stopped, before changing the hub: why, and what
    /// to do (the hub is left as it was).
    #[error("{why}")]
    MigrateRefused {
        /// Why, with what to do next.
        why: String,
    },

    /// Binding or serving failed.
    #[error("the hub server failed: {0}")]
    Serve(#[source] io::Error),
}

/// A PostgreSQL error with the server's own message when there is one.
/// A broken or closed connection (an I/O error under the client), or a server that says it
/// cannot serve now: SQLSTATE class 08 (connection exception), 57P01–57P03 (shut down by the
/// administrator, crash shutdown, cannot connect now) and 53300 (too many connections), as
/// PostgreSQL's "Errors and Messages" appendix lists them.
fn pg_unavailable(e: &postgres::Error) -> bool {
    use std::error::Error as _;
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let c = code.code();
            c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03" | "53300")
        }
        None => e.source().is_some_and(|s| s.is::<io::Error>()),
    }
}

fn pg_error_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

impl HubError {
    /// Whether the hub's database could not be reached (the scale-out backend's PostgreSQL is
    /// down, restarting, out of connections, or the connection broke): a passing state the
    /// client should wait out, unlike a bug or a refused request. A query the server refused for
    /// its content is not this.
    pub fn is_database_unavailable(&self) -> bool {
        match self {
            // Only `pg::conn` and set-up return this kind: no connection could be had.
            HubError::Postgres { .. } => true,
            HubError::Pg(e) => pg_unavailable(e),
            _ => false,
        }
    }

    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| HubError::Io { what, path, source }
    }
}

//! Errors of the packet store: each keeps the OS or SQLite error and the path, and says what to do next.

use std::io;
use std::path::{Path, PathBuf};

use super::State;

/// Everything that can go wrong in the packet store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A directory of the kit home could not be created or read.
    #[error("cannot use the directory {path}: {source}; check that the kit home is on a mounted, writable disk")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The kit home is open to other users and cannot be made private.
    #[error("{path} can be read by other users and cannot be made private: {source}; run `chmod 700 {path}` as its owner, or choose another --home")]
    NotPrivate {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The disk holding `path` is full (ENOSPC, or SQLITE_FULL for the queue database).
    #[error("the disk is full: free space on the filesystem holding {} and seal again; the draft is kept", fs_of(path).display())]
    DiskFull {
        /// The file that could not be written.
        path: PathBuf,
        /// The OS error (for SQLite, the SQLite error wrapped as `StorageFull`).
        #[source]
        source: io::Error,
    },

    /// A packet file could not be written.
    #[error("cannot write the packet file {path}: {source}; the draft is kept: check the disk and seal again")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A packet file could not be moved (into quarantine).
    #[error("cannot move {from} to {to}: {source}; check the disk, then open the kit again so recovery finishes the move")]
    Move {
        /// Where the file was.
        from: PathBuf,
        /// Where it was going.
        to: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A packet file could not be removed (purge).
    #[error("cannot remove {path}: {source}; check the disk, then open the kit again so recovery finishes the purge")]
    Remove {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The queue database could not be opened or configured.
    #[error("cannot open the queue database {path}: {source}; check its permissions, or run `jemput report` and restore it from a backup")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite refused write-ahead logging, without which commits are not durable as required.
    #[error("the queue database {path} cannot use write-ahead logging (journal mode stayed {mode:?}); keep the kit home on a local, writable disk")]
    NotWal {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },

    /// A query on the queue database failed.
    #[error("queue database error: {0}; retry, and if it persists run `jemput report`")]
    Sqlite(#[from] rusqlite::Error),

    /// The queue database schema could not be brought up to date.
    #[error("cannot upgrade the queue database schema: {0}; if the database was written by a newer jemput, install that version")]
    Migration(#[from] rusqlite_migration::Error),

    /// A row of the queue holds a value this version cannot read.
    #[error("the queue row of packet {packet_id} has an unreadable {column} {value:?}; the database was edited or damaged: run `jemput report`")]
    Corrupt {
        /// The packet whose row is damaged.
        packet_id: String,
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },

    /// The state machine forbids this transition.
    #[error("packet {id} cannot go from {from} to {to}; from {from} it can only go to {}", allowed(*from))]
    BadTransition {
        /// The packet.
        id: String,
        /// Its current state.
        from: State,
        /// The state asked for.
        to: State,
    },

    /// Acknowledging or purging a packet needs its receipt stored first.
    #[error("packet {id} cannot become {to} without a stored hub receipt; upload it to a hub (`jemput upload`) to get one")]
    NoReceipt {
        /// The packet.
        id: String,
        /// The state asked for.
        to: State,
    },

    /// A packet with this id is already queued, or its file already exists.
    #[error("packet {0} is already in the queue (or its file exists in packets/); seal the visit again to get a new packet id")]
    Duplicate(String),

    /// No packet with this id is in the queue.
    #[error("packet {0} is not in the queue; run `jemput queue` to list the queued packets")]
    NotFound(String),

    /// The packet id cannot be used as a file name.
    #[error("packet id {0:?} cannot name a file: use 1 to 128 letters, digits, '-', '_' or '.', not starting with '.'")]
    BadPacketId(String),
}

impl StoreError {
    /// Maps an error writing a packet file: ENOSPC becomes [`StoreError::DiskFull`].
    pub(crate) fn write(path: &Path, source: io::Error) -> StoreError {
        if is_disk_full(&source) {
            StoreError::DiskFull {
                path: path.to_path_buf(),
                source,
            }
        } else {
            StoreError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    /// Maps a SQLite error on the queue database `db`: SQLITE_FULL becomes [`StoreError::DiskFull`].
    pub(crate) fn sqlite(db: &Path, source: rusqlite::Error) -> StoreError {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::DiskFull {
                path: db.to_path_buf(),
                source: io::Error::new(io::ErrorKind::StorageFull, source),
            }
        } else {
            StoreError::Sqlite(source)
        }
    }

    /// True when the failure is a full disk.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::DiskFull { .. })
    }
}

/// ENOSPC, whether the standard library reports it as `StorageFull` or only as raw errno 28.
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

/// The directory to free space in: the parent of the file that could not be written.
fn fs_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => path,
    }
}

fn allowed(from: State) -> String {
    let next = from.next_states();
    if next.is_empty() {
        "nowhere (it is final)".to_owned()
    } else {
        next.into_iter()
            .map(State::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enospc_becomes_disk_full_with_a_what_to_do_message() {
        let p = Path::new("/kit/packets/abc.jpk");
        let err = StoreError::write(p, io::Error::from_raw_os_error(28));
        assert!(err.is_disk_full());
        assert_eq!(
            err.to_string(),
            "the disk is full: free space on the filesystem holding /kit/packets and seal again; the draft is kept"
        );
        let err = StoreError::write(p, io::Error::from(io::ErrorKind::StorageFull));
        assert!(err.is_disk_full());
    }

    #[test]
    fn other_write_errors_keep_path_and_os_error() {
        let p = Path::new("/kit/packets/abc.jpk");
        let err = StoreError::write(p, io::Error::from_raw_os_error(13));
        match &err {
            StoreError::Write { path, source } => {
                assert_eq!(path, p);
                assert_eq!(source.raw_os_error(), Some(13));
            }
            other => panic!("expected Write, got {other:?}"),
        }
        assert!(err.to_string().contains("the draft is kept"));
    }

    #[test]
    fn sqlite_full_becomes_disk_full() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(StoreError::sqlite(Path::new("/kit/queue.sqlite"), full).is_disk_full());
    }

    #[test]
    fn bad_transition_names_the_allowed_next_states() {
        let err = StoreError::BadTransition {
            id: "p1".into(),
            from: State::Sealed,
            to: State::Purged,
        };
        assert_eq!(
            err.to_string(),
            "packet p1 cannot go from sealed to purged; from sealed it can only go to uploading, quarantined, refused"
        );
    }
}

//! Store errors, keeping the OS error and the path, each saying what to do next.

use std::path::PathBuf;

use super::State;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the disk is full writing {path}: free space on the kit's disk and seal again; the draft is kept")]
    DiskFull {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("queue database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("queue database migration failed: {0}; the database is left as it was")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("packet {id} cannot go from {from} to {to}")]
    BadTransition { id: String, from: State, to: State },
    #[error("packet {0} is already in the queue")]
    Duplicate(String),
    #[error("packet {0} is not in the queue")]
    NotFound(String),
    #[error("queue row for {id} is damaged: {why}")]
    Corrupt { id: String, why: String },
}

impl StoreError {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| {
            if crate::fsutil::is_disk_full(&source) {
                StoreError::DiskFull { path, source }
            } else {
                StoreError::Io { what, path, source }
            }
        }
    }
}

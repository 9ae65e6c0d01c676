//! Packet files and the SQLite queue: the kit's durable packet store.
//!
//! Layout of a kit home (`root`): `packets/<packet_id>.jpk` (sealed packets), `quarantine/` (files
//! that failed verification), `queue.sqlite` (one row per packet, and every transition).
//!
//! Ordering rules (`docs/durability.md`):
//! - sealing writes the file durably (temp, fsync, rename, fsync of the directory) and only then
//!   commits the row, so a row never names a file that was not on disk;
//! - for quarantine and purge the row leads and the file follows, so a crash in between leaves a
//!   row whose file operation [`Store::recover`] finishes on the next start.

mod error;
mod queue;
mod recovery;
mod state;
mod upload;

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, TransactionBehavior};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use jemput_core::fsutil;

pub use error::StoreError;
pub use recovery::RecoveryReport;
pub use state::{ParseStateError, State};
pub use upload::UploadRecord;

/// Directory of sealed packet files, under the kit home.
pub const PACKETS_DIR: &str = "packets";
/// Directory of files that failed verification, under the kit home.
pub const QUARANTINE_DIR: &str = "quarantine";
/// The queue database, under the kit home.
pub const QUEUE_DB: &str = "queue.sqlite";
/// Extension of packet files.
pub const PACKET_EXT: &str = "jpk";

/// Packet files hold only ciphertext, but no other user needs to read them.
const PACKET_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

/// What the store records about a sealed packet (read from its header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PacketMeta {
    /// The packet id; the file is `packets/<packet_id>.jpk`.
    pub packet_id: String,
    /// The kit that sealed it.
    pub kit_id: String,
    /// Size of the packet file in bytes.
    pub size: u64,
    /// SHA-256 of the payload, lowercase hex.
    pub payload_sha256: String,
    /// When the packet was sealed.
    pub created_at: Timestamp,
    /// The visit sealed into it; unknown (`None`) for packets adopted by recovery, whose manifest
    /// the kit cannot read.
    #[serde(default)]
    pub visit_id: Option<String>,
}

/// One packet in the queue: the item of `jemput queue --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct QueueEntry {
    /// The packet id.
    pub packet_id: String,
    /// The kit that sealed it.
    pub kit_id: String,
    /// The visit sealed into it, when known.
    pub visit_id: Option<String>,
    /// File name, relative to `packets/` (or to `quarantine/` when quarantined).
    pub file: String,
    /// Where the packet is in its life.
    pub state: State,
    /// Size of the packet file in bytes.
    pub size: u64,
    /// SHA-256 of the payload, lowercase hex (empty for unreadable quarantined files).
    pub payload_sha256: String,
    /// When the packet was sealed.
    pub created_at: Timestamp,
    /// When it entered its current state.
    pub state_since: Timestamp,
    /// Whether its file is on disk where its state says it should be.
    pub file_present: bool,
    /// Bytes the upload server last confirmed, when an upload was started.
    pub upload_offset: Option<u64>,
    /// Whether a verified hub receipt is stored (always true once acknowledged).
    pub receipt: bool,
    /// Every byte was uploaded but no verified receipt came back (a plain tus server, or a receipt
    /// that did not verify): the packet stays `uploading` and is never purged.
    pub uploaded_without_receipt: bool,
    /// Why the hub refused the packet, when it is `refused`.
    pub refused_because: Option<String>,
}

/// One recorded change of state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Transition {
    /// The packet.
    pub packet_id: String,
    /// The state before; `None` for the first entry into the queue.
    pub from: Option<State>,
    /// The state after.
    pub to: State,
    /// When it happened.
    pub at: Timestamp,
    /// Why, when there is more to say (e.g. the verification failure).
    pub note: Option<String>,
}

/// The durable packet store of a kit home.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    packets: PathBuf,
    quarantine: PathBuf,
    db: PathBuf,
    conn: Connection,
}

impl Store {
    /// Opens the store at `root` (creating `packets/`, `quarantine/` and the database if needed) and
    /// migrates the schema; WAL, `synchronous=FULL`, foreign keys on, a busy timeout.
    ///
    /// Opening does not reconcile files and rows: call [`Store::recover`] next.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let packets = root.join(PACKETS_DIR);
        let quarantine = root.join(QUARANTINE_DIR);
        // The queue names packets, upload URLs and receipts: the home is its owner's only.
        match fsutil::private_dir(root) {
            Ok(Some(mode)) => tracing::warn!(
                "{} was open to other users (mode {mode:o}); it is now 0700",
                root.display()
            ),
            Ok(None) => {}
            Err(source) => {
                return Err(StoreError::NotPrivate {
                    path: root.to_path_buf(),
                    source,
                })
            }
        }
        for dir in [&packets, &quarantine] {
            fsutil::ensure_dir(dir, DIR_MODE).map_err(|source| StoreError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let db = root.join(QUEUE_DB);
        let conn = queue::open(&db)?;
        Ok(Store {
            root: root.to_path_buf(),
            packets,
            quarantine,
            db,
            conn,
        })
    }

    /// Durably stores a sealed packet and queues it as [`State::Sealed`]; returns the file's path.
    ///
    /// The file is written first (temp in `packets/`, fsync, rename, fsync of the directory), then the
    /// row and its first transition are committed in one transaction. If the write fails nothing is
    /// queued and no temp file remains. If the commit fails after the write, the file stays and
    /// [`Store::recover`] adopts it on the next start.
    pub fn commit_packet(
        &mut self,
        meta: &PacketMeta,
        bytes: &[u8],
    ) -> Result<PathBuf, StoreError> {
        let file = packet_file_name(&meta.packet_id)?;
        let path = self.packets.join(&file);
        if queue::one(&self.conn, &meta.packet_id)?.is_some() || path.symlink_metadata().is_ok() {
            return Err(StoreError::Duplicate(meta.packet_id.clone()));
        }
        fsutil::write_atomic(&path, bytes, PACKET_MODE).map_err(|e| StoreError::write(&path, e))?;
        let committed = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            queue::insert(&tx, meta, &file, State::Sealed, Timestamp::now(), None)?;
            tx.commit()
        })();
        if let Err(e) = committed {
            tracing::warn!(
                packet_id = %meta.packet_id,
                path = %path.display(),
                "packet file written but not queued; recovery adopts it on the next start"
            );
            return Err(StoreError::sqlite(&self.db, e));
        }
        tracing::info!(packet_id = %meta.packet_id, size = bytes.len(), "packet sealed and queued");
        Ok(path)
    }

    /// Like [`Store::commit_packet`], with the packet written by `fill` straight into the temp
    /// file that becomes `packets/<packet_id>.jpk` (so a seal can stream its payload to disk). `fill`
    /// returns the packet's metadata; its `packet_id` must be `packet_id`. The file is made durable
    /// (fdatasync, rename, directory fsync) before the queue row is committed, as for
    /// `commit_packet`; an error from `fill` leaves no file behind.
    pub fn commit_packet_with<E: From<StoreError>>(
        &mut self,
        packet_id: &str,
        fill: impl FnOnce(&mut std::fs::File) -> Result<PacketMeta, E>,
    ) -> Result<(PathBuf, PacketMeta), E> {
        let file = packet_file_name(packet_id)?;
        let path = self.packets.join(&file);
        if queue::one(&self.conn, packet_id)?.is_some() || path.symlink_metadata().is_ok() {
            return Err(StoreError::Duplicate(packet_id.to_string()).into());
        }
        let mut filled: Option<Result<PacketMeta, E>> = None;
        let written = fsutil::write_atomic_with(&path, PACKET_MODE, |f| match fill(f) {
            Ok(meta) if meta.packet_id == packet_id => {
                filled = Some(Ok(meta));
                Ok(())
            }
            Ok(meta) => Err(std::io::Error::other(format!(
                "sealed packet {} where {packet_id} was expected",
                meta.packet_id
            ))),
            Err(e) => {
                filled = Some(Err(e));
                Err(std::io::Error::other("sealing failed"))
            }
        });
        let meta = match (written, filled) {
            (Ok(()), Some(Ok(meta))) => meta,
            (_, Some(Err(e))) => return Err(e),
            (Err(e), _) => return Err(StoreError::write(&path, e).into()),
            (Ok(()), _) => unreachable!("a successful write filled the packet"),
        };
        let committed = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            queue::insert(&tx, &meta, &file, State::Sealed, Timestamp::now(), None)?;
            tx.commit()
        })();
        if let Err(e) = committed {
            tracing::warn!(
                packet_id = %meta.packet_id,
                path = %path.display(),
                "packet file written but not queued; recovery adopts it on the next start"
            );
            return Err(StoreError::sqlite(&self.db, e).into());
        }
        tracing::info!(packet_id = %meta.packet_id, size = meta.size, "packet sealed and queued");
        Ok((path, meta))
    }

    /// Every packet in the queue, oldest first (then by id).
    pub fn list(&self) -> Result<Vec<QueueEntry>, StoreError> {
        Ok(queue::all(&self.conn)?
            .into_iter()
            .map(|row| self.entry(row))
            .collect())
    }

    /// The packet `packet_id`, if queued.
    pub fn get(&self, packet_id: &str) -> Result<Option<QueueEntry>, StoreError> {
        Ok(queue::one(&self.conn, packet_id)?.map(|row| self.entry(row)))
    }

    /// The packet that sealed `visit_id`, if queued.
    pub fn find_by_visit(&self, visit_id: &str) -> Result<Option<QueueEntry>, StoreError> {
        Ok(queue::by_visit(&self.conn, visit_id)?.map(|row| self.entry(row)))
    }

    /// Moves `packet_id` to `to`, recording the transition with `note`.
    ///
    /// Acknowledged and purged need a stored receipt ([`Store::set_receipt`], or
    /// [`Store::acknowledge`] which stores it and moves the packet at once).
    ///
    /// Quarantine also moves the file into `quarantine/`, purge removes it; both durably, after the
    /// row is committed. A forbidden transition is [`StoreError::BadTransition`].
    pub fn transition(
        &mut self,
        packet_id: &str,
        to: State,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let db_err = |e| StoreError::sqlite(&self.db, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let row = queue::one(&tx, packet_id)?
            .ok_or_else(|| StoreError::NotFound(packet_id.to_owned()))?;
        if !row.state.can_become(to) {
            return Err(StoreError::BadTransition {
                id: packet_id.to_owned(),
                from: row.state,
                to,
            });
        }
        if matches!(to, State::Acknowledged | State::Purged) && !row.has_receipt {
            return Err(StoreError::NoReceipt {
                id: packet_id.to_owned(),
                to,
            });
        }
        queue::set_state(&tx, packet_id, row.state, to, Timestamp::now(), note).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        tracing::info!(packet_id, from = %row.state, to = %to, "packet state changed");
        match to {
            State::Quarantined => self.move_to_quarantine(&row.file, &row.file),
            State::Purged => self.remove_packet_file(&row.file),
            _ => Ok(()),
        }
    }

    /// Every transition of `packet_id`, in order; empty when the packet is unknown.
    pub fn history(&self, packet_id: &str) -> Result<Vec<Transition>, StoreError> {
        queue::history(&self.conn, packet_id)
    }

    /// Where the file of `entry` is (or was): `quarantine/` when quarantined, else `packets/`.
    pub fn path_of(&self, entry: &QueueEntry) -> PathBuf {
        self.path_for(entry.state, &entry.file)
    }

    /// The `packets/` directory.
    pub fn packets_dir(&self) -> &Path {
        &self.packets
    }

    /// The `quarantine/` directory.
    pub fn quarantine_dir(&self) -> &Path {
        &self.quarantine
    }

    /// The kit home the store was opened on.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_for(&self, state: State, file: &str) -> PathBuf {
        match state {
            State::Quarantined => self.quarantine.join(file),
            _ => self.packets.join(file),
        }
    }

    fn entry(&self, row: queue::PacketRow) -> QueueEntry {
        let file_present = self.path_for(row.state, &row.file).is_file();
        let refused_because = if row.state == State::Refused {
            queue::refusal(&self.conn, &row.meta.packet_id)
        } else {
            None
        };
        let uploaded_without_receipt = row.state == State::Uploading
            && !row.has_receipt
            && row.upload_offset == Some(row.meta.size);
        QueueEntry {
            packet_id: row.meta.packet_id,
            kit_id: row.meta.kit_id,
            visit_id: row.meta.visit_id,
            file: row.file,
            state: row.state,
            size: row.meta.size,
            payload_sha256: row.meta.payload_sha256,
            created_at: row.meta.created_at,
            state_since: row.state_since,
            file_present,
            upload_offset: row.upload_offset,
            receipt: row.has_receipt,
            uploaded_without_receipt,
            refused_because,
        }
    }

    /// Moves `packets/<file>` to `quarantine/<target>` durably; a file already gone is only logged,
    /// and an existing quarantined file is never overwritten.
    fn move_to_quarantine(&self, file: &str, target: &str) -> Result<(), StoreError> {
        let from = self.packets.join(file);
        let to = self.quarantine.join(target);
        if !from.exists() {
            tracing::warn!(path = %from.display(), "nothing to move into quarantine: file already gone");
            return Ok(());
        }
        let move_err = |source| StoreError::Move {
            from: from.clone(),
            to: to.clone(),
            source,
        };
        if to.symlink_metadata().is_ok() {
            return Err(move_err(std::io::ErrorKind::AlreadyExists.into()));
        }
        fs::rename(&from, &to).map_err(move_err)?;
        fsutil::sync_dir(&self.quarantine).map_err(move_err)?;
        fsutil::sync_dir(&self.packets).map_err(move_err)
    }

    /// Removes `packets/<file>` durably; a file already gone is only logged.
    fn remove_packet_file(&self, file: &str) -> Result<(), StoreError> {
        let path = self.packets.join(file);
        match fsutil::remove_durable(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(path = %path.display(), "nothing to purge: file already gone");
                Ok(())
            }
            Err(source) => Err(StoreError::Remove { path, source }),
        }
    }
}

/// The file name of a packet, `<packet_id>.jpk`, after checking the id can name a file safely.
pub fn packet_file_name(packet_id: &str) -> Result<String, StoreError> {
    let ok = (1..=128).contains(&packet_id.len())
        && !packet_id.starts_with('.')
        && packet_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(format!("{packet_id}.{PACKET_EXT}"))
    } else {
        Err(StoreError::BadPacketId(packet_id.to_owned()))
    }
}

#[cfg(test)]
mod tests;

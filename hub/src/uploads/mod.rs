//! Uploads in progress ([`Uploads`]): their rows, and their bytes in `.part` files (embedded
//! backend) or staged in PostgreSQL (`crate::pg::uploads`).
//!
//! Durability rules (`docs/hub-protocol.md` §6):
//! - a `PATCH` is answered without an fsync: the embedded backend writes the chunk into the
//!   `.part` file and commits the new `offset` with `synchronous=NORMAL` (that one commit only),
//!   so a power cut may take the last chunks, the last offsets, or both. The offset the hub
//!   reports and resumes from is therefore `min(offset in the database, length of the .part
//!   file)`: reconciled for every open upload when the hub opens ([`Uploads::reconcile_at_start`])
//!   and again whenever a request takes an upload ([`Uploads::reconcile`]). A smaller offset than
//!   the kit was told is allowed: the kit always asks (`HEAD`) before it resumes and sends the
//!   rest again;
//! - a cut can also leave a `.part` file of the recorded length whose last blocks are not what
//!   was written (zeros, on some filesystems). Nothing sees that until the whole packet is
//!   checked at completion, where the payload's SHA-256 (and the prelude compared with the one
//!   given at creation) catch it. An upload with bytes written before this process opened the
//!   hub ([`Uploads::carried_over`]) that fails those checks is not refused: it starts again from
//!   offset 0 and the kit is told so (`409` with `Upload-Offset: 0`), because its bytes may be a
//!   cut's, not the kit's. Only a second failure, with every byte written by this process, is a
//!   refusal;
//! - the completed packet is made durable by [`crate::storage`] before its receipt.

use std::fs;
use std::path::{Path, PathBuf};

use crate::CachedSql;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use crate::storage::{held_row, unsynced};
use crate::{lock, parse_ts, ts_text, Backend, HubError, UPLOADS_DIR};
use jemput_core::fsutil;

pub(crate) mod model;
pub use model::{NewUpload, Upload, UploadState};

/// Packet and upload files are readable by the hub's user only.
const FILE_MODE: u32 = 0o600;

/// How long after its last byte a complete upload on PostgreSQL is left to the process completing
/// it before a starting process takes it as interrupted ([`Uploads::complete_but_open`]). A
/// completion takes well under a second; one waiting for an unreachable object store gives up
/// after about 10 s.
pub const COMPLETION_SETTLE: std::time::Duration = std::time::Duration::from_secs(120);

/// The embedded backend's row change of [`Uploads::finish`], with a refusal's `rejected` event in
/// the same transaction.
fn finish_row(
    conn: &mut rusqlite::Connection,
    upload_id: &str,
    state: UploadState,
    note: Option<&str>,
) -> Result<(), HubError> {
    let tx = conn.transaction()?;
    // A finished upload holds all its bytes: its offset says so whatever a reconciliation did
    // meanwhile.
    tx.exec(
        "UPDATE uploads SET state = ?2, note = ?3, updated_at = ?4,
                            offset = CASE WHEN ?2 = 'done' THEN length ELSE offset END
         WHERE upload_id = ?1",
        params![upload_id, state.as_str(), note, ts_text(Timestamp::now())],
    )?;
    if state == UploadState::Failed {
        let row: Option<(String, String, i64)> = tx
            .row(
                "SELECT packet_id, kit_id, length FROM uploads WHERE upload_id = ?1",
                [upload_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((packet_id, kit_id, length)) = row {
            crate::events::enqueue(
                &tx,
                crate::events::EventKind::Rejected,
                &packet_id,
                &kit_id,
                Some(length as u64),
                note,
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The oldest last activity an upload may have at `now` and not be expired.
fn expiry_cutoff(now: Timestamp, expiry_secs: u64) -> Timestamp {
    now.checked_sub(jiff::SignedDuration::from_secs(
        expiry_secs.min(i64::MAX as u64) as i64,
    ))
    .unwrap_or(Timestamp::MIN)
}

/// Whether `id` has the shape of an upload id (so it is safe in a path).
pub fn valid_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Uploads in progress: rows in `uploads`, bytes in `<data>/uploads/<upload id>.part` (embedded),
/// or rows and staged bytes in PostgreSQL with `.part` files only as a process's scratch copy for
/// verification (scale-out, `pg::uploads`).
#[derive(Debug)]
pub struct Uploads {
    dir: PathBuf,
    state: Backend,
    /// Open uploads (embedded backend) that held bytes when this process opened the hub: bytes a
    /// power cut before then may have damaged without shortening the file. See
    /// [`Uploads::carried_over`].
    carried: std::sync::Mutex<std::collections::HashSet<String>>,
}

const UPLOAD_COLUMNS: &str = "upload_id, kit_id, packet_id, metadata, prelude, length, offset, \
                              state, created_at, updated_at, note";

fn upload_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawUpload> {
    Ok(RawUpload {
        upload_id: r.get(0)?,
        kit_id: r.get(1)?,
        packet_id: r.get(2)?,
        metadata: r.get(3)?,
        prelude: r.get(4)?,
        length: r.get(5)?,
        offset: r.get(6)?,
        state: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        note: r.get(10)?,
    })
}

struct RawUpload {
    upload_id: String,
    kit_id: String,
    packet_id: String,
    metadata: String,
    prelude: Vec<u8>,
    length: i64,
    offset: i64,
    state: String,
    created_at: String,
    updated_at: String,
    note: Option<String>,
}

impl RawUpload {
    fn into_upload(self) -> Result<Upload, HubError> {
        Ok(Upload {
            upload_id: self.upload_id,
            kit_id: self.kit_id,
            packet_id: self.packet_id,
            metadata: self.metadata,
            prelude: self.prelude,
            length: self.length as u64,
            offset: self.offset as u64,
            state: UploadState::parse(self.state)?,
            created_at: parse_ts("upload creation time", self.created_at)?,
            updated_at: parse_ts("upload update time", self.updated_at)?,
            note: self.note,
        })
    }
}

impl Uploads {
    pub(crate) fn with_state(data: &Path, state: Backend) -> Uploads {
        Uploads {
            dir: data.join(UPLOADS_DIR),
            state,
            carried: Default::default(),
        }
    }

    /// Brings every open upload's offset down to the bytes its `.part` file holds, and notes the
    /// uploads that hold bytes at all as [`Uploads::carried_over`]. Run when the hub opens, before
    /// anything is completed or served; the embedded backend only (the scale-out one stages
    /// chunks in PostgreSQL, committed before they are acknowledged).
    pub fn reconcile_at_start(&self) -> Result<(), HubError> {
        let Backend::Embedded(db) = &self.state else {
            return Ok(());
        };
        let raws = {
            let conn = lock(db);
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE state = 'open'"
            ))?;
            let rows = stmt
                .query_map([], upload_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows
        };
        for raw in raws {
            let up = self.reconcile(raw.into_upload()?)?;
            if up.offset > 0 {
                self.carried
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(up.upload_id);
            }
        }
        Ok(())
    }

    /// `up` with its offset no larger than the bytes in its `.part` file: a power cut may have
    /// taken chunks whose offsets were committed (`PATCH`es are not fsynced), and the hub must
    /// never report, or resume after, bytes it does not hold. A smaller offset is committed
    /// (only if the row still has the offset read: another process may have moved it); a missing
    /// `.part` file is made again, empty. Open uploads of the embedded backend only; others are
    /// returned as they are.
    pub fn reconcile(&self, mut up: Upload) -> Result<Upload, HubError> {
        let Backend::Embedded(db) = &self.state else {
            return Ok(up);
        };
        if up.state != UploadState::Open || !valid_upload_id(&up.upload_id) {
            return Ok(up);
        }
        let part = self.part_path(&up.upload_id);
        let held = match fs::metadata(&part) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Moved into `packets/` and receipted, and the crash came before the upload was
                // ended: end it now, as completion would have.
                let receipted =
                    held_row(&lock(db), &up.packet_id)?.is_some_and(|h| h.kit_id == up.kit_id);
                if receipted {
                    self.finish(&up.upload_id, UploadState::Done, None)?;
                    up.state = UploadState::Done;
                    up.offset = up.length;
                    return Ok(up);
                }
                use std::os::unix::fs::OpenOptionsExt;
                fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .mode(FILE_MODE)
                    .open(&part)
                    .and_then(|f| f.sync_all())
                    .map_err(HubError::io("create", &part))?;
                fsutil::sync_dir(&self.dir).map_err(HubError::io("sync", &self.dir))?;
                0
            }
            Err(e) => return Err(HubError::io("read", &part)(e)),
        };
        if held >= up.offset {
            return Ok(up);
        }
        tracing::warn!(
            upload = %up.upload_id,
            recorded = up.offset,
            held,
            "the upload's file holds fewer bytes than its recorded offset (a power cut took the last chunks); the hub now reports {held}"
        );
        lock(db).exec(
            "UPDATE uploads SET offset = ?3 WHERE upload_id = ?1 AND offset = ?2 AND state = 'open'",
            params![up.upload_id, up.offset as i64, held as i64],
        )?;
        up.offset = held;
        Ok(up)
    }

    /// Whether upload `upload_id` held bytes when this process opened the hub (see
    /// [`Uploads::reconcile_at_start`]): a power cut before then may have left some of them
    /// damaged in place (a file of the right length whose last blocks are zeros), which only the
    /// whole packet's checks at completion can see. Those checks failing then says nothing sure
    /// of the kit's packet, so the upload starts again ([`Uploads::restart`]) rather than being
    /// refused. Always `false` with the scale-out backend.
    pub fn carried_over(&self, upload_id: &str) -> bool {
        self.carried
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(upload_id)
    }

    /// Empties an open upload's `.part` file and sets its offset to 0, for bytes that a power cut
    /// may have damaged (embedded backend). The upload is no longer [`Uploads::carried_over`]:
    /// every byte it gets from now on is written by this process, so the checks at completion
    /// judge the kit's packet.
    pub fn restart(&self, upload_id: &str) -> Result<(), HubError> {
        if !matches!(self.state, Backend::Embedded(_)) {
            return Err(HubError::Corrupt {
                what: "upload restart",
                value: "the scale-out backend stages durable chunks in PostgreSQL".into(),
            });
        }
        let part = self.part_path(upload_id);
        fs::OpenOptions::new()
            .write(true)
            .open(&part)
            .and_then(|f| f.set_len(0))
            .map_err(HubError::io("truncate", &part))?;
        self.set_offset(upload_id, 0)?;
        self.carried
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(upload_id);
        Ok(())
    }

    /// Whether an upload's bytes are staged in the database (the scale-out backend: any
    /// process may receive the next chunk) rather than in its `.part` file.
    pub fn staged_in_database(&self) -> bool {
        matches!(self.state, Backend::Postgres(_))
    }

    /// Appends a chunk to an upload whose bytes are staged in the database, if its offset is
    /// still `at` (compare-and-set): `Ok(new offset)`, or `Err(offset it has now)` when another
    /// request got there first. Only for [`Uploads::staged_in_database`].
    pub fn append_staged(
        &self,
        upload_id: &str,
        at: u64,
        data: &[u8],
    ) -> Result<Result<u64, u64>, HubError> {
        match &self.state {
            Backend::Postgres(pool) => crate::pg::uploads::append(pool, upload_id, at, data),
            Backend::Embedded(_) => Err(HubError::Corrupt {
                what: "upload staging",
                value: "the embedded backend keeps bytes in .part files".into(),
            }),
        }
    }

    /// Makes the `.part` file of `up` hold its bytes: with the scale-out backend, copied from the
    /// chunks staged in the database (this process may not have received any of them); with the
    /// embedded one it already does.
    pub fn prepare_part(&self, up: &Upload) -> Result<(), HubError> {
        match &self.state {
            Backend::Postgres(pool) => {
                fsutil::ensure_dir(&self.dir, 0o700).map_err(HubError::io("create", &self.dir))?;
                crate::pg::uploads::assemble(pool, up, &self.part_path(&up.upload_id))
            }
            Backend::Embedded(_) => Ok(()),
        }
    }

    /// The `.part` file of an upload (`upload_id` must be valid: see [`valid_upload_id`]). With
    /// the scale-out backend it is this process's scratch copy of the staged bytes, named with
    /// the process id (`<upload id>.<pid>.part`): processes sharing a data directory may assemble
    /// the same upload at once (one finishing a kit's `PATCH`, another recovering at its start),
    /// and must never write or remove each other's copy.
    pub fn part_path(&self, upload_id: &str) -> PathBuf {
        debug_assert!(valid_upload_id(upload_id));
        match self.state {
            Backend::Postgres(_) => self
                .dir
                .join(format!("{upload_id}.{}.part", std::process::id())),
            Backend::Embedded(_) => self.dir.join(format!("{upload_id}.part")),
        }
    }

    /// Creates an upload: an empty `.part` file, then its row, neither synced. A power cut may
    /// take the row (the kit's next request then finds no upload, `404`, and it creates one
    /// again), the file's name (made again, empty, when the hub opens: [`Uploads::reconcile`]),
    /// or both; the receipt is what must be durable, and [`crate::storage`] makes the packet so
    /// before it. Two fsyncs and a synced commit fewer per packet than when both were synced.
    pub fn create(&self, new: &NewUpload<'_>) -> Result<Upload, HubError> {
        let upload_id = hex::encode(rand::random::<[u8; 16]>());
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                crate::pg::uploads::create(pool, &upload_id, new)?;
                return Ok(self.get(&upload_id)?.expect("the upload was just created"));
            }
        };
        let part = self.part_path(&upload_id);
        {
            use std::os::unix::fs::OpenOptionsExt;
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&part)
                .map_err(HubError::io("create", &part))?;
        }
        let now = ts_text(Timestamp::now());
        unsynced(&mut lock(db), |conn| -> Result<(), HubError> {
            let tx = conn.transaction()?;
            tx.exec(
                "INSERT INTO uploads (upload_id, kit_id, packet_id, metadata, prelude, length, offset,
                                      state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 'open', ?7, ?7)",
                params![
                    upload_id,
                    new.kit_id,
                    new.packet_id,
                    new.metadata,
                    new.prelude,
                    new.length as i64,
                    now
                ],
            )?;
            crate::events::enqueue(
                &tx,
                crate::events::EventKind::Received,
                new.packet_id,
                new.kit_id,
                Some(new.length),
                None,
            )?;
            tx.commit()?;
            Ok(())
        })?;
        Ok(self.get(&upload_id)?.expect("the upload was just created"))
    }

    /// The upload with this id.
    pub fn get(&self, upload_id: &str) -> Result<Option<Upload>, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => return crate::pg::uploads::get(pool, upload_id),
        };
        let conn = lock(db);
        let raw = conn
            .row(
                &format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?1"),
                [upload_id],
                upload_row,
            )
            .optional()?;
        raw.map(RawUpload::into_upload).transpose()
    }

    /// The open upload of this packet by this kit, if any.
    pub fn find_open(&self, kit_id: &str, packet_id: &str) -> Result<Option<Upload>, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                return crate::pg::uploads::find_open(pool, kit_id, packet_id)
            }
        };
        let conn = lock(db);
        let raw = conn
            .row(
                &format!(
                    "SELECT {UPLOAD_COLUMNS} FROM uploads
                     WHERE kit_id = ?1 AND packet_id = ?2 AND state = 'open'
                     ORDER BY created_at DESC LIMIT 1"
                ),
                [kit_id, packet_id],
                upload_row,
            )
            .optional()?;
        raw.map(RawUpload::into_upload).transpose()
    }

    /// The kit that first created an upload of this packet id, if any kit did: the id's owner at
    /// this hub (`docs/hub-protocol.md` §3). Upload rows are never deleted, so a claim outlives
    /// the upload's end.
    pub fn claimant(&self, packet_id: &str) -> Result<Option<String>, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => return crate::pg::uploads::claimant(pool, packet_id),
        };
        let conn = lock(db);
        Ok(conn
            .row(
                "SELECT kit_id FROM uploads WHERE packet_id = ?1
                 ORDER BY created_at, rowid LIMIT 1",
                [packet_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records that the first `offset` bytes of the `.part` file are written (not necessarily
    /// durable: see the module's durability rules).
    ///
    /// The embedded backend commits this one update with `synchronous=NORMAL`: in WAL mode the
    /// commit is then not fsynced, and a power cut may take it, which only makes the hub report
    /// a smaller offset, as losing the chunk itself would. The next commit made with `FULL` (a
    /// nonce, a receipt) fsyncs the log with this one in it; SQLite keeps the database
    /// consistent either way ("PRAGMA synchronous", <https://sqlite.org/pragma.html#pragma_synchronous>).
    pub fn set_offset(&self, upload_id: &str, offset: u64) -> Result<(), HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                return crate::pg::uploads::set_offset(pool, upload_id, offset)
            }
        };
        unsynced(&mut lock(db), |conn| {
            conn.exec(
                "UPDATE uploads SET offset = ?2, updated_at = ?3 WHERE upload_id = ?1",
                params![upload_id, offset as i64, ts_text(Timestamp::now())],
            )
        })?;
        Ok(())
    }

    /// Ends an upload in `state` (not [`UploadState::Open`]); removes its `.part` file if left.
    pub fn finish(
        &self,
        upload_id: &str,
        state: UploadState,
        note: Option<&str>,
    ) -> Result<(), HubError> {
        debug_assert!(state != UploadState::Open);
        // The row leads: a crash after it leaves a stray .part that `remove_expired` clears.
        // A refusal's `rejected` event is in the same transaction.
        match &self.state {
            Backend::Postgres(pool) => crate::pg::uploads::finish(pool, upload_id, state, note)?,
            Backend::Embedded(db) => {
                let mut conn = lock(db);
                // `done` comes after the packet's receipt was committed, synced: should a power
                // cut take this commit, the upload looks open with all its bytes, and the kit's
                // next request completes it again to the receipt held (`AlreadyHeld`). So no
                // fsync for it; a refusal (with its event) is synced.
                if state == UploadState::Done {
                    unsynced(&mut conn, |c| finish_row(c, upload_id, state, note))?;
                } else {
                    finish_row(&mut conn, upload_id, state, note)?;
                }
            }
        }
        let part = self.part_path(upload_id);
        match fsutil::remove_durable(&part) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(HubError::io("remove", &part)(e)),
        }
    }

    /// Open uploads that hold all their bytes: a crash came between the last byte and storing.
    ///
    /// On PostgreSQL only those whose last byte came at least [`COMPLETION_SETTLE`] before `now`:
    /// a younger one is most likely being completed right now by the process that took its last
    /// `PATCH` (a process starting while others serve would otherwise check and store it a second
    /// time, and say it finished an interrupted upload). Should that process have died, the kit's
    /// next request for its receipt completes it, or the next start after the settling time does.
    /// The embedded backend has one process: every such upload was interrupted.
    pub fn complete_but_open(&self, now: Timestamp) -> Result<Vec<Upload>, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                let settled_before = now.checked_sub(COMPLETION_SETTLE).unwrap_or(Timestamp::MIN);
                return crate::pg::uploads::complete_but_open(pool, settled_before);
            }
        };
        let conn = lock(db);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {UPLOAD_COLUMNS} FROM uploads WHERE state = 'open' AND offset = length"
        ))?;
        let raws = stmt
            .query_map([], upload_row)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(RawUpload::into_upload).collect()
    }

    /// How many unfinished uploads `kit_id` holds that have not expired (idle for at most
    /// `expiry_secs` at `now`), and the bytes they declare together.
    pub fn open_of_kit(
        &self,
        kit_id: &str,
        now: Timestamp,
        expiry_secs: u64,
    ) -> Result<(u64, u64), HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                return crate::pg::uploads::open_of_kit(
                    pool,
                    kit_id,
                    expiry_cutoff(now, expiry_secs),
                )
            }
        };
        let (n, bytes): (i64, i64) = lock(db).row(
            "SELECT count(*), coalesce(sum(length), 0) FROM uploads
             WHERE kit_id = ?1 AND state = 'open' AND updated_at >= ?2",
            params![kit_id, ts_text(expiry_cutoff(now, expiry_secs))],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n.max(0) as u64, bytes.max(0) as u64))
    }

    /// Ids of the open uploads idle for more than `expiry_secs` at `now`.
    pub fn expired(&self, now: Timestamp, expiry_secs: u64) -> Result<Vec<String>, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                return crate::pg::uploads::expired(pool, expiry_cutoff(now, expiry_secs))
            }
        };
        let conn = lock(db);
        let mut stmt = conn.prepare_cached(
            "SELECT upload_id FROM uploads WHERE state = 'open' AND updated_at < ?1",
        )?;
        let ids = stmt
            .query_map([ts_text(expiry_cutoff(now, expiry_secs))], |r| r.get(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// Terminates open uploads idle for more than `expiry_secs`, and removes `.part` files that no
    /// open upload owns (with the scale-out backend: scratch copies of processes that no longer
    /// run). Returns how many uploads expired. Only for a hub not serving: a running hub expires
    /// uploads under their locks (`http/upload.rs`).
    pub fn remove_expired(&self, now: Timestamp, expiry_secs: u64) -> Result<usize, HubError> {
        let expired = self.expired(now, expiry_secs)?;
        for id in &expired {
            self.finish(id, UploadState::Terminated, Some("expired"))?;
        }
        let entries = fs::read_dir(&self.dir).map_err(HubError::io("read", &self.dir))?;
        for entry in entries {
            let entry = entry.map_err(HubError::io("read", &self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_suffix(".part") else {
                continue;
            };
            let owned = match &self.state {
                // `<upload id>.<pid>.part`: another process's while it runs (Linux's /proc).
                Backend::Postgres(_) => id
                    .rsplit_once('.')
                    .and_then(|(_, pid)| pid.parse::<u32>().ok())
                    .is_some_and(|pid| {
                        pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()
                    }),
                Backend::Embedded(_) => {
                    valid_upload_id(id)
                        && self.get(id)?.is_some_and(|u| u.state == UploadState::Open)
                }
            };
            if !owned {
                let p = entry.path();
                match fs::remove_file(&p) {
                    Ok(()) => {}
                    // Removed meanwhile (by the process that finished the upload): as wanted.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(HubError::io("remove", &p)(e)),
                }
            }
        }
        Ok(expired.len())
    }
}

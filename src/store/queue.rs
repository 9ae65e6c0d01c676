//! The SQLite queue: schema and migrations, committing packets, the state machine, history.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{params, Connection};
use rusqlite_migration::{Migrations, M};
use schemars::JsonSchema;
use serde::Serialize;

use super::{State, StoreError};
use crate::fsutil;

/// Name of the queue database in the kit home.
pub const DB_FILE: &str = "queue.sqlite";

/// The migrations, oldest first. Never edit a released one: add a new one.
pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            "CREATE TABLE packets (
                packet_id TEXT PRIMARY KEY NOT NULL,
                kit_id TEXT NOT NULL,
                file TEXT NOT NULL,
                state TEXT NOT NULL,
                size INTEGER NOT NULL,
                payload_sha256 TEXT NOT NULL,
                created_at TEXT NOT NULL,
                state_since TEXT NOT NULL
            );
            CREATE TABLE transitions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                packet_id TEXT NOT NULL REFERENCES packets(packet_id),
                from_state TEXT,
                to_state TEXT NOT NULL,
                at TEXT NOT NULL,
                note TEXT
            );
            CREATE INDEX transitions_packet ON transitions(packet_id);",
        ),
        // The visit a packet seals (to never seal a draft twice after a crash), and the upload
        // bookkeeping the upload issue fills in.
        M::up(
            "ALTER TABLE packets ADD COLUMN visit_id TEXT;
            ALTER TABLE packets ADD COLUMN upload_url TEXT;
            ALTER TABLE packets ADD COLUMN upload_offset INTEGER;
            ALTER TABLE packets ADD COLUMN receipt BLOB;
            CREATE INDEX packets_visit ON packets(visit_id);",
        ),
    ])
}

/// What the store records about a packet when it is committed or adopted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketMeta {
    pub packet_id: String,
    pub kit_id: String,
    pub size: u64,
    pub payload_sha256: String,
    pub created_at: Timestamp,
    /// The visit sealed into the packet; unknown for packets adopted by recovery.
    pub visit_id: Option<String>,
}

/// One row of `jemput queue --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct QueueEntry {
    pub packet_id: String,
    pub kit_id: String,
    pub visit_id: Option<String>,
    /// File name in `packets/` (or `quarantine/` when quarantined).
    pub file: String,
    pub state: State,
    pub size: u64,
    pub payload_sha256: String,
    pub created_at: Timestamp,
    pub state_since: Timestamp,
    /// Whether the file is where the state says it should be (false for purged packets).
    pub file_present: bool,
}

/// One recorded state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Transition {
    pub packet_id: String,
    /// `None` for the first record (the packet entering the queue).
    pub from: Option<State>,
    pub to: State,
    pub at: Timestamp,
    pub note: Option<String>,
}

/// The packet directory and the queue database of one kit home.
#[derive(Debug)]
pub struct Store {
    pub(crate) root: PathBuf,
    pub(crate) packets: PathBuf,
    pub(crate) quarantine: PathBuf,
    pub(crate) conn: Connection,
}

fn parse_ts(id: &str, s: &str) -> Result<Timestamp, StoreError> {
    s.parse().map_err(|e| StoreError::Corrupt {
        id: id.into(),
        why: format!("bad time {s:?}: {e}"),
    })
}

fn parse_state(id: &str, s: &str) -> Result<State, StoreError> {
    s.parse()
        .map_err(|why| StoreError::Corrupt { id: id.into(), why })
}

const ENTRY_COLUMNS: &str =
    "packet_id, kit_id, visit_id, file, state, size, payload_sha256, created_at, state_since";

impl Store {
    /// Opens the store in `root` (a kit home), creating directories and the database if needed and
    /// migrating it to the latest schema.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let packets = root.join("packets");
        let quarantine = root.join("quarantine");
        for d in [root, &packets, &quarantine] {
            fsutil::ensure_dir(d, 0o700).map_err(StoreError::io("create", d))?;
        }
        let db = root.join(DB_FILE);
        let mut conn = Connection::open(&db)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                id: db.display().to_string(),
                why: format!("cannot switch to WAL (journal mode is {mode})"),
            });
        }
        conn.execute_batch(
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )?;
        migrations().to_latest(&mut conn)?;
        Ok(Store {
            root: root.into(),
            packets,
            quarantine,
            conn,
        })
    }

    pub fn packets_dir(&self) -> &Path {
        &self.packets
    }

    pub fn quarantine_dir(&self) -> &Path {
        &self.quarantine
    }

    /// File name of a packet in the store.
    pub fn file_name(packet_id: &str) -> String {
        format!("{packet_id}.{}", crate::packet::EXTENSION)
    }

    /// Durably stores a sealed packet, then commits its queue row. If the file cannot be written
    /// (e.g. the disk is full) nothing is inserted and no temp file remains; if the row cannot be
    /// committed the file is removed again, so the caller's draft stays the one copy.
    pub fn commit_packet(
        &mut self,
        meta: &PacketMeta,
        bytes: &[u8],
    ) -> Result<PathBuf, StoreError> {
        if self.get(&meta.packet_id)?.is_some() {
            return Err(StoreError::Duplicate(meta.packet_id.clone()));
        }
        let file = Self::file_name(&meta.packet_id);
        let path = self.packets.join(&file);
        if path.exists() {
            return Err(StoreError::Duplicate(meta.packet_id.clone()));
        }
        fsutil::write_atomic(&path, bytes, 0o600).map_err(StoreError::io("write", &path))?;
        if let Err(e) = self.insert(meta, &file, State::Sealed, "sealed") {
            let _ = fsutil::remove_durable(&path);
            return Err(e);
        }
        Ok(path)
    }

    pub(crate) fn insert(
        &mut self,
        meta: &PacketMeta,
        file: &str,
        state: State,
        note: &str,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now().to_string();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO packets (packet_id, kit_id, visit_id, file, state, size, payload_sha256, created_at, state_since)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                meta.packet_id,
                meta.kit_id,
                meta.visit_id,
                file,
                state.as_str(),
                meta.size as i64,
                meta.payload_sha256,
                meta.created_at.to_string(),
                now
            ],
        )?;
        tx.execute(
            "INSERT INTO transitions (packet_id, from_state, to_state, at, note) VALUES (?1, NULL, ?2, ?3, ?4)",
            params![meta.packet_id, state.as_str(), now, note],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn entries(&self, filter: &str, arg: Option<&str>) -> Result<Vec<QueueEntry>, StoreError> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM packets {filter} ORDER BY created_at, packet_id");
        let mut stmt = self.conn.prepare(&sql)?;
        let map = |r: &rusqlite::Row<'_>| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
            ))
        };
        let rows = match arg {
            Some(a) => stmt.query_map([a], map)?.collect::<Result<Vec<_>, _>>()?,
            None => stmt.query_map([], map)?.collect::<Result<Vec<_>, _>>()?,
        };
        rows.into_iter()
            .map(
                |(id, kit_id, visit_id, file, state, size, sha, created, since)| {
                    let state = parse_state(&id, &state)?;
                    let mut e = QueueEntry {
                        created_at: parse_ts(&id, &created)?,
                        state_since: parse_ts(&id, &since)?,
                        packet_id: id,
                        kit_id,
                        visit_id,
                        file,
                        state,
                        size: size.max(0) as u64,
                        payload_sha256: sha,
                        file_present: false,
                    };
                    e.file_present = state != State::Purged && self.path_of(&e).is_file();
                    Ok(e)
                },
            )
            .collect()
    }

    /// Every packet in the queue, oldest first.
    pub fn list(&self) -> Result<Vec<QueueEntry>, StoreError> {
        self.entries("", None)
    }

    pub fn get(&self, packet_id: &str) -> Result<Option<QueueEntry>, StoreError> {
        Ok(self.entries("WHERE packet_id = ?1", Some(packet_id))?.pop())
    }

    /// The packet that sealed a visit, if any.
    pub fn find_by_visit(&self, visit_id: &str) -> Result<Option<QueueEntry>, StoreError> {
        Ok(self.entries("WHERE visit_id = ?1", Some(visit_id))?.pop())
    }

    /// Where the entry's file is (or would be): `packets/` or, when quarantined, `quarantine/`.
    pub fn path_of(&self, entry: &QueueEntry) -> PathBuf {
        match entry.state {
            State::Quarantined => self.quarantine.join(&entry.file),
            _ => self.packets.join(&entry.file),
        }
    }

    /// Moves a packet to another state, recording the transition. The row changes first; then a
    /// quarantined file is moved to `quarantine/` and a purged file removed (recovery finishes
    /// either if a crash falls in between).
    pub fn transition(
        &mut self,
        packet_id: &str,
        to: State,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let entry = self
            .get(packet_id)?
            .ok_or_else(|| StoreError::NotFound(packet_id.into()))?;
        if !entry.state.can_go_to(to) {
            return Err(StoreError::BadTransition {
                id: packet_id.into(),
                from: entry.state,
                to,
            });
        }
        let now = Timestamp::now().to_string();
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE packets SET state = ?1, state_since = ?2 WHERE packet_id = ?3",
            params![to.as_str(), now, packet_id],
        )?;
        tx.execute(
            "INSERT INTO transitions (packet_id, from_state, to_state, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![packet_id, entry.state.as_str(), to.as_str(), now, note],
        )?;
        tx.commit()?;
        self.settle_file(&entry.file, to)
    }

    /// Puts a packet's file where its state says: quarantined → `quarantine/`, purged → gone.
    pub(crate) fn settle_file(&self, file: &str, state: State) -> Result<(), StoreError> {
        let src = self.packets.join(file);
        if !src.exists() {
            return Ok(());
        }
        match state {
            State::Quarantined => {
                let dst = self.quarantine.join(file);
                std::fs::rename(&src, &dst).map_err(StoreError::io("move to quarantine", &src))?;
                fsutil::sync_dir(&self.quarantine)
                    .map_err(StoreError::io("sync", &self.quarantine))?;
                fsutil::sync_dir(&self.packets).map_err(StoreError::io("sync", &self.packets))
            }
            State::Purged => fsutil::remove_durable(&src).map_err(StoreError::io("remove", &src)),
            _ => Ok(()),
        }
    }

    /// Every recorded state change of a packet, oldest first.
    pub fn history(&self, packet_id: &str) -> Result<Vec<Transition>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT from_state, to_state, at, note FROM transitions WHERE packet_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([packet_id], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(from, to, at, note)| {
                Ok(Transition {
                    packet_id: packet_id.into(),
                    from: from.map(|f| parse_state(packet_id, &f)).transpose()?,
                    to: parse_state(packet_id, &to)?,
                    at: parse_ts(packet_id, &at)?,
                    note,
                })
            })
            .collect()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

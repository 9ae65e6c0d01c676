//! The SQLite queue: connection settings, schema migrations, and the SQL behind the store.
//!
//! Timestamps are stored as RFC 3339 text in UTC with exactly nine fractional digits, so that text
//! order is time order and `ORDER BY created_at` sorts correctly.

use std::path::Path;
use std::time::Duration;

use jemput_core::fsutil;
use jiff::Timestamp;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use rusqlite_migration::{Migrations, M};

use super::{PacketMeta, State, StoreError, Transition};

/// How long a statement waits for another connection's lock before failing with "busy".
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Version 1: packets and their transitions.
const V1_PACKETS_AND_TRANSITIONS: &str = "
CREATE TABLE packets (
    packet_id      TEXT PRIMARY KEY NOT NULL,
    kit_id         TEXT NOT NULL,
    file           TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN
                       ('sealed', 'uploading', 'acknowledged', 'purged', 'quarantined')),
    size           INTEGER NOT NULL CHECK (size >= 0),
    payload_sha256 TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    state_since    TEXT NOT NULL
) STRICT;
CREATE INDEX packets_by_creation ON packets (created_at, packet_id);

CREATE TABLE transitions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    packet_id  TEXT NOT NULL REFERENCES packets (packet_id),
    from_state TEXT,
    to_state   TEXT NOT NULL,
    at         TEXT NOT NULL,
    note       TEXT
) STRICT;
CREATE INDEX transitions_by_packet ON transitions (packet_id, id);
";

/// Version 2: the visit a packet seals (so a draft is never sealed twice after a crash), where a
/// resumable upload stands, and the hub's receipt.
const V2_UPLOAD_COLUMNS: &str = "
ALTER TABLE packets ADD COLUMN visit_id TEXT;
CREATE INDEX packets_by_visit ON packets (visit_id);
ALTER TABLE packets ADD COLUMN upload_url TEXT;
ALTER TABLE packets ADD COLUMN upload_offset INTEGER CHECK (upload_offset >= 0);
ALTER TABLE packets ADD COLUMN receipt BLOB;
";

/// Version 3: the state `refused` (the hub refused the packet for good). SQLite cannot change a
/// CHECK constraint in place, so the table is rebuilt (with foreign keys off while migrating, as
/// SQLite's documentation for schema changes prescribes; [`open`] checks them afterwards).
const V3_REFUSED_STATE: &str = "
CREATE TABLE packets_v3 (
    packet_id      TEXT PRIMARY KEY NOT NULL,
    kit_id         TEXT NOT NULL,
    file           TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN
                       ('sealed', 'uploading', 'acknowledged', 'purged', 'quarantined', 'refused')),
    size           INTEGER NOT NULL CHECK (size >= 0),
    payload_sha256 TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    state_since    TEXT NOT NULL,
    visit_id       TEXT,
    upload_url     TEXT,
    upload_offset  INTEGER CHECK (upload_offset >= 0),
    receipt        BLOB
) STRICT;
INSERT INTO packets_v3 (packet_id, kit_id, file, state, size, payload_sha256, created_at,
                        state_since, visit_id, upload_url, upload_offset, receipt)
    SELECT packet_id, kit_id, file, state, size, payload_sha256, created_at,
           state_since, visit_id, upload_url, upload_offset, receipt FROM packets;
DROP TABLE packets;
ALTER TABLE packets_v3 RENAME TO packets;
CREATE INDEX packets_by_creation ON packets (created_at, packet_id);
CREATE INDEX packets_by_visit ON packets (visit_id);
";

/// Every schema version, oldest first. Append only: never edit a migration that has shipped.
pub(super) fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1_PACKETS_AND_TRANSITIONS).comment("packets and transitions"),
        M::up(V2_UPLOAD_COLUMNS).comment("upload url, offset and receipt"),
        M::up(V3_REFUSED_STATE).comment("the refused state"),
    ])
}

/// Opens `db` (creating it), sets WAL, `synchronous=FULL`, foreign keys and a busy timeout, and
/// migrates it to the latest schema.
pub(super) fn open(db: &Path) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::Open {
        path: db.to_path_buf(),
        source,
    };
    // Readable by the kit's user only, with its -wal and -shm files (SQLite would create them
    // with the umask's mode, world-readable).
    let tightened = fsutil::private_sqlite_files(db).map_err(|source| StoreError::NotPrivate {
        path: db.to_path_buf(),
        source,
    })?;
    for p in tightened {
        tracing::warn!(
            "{} was readable by other users; it is now 0600",
            p.display()
        );
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(db, flags).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal {
            path: db.to_path_buf(),
            mode,
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    // Foreign keys stay off while migrating (a migration may rebuild a table others refer to),
    // are checked, and then enforced.
    conn.pragma_update(None, "foreign_keys", "OFF")
        .map_err(open_err)?;
    migrations().to_latest(&mut conn)?;
    let dangling: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()
        .map_err(open_err)?;
    if let Some(table) = dangling {
        return Err(open_err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!(
                "a row of {table} refers to a packet that is not there"
            )),
        )));
    }
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_err)?;
    Ok(conn)
}

/// A timestamp as stored: RFC 3339, UTC, nine fractional digits.
pub(super) fn ts_text(ts: Timestamp) -> String {
    format!("{ts:.9}")
}

fn parse_ts(packet_id: &str, column: &'static str, value: String) -> Result<Timestamp, StoreError> {
    value.parse().map_err(|_| StoreError::Corrupt {
        packet_id: packet_id.to_owned(),
        column,
        value,
    })
}

fn parse_state(packet_id: &str, column: &'static str, value: String) -> Result<State, StoreError> {
    value.parse().map_err(|_| StoreError::Corrupt {
        packet_id: packet_id.to_owned(),
        column,
        value,
    })
}

/// A `packets` row as stored, before the file check the store adds.
#[derive(Debug, Clone)]
pub(super) struct PacketRow {
    pub meta: PacketMeta,
    pub file: String,
    pub state: State,
    pub state_since: Timestamp,
    /// The last upload offset the server confirmed, if an upload was started.
    pub upload_offset: Option<u64>,
    /// Whether a receipt is stored.
    pub has_receipt: bool,
}

const ROW_COLUMNS: &str = "packet_id, kit_id, file, state, size, payload_sha256, created_at, \
     state_since, visit_id, upload_offset, receipt IS NOT NULL";

type RawRow = (
    (String, String, String, String),
    (u64, String, String, String, Option<String>),
    (Option<u64>, bool),
);

fn raw_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
        (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?),
        (r.get(9)?, r.get(10)?),
    ))
}

fn packet_row(raw: RawRow) -> Result<PacketRow, StoreError> {
    let (
        (packet_id, kit_id, file, state),
        (size, payload_sha256, created_at, state_since, visit_id),
        (upload_offset, has_receipt),
    ) = raw;
    let state = parse_state(&packet_id, "state", state)?;
    let created_at = parse_ts(&packet_id, "created_at", created_at)?;
    let state_since = parse_ts(&packet_id, "state_since", state_since)?;
    Ok(PacketRow {
        meta: PacketMeta {
            packet_id,
            kit_id,
            size,
            payload_sha256,
            created_at,
            visit_id,
        },
        file,
        state,
        state_since,
        upload_offset,
        has_receipt,
    })
}

/// All rows, oldest first (then by id).
pub(super) fn all(conn: &Connection) -> Result<Vec<PacketRow>, StoreError> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM packets ORDER BY created_at, packet_id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let raws = stmt
        .query_map([], raw_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(packet_row).collect()
}

/// The row of `packet_id`, if any.
pub(super) fn one(conn: &Connection, packet_id: &str) -> Result<Option<PacketRow>, StoreError> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM packets WHERE packet_id = ?1");
    let raw = conn
        .prepare_cached(&sql)?
        .query_row([packet_id], raw_row)
        .optional()?;
    raw.map(packet_row).transpose()
}

/// The row of the packet that sealed `visit_id`, if any.
pub(super) fn by_visit(conn: &Connection, visit_id: &str) -> Result<Option<PacketRow>, StoreError> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM packets WHERE visit_id = ?1");
    let raw = conn
        .prepare_cached(&sql)?
        .query_row([visit_id], raw_row)
        .optional()?;
    raw.map(packet_row).transpose()
}

/// Inserts a packet row in `state`, with its first transition (from nothing), at `at`.
pub(super) fn insert(
    conn: &Connection,
    meta: &PacketMeta,
    file: &str,
    state: State,
    at: Timestamp,
    note: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO packets (packet_id, kit_id, file, state, size, payload_sha256, created_at, state_since, visit_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        meta.packet_id,
        meta.kit_id,
        file,
        state.as_str(),
        meta.size,
        meta.payload_sha256,
        ts_text(meta.created_at),
        ts_text(at),
        meta.visit_id,
    ])?;
    record(conn, &meta.packet_id, None, state, at, note)
}

/// Moves the row of `packet_id` to `to` and records the transition.
pub(super) fn set_state(
    conn: &Connection,
    packet_id: &str,
    from: State,
    to: State,
    at: Timestamp,
    note: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE packets SET state = ?2, state_since = ?3 WHERE packet_id = ?1")?
        .execute(params![packet_id, to.as_str(), ts_text(at)])?;
    record(conn, packet_id, Some(from), to, at, note)
}

fn record(
    conn: &Connection,
    packet_id: &str,
    from: Option<State>,
    to: State,
    at: Timestamp,
    note: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO transitions (packet_id, from_state, to_state, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        packet_id,
        from.map(State::as_str),
        to.as_str(),
        ts_text(at),
        note
    ])?;
    Ok(())
}

/// The note of the last transition of `packet_id` into `refused` (the hub's reason), if any.
pub(super) fn refusal(conn: &Connection, packet_id: &str) -> Option<String> {
    conn.prepare_cached(
        "SELECT note FROM transitions WHERE packet_id = ?1 AND to_state = 'refused'
         ORDER BY id DESC LIMIT 1",
    )
    .and_then(|mut stmt| stmt.query_row([packet_id], |r| r.get(0)))
    .ok()
    .flatten()
}

/// Every transition of `packet_id`, in the order they happened.
pub(super) fn history(conn: &Connection, packet_id: &str) -> Result<Vec<Transition>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT from_state, to_state, at, note FROM transitions WHERE packet_id = ?1 ORDER BY id",
    )?;
    let raws = stmt
        .query_map([packet_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter()
        .map(|(from, to, at, note)| {
            Ok(Transition {
                packet_id: packet_id.to_owned(),
                from: from
                    .map(|f| parse_state(packet_id, "from_state", f))
                    .transpose()?,
                to: parse_state(packet_id, "to_state", to)?,
                at: parse_ts(packet_id, "at", at)?,
                note,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str) -> PacketMeta {
        PacketMeta {
            packet_id: id.into(),
            kit_id: "kit-1".into(),
            size: 42,
            payload_sha256: "ab".repeat(32),
            created_at: "2025-03-01T08:00:00Z".parse().unwrap(),
            visit_id: None,
        }
    }

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    #[test]
    fn open_sets_wal_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("q.sqlite")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        let busy: i64 = conn
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2);
        assert_eq!(fk, 1);
        assert_eq!(busy, 5000);
    }

    #[test]
    fn a_version_1_database_upgrades_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("q.sqlite");
        {
            let mut old = Connection::open(&db).unwrap();
            migrations().to_version(&mut old, 1).unwrap();
            // A row as version 1 wrote it (no visit or upload columns yet).
            let m = meta("p1");
            let now = ts_text(Timestamp::now());
            old.execute(
                "INSERT INTO packets (packet_id, kit_id, file, state, size, payload_sha256, created_at, state_since)
                 VALUES (?1, ?2, 'p1.jpk', 'sealed', ?3, ?4, ?5, ?6)",
                params![m.packet_id, m.kit_id, m.size, m.payload_sha256, ts_text(m.created_at), now],
            )
            .unwrap();
            record(&old, "p1", None, State::Sealed, Timestamp::now(), None).unwrap();
            let has_url = old.prepare("SELECT upload_url FROM packets").is_ok();
            assert!(!has_url, "version 1 has no upload columns");
        }
        let conn = open(&db).unwrap();
        let rows = all(&conn).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].meta, meta("p1"));
        assert_eq!(history(&conn, "p1").unwrap().len(), 1);
        let (url, offset, receipt): (Option<String>, Option<i64>, Option<Vec<u8>>) = conn
            .query_row(
                "SELECT upload_url, upload_offset, receipt FROM packets WHERE packet_id = 'p1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((url, offset, receipt), (None, None, None));
        let version = migrations().current_version(&conn).unwrap();
        assert_eq!(
            version,
            rusqlite_migration::SchemaVersion::Inside(3.try_into().unwrap())
        );
    }

    #[test]
    fn a_version_2_database_upgrades_to_the_refused_state_and_keeps_rows_and_history() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("q.sqlite");
        {
            let mut old = Connection::open(&db).unwrap();
            old.pragma_update(None, "foreign_keys", "ON").unwrap();
            migrations().to_version(&mut old, 2).unwrap();
            insert(
                &old,
                &meta("p1"),
                "p1.jpk",
                State::Sealed,
                Timestamp::now(),
                None,
            )
            .unwrap();
            old.execute(
                "UPDATE packets SET upload_url = 'http://hub/v1/uploads/x', upload_offset = 7",
                [],
            )
            .unwrap();
            let refused = old.execute("UPDATE packets SET state = 'refused'", []);
            assert!(refused.is_err(), "version 2 has no refused state");
        }
        let conn = open(&db).unwrap();
        let rows = all(&conn).unwrap();
        assert_eq!((rows.len(), rows[0].upload_offset), (1, Some(7)));
        set_state(
            &conn,
            "p1",
            State::Sealed,
            State::Refused,
            Timestamp::now(),
            Some("409"),
        )
        .unwrap();
        assert_eq!(one(&conn, "p1").unwrap().unwrap().state, State::Refused);
        assert_eq!(history(&conn, "p1").unwrap().len(), 2);
        // The transitions still refer to packets: a transition of an unknown packet is refused.
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        assert!(record(&conn, "nope", None, State::Sealed, Timestamp::now(), None).is_err());
    }

    #[test]
    fn stored_timestamps_sort_as_text_in_time_order() {
        let whole: Timestamp = "2025-03-01T08:00:00Z".parse().unwrap();
        let later: Timestamp = "2025-03-01T08:00:00.5Z".parse().unwrap();
        assert_eq!(ts_text(whole), "2025-03-01T08:00:00.000000000Z");
        assert!(ts_text(whole) < ts_text(later));
        assert_eq!(ts_text(later).parse::<Timestamp>().unwrap(), later);
    }

    #[test]
    fn a_damaged_state_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("q.sqlite")).unwrap();
        insert(
            &conn,
            &meta("p1"),
            "p1.jpk",
            State::Sealed,
            Timestamp::now(),
            None,
        )
        .unwrap();
        conn.execute("UPDATE packets SET created_at = 'yesterday'", [])
            .unwrap();
        match one(&conn, "p1").unwrap_err() {
            StoreError::Corrupt { column, value, .. } => {
                assert_eq!((column, value.as_str()), ("created_at", "yesterday"));
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}

//! Uploads in progress on PostgreSQL: their rows, and their bytes staged in `upload_chunks` so that
//! a `PATCH` may reach any process of the hub. The offset is decided here: a chunk is appended
//! only by the transaction that moves the offset from the value its `PATCH` started at
//! (compare-and-set), so of two `PATCH`es racing on one upload in two processes one wins and the
//! other is told the new offset (`409`); nothing is written twice or interleaved.

use std::io::Write;
use std::path::Path;

use jiff::Timestamp;
use postgres::Row;

use super::{conn, u, Pool};
use crate::events::EventKind;
use crate::uploads::model::{NewUpload, Upload, UploadState};
use crate::{parse_ts, ts_text, HubError};

const COLUMNS: &str = "upload_id, kit_id, packet_id, metadata, prelude, length, \"offset\", \
                       state, created_at, updated_at, note";

fn upload(r: &Row) -> Result<Upload, HubError> {
    Ok(Upload {
        upload_id: r.get(0),
        kit_id: r.get(1),
        packet_id: r.get(2),
        metadata: r.get(3),
        prelude: r.get(4),
        length: u(r.get(5)),
        offset: u(r.get(6)),
        state: UploadState::parse(r.get(7))?,
        created_at: parse_ts("upload creation time", r.get(8))?,
        updated_at: parse_ts("upload update time", r.get(9))?,
        note: r.get(10),
    })
}

pub(crate) fn create(pool: &Pool, upload_id: &str, new: &NewUpload<'_>) -> Result<(), HubError> {
    let now = ts_text(Timestamp::now());
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    // Like the embedded backend's creation (`Uploads::create`): a crash may take it, and the kit
    // then creates the upload again; the receipt's commit is synchronous.
    super::no_wal_flush(&mut tx)?;
    tx.execute(
        "INSERT INTO uploads (upload_id, kit_id, packet_id, metadata, prelude, length, \"offset\",
                              state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, 'open', $7, $7)",
        &[
            &upload_id,
            &new.kit_id,
            &new.packet_id,
            &new.metadata,
            &new.prelude,
            &(new.length as i64),
            &now,
        ],
    )?;
    super::events::enqueue(
        &mut tx,
        EventKind::Received,
        new.packet_id,
        new.kit_id,
        Some(new.length),
        None,
        None,
    )?;
    tx.commit()?;
    Ok(())
}

pub(crate) fn get(pool: &Pool, upload_id: &str) -> Result<Option<Upload>, HubError> {
    conn(pool)?
        .query_opt(
            &format!("SELECT {COLUMNS} FROM uploads WHERE upload_id = $1"),
            &[&upload_id],
        )?
        .as_ref()
        .map(upload)
        .transpose()
}

pub(crate) fn find_open(
    pool: &Pool,
    kit_id: &str,
    packet_id: &str,
) -> Result<Option<Upload>, HubError> {
    conn(pool)?
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM uploads
                 WHERE kit_id = $1 AND packet_id = $2 AND state = 'open'
                 ORDER BY created_at DESC LIMIT 1"
            ),
            &[&kit_id, &packet_id],
        )?
        .as_ref()
        .map(upload)
        .transpose()
}

pub(crate) fn claimant(pool: &Pool, packet_id: &str) -> Result<Option<String>, HubError> {
    Ok(conn(pool)?
        .query_opt(
            "SELECT kit_id FROM uploads WHERE packet_id = $1 ORDER BY created_at, seq LIMIT 1",
            &[&packet_id],
        )?
        .map(|r| r.get(0)))
}

pub(crate) fn set_offset(pool: &Pool, upload_id: &str, offset: u64) -> Result<(), HubError> {
    conn(pool)?.execute(
        "UPDATE uploads SET \"offset\" = $2, updated_at = $3 WHERE upload_id = $1",
        &[&upload_id, &(offset as i64), &ts_text(Timestamp::now())],
    )?;
    Ok(())
}

/// The most bytes one `upload_chunks` row holds.
pub(crate) const STAGED_ROW: usize = 128 << 10;

/// Appends `data` at `at` if the upload is open and its offset is still `at`; returns the offset
/// after (`at + data.len()`) or, when another request moved it first, `Err` with the offset the
/// upload has now.
pub(crate) fn append(
    pool: &Pool,
    upload_id: &str,
    at: u64,
    data: &[u8],
) -> Result<Result<u64, u64>, HubError> {
    let end = at + data.len() as u64;
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    // The chunk and its offset are committed together, so a crash takes both or neither; the
    // kit asks `HEAD` before it resumes, so neither needs to be on disk before the answer.
    super::no_wal_flush(&mut tx)?;
    let moved = tx.execute(
        "UPDATE uploads SET \"offset\" = $3, updated_at = $4
         WHERE upload_id = $1 AND \"offset\" = $2 AND state = 'open'",
        &[
            &upload_id,
            &(at as i64),
            &(end as i64),
            &ts_text(Timestamp::now()),
        ],
    )?;
    if moved == 0 {
        drop(tx);
        let now: Option<i64> = c
            .query_opt(
                "SELECT \"offset\" FROM uploads WHERE upload_id = $1",
                &[&upload_id],
            )?
            .map(|r| r.get(0));
        return Ok(Err(u(now.unwrap_or(0))));
    }
    // A chunk left at this start by an earlier attempt that lost the offset race cannot exist:
    // chunks are only written by the winner, in the same transaction. Replace rather than fail
    // all the same, so a database restored from a backup never wedges an upload.
    let insert = tx.prepare(
        "INSERT INTO upload_chunks (upload_id, start, data) VALUES ($1, $2, $3)
         ON CONFLICT (upload_id, start) DO UPDATE SET data = EXCLUDED.data",
    )?;
    // In rows of at most STAGED_ROW bytes: the client keeps each pooled connection's buffers at
    // the largest message it ever sent or read, so one row a PATCH would leave every connection
    // of the pool holding a whole chunk (the load test measured 134 MiB for 20 kits).
    let mut start = at;
    for piece in data.chunks(STAGED_ROW) {
        tx.execute(&insert, &[&upload_id, &(start as i64), &piece])?;
        start += piece.len() as u64;
    }
    tx.commit()?;
    Ok(Ok(end))
}

/// Writes the staged bytes of `up` (its first `up.offset`) to `part`, a scratch file of this
/// process, for verification. Fails when the staged chunks do not cover them exactly.
pub(crate) fn assemble(pool: &Pool, up: &Upload, part: &Path) -> Result<(), HubError> {
    let mut c = conn(pool)?;
    let mut file = std::fs::File::create(part).map_err(HubError::io("create", part))?;
    crate::test_hold::hold("assembling");
    let mut next = 0u64;
    // One chunk at a time: memory stays at one chunk, whatever the packet's size.
    let starts: Vec<i64> = c
        .query(
            "SELECT start FROM upload_chunks WHERE upload_id = $1 AND start < $2 ORDER BY start",
            &[&up.upload_id, &(up.offset as i64)],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for start in starts {
        if u(start) != next {
            return Err(HubError::Corrupt {
                what: "staged upload chunks",
                value: format!(
                    "upload {}: a chunk starts at {start}, expected {next}",
                    up.upload_id
                ),
            });
        }
        let data: Vec<u8> = c
            .query_one(
                "SELECT data FROM upload_chunks WHERE upload_id = $1 AND start = $2",
                &[&up.upload_id, &start],
            )?
            .get(0);
        file.write_all(&data).map_err(HubError::io("write", part))?;
        next += data.len() as u64;
    }
    if next != up.offset {
        return Err(HubError::Corrupt {
            what: "staged upload chunks",
            value: format!(
                "upload {}: {next} bytes staged, its offset is {}",
                up.upload_id, up.offset
            ),
        });
    }
    file.sync_data().map_err(HubError::io("sync", part))?;
    Ok(())
}

/// Ends an upload and drops its staged bytes; a failure's `rejected` event in the same
/// transaction.
pub(crate) fn finish(
    pool: &Pool,
    upload_id: &str,
    state: UploadState,
    note: Option<&str>,
) -> Result<(), HubError> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    let row = tx.query_opt(
        "UPDATE uploads SET state = $2, note = $3, updated_at = $4 WHERE upload_id = $1
         RETURNING packet_id, kit_id, length",
        &[
            &upload_id,
            &state.as_str(),
            &note,
            &ts_text(Timestamp::now()),
        ],
    )?;
    tx.execute(
        "DELETE FROM upload_chunks WHERE upload_id = $1",
        &[&upload_id],
    )?;
    if let (UploadState::Failed, Some(r)) = (state, row) {
        let (packet_id, kit_id, length): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
        super::events::enqueue(
            &mut tx,
            EventKind::Rejected,
            &packet_id,
            &kit_id,
            Some(u(length)),
            note,
            None,
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Open uploads holding all their bytes whose last change is older than `settled_before`.
pub(crate) fn complete_but_open(
    pool: &Pool,
    settled_before: Timestamp,
) -> Result<Vec<Upload>, HubError> {
    conn(pool)?
        .query(
            &format!(
                "SELECT {COLUMNS} FROM uploads
                 WHERE state = 'open' AND \"offset\" = length AND updated_at < $1"
            ),
            &[&ts_text(settled_before)],
        )?
        .iter()
        .map(upload)
        .collect()
}

pub(crate) fn open_of_kit(
    pool: &Pool,
    kit_id: &str,
    cutoff: Timestamp,
) -> Result<(u64, u64), HubError> {
    let r = conn(pool)?.query_one(
        "SELECT count(*), CAST(coalesce(sum(length), 0) AS BIGINT) FROM uploads
         WHERE kit_id = $1 AND state = 'open' AND updated_at >= $2",
        &[&kit_id, &ts_text(cutoff)],
    )?;
    Ok((u(r.get(0)), u(r.get(1))))
}

pub(crate) fn expired(pool: &Pool, cutoff: Timestamp) -> Result<Vec<String>, HubError> {
    Ok(conn(pool)?
        .query(
            "SELECT upload_id FROM uploads WHERE state = 'open' AND updated_at < $1",
            &[&ts_text(cutoff)],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

//! Opening verified packets with the office identity, after their receipts are durable: decrypt,
//! check the inner signature and every file's SHA-256 (the same code as `jemput open`), record the
//! result in `openings`, with its status event in the same transaction. Nothing is extracted.
//!
//! A background task works through `pending` rows oldest first, so a kit's upload never waits for
//! decryption. Rows are written `pending` when the packet is stored; a hub restarted in the
//! middle picks them up again. Without an office identity in `hub.toml` the task records
//! `not_opened`; a hub started later with an identity opens those too.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};
use schemars::JsonSchema;
use serde::Serialize;

use crate::events::{self, EventKind};
use crate::{lock, Backend, Hub, HubError};
use jemput_core::packet;

/// How often the opener looks for pending packets when nothing wakes it.
const POLL: Duration = Duration::from_secs(2);

/// What became of opening a held packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenState {
    /// Waiting for the opener.
    Pending,
    /// Decrypted; inner signature and file hashes verified.
    Opened,
    /// Decrypting or an inner check failed.
    OpenFailed,
    /// The hub has no office identity configured.
    NotOpened,
}

impl OpenState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OpenState::Pending => "pending",
            OpenState::Opened => "opened",
            OpenState::OpenFailed => "open_failed",
            OpenState::NotOpened => "not_opened",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<OpenState, HubError> {
        Ok(match s {
            "pending" => OpenState::Pending,
            "opened" => OpenState::Opened,
            "open_failed" => OpenState::OpenFailed,
            "not_opened" => OpenState::NotOpened,
            _ => {
                return Err(HubError::Corrupt {
                    what: "opening state",
                    value: s.into(),
                })
            }
        })
    }
}

/// Records the outcome of opening `packet_id`, with its event when there is one.
fn record(
    hub: &Hub,
    packet_id: &str,
    kit_id: &str,
    size: u64,
    state: OpenState,
    reason: Option<&str>,
    files: Option<usize>,
) -> Result<(), HubError> {
    let kind = match state {
        OpenState::Opened => Some(EventKind::Opened),
        OpenState::OpenFailed => Some(EventKind::OpenFailed),
        _ => None,
    };
    let db = match &hub.state {
        Backend::Embedded(db) => db,
        Backend::Postgres(pool) => {
            let mut c = crate::pg::conn(pool)?;
            let mut tx = c.transaction()?;
            record_in(&mut tx, packet_id, kit_id, size, state, reason, files)?;
            tx.commit()?;
            return Ok(());
        }
    };
    let mut conn = lock(db);
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE openings SET state = ?2, reason = ?3, files = ?4, updated_at = ?5
         WHERE packet_id = ?1",
        params![
            packet_id,
            state.as_str(),
            reason,
            files.map(|f| f as i64),
            crate::ts_text(Timestamp::now())
        ],
    )?;
    if let Some(kind) = kind {
        events::enqueue(&tx, kind, packet_id, kit_id, Some(size), reason)?;
    }
    tx.commit()?;
    Ok(())
}

/// [`record`] in a PostgreSQL transaction.
fn record_in(
    tx: &mut postgres::Transaction<'_>,
    packet_id: &str,
    kit_id: &str,
    size: u64,
    state: OpenState,
    reason: Option<&str>,
    files: Option<usize>,
) -> Result<(), HubError> {
    tx.execute(
        "UPDATE openings SET state = $2, reason = $3, files = $4, updated_at = $5
         WHERE packet_id = $1",
        &[
            &packet_id,
            &state.as_str(),
            &reason,
            &files.map(|f| f as i64),
            &crate::ts_text(Timestamp::now()),
        ],
    )?;
    let kind = match state {
        OpenState::Opened => Some(EventKind::Opened),
        OpenState::OpenFailed => Some(EventKind::OpenFailed),
        _ => None,
    };
    if let Some(kind) = kind {
        crate::pg::events::enqueue(tx, kind, packet_id, kit_id, Some(size), reason)?;
    }
    Ok(())
}

/// The oldest pending packet: (packet id, kit id, size).
fn next_pending(hub: &Hub) -> Result<Option<(String, String, u64)>, HubError> {
    let db = match &hub.state {
        Backend::Embedded(db) => db,
        // Each process's opener takes the oldest pending packet no other opener holds: the row
        // stays locked while it is opened (`open_next_shared`).
        Backend::Postgres(_) => unreachable!("the scale-out opener uses open_next_shared"),
    };
    Ok(lock(db)
        .query_row(
            "SELECT o.packet_id, r.kit_id, r.size FROM openings o
             JOIN receipts r ON r.packet_id = o.packet_id
             WHERE o.state = 'pending' ORDER BY o.updated_at, o.packet_id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)),
        )
        .optional()?)
}

/// Opens one pending packet (or records that it cannot be); `false` when none is pending.
pub fn open_next(hub: &Hub) -> Result<bool, HubError> {
    if let Backend::Postgres(pool) = &hub.state {
        return open_next_shared(hub, pool);
    }
    let Some((packet_id, kit_id, size)) = next_pending(hub)? else {
        return Ok(false);
    };
    let (p, k) = (packet_id.clone(), kit_id.clone());
    open_one(hub, &packet_id, &kit_id, &mut |state, reason, files| {
        record(hub, &p, &k, size, state, reason, files)
    })?;
    Ok(true)
}

/// [`open_next`] with several hub processes on one PostgreSQL database: the pending row is
/// locked (`FOR UPDATE SKIP LOCKED`) from choosing it until its outcome is committed, so two
/// processes never open the same packet, and a process that dies releases it for another.
fn open_next_shared(hub: &Hub, pool: &crate::pg::Pool) -> Result<bool, HubError> {
    let mut c = crate::pg::conn(pool)?;
    let mut tx = c.transaction()?;
    let Some(row) = tx.query_opt(
        "SELECT o.packet_id, r.kit_id, r.size FROM openings o
         JOIN receipts r ON r.packet_id = o.packet_id
         WHERE o.state = 'pending' ORDER BY o.updated_at, o.packet_id LIMIT 1
         FOR UPDATE OF o SKIP LOCKED",
        &[],
    )?
    else {
        return Ok(false);
    };
    let (packet_id, kit_id, size): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
    // The outcome is recorded in the transaction that holds the row: it commits and unlocks
    // together.
    let mut outcome = None;
    open_one(hub, &packet_id, &kit_id, &mut |state, reason, files| {
        outcome = Some((state, reason.map(str::to_owned), files));
        Ok(())
    })?;
    if let Some((state, reason, files)) = outcome {
        record_in(
            &mut tx,
            &packet_id,
            &kit_id,
            crate::pg::u(size),
            state,
            reason.as_deref(),
            files,
        )?;
    }
    tx.commit()?;
    Ok(true)
}

/// What recording an opening's outcome takes: state, reason, files.
type Recorder<'a> = dyn FnMut(OpenState, Option<&str>, Option<usize>) -> Result<(), HubError> + 'a;

/// Opens one packet and hands the outcome to `rec`.
fn open_one(
    hub: &Hub,
    packet_id: &str,
    kit_id: &str,
    rec: &mut Recorder<'_>,
) -> Result<(), HubError> {
    let Some(ids) = hub.identities.as_deref() else {
        rec(OpenState::NotOpened, None, None)?;
        return Ok(());
    };
    let path = hub.packet_path(packet_id);
    let kit_key = hub.registry().get(kit_id)?.map(|k| k.kit_key);
    // `decrypt` checks the outer layer again, then the inner signature and every file hash.
    let result = std::fs::read(&path)
        .map_err(|source| packet::PacketError::Io {
            what: "cannot read packet",
            path: path.clone(),
            source,
        })
        .and_then(|bytes| packet::decrypt(&bytes, ids, kit_key.as_ref()));
    match result {
        Ok(c) => {
            tracing::info!(packet = %packet_id, files = c.files.len(), "packet opened");
            rec(OpenState::Opened, None, Some(c.files.len()))
        }
        Err(e) => {
            let why = e.to_string();
            tracing::warn!(packet = %packet_id, "packet could not be opened: {why}");
            rec(OpenState::OpenFailed, Some(&why), None)
        }
    }
}

/// Puts packets recorded `not_opened` back to `pending` (a hub that now has an identity).
pub(crate) fn requeue_not_opened(hub: &Hub) -> Result<usize, HubError> {
    let db = match &hub.state {
        Backend::Embedded(db) => db,
        Backend::Postgres(pool) => {
            return Ok(crate::pg::conn(pool)?.execute(
                "UPDATE openings SET state = 'pending' WHERE state = 'not_opened'",
                &[],
            )? as usize)
        }
    };
    Ok(lock(db).execute(
        "UPDATE openings SET state = 'pending' WHERE state = 'not_opened'",
        [],
    )?)
}

/// The opener task: opens pending packets one by one until `stop` turns true.
pub(crate) async fn run(
    hub: Arc<Hub>,
    wake: Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let h = hub.clone();
        let more = tokio::task::spawn_blocking(move || open_next(&h))
            .await
            .unwrap_or_else(|_| {
                Err(HubError::Serve(std::io::Error::other(
                    "opening a packet panicked",
                )))
            });
        match more {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!("the packet opener failed: {e}; retrying"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

//! `jemput hub packets`: every packet the hub knows of, with where it stands — still arriving,
//! refused at verification, or held (and then opened, failed to open, not opened, or waiting).

use std::path::Path;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

use crate::opener::OpenState;
use crate::{lock, open_hub_db, parse_ts, Backend, HubError};

/// Where a packet stands at the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PacketState {
    /// An upload is in progress (`offset` of `size` bytes arrived).
    Receiving,
    /// The complete upload failed verification; nothing was stored (`reason`).
    Rejected,
    /// Verified and stored with a receipt; waiting for the opener.
    Verified,
    /// Verified, then opened with the office identity: inner signature and file hashes hold.
    Opened,
    /// Verified, but opening failed (`reason`).
    OpenFailed,
    /// Verified; the hub has no office identity, so it was not opened.
    NotOpened,
}

/// One line of `jemput hub packets --json` (`schemas/hub-packets.schema.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PacketRow {
    pub packet_id: String,
    pub kit_id: String,
    /// Size of the packet file in bytes.
    pub size: u64,
    /// When the hub received it (verified packets), or when the upload began.
    pub received_at: Timestamp,
    pub state: PacketState,
    /// Bytes arrived so far, while receiving.
    pub offset: Option<u64>,
    /// Files in the payload, when opened.
    pub files: Option<u64>,
    /// Why it was rejected or could not be opened.
    pub reason: Option<String>,
}

/// Every packet of the hub in `data`, held ones first by time received, then uploads in progress
/// and refused ones by time begun.
pub fn list(data: &Path) -> Result<Vec<PacketRow>, HubError> {
    if crate::HubConfig::load(data)?.postgres.is_some() {
        let Backend::Postgres(pool) = crate::open_backend(data)? else {
            unreachable!("hub.toml names PostgreSQL")
        };
        return list_pg(&pool);
    }
    let db = open_hub_db(data)?;
    let conn = lock(&db);
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT r.packet_id, r.kit_id, r.size, r.received_at, o.state, o.reason, o.files
         FROM receipts r LEFT JOIN openings o ON o.packet_id = r.packet_id
         ORDER BY r.received_at, r.packet_id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (packet_id, kit_id, size, at, open, reason, files) in rows {
        let state = match open.as_deref().map(OpenState::parse).transpose()? {
            None | Some(OpenState::Pending) => PacketState::Verified,
            Some(OpenState::Opened) => PacketState::Opened,
            Some(OpenState::OpenFailed) => PacketState::OpenFailed,
            Some(OpenState::NotOpened) => PacketState::NotOpened,
        };
        out.push(PacketRow {
            packet_id,
            kit_id,
            size: size as u64,
            received_at: parse_ts("receipt time", at)?,
            state,
            offset: None,
            files: files.map(|f| f as u64),
            reason,
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT u.packet_id, u.kit_id, u.length, u.created_at, u.state, u.offset, u.note
         FROM uploads u
         WHERE u.state IN ('open', 'failed')
           AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.packet_id = u.packet_id)
         ORDER BY u.created_at, u.upload_id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (packet_id, kit_id, length, at, state, offset, note) in rows {
        let receiving = state == "open";
        out.push(PacketRow {
            packet_id,
            kit_id,
            size: length as u64,
            received_at: parse_ts("upload creation time", at)?,
            state: if receiving {
                PacketState::Receiving
            } else {
                PacketState::Rejected
            },
            offset: receiving.then_some(offset as u64),
            files: None,
            reason: note,
        });
    }
    Ok(out)
}

fn held_state(open: Option<&str>) -> Result<PacketState, HubError> {
    Ok(match open.map(OpenState::parse).transpose()? {
        None | Some(OpenState::Pending) => PacketState::Verified,
        Some(OpenState::Opened) => PacketState::Opened,
        Some(OpenState::OpenFailed) => PacketState::OpenFailed,
        Some(OpenState::NotOpened) => PacketState::NotOpened,
    })
}

/// [`list`] on the scale-out backend: the same two queries on PostgreSQL.
fn list_pg(pool: &crate::pg::Pool) -> Result<Vec<PacketRow>, HubError> {
    use crate::pg::u;
    let mut c = crate::pg::conn(pool)?;
    let mut out = Vec::new();
    for r in c.query(
        "SELECT r.packet_id, r.kit_id, r.size, r.received_at, o.state, o.reason, o.files
         FROM receipts r LEFT JOIN openings o ON o.packet_id = r.packet_id
         ORDER BY r.received_at, r.packet_id",
        &[],
    )? {
        out.push(PacketRow {
            packet_id: r.get(0),
            kit_id: r.get(1),
            size: u(r.get(2)),
            received_at: parse_ts("receipt time", r.get(3))?,
            state: held_state(r.get::<_, Option<&str>>(4))?,
            offset: None,
            files: r.get::<_, Option<i64>>(6).map(u),
            reason: r.get(5),
        });
    }
    for r in c.query(
        "SELECT u.packet_id, u.kit_id, u.length, u.created_at, u.state, u.\"offset\", u.note
         FROM uploads u
         WHERE u.state IN ('open', 'failed')
           AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.packet_id = u.packet_id)
         ORDER BY u.created_at, u.upload_id",
        &[],
    )? {
        let receiving = r.get::<_, &str>(4) == "open";
        out.push(PacketRow {
            packet_id: r.get(0),
            kit_id: r.get(1),
            size: u(r.get(2)),
            received_at: parse_ts("upload creation time", r.get(3))?,
            state: if receiving {
                PacketState::Receiving
            } else {
                PacketState::Rejected
            },
            offset: receiving.then(|| u(r.get(5))),
            files: None,
            reason: r.get(6),
        });
    }
    Ok(out)
}

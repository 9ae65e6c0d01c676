//! The kit registry: which kits may upload, under which key. A revoked kit stays listed (so its
//! past receipts keep a name) but can no longer authenticate.

use std::path::Path;

use crate::CachedSql;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use crate::{lock, parse_ts, ts_text, Backend, HubError};

pub(crate) mod model;
use jemput_core::keys::PublicKey;
pub use model::KitEntry;
use model::LAST_SEEN_RESOLUTION_SECS;

/// The registry, over the hub database.
#[derive(Debug, Clone)]
pub struct Registry {
    state: Backend,
}

/// Whether `id` is acceptable as a kit id: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn valid_kit_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Registry {
    /// Opens the registry of the hub in `data` (its own connection; safe beside a running hub).
    pub fn open(data: &Path) -> Result<Registry, HubError> {
        Ok(Registry {
            state: crate::open_backend(data)?,
        })
    }

    pub(crate) fn with_state(state: Backend) -> Registry {
        Registry { state }
    }

    /// Registers a kit. Refuses an id already registered (revoked or not).
    pub fn add(
        &self,
        kit_id: &str,
        kit_key: &PublicKey,
        name: Option<&str>,
    ) -> Result<KitEntry, HubError> {
        if !valid_kit_id(kit_id) {
            return Err(HubError::BadKitId(kit_id.into()));
        }
        let now = Timestamp::now();
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                if !crate::pg::registry::add(pool, kit_id, &kit_key.to_string(), name, now)? {
                    return Err(HubError::KitExists(kit_id.into()));
                }
                return Ok(self.get(kit_id)?.expect("the kit was just added"));
            }
        };
        let conn = lock(db);
        let inserted = conn.exec(
            "INSERT INTO kits (kit_id, kit_key, name, added_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kit_id) DO NOTHING",
            params![kit_id, kit_key.to_string(), name, ts_text(now)],
        )?;
        if inserted == 0 {
            return Err(HubError::KitExists(kit_id.into()));
        }
        drop(conn);
        Ok(self.get(kit_id)?.expect("the kit was just added"))
    }

    /// Revokes a kit: from now on its requests are refused with `401 not accepted` (the log says
    /// "revoked kit").
    pub fn revoke(&self, kit_id: &str) -> Result<KitEntry, HubError> {
        let changed = match &self.state {
            Backend::Embedded(db) => {
                lock(db).exec(
                    "UPDATE kits SET revoked_at = COALESCE(revoked_at, ?2) WHERE kit_id = ?1",
                    params![kit_id, ts_text(Timestamp::now())],
                )? > 0
            }
            Backend::Postgres(pool) => crate::pg::registry::revoke(pool, kit_id, Timestamp::now())?,
        };
        if !changed {
            return Err(HubError::UnknownKit(kit_id.into()));
        }
        Ok(self.get(kit_id)?.expect("the kit exists"))
    }

    /// Records that `kit_id` made an authenticated request now (written at most once a minute).
    pub fn touch(&self, kit_id: &str) -> Result<(), HubError> {
        let now = Timestamp::now();
        let stale_before = now
            .checked_sub(jiff::SignedDuration::from_secs(LAST_SEEN_RESOLUTION_SECS))
            .unwrap_or(now);
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                return crate::pg::registry::touch(pool, kit_id, now, stale_before)
            }
        };
        lock(db).exec(
            "UPDATE kits SET last_seen_at = ?2
             WHERE kit_id = ?1 AND (last_seen_at IS NULL OR last_seen_at < ?3)",
            params![kit_id, ts_text(now), ts_text(stale_before)],
        )?;
        Ok(())
    }

    /// The kit with this id, revoked or not.
    pub fn get(&self, kit_id: &str) -> Result<Option<KitEntry>, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => return crate::pg::registry::get(pool, kit_id),
        };
        let conn = lock(db);
        let row = conn
            .row(
                "SELECT kit_id, kit_key, name, added_at, revoked_at, enrolled_with, last_seen_at
                 FROM kits WHERE kit_id = ?1",
                [kit_id],
                raw_row,
            )
            .optional()?;
        row.map(entry).transpose()
    }

    /// Every kit, oldest first.
    pub fn list(&self) -> Result<Vec<KitEntry>, HubError> {
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => return crate::pg::registry::list(pool),
        };
        let conn = lock(db);
        let mut stmt = conn.prepare_cached(
            "SELECT kit_id, kit_key, name, added_at, revoked_at, enrolled_with, last_seen_at
             FROM kits ORDER BY added_at, kit_id",
        )?;
        let rows = stmt
            .query_map([], raw_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(entry).collect()
    }
}

struct RawKit {
    kit_id: String,
    key: String,
    name: Option<String>,
    added: String,
    revoked: Option<String>,
    enrolled_with: Option<String>,
    last_seen: Option<String>,
}

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawKit> {
    Ok(RawKit {
        kit_id: r.get(0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        added: r.get(3)?,
        revoked: r.get(4)?,
        enrolled_with: r.get(5)?,
        last_seen: r.get(6)?,
    })
}

fn entry(raw: RawKit) -> Result<KitEntry, HubError> {
    let RawKit {
        kit_id,
        key,
        name,
        added,
        revoked,
        enrolled_with,
        last_seen,
    } = raw;
    let kit_key = key.parse().map_err(|_| HubError::Corrupt {
        what: "kit key",
        value: key,
    })?;
    let revoked_at = revoked
        .map(|t| parse_ts("revocation time", t))
        .transpose()?;
    Ok(KitEntry {
        kit_id,
        kit_key,
        name,
        added_at: parse_ts("registration time", added)?,
        revoked: revoked_at.is_some(),
        revoked_at,
        enrolled_with,
        last_seen: last_seen
            .map(|t| parse_ts("last seen time", t))
            .transpose()?,
    })
}

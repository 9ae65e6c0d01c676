//! The kit registry, enrollment tokens and request nonces on PostgreSQL: the same rows and rules
//! as `registry.rs`, `enroll.rs` and `nonces.rs` on SQLite.

use jemput_core::wire::enroll::{EnrollRequest, EnrollToken};
use jiff::Timestamp;
use postgres::Row;

use super::{conn, Pool};
use crate::enroll::rules::{self, Refusal};
use crate::registry::model::KitEntry;
use crate::{parse_ts, ts_text, HubError};

const KIT_COLUMNS: &str =
    "kit_id, kit_key, name, added_at, revoked_at, enrolled_with, last_seen_at";

fn kit(r: &Row) -> Result<KitEntry, HubError> {
    let key: String = r.get(1);
    let kit_key = key.parse().map_err(|_| HubError::Corrupt {
        what: "kit key",
        value: key,
    })?;
    let revoked_at = r
        .get::<_, Option<String>>(4)
        .map(|t| parse_ts("revocation time", t))
        .transpose()?;
    Ok(KitEntry {
        kit_id: r.get(0),
        kit_key,
        name: r.get(2),
        added_at: parse_ts("registration time", r.get(3))?,
        revoked: revoked_at.is_some(),
        revoked_at,
        enrolled_with: r.get(5),
        last_seen: r
            .get::<_, Option<String>>(6)
            .map(|t| parse_ts("last seen time", t))
            .transpose()?,
    })
}

pub(crate) fn add(
    pool: &Pool,
    kit_id: &str,
    kit_key: &str,
    name: Option<&str>,
    now: Timestamp,
) -> Result<bool, HubError> {
    let n = conn(pool)?.execute(
        "INSERT INTO kits (kit_id, kit_key, name, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kit_id) DO NOTHING",
        &[&kit_id, &kit_key, &name, &ts_text(now)],
    )?;
    Ok(n == 1)
}

pub(crate) fn revoke(pool: &Pool, kit_id: &str, now: Timestamp) -> Result<bool, HubError> {
    let n = conn(pool)?.execute(
        "UPDATE kits SET revoked_at = COALESCE(revoked_at, $2) WHERE kit_id = $1",
        &[&kit_id, &ts_text(now)],
    )?;
    Ok(n > 0)
}

pub(crate) fn touch(
    pool: &Pool,
    kit_id: &str,
    now: Timestamp,
    stale_before: Timestamp,
) -> Result<(), HubError> {
    conn(pool)?.execute(
        "UPDATE kits SET last_seen_at = $2
         WHERE kit_id = $1 AND (last_seen_at IS NULL OR last_seen_at < $3)",
        &[&kit_id, &ts_text(now), &ts_text(stale_before)],
    )?;
    Ok(())
}

pub(crate) fn get(pool: &Pool, kit_id: &str) -> Result<Option<KitEntry>, HubError> {
    conn(pool)?
        .query_opt(
            &format!("SELECT {KIT_COLUMNS} FROM kits WHERE kit_id = $1"),
            &[&kit_id],
        )?
        .as_ref()
        .map(kit)
        .transpose()
}

pub(crate) fn list(pool: &Pool) -> Result<Vec<KitEntry>, HubError> {
    conn(pool)?
        .query(
            &format!("SELECT {KIT_COLUMNS} FROM kits ORDER BY added_at, kit_id"),
            &[],
        )?
        .iter()
        .map(kit)
        .collect()
}

/// Inserts a token unless its id is taken; `true` when inserted.
pub(crate) fn insert_token(
    pool: &Pool,
    token: &EnrollToken,
    name: Option<&str>,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool, HubError> {
    let n = conn(pool)?.execute(
        "INSERT INTO enroll_tokens (token_id, secret_sha256, name, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_id) DO NOTHING",
        &[
            &token.id,
            &EnrollToken::secret_hash(&token.secret),
            &name,
            &ts_text(now),
            &ts_text(expires_at),
        ],
    )?;
    Ok(n == 1)
}

/// The token row, the kit row and the registration of `redeem`, under a row lock on the token
/// (two processes redeeming one token: the second waits, then finds it used).
pub(crate) fn redeem(
    pool: &Pool,
    req: &EnrollRequest,
    hub_cert_sha256: &str,
    now: Timestamp,
) -> Result<(), Refusal> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction().map_err(HubError::from)?;
    let row = tx
        .query_opt(
            "SELECT secret_sha256, name, expires_at, used_at, used_by
             FROM enroll_tokens WHERE token_id = $1 FOR UPDATE",
            &[&req.token_id],
        )
        .map_err(HubError::from)?;
    let Some(row) = row else {
        return Err(rules::unknown_token());
    };
    let (secret_hash, name, expires, used_at, used_by): (
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
    ) = (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    rules::check_token(
        req,
        hub_cert_sha256,
        now,
        &secret_hash,
        &expires,
        used_at,
        used_by,
    )?;
    let existing = tx
        .query_opt(
            "SELECT kit_key, revoked_at FROM kits WHERE kit_id = $1 FOR UPDATE",
            &[&req.kit_id],
        )
        .map_err(HubError::from)?
        .map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1)));
    if rules::check_existing(req, existing)? {
        tx.execute(
            "INSERT INTO kits (kit_id, kit_key, name, added_at, enrolled_with)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &req.kit_id,
                &req.kit_key.to_string(),
                &name,
                &ts_text(now),
                &req.token_id,
            ],
        )
        .map_err(HubError::from)?;
    }
    tx.execute(
        "UPDATE enroll_tokens SET used_at = $2, used_by = $3 WHERE token_id = $1",
        &[&req.token_id, &ts_text(now), &req.kit_id],
    )
    .map_err(HubError::from)?;
    tx.commit().map_err(HubError::from)?;
    Ok(())
}

/// A nonce as the hub keeps it: (kit id, nonce).
type NonceKey = (String, String);

/// The nonces still in the window at `oldest_kept` (older ones are deleted).
pub(crate) fn load_nonces(pool: &Pool, oldest_kept: i64) -> Result<Vec<(NonceKey, i64)>, HubError> {
    let mut c = conn(pool)?;
    c.execute("DELETE FROM request_nonces WHERE t < $1", &[&oldest_kept])?;
    Ok(c.query("SELECT kit_id, nonce, t FROM request_nonces", &[])?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect())
}

/// Records a nonce; `false` when another process (or an earlier one) already took it.
pub(crate) fn take_nonce(
    pool: &Pool,
    kit_id: &str,
    nonce: &str,
    t: i64,
    oldest_kept: i64,
    synced: bool,
) -> Result<bool, HubError> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    if !synced {
        super::no_wal_flush(&mut tx)?;
    }
    tx.execute("DELETE FROM request_nonces WHERE t < $1", &[&oldest_kept])?;
    let added = tx.execute(
        "INSERT INTO request_nonces (kit_id, nonce, t) VALUES ($1, $2, $3)
         ON CONFLICT (kit_id, nonce) DO NOTHING",
        &[&kit_id, &nonce, &t],
    )?;
    tx.commit()?;
    Ok(added == 1)
}

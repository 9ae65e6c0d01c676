//! The office console's rows in PostgreSQL: the same tables and statements as `office` keeps in
//! `hub.sqlite`, so that every hub process behind one database shares the accounts, the sessions
//! (a browser signed in at one process is signed in at all), the sign-in limits and the audit
//! log. The decisions (rate limits, password checks) stay in `office`; here are only the rows.

use super::{conn, Pool};
use crate::HubError;

/// One account's row: name, role, creation time.
pub(crate) type AccountRow = (String, String, String);
/// One session's row: account, the account's role, CSRF token, language, expiry.
pub(crate) type SessionRow = (String, String, String, String, i64);
/// One audit line: time, actor, action, detail.
pub(crate) type AuditRow = (String, String, String, String);

fn audit_in(
    c: &mut impl postgres::GenericClient,
    at: &str,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), HubError> {
    c.execute(
        "INSERT INTO console_audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)",
        &[&at, &actor, &action, &detail],
    )?;
    Ok(())
}

/// Adds an account and its audit line in one transaction; `false` when the name exists.
pub(crate) fn add_account(
    pool: &Pool,
    (name, role, hash, created_at): (&str, &str, &str, &str),
    (actor, detail): (&str, &str),
) -> Result<bool, HubError> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    let added = tx.execute(
        "INSERT INTO console_accounts (name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        &[&name, &role, &hash, &created_at],
    )?;
    if added == 0 {
        return Ok(false);
    }
    audit_in(&mut tx, created_at, actor, "user.add", detail)?;
    tx.commit()?;
    Ok(true)
}

pub(crate) fn accounts(pool: &Pool) -> Result<Vec<AccountRow>, HubError> {
    let rows = conn(pool)?.query(
        "SELECT name, role, created_at FROM console_accounts ORDER BY name",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Removes an account, its sessions and writes the audit line; `false` when there was none.
pub(crate) fn remove_account(
    pool: &Pool,
    name: &str,
    (at, actor): (&str, &str),
) -> Result<bool, HubError> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    if tx.execute("DELETE FROM console_accounts WHERE name = $1", &[&name])? == 0 {
        return Ok(false);
    }
    tx.execute("DELETE FROM console_sessions WHERE account = $1", &[&name])?;
    audit_in(&mut tx, at, actor, "user.remove", name)?;
    tx.commit()?;
    Ok(true)
}

/// Forgets failures at or before `since`, then counts those after it for `name` and for
/// `address` (each: how many, and the first one's time).
pub(crate) fn failures(
    pool: &Pool,
    name: &str,
    address: &str,
    since: i64,
) -> Result<[(i64, Option<i64>); 2], HubError> {
    let mut c = conn(pool)?;
    c.execute(
        "DELETE FROM console_login_failures WHERE at <= $1",
        &[&since],
    )?;
    let mut count = |sql: &str, v: &str| -> Result<(i64, Option<i64>), HubError> {
        let r = c.query_one(sql, &[&v, &since])?;
        Ok((r.get(0), r.get(1)))
    };
    Ok([
        count(
            "SELECT count(*), min(at) FROM console_login_failures WHERE account = $1 AND at > $2",
            name,
        )?,
        count(
            "SELECT count(*), min(at) FROM console_login_failures WHERE address = $1 AND at > $2",
            address,
        )?,
    ])
}

/// The account's password hash and role, if it exists.
pub(crate) fn credentials(pool: &Pool, name: &str) -> Result<Option<(String, String)>, HubError> {
    let row = conn(pool)?.query_opt(
        "SELECT password_hash, role FROM console_accounts WHERE name = $1",
        &[&name],
    )?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

pub(crate) fn failed(pool: &Pool, name: &str, address: &str, at: i64) -> Result<(), HubError> {
    conn(pool)?.execute(
        "INSERT INTO console_login_failures (account, address, at) VALUES ($1, $2, $3)",
        &[&name, &address, &at],
    )?;
    Ok(())
}

/// After a good sign-in: the account's failures forgotten, expired sessions dropped, the new
/// session (`id_sha256`, account, csrf, lang, expiry) stored.
pub(crate) fn signed_in(
    pool: &Pool,
    (id_sha256, account, csrf, lang, expires_at): (&str, &str, &str, &str, i64),
    now: i64,
) -> Result<(), HubError> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    tx.execute(
        "DELETE FROM console_login_failures WHERE account = $1",
        &[&account],
    )?;
    tx.execute(
        "DELETE FROM console_sessions WHERE expires_at <= $1",
        &[&now],
    )?;
    tx.execute(
        "INSERT INTO console_sessions (id_sha256, account, csrf, lang, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[&id_sha256, &account, &csrf, &lang, &expires_at],
    )?;
    tx.commit()?;
    Ok(())
}

pub(crate) fn session(
    pool: &Pool,
    id_sha256: &str,
    now: i64,
) -> Result<Option<SessionRow>, HubError> {
    let row = conn(pool)?.query_opt(
        "SELECT s.account, a.role, s.csrf, s.lang, s.expires_at
         FROM console_sessions s JOIN console_accounts a ON a.name = s.account
         WHERE s.id_sha256 = $1 AND s.expires_at > $2",
        &[&id_sha256, &now],
    )?;
    Ok(row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))))
}

pub(crate) fn set_lang(pool: &Pool, id_sha256: &str, lang: &str) -> Result<(), HubError> {
    conn(pool)?.execute(
        "UPDATE console_sessions SET lang = $1 WHERE id_sha256 = $2",
        &[&lang, &id_sha256],
    )?;
    Ok(())
}

pub(crate) fn logout(pool: &Pool, id_sha256: &str) -> Result<(), HubError> {
    conn(pool)?.execute(
        "DELETE FROM console_sessions WHERE id_sha256 = $1",
        &[&id_sha256],
    )?;
    Ok(())
}

pub(crate) fn record(
    pool: &Pool,
    (at, actor, action, detail): (&str, &str, &str, &str),
) -> Result<(), HubError> {
    audit_in(&mut *conn(pool)?, at, actor, action, detail)
}

/// The newest `limit` audit lines, newest first.
pub(crate) fn audit(pool: &Pool, limit: u32) -> Result<Vec<AuditRow>, HubError> {
    let rows = conn(pool)?.query(
        "SELECT at, actor, action, detail FROM console_audit ORDER BY id DESC LIMIT $1",
        &[&i64::from(limit)],
    )?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect())
}

//! The office console's accounts, sessions, login rate limits and audit log, in the hub's state
//! database — `hub.sqlite`, or PostgreSQL for a scale-out hub (so every hub process behind one
//! database shares them: a browser signed in at one process is signed in at all). Passwords are kept only as argon2id
//! hashes (PHC strings, the `argon2` crate's defaults: 19 MiB, 2 passes); a session cookie's
//! value is kept only as its SHA-256. The pages themselves are `jemput-console`.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{parse_ts, ts_text, Backend, HubError};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees everything and changes things (tokens, kits, worklist, settings).
    Admin,
    /// Sees everything and changes nothing.
    Viewer,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = OfficeError;
    fn from_str(s: &str) -> Result<Role, OfficeError> {
        match s {
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            other => Err(OfficeError::BadRole(other.into())),
        }
    }
}

/// One office account (never its hash): the item of `jemput hub users list --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Account {
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The cookie's value (only its hash is stored).
    pub id: String,
    pub account: String,
    pub role: Role,
    /// The token every form of this session carries.
    pub csrf: String,
    /// `id` or `en`.
    pub lang: String,
    pub expires_at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// The account, or `(command line)` for `jemput hub users …`.
    pub actor: String,
    /// What was done, e.g. `kit.revoke`.
    pub action: String,
    /// Its object and details, e.g. the kit id.
    pub detail: String,
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// How long a session lasts from sign-in.
pub const SESSION_SECS: i64 = 12 * 3600;
/// Failed sign-ins counted over this window…
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;
/// …at most this many for one account…
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// …and this many from one address, before sign-in is refused until the window has passed.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// The audit actor of the command line.
pub const CLI_ACTOR: &str = "(command line)";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfficeError {
    #[error("account names are 1 to 32 of a-z 0-9 . _ - (got {0:?})")]
    BadName(String),
    #[error("the role is admin or viewer (got {0:?})")]
    BadRole(String),
    #[error("the password is shorter than {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error("an account named {0} already exists; remove it first or choose another name")]
    Exists(String),
    #[error("no account named {0}; `jemput hub users list` shows them")]
    NoSuchAccount(String),
    #[error("the password could not be hashed: {0}")]
    Hash(String),
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl From<rusqlite::Error> for OfficeError {
    fn from(e: rusqlite::Error) -> OfficeError {
        OfficeError::Hub(e.into())
    }
}

impl From<postgres::Error> for OfficeError {
    fn from(e: postgres::Error) -> OfficeError {
        OfficeError::Hub(e.into())
    }
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefused {
    /// Wrong name or password (the two are not told apart).
    Wrong,
    /// Too many failures for this account or from this address; try again after this many
    /// seconds.
    TooMany { retry_after_secs: i64 },
}

/// Whether `name` is acceptable as an account name.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn hash_password(password: &str) -> Result<String, OfficeError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| OfficeError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| OfficeError::Hash(e.to_string()))
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password matches, verified for unknown names so that they take as long as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| hash_password(&hex::encode(rand::random::<[u8; 16]>())).unwrap_or_default())
}

/// The accounts, sessions and audit log of the hub in its state database: `hub.sqlite`, or the
/// PostgreSQL database every process of a scale-out hub shares.
#[derive(Debug, Clone)]
pub struct Office {
    state: Backend,
}

/// Runs one row operation on whichever database the office is in: `sqlite::f(db, …)` or
/// `pg::office::f(pool, …)`, the same signature in both.
macro_rules! rows {
    ($office:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match &$office.state {
            Backend::Embedded(db) => sqlite::$f(db $(, $arg)*),
            Backend::Postgres(pool) => crate::pg::office::$f(pool $(, $arg)*),
        }
    };
}

impl Office {
    /// Opens them for the hub in `data` (its own connection or pool; safe beside a running hub).
    pub fn open(data: &Path) -> Result<Office, HubError> {
        Ok(Office {
            state: crate::open_backend(data)?,
        })
    }

    /// Those of a running hub, over its own connection or pool (no I/O: safe on any thread).
    pub fn of(hub: &crate::Hub) -> Office {
        Office {
            state: hub.state.clone(),
        }
    }

    /// Adds an account; recorded in the audit log as done by `actor`.
    pub fn add_account(
        &self,
        actor: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<Account, OfficeError> {
        if !valid_name(name) {
            return Err(OfficeError::BadName(name.into()));
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(OfficeError::ShortPassword);
        }
        let hash = hash_password(password)?;
        let now = Timestamp::now();
        let detail = format!("{name} ({role})");
        let row = (name, role.code(), hash.as_str(), ts_text(now));
        if !rows!(
            self,
            add_account((row.0, row.1, row.2, &row.3), (actor, &detail))
        )? {
            return Err(OfficeError::Exists(name.into()));
        }
        Ok(Account {
            name: name.into(),
            role,
            created_at: now,
        })
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<Account>, OfficeError> {
        rows!(self, accounts())?
            .into_iter()
            .map(|(name, role, at)| {
                Ok(Account {
                    name,
                    role: role.parse()?,
                    created_at: parse_ts("account creation time", at)?,
                })
            })
            .collect()
    }

    /// Removes an account and ends its sessions.
    pub fn remove_account(&self, actor: &str, name: &str) -> Result<(), OfficeError> {
        let at = ts_text(Timestamp::now());
        if !rows!(self, remove_account(name, (&at, actor)))? {
            return Err(OfficeError::NoSuchAccount(name.into()));
        }
        Ok(())
    }

    /// Signs `name` in from `address` at `now` (seconds) with `password`: a new session, or why
    /// not. Refused without looking at the password while the account or the address has had too
    /// many failures in the last [`LOGIN_WINDOW_SECS`].
    pub fn login(
        &self,
        name: &str,
        password: &str,
        address: &str,
        now: i64,
    ) -> Result<Result<Session, LoginRefused>, OfficeError> {
        let since = now - LOGIN_WINDOW_SECS;
        let [(by_account, first_a), (by_address, first_b)] =
            rows!(self, failures(name, address, since))?;
        let limited = [
            (by_account >= MAX_FAILURES_PER_ACCOUNT, first_a),
            (by_address >= MAX_FAILURES_PER_ADDRESS, first_b),
        ];
        if let Some(first) = limited.iter().filter(|l| l.0).filter_map(|l| l.1).min() {
            return Ok(Err(LoginRefused::TooMany {
                retry_after_secs: (first + LOGIN_WINDOW_SECS - now).max(1),
            }));
        }
        let (hash, role) = rows!(self, credentials(name))?.unzip();
        // Hashing is slow on purpose: done without holding the database.
        let ok = match &hash {
            Some(h) => password_matches(h, password),
            None => {
                password_matches(decoy_hash(), password);
                false
            }
        };
        let (Some(role), true) = (role, ok) else {
            rows!(self, failed(name, address, now))?;
            return Ok(Err(LoginRefused::Wrong));
        };
        let session = Session {
            id: hex::encode(rand::random::<[u8; 32]>()),
            account: name.into(),
            role: role.parse()?,
            csrf: hex::encode(rand::random::<[u8; 32]>()),
            lang: "id".into(),
            expires_at: now + SESSION_SECS,
        };
        let id_sha256 = sha256_hex(&session.id);
        let row = (
            id_sha256.as_str(),
            name,
            session.csrf.as_str(),
            session.lang.as_str(),
            session.expires_at,
        );
        rows!(self, signed_in(row, now))?;
        Ok(Ok(session))
    }

    /// The session whose cookie is `id`, if it exists, has not expired at `now` and its account
    /// still exists (with the account's current role).
    pub fn session(&self, id: &str, now: i64) -> Result<Option<Session>, OfficeError> {
        rows!(self, session(&sha256_hex(id), now))?
            .map(|(account, role, csrf, lang, expires_at)| {
                Ok(Session {
                    id: id.into(),
                    account,
                    role: role.parse()?,
                    csrf,
                    lang,
                    expires_at,
                })
            })
            .transpose()
    }

    /// Sets the language of the session whose cookie is `id`.
    pub fn set_lang(&self, id: &str, lang: &str) -> Result<(), OfficeError> {
        Ok(rows!(self, set_lang(&sha256_hex(id), lang))?)
    }

    /// Ends the session whose cookie is `id`.
    pub fn logout(&self, id: &str) -> Result<(), OfficeError> {
        Ok(rows!(self, logout(&sha256_hex(id)))?)
    }

    /// Records that `actor` did `action` (`detail`: its object) now.
    pub fn record(&self, actor: &str, action: &str, detail: &str) -> Result<(), OfficeError> {
        let at = ts_text(Timestamp::now());
        Ok(rows!(self, record((&at, actor, action, detail)))?)
    }

    /// The newest `limit` lines of the audit log, newest first.
    pub fn audit(&self, limit: u32) -> Result<Vec<AuditEntry>, OfficeError> {
        rows!(self, audit(limit))?
            .into_iter()
            .map(|(at, actor, action, detail)| {
                Ok(AuditEntry {
                    at: parse_ts("audit time", at)?,
                    actor,
                    action,
                    detail,
                })
            })
            .collect()
    }
}

/// The office's rows in `hub.sqlite`: the same operations, names and signatures as
/// `pg::office` (only the placeholders differ).
mod sqlite {
    use rusqlite::{params, OptionalExtension};

    use crate::pg::office::{AccountRow, AuditRow, SessionRow};
    use crate::{lock, CachedSql, Db, HubError};

    fn audit_in(
        db: &rusqlite::Connection,
        at: &str,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> rusqlite::Result<()> {
        db.exec(
            "INSERT INTO console_audit (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![at, actor, action, detail],
        )?;
        Ok(())
    }

    pub(super) fn add_account(
        db: &Db,
        (name, role, hash, created_at): (&str, &str, &str, &str),
        (actor, detail): (&str, &str),
    ) -> Result<bool, HubError> {
        let mut db = lock(db);
        let tx = db.transaction()?;
        let added = tx.exec(
            "INSERT INTO console_accounts (name, role, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO NOTHING",
            params![name, role, hash, created_at],
        )?;
        if added == 0 {
            return Ok(false);
        }
        audit_in(&tx, created_at, actor, "user.add", detail)?;
        tx.commit()?;
        Ok(true)
    }

    pub(super) fn accounts(db: &Db) -> Result<Vec<AccountRow>, HubError> {
        let db = lock(db);
        let mut stmt =
            db.prepare_cached("SELECT name, role, created_at FROM console_accounts ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub(super) fn remove_account(
        db: &Db,
        name: &str,
        (at, actor): (&str, &str),
    ) -> Result<bool, HubError> {
        let mut db = lock(db);
        let tx = db.transaction()?;
        if tx.exec("DELETE FROM console_accounts WHERE name = ?1", [name])? == 0 {
            return Ok(false);
        }
        tx.exec("DELETE FROM console_sessions WHERE account = ?1", [name])?;
        audit_in(&tx, at, actor, "user.remove", name)?;
        tx.commit()?;
        Ok(true)
    }

    pub(super) fn failures(
        db: &Db,
        name: &str,
        address: &str,
        since: i64,
    ) -> Result<[(i64, Option<i64>); 2], HubError> {
        let db = lock(db);
        db.exec("DELETE FROM console_login_failures WHERE at <= ?1", [since])?;
        let count = |col: &str, v: &str| -> rusqlite::Result<(i64, Option<i64>)> {
            db.row(
                &format!(
                    "SELECT count(*), min(at) FROM console_login_failures WHERE {col} = ?1 AND at > ?2"
                ),
                params![v, since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        };
        Ok([count("account", name)?, count("address", address)?])
    }

    pub(super) fn credentials(db: &Db, name: &str) -> Result<Option<(String, String)>, HubError> {
        Ok(lock(db)
            .row(
                "SELECT password_hash, role FROM console_accounts WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub(super) fn failed(db: &Db, name: &str, address: &str, at: i64) -> Result<(), HubError> {
        lock(db).exec(
            "INSERT INTO console_login_failures (account, address, at) VALUES (?1, ?2, ?3)",
            params![name, address, at],
        )?;
        Ok(())
    }

    pub(super) fn signed_in(
        db: &Db,
        (id_sha256, account, csrf, lang, expires_at): (&str, &str, &str, &str, i64),
        now: i64,
    ) -> Result<(), HubError> {
        let mut db = lock(db);
        let tx = db.transaction()?;
        tx.exec(
            "DELETE FROM console_login_failures WHERE account = ?1",
            [account],
        )?;
        tx.exec("DELETE FROM console_sessions WHERE expires_at <= ?1", [now])?;
        tx.exec(
            "INSERT INTO console_sessions (id_sha256, account, csrf, lang, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id_sha256, account, csrf, lang, expires_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub(super) fn session(
        db: &Db,
        id_sha256: &str,
        now: i64,
    ) -> Result<Option<SessionRow>, HubError> {
        Ok(lock(db)
            .row(
                "SELECT s.account, a.role, s.csrf, s.lang, s.expires_at
                 FROM console_sessions s JOIN console_accounts a ON a.name = s.account
                 WHERE s.id_sha256 = ?1 AND s.expires_at > ?2",
                params![id_sha256, now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?)
    }

    pub(super) fn set_lang(db: &Db, id_sha256: &str, lang: &str) -> Result<(), HubError> {
        lock(db).exec(
            "UPDATE console_sessions SET lang = ?1 WHERE id_sha256 = ?2",
            params![lang, id_sha256],
        )?;
        Ok(())
    }

    pub(super) fn logout(db: &Db, id_sha256: &str) -> Result<(), HubError> {
        lock(db).exec(
            "DELETE FROM console_sessions WHERE id_sha256 = ?1",
            [id_sha256],
        )?;
        Ok(())
    }

    pub(super) fn record(
        db: &Db,
        (at, actor, action, detail): (&str, &str, &str, &str),
    ) -> Result<(), HubError> {
        Ok(audit_in(&lock(db), at, actor, action, detail)?)
    }

    pub(super) fn audit(db: &Db, limit: u32) -> Result<Vec<AuditRow>, HubError> {
        let db = lock(db);
        let mut stmt = db.prepare_cached(
            "SELECT at, actor, action, detail FROM console_audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office() -> (tempfile::TempDir, Office) {
        let dir = tempfile::tempdir().unwrap();
        crate::init(dir.path()).unwrap();
        let o = Office::open(dir.path()).unwrap();
        (dir, o)
    }

    /// The office of a hub on a private PostgreSQL server (the office first: dropped before the
    /// server stops). `None` (said on stderr) without PostgreSQL, a failure under
    /// `JEMPUT_REQUIRE_PEERS=1`.
    fn office_on_postgres() -> Option<(Office, jemput_testkit::Postgres, tempfile::TempDir)> {
        let pg = jemput_testkit::postgres()?;
        let dir = tempfile::tempdir().unwrap();
        let opts = crate::InitOptions {
            postgres: Some(crate::PostgresConfig::new(&pg.url())),
            ..Default::default()
        };
        crate::init_with(dir.path(), &opts).unwrap();
        assert!(
            !dir.path().join(crate::DB_FILE).exists(),
            "a hub on PostgreSQL keeps no hub.sqlite"
        );
        let o = Office::open(dir.path()).unwrap();
        Some((o, pg, dir))
    }

    /// Runs `body` on the embedded office and, when PostgreSQL is here, on the scale-out one.
    fn on_both(body: impl Fn(&Office)) {
        let (_dir, o) = office();
        body(&o);
        if let Some((o, _pg, _dir)) = office_on_postgres() {
            body(&o);
        }
    }

    #[test]
    fn accounts_are_added_listed_removed_and_audited_and_only_hashes_are_kept() {
        let (dir, o) = office();
        accounts_are_kept_as_hashes(&o);
        let db = std::fs::read(dir.path().join(crate::DB_FILE)).unwrap();
        let wal = std::fs::read(dir.path().join("hub.sqlite-wal")).unwrap_or_default();
        let needle = b"kata-sandi-panjang";
        for bytes in [db, wal] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
        if let Some((o, _pg, _dir)) = office_on_postgres() {
            accounts_are_kept_as_hashes(&o);
        }
    }

    fn accounts_are_kept_as_hashes(o: &Office) {
        o.add_account(CLI_ACTOR, "siti", Role::Admin, "kata-sandi-panjang")
            .unwrap();
        assert!(matches!(
            o.add_account(CLI_ACTOR, "siti", Role::Viewer, "kata-sandi-panjang"),
            Err(OfficeError::Exists(_))
        ));
        assert!(matches!(
            o.add_account(CLI_ACTOR, "Bad Name", Role::Viewer, "kata-sandi-panjang"),
            Err(OfficeError::BadName(_))
        ));
        assert!(matches!(
            o.add_account(CLI_ACTOR, "budi", Role::Viewer, "pendek"),
            Err(OfficeError::ShortPassword)
        ));
        let list = o.accounts().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].name.as_str(), list[0].role), ("siti", Role::Admin));
        o.remove_account(CLI_ACTOR, "siti").unwrap();
        assert!(matches!(
            o.remove_account(CLI_ACTOR, "siti"),
            Err(OfficeError::NoSuchAccount(_))
        ));
        let log = o.audit(10).unwrap();
        let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.remove", "user.add"]);
        assert_eq!(log[1].detail, "siti (admin)");
    }

    #[test]
    fn sign_in_makes_a_session_that_ends_with_logout_expiry_or_the_account() {
        on_both(|o| {
            o.add_account(CLI_ACTOR, "siti", Role::Viewer, "kata-sandi-panjang")
                .unwrap();
            let now = 1_800_000_000;
            assert_eq!(
                o.login("siti", "salah-sandi-panjang", "10.0.0.1", now)
                    .unwrap(),
                Err(LoginRefused::Wrong)
            );
            assert_eq!(
                o.login("nobody", "kata-sandi-panjang", "10.0.0.1", now)
                    .unwrap(),
                Err(LoginRefused::Wrong)
            );
            let s = o
                .login("siti", "kata-sandi-panjang", "10.0.0.1", now)
                .unwrap()
                .unwrap();
            assert_eq!(s.role, Role::Viewer);
            let again = o.session(&s.id, now + 1).unwrap().unwrap();
            assert_eq!(again.csrf, s.csrf);
            assert!(o.session("not-a-session", now).unwrap().is_none());
            assert!(
                o.session(&s.id, now + SESSION_SECS).unwrap().is_none(),
                "expired"
            );
            o.set_lang(&s.id, "en").unwrap();
            assert_eq!(o.session(&s.id, now).unwrap().unwrap().lang, "en");
            o.logout(&s.id).unwrap();
            assert!(o.session(&s.id, now).unwrap().is_none());
            let s = o
                .login("siti", "kata-sandi-panjang", "10.0.0.1", now)
                .unwrap()
                .unwrap();
            o.remove_account(CLI_ACTOR, "siti").unwrap();
            assert!(o.session(&s.id, now).unwrap().is_none(), "account removed");
        })
    }

    #[test]
    fn sign_in_is_limited_per_account_and_per_address() {
        on_both(|o| {
            o.add_account(CLI_ACTOR, "siti", Role::Admin, "kata-sandi-panjang")
                .unwrap();
            let now = 1_800_000_000;
            for i in 0..MAX_FAILURES_PER_ACCOUNT {
                let r = o
                    .login("siti", "salah", &format!("10.0.0.{i}"), now + i)
                    .unwrap();
                assert_eq!(r, Err(LoginRefused::Wrong));
            }
            // Now even the right password is refused, from any address, until the window passes.
            let r = o
                .login("siti", "kata-sandi-panjang", "10.9.9.9", now + 10)
                .unwrap();
            assert_eq!(
                r,
                Err(LoginRefused::TooMany {
                    retry_after_secs: LOGIN_WINDOW_SECS - 10
                })
            );
            assert!(o
                .login(
                    "siti",
                    "kata-sandi-panjang",
                    "10.9.9.9",
                    now + LOGIN_WINDOW_SECS + 1
                )
                .unwrap()
                .is_ok());
            // One address trying many names is limited too.
            let later = now + 10 * LOGIN_WINDOW_SECS;
            for i in 0..MAX_FAILURES_PER_ADDRESS {
                let r = o
                    .login(&format!("guess{i}"), "x", "10.6.6.6", later)
                    .unwrap();
                assert_eq!(r, Err(LoginRefused::Wrong));
            }
            assert!(matches!(
                o.login("siti", "kata-sandi-panjang", "10.6.6.6", later)
                    .unwrap(),
                Err(LoginRefused::TooMany { .. })
            ));
            assert!(o
                .login("siti", "kata-sandi-panjang", "10.7.7.7", later)
                .unwrap()
                .is_ok());
        })
    }
}

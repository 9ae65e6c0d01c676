//! The request nonces the hub accepted within the replay window (`docs/hub-protocol.md` §1): kept
//! in memory for the check and in `hub.sqlite` (table `request_nonces`) so that a restart — a
//! crash, a power cut, an upgrade — does not forget them. A signed request captured before a
//! restart is then still refused after it. Each nonce is written before its request is served:
//! synced (the database being `synchronous=FULL`), except a `PATCH`'s ([`Durability`]).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::CachedSql;
use jemput_core::wire::auth::REPLAY_WINDOW_SECS;
use rusqlite::params;

#[cfg(test)]
use crate::Db;
use crate::{lock, Backend, HubError};

/// Most nonces remembered at once. Nonces are forgotten when their request time leaves the
/// replay window; a hub that would need more refuses requests with `503` until some do.
pub(crate) const MAX_NONCES: usize = 200_000;

/// How durable a taken nonce is when [`Nonces::take`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Synced (`synchronous=FULL`): a request whose answer gives something away (a sync, a
    /// receipt, an enrollment) is never served twice, whatever cuts the power.
    Synced,
    /// Committed without an fsync (SQLite's `synchronous=NORMAL`, PostgreSQL's
    /// `synchronous_commit = off` for the transaction), for a `PATCH` or a creation (`POST` of an
    /// upload), whose effects are committed the same way after it. A power cut can take such a
    /// nonce only with everything committed after it, the request's own effect included (the
    /// write-ahead log is kept in order: a later commit that survives carries the earlier ones
    /// with it). Replayed after the restart, a `PATCH` can then only append the kit's own signed
    /// and checksummed bytes at the offset it names, where the hub's offset is again; a creation
    /// can only open an upload for the kit's own signed packet prelude, which the cut took and
    /// the kit makes again itself when its next request finds no upload (`404`); or, for a packet
    /// the hub holds by then, answer with that packet's receipt, which is no secret (the kit
    /// that signed the request may ask for it at any time, `GET /v1/receipts/{id}`). The saving
    /// is an fsync per chunk and per packet.
    WithItsEffect,
}

/// Why a nonce was not taken.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NonceRefusal {
    Replayed,
    Full,
}

/// The nonces seen within the replay window, per kit.
#[derive(Debug, Default)]
struct Seen {
    seen: HashMap<(String, String), i64>,
    /// Size after the last pruning: prune again when the map has doubled.
    pruned_at: usize,
}

impl Seen {
    /// Records `nonce` of `kit_id` at request time `t`; refuses one already seen.
    fn take(&mut self, kit_id: &str, nonce: &str, t: i64, now: i64) -> Result<(), NonceRefusal> {
        let key = (kit_id.to_owned(), nonce.to_owned());
        if self.seen.contains_key(&key) {
            return Err(NonceRefusal::Replayed);
        }
        if self.seen.len() >= MAX_NONCES || self.seen.len() >= 2 * self.pruned_at.max(1024) {
            // A request time this old is refused as stale, so its nonce need not be kept.
            self.seen
                .retain(|_, &mut seen_t| seen_t >= oldest_kept(now));
            self.pruned_at = self.seen.len();
            if self.seen.len() >= MAX_NONCES {
                return Err(NonceRefusal::Full);
            }
        }
        self.seen.insert(key, t);
        Ok(())
    }
}

/// The oldest request time still inside the replay window at `now`.
fn oldest_kept(now: i64) -> i64 {
    now.saturating_sub(REPLAY_WINDOW_SECS)
}

/// The accepted nonces, in memory and in the database.
#[derive(Debug)]
pub(crate) struct Nonces {
    state: Backend,
    mem: Mutex<Seen>,
}

impl Nonces {
    /// Loads the nonces still inside the replay window at `now` (and forgets older ones).
    #[cfg(test)]
    pub(crate) fn open(db: Db, now: i64) -> Result<Nonces, HubError> {
        Nonces::open_state(Backend::Embedded(db), now)
    }

    /// [`Nonces::open`] on either backend.
    pub(crate) fn open_state(state: Backend, now: i64) -> Result<Nonces, HubError> {
        let mut seen = Seen::default();
        if let Backend::Postgres(pool) = &state {
            seen.seen
                .extend(crate::pg::registry::load_nonces(pool, oldest_kept(now))?);
            seen.pruned_at = seen.seen.len();
        }
        if let Backend::Embedded(db) = &state {
            let conn = lock(db);
            conn.exec(
                "DELETE FROM request_nonces WHERE t < ?1",
                [oldest_kept(now)],
            )?;
            let mut stmt = conn.prepare("SELECT kit_id, nonce, t FROM request_nonces")?;
            let rows = stmt.query_map([], |r| {
                Ok(((r.get::<_, String>(0)?, r.get::<_, String>(1)?), r.get(2)?))
            })?;
            for row in rows {
                let (key, t) = row?;
                seen.seen.insert(key, t);
            }
            seen.pruned_at = seen.seen.len();
        }
        Ok(Nonces {
            state,
            mem: Mutex::new(seen),
        })
    }

    /// Takes `nonce` of `kit_id` at request time `t` once: refused when it was seen before (by
    /// this process or one before it) or when too many are held. A taken nonce is committed, as
    /// durably as `durability` says, when this returns.
    pub(crate) fn take(
        &self,
        kit_id: &str,
        nonce: &str,
        t: i64,
        now: i64,
        durability: Durability,
    ) -> Result<Result<(), NonceRefusal>, HubError> {
        let taken = self
            .mem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(kit_id, nonce, t, now);
        if taken.is_err() {
            return Ok(taken);
        }
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                let synced = durability == Durability::Synced;
                let added = crate::pg::registry::take_nonce(
                    pool,
                    kit_id,
                    nonce,
                    t,
                    oldest_kept(now),
                    synced,
                )?;
                return Ok(if added {
                    Ok(())
                } else {
                    Err(NonceRefusal::Replayed)
                });
            }
        };
        let mut conn = lock(db);
        let insert = |conn: &mut rusqlite::Connection| -> Result<usize, rusqlite::Error> {
            let tx = conn.unchecked_transaction()?;
            tx.exec(
                "DELETE FROM request_nonces WHERE t < ?1",
                [oldest_kept(now)],
            )?;
            let added = tx.exec(
                "INSERT OR IGNORE INTO request_nonces (kit_id, nonce, t) VALUES (?1, ?2, ?3)",
                params![kit_id, nonce, t],
            )?;
            tx.commit()?;
            Ok(added)
        };
        let added = match durability {
            Durability::Synced => insert(&mut conn)?,
            Durability::WithItsEffect => crate::storage::unsynced(&mut conn, insert)?,
        };
        // Already in the database: another process on this data directory took it.
        Ok(if added == 1 {
            Ok(())
        } else {
            Err(NonceRefusal::Replayed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::open_db(&dir.path().join("hub.sqlite")).unwrap();
        (dir, std::sync::Arc::new(Mutex::new(conn)))
    }

    #[test]
    fn a_nonce_is_taken_once_per_kit_and_forgotten_after_the_window() {
        let mut n = Seen::default();
        n.take("a", "0123456789abcdef", 1000, 1000).unwrap();
        assert_eq!(
            n.take("a", "0123456789abcdef", 1000, 1001),
            Err(NonceRefusal::Replayed)
        );
        n.take("b", "0123456789abcdef", 1000, 1001).unwrap();
        // Filling the map prunes nonces whose time left the window.
        for i in 0..4096 {
            n.take("a", &format!("{i:016}"), 2000, 2000).unwrap();
        }
        assert!(!n
            .seen
            .contains_key(&("b".into(), "0123456789abcdef".into())));
        assert!(n.seen.len() <= 4097);
    }

    #[test]
    fn taken_nonces_survive_a_reopen_until_they_leave_the_window() {
        let (_dir, db) = db();
        let n = Nonces::open(db.clone(), 1000).unwrap();
        assert_eq!(
            n.take("a", "0123456789abcdef", 1000, 1000, Durability::Synced)
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            n.take("a", "fedcba9876543210", 1200, 1000, Durability::Synced)
                .unwrap(),
            Ok(())
        );
        drop(n);
        // A restart within the window still knows both.
        let n = Nonces::open(db.clone(), 1100).unwrap();
        assert_eq!(
            n.take("a", "0123456789abcdef", 1000, 1100, Durability::Synced)
                .unwrap(),
            Err(NonceRefusal::Replayed)
        );
        drop(n);
        // Once a request time left the window its nonce is forgotten (the time check refuses
        // such a request anyway); the future-dated one is still kept.
        let n = Nonces::open(db.clone(), 1301).unwrap();
        assert_eq!(
            n.take("a", "0123456789abcdef", 1000, 1301, Durability::Synced)
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            n.take("a", "fedcba9876543210", 1200, 1301, Durability::Synced)
                .unwrap(),
            Err(NonceRefusal::Replayed)
        );
    }

    #[test]
    fn a_patchs_nonce_committed_without_an_fsync_is_refused_after_a_reopen_too() {
        let (_dir, db) = db();
        let n = Nonces::open(db.clone(), 1000).unwrap();
        let take = |n: &Nonces, nonce: &str| {
            n.take("a", nonce, 1000, 1000, Durability::WithItsEffect)
                .unwrap()
        };
        assert_eq!(take(&n, "0123456789abcdef"), Ok(()));
        assert_eq!(take(&n, "0123456789abcdef"), Err(NonceRefusal::Replayed));
        drop(n);
        let n = Nonces::open(db.clone(), 1000).unwrap();
        assert_eq!(take(&n, "0123456789abcdef"), Err(NonceRefusal::Replayed));
        // The connection is back to synced commits for everything else.
        let sync: i64 = lock(&db)
            .row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[test]
    fn a_nonce_another_process_wrote_is_refused() {
        let (_dir, db) = db();
        let first = Nonces::open(db.clone(), 1000).unwrap();
        let second = Nonces::open(db, 1000).unwrap();
        assert_eq!(
            first
                .take("a", "0123456789abcdef", 1000, 1000, Durability::Synced)
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            second
                .take("a", "0123456789abcdef", 1000, 1000, Durability::Synced)
                .unwrap(),
            Err(NonceRefusal::Replayed)
        );
    }
}

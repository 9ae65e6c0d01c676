//! The kit's lock: the draft identity is held in memory only while the station is unlocked, and
//! dropped when the operator locks it or after a stretch without activity.
//!
//! The identity decrypts the visits in progress; it is unlocked with the kit passphrase
//! (`KitHome::unlock_drafts`) and never written anywhere. The clock is passed in, so the idle
//! rule is tested without waiting.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The default idle time before the station locks itself.
pub const DEFAULT_LOCK_AFTER: Duration = Duration::from_secs(10 * 60);

/// Why the station is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// Never unlocked since it started, or locked by the operator.
    Closed,
    /// Locked by itself after the idle time.
    Idle,
}

struct Unlocked {
    identity: age::x25519::Identity,
    last_activity: Instant,
}

enum State {
    Locked(Locked),
    Unlocked(Unlocked),
}

/// The lock, shared by every request.
pub struct KitLock {
    idle: Duration,
    state: Mutex<State>,
}

impl std::fmt::Debug for KitLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the identity.
        f.debug_struct("KitLock")
            .field("idle", &self.idle)
            .field("locked", &self.locked(Instant::now()))
            .finish()
    }
}

impl KitLock {
    /// A locked kit that locks itself after `idle` without activity.
    pub fn new(idle: Duration) -> KitLock {
        KitLock {
            idle,
            state: Mutex::new(State::Locked(Locked::Closed)),
        }
    }

    /// The idle time.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves a usable state: a plain enum.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies the idle rule at `now`: past the idle time the identity is dropped.
    fn expire(state: &mut State, idle: Duration, now: Instant) {
        if let State::Unlocked(u) = state {
            if now.saturating_duration_since(u.last_activity) >= idle {
                *state = State::Locked(Locked::Idle);
            }
        }
    }

    /// Drops the identity if the kit has been idle too long; run on a timer so the key does not
    /// stay in memory while nobody uses the station.
    pub fn tick(&self, now: Instant) {
        Self::expire(&mut self.state(), self.idle, now);
    }

    /// Unlocks with `identity` (already checked against the passphrase).
    pub fn unlock(&self, identity: age::x25519::Identity, now: Instant) {
        *self.state() = State::Unlocked(Unlocked {
            identity,
            last_activity: now,
        });
    }

    /// Locks at the operator's request.
    pub fn lock(&self) {
        *self.state() = State::Locked(Locked::Closed);
    }

    /// `None` when unlocked, else why it is locked (after applying the idle rule at `now`).
    pub fn locked(&self, now: Instant) -> Option<Locked> {
        let mut s = self.state();
        Self::expire(&mut s, self.idle, now);
        match &*s {
            State::Locked(why) => Some(*why),
            State::Unlocked(_) => None,
        }
    }

    /// An operator's request at `now`: the idle rule first, then, if still unlocked, the
    /// activity restarts the idle time.
    pub fn activity(&self, now: Instant) {
        let mut s = self.state();
        Self::expire(&mut s, self.idle, now);
        if let State::Unlocked(u) = &mut *s {
            u.last_activity = now;
        }
    }

    /// The draft identity while unlocked.
    pub fn identity(&self, now: Instant) -> Option<age::x25519::Identity> {
        let mut s = self.state();
        Self::expire(&mut s, self.idle, now);
        match &*s {
            State::Unlocked(u) => Some(u.identity.clone()),
            State::Locked(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn the_identity_is_there_only_while_unlocked() {
        let t0 = Instant::now();
        let lock = KitLock::new(10 * MIN);
        assert_eq!(lock.locked(t0), Some(Locked::Closed));
        assert!(lock.identity(t0).is_none());
        let id = age::x25519::Identity::generate();
        let public = id.to_public().to_string();
        lock.unlock(id, t0);
        assert_eq!(lock.locked(t0), None);
        assert_eq!(
            lock.identity(t0 + MIN).unwrap().to_public().to_string(),
            public
        );
        lock.lock();
        assert_eq!(lock.locked(t0 + MIN), Some(Locked::Closed));
        assert!(lock.identity(t0 + MIN).is_none());
    }

    #[test]
    fn idle_time_locks_and_activity_postpones_it() {
        let t0 = Instant::now();
        let lock = KitLock::new(10 * MIN);
        lock.unlock(age::x25519::Identity::generate(), t0);
        // Activity at 9 minutes restarts the clock: still open at 18 minutes.
        lock.activity(t0 + 9 * MIN);
        lock.tick(t0 + 18 * MIN);
        assert_eq!(lock.locked(t0 + 18 * MIN), None);
        // Ten minutes after the last activity the timer drops the key.
        lock.tick(t0 + 19 * MIN);
        assert_eq!(lock.locked(t0 + 19 * MIN), Some(Locked::Idle));
        assert!(lock.identity(t0 + 19 * MIN).is_none());
        // Activity after the lock does not bring it back.
        lock.activity(t0 + 19 * MIN + Duration::from_secs(1));
        assert_eq!(lock.locked(t0 + 20 * MIN), Some(Locked::Idle));
    }

    #[test]
    fn a_request_after_the_idle_time_finds_the_kit_locked_even_before_the_timer() {
        let t0 = Instant::now();
        let lock = KitLock::new(2 * MIN);
        lock.unlock(age::x25519::Identity::generate(), t0);
        assert!(lock.identity(t0 + 2 * MIN).is_none());
        assert_eq!(lock.locked(t0 + 2 * MIN), Some(Locked::Idle));
    }
}

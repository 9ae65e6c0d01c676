//! A registered kit as both backends' registries (`registry` on SQLite, `pg::registry` on
//! PostgreSQL) return it.

use jemput_core::keys::PublicKey;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

/// One registered kit: the item of `jemput hub kits --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct KitEntry {
    /// The kit's id, as in its packet headers and `Jemput-Auth`.
    pub kit_id: String,
    /// The kit's ed25519 public key: requests and packet headers must verify with it.
    pub kit_key: PublicKey,
    /// A name for people (team, district), if given.
    pub name: Option<String>,
    /// When the kit was registered.
    pub added_at: Timestamp,
    /// Whether the kit is revoked (it can no longer upload).
    pub revoked: bool,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// The id of the enrollment token it enrolled with; `None` when registered by hand.
    pub enrolled_with: Option<String>,
    /// When it last made an authenticated request (to the minute); `None` if never.
    pub last_seen: Option<Timestamp>,
}

/// How often a kit's "last seen" time is written: at most once a minute per kit, so that a busy
/// upload does not commit to the database on every request.
pub(crate) const LAST_SEEN_RESOLUTION_SECS: i64 = 60;

impl KitEntry {
    /// Whether "last seen" was recorded recently enough that [`Registry::touch`] would not write
    /// it again now: the hub then spares the request that write.
    pub(crate) fn seen_lately(&self, now: Timestamp) -> bool {
        self.last_seen.is_some_and(|seen| {
            now.duration_since(seen) < jiff::SignedDuration::from_secs(LAST_SEEN_RESOLUTION_SECS)
        })
    }
}

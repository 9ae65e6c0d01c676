//! The kit's side of sync (`docs/hub-protocol.md` §8): downloading and accepting the hub's signed
//! sync document ([`client`]), and the kit's status against the offline policy ([`status`]). The
//! document itself is `jemput_core::wire::sync`, the policy `jemput_core::offline`.

pub mod client;
pub mod status;

pub use client::{sync, SyncError, SyncOutcome, SyncState};

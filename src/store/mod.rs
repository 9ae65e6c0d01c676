//! The kit's durable store: packet files in `packets/` and the upload queue in `queue.sqlite`.
//!
//! A packet is written to a temp file beside its final name, fsynced, renamed into place and the
//! directory fsynced; only then is its queue row committed (WAL, `synchronous=FULL`). Every state
//! change is recorded in `transitions`. [`Store::recover`] reconciles files and rows both ways.

mod error;
mod queue;
mod recovery;
mod state;

pub use error::StoreError;
pub use queue::{PacketMeta, QueueEntry, Store, Transition};
pub use recovery::RecoveryReport;
pub use state::State;

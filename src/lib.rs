//! jemput: a field kit for mobile KTP-el enrollment outreach.
//!
//! The library holds everything; the `jemput` binary only parses the command line and dispatches to
//! its `cli` module (`src/cli/`). See `DESIGN.md` in the steering repository and
//! `docs/packet-format.md` here.

pub mod calibration;
pub mod doctor;
pub mod enroll;
pub mod export;
pub mod fsutil;
pub mod home;
pub mod hub;
pub mod imaging;
pub mod keys;
pub mod kit;
pub mod outputs;
pub mod packet;
pub mod schemas;
pub mod store;
pub mod sync;
pub mod upload;
pub mod visit;
pub mod wire;
pub mod worklist;

//! What kit and hub say to each other beyond tus: request authentication and signed receipts.
//! Specified in `docs/hub-protocol.md`.

pub mod auth;
pub mod receipt;

//! What kit and hub say to each other beyond tus: request authentication, signed receipts and
//! enrollment.
//! Specified in `docs/hub-protocol.md`.

pub mod auth;
pub mod enroll;
pub mod receipt;

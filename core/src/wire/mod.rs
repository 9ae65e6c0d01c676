//! What kit and hub say to each other: the tus vocabulary ([`tus`]), request authentication
//! ([`auth`]), signed receipts ([`receipt`]), the sync document ([`sync`]), enrollment
//! ([`enroll`]) and the hub certificate pin ([`pin`]). Specified in `docs/hub-protocol.md`.

pub mod auth;
pub mod enroll;
pub mod pin;
pub mod receipt;
pub mod sync;
pub mod tus;

//! jemput-core: what the kit and the hub share, and nothing that talks to a device or a network.
//!
//! - [`packet`]: capture packet v1 — prepare, seal, verify and open (`docs/packet-format.md`);
//! - [`keys`]: the ed25519 signing keys, office recipients and their key ids;
//! - [`wire`]: the kit–hub protocol beyond plain tus — tus constants and extensions, request
//!   signatures, receipts, the sync document, enrollment messages (`docs/hub-protocol.md`);
//! - [`visit`]: the visit data model — resident, NIK, consent, captures, exceptions, the checks
//!   before sealing and the capture policy;
//! - [`offline`]: the offline policy (limits past which a kit refuses new visits);
//! - [`worklist`]: the office's worklist and its CSV import;
//! - [`imaging`]: face photo checks, the signature pen trace and its quality, fingerprint quality;
//! - [`export`]: ANSI/NIST-ITL transactions from opened packets;
//! - [`iso19794`]: ISO/IEC 19794-4 finger and 19794-5 face image records, read and written;
//! - [`sample`]: complete synthetic visits (never data from a real person);
//! - [`backoff`]: the retry delays both sides use; [`fsutil`]: durable file writes.
//!
//! Device types are not used here: the kit converts what its drivers report into this crate's
//! own records ([`device::DeviceRecord`], [`finger::FingerPosition`],
//! [`imaging::signature::PenTrace`]), which sit below the visit model and imaging so that both
//! use them without importing each other.

pub mod backoff;
pub mod device;
pub mod export;
pub mod finger;
pub mod fsutil;
pub mod imaging;
pub mod iso19794;
pub mod keys;
pub mod offline;
pub mod packet;
pub mod sample;
pub mod visit;
pub mod wire;
pub mod worklist;

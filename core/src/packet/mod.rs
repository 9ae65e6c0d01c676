//! Capture packet v1: the signed cleartext header, the manifest, sealing, verifying, opening.
//!
//! The format is specified in `docs/packet-format.md` and by the JSON Schemas in `schemas/`.

mod error;
pub mod format;
pub mod manifest;
mod open;
mod seal;

pub use error::PacketError;
pub use format::{
    parse_prelude, valid_packet_id, Header, Prelude, EXTENSION, FORMAT_VERSION, MAGIC,
};
pub use manifest::{FileEntry, Manifest};
pub use open::{
    check_contents, decrypt, open_reader_to_dir, open_to_dir, read_archive, verify, verify_file,
    verify_reader, Contents, Verified, MAX_ARCHIVE_BYTES,
};
pub use seal::{
    estimate_size, force_rewrite_for_tests, prepare, seal, PacketFile, Prepared, SealParams, Sealed,
};

//! The manifest: what the packet holds, who captured it, and the SHA-256 of every file.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PacketError;
use crate::keys::PublicKey;
use crate::visit::Visit;

/// Name of the manifest inside the payload archive (always the first entry).
pub const MANIFEST_NAME: &str = "manifest.json";
/// Name of the inner signature (always the second entry): 64 raw bytes, ed25519 over
/// `"jemput/inner/v1\0"` ‖ the bytes of `manifest.json`.
pub const SIGNATURE_NAME: &str = "manifest.sig";
/// The file `open` writes the outer header into, beside the payload's files: reserved, so that no
/// file of a packet can take its place.
pub const HEADER_NAME: &str = "header.json";
/// Names no payload file may have: `open` writes jemput's own files under them.
pub const RESERVED_NAMES: [&str; 3] = [MANIFEST_NAME, SIGNATURE_NAME, HEADER_NAME];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version; equal to the header's.
    pub format_version: u32,
    /// Equal to the header's packet id.
    pub packet_id: String,
    /// Equal to the header's kit id.
    pub kit_id: String,
    /// Equal to the header's kit key; verifies `manifest.sig`.
    pub kit_key: PublicKey,
    pub sealed_at: jiff::Timestamp,
    /// The software that sealed the packet, e.g. `jemput 0.1.0`.
    pub software: String,
    pub visit: Visit,
    /// Every other file of the archive, in archive order.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// File name: 1–64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
    pub name: String,
    pub media_type: String,
    pub size: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Whether `name` is an acceptable packet file name (no directories, no traversal, no surprises).
pub fn valid_file_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|&c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
        && !RESERVED_NAMES.contains(&name)
}

/// Media type by file extension, for the files jemput writes.
pub fn media_type_for(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("wsq") => "image/x-wsq",
        Some("json") => "application/json",
        Some("an2") => "application/x-ansi-nist",
        _ => "application/octet-stream",
    }
}

impl Manifest {
    /// Checks that the manifest agrees with the signed header.
    pub fn check_against(&self, header: &super::Header) -> Result<(), PacketError> {
        let mismatch = |what: &str| Err(PacketError::ManifestMismatch(format!("{what} differs")));
        if self.format_version != header.format_version {
            return mismatch("format version");
        }
        if self.packet_id != header.packet_id {
            return mismatch("packet id");
        }
        if self.kit_id != header.kit_id {
            return mismatch("kit id");
        }
        if self.kit_key != header.kit_key {
            return mismatch("kit key");
        }
        Ok(())
    }

    /// Every file name the visit refers to (captures, extra files, proof photos).
    pub fn referenced_files(visit: &Visit) -> Vec<String> {
        visit.referenced_files()
    }
}

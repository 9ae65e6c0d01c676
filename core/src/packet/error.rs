//! Everything that can go wrong reading or writing a packet, each naming what failed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    #[error("not a jemput packet (no `jemput-packet/v` magic line)")]
    NotAPacket,
    #[error("truncated packet: the file ends inside {0}")]
    Truncated(String),
    #[error("unknown packet format version {0:?}; this jemput reads version 1 — update jemput")]
    UnknownVersion(String),
    #[error("malformed header: {0}")]
    BadHeader(String),
    #[error("tampered header: the outer signature does not verify with the kit key in the header")]
    BadOuterSignature,
    #[error(
        "truncated payload: the header says {expected} payload bytes, the file holds {actual}"
    )]
    TruncatedPayload { expected: u64, actual: u64 },
    #[error("trailing bytes: the header says {expected} payload bytes, the file holds {actual}")]
    TrailingBytes { expected: u64, actual: u64 },
    #[error("tampered payload: its SHA-256 does not match the signed header")]
    PayloadHash,
    #[error("packet from another kit: signed by key {found}, expected {expected}")]
    WrongKit { expected: String, found: String },
    #[error(
        "wrong key: the payload is encrypted to key id(s) {packet}, the identity holds {identity}"
    )]
    WrongKey { packet: String, identity: String },
    #[error("the payload does not decrypt ({0}); it is damaged or truncated")]
    Decrypt(String),
    #[error("bad archive inside the payload: {0}")]
    BadArchive(String),
    #[error("bad inner signature: the manifest was not signed by the kit that signed the header")]
    BadInnerSignature,
    #[error("manifest does not match the header: {0}")]
    ManifestMismatch(String),
    #[error("malformed manifest: {0}")]
    BadManifest(String),
    #[error("file hash mismatch: {0} does not match the SHA-256 in the manifest")]
    FileHash(String),
    #[error("file {0} is listed in the manifest but missing from the payload")]
    MissingFile(String),
    #[error("file {0} is in the payload but not listed in the manifest")]
    UnlistedFile(String),
    #[error(
        "packet too large: about {estimated} bytes, the limit is {max} (setting limits.max_packet_bytes); \
         drop document photos or retake captures at a lower size, or raise the limit if the hub accepts it"
    )]
    TooLarge { estimated: u64, max: u64 },
    #[error("no office recipient configured: run `jemput config set office-recipient age1…` (from `jemput office keygen`)")]
    NoRecipients,
    #[error("the visit is not ready to seal:\n  - {}", .0.join("\n  - "))]
    Incomplete(Vec<String>),
    #[error("{path} already exists and is not an empty directory; choose a new --out")]
    OutExists { path: PathBuf },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("cannot read the packet: {0}")]
    Read(std::io::Error),
    #[error("cannot write the packet file: {0}")]
    Write(std::io::Error),
}

impl PacketError {
    /// A short stable code for `--json` output and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            PacketError::NotAPacket => "not_a_packet",
            PacketError::Truncated(_) => "truncated_header",
            PacketError::UnknownVersion(_) => "unknown_version",
            PacketError::BadHeader(_) => "bad_header",
            PacketError::BadOuterSignature => "tampered_header",
            PacketError::TruncatedPayload { .. } => "truncated_payload",
            PacketError::TrailingBytes { .. } => "trailing_bytes",
            PacketError::PayloadHash => "tampered_payload",
            PacketError::WrongKit { .. } => "wrong_kit",
            PacketError::WrongKey { .. } => "wrong_key",
            PacketError::Decrypt(_) => "decrypt_failed",
            PacketError::BadArchive(_) => "bad_archive",
            PacketError::BadInnerSignature => "bad_inner_signature",
            PacketError::ManifestMismatch(_) => "manifest_mismatch",
            PacketError::BadManifest(_) => "bad_manifest",
            PacketError::FileHash(_) => "file_hash_mismatch",
            PacketError::MissingFile(_) => "missing_file",
            PacketError::UnlistedFile(_) => "unlisted_file",
            PacketError::TooLarge { .. } => "too_large",
            PacketError::NoRecipients => "no_recipients",
            PacketError::Incomplete(_) => "incomplete_visit",
            PacketError::OutExists { .. } => "out_exists",
            PacketError::Io { .. } => "io",
            PacketError::Encrypt(_) => "encrypt_failed",
            PacketError::Read(_) => "read_failed",
            PacketError::Write(_) => "write_failed",
        }
    }

    /// Whether this is the disk running full (ENOSPC) somewhere underneath.
    pub fn is_disk_full(&self) -> bool {
        match self {
            PacketError::Io { source, .. }
            | PacketError::Write(source)
            | PacketError::Read(source) => crate::fsutil::is_disk_full(source),
            _ => false,
        }
    }
}

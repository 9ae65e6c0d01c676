//! The cleartext part of a packet file: magic line, signed header, outer signature.
//!
//! ```text
//! "jemput-packet/v1\n"            magic line (17 bytes); the version is the text after '/v'
//! u32 big-endian  N              length of the header JSON
//! N bytes                        header JSON (UTF-8) — exactly the bytes that are signed
//! 64 bytes                       ed25519 signature over "jemput/outer/v1\0" ‖ header JSON
//! payload_length bytes           the age v1 payload (see `docs/packet-format.md`)
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PacketError;
use crate::keys::PublicKey;

/// The magic line of format version 1.
pub const MAGIC: &[u8] = b"jemput-packet/v1\n";
/// What every version's magic line starts with.
pub const MAGIC_PREFIX: &[u8] = b"jemput-packet/v";
/// Format version written by this build.
pub const FORMAT_VERSION: u32 = 1;
/// Upper bound on the header JSON, far above any real header (a few hundred bytes).
pub const MAX_HEADER_LEN: u32 = 64 * 1024;
/// File extension of packet files.
pub const EXTENSION: &str = "jpk";

/// The signed cleartext header. Everything the hub checks before it decrypts anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Format version; 1 for this format.
    pub format_version: u32,
    /// Random packet id (UUID v4, lowercase hyphenated).
    pub packet_id: String,
    /// The kit that sealed the packet.
    pub kit_id: String,
    /// The kit's ed25519 public key; the outer and inner signatures verify with it. The hub checks it
    /// against its kit registry, `jemput packet verify --kit-key` against a given key.
    pub kit_key: PublicKey,
    /// Creation time, RFC 3339 UTC.
    pub created_at: jiff::Timestamp,
    /// Key ids of the age recipients the payload is encrypted to: first 8 bytes of SHA-256 of each
    /// `age1…` string, lowercase hex.
    pub recipients: Vec<String>,
    /// Length in bytes of the age payload that follows the signature.
    pub payload_length: u64,
    /// SHA-256 of the age payload, lowercase hex.
    pub payload_sha256: String,
}

/// Whether `id` is a packet id as the format has them: a random (version 4, RFC 9562 variant) UUID
/// in its canonical text form, lowercase with hyphens (`7b0a3e2e-6d0c-4a43-9e43-6f1c1f0c8b11`).
/// Packet files are named after it, so nothing else may pass.
pub fn valid_packet_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => matches!(c, b'0'..=b'9' | b'a'..=b'f'),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// A parsed packet prelude: header, its exact bytes, the signature, and where the payload starts.
#[derive(Debug, Clone)]
pub struct Prelude {
    pub header: Header,
    pub header_bytes: Vec<u8>,
    pub signature: [u8; 64],
    /// Offset of the first payload byte in the file.
    pub payload_offset: usize,
}

/// Serialises the header JSON and the prelude bytes (magic, length, header, signature).
pub fn encode_prelude(header_bytes: &[u8], signature: &[u8; 64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header_bytes.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(header_bytes);
    out.extend_from_slice(signature);
    out
}

/// Parses the prelude of a packet (any bytes from outside: checks everything, never panics).
///
/// Does not check the signature or the payload; see [`super::verify`].
pub fn parse_prelude(bytes: &[u8]) -> Result<Prelude, PacketError> {
    if !bytes.starts_with(MAGIC_PREFIX) {
        if bytes.len() < MAGIC_PREFIX.len() && MAGIC_PREFIX.starts_with(bytes) {
            return Err(PacketError::Truncated("the magic line".into()));
        }
        return Err(PacketError::NotAPacket);
    }
    let line_end = bytes
        .iter()
        .take(32)
        .position(|&b| b == b'\n')
        .ok_or_else(|| {
            if bytes.len() < 32 {
                PacketError::Truncated("the magic line".into())
            } else {
                PacketError::NotAPacket
            }
        })?;
    let version = &bytes[MAGIC_PREFIX.len()..line_end];
    if &bytes[..=line_end] != MAGIC {
        return Err(PacketError::UnknownVersion(
            String::from_utf8_lossy(version).into_owned(),
        ));
    }
    let mut pos = MAGIC.len();
    let len_bytes: [u8; 4] = bytes
        .get(pos..pos + 4)
        .ok_or_else(|| PacketError::Truncated("the header length".into()))?
        .try_into()
        .expect("4 bytes");
    let len = u32::from_be_bytes(len_bytes);
    if len > MAX_HEADER_LEN {
        return Err(PacketError::BadHeader(format!(
            "header length {len} exceeds the limit of {MAX_HEADER_LEN} bytes"
        )));
    }
    pos += 4;
    let header_bytes = bytes
        .get(pos..pos + len as usize)
        .ok_or_else(|| PacketError::Truncated("the header".into()))?
        .to_vec();
    pos += len as usize;
    let signature: [u8; 64] = bytes
        .get(pos..pos + 64)
        .ok_or_else(|| PacketError::Truncated("the outer signature".into()))?
        .try_into()
        .expect("64 bytes");
    pos += 64;
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|e| PacketError::BadHeader(format!("header JSON: {e}")))?;
    if header.format_version != FORMAT_VERSION {
        return Err(PacketError::UnknownVersion(
            header.format_version.to_string(),
        ));
    }
    Ok(Prelude {
        header,
        header_bytes,
        signature,
        payload_offset: pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_header() -> Header {
        Header {
            format_version: 1,
            packet_id: "7b0a3e2e-6d0c-4a43-9e43-6f1c1f0c8b11".into(),
            kit_id: "kit-0001".into(),
            kit_key: crate::keys::SigningKey::generate().public(),
            created_at: "2026-11-23T08:00:00Z".parse().unwrap(),
            recipients: vec!["0011223344556677".into()],
            payload_length: 3,
            payload_sha256: "00".repeat(32),
        }
    }

    #[test]
    fn prelude_round_trips() {
        let h = sample_header();
        let hb = serde_json::to_vec(&h).unwrap();
        let mut bytes = encode_prelude(&hb, &[7u8; 64]);
        bytes.extend_from_slice(b"abc");
        let p = parse_prelude(&bytes).unwrap();
        assert_eq!(p.header, h);
        assert_eq!(p.header_bytes, hb);
        assert_eq!(p.signature, [7u8; 64]);
        assert_eq!(&bytes[p.payload_offset..], b"abc");
    }

    #[test]
    fn unknown_version_is_named() {
        let mut bytes = b"jemput-packet/v2\n".to_vec();
        bytes.extend_from_slice(&[0; 100]);
        match parse_prelude(&bytes) {
            Err(PacketError::UnknownVersion(v)) => assert_eq!(v, "2"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let hb = serde_json::to_vec(&sample_header()).unwrap();
        let bytes = encode_prelude(&hb, &[7u8; 64]);
        for n in 0..bytes.len() {
            assert!(
                parse_prelude(&bytes[..n]).is_err(),
                "prefix of {n} bytes parsed"
            );
        }
    }

    #[test]
    fn packet_ids_are_lowercase_version_4_uuids_and_nothing_else() {
        assert!(valid_packet_id("7b0a3e2e-6d0c-4a43-9e43-6f1c1f0c8b11"));
        for _ in 0..100 {
            assert!(valid_packet_id(&uuid::Uuid::new_v4().to_string()));
        }
        let a128 = "a".repeat(128);
        for bad in [
            "",
            "-",
            a128.as_str(),
            "7B0A3E2E-6D0C-4A43-9E43-6F1C1F0C8B11",
            "7b0a3e2e6d0c4a439e436f1c1f0c8b11",
            "{7b0a3e2e-6d0c-4a43-9e43-6f1c1f0c8b11}",
            "7b0a3e2e-6d0c-1a43-9e43-6f1c1f0c8b11",
            "7b0a3e2e-6d0c-4a43-7e43-6f1c1f0c8b11",
            "7b0a3e2e-6d0c-4a43-9e43-6f1c1f0c8b1",
            "7b0a3e2e-6d0c-4a43-9e43-6f1c1f0c8b11a",
            "7b0a3e2e_6d0c-4a43-9e43-6f1c1f0c8b11",
            "../../../../hub.toml-aaaaaaaaaaaaaaa",
            "7b0a3e2e-6d0c-4a43-9e43-6f1c1f0c8b1\u{e9}",
        ] {
            assert!(!valid_packet_id(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn other_files_are_not_packets() {
        assert!(matches!(
            parse_prelude(b"age-encryption.org/v1\n"),
            Err(PacketError::NotAPacket)
        ));
    }
}

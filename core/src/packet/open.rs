//! Verifying and opening packets: outer checks without keys, then decrypt, inner checks, extract.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::format::{parse_prelude, Prelude};
use super::manifest::{
    valid_file_name, Manifest, HEADER_NAME, MANIFEST_NAME, RESERVED_NAMES, SIGNATURE_NAME,
};
use super::PacketError;
use crate::fsutil;
use crate::keys::sign::{INNER_DOMAIN, OUTER_DOMAIN};
use crate::keys::{recipient_key_id, PublicKey};

/// Checks what can be checked without a key: magic, header, outer signature, payload length and
/// SHA-256, and (when given) that the kit key is the expected one.
pub fn verify(bytes: &[u8], expected_kit_key: Option<&PublicKey>) -> Result<Prelude, PacketError> {
    let p = parse_prelude(bytes)?;
    if !p
        .header
        .kit_key
        .verify(OUTER_DOMAIN, &p.header_bytes, &p.signature)
    {
        return Err(PacketError::BadOuterSignature);
    }
    if let Some(k) = expected_kit_key {
        if *k != p.header.kit_key {
            return Err(PacketError::WrongKit {
                expected: k.to_string(),
                found: p.header.kit_key.to_string(),
            });
        }
    }
    let actual = (bytes.len() - p.payload_offset) as u64;
    let expected = p.header.payload_length;
    if actual < expected {
        return Err(PacketError::TruncatedPayload { expected, actual });
    }
    if actual > expected {
        return Err(PacketError::TrailingBytes { expected, actual });
    }
    let digest = hex::encode(Sha256::digest(&bytes[p.payload_offset..]));
    if digest != p.header.payload_sha256 {
        return Err(PacketError::PayloadHash);
    }
    Ok(p)
}

/// Reads a packet file and verifies it (see [`verify`]).
pub fn verify_file(
    path: &Path,
    expected_kit_key: Option<&PublicKey>,
) -> Result<Prelude, PacketError> {
    let bytes = read_file(path)?;
    verify(&bytes, expected_kit_key)
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, PacketError> {
    std::fs::read(path).map_err(|source| PacketError::Io {
        what: "cannot read packet",
        path: path.into(),
        source,
    })
}

/// A packet's decrypted and fully verified content, in memory.
#[derive(Debug)]
pub struct Contents {
    pub prelude: Prelude,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub signature: [u8; 64],
    /// (name, bytes) in archive order, every one listed in the manifest with a matching hash.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Upper bound on the decrypted archive, to stop a hostile packet from exhausting memory.
pub const MAX_ARCHIVE_BYTES: u64 = 1 << 30;

/// Verifies the outer layer, decrypts with `identities`, and verifies the inner signature and every
/// file's SHA-256. Nothing is written anywhere.
pub fn decrypt(
    bytes: &[u8],
    identities: &[age::x25519::Identity],
    expected_kit_key: Option<&PublicKey>,
) -> Result<Contents, PacketError> {
    let prelude = verify(bytes, expected_kit_key)?;
    let payload = &bytes[prelude.payload_offset..];
    let tar = decrypt_payload(payload, identities, &prelude.header.recipients)?;
    let (manifest_bytes, signature, files) = read_archive(&tar)?;
    if !prelude
        .header
        .kit_key
        .verify(INNER_DOMAIN, &manifest_bytes, &signature)
    {
        return Err(PacketError::BadInnerSignature);
    }
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| PacketError::BadManifest(e.to_string()))?;
    manifest.check_against(&prelude.header)?;
    check_files(&manifest, &files)?;
    Ok(Contents {
        prelude,
        manifest,
        manifest_bytes,
        signature,
        files,
    })
}

fn decrypt_payload(
    payload: &[u8],
    identities: &[age::x25519::Identity],
    packet_key_ids: &[String],
) -> Result<Vec<u8>, PacketError> {
    let dec = age::Decryptor::new(payload).map_err(|e| PacketError::Decrypt(e.to_string()))?;
    let mut reader = dec
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => PacketError::WrongKey {
                packet: packet_key_ids.join(", "),
                identity: identities
                    .iter()
                    .map(|i| recipient_key_id(&i.to_public().to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            other => PacketError::Decrypt(other.to_string()),
        })?;
    let mut tar = Vec::with_capacity(payload.len());
    (&mut reader)
        .take(MAX_ARCHIVE_BYTES + 1)
        .read_to_end(&mut tar)
        .map_err(|e| PacketError::Decrypt(e.to_string()))?;
    if tar.len() as u64 > MAX_ARCHIVE_BYTES {
        return Err(PacketError::BadArchive("archive larger than 1 GiB".into()));
    }
    Ok(tar)
}

type Archive = (Vec<u8>, [u8; 64], Vec<(String, Vec<u8>)>);

/// Reads the payload archive: `manifest.json`, `manifest.sig`, then plain files with safe names.
/// Any other entry type, a path with a directory or `..`, or a duplicate name is rejected.
pub fn read_archive(tar: &[u8]) -> Result<Archive, PacketError> {
    let bad = |m: String| PacketError::BadArchive(m);
    let mut archive = tar::Archive::new(tar);
    let mut manifest = None;
    let mut signature = None;
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let entries = archive.entries().map_err(|e| bad(e.to_string()))?;
    for (index, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(bad(format!("entry {raw_name:?} is not a regular file")));
        }
        let allowed = match index {
            0 => raw_name == MANIFEST_NAME,
            1 => raw_name == SIGNATURE_NAME,
            _ => valid_file_name(&raw_name),
        };
        if !allowed {
            return Err(bad(if raw_name.contains('/') || raw_name.contains("..") {
                format!("path traversal: entry {raw_name:?} is not a plain file name")
            } else if RESERVED_NAMES.contains(&raw_name.as_str()) {
                format!("entry {raw_name:?} at position {} takes a name reserved for jemput's own files", index + 1)
            } else {
                format!("unexpected entry {raw_name:?} at position {}", index + 1)
            }));
        }
        if !seen.insert(raw_name.clone()) {
            return Err(bad(format!("duplicate entry {raw_name:?}")));
        }
        let size = entry.header().size().map_err(|e| bad(e.to_string()))?;
        if size > MAX_ARCHIVE_BYTES {
            return Err(bad(format!("entry {raw_name:?} claims {size} bytes")));
        }
        let mut data = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("{raw_name}: {e}")))?;
        match index {
            0 => manifest = Some(data),
            1 => {
                signature = Some(
                    <[u8; 64]>::try_from(data.as_slice())
                        .map_err(|_| bad("manifest.sig is not 64 bytes".into()))?,
                )
            }
            _ => files.push((raw_name, data)),
        }
    }
    match (manifest, signature) {
        (Some(m), Some(s)) => Ok((m, s, files)),
        _ => Err(bad("manifest.json and manifest.sig must come first".into())),
    }
}

fn check_files(manifest: &Manifest, files: &[(String, Vec<u8>)]) -> Result<(), PacketError> {
    for entry in &manifest.files {
        let Some((_, data)) = files.iter().find(|(n, _)| *n == entry.name) else {
            return Err(PacketError::MissingFile(entry.name.clone()));
        };
        if data.len() as u64 != entry.size || hex::encode(Sha256::digest(data)) != entry.sha256 {
            return Err(PacketError::FileHash(entry.name.clone()));
        }
    }
    for (name, _) in files {
        if !manifest.files.iter().any(|e| &e.name == name) {
            return Err(PacketError::UnlistedFile(name.clone()));
        }
    }
    Ok(())
}

/// Opens a packet into `out`: verify, decrypt, verify inner, then write everything to a temp
/// directory beside `out` and rename it into place. On any failure nothing appears at `out`.
pub fn open_to_dir(
    bytes: &[u8],
    identities: &[age::x25519::Identity],
    expected_kit_key: Option<&PublicKey>,
    out: &Path,
) -> Result<Contents, PacketError> {
    let io = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| PacketError::Io { what, path, source }
    };
    if out.exists() {
        let empty = out.is_dir()
            && std::fs::read_dir(out)
                .map_err(io("cannot read", out))?
                .next()
                .is_none();
        if !empty {
            return Err(PacketError::OutExists { path: out.into() });
        }
    }
    let contents = decrypt(bytes, identities, expected_kit_key)?;
    let parent = fsutil::parent_dir(out);
    fsutil::ensure_dir(&parent, 0o700).map_err(io("cannot create", &parent))?;
    let tmp: PathBuf = parent.join(format!(
        "{}open-{}",
        fsutil::TEMP_PREFIX,
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        fsutil::ensure_dir(&tmp, 0o700).map_err(io("cannot create", &tmp))?;
        let write = |name: &str, data: &[u8]| {
            let p = tmp.join(name);
            fsutil::write_atomic(&p, data, 0o600).map_err(io("cannot write", &p))
        };
        write(HEADER_NAME, &contents.prelude.header_bytes)?;
        write(MANIFEST_NAME, &contents.manifest_bytes)?;
        write(SIGNATURE_NAME, &contents.signature)?;
        for (name, data) in &contents.files {
            write(name, data)?;
        }
        if out.exists() {
            std::fs::remove_dir(out).map_err(io("cannot replace empty directory", out))?;
        }
        std::fs::rename(&tmp, out).map_err(io("cannot rename into", out))?;
        fsutil::sync_dir(&parent).map_err(io("cannot sync", &parent))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|()| contents)
}

//! Sealing: visit + files → manifest, inner signature, tar, age payload, signed header.

use std::io::Write;

use sha2::{Digest, Sha256};

use super::format::{encode_prelude, Header, EXTENSION, FORMAT_VERSION};
use super::manifest::{
    media_type_for, valid_file_name, FileEntry, Manifest, MANIFEST_NAME, SIGNATURE_NAME,
};
use super::PacketError;
use crate::keys::sign::{INNER_DOMAIN, OUTER_DOMAIN};
use crate::keys::{recipient_key_id, SigningKey};
use crate::visit::Visit;

/// One file to put in a packet.
#[derive(Clone)]
pub struct PacketFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for PacketFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PacketFile({}, {} bytes)", self.name, self.bytes.len())
    }
}

/// Who seals and for whom.
#[derive(Debug)]
pub struct SealParams<'a> {
    pub kit_id: &'a str,
    pub kit_key: &'a SigningKey,
    /// Office recipients, `age1…`.
    pub recipients: &'a [String],
    /// Refuse to seal a packet larger than this (estimated before encrypting).
    pub max_packet_bytes: u64,
}

/// A sealed packet, ready to be stored.
#[derive(Debug)]
pub struct Sealed {
    pub header: Header,
    pub bytes: Vec<u8>,
}

impl Sealed {
    /// The file name a store gives this packet.
    pub fn file_name(&self) -> String {
        format!("{}.{EXTENSION}", self.header.packet_id)
    }
}

/// age's chunk size and per-chunk tag; used to predict the payload size before encrypting.
const AGE_CHUNK: u64 = 64 * 1024;
/// Generous allowance for the age header (stanzas, grease, MAC) per recipient and in all.
const AGE_HEADER_ALLOWANCE: u64 = 512;

/// Predicts the packet size for a tar of `tar_len` bytes (an upper bound within a few hundred bytes).
pub fn estimate_size(tar_len: u64, recipients: usize) -> u64 {
    let chunks = tar_len.div_ceil(AGE_CHUNK).max(1);
    let payload = AGE_HEADER_ALLOWANCE * (recipients as u64 + 1) + 16 + tar_len + 16 * chunks;
    payload + 1024 // magic, length, header JSON, signature
}

/// Seals a visit and its files into a packet. Nothing touches the disk here.
pub fn seal(
    visit: &Visit,
    files: &[PacketFile],
    params: &SealParams<'_>,
) -> Result<Sealed, PacketError> {
    if params.recipients.is_empty() {
        return Err(PacketError::NoRecipients);
    }
    let recipients: Vec<age::x25519::Recipient> = params
        .recipients
        .iter()
        .map(|r| crate::keys::parse_recipient(r).map_err(|e| PacketError::Encrypt(e.to_string())))
        .collect::<Result<_, _>>()?;

    let problems = visit.readiness();
    let mut problems: Vec<String> = problems.into_iter().map(|p| p.to_string()).collect();
    let referenced = visit.referenced_files();
    for name in &referenced {
        if !files.iter().any(|f| &f.name == name) {
            problems.push(format!("capture file {name} is missing from the draft"));
        }
    }
    for f in files {
        if !valid_file_name(&f.name) {
            problems.push(format!("file name {:?} is not allowed in a packet", f.name));
        } else if !referenced.contains(&f.name) {
            problems.push(format!("file {} is not referenced by any capture", f.name));
        }
    }
    if !problems.is_empty() {
        return Err(PacketError::Incomplete(problems));
    }

    let packet_id = uuid::Uuid::new_v4().to_string();
    let now = jiff::Timestamp::now();
    let kit_key = params.kit_key.public();
    let hashes = sha256_each(files);
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        packet_id: packet_id.clone(),
        kit_id: params.kit_id.to_string(),
        kit_key,
        sealed_at: now,
        software: format!("jemput {}", env!("CARGO_PKG_VERSION")),
        visit: visit.clone(),
        files: files
            .iter()
            .zip(hashes)
            .map(|(f, sha256)| FileEntry {
                name: f.name.clone(),
                media_type: media_type_for(&f.name).to_string(),
                size: f.bytes.len() as u64,
                sha256,
            })
            .collect(),
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| PacketError::BadManifest(e.to_string()))?;
    let inner_sig = params.kit_key.sign(INNER_DOMAIN, &manifest_bytes);

    let tar = build_tar(&manifest_bytes, &inner_sig, files, now.as_second())?;
    let estimated = estimate_size(tar.len() as u64, recipients.len());
    if estimated > params.max_packet_bytes {
        return Err(PacketError::TooLarge {
            estimated,
            max: params.max_packet_bytes,
        });
    }

    let (payload, payload_sha256) = encrypt_and_hash(&recipients, &tar)?;
    let header = Header {
        format_version: FORMAT_VERSION,
        packet_id,
        kit_id: params.kit_id.to_string(),
        kit_key,
        created_at: now,
        recipients: params
            .recipients
            .iter()
            .map(|r| recipient_key_id(r))
            .collect(),
        payload_length: payload.len() as u64,
        payload_sha256,
    };
    let header_bytes =
        serde_json::to_vec(&header).map_err(|e| PacketError::BadHeader(e.to_string()))?;
    let outer_sig = params.kit_key.sign(OUTER_DOMAIN, &header_bytes);
    let mut bytes = encode_prelude(&header_bytes, &outer_sig);
    bytes.extend_from_slice(&payload);
    Ok(Sealed { header, bytes })
}

fn build_tar(
    manifest: &[u8],
    signature: &[u8; 64],
    files: &[PacketFile],
    mtime: i64,
) -> Result<Vec<u8>, PacketError> {
    let total: usize = files.iter().map(|f| f.bytes.len() + 1024).sum();
    let mut b = tar::Builder::new(Vec::with_capacity(total + manifest.len() + 4096));
    let entries = [(MANIFEST_NAME, manifest), (SIGNATURE_NAME, &signature[..])]
        .into_iter()
        .chain(files.iter().map(|f| (f.name.as_str(), f.bytes.as_slice())));
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime.max(0) as u64);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data)
            .map_err(|e| PacketError::BadArchive(e.to_string()))?;
    }
    b.into_inner()
        .map_err(|e| PacketError::BadArchive(e.to_string()))
}

/// SHA-256 (hex) of every file, spread over the available cores (a visit is ~2.5 MB of images).
fn sha256_each(files: &[PacketFile]) -> Vec<String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if threads < 2 || files.len() < 2 {
        return files
            .iter()
            .map(|f| hex::encode(Sha256::digest(&f.bytes)))
            .collect();
    }
    // Deal files to workers largest first, each to the least loaded one.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(files[i].bytes.len()));
    let mut bins: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); threads];
    for i in order {
        let bin = bins
            .iter_mut()
            .min_by_key(|b| b.0)
            .expect("at least one bin");
        bin.0 += files[i].bytes.len();
        bin.1.push(i);
    }
    let mut out = vec![String::new(); files.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = bins
            .into_iter()
            .map(|(_, idx)| {
                s.spawn(move || {
                    idx.into_iter()
                        .map(|i| (i, hex::encode(Sha256::digest(&files[i].bytes))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, hash) in h.join().expect("hashing thread") {
                out[i] = hash;
            }
        }
    });
    out
}

/// A writer that keeps the bytes and hands a copy of each write to a hashing thread.
struct TeeToHasher<'a> {
    out: &'a mut Vec<u8>,
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl Write for TeeToHasher<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(buf);
        self.tx
            .send(buf.to_vec())
            .map_err(|_| std::io::Error::other("hashing thread stopped"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encrypts to the recipients while a second thread hashes the ciphertext as it is produced.
fn encrypt_and_hash(
    recipients: &[age::x25519::Recipient],
    plaintext: &[u8],
) -> Result<(Vec<u8>, String), PacketError> {
    let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / 2048 + 1024);
    let digest = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
        let hasher = s.spawn(move || {
            let mut h = Sha256::new();
            for chunk in rx {
                h.update(&chunk);
            }
            hex::encode(h.finalize())
        });
        let result = encrypt_into(recipients, plaintext, TeeToHasher { out: &mut out, tx });
        let digest = hasher.join().expect("hashing thread");
        result.map(|()| digest)
    })?;
    Ok((out, digest))
}

fn encrypt_into(
    recipients: &[age::x25519::Recipient],
    plaintext: &[u8],
    sink: impl Write,
) -> Result<(), PacketError> {
    let enc = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .map_err(|e| PacketError::Encrypt(e.to_string()))?;
    let io = |e: std::io::Error| PacketError::Encrypt(e.to_string());
    let mut w = enc.wrap_output(sink).map_err(io)?;
    w.write_all(plaintext).map_err(io)?;
    w.finish().map_err(io)?;
    Ok(())
}

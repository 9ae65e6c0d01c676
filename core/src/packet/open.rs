//! Verifying and opening packets: outer checks without keys, then decrypt, inner checks, extract.
//!
//! Every way in — [`verify`] (outer checks only), [`check_contents`] (everything, keeping no
//! file), [`decrypt`] (everything, files in memory), [`open_to_dir`] (everything, files written
//! out) and [`read_archive`] — runs the one streaming pass of this module over a [`Read`]: the
//! prelude is parsed, the payload is counted and hashed as it flows into the age decryptor, the
//! archive's entries are read as they come out of it, and each file is hashed as it streams past
//! (and dropped, kept or written, as the caller asks). Neither the packet nor its plaintext is
//! ever held whole.
//!
//! The checks are the same whichever way, and when several fail the error is the same as if they
//! ran one after the other over the whole packet: the prelude and the outer signature (and the
//! expected kit key) first; then the payload's length and SHA-256 against the signed header (the
//! rest of the payload is read through even when decryption or the archive failed on the way, so
//! that damage is named as tampering); then the decryption (the whole plaintext is read through,
//! so a failed authentication anywhere in it comes before an archive error) and the 1 GiB bound;
//! then the archive's entries; then the inner signature, the manifest against the header, and
//! every file's size and SHA-256 against the manifest.

use std::collections::HashSet;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::format::{parse_prelude, Prelude, MAGIC, MAX_HEADER_LEN};
use super::manifest::{
    valid_file_name, Manifest, HEADER_NAME, MANIFEST_NAME, RESERVED_NAMES, SIGNATURE_NAME,
};
use super::PacketError;
use crate::fsutil;
use crate::keys::sign::{INNER_DOMAIN, OUTER_DOMAIN};
use crate::keys::{recipient_key_id, PublicKey};

/// Blocks the payload is read in: age's chunk size, so that each read feeds it one chunk.
const BLOCK: usize = 64 * 1024;

/// Checks what can be checked without a key: magic, header, outer signature, payload length and
/// SHA-256, and (when given) that the kit key is the expected one.
pub fn verify(bytes: &[u8], expected_kit_key: Option<&PublicKey>) -> Result<Prelude, PacketError> {
    verify_reader(bytes, expected_kit_key)
}

/// [`verify`] of a packet read as it streams (memory does not grow with the packet).
pub fn verify_reader(
    packet: impl Read,
    expected_kit_key: Option<&PublicKey>,
) -> Result<Prelude, PacketError> {
    let (prelude, mut payload) = outer(packet, expected_kit_key)?;
    payload.finish(&prelude)?;
    Ok(prelude)
}

/// Reads a packet file and verifies it (see [`verify`]), in blocks.
pub fn verify_file(
    path: &Path,
    expected_kit_key: Option<&PublicKey>,
) -> Result<Prelude, PacketError> {
    let io = |source| PacketError::Io {
        what: "cannot read packet",
        path: path.into(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    verify_reader(file, expected_kit_key).map_err(|e| match e {
        PacketError::Read(source) => io(source),
        e => e,
    })
}

/// A packet decrypted and fully verified, without its files' bytes ([`check_contents`],
/// [`open_to_dir`]).
#[derive(Debug)]
pub struct Verified {
    pub prelude: Prelude,
    pub manifest: Manifest,
    pub manifest_bytes: Vec<u8>,
    pub signature: [u8; 64],
    /// The files' names in archive order, every one listed in the manifest with a matching hash.
    pub files: Vec<String>,
}

/// A packet's decrypted and fully verified content, in memory ([`decrypt`]).
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
/// file's SHA-256, reading `packet` once as it streams and keeping none of the files: what the hub
/// does before it signs a receipt. Nothing is written anywhere; memory stays a few blocks, whatever
/// the packet's size.
pub fn check_contents(
    packet: impl Read,
    identities: &[age::x25519::Identity],
    expected_kit_key: Option<&PublicKey>,
) -> Result<Verified, PacketError> {
    open_stream(packet, identities, expected_kit_key, &mut Sink::Discard)
}

/// Verifies the outer layer, decrypts with `identities`, and verifies the inner signature and every
/// file's SHA-256, keeping the files in memory. Nothing is written anywhere.
pub fn decrypt(
    bytes: &[u8],
    identities: &[age::x25519::Identity],
    expected_kit_key: Option<&PublicKey>,
) -> Result<Contents, PacketError> {
    let mut sink = Sink::Keep(Vec::new());
    let v = open_stream(bytes, identities, expected_kit_key, &mut sink)?;
    let Sink::Keep(files) = sink else {
        unreachable!("the sink stays what it was made")
    };
    Ok(Contents {
        prelude: v.prelude,
        manifest: v.manifest,
        manifest_bytes: v.manifest_bytes,
        signature: v.signature,
        files,
    })
}

/// The rest of a packet after its prelude: the bytes read past it, then the reader.
type AfterPrelude<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// The prelude read and its outer signature (and kit key) checked; the payload left to read.
fn outer<R: Read>(
    mut packet: R,
    expected_kit_key: Option<&PublicKey>,
) -> Result<(Prelude, Payload<AfterPrelude<R>>), PacketError> {
    let (prelude, rest) = read_prelude(&mut packet)?;
    if !prelude
        .header
        .kit_key
        .verify(OUTER_DOMAIN, &prelude.header_bytes, &prelude.signature)
    {
        return Err(PacketError::BadOuterSignature);
    }
    if let Some(k) = expected_kit_key {
        if *k != prelude.header.kit_key {
            return Err(PacketError::WrongKit {
                expected: k.to_string(),
                found: prelude.header.kit_key.to_string(),
            });
        }
    }
    Ok((prelude, Payload::new(io::Cursor::new(rest).chain(packet))))
}

/// Reads no more of `packet` than its prelude needs and parses it with [`parse_prelude`], so the
/// errors are those of the whole file. Returns the prelude and any bytes read past it.
fn read_prelude(packet: &mut impl Read) -> Result<(Prelude, Vec<u8>), PacketError> {
    let mut buf = Vec::with_capacity(512);
    // The magic line is looked for in the first 32 bytes (see `parse_prelude`).
    fill(packet, &mut buf, 32)?;
    if buf.starts_with(MAGIC) && buf.len() >= MAGIC.len() + 4 {
        let at = MAGIC.len();
        let len = u32::from_be_bytes(buf[at..at + 4].try_into().expect("4 bytes"));
        if len <= MAX_HEADER_LEN {
            fill(packet, &mut buf, at + 4 + len as usize + 64)?;
        }
    }
    let prelude = parse_prelude(&buf)?;
    let rest = buf.split_off(prelude.payload_offset);
    Ok((prelude, rest))
}

/// Reads into `buf` until it holds `len` bytes or the input ends.
fn fill(input: &mut impl Read, buf: &mut Vec<u8>, len: usize) -> Result<(), PacketError> {
    let want = len.saturating_sub(buf.len()) as u64;
    input
        .take(want)
        .read_to_end(buf)
        .map(drop)
        .map_err(PacketError::Read)
}

/// The payload as it is read: counted and hashed, whoever reads it (the age decryptor, or
/// [`Payload::finish`] reading the rest).
struct Payload<R> {
    inner: R,
    len: u64,
    hash: Sha256,
    /// The first error reading the packet itself (not the decryption's): it is reported as such.
    failed: Option<io::Error>,
}

impl<R: Read> Payload<R> {
    fn new(inner: R) -> Payload<R> {
        Payload {
            inner,
            len: 0,
            hash: Sha256::new(),
            failed: None,
        }
    }

    /// Reads the payload to its end and checks its length and SHA-256 against the header.
    fn finish(&mut self, prelude: &Prelude) -> Result<(), PacketError> {
        if self.failed.is_none() {
            let mut buf = vec![0u8; BLOCK];
            while !matches!(self.read(&mut buf), Ok(0) | Err(_)) {}
        }
        if let Some(e) = self.failed.take() {
            return Err(PacketError::Read(e));
        }
        let expected = prelude.header.payload_length;
        let actual = self.len;
        if actual < expected {
            return Err(PacketError::TruncatedPayload { expected, actual });
        }
        if actual > expected {
            return Err(PacketError::TrailingBytes { expected, actual });
        }
        let digest = hex::encode(std::mem::take(&mut self.hash).finalize());
        if digest != prelude.header.payload_sha256 {
            return Err(PacketError::PayloadHash);
        }
        Ok(())
    }
}

impl<R: Read> Read for Payload<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.hash.update(&buf[..n]);
                    self.len += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let again = io::Error::new(e.kind(), e.to_string());
                    self.failed = Some(e);
                    return Err(again);
                }
            }
        }
    }
}

/// The decrypted archive as it comes out of age: counted, bounded by [`MAX_ARCHIVE_BYTES`], and
/// remembering why it stopped, which the archive reader above it only sees as an I/O error.
struct Plaintext<R> {
    inner: R,
    len: u64,
    failed: Option<Stop>,
}

enum Stop {
    Decrypt(String),
    TooLarge,
}

impl<R: Read> Plaintext<R> {
    /// Reads the plaintext to its end (age authenticates its last chunk there): a decryption that
    /// failed anywhere, then an archive over the bound, come before anything the archive said.
    fn finish(&mut self) -> Result<(), PacketError> {
        let mut buf = vec![0u8; BLOCK];
        while !matches!(self.read(&mut buf), Ok(0) | Err(_)) {}
        match self.failed.take() {
            None => Ok(()),
            Some(Stop::Decrypt(why)) => Err(PacketError::Decrypt(why)),
            Some(Stop::TooLarge) => {
                Err(PacketError::BadArchive("archive larger than 1 GiB".into()))
            }
        }
    }
}

impl<R: Read> Read for Plaintext<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let stopped = |s: &Stop| {
            io::Error::other(match s {
                Stop::Decrypt(why) => why.clone(),
                Stop::TooLarge => "archive larger than 1 GiB".into(),
            })
        };
        if let Some(s) = &self.failed {
            return Err(stopped(s));
        }
        let n = loop {
            match self.inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let s = Stop::Decrypt(e.to_string());
                    let err = stopped(&s);
                    self.failed = Some(s);
                    return Err(err);
                }
            }
        };
        self.len += n as u64;
        if self.len > MAX_ARCHIVE_BYTES {
            self.failed = Some(Stop::TooLarge);
            return Err(stopped(&Stop::TooLarge));
        }
        Ok(n)
    }
}

/// What becomes of each payload file's bytes as they stream out of the archive. Whatever it is,
/// every file is hashed on the way and checked against the manifest at the end.
enum Sink<'a> {
    /// Dropped: only the hash and size are kept ([`check_contents`]).
    Discard,
    /// Kept in memory, (name, bytes) in archive order ([`decrypt`], [`read_archive`]).
    Keep(Vec<(String, Vec<u8>)>),
    /// Written into this directory, each file synced ([`open_to_dir`]'s temporary directory).
    Dir(&'a Path),
}

/// Where one file's bytes go while it streams.
enum Out {
    Nowhere,
    Memory(Vec<u8>),
    File(std::fs::File, PathBuf),
}

impl Sink<'_> {
    fn start(&mut self, name: &str, size: u64) -> Result<Out, PacketError> {
        Ok(match self {
            Sink::Discard => Out::Nowhere,
            // The size is what the entry claims: trust it only so far.
            Sink::Keep(_) => Out::Memory(Vec::with_capacity(size.min(16 << 20) as usize)),
            Sink::Dir(dir) => {
                use std::os::unix::fs::OpenOptionsExt;
                let path = dir.join(name);
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io_error("cannot write", &path))?;
                Out::File(file, path)
            }
        })
    }

    fn end(&mut self, name: &str, out: Out) -> Result<(), PacketError> {
        match (self, out) {
            (Sink::Keep(files), Out::Memory(data)) => files.push((name.to_string(), data)),
            (_, Out::File(file, path)) => {
                file.sync_data().map_err(io_error("cannot sync", &path))?
            }
            _ => {}
        }
        Ok(())
    }
}

impl Out {
    fn write(&mut self, data: &[u8]) -> Result<(), PacketError> {
        match self {
            Out::Nowhere => Ok(()),
            Out::Memory(v) => {
                v.extend_from_slice(data);
                Ok(())
            }
            Out::File(f, path) => f.write_all(data).map_err(io_error("cannot write", path)),
        }
    }
}

fn io_error(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PacketError {
    let path = path.to_path_buf();
    move |source| PacketError::Io { what, path, source }
}

/// A payload file as it streamed past: its name, size and SHA-256 (lowercase hex).
struct Seen {
    name: String,
    size: u64,
    sha256: String,
}

/// The archive read: the manifest's bytes, the inner signature, and every other file seen.
struct Walked {
    manifest_bytes: Vec<u8>,
    signature: [u8; 64],
    files: Vec<Seen>,
}

/// The whole pass: prelude and outer checks, then the payload through age and the archive into
/// `sink`, then the payload's length and hash, then the inner checks (in the order the module's
/// documentation gives).
fn open_stream(
    packet: impl Read,
    identities: &[age::x25519::Identity],
    expected_kit_key: Option<&PublicKey>,
    sink: &mut Sink<'_>,
) -> Result<Verified, PacketError> {
    let (prelude, mut payload) = outer(packet, expected_kit_key)?;
    let walked = open_payload(&mut payload, identities, &prelude.header.recipients, sink);
    // Tampering (or a short read) comes first, whatever decryption made of the bytes.
    payload.finish(&prelude)?;
    let walked = walked?;
    if !prelude
        .header
        .kit_key
        .verify(INNER_DOMAIN, &walked.manifest_bytes, &walked.signature)
    {
        return Err(PacketError::BadInnerSignature);
    }
    let manifest: Manifest = serde_json::from_slice(&walked.manifest_bytes)
        .map_err(|e| PacketError::BadManifest(e.to_string()))?;
    manifest.check_against(&prelude.header)?;
    check_files(&manifest, &walked.files)?;
    Ok(Verified {
        prelude,
        manifest,
        manifest_bytes: walked.manifest_bytes,
        signature: walked.signature,
        files: walked.files.into_iter().map(|f| f.name).collect(),
    })
}

/// Decrypts the payload as it is read and walks the archive inside.
fn open_payload(
    payload: &mut impl Read,
    identities: &[age::x25519::Identity],
    packet_key_ids: &[String],
    sink: &mut Sink<'_>,
) -> Result<Walked, PacketError> {
    let dec = age::Decryptor::new_buffered(BufReader::with_capacity(BLOCK, payload))
        .map_err(|e| PacketError::Decrypt(e.to_string()))?;
    let reader = dec
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
    let mut plain = Plaintext {
        inner: reader,
        len: 0,
        failed: None,
    };
    let walked = walk_archive(&mut plain, sink);
    plain.finish()?;
    walked
}

/// Reads the payload archive: `manifest.json`, `manifest.sig`, then plain files with safe names.
/// Any other entry type, a path with a directory or `..`, or a duplicate name is rejected.
/// Returns the manifest's bytes, the signature, and the files (name, bytes) in archive order; no
/// file is checked against the manifest here (see [`decrypt`]).
pub fn read_archive(tar: &[u8]) -> Result<Archive, PacketError> {
    let mut sink = Sink::Keep(Vec::new());
    let walked = walk_archive(tar, &mut sink)?;
    let Sink::Keep(files) = sink else {
        unreachable!("the sink stays what it was made")
    };
    Ok((walked.manifest_bytes, walked.signature, files))
}

type Archive = (Vec<u8>, [u8; 64], Vec<(String, Vec<u8>)>);

/// The archive's entries as they come: names and order checked before any byte of an entry is
/// read (so nothing is written under a bad name), each file hashed as it streams into `sink`.
fn walk_archive(tar: impl Read, sink: &mut Sink<'_>) -> Result<Walked, PacketError> {
    let bad = |m: String| PacketError::BadArchive(m);
    let mut archive = tar::Archive::new(tar);
    let mut manifest = None;
    let mut signature = None;
    let mut files = Vec::new();
    let mut seen = HashSet::new();
    let mut buf = vec![0u8; BLOCK];
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
        let read_error = |e: io::Error| bad(format!("{raw_name}: {e}"));
        match index {
            0 | 1 => {
                // jemput's own two entries are small; they are needed whole for the checks.
                let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
                entry.read_to_end(&mut data).map_err(read_error)?;
                if index == 0 {
                    manifest = Some(data);
                } else {
                    signature = Some(
                        <[u8; 64]>::try_from(data.as_slice())
                            .map_err(|_| bad("manifest.sig is not 64 bytes".into()))?,
                    );
                }
            }
            _ => {
                let mut out = sink.start(&raw_name, size)?;
                let mut hash = Sha256::new();
                let mut len = 0u64;
                loop {
                    let n = match entry.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(read_error(e)),
                    };
                    hash.update(&buf[..n]);
                    len += n as u64;
                    out.write(&buf[..n])?;
                }
                sink.end(&raw_name, out)?;
                files.push(Seen {
                    name: raw_name,
                    size: len,
                    sha256: hex::encode(hash.finalize()),
                });
            }
        }
    }
    match (manifest, signature) {
        (Some(manifest_bytes), Some(signature)) => Ok(Walked {
            manifest_bytes,
            signature,
            files,
        }),
        _ => Err(bad("manifest.json and manifest.sig must come first".into())),
    }
}

fn check_files(manifest: &Manifest, files: &[Seen]) -> Result<(), PacketError> {
    for entry in &manifest.files {
        let Some(seen) = files.iter().find(|f| f.name == entry.name) else {
            return Err(PacketError::MissingFile(entry.name.clone()));
        };
        if seen.size != entry.size || seen.sha256 != entry.sha256 {
            return Err(PacketError::FileHash(entry.name.clone()));
        }
    }
    for seen in files {
        if !manifest.files.iter().any(|e| e.name == seen.name) {
            return Err(PacketError::UnlistedFile(seen.name.clone()));
        }
    }
    Ok(())
}

/// Opens a packet into `out`: verify, decrypt, verify inner, then everything appears at `out` at
/// once. On any failure nothing appears at `out`. See [`open_reader_to_dir`].
pub fn open_to_dir(
    bytes: &[u8],
    identities: &[age::x25519::Identity],
    expected_kit_key: Option<&PublicKey>,
    out: &Path,
) -> Result<Verified, PacketError> {
    open_reader_to_dir(bytes, identities, expected_kit_key, out)
}

/// Opens a packet read as it streams into `out`: the files are written, each as it comes out of
/// the archive, into a temporary directory beside `out`, which is renamed into place only once
/// every check holds (and removed otherwise). On any failure nothing appears at `out`.
pub fn open_reader_to_dir(
    packet: impl Read,
    identities: &[age::x25519::Identity],
    expected_kit_key: Option<&PublicKey>,
    out: &Path,
) -> Result<Verified, PacketError> {
    if out.exists() {
        let empty = out.is_dir()
            && std::fs::read_dir(out)
                .map_err(io_error("cannot read", out))?
                .next()
                .is_none();
        if !empty {
            return Err(PacketError::OutExists { path: out.into() });
        }
    }
    let parent = fsutil::parent_dir(out);
    // The directories made here for `out` (innermost first), removed again on failure.
    let made: Vec<PathBuf> = parent
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    fsutil::ensure_dir(&parent, 0o700).map_err(io_error("cannot create", &parent))?;
    let tmp: PathBuf = parent.join(format!(
        "{}open-{}",
        fsutil::TEMP_PREFIX,
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        fsutil::ensure_dir(&tmp, 0o700).map_err(io_error("cannot create", &tmp))?;
        let v = open_stream(packet, identities, expected_kit_key, &mut Sink::Dir(&tmp))?;
        let mut own = Sink::Dir(&tmp);
        for (name, data) in [
            (HEADER_NAME, &v.prelude.header_bytes[..]),
            (MANIFEST_NAME, &v.manifest_bytes[..]),
            (SIGNATURE_NAME, &v.signature[..]),
        ] {
            let mut o = own.start(name, data.len() as u64)?;
            o.write(data)?;
            own.end(name, o)?;
        }
        fsutil::sync_dir(&tmp).map_err(io_error("cannot sync", &tmp))?;
        if out.exists() {
            std::fs::remove_dir(out).map_err(io_error("cannot replace empty directory", out))?;
        }
        std::fs::rename(&tmp, out).map_err(io_error("cannot rename into", out))?;
        fsutil::sync_dir(&parent).map_err(io_error("cannot sync", &parent))?;
        Ok(v)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        for d in &made {
            // Only if still empty: never anything another process put there meanwhile.
            let _ = std::fs::remove_dir(d);
        }
    }
    result
}

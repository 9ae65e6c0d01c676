//! Sealing: visit + files → manifest, inner signature, tar, age payload, signed header.

use std::cell::RefCell;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};

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

/// Seals a visit and its files into a packet in memory. Nothing touches the disk here.
///
/// The kit seals straight into its queue with [`prepare`] and [`Prepared::write_to`] instead, which
/// streams the payload to the packet file as it is encrypted.
pub fn seal(
    visit: &Visit,
    files: &[PacketFile],
    params: &SealParams<'_>,
) -> Result<Sealed, PacketError> {
    prepare(visit, files, params)?.seal_in_memory()
}

/// A visit checked, hashed, described by its signed manifest and ready to be encrypted: the first
/// half of sealing. Its packet id is fixed, so a caller can record it before any byte is written.
pub struct Prepared<'a> {
    packet_id: String,
    created_at: jiff::Timestamp,
    kit_id: String,
    kit_key: &'a SigningKey,
    recipient_ids: Vec<String>,
    recipients: Vec<age::x25519::Recipient>,
    manifest_bytes: Vec<u8>,
    inner_sig: [u8; 64],
    files: &'a [PacketFile],
    tar_len: u64,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("packet_id", &self.packet_id)
            .field("files", &self.files.len())
            .field("tar_len", &self.tar_len)
            .finish_non_exhaustive()
    }
}

/// Checks a visit and its files, hashes the files, writes and signs the manifest, and checks the
/// packet size limit — everything of sealing except the encryption.
pub fn prepare<'a>(
    visit: &Visit,
    files: &'a [PacketFile],
    params: &SealParams<'a>,
) -> Result<Prepared<'a>, PacketError> {
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

    let tar_len = tar_length(
        [manifest_bytes.len(), inner_sig.len()]
            .into_iter()
            .chain(files.iter().map(|f| f.bytes.len())),
    );
    let estimated = estimate_size(tar_len, recipients.len());
    if estimated > params.max_packet_bytes {
        return Err(PacketError::TooLarge {
            estimated,
            max: params.max_packet_bytes,
        });
    }
    Ok(Prepared {
        packet_id,
        created_at: now,
        kit_id: params.kit_id.to_string(),
        kit_key: params.kit_key,
        recipient_ids: params
            .recipients
            .iter()
            .map(|r| recipient_key_id(r))
            .collect(),
        recipients,
        manifest_bytes,
        inner_sig,
        files,
        tar_len,
    })
}

impl Prepared<'_> {
    /// The id the packet will have.
    pub fn packet_id(&self) -> &str {
        &self.packet_id
    }

    fn header(&self, payload_length: u64, payload_sha256: String) -> Header {
        Header {
            format_version: FORMAT_VERSION,
            packet_id: self.packet_id.clone(),
            kit_id: self.kit_id.clone(),
            kit_key: self.kit_key.public(),
            created_at: self.created_at,
            recipients: self.recipient_ids.clone(),
            payload_length,
            payload_sha256,
        }
    }

    /// The prelude (magic, length, signed header JSON, outer signature) for a header.
    fn prelude(&self, header: &Header) -> Result<Vec<u8>, PacketError> {
        let header_bytes =
            serde_json::to_vec(header).map_err(|e| PacketError::BadHeader(e.to_string()))?;
        let outer_sig = self.kit_key.sign(OUTER_DOMAIN, &header_bytes);
        Ok(encode_prelude(&header_bytes, &outer_sig))
    }

    fn mtime(&self) -> u64 {
        self.created_at.as_second().max(0) as u64
    }

    /// Encrypts in memory: the whole packet as bytes.
    pub fn seal_in_memory(self) -> Result<Sealed, PacketError> {
        let tar = write_tar(
            Vec::with_capacity(self.tar_len as usize),
            &self.manifest_bytes,
            &self.inner_sig,
            self.files,
            self.mtime(),
        )
        .map_err(|e| PacketError::BadArchive(e.to_string()))?;
        let (payload, payload_sha256) = encrypt_and_hash(&self.recipients, &tar)?;
        let header = self.header(payload.len() as u64, payload_sha256);
        let mut bytes = self.prelude(&header)?;
        bytes.extend_from_slice(&payload);
        Ok(Sealed { header, bytes })
    }

    /// Seals into `file`, a new empty file: the tar is streamed through the encryption and the
    /// ciphertext written and hashed as it is produced, with write-back of each written stretch
    /// started at once, so that the caller's final `fdatasync` finds little left to flush.
    ///
    /// The prelude goes first in the file but holds the payload's length and hash; the length is
    /// known in advance (age's header is written before any plaintext, and every 64 KiB chunk adds
    /// a 16-byte tag), so the payload is written after a prelude-sized gap and the prelude last.
    /// Should the length come out other than predicted, the file is rewritten from an in-memory
    /// seal of the same packet. Returns the header and the packet's size in bytes.
    pub fn write_to(self, file: &mut File) -> Result<(Header, u64), PacketError> {
        let io = |e: std::io::Error| PacketError::Write(e);
        let enc = age::Encryptor::with_recipients(
            self.recipients.iter().map(|r| r as &dyn age::Recipient),
        )
        .map_err(|e| PacketError::Encrypt(e.to_string()))?;
        let state = RefCell::new(FileSink::new(&*file));
        let mut w = enc
            .wrap_output(SinkRef(&state))
            .map_err(|e| PacketError::Encrypt(e.to_string()))?;
        // Only age's header and nonce have been written so far: the payload length is now known.
        let chunks = self.tar_len.div_ceil(AGE_CHUNK).max(1);
        let predicted = state.borrow().buffered_len() + self.tar_len + AGE_TAG * chunks;
        let reserve = self.prelude(&self.header(predicted, "0".repeat(64)))?.len() as u64;
        state.borrow_mut().start_at(reserve).map_err(io)?;
        w = write_tar(
            w,
            &self.manifest_bytes,
            &self.inner_sig,
            self.files,
            self.mtime(),
        )
        .map_err(io)?;
        w.finish().map_err(io)?;
        let (written, payload_sha256) = state.into_inner().finish().map_err(io)?;

        let header = self.header(written, payload_sha256);
        let prelude = self.prelude(&header)?;
        if written != predicted || prelude.len() as u64 != reserve || FORCE_REWRITE.get() {
            tracing::warn!(
                predicted,
                written,
                "packet payload length differs from the prediction; rewriting the packet in memory"
            );
            REWRITES.set(REWRITES.get() + 1);
            file.set_len(0).map_err(io)?;
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            let sealed = self.seal_in_memory()?;
            file.write_all(&sealed.bytes).map_err(io)?;
            return Ok((sealed.header, sealed.bytes.len() as u64));
        }
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&prelude).map_err(io)?;
        Ok((header, reserve + written))
    }
}

/// age's per-chunk authentication tag.
const AGE_TAG: u64 = 16;
/// Start write-back after this many payload bytes.
const WRITEBACK_STRIDE: u64 = 512 * 1024;

thread_local! {
    /// Tests force the rewrite path of [`Prepared::write_to`] with this.
    static FORCE_REWRITE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// How often this thread took the rewrite path (tests check the prediction holds).
    static REWRITES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Makes [`Prepared::write_to`] on this thread take its rewrite path (for tests of that path).
#[doc(hidden)]
pub fn force_rewrite_for_tests(on: bool) {
    FORCE_REWRITE.set(on);
}

/// Where the ciphertext goes: buffered until [`FileSink::start_at`] (age's header), then written
/// to the file, hashed on a second thread and flushed in the background as it goes.
struct FileSink<'f> {
    file: &'f File,
    pending: Vec<u8>,
    started: bool,
    offset: u64,
    written: u64,
    flushed_to: u64,
    hasher: Option<PayloadHasher>,
}

impl<'f> FileSink<'f> {
    fn new(file: &'f File) -> Self {
        FileSink {
            file,
            pending: Vec::new(),
            started: false,
            offset: 0,
            written: 0,
            flushed_to: 0,
            hasher: None,
        }
    }

    fn buffered_len(&self) -> u64 {
        self.pending.len() as u64
    }

    fn start_at(&mut self, offset: u64) -> std::io::Result<()> {
        self.offset = offset;
        self.flushed_to = offset;
        self.started = true;
        self.hasher = Some(PayloadHasher::spawn());
        let pending = std::mem::take(&mut self.pending);
        self.put(&pending)
    }

    fn put(&mut self, buf: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.write_all_at(buf, self.offset + self.written)?;
        self.written += buf.len() as u64;
        if let Some(h) = &mut self.hasher {
            h.update(buf)?;
        }
        let end = self.offset + self.written;
        if end - self.flushed_to >= WRITEBACK_STRIDE {
            start_writeback(self.file, self.flushed_to, end - self.flushed_to);
            self.flushed_to = end;
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<(u64, String)> {
        let hasher = self
            .hasher
            .take()
            .ok_or_else(|| std::io::Error::other("payload writing never started"))?;
        Ok((self.written, hasher.finish()?))
    }
}

/// Asks the kernel to start writing a range back now (Linux starts write-back of dirty pages on
/// `POSIX_FADV_DONTNEED`), without waiting for it. Only an optimisation: errors are ignored.
fn start_writeback(file: &File, offset: u64, len: u64) {
    let _ = rustix::fs::fadvise(
        file,
        offset,
        std::num::NonZeroU64::new(len),
        rustix::fs::Advice::DontNeed,
    );
}

/// A `Write` for the age stream over the shared sink (the sink is re-armed between age's header
/// and its first chunk, while the stream writer holds this).
struct SinkRef<'s, 'f>(&'s RefCell<FileSink<'f>>);

impl Write for SinkRef<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut sink = self.0.borrow_mut();
        if sink.started {
            sink.put(buf)?;
        } else {
            sink.pending.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 on a second thread, fed copies of the ciphertext through a bounded channel; buffers
/// come back for reuse so that the stream does not allocate per chunk.
struct PayloadHasher {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<String>>,
}

impl PayloadHasher {
    fn spawn() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let (back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
        let thread = std::thread::spawn(move || {
            let mut h = Sha256::new();
            for chunk in rx {
                h.update(&chunk);
                let _ = back.send(chunk);
            }
            hex::encode(h.finalize())
        });
        PayloadHasher {
            tx: Some(tx),
            spare,
            thread: Some(thread),
        }
    }

    fn update(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let mut chunk = self.spare.try_recv().unwrap_or_default();
        chunk.clear();
        chunk.extend_from_slice(buf);
        self.tx
            .as_ref()
            .expect("hasher running")
            .send(chunk)
            .map_err(|_| std::io::Error::other("hashing thread stopped"))
    }

    fn finish(mut self) -> std::io::Result<String> {
        drop(self.tx.take());
        self.thread
            .take()
            .expect("hasher running")
            .join()
            .map_err(|_| std::io::Error::other("hashing thread panicked"))
    }
}

impl Drop for PayloadHasher {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Length of the ustar archive [`write_tar`] writes for entries of these sizes: a 512-byte header
/// per entry, the data padded to 512, and two zero blocks at the end. Names in a packet are at most
/// 64 bytes (see [`valid_file_name`]), so no entry needs a long-name extension.
fn tar_length(sizes: impl Iterator<Item = usize>) -> u64 {
    sizes
        .map(|n| 512 + (n as u64).div_ceil(512) * 512)
        .sum::<u64>()
        + 1024
}

fn write_tar<W: Write>(
    out: W,
    manifest: &[u8],
    signature: &[u8; 64],
    files: &[PacketFile],
    mtime: u64,
) -> std::io::Result<W> {
    let mut b = tar::Builder::new(out);
    let entries = [(MANIFEST_NAME, manifest), (SIGNATURE_NAME, &signature[..])]
        .into_iter()
        .chain(files.iter().map(|f| (f.name.as_str(), f.bytes.as_slice())));
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data)?;
    }
    b.into_inner()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::office;
    use crate::packet::open_to_dir;
    use crate::sample::{synthetic_visit, Plain, SampleOptions};

    #[test]
    fn tar_length_predicts_what_the_tar_builder_writes() {
        for sizes in [
            vec![0usize, 64],
            vec![1, 64, 511, 512, 513],
            vec![700, 64, 65_536, 1_000_003],
        ] {
            let files: Vec<PacketFile> = sizes[2..]
                .iter()
                .enumerate()
                .map(|(i, &n)| PacketFile {
                    name: format!("f{i}.bin"),
                    bytes: vec![7; n],
                })
                .collect();
            let manifest = vec![b'{'; sizes[0]];
            let tar = write_tar(Vec::new(), &manifest, &[1; 64], &files, 0).unwrap();
            assert_eq!(tar_length(sizes.into_iter()), tar.len() as u64);
        }
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        recipients: Vec<String>,
        identities: Vec<age::x25519::Identity>,
        kit: SigningKey,
        visit: Visit,
        files: Vec<PacketFile>,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let keys = office::keygen(&dir.path().join("office")).unwrap();
        let identities = office::load_identities(&keys.identity_file).unwrap();
        let (visit, files) = synthetic_visit(
            &Plain,
            3,
            &SampleOptions {
                documents: 1,
                ..Default::default()
            },
        );
        Fixture {
            _dir: dir,
            recipients: vec![keys.recipient],
            identities,
            kit: SigningKey::generate(),
            visit,
            files,
        }
    }

    fn params(f: &Fixture) -> SealParams<'_> {
        SealParams {
            kit_id: "kit-test",
            kit_key: &f.kit,
            recipients: &f.recipients,
            max_packet_bytes: 1 << 30,
        }
    }

    /// Seals through `write_to` into a temp file and checks that the packet verifies, decrypts and
    /// holds the visit's files.
    fn seal_to_file_and_open(f: &Fixture) -> (Header, Vec<u8>) {
        let prepared = prepare(&f.visit, &f.files, &params(f)).unwrap();
        let id = prepared.packet_id().to_string();
        let mut file = tempfile::tempfile().unwrap();
        let (header, size) = prepared.write_to(&mut file).unwrap();
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
        assert_eq!(header.packet_id, id);
        assert_eq!(size, bytes.len() as u64);
        let out = tempfile::tempdir().unwrap();
        let opened = open_to_dir(
            &bytes,
            &f.identities,
            Some(&f.kit.public()),
            &out.path().join("o"),
        )
        .unwrap();
        assert_eq!(opened.prelude.header, header);
        assert_eq!(opened.files.len(), f.files.len());
        for pf in &f.files {
            let got = std::fs::read(out.path().join("o").join(&pf.name)).unwrap();
            assert!(got == pf.bytes, "{} differs after opening", pf.name);
        }
        (header, bytes)
    }

    #[test]
    fn a_packet_streamed_to_a_file_opens_like_one_sealed_in_memory() {
        let f = fixture();
        let before = REWRITES.get();
        let (header, bytes) = seal_to_file_and_open(&f);
        assert_eq!(
            REWRITES.get(),
            before,
            "the payload length was mispredicted"
        );
        let prelude = crate::packet::parse_prelude(&bytes).unwrap();
        assert_eq!(prelude.header, header);
        assert_eq!(
            (bytes.len() - prelude.payload_offset) as u64,
            header.payload_length
        );
    }

    #[test]
    fn a_tar_of_whole_age_chunks_is_predicted_exactly() {
        // Pad the document photo so the tar is a whole number of 64 KiB chunks: the edge where
        // age's last chunk is full rather than short.
        let mut f = fixture();
        let sizes = |f: &Fixture, manifest: usize| {
            [manifest, 64]
                .into_iter()
                .chain(f.files.iter().map(|pf| pf.bytes.len()))
                .collect::<Vec<_>>()
        };
        let doc = f
            .files
            .iter()
            .position(|pf| pf.name.starts_with("document"))
            .expect("a document photo");
        for _ in 0..4 {
            let manifest_len = prepare(&f.visit, &f.files, &params(&f))
                .unwrap()
                .manifest_bytes
                .len();
            let tar = tar_length(sizes(&f, manifest_len).into_iter());
            let short = (AGE_CHUNK - tar % AGE_CHUNK) % AGE_CHUNK;
            if short == 0 {
                break;
            }
            let grow = short as usize;
            f.files[doc].bytes.extend(std::iter::repeat_n(0u8, grow));
        }
        let prepared = prepare(&f.visit, &f.files, &params(&f)).unwrap();
        assert_eq!(
            prepared.tar_len % AGE_CHUNK,
            0,
            "fixture did not reach a chunk edge"
        );
        let before = REWRITES.get();
        seal_to_file_and_open(&f);
        assert_eq!(
            REWRITES.get(),
            before,
            "the payload length was mispredicted"
        );
    }

    #[test]
    fn the_rewrite_path_gives_a_packet_that_opens_too() {
        let f = fixture();
        force_rewrite_for_tests(true);
        let before = REWRITES.get();
        let (header, bytes) = seal_to_file_and_open(&f);
        force_rewrite_for_tests(false);
        assert_eq!(REWRITES.get(), before + 1);
        assert_eq!(crate::packet::parse_prelude(&bytes).unwrap().header, header);
    }
}

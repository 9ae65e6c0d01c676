//! Completion: the whole packet verified against the prelude accepted at creation, opened with the
//! office identity when the hub holds it, stored, and answered with a receipt signed by the hub
//! key.
//!
//! A kit deletes a packet once its receipt verifies, so a receipt must only go to a packet the
//! office can use. Where the hub holds the office identity it decrypts the packet and checks the
//! inner signature and every file's SHA-256 *before* signing; a packet that fails those checks
//! gets no receipt: it is refused for good (`422`), its bytes are kept in `<data>/quarantine/` for
//! the office, and a `rejected` event says why. Without the identity the hub receipts after the
//! outer checks (`docs/hub-protocol.md` §5 says what that risks).

use std::io::{Read, Seek, SeekFrom};

use axum::http::StatusCode;
use jemput_core::fsutil;
use jemput_core::keys::sign::OUTER_DOMAIN;
use jemput_core::packet::{self, parse_prelude, Header, PacketError};
use jemput_core::wire::receipt::{Receipt, ReceiptBody};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::headers::UPLOAD_OFFSET;
use crate::opener::{self, Opened};
use crate::storage::{valid_packet_id, PutOutcome};
use crate::uploads::{Upload, UploadState};
use crate::Hub;

/// Where packets that passed the outer checks but not the inner ones are kept, in the data
/// directory: `<packet id>.jpk` and `<packet id>.why` (the reason, one line).
pub const QUARANTINE_DIR: &str = "quarantine";

/// Why a complete upload gets no receipt.
enum Refusal {
    /// The outer checks failed (or the bytes could not be read): nothing is kept.
    Outer(String),
    /// The outer checks hold but the office cannot open the packet: it is quarantined.
    Inner { header: Box<Header>, why: String },
    /// The hub could not finish the checks (its database did not answer): nothing is decided of
    /// the packet, the upload stays open with every byte, and the kit asks again.
    Unavailable(crate::HubError),
    /// The bytes on disk are not the packet's: the file is shorter than the upload, the prelude
    /// on disk is not the one given at creation, or the payload does not hash to the header's
    /// SHA-256. A refusal ([`Refusal::Outer`]) unless a power cut may have done it (see
    /// [`complete`]).
    Damaged(String),
}

/// What the checks found: the header, and the opened contents when the hub opened it.
struct Checked {
    header: Header,
    opened: Option<Opened>,
}

/// Verifies a complete upload and stores it: the prelude is the one accepted at creation, the
/// length is right, the payload hashes to the header's SHA-256, the outer signature verifies with
/// the key registered for the kit; with the office identity, the payload also decrypts and its
/// inner signature and every file hash hold. Then a receipt is signed and the packet stored with
/// it. On any failure the upload is ended as failed and the answer is `422`; a packet that only
/// failed the inner checks is kept in quarantine.
pub(crate) fn complete(hub: &Hub, up: &Upload) -> Result<Receipt, ApiError> {
    complete_saying(hub, up).map(|c| c.receipt)
}

/// A completion's receipt, and whether this completion stored the packet (`false`: another
/// completion of the same packet had stored it first, and the receipt is that one's).
pub(crate) struct Completed {
    pub receipt: Receipt,
    pub stored_now: bool,
}

/// [`complete`], saying whether it stored the packet itself.
pub(crate) fn complete_saying(hub: &Hub, up: &Upload) -> Result<Completed, ApiError> {
    // The scale-out backend stages the bytes in the database: gather them here first.
    hub.uploads().prepare_part(up)?;
    match verify_part(hub, up) {
        Ok(Checked { header, opened }) => {
            crate::test_hold::hold("verified");
            let body = ReceiptBody {
                receipt_version: 1,
                hub_id: hub.config().hub_id.clone(),
                packet_id: header.packet_id.clone(),
                kit_id: header.kit_id.clone(),
                payload_sha256: header.payload_sha256.clone(),
                size: up.length,
                received_at: jiff::Timestamp::now(),
            };
            let receipt = Receipt::sign(&body, &hub.key);
            crate::test_hold::hold("signed");
            let part = hub.uploads().part_path(&up.upload_id);
            let (receipt, stored_now) = match hub
                .storage()
                .put_packet(&header, &part, up.length, &receipt)?
            {
                PutOutcome::Stored(r) => (r, true),
                PutOutcome::AlreadyHeld(r) => (r, false),
                PutOutcome::Conflict(held) => {
                    return fail(
                        hub,
                        up,
                        format!(
                            "packet id {} is already held for another packet (kit {})",
                            held.packet_id, held.kit_id
                        ),
                    )
                }
            };
            crate::test_hold::hold("receipted");
            if let (true, Some(opened)) = (stored_now, opened) {
                // The packet's opening row was written `pending` with the receipt; recording the
                // opening done here spares the opener a second decryption. Should it fail, the
                // opener opens the packet again later.
                if let Err(e) = opener::record_opened(hub, &header, up.length, &opened) {
                    tracing::warn!(packet = %header.packet_id, "cannot record the opening done at completion ({e}); the opener will open it again");
                }
            }
            hub.uploads()
                .finish(&up.upload_id, UploadState::Done, None)?;
            Ok(Completed {
                receipt,
                stored_now,
            })
        }
        Err(Refusal::Outer(why)) => fail(hub, up, why),
        Err(Refusal::Damaged(why)) => damaged(hub, up, why),
        Err(Refusal::Unavailable(e)) => {
            tracing::warn!(upload = %up.upload_id, packet = %up.packet_id, "cannot check the packet now, the upload stays open: {e}");
            Err(e.into())
        }
        Err(Refusal::Inner { header, why }) => {
            let why = match quarantine(hub, up, &header, &why) {
                Ok(kept) => {
                    tracing::warn!(packet = %header.packet_id, "kept in {kept}");
                    // Short first: a kit keeps the first 200 characters of a refusal.
                    format!("the office cannot open it (quarantined, no receipt): {why}")
                }
                Err(e) => {
                    tracing::error!(packet = %header.packet_id, "cannot quarantine a packet that failed its inner checks: {e}");
                    format!("the office cannot open it (no receipt; not quarantined: {e}): {why}")
                }
            };
            fail(hub, up, why)
        }
    }
}

/// A complete upload whose bytes are not the packet's. `PATCH`es are answered without an fsync
/// (`crate::uploads`' durability rules), so in the embedded backend a power cut can leave a
/// `.part` file shorter than the offset recorded (the hub then holds fewer bytes: the kit resumes
/// from them) or of the right length with damaged blocks (only these checks see it). Bytes
/// written before this process opened the hub ([`crate::uploads::Uploads::carried_over`]) may be
/// such a cut's, so the upload starts again from 0 instead of being refused: the kit is answered
/// `409` with `Upload-Offset: 0`, asks `HEAD` and sends the packet again. Bytes this process wrote
/// itself (the page cache holds what was written) judge the kit's packet: refused.
fn damaged<T>(hub: &Hub, up: &Upload, why: String) -> Result<T, ApiError> {
    let uploads = hub.uploads();
    if uploads.staged_in_database() {
        return fail(hub, up, why);
    }
    let reconciled = uploads.reconcile(up.clone())?;
    let restart_at = if reconciled.offset < up.length {
        reconciled.offset
    } else if uploads.carried_over(&up.upload_id) {
        uploads.restart(&up.upload_id)?;
        0
    } else {
        return fail(hub, up, why);
    };
    tracing::warn!(upload = %up.upload_id, packet = %up.packet_id, "the upload's bytes on disk are not the packet's after a restart ({why}); it resumes from {restart_at}");
    Err(ApiError::new(
        StatusCode::CONFLICT,
        format!(
            "the hub lost bytes of this upload in a crash ({why}); it holds {restart_at}: HEAD and resume from there"
        ),
    )
    .with(&UPLOAD_OFFSET, restart_at))
}

fn fail<T>(hub: &Hub, up: &Upload, why: String) -> Result<T, ApiError> {
    tracing::warn!(upload = %up.upload_id, packet = %up.packet_id, "packet refused: {why}");
    hub.uploads()
        .finish(&up.upload_id, UploadState::Failed, Some(&why))?;
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("packet refused, upload terminated: {why}"),
    ))
}

/// Moves the upload's bytes to `<data>/quarantine/<packet id>.jpk` beside a `.why` file with the
/// reason, both durable before the upload is ended; returns the packet file's path in the data
/// directory. A later upload of the same packet id replaces both.
fn quarantine(hub: &Hub, up: &Upload, header: &Header, why: &str) -> std::io::Result<String> {
    let dir = hub.data().join(QUARANTINE_DIR);
    fsutil::ensure_dir(&dir, 0o700)?;
    // The header's packet id was checked at creation; an upload id stands in should it not be.
    let name = if valid_packet_id(&header.packet_id) {
        header.packet_id.clone()
    } else {
        up.upload_id.clone()
    };
    let why_line = format!(
        "{} kit {} upload {}: {}\n",
        jiff::Timestamp::now(),
        header.kit_id,
        up.upload_id,
        why.replace('\n', " ")
    );
    fsutil::write_atomic(&dir.join(format!("{name}.why")), why_line.as_bytes(), 0o600)?;
    let dest = dir.join(format!("{name}.{}", packet::EXTENSION));
    let part = hub.uploads().part_path(&up.upload_id);
    // `PATCH`es do not fsync: the bytes kept for the office are made durable here.
    std::fs::File::open(&part)?.sync_data()?;
    std::fs::rename(&part, &dest)?;
    fsutil::sync_dir(&dir)?;
    fsutil::sync_dir(&fsutil::parent_dir(&part))?;
    Ok(format!("{QUARANTINE_DIR}/{name}.{}", packet::EXTENSION))
}

/// Packets opened at completion at once, in this process: as many as the machine has cores.
///
/// An opening no longer holds the packet in memory ([`packet::check_contents`] streams it: a few
/// 64 KiB blocks and the manifest), so memory is not the reason for a bound; the CPU is. An
/// opening is CPU-bound from start to end (hashing, decrypting, hashing again: about 10 ms per
/// 2 MB on one core), so more of them at once than there are cores only share the cores (each
/// takes longer, none is done sooner) and take them from the async workers that answer the kits'
/// `PATCH`es; as many as there are cores lets a larger machine use all of them, which a fixed 2
/// did not. Completions beyond that wait for a slot on their blocking thread.
fn opening_slots() -> usize {
    static SLOTS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

static OPENINGS: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// One of [`opening_slots`], held while a packet is opened at completion (a blocking thread
/// waits for one).
struct OpeningSlot;

impl OpeningSlot {
    fn take() -> OpeningSlot {
        let (busy, freed) = &OPENINGS;
        let mut n = busy.lock().unwrap_or_else(|p| p.into_inner());
        while *n >= opening_slots() {
            n = freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        OpeningSlot
    }
}

impl Drop for OpeningSlot {
    fn drop(&mut self) {
        let (busy, freed) = &OPENINGS;
        *busy.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
        freed.notify_one();
    }
}

/// The checks of [`complete`]. The `.part` file is read in blocks either way (memory does not grow
/// with the packet): without the office identity to hash the payload, with it to open the packet
/// as it streams ([`packet::check_contents`] hashes the payload once, on its way into age).
fn verify_part(hub: &Hub, up: &Upload) -> Result<Checked, Refusal> {
    let outer = Refusal::Outer;
    let path = hub.uploads().part_path(&up.upload_id);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| outer(format!("cannot open the uploaded bytes: {e}")))?;
    let on_disk = file
        .metadata()
        .map_err(|e| outer(format!("cannot read the uploaded bytes: {e}")))?
        .len();
    if on_disk < up.length {
        return Err(Refusal::Damaged(format!(
            "{on_disk} bytes on disk, Upload-Length is {}",
            up.length
        )));
    }
    if on_disk > up.length {
        file.set_len(up.length)
            .map_err(|e| outer(format!("cannot cut a torn tail: {e}")))?;
    }
    let mut prelude = vec![0u8; up.prelude.len()];
    file.read_exact(&mut prelude)
        .map_err(|e| outer(format!("cannot read the uploaded prelude: {e}")))?;
    if prelude != up.prelude {
        // Every byte of the prelude was compared with it as it arrived (`patch.rs`): what differs
        // on disk now was changed there.
        return Err(Refusal::Damaged(
            "the uploaded header differs from the one given at creation".into(),
        ));
    }
    let p = parse_prelude(&prelude).map_err(|e| outer(format!("bad prelude: {e}")))?;
    if !p
        .header
        .kit_key
        .verify(OUTER_DOMAIN, &p.header_bytes, &p.signature)
    {
        return Err(outer("the outer signature does not verify".into()));
    }
    crate::test_hold::hold("registry");
    match hub.registry().get(&p.header.kit_id) {
        Ok(Some(k)) if k.kit_key == p.header.kit_key => {}
        Ok(_) => {
            return Err(outer(format!(
                "the header's kit key is not the key registered for kit {}",
                p.header.kit_id
            )))
        }
        // Not the packet's fault (the database is down or busy): refusing it would end the
        // upload for good and the kit would never send the packet again.
        Err(e) => return Err(Refusal::Unavailable(e)),
    }
    let Some(payload_len) = up.length.checked_sub(p.payload_offset as u64) else {
        return Err(outer(format!(
            "Upload-Length {} is shorter than the prelude of {} bytes",
            up.length, p.payload_offset
        )));
    };
    if payload_len != p.header.payload_length {
        return Err(outer(format!(
            "the payload is {payload_len} bytes, the header says {}",
            p.header.payload_length
        )));
    }
    let opened = match hub.identities.as_deref() {
        Some(ids) => {
            let _slot = OpeningSlot::take();
            file.seek(SeekFrom::Start(0))
                .map_err(|e| outer(format!("cannot read the packet: {e}")))?;
            // The outer checks again (cheap but the hash), then decryption, the inner signature,
            // the manifest against the header and every file's SHA-256, in one pass over the
            // file that keeps none of it.
            match packet::check_contents((&mut file).take(up.length), ids, Some(&p.header.kit_key))
            {
                Ok(v) => Some(opener::opened(hub, &v)),
                Err(PacketError::PayloadHash) => {
                    return Err(Refusal::Damaged(
                        "the payload's SHA-256 does not match the signed header".into(),
                    ))
                }
                Err(PacketError::Read(e)) => {
                    return Err(outer(format!("cannot read the packet: {e}")))
                }
                Err(e) => {
                    return Err(Refusal::Inner {
                        header: Box::new(p.header),
                        why: e.to_string(),
                    })
                }
            }
        }
        None => {
            file.seek(SeekFrom::Start(p.payload_offset as u64))
                .map_err(|e| outer(format!("cannot read the payload: {e}")))?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut left = payload_len;
            while left > 0 {
                let n = (left as usize).min(buf.len());
                file.read_exact(&mut buf[..n])
                    .map_err(|e| outer(format!("cannot read the payload: {e}")))?;
                hasher.update(&buf[..n]);
                left -= n as u64;
            }
            if hex::encode(hasher.finalize()) != p.header.payload_sha256 {
                return Err(Refusal::Damaged(
                    "the payload's SHA-256 does not match the signed header".into(),
                ));
            }
            None
        }
    };
    // The bytes (and a torn tail cut off above) are made durable when the packet is stored,
    // before its receipt (`Storage::put_packet`).
    Ok(Checked {
        header: p.header,
        opened,
    })
}

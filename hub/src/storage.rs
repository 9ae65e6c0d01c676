//! Where the hub keeps verified packets with their receipts: the [`Storage`] trait;
//! [`DirStorage`] keeps them in a directory, [`crate::objects::ObjectStorage`] in an
//! S3-compatible object store, both with their receipt rows in the hub database. Uploads in
//! progress are [`crate::uploads`]'.
//!
//! Durability (`docs/hub-protocol.md` §6): a verified packet's bytes are fsynced, then it is
//! renamed into `packets/` and that directory is fsynced, all before its receipt row is
//! committed (`synchronous=FULL`); a receipt row therefore always names a durable file, and no
//! receipt is signed for bytes that a power cut could still take. With an object store, the
//! store's acknowledgement of the `PUT` stands in for the fsyncs.

use std::fs;
use std::path::{Path, PathBuf};

use crate::CachedSql;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use crate::{lock, ts_text, Db, HubError, PACKETS_DIR};
use jemput_core::fsutil;
use jemput_core::packet::{Header, EXTENSION};
use jemput_core::wire::receipt::Receipt;

/// Runs `commit` on the embedded database's connection with `synchronous=NORMAL`: in WAL mode
/// its commit is not fsynced (a power cut may take it, with every commit after it), and the next
/// commit made with `FULL` fsyncs the log with it in it. Every other commit on the connection
/// stays fully durable.
pub(crate) fn unsynced<T, E: From<rusqlite::Error>>(
    conn: &mut rusqlite::Connection,
    commit: impl FnOnce(&mut rusqlite::Connection) -> Result<T, E>,
) -> Result<T, E> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let done = commit(conn);
    conn.pragma_update(None, "synchronous", "FULL")?;
    done
}

/// What storage holds for a verified packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPacket {
    pub packet_id: String,
    pub kit_id: String,
    pub payload_sha256: String,
    /// Size of the packet file.
    pub size: u64,
    /// The receipt signed when it was stored, exactly as sent then.
    pub receipt: Receipt,
}

/// What became of [`Storage::put_packet`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored now, with this receipt.
    Stored(Receipt),
    /// The same packet (same kit, same payload hash) was already held: its first receipt.
    AlreadyHeld(Receipt),
    /// Another packet with this id is held (another kit's, or other content).
    Conflict(HeldPacket),
}

/// Verified packets and their receipts.
pub trait Storage: Send + Sync {
    /// Stores a verified packet whose complete file is at `file`, with its receipt. The bytes must
    /// be durable in the storage before the receipt row commits: the file need not have been
    /// fsynced by the caller.
    ///
    /// On [`PutOutcome::Stored`] the storage has taken the file (moved or copied it); otherwise the
    /// file is left where it is. Storing and the receipt are one step for [`Storage::held`]: it
    /// never sees a receipt without the packet, or a packet without its receipt.
    fn put_packet(
        &self,
        header: &Header,
        file: &Path,
        size: u64,
        receipt: &Receipt,
    ) -> Result<PutOutcome, HubError>;

    /// The packet with this id, with its receipt, if held.
    fn held(&self, packet_id: &str) -> Result<Option<HeldPacket>, HubError>;

    /// The bytes of a held packet (the opener decrypts them).
    fn read_packet(&self, packet_id: &str) -> Result<Vec<u8>, HubError>;

    /// Checks that the storage can be used (the object store answers and accepts the
    /// credentials), so that `hub serve` and `hub init` say so at once rather than at the first
    /// upload. Storage on the local disk has nothing to check.
    fn check(&self) -> Result<(), HubError> {
        Ok(())
    }

    /// Whether a packet with this id is held.
    fn has_packet(&self, packet_id: &str) -> Result<bool, HubError> {
        Ok(self.held(packet_id)?.is_some())
    }
}

/// Storage in `<data>/packets/<packet id>.jpk` plus the `receipts` table.
#[derive(Debug)]
pub struct DirStorage {
    packets: PathBuf,
    db: Db,
}

impl DirStorage {
    pub(crate) fn new(data: &Path, db: Db) -> DirStorage {
        DirStorage {
            packets: data.join(PACKETS_DIR),
            db,
        }
    }

    /// Where a held packet's file is.
    pub fn packet_path(&self, packet_id: &str) -> PathBuf {
        self.packets.join(format!("{packet_id}.{EXTENSION}"))
    }
}

/// Whether `id` is a packet id as the format has them (a lowercase hyphenated UUID v4, see
/// [`jemput_core::packet::valid_packet_id`]), and so safe as a file name.
pub fn valid_packet_id(id: &str) -> bool {
    jemput_core::packet::valid_packet_id(id)
}

pub(crate) fn held_row(
    conn: &rusqlite::Connection,
    packet_id: &str,
) -> Result<Option<HeldPacket>, HubError> {
    let row = conn
        .row(
            "SELECT packet_id, kit_id, payload_sha256, size, receipt FROM receipts
             WHERE packet_id = ?1",
            [packet_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((packet_id, kit_id, payload_sha256, size, text)) = row else {
        return Ok(None);
    };
    let receipt: Receipt = serde_json::from_str(&text).map_err(|_| HubError::Corrupt {
        what: "receipt",
        value: text.clone(),
    })?;
    Ok(Some(HeldPacket {
        packet_id,
        kit_id,
        payload_sha256,
        size: size as u64,
        receipt,
    }))
}

/// What a put finds when the packet id is already held: the same packet (same kit, same payload
/// hash) or another one.
pub(crate) fn already(header: &Header, held: HeldPacket) -> PutOutcome {
    if held.kit_id == header.kit_id && held.payload_sha256 == header.payload_sha256 {
        PutOutcome::AlreadyHeld(held.receipt)
    } else {
        PutOutcome::Conflict(held)
    }
}

/// Commits a stored packet's receipt row, its opening row and its `verified` event in one
/// transaction, once its bytes are durable under `file` (a file name or an object key). A receipt
/// committed meanwhile for the same id (another process, another upload) wins: its outcome is
/// returned and nothing is written.
pub(crate) fn commit_receipt(
    conn: &mut rusqlite::Connection,
    header: &Header,
    size: u64,
    file: &str,
    receipt: &Receipt,
) -> Result<PutOutcome, HubError> {
    let body = receipt_received_at(receipt);
    let tx = conn.transaction()?;
    if let Some(held) = held_row(&tx, &header.packet_id)? {
        return Ok(already(header, held));
    }
    tx.exec(
        "INSERT INTO receipts (packet_id, kit_id, payload_sha256, size, file, received_at, receipt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            header.packet_id,
            header.kit_id,
            header.payload_sha256,
            size as i64,
            file,
            body,
            serde_json::to_string(receipt).expect("a receipt serialises"),
        ],
    )?;
    tx.exec(
        "INSERT INTO openings (packet_id, state, updated_at) VALUES (?1, 'pending', ?2)
         ON CONFLICT (packet_id) DO UPDATE SET state = 'pending', reason = NULL, updated_at = ?2",
        params![header.packet_id, body],
    )?;
    crate::events::enqueue(
        &tx,
        crate::events::EventKind::Verified,
        &header.packet_id,
        &header.kit_id,
        Some(size),
        None,
    )?;
    tx.commit()?;
    Ok(PutOutcome::Stored(receipt.clone()))
}

impl Storage for DirStorage {
    fn put_packet(
        &self,
        header: &Header,
        file: &Path,
        size: u64,
        receipt: &Receipt,
    ) -> Result<PutOutcome, HubError> {
        // Holding the connection serialises puts: two completions of one packet id cannot both
        // rename into place.
        let mut conn = lock(&self.db);
        if let Some(held) = held_row(&conn, &header.packet_id)? {
            return Ok(already(header, held));
        }
        if !valid_packet_id(&header.packet_id) {
            return Err(HubError::Corrupt {
                what: "packet id",
                value: header.packet_id.clone(),
            });
        }
        let dest = self.packet_path(&header.packet_id);
        // `PATCH`es are answered without an fsync (`crate::uploads`' durability rules): the
        // packet's bytes are made durable here, once, before it is moved into place and receipted.
        if !fsutil::skipped_for_test("hub-packet-data") {
            fs::File::open(file)
                .and_then(|f| f.sync_data())
                .map_err(HubError::io("sync", file))?;
        }
        // A file here without a receipt row is a leftover of a crash before the commit; the packet
        // now being stored replaces it.
        fs::rename(file, &dest).map_err(HubError::io("move a verified packet to", &dest))?;
        if !fsutil::skipped_for_test("hub-packets-dir") {
            fsutil::sync_dir(&self.packets).map_err(HubError::io("sync", &self.packets))?;
        }
        // The directory the file left is not synced: a cut that keeps its old name there (the
        // same file under two names) leaves a `.part` of a finished upload, which the hub
        // removes with any `.part` no open upload owns when it opens
        // (`Uploads::remove_expired`), or reads again, whole, if the upload's end was lost too
        // (the packet is then already held).
        crate::test_hold::hold("moved");
        commit_receipt(
            &mut conn,
            header,
            size,
            &dest.file_name().unwrap().to_string_lossy(),
            receipt,
        )
    }

    fn held(&self, packet_id: &str) -> Result<Option<HeldPacket>, HubError> {
        held_row(&lock(&self.db), packet_id)
    }

    fn read_packet(&self, packet_id: &str) -> Result<Vec<u8>, HubError> {
        if !valid_packet_id(packet_id) {
            return Err(HubError::Corrupt {
                what: "packet id",
                value: packet_id.into(),
            });
        }
        let path = self.packet_path(packet_id);
        fs::read(&path).map_err(HubError::io("read", &path))
    }
}

/// The `received_at` of a receipt's body as stored text (the body was made by this hub).
pub(crate) fn receipt_received_at(receipt: &Receipt) -> String {
    serde_json::from_str::<jemput_core::wire::receipt::ReceiptBody>(&receipt.body)
        .map(|b| ts_text(b.received_at))
        .unwrap_or_else(|_| ts_text(Timestamp::now()))
}

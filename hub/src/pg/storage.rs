//! Verified packets with their receipts for the scale-out backend: the receipt, the opening row
//! and the `verified` event in PostgreSQL ([`put_with`]); the packet in `<data>/packets/` as
//! [`crate::DirStorage`] keeps it ([`PgDirStorage`]), or in an object store
//! ([`crate::objects::ObjectStorage`] on PostgreSQL).
//!
//! A put holds a transaction-scoped advisory lock on the packet id, so two processes completing
//! the same packet at once store it once: the second finds the first's receipt.

use std::path::{Path, PathBuf};

use jemput_core::fsutil;
use jemput_core::packet::{Header, EXTENSION};
use jemput_core::wire::receipt::Receipt;
use postgres::GenericClient;

use super::{conn, u, Pool};
use crate::events::EventKind;
use crate::storage::{valid_packet_id, HeldPacket, PutOutcome, Storage};
use crate::{HubError, PACKETS_DIR};

/// Packet files in a directory, receipts in PostgreSQL.
#[derive(Debug)]
pub struct PgDirStorage {
    packets: PathBuf,
    pool: Pool,
}

impl PgDirStorage {
    pub(crate) fn new(data: &Path, pool: Pool) -> PgDirStorage {
        PgDirStorage {
            packets: data.join(PACKETS_DIR),
            pool,
        }
    }

    fn packet_path(&self, packet_id: &str) -> PathBuf {
        self.packets.join(format!("{packet_id}.{EXTENSION}"))
    }
}

fn held_row(c: &mut impl GenericClient, packet_id: &str) -> Result<Option<HeldPacket>, HubError> {
    let Some(r) = c.query_opt(
        "SELECT packet_id, kit_id, payload_sha256, size, receipt FROM receipts
         WHERE packet_id = $1",
        &[&packet_id],
    )?
    else {
        return Ok(None);
    };
    let text: String = r.get(4);
    let receipt: Receipt = serde_json::from_str(&text).map_err(|_| HubError::Corrupt {
        what: "receipt",
        value: text.clone(),
    })?;
    Ok(Some(HeldPacket {
        packet_id: r.get(0),
        kit_id: r.get(1),
        payload_sha256: r.get(2),
        size: u(r.get(3)),
        receipt,
    }))
}

/// Stores a verified packet and its receipt on PostgreSQL: under a transaction-scoped advisory
/// lock on the packet id, a packet already receipted is answered from its row; otherwise `store`
/// makes the bytes durable where they are kept (a file, an object) and returns the name recorded
/// for them, and only then are the receipt, the opening row and the `verified` event committed.
pub(crate) fn put_with(
    pool: &Pool,
    header: &Header,
    size: u64,
    receipt: &Receipt,
    store: impl FnOnce() -> Result<String, HubError>,
) -> Result<PutOutcome, HubError> {
    let mut c = conn(pool)?;
    let mut tx = c.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        &[&header.packet_id],
    )?;
    if let Some(held) = held_row(&mut tx, &header.packet_id)? {
        if held.kit_id == header.kit_id && held.payload_sha256 == header.payload_sha256 {
            return Ok(PutOutcome::AlreadyHeld(held.receipt));
        }
        return Ok(PutOutcome::Conflict(held));
    }
    if !valid_packet_id(&header.packet_id) {
        return Err(HubError::Corrupt {
            what: "packet id",
            value: header.packet_id.clone(),
        });
    }
    let file = store()?;
    crate::test_hold::hold("moved");
    let received_at = crate::storage::receipt_received_at(receipt);
    tx.execute(
        "INSERT INTO receipts (packet_id, kit_id, payload_sha256, size, file, received_at, receipt)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &header.packet_id,
            &header.kit_id,
            &header.payload_sha256,
            &(size as i64),
            &file,
            &received_at,
            &serde_json::to_string(receipt).expect("a receipt serialises"),
        ],
    )?;
    tx.execute(
        "INSERT INTO openings (packet_id, state, updated_at) VALUES ($1, 'pending', $2)
         ON CONFLICT (packet_id) DO UPDATE SET state = 'pending', reason = NULL, updated_at = $2",
        &[&header.packet_id, &received_at],
    )?;
    super::events::enqueue(
        &mut tx,
        EventKind::Verified,
        &header.packet_id,
        &header.kit_id,
        Some(size),
        None,
        None,
    )?;
    tx.commit()?;
    Ok(PutOutcome::Stored(receipt.clone()))
}

/// The receipted packet `packet_id`, if any.
pub(crate) fn held(pool: &Pool, packet_id: &str) -> Result<Option<HeldPacket>, HubError> {
    held_row(&mut *conn(pool)?, packet_id)
}

/// The name a receipted packet's bytes were recorded under (its file or object key).
pub(crate) fn file_of(pool: &Pool, packet_id: &str) -> Result<Option<String>, HubError> {
    Ok(conn(pool)?
        .query_opt(
            "SELECT file FROM receipts WHERE packet_id = $1",
            &[&packet_id],
        )?
        .map(|r| r.get(0)))
}

impl Storage for PgDirStorage {
    fn put_packet(
        &self,
        header: &Header,
        file: &Path,
        size: u64,
        receipt: &Receipt,
    ) -> Result<PutOutcome, HubError> {
        put_with(&self.pool, header, size, receipt, || {
            let dest = self.packet_path(&header.packet_id);
            std::fs::rename(file, &dest)
                .map_err(HubError::io("move a verified packet to", &dest))?;
            if !fsutil::skipped_for_test("hub-packets-dir") {
                fsutil::sync_dir(&self.packets).map_err(HubError::io("sync", &self.packets))?;
            }
            let from = fsutil::parent_dir(file);
            fsutil::sync_dir(&from).map_err(HubError::io("sync", &from))?;
            Ok(dest.file_name().unwrap().to_string_lossy().into_owned())
        })
    }

    fn held(&self, packet_id: &str) -> Result<Option<HeldPacket>, HubError> {
        held(&self.pool, packet_id)
    }

    fn read_packet(&self, packet_id: &str) -> Result<Vec<u8>, HubError> {
        if !valid_packet_id(packet_id) {
            return Err(HubError::Corrupt {
                what: "packet id",
                value: packet_id.into(),
            });
        }
        let path = self.packet_path(packet_id);
        std::fs::read(&path).map_err(HubError::io("read", &path))
    }
}

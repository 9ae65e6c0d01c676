//! Verified packets with their receipts for the scale-out backend: the packet file in
//! `<data>/packets/` (as [`crate::DirStorage`] keeps it, until an object store holds packets),
//! the receipt, the opening row and the `verified` event in PostgreSQL.
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

impl Storage for PgDirStorage {
    fn put_packet(
        &self,
        header: &Header,
        file: &Path,
        size: u64,
        receipt: &Receipt,
    ) -> Result<PutOutcome, HubError> {
        let mut c = conn(&self.pool)?;
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
        let dest = self.packet_path(&header.packet_id);
        std::fs::rename(file, &dest).map_err(HubError::io("move a verified packet to", &dest))?;
        if !fsutil::skipped_for_test("hub-packets-dir") {
            fsutil::sync_dir(&self.packets).map_err(HubError::io("sync", &self.packets))?;
        }
        let from = fsutil::parent_dir(file);
        fsutil::sync_dir(&from).map_err(HubError::io("sync", &from))?;
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
                &dest.file_name().unwrap().to_string_lossy().into_owned(),
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

    fn held(&self, packet_id: &str) -> Result<Option<HeldPacket>, HubError> {
        held_row(&mut *conn(&self.pool)?, packet_id)
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

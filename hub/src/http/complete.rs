//! Completion: the whole packet verified against the prelude accepted at creation, stored, and
//! answered with a receipt signed by the hub key.

use std::io::{Read, Seek, SeekFrom};

use axum::http::StatusCode;
use jemput_core::keys::sign::OUTER_DOMAIN;
use jemput_core::packet::{parse_prelude, Header};
use jemput_core::wire::receipt::{Receipt, ReceiptBody};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::storage::{PutOutcome, Upload, UploadState};
use crate::Hub;

/// Verifies a complete upload and stores it: the prelude is the one accepted at creation, the
/// length is right, the payload hashes to the header's SHA-256, the outer signature verifies with
/// the key registered for the kit. Then a receipt is signed and the packet stored with it. On any
/// failure the upload is ended as failed (its bytes removed) and the answer is `422`.
pub(crate) fn complete(hub: &Hub, up: &Upload) -> Result<Receipt, ApiError> {
    // The scale-out backend stages the bytes in the database: gather them here first.
    hub.uploads().prepare_part(up)?;
    match verify_part(hub, up) {
        Ok(header) => {
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
            match hub
                .storage()
                .put_packet(&header, &part, up.length, &receipt)?
            {
                PutOutcome::Stored(r) | PutOutcome::AlreadyHeld(r) => {
                    crate::test_hold::hold("receipted");
                    hub.uploads()
                        .finish(&up.upload_id, UploadState::Done, None)?;
                    Ok(r)
                }
                PutOutcome::Conflict(held) => fail(
                    hub,
                    up,
                    format!(
                        "packet id {} is already held for another packet (kit {})",
                        held.packet_id, held.kit_id
                    ),
                ),
            }
        }
        Err(why) => fail(hub, up, why),
    }
}

fn fail(hub: &Hub, up: &Upload, why: String) -> Result<Receipt, ApiError> {
    tracing::warn!(upload = %up.upload_id, packet = %up.packet_id, "packet refused: {why}");
    hub.uploads()
        .finish(&up.upload_id, UploadState::Failed, Some(&why))?;
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("packet refused, upload terminated: {why}"),
    ))
}

/// The checks of [`complete`], reading the `.part` file in blocks (memory does not grow with the
/// packet). `Err` is the reason for refusal.
fn verify_part(hub: &Hub, up: &Upload) -> Result<Header, String> {
    let path = hub.uploads().part_path(&up.upload_id);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open the uploaded bytes: {e}"))?;
    let on_disk = file
        .metadata()
        .map_err(|e| format!("cannot read the uploaded bytes: {e}"))?
        .len();
    if on_disk < up.length {
        return Err(format!(
            "{on_disk} bytes on disk, Upload-Length is {}",
            up.length
        ));
    }
    if on_disk > up.length {
        file.set_len(up.length)
            .map_err(|e| format!("cannot cut a torn tail: {e}"))?;
    }
    let mut prelude = vec![0u8; up.prelude.len()];
    file.read_exact(&mut prelude)
        .map_err(|e| format!("cannot read the uploaded prelude: {e}"))?;
    if prelude != up.prelude {
        return Err("the uploaded header differs from the one given at creation".into());
    }
    let p = parse_prelude(&prelude).map_err(|e| format!("bad prelude: {e}"))?;
    if !p
        .header
        .kit_key
        .verify(OUTER_DOMAIN, &p.header_bytes, &p.signature)
    {
        return Err("the outer signature does not verify".into());
    }
    match hub.registry().get(&p.header.kit_id) {
        Ok(Some(k)) if k.kit_key == p.header.kit_key => {}
        Ok(_) => {
            return Err(format!(
                "the header's kit key is not the key registered for kit {}",
                p.header.kit_id
            ))
        }
        Err(e) => return Err(format!("cannot read the kit registry: {e}")),
    }
    let Some(payload_len) = up.length.checked_sub(p.payload_offset as u64) else {
        return Err(format!(
            "Upload-Length {} is shorter than the prelude of {} bytes",
            up.length, p.payload_offset
        ));
    };
    if payload_len != p.header.payload_length {
        return Err(format!(
            "the payload is {payload_len} bytes, the header says {}",
            p.header.payload_length
        ));
    }
    file.seek(SeekFrom::Start(p.payload_offset as u64))
        .map_err(|e| format!("cannot read the payload: {e}"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = payload_len;
    while left > 0 {
        let n = (left as usize).min(buf.len());
        file.read_exact(&mut buf[..n])
            .map_err(|e| format!("cannot read the payload: {e}"))?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    if hex::encode(hasher.finalize()) != p.header.payload_sha256 {
        return Err("the payload's SHA-256 does not match the signed header".into());
    }
    if on_disk > up.length {
        file.sync_data()
            .map_err(|e| format!("cannot sync the uploaded bytes: {e}"))?;
    }
    Ok(p.header)
}

//! What the kit does with a home: open the store with recovery, seal a draft into the queue.

use std::path::PathBuf;

use uuid::Uuid;

use crate::home::{HomeError, KitHome};
use crate::store::{PacketMeta, RecoveryReport, Store, StoreError};
use crate::visit::draft::{DraftError, Drafts};
use jemput_core::packet::{self, PacketError, SealParams};

/// Opens the kit's store and reconciles files and rows; adopted files must verify with this kit's key.
pub fn open_store(home: &KitHome) -> Result<(Store, RecoveryReport), SealError> {
    let kit_key = home.kit_key()?.public();
    let mut store = Store::open(&home.root)?;
    let report = store.recover(&|path| {
        packet::verify_file(path, Some(&kit_key))
            .map(|p| meta_of(&p.header))
            .map_err(|e| e.to_string())
    })?;
    for id in &report.missing {
        tracing::error!(packet = %id, "packet file is MISSING from the kit; it was sealed but its file is gone");
    }
    Ok((store, report))
}

/// The store's view of a packet header.
pub fn meta_of(h: &packet::Header) -> PacketMeta {
    PacketMeta {
        packet_id: h.packet_id.clone(),
        kit_id: h.kit_id.clone(),
        size: 0,
        payload_sha256: h.payload_sha256.clone(),
        created_at: h.created_at,
        visit_id: None,
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error(transparent)]
    Home(#[from] HomeError),
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error(transparent)]
    Packet(#[from] PacketError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What sealing produced.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct SealOutcome {
    pub visit_id: Uuid,
    pub packet_id: String,
    pub path: PathBuf,
    pub size: u64,
}

/// Seals one draft: load and decrypt it, seal, commit the packet to the queue, then remove the draft.
///
/// Until the queue commit returns, the draft is untouched: a failure (size limit, full disk, crash)
/// loses nothing. Seals are one at a time on a kit ([`Drafts::lock_for_sealing`]), so a draft
/// sealed twice at once gives one packet, and sealing a draft already sealed returns its packet.
pub fn seal_draft(
    home: &KitHome,
    store: &mut Store,
    drafts: &Drafts,
    identity: &age::x25519::Identity,
    visit_id: Uuid,
) -> Result<SealOutcome, SealError> {
    let _one_at_a_time = drafts.lock_for_sealing()?;
    // A crash after the packet file landed (adopted by recovery, found by the draft's sealing
    // marker) or after the queue commit (found by visit id) but before the draft was removed
    // leaves a draft that is already sealed: finish removing it instead of sealing it twice.
    let earlier = match drafts.sealing_marker(visit_id) {
        Some(packet_id) => store.get(&packet_id)?,
        None => None,
    };
    if let Some(done) = earlier.or(store.find_by_visit(&visit_id.to_string())?) {
        drafts.remove(visit_id)?;
        return Ok(SealOutcome {
            visit_id,
            path: store.path_of(&done),
            packet_id: done.packet_id,
            size: done.size,
        });
    }
    let (visit, files) = drafts.load(visit_id, identity)?;
    let kit_key = home.kit_key()?;
    let params = SealParams {
        kit_id: &home.config.kit_id,
        kit_key: &kit_key,
        recipients: &home.config.office_recipients,
        max_packet_bytes: home.config.limits.max_packet_bytes,
    };
    let prepared = packet::prepare(&visit, &files, &params)?;
    let packet_id = prepared.packet_id().to_string();
    drafts.mark_sealing(visit_id, &packet_id)?;
    let packet_path = store
        .packets_dir()
        .join(format!("{packet_id}.{}", packet::EXTENSION));
    let (path, meta) = store.commit_packet_with(&packet_id, |file| {
        // A full disk while streaming the payload reads as the store's "disk is full" error.
        let (header, size) = prepared.write_to(file).map_err(|e| match e {
            PacketError::Write(io) => SealError::Store(StoreError::write(&packet_path, io)),
            other => SealError::Packet(other),
        })?;
        let mut meta = meta_of(&header);
        meta.size = size;
        meta.visit_id = Some(visit_id.to_string());
        Ok::<_, SealError>(meta)
    })?;
    drafts.remove(visit_id)?;
    Ok(SealOutcome {
        visit_id,
        packet_id: meta.packet_id,
        path,
        size: meta.size,
    })
}

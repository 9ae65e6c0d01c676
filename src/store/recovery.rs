//! Recovery on start: reconcile `packets/` and the queue both ways.

use std::path::{Path, PathBuf};

use super::queue::{PacketMeta, Store};
use super::{State, StoreError};
use crate::fsutil;

/// What recovery found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Temp leftovers of interrupted writes, removed.
    pub temp_removed: Vec<PathBuf>,
    /// Packet files without a row that verified: adopted into the queue as sealed.
    pub adopted: Vec<String>,
    /// (file name, reason): files without a row that did not verify, moved to `quarantine/`.
    pub quarantined: Vec<(String, String)>,
    /// Packets whose row says the file should exist but it does not: LOST captures, to report loudly.
    pub missing: Vec<String>,
    /// Files whose row says purged or quarantined, moved or removed to match.
    pub settled: Vec<String>,
}

impl RecoveryReport {
    pub fn is_clean(&self) -> bool {
        self.temp_removed.is_empty()
            && self.adopted.is_empty()
            && self.quarantined.is_empty()
            && self.missing.is_empty()
            && self.settled.is_empty()
    }
}

impl Store {
    /// Reconciles files and rows. `verify` checks a packet file that has no row and returns what the
    /// store needs to adopt it, or why it does not verify.
    pub fn recover(
        &mut self,
        verify: &dyn Fn(&Path) -> Result<PacketMeta, String>,
    ) -> Result<RecoveryReport, StoreError> {
        let mut report = RecoveryReport::default();
        for dir in [self.packets.clone(), self.quarantine.clone()] {
            report.temp_removed.extend(
                fsutil::remove_temp_leftovers(&dir).map_err(StoreError::io("clean", &dir))?,
            );
        }

        let mut names = Vec::new();
        for entry in
            std::fs::read_dir(&self.packets).map_err(StoreError::io("read", &self.packets))?
        {
            let entry = entry.map_err(StoreError::io("read", &self.packets))?;
            if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();

        let rows = self.list()?;
        for name in names {
            let stem = name
                .strip_suffix(&format!(".{}", crate::packet::EXTENSION))
                .unwrap_or(&name)
                .to_string();
            match rows.iter().find(|r| r.file == name || r.packet_id == stem) {
                Some(row) if row.state.expects_file() => {}
                Some(row) => {
                    self.settle_file(&row.file, row.state)?;
                    report.settled.push(name);
                }
                None => self.adopt_or_quarantine(&name, &stem, verify, &mut report)?,
            }
        }

        for row in self.list()? {
            if row.state.expects_file() && !row.file_present {
                tracing::error!(packet = %row.packet_id, file = %row.file, "queued packet file is missing");
                report.missing.push(row.packet_id);
            }
        }
        Ok(report)
    }

    fn adopt_or_quarantine(
        &mut self,
        name: &str,
        stem: &str,
        verify: &dyn Fn(&Path) -> Result<PacketMeta, String>,
        report: &mut RecoveryReport,
    ) -> Result<(), StoreError> {
        let path = self.packets.join(name);
        let verdict = verify(&path).and_then(|meta| {
            if meta.packet_id == stem {
                Ok(meta)
            } else {
                Err(format!(
                    "file name does not match its packet id {}",
                    meta.packet_id
                ))
            }
        });
        match verdict {
            Ok(mut meta) => {
                meta.size = std::fs::metadata(&path)
                    .map(|m| m.len())
                    .unwrap_or(meta.size);
                tracing::warn!(packet = %meta.packet_id, "adopting a packet file that had no queue row");
                self.insert(&meta, name, State::Sealed, "adopted by recovery")?;
                report.adopted.push(meta.packet_id);
            }
            Err(reason) => {
                tracing::error!(file = %name, %reason, "quarantining a packet file that does not verify");
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let id = format!("unverified-{stem}");
                let meta = PacketMeta {
                    packet_id: id,
                    kit_id: String::new(),
                    size,
                    payload_sha256: String::new(),
                    created_at: jiff::Timestamp::now(),
                    visit_id: None,
                };
                // Move first, then record: a crash in between leaves the file in quarantine/,
                // which the office can still inspect.
                let dst = self.quarantine.join(name);
                std::fs::rename(&path, &dst)
                    .map_err(StoreError::io("move to quarantine", &path))?;
                fsutil::sync_dir(&self.quarantine)
                    .map_err(StoreError::io("sync", &self.quarantine))?;
                fsutil::sync_dir(&self.packets).map_err(StoreError::io("sync", &self.packets))?;
                self.insert(
                    &meta,
                    name,
                    State::Quarantined,
                    &format!("quarantined by recovery: {reason}"),
                )?;
                report.quarantined.push((name.to_string(), reason));
            }
        }
        Ok(())
    }
}

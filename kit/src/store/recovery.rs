//! Recovery on open: reconciles `packets/` and the queue both ways (`docs/durability.md`).
//!
//! - temp leftovers of interrupted writes are removed;
//! - a file without a row is adopted when it verifies, otherwise quarantined (with a row saying why);
//! - a row whose quarantine or purge was interrupted has its file operation finished;
//! - a row whose file is gone is a lost packet: reported loudly, never deleted.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::TransactionBehavior;
use serde::Serialize;

use super::{queue, PacketMeta, State, Store, StoreError, PACKET_EXT};

/// Result of reconciling files and rows on open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryReport {
    /// Temp leftovers (`.tmp-*`) removed from `packets/`.
    pub temp_removed: Vec<PathBuf>,
    /// Packet ids of files without a row that verified: queued as sealed.
    pub adopted: Vec<String>,
    /// `(file name, reason)` of files without a row that did not verify: moved to `quarantine/` and
    /// queued as quarantined.
    pub quarantined: Vec<(String, String)>,
    /// Packet ids whose quarantine move or purge removal was interrupted and is now finished.
    pub completed: Vec<String>,
    /// Packet ids of rows (sealed, uploading, acknowledged) whose file is gone: lost packets.
    pub missing: Vec<String>,
}

impl RecoveryReport {
    /// True when there was nothing to repair and nothing is lost.
    pub fn is_clean(&self) -> bool {
        self.temp_removed.is_empty()
            && self.adopted.is_empty()
            && self.quarantined.is_empty()
            && self.completed.is_empty()
            && self.missing.is_empty()
    }
}

impl Store {
    /// Reconciles `packets/` and the queue both ways; see the module documentation.
    ///
    /// `verify` is given the path of a packet file that has no row; it returns the packet's metadata
    /// when the file verifies, or the reason it does not.
    pub fn recover(
        &mut self,
        verify: &dyn Fn(&Path) -> Result<PacketMeta, String>,
    ) -> Result<RecoveryReport, StoreError> {
        let mut report = RecoveryReport {
            temp_removed: jemput_core::fsutil::remove_temp_leftovers(&self.packets).map_err(
                |source| StoreError::Dir {
                    path: self.packets.clone(),
                    source,
                },
            )?,
            ..RecoveryReport::default()
        };
        for p in &report.temp_removed {
            tracing::warn!(path = %p.display(), "removed the leftover of an interrupted write");
        }

        let rows = queue::all(&self.conn)?;
        let by_file: HashMap<&str, &queue::PacketRow> =
            rows.iter().map(|r| (r.file.as_str(), r)).collect();
        let mut seen = HashSet::new();

        for name in self.packet_file_names()? {
            let Some(row) = by_file.get(name.as_str()) else {
                self.reconcile_orphan(&name, verify, &mut report)?;
                continue;
            };
            seen.insert(name.clone());
            match row.state {
                State::Purged => self.remove_packet_file(&name)?,
                State::Quarantined => self.move_to_quarantine(&name, &name)?,
                _ => continue,
            }
            tracing::warn!(packet_id = %row.meta.packet_id, state = %row.state, "finished an interrupted file operation");
            report.completed.push(row.meta.packet_id.clone());
        }

        for row in &rows {
            if row.state.file_in_packets() && !seen.contains(&row.file) {
                tracing::error!(
                    packet_id = %row.meta.packet_id,
                    state = %row.state,
                    file = %self.packets.join(&row.file).display(),
                    "PACKET LOST: the queue lists this packet but its file is gone; \
                     its data must be captured again unless the hub already has it"
                );
                report.missing.push(row.meta.packet_id.clone());
            }
        }
        Ok(report)
    }

    /// Names of the regular files in `packets/`, sorted; anything else is logged and left alone.
    fn packet_file_names(&self) -> Result<Vec<String>, StoreError> {
        let dir_err = |source| StoreError::Dir {
            path: self.packets.clone(),
            source,
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.packets).map_err(dir_err)? {
            let entry = entry.map_err(dir_err)?;
            let path = entry.path();
            if !entry.file_type().map_err(dir_err)?.is_file() {
                tracing::warn!(path = %path.display(), "not a regular file in packets/: left alone");
                continue;
            }
            match entry.file_name().into_string() {
                Ok(name) => names.push(name),
                Err(_) => {
                    tracing::error!(path = %path.display(), "file name is not UTF-8: left alone, move it away by hand");
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// A file in `packets/` without a row: adopt it if it verifies, else quarantine it.
    fn reconcile_orphan(
        &mut self,
        name: &str,
        verify: &dyn Fn(&Path) -> Result<PacketMeta, String>,
        report: &mut RecoveryReport,
    ) -> Result<(), StoreError> {
        let path = self.packets.join(name);
        let verdict = if !name.ends_with(&format!(".{PACKET_EXT}")) {
            Err(format!(
                "not a packet file (expected <packet_id>.{PACKET_EXT})"
            ))
        } else {
            match verify(&path) {
                Ok(meta)
                    if super::packet_file_name(&meta.packet_id).ok().as_deref() != Some(name) =>
                {
                    Err(format!(
                        "file name does not match its packet id {:?}",
                        meta.packet_id
                    ))
                }
                Ok(meta) if queue::one(&self.conn, &meta.packet_id)?.is_some() => Err(format!(
                    "packet {} is already queued under another file",
                    meta.packet_id
                )),
                other => other,
            }
        };
        let db_err = |e| StoreError::sqlite(&self.db, e);
        let now = Timestamp::now();
        match verdict {
            Ok(meta) => {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(db_err)?;
                queue::insert(
                    &tx,
                    &meta,
                    name,
                    State::Sealed,
                    now,
                    Some("adopted on recovery"),
                )
                .map_err(db_err)?;
                tx.commit().map_err(db_err)?;
                tracing::warn!(packet_id = %meta.packet_id, "adopted a packet file that had no queue row");
                report.adopted.push(meta.packet_id);
            }
            Err(reason) => {
                // The file moves first: a crash before the row leaves it quarantined, never lost.
                let meta = self.placeholder_meta(name, &path, now)?;
                let target = self.free_quarantine_name(name);
                self.move_to_quarantine(name, &target)?;
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(db_err)?;
                queue::insert(&tx, &meta, &target, State::Quarantined, now, Some(&reason))
                    .map_err(db_err)?;
                tx.commit().map_err(db_err)?;
                tracing::error!(file = name, %reason, "quarantined a file that had no queue row and does not verify");
                report.quarantined.push((name.to_owned(), reason));
            }
        }
        Ok(())
    }

    /// `name`, or `name.1`, `name.2`… whichever is not taken in `quarantine/`.
    fn free_quarantine_name(&self, name: &str) -> String {
        let mut candidate = name.to_owned();
        let mut n = 1;
        while self.quarantine.join(&candidate).symlink_metadata().is_ok() {
            candidate = format!("{name}.{n}");
            n += 1;
        }
        candidate
    }

    /// What can be said of an unverifiable file: an unused id from its name, its size and age.
    fn placeholder_meta(
        &self,
        name: &str,
        path: &Path,
        now: Timestamp,
    ) -> Result<PacketMeta, StoreError> {
        let stem = name.strip_suffix(&format!(".{PACKET_EXT}")).unwrap_or(name);
        let mut packet_id = stem.to_owned();
        let mut n = 1;
        while queue::one(&self.conn, &packet_id)?.is_some() {
            packet_id = format!("{stem}#{n}");
            n += 1;
        }
        let md = path.metadata().map_err(|source| StoreError::Dir {
            path: path.to_path_buf(),
            source,
        })?;
        let created_at = md
            .modified()
            .ok()
            .and_then(|t| Timestamp::try_from(t).ok())
            .unwrap_or(now);
        Ok(PacketMeta {
            packet_id,
            kit_id: String::new(),
            size: md.len(),
            payload_sha256: String::new(),
            created_at,
            visit_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::store::tests::meta;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    /// A verifier that accepts files whose content is "good", naming the packet after the file.
    fn verify(path: &Path) -> Result<PacketMeta, String> {
        let bytes = fs::read(path).map_err(|e| e.to_string())?;
        if bytes != b"good" {
            return Err("signature does not verify".into());
        }
        let name = path.file_name().unwrap().to_str().unwrap();
        Ok(meta(name.trim_end_matches(".jpk"), "2025-03-02T10:00:00Z"))
    }

    #[test]
    fn a_clean_store_recovers_clean() {
        let (_dir, mut s) = store();
        s.commit_packet(&meta("p", "2025-03-01T08:00:00Z"), b"x")
            .unwrap();
        let report = s.recover(&verify).unwrap();
        assert!(report.is_clean(), "{report:?}");
    }

    #[test]
    fn temp_leftovers_are_removed() {
        let (_dir, mut s) = store();
        let leftover = s.packets_dir().join(".tmp-p.jpk-1234");
        fs::write(&leftover, b"half").unwrap();
        let report = s.recover(&verify).unwrap();
        assert_eq!(report.temp_removed, std::slice::from_ref(&leftover));
        assert!(!leftover.exists());
        assert!(s.list().unwrap().is_empty());
        assert!(!report.is_clean());
    }

    #[test]
    fn an_orphan_file_that_verifies_is_adopted_as_sealed() {
        let (_dir, mut s) = store();
        fs::write(s.packets_dir().join("orphan.jpk"), b"good").unwrap();
        let report = s.recover(&verify).unwrap();
        assert_eq!(report.adopted, ["orphan"]);
        let e = s.get("orphan").unwrap().unwrap();
        assert_eq!(
            (e.state, e.file.as_str(), e.file_present),
            (State::Sealed, "orphan.jpk", true)
        );
        assert_eq!(e.created_at, "2025-03-02T10:00:00Z".parse().unwrap());
        let h = s.history("orphan").unwrap();
        assert_eq!(h[0].note.as_deref(), Some("adopted on recovery"));
        assert!(s.recover(&verify).unwrap().is_clean());
    }

    #[test]
    fn an_orphan_file_that_fails_is_quarantined_with_its_reason() {
        let (_dir, mut s) = store();
        fs::write(s.packets_dir().join("bad.jpk"), b"tampered").unwrap();
        let report = s.recover(&verify).unwrap();
        assert_eq!(
            report.quarantined,
            [("bad.jpk".to_owned(), "signature does not verify".to_owned())]
        );
        assert!(!s.packets_dir().join("bad.jpk").exists());
        assert_eq!(
            fs::read(s.quarantine_dir().join("bad.jpk")).unwrap(),
            b"tampered"
        );
        let e = s.get("bad").unwrap().unwrap();
        assert_eq!(
            (e.state, e.size, e.file_present),
            (State::Quarantined, 8, true)
        );
        let h = s.history("bad").unwrap();
        assert_eq!((h[0].from, h[0].to), (None, State::Quarantined));
        assert_eq!(h[0].note.as_deref(), Some("signature does not verify"));
    }

    #[test]
    fn orphans_that_are_not_packets_or_misnamed_are_quarantined_too() {
        let (_dir, mut s) = store();
        fs::write(s.packets_dir().join("notes.txt"), b"good").unwrap();
        fs::write(s.packets_dir().join("renamed.jpk"), b"good").unwrap();
        fs::write(s.quarantine_dir().join("notes.txt"), b"older").unwrap();
        let wrong_name = |p: &Path| verify(p).map(|_| meta("other", "2025-03-02T10:00:00Z"));
        let report = s.recover(&wrong_name).unwrap();
        let reasons: Vec<&str> = report.quarantined.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "not a packet file (expected <packet_id>.jpk)",
                "file name does not match its packet id \"other\"",
            ]
        );
        assert_eq!(s.get("notes.txt").unwrap().unwrap().file, "notes.txt.1");
        assert_eq!(
            fs::read(s.quarantine_dir().join("notes.txt")).unwrap(),
            b"older"
        );
        assert!(fs::read_dir(s.packets_dir()).unwrap().next().is_none());
    }

    #[test]
    fn a_row_without_its_file_is_reported_missing_and_kept() {
        let (_dir, mut s) = store();
        let path = s
            .commit_packet(&meta("lost", "2025-03-01T08:00:00Z"), b"x")
            .unwrap();
        fs::remove_file(&path).unwrap();
        let report = s.recover(&verify).unwrap();
        assert_eq!(report.missing, ["lost"]);
        assert!(!report.is_clean());
        let e = s.get("lost").unwrap().unwrap();
        assert_eq!((e.state, e.file_present), (State::Sealed, false));
    }

    #[test]
    fn purged_and_quarantined_rows_without_files_are_not_missing() {
        let (_dir, mut s) = store();
        s.commit_packet(&meta("a", "2025-03-01T08:00:00Z"), b"x")
            .unwrap();
        s.transition("a", State::Uploading, None).unwrap();
        s.acknowledge("a", b"receipt", None).unwrap();
        s.transition("a", State::Purged, None).unwrap();
        s.commit_packet(&meta("q", "2025-03-01T08:00:00Z"), b"x")
            .unwrap();
        s.transition("q", State::Quarantined, None).unwrap();
        assert!(s.recover(&verify).unwrap().is_clean());
    }

    #[test]
    fn an_interrupted_purge_or_quarantine_is_finished() {
        let (_dir, mut s) = store();
        for id in ["a", "q"] {
            s.commit_packet(&meta(id, "2025-03-01T08:00:00Z"), b"x")
                .unwrap();
        }
        s.transition("a", State::Uploading, None).unwrap();
        s.acknowledge("a", b"receipt", None).unwrap();
        s.transition("a", State::Purged, None).unwrap();
        s.transition("q", State::Quarantined, None).unwrap();
        // Simulate a crash after the row commit and before the file operation.
        fs::write(s.packets_dir().join("a.jpk"), b"x").unwrap();
        fs::rename(
            s.quarantine_dir().join("q.jpk"),
            s.packets_dir().join("q.jpk"),
        )
        .unwrap();
        let report = s.recover(&verify).unwrap();
        assert_eq!(report.completed, ["a", "q"]);
        assert!(fs::read_dir(s.packets_dir()).unwrap().next().is_none());
        assert!(s.quarantine_dir().join("q.jpk").is_file());
        assert!(report.adopted.is_empty() && report.quarantined.is_empty());
    }
}

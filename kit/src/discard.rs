//! Discarding a draft that will never be finished (`jemput visit discard`): never silently — the
//! operator gives a reason, and an audit line (when, which visit, its category, how far it had
//! come, who, why; no biometrics and no resident data) is appended durably to `discarded.jsonl`
//! in the kit home before the draft is removed (`schemas/discarded.schema.json`, one per line).

use std::io::Write;
use std::path::{Path, PathBuf};

use jemput_core::fsutil;
use uuid::Uuid;

use crate::home::KitHome;
use crate::visit::{progress, DraftError, Drafts};

/// The audit file in the kit home: one JSON object per discarded draft.
pub const AUDIT_FILE: &str = "discarded.jsonl";

/// One line of [`AUDIT_FILE`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct DiscardRecord {
    pub at: jiff::Timestamp,
    pub visit_id: Uuid,
    /// The kit's operator (config), who discarded it.
    pub operator: Option<String>,
    pub reason: String,
    /// The visit's category; `None` when the draft could not be read.
    pub category: Option<String>,
    /// Captures and exceptions the visit held, of those it needed (`[done, needed]`).
    pub progress: Option<[usize; 2]>,
    /// Why the draft could not be read, when it could not (it is discarded all the same).
    pub unreadable: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscardError {
    #[error(
        "a draft is discarded only with a reason (--reason TEXT), kept in the kit's audit log"
    )]
    NoReason,
    #[error("visit {id} is being sealed into packet {packet}: run `jemput seal {id}` to finish, not discard")]
    BeingSealed { id: Uuid, packet: String },
    #[error("cannot write the audit line to {path}: {source}; the draft is kept")]
    Audit {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Draft(#[from] DraftError),
}

/// Discards the draft `id` (opened with `identity`) for `reason`: the audit line is written and
/// synced first, then the draft is removed. A draft whose record does not decrypt is discarded
/// too, the audit line saying why it could not be read.
pub fn discard(
    home: &KitHome,
    drafts: &Drafts,
    identity: &age::x25519::Identity,
    id: Uuid,
    reason: &str,
) -> Result<DiscardRecord, DiscardError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DiscardError::NoReason);
    }
    if !drafts.list()?.contains(&id) {
        return Err(DraftError::NotFound(id).into());
    }
    if let Some(packet) = drafts.sealing_marker(id) {
        return Err(DiscardError::BeingSealed { id, packet });
    }
    let mut record = DiscardRecord {
        at: jiff::Timestamp::now(),
        visit_id: id,
        operator: home.config.operator.clone(),
        reason: reason.to_string(),
        category: None,
        progress: None,
        unreadable: None,
    };
    match drafts.load(id, identity) {
        Ok((visit, _)) => {
            let (done, needed) = progress::count(&visit);
            record.category = Some(visit.category.code().to_string());
            record.progress = Some([done, needed]);
        }
        Err(e @ (DraftError::Decrypt { .. } | DraftError::Malformed { .. })) => {
            record.unreadable = Some(e.to_string());
        }
        Err(e) => return Err(e.into()),
    }
    append(&home.root.join(AUDIT_FILE), &record)?;
    drafts.remove(id)?;
    Ok(record)
}

/// Appends `record` as one line and syncs the file (and, when it is new, its directory).
fn append(path: &Path, record: &DiscardRecord) -> Result<(), DiscardError> {
    let err = |source| DiscardError::Audit {
        path: path.to_path_buf(),
        source,
    };
    let new = !path.exists();
    let mut line = serde_json::to_vec(record).expect("a discard record always serialises");
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    f.write_all(&line).map_err(err)?;
    f.sync_all().map_err(err)?;
    if new {
        fsutil::sync_dir(&fsutil::parent_dir(path)).map_err(err)?;
    }
    Ok(())
}

/// The discarded drafts recorded at `home`, oldest first.
pub fn audit_log(home: &Path) -> std::io::Result<Vec<DiscardRecord>> {
    let text = match std::fs::read_to_string(home.join(AUDIT_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::SecretString;

    fn kit(dir: &Path) -> KitHome {
        KitHome::init(
            dir,
            crate::home::InitOptions {
                office_recipients: Vec::new(),
                hub_key: None,
                operator: Some("op-3".into()),
                passphrase: SecretString::from("pass".to_string()),
                work_factor: 10,
            },
        )
        .unwrap()
    }

    #[test]
    fn a_discarded_draft_leaves_an_audit_line_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let h = kit(d.path());
        let drafts = h.drafts().unwrap();
        let identity = h
            .unlock_drafts(&SecretString::from("pass".to_string()))
            .unwrap();
        let opts = crate::visit::sample::SampleOptions::default();
        let (visit, files) = crate::visit::sample::synthetic_visit(5, &opts);
        for f in &files {
            drafts.save_file(visit.id, &f.name, &f.bytes).unwrap();
        }
        drafts.save_visit(&visit).unwrap();

        let e = discard(&h, &drafts, &identity, visit.id, "  ").unwrap_err();
        assert!(matches!(e, DiscardError::NoReason), "{e}");
        drafts.mark_sealing(visit.id, "p-1").unwrap();
        let e = discard(&h, &drafts, &identity, visit.id, "moved away").unwrap_err();
        assert!(e.to_string().contains("jemput seal"), "{e}");
        assert_eq!(drafts.list().unwrap(), [visit.id], "both refusals keep it");
        std::fs::remove_file(
            d.path()
                .join("drafts")
                .join(visit.id.to_string())
                .join("sealing"),
        )
        .unwrap();

        let r = discard(&h, &drafts, &identity, visit.id, "moved away").unwrap();
        assert!(drafts.list().unwrap().is_empty());
        assert!(!d.path().join("drafts").join(visit.id.to_string()).exists());
        assert_eq!(audit_log(d.path()).unwrap(), std::slice::from_ref(&r));
        assert_eq!(r.reason, "moved away");
        assert_eq!(r.operator.as_deref(), Some("op-3"));
        assert_eq!(r.category.as_deref(), Some("umum"));
        assert_eq!(r.progress, Some([12, 12]));
        let e = discard(&h, &drafts, &identity, visit.id, "again").unwrap_err();
        assert!(
            matches!(e, DiscardError::Draft(DraftError::NotFound(_))),
            "{e}"
        );
        assert_eq!(audit_log(d.path()).unwrap().len(), 1);
    }
}

//! Encrypted drafts: a visit in progress, saved capture by capture, never in plaintext.
//!
//! A draft is a directory `drafts/<visit id>/` in the kit home holding `visit.json.age` (the visit
//! record) and one `<file>.age` per capture file, each an age file encrypted to the kit's draft
//! recipient. Every write is durable (temp, fsync, rename, fsync dir), and a capture file is written
//! *before* the visit record refers to it, so a crash at any point loses nothing already captured;
//! a file the record does not refer to yet is ignored when the draft is loaded.

use std::path::{Path, PathBuf};

use uuid::Uuid;

use jemput_core::fsutil;
use jemput_core::packet::{manifest::valid_file_name, PacketFile};
use jemput_core::visit::Visit;

const RECORD: &str = "visit.json.age";
/// Written just before a draft's packet is stored: the id of that packet. If the kit dies between
/// storing the packet and removing the draft, the next seal finds the packet by this id (its row,
/// or the file recovery adopted) and removes the draft instead of sealing the visit twice.
const SEALING: &str = "sealing";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DraftError {
    #[error("no draft {0}; `jemput visit list` shows the drafts on this kit")]
    NotFound(Uuid),
    #[error("cannot {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the disk is full writing {path}: free space on the kit's disk; the draft so far is kept"
    )]
    DiskFull {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("draft {path} does not decrypt ({why}); wrong draft key or a damaged file")]
    Decrypt { path: PathBuf, why: String },
    #[error("draft record {path} is malformed: {why}")]
    Malformed { path: PathBuf, why: String },
    #[error("capture file name {0:?} is not allowed")]
    BadName(String),
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DraftError {
    let path = path.to_path_buf();
    move |source| {
        if fsutil::is_disk_full(&source) {
            DraftError::DiskFull { path, source }
        } else {
            DraftError::Io { what, path, source }
        }
    }
}

/// The drafts directory of a kit, writable with the public draft recipient alone.
#[derive(Debug, Clone)]
pub struct Drafts {
    dir: PathBuf,
    recipient: age::x25519::Recipient,
}

impl Drafts {
    pub fn new(dir: PathBuf, recipient: age::x25519::Recipient) -> Self {
        Drafts { dir, recipient }
    }

    fn visit_dir(&self, id: Uuid) -> PathBuf {
        self.dir.join(id.to_string())
    }

    fn write_encrypted(&self, path: &Path, plaintext: &[u8]) -> Result<(), DraftError> {
        let sealed = age::encrypt(&self.recipient, plaintext).map_err(|e| DraftError::Decrypt {
            path: path.into(),
            why: e.to_string(),
        })?;
        fsutil::write_atomic(path, &sealed, 0o600).map_err(io_err("write", path))
    }

    /// Saves (creates or replaces) the visit record.
    pub fn save_visit(&self, visit: &Visit) -> Result<(), DraftError> {
        let dir = self.visit_dir(visit.id);
        fsutil::ensure_dir(&dir, 0o700).map_err(io_err("create", &dir))?;
        let json = serde_json::to_vec(visit).expect("a visit always serialises");
        self.write_encrypted(&dir.join(RECORD), &json)
    }

    /// Saves one capture file of a visit. Call before saving the record that refers to it.
    pub fn save_file(&self, visit_id: Uuid, name: &str, bytes: &[u8]) -> Result<(), DraftError> {
        if !valid_file_name(name) {
            return Err(DraftError::BadName(name.into()));
        }
        let dir = self.visit_dir(visit_id);
        fsutil::ensure_dir(&dir, 0o700).map_err(io_err("create", &dir))?;
        self.write_encrypted(&dir.join(format!("{name}.age")), bytes)
    }

    /// Removes one capture file of a visit, once the saved record no longer refers to it (a
    /// capture taken again that became an exception). A file already gone is no error.
    pub fn remove_file(&self, visit_id: Uuid, name: &str) -> Result<(), DraftError> {
        if !valid_file_name(name) {
            return Err(DraftError::BadName(name.into()));
        }
        let path = self.visit_dir(visit_id).join(format!("{name}.age"));
        match fsutil::remove_durable(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err("remove", &path)(e)),
            _ => Ok(()),
        }
    }

    /// Ids of the drafts on the kit (directories with a visit record), oldest first by name.
    pub fn list(&self) -> Result<Vec<Uuid>, DraftError> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_err("read", &self.dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io_err("read", &self.dir))?;
            if let Ok(id) = entry.file_name().to_string_lossy().parse::<Uuid>() {
                if entry.path().join(RECORD).exists() {
                    out.push(id);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Loads a visit record and the files it refers to (needs the unlocked draft identity).
    pub fn load(
        &self,
        id: Uuid,
        identity: &age::x25519::Identity,
    ) -> Result<(Visit, Vec<PacketFile>), DraftError> {
        let dir = self.visit_dir(id);
        let visit = self.load_record(id, identity)?;
        let mut files = Vec::new();
        for name in visit.referenced_files() {
            let p = dir.join(format!("{name}.age"));
            files.push(PacketFile {
                bytes: read_decrypted(&p, identity)?,
                name,
            });
        }
        Ok((visit, files))
    }

    /// Loads the visit record alone, without decrypting its capture files: what a list of drafts
    /// or a progress line needs (needs the unlocked draft identity).
    pub fn load_record(
        &self,
        id: Uuid,
        identity: &age::x25519::Identity,
    ) -> Result<Visit, DraftError> {
        let record = self.visit_dir(id).join(RECORD);
        if !record.exists() {
            return Err(DraftError::NotFound(id));
        }
        serde_json::from_slice(&read_decrypted(&record, identity)?).map_err(|e| {
            DraftError::Malformed {
                path: record.clone(),
                why: e.to_string(),
            }
        })
    }

    /// Decrypts one capture file of a draft into memory (a thumbnail to show), only if the saved
    /// record refers to it: a file left over from a capture taken again is never served.
    pub fn load_file(
        &self,
        id: Uuid,
        name: &str,
        identity: &age::x25519::Identity,
    ) -> Result<Vec<u8>, DraftError> {
        if !valid_file_name(name) {
            return Err(DraftError::BadName(name.into()));
        }
        let visit = self.load_record(id, identity)?;
        if !visit.referenced_files().iter().any(|f| f == name) {
            return Err(DraftError::BadName(name.into()));
        }
        read_decrypted(&self.visit_dir(id).join(format!("{name}.age")), identity)
    }

    /// Records that the draft is being sealed into `packet_id` (durably, before the packet is stored).
    pub fn mark_sealing(&self, id: Uuid, packet_id: &str) -> Result<(), DraftError> {
        let p = self.visit_dir(id).join(SEALING);
        fsutil::write_atomic(&p, packet_id.as_bytes(), 0o600).map_err(io_err("write", &p))
    }

    /// The packet id a previous, interrupted seal of this draft was storing, if any.
    pub fn sealing_marker(&self, id: Uuid) -> Option<String> {
        std::fs::read_to_string(self.visit_dir(id).join(SEALING)).ok()
    }

    /// Takes the kit's seal lock (an exclusive `flock` on the drafts directory), held until the
    /// returned file is dropped. Two seals of one draft at once — a button pressed twice, two
    /// `jemput seal` processes — would each find no packet yet and seal the draft twice; under
    /// the lock the second finds the first's packet instead. Waits while another seal holds it.
    pub fn lock_for_sealing(&self) -> Result<std::fs::File, DraftError> {
        fsutil::ensure_dir(&self.dir, 0o700).map_err(io_err("create", &self.dir))?;
        let dir = std::fs::File::open(&self.dir).map_err(io_err("open", &self.dir))?;
        // flock(2) through rustix (written when std's File::lock, stable since Rust 1.89, was newer
        // than the workspace's minimum Rust; it takes the same lock).
        rustix::fs::flock(&dir, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| io_err("lock", &self.dir)(e.into()))?;
        Ok(dir)
    }

    /// Removes a draft once its packet is committed to the queue. A draft already gone (sealed
    /// and removed before) is no error.
    pub fn remove(&self, id: Uuid) -> Result<(), DraftError> {
        let dir = self.visit_dir(id);
        if !dir.exists() {
            return Ok(());
        }
        // Remove the record first: a crash midway leaves no loadable half-draft.
        let record = dir.join(RECORD);
        if record.exists() {
            fsutil::remove_durable(&record).map_err(io_err("remove", &record))?;
        }
        std::fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        fsutil::sync_dir(&self.dir).map_err(io_err("sync", &self.dir))
    }
}

fn read_decrypted(path: &Path, identity: &age::x25519::Identity) -> Result<Vec<u8>, DraftError> {
    let sealed = std::fs::read(path).map_err(io_err("read", path))?;
    age::decrypt(identity, &sealed).map_err(|e| DraftError::Decrypt {
        path: path.into(),
        why: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::sample::{synthetic_visit, SampleOptions};

    #[test]
    fn the_record_and_one_file_are_read_alone_and_only_files_the_record_names() {
        let dir = tempfile::tempdir().unwrap();
        let identity = age::x25519::Identity::generate();
        let drafts = Drafts::new(dir.path().join("drafts"), identity.to_public());
        let (visit, files) = synthetic_visit(5, &SampleOptions::default());
        for f in &files {
            drafts.save_file(visit.id, &f.name, &f.bytes).unwrap();
        }
        drafts.save_visit(&visit).unwrap();
        drafts.save_file(visit.id, "left-over.jpg", b"old").unwrap();

        let face = files.iter().find(|f| f.name.starts_with("face")).unwrap();
        assert_eq!(
            drafts.load_file(visit.id, &face.name, &identity).unwrap(),
            face.bytes
        );
        // A file on disk the record does not name, and a name that is no file name, are refused.
        assert!(matches!(
            drafts.load_file(visit.id, "left-over.jpg", &identity),
            Err(DraftError::BadName(_))
        ));
        assert!(matches!(
            drafts.load_file(visit.id, "../visit.json", &identity),
            Err(DraftError::BadName(_))
        ));
        // The record alone does not touch the capture files: with one gone, the whole draft no
        // longer loads but its record still does.
        std::fs::remove_file(
            dir.path()
                .join(format!("drafts/{}/{}.age", visit.id, face.name)),
        )
        .unwrap();
        assert!(drafts.load(visit.id, &identity).is_err());
        let record = drafts.load_record(visit.id, &identity).unwrap();
        assert_eq!(record.id, visit.id);
        assert_eq!(record.captures.fingers, visit.captures.fingers);
        assert_eq!(record.referenced_files(), visit.referenced_files());
        let other = Uuid::new_v4();
        assert!(matches!(
            drafts.load_record(other, &identity),
            Err(DraftError::NotFound(id)) if id == other
        ));
    }
}

//! Is a visit ready to seal? Every problem, in words an operator understands.

use std::fmt;

use super::model::{ConsentBy, FingerPosition, ResidentRef, Slot, Visit};
use super::nik;

/// One reason a visit cannot be sealed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NoConsent,
    ConsentRefused,
    BadNik(String),
    Unconfirmed(nik::Warning),
    MissingFace,
    MissingFinger(FingerPosition),
    MissingSignature,
    NoDocuments,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoConsent => write!(f, "persetujuan belum dicatat / consent not recorded"),
            Problem::ConsentRefused => write!(f, "persetujuan tidak diberikan / consent not given"),
            Problem::BadNik(e) => write!(f, "{e}"),
            Problem::Unconfirmed(w) => write!(
                f,
                "peringatan belum dikonfirmasi ({}): {} / unconfirmed warning: {}",
                w.code, w.text_id, w.text_en
            ),
            Problem::MissingFace => write!(
                f,
                "foto wajah belum diambil dan tidak ada pengecualian / face photo missing and no exception"
            ),
            Problem::MissingFinger(p) => write!(
                f,
                "sidik jari {} ({}) belum diambil dan tidak ada pengecualian / finger {} ({}) missing and no exception",
                p.code(),
                p.name_id(),
                p.code(),
                p.name_en()
            ),
            Problem::MissingSignature => write!(
                f,
                "tanda tangan belum diambil dan tidak ada pengecualian / signature missing and no exception"
            ),
            Problem::NoDocuments => write!(
                f,
                "layanan dokumen tanpa foto dokumen / a document-only visit needs a document photo"
            ),
        }
    }
}

impl Visit {
    /// The NIK warnings that apply to this visit (empty for worklist references or clean NIKs).
    pub fn nik_warnings(&self) -> Vec<nik::Warning> {
        match &self.resident.reference {
            ResidentRef::Nik(n) => match nik::parse(n) {
                Ok(info) => nik::cross_check(&info, self.resident.sex, self.resident.birth_date),
                Err(_) => Vec::new(),
            },
            ResidentRef::Worklist(_) => Vec::new(),
        }
    }

    /// Everything that blocks sealing; empty when the visit is complete.
    pub fn readiness(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        match &self.consent {
            None => out.push(Problem::NoConsent),
            Some(c) if !c.given => out.push(Problem::ConsentRefused),
            Some(c) => {
                if let ConsentBy::Guardian(name) = &c.given_by {
                    if name.trim().is_empty() {
                        out.push(Problem::NoConsent);
                    }
                }
            }
        }
        if let ResidentRef::Nik(n) = &self.resident.reference {
            if let Err(e) = nik::parse(n) {
                out.push(Problem::BadNik(e.to_string()));
            }
        }
        for w in self.nik_warnings() {
            if !self.confirmed_warnings.iter().any(|c| c == w.code) {
                out.push(Problem::Unconfirmed(w));
            }
        }
        if self.category.records_biometrics() {
            if self.captures.face.is_none() {
                out.push(Problem::MissingFace);
            }
            for p in FingerPosition::all() {
                if !self.captures.fingers.contains_key(&p) {
                    out.push(Problem::MissingFinger(p));
                }
            }
            if self.captures.signature.is_none() {
                out.push(Problem::MissingSignature);
            }
        } else if self.captures.documents.is_empty() {
            out.push(Problem::NoDocuments);
        }
        out
    }

    /// Every file name the visit's captures and exceptions refer to, in a stable order.
    pub fn referenced_files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut slot = |s: &Slot| match s {
            Slot::Captured(c) => {
                out.push(c.file.clone());
                out.extend(c.extra_files.iter().cloned());
            }
            Slot::Exception(e) => out.extend(e.proof_file.iter().cloned()),
        };
        if let Some(s) = &self.captures.face {
            slot(s);
        }
        for s in self.captures.fingers.values() {
            slot(s);
        }
        if let Some(s) = &self.captures.signature {
            slot(s);
        }
        for d in &self.captures.documents {
            out.push(d.file.clone());
            out.extend(d.extra_files.iter().cloned());
        }
        out
    }

    /// Number of biometric exceptions recorded.
    pub fn exception_count(&self) -> usize {
        let c = &self.captures;
        c.face
            .iter()
            .chain(c.fingers.values())
            .chain(c.signature.iter())
            .filter(|s| matches!(s, Slot::Exception(_)))
            .count()
    }
}

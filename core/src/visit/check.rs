//! Is a visit ready to seal? Every problem, in words an operator understands; and which
//! document-photo exceptions a visit can take.

use std::fmt;

use super::model::{
    Category, ConsentBy, DocumentKind, Exception, FingerPosition, ResidentRef, Slot, Visit,
};
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
    /// A visit that records biometrics holds an exception for document photos, which only a
    /// document-only visit may have.
    DocumentExceptionWithBiometrics,
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
                "layanan dokumen tanpa foto dokumen dan tanpa pengecualian / a document-only visit needs a document photo or an exception for it"
            ),
            Problem::DocumentExceptionWithBiometrics => write!(
                f,
                "pengecualian foto dokumen hanya untuk layanan dokumen (dokumen) / a document-photo exception belongs only to a document-only visit (dokumen): a visit that records biometrics needs no document photo"
            ),
        }
    }
}

/// Why a document-photo exception cannot be recorded in a visit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentExceptionError {
    #[error(
        "a {0} visit records biometrics and needs no document photo: a document-photo exception \
         belongs only to a document-only visit (dokumen)"
    )]
    RecordsBiometrics(Category),
    #[error(
        "the draft holds {0} document photo(s): an exception for every document photo would \
         contradict them; name the document that cannot be photographed (akta, kia or kk)"
    )]
    AllWithPhotos(usize),
    #[error(
        "an exception for {held} is recorded: an exception for {asked} beside it would say the \
         same twice (record `all` alone, or each document alone)"
    )]
    Overlaps {
        held: DocumentKind,
        asked: DocumentKind,
    },
}

impl Visit {
    /// Records `exception` for the photo of `document` (`all`: every document photo) in place of
    /// an exception the same document held, which is returned. Refused for a visit that records
    /// biometrics, for `all` when the visit holds document photos, and for `all` beside an
    /// exception for one document (or one document beside `all`).
    pub fn record_document_exception(
        &mut self,
        document: DocumentKind,
        exception: Exception,
    ) -> Result<Option<Exception>, DocumentExceptionError> {
        if self.category.records_biometrics() {
            return Err(DocumentExceptionError::RecordsBiometrics(self.category));
        }
        let photos = self.captures.documents.len();
        if document == DocumentKind::All && photos > 0 {
            return Err(DocumentExceptionError::AllWithPhotos(photos));
        }
        let held = self.captures.document_exceptions.keys().copied();
        if let Some(held) = held
            .filter(|h| *h != document)
            .find(|h| *h == DocumentKind::All || document == DocumentKind::All)
        {
            return Err(DocumentExceptionError::Overlaps {
                held,
                asked: document,
            });
        }
        Ok(self
            .captures
            .document_exceptions
            .insert(document, exception))
    }

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
            if !self.captures.document_exceptions.is_empty() {
                out.push(Problem::DocumentExceptionWithBiometrics);
            }
        } else if self.captures.documents.is_empty() && self.captures.document_exceptions.is_empty()
        {
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
        for e in self.captures.document_exceptions.values() {
            out.extend(e.proof_file.iter().cloned());
        }
        out
    }

    /// Number of exceptions recorded (biometric and document photos).
    pub fn exception_count(&self) -> usize {
        self.exceptions().len()
    }

    /// Every exception recorded, in a stable order, each with what it stands for: `face`,
    /// `finger-NN`, `signature`, `documents` (every document photo) or `document-akta`,
    /// `document-kia`, `document-kk`.
    pub fn exceptions(&self) -> Vec<(String, &Exception)> {
        let c = &self.captures;
        let face = c.face.iter().map(|s| ("face".to_string(), s));
        let fingers = c
            .fingers
            .iter()
            .map(|(p, s)| (format!("finger-{:02}", p.code()), s));
        let signature = c.signature.iter().map(|s| ("signature".to_string(), s));
        let mut out: Vec<(String, &Exception)> = face
            .chain(fingers)
            .chain(signature)
            .filter_map(|(what, s)| match s {
                Slot::Exception(e) => Some((what, e)),
                Slot::Captured(_) => None,
            })
            .collect();
        for (d, e) in &c.document_exceptions {
            let what = match d {
                DocumentKind::All => "documents".to_string(),
                d => format!("document-{}", d.code()),
            };
            out.push((what, e));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{synthetic_visit, Plain, SampleOptions};
    use crate::visit::{ExceptionReason, Permanence};

    fn visit(category: Category) -> Visit {
        let opts = SampleOptions {
            category,
            documents: 1,
            ..Default::default()
        };
        synthetic_visit(&Plain, 7, &opts).0
    }

    fn refused() -> Exception {
        Exception {
            reason: ExceptionReason::Refused,
            permanence: Permanence::Temporary,
            proof_file: None,
            noted_at: jiff::Timestamp::now(),
        }
    }

    #[test]
    fn a_document_only_visit_with_an_exception_and_no_photo_is_ready() {
        let mut v = visit(Category::Dokumen);
        v.captures.documents.clear();
        assert_eq!(v.readiness(), [Problem::NoDocuments]);
        v.record_document_exception(DocumentKind::All, refused())
            .unwrap();
        assert_eq!(v.readiness(), []);
        assert_eq!(v.exception_count(), 1);
        assert_eq!(v.exceptions()[0].0, "documents");
    }

    #[test]
    fn a_biometric_visit_refuses_a_document_exception_and_is_not_ready_with_one() {
        let mut v = visit(Category::Lansia);
        assert_eq!(v.readiness(), []);
        let e = v
            .record_document_exception(DocumentKind::Kk, refused())
            .unwrap_err();
        assert_eq!(
            e,
            DocumentExceptionError::RecordsBiometrics(Category::Lansia)
        );
        assert!(
            e.to_string().contains("document-only visit (dokumen)"),
            "{e}"
        );
        // A record that holds one anyway (edited by hand) does not seal.
        v.captures
            .document_exceptions
            .insert(DocumentKind::Kk, refused());
        assert_eq!(v.readiness(), [Problem::DocumentExceptionWithBiometrics]);
    }

    #[test]
    fn all_documents_and_one_document_do_not_overlap() {
        let mut v = visit(Category::Dokumen);
        assert_eq!(
            v.record_document_exception(DocumentKind::All, refused()),
            Err(DocumentExceptionError::AllWithPhotos(1))
        );
        assert_eq!(
            v.record_document_exception(DocumentKind::Akta, refused()),
            Ok(None)
        );
        assert!(v
            .record_document_exception(DocumentKind::Akta, refused())
            .unwrap()
            .is_some());
        v.captures.documents.clear();
        assert_eq!(
            v.record_document_exception(DocumentKind::All, refused()),
            Err(DocumentExceptionError::Overlaps {
                held: DocumentKind::Akta,
                asked: DocumentKind::All
            })
        );
        let names: Vec<_> = v.exceptions().into_iter().map(|(w, _)| w).collect();
        assert_eq!(names, ["document-akta"]);
    }

    #[test]
    fn a_proof_photo_of_a_document_exception_is_a_referenced_file() {
        let mut v = visit(Category::Dokumen);
        let mut e = refused();
        e.proof_file = Some("proof-kk.jpg".into());
        v.record_document_exception(DocumentKind::Kk, e).unwrap();
        assert!(v.referenced_files().contains(&"proof-kk.jpg".to_string()));
    }

    #[test]
    fn a_manifest_visit_without_document_exceptions_reads_and_writes_as_before() {
        let v = visit(Category::Dokumen);
        let json = serde_json::to_value(&v).unwrap();
        assert!(json["captures"].get("document_exceptions").is_none());
        let back: Visit = serde_json::from_value(json).unwrap();
        assert_eq!(back, v);
        let mut w = v.clone();
        w.captures.documents.clear();
        w.record_document_exception(DocumentKind::All, refused())
            .unwrap();
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(
            json["captures"]["document_exceptions"]["all"]["reason"]["code"],
            "refused"
        );
        assert_eq!(serde_json::from_value::<Visit>(json).unwrap(), w);
    }
}

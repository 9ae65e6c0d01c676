//! Starting a visit (`jemput visit new`): the kit's offline policy first (past a limit nothing is
//! started), then the resident as the operator entered them or from the synced worklist's entry
//! (an id the worklist lacks is refused), the exceptions already known (a finger, the face, the
//! signature, a document-only visit's document photos), and the visit saved at once as an encrypted draft; recording consent on a draft
//! ([`record_consent`], also `jemput visit capture --consent`); and confirming a draft's NIK
//! warnings once they were checked with the resident (`jemput visit confirm`).

use jemput_core::imaging::signature::SignatureKind;
use jemput_core::visit::{
    nik, Category, Consent, ConsentBy, DocumentKind, Exception, ExceptionReason, FingerPosition,
    GeoPoint, Operator, Permanence, Place, Resident, ResidentRef, Sex, Slot, Visit,
};
use jemput_core::worklist::WorklistEntry;
use uuid::Uuid;

use crate::home::KitHome;
use crate::visit::attempt::Subject;
use crate::visit::sample::{synthetic_visit, SampleOptions};
use crate::visit::Step;
use crate::visit::{DraftError, Drafts};

/// A visit as the operator starts it.
#[derive(Debug, Clone, Default)]
pub struct NewVisit {
    /// The resident's NIK (16 digits); else `worklist` names the resident.
    pub nik: Option<String>,
    /// A worklist entry's id: fills the resident reference (its NIK, else the entry id), name,
    /// category and place where they are not given.
    pub worklist: Option<String>,
    pub name: Option<String>,
    pub sex: Option<Sex>,
    pub birth_date: Option<jiff::civil::Date>,
    /// A foreign national (KTP-el for foreigners).
    pub foreigner: bool,
    /// Default: the worklist entry's.
    pub category: Option<Category>,
    /// Default: the kit's operator.
    pub operator: Option<String>,
    /// Address, ward or village; empty: the worklist entry's place, if any.
    pub place: String,
    /// (lat, lon).
    pub location: Option<(f64, f64)>,
    /// `resident`, or `guardian:NAME`.
    pub consent: Option<String>,
    /// Fill every capture from the built-in synthetic generators.
    pub synthetic: Option<Synthetic>,
    /// Warning codes already confirmed with the resident.
    pub confirm: Vec<String>,
    /// Exceptions known before capturing (a bandaged finger, a resident unable to sign, a face
    /// photo refused), recorded in the draft at once in place of those captures; with `synthetic`
    /// too.
    pub exceptions: Vec<(Subject, ExceptionReason, Permanence)>,
    /// Document photos that cannot be taken (a document-only visit): which document (`all`:
    /// every one), why, and whether for good; recorded in the draft at once.
    pub document_exceptions: Vec<(DocumentKind, ExceptionReason, Permanence)>,
}

/// A visit whose captures come from the synthetic generators.
#[derive(Debug, Clone, Default)]
pub struct Synthetic {
    /// The generators' seed.
    pub seed: u64,
    pub finger_exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
    /// What the resident wrote on the pad.
    pub signature_kind: SignatureKind,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("no operator: pass --operator or `jemput config set operator ID`")]
    NoOperator,
    #[error("no resident: pass --nik or --worklist")]
    NoResident,
    #[error("no category: pass --category")]
    NoCategory,
    #[error("{id:?} is not in the synced worklist ({entries} entries): check the id with `jemput worklist`, run `jemput sync` if the office added it since, or start the visit with --nik")]
    NotInWorklist { id: String, entries: usize },
    #[error("--consent is `resident` or `guardian:NAME`")]
    BadConsent,
    #[error("a document-only visit (dokumen) records no face, fingers or signature: leave out the exception for the {0}")]
    ExceptionWithoutBiometrics(String),
    #[error("two exceptions for the {0}: give one")]
    ExceptionTwice(String),
    #[error(transparent)]
    DocumentException(#[from] jemput_core::visit::DocumentExceptionError),
    #[error("visit {id} has no warning {code:?} (warnings: {known:?})")]
    UnknownWarning {
        id: Uuid,
        code: String,
        known: Vec<&'static str>,
    },
    #[error(transparent)]
    Nik(#[from] nik::NikError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Offline(#[from] crate::sync::status::NewVisitError),
    #[error(transparent)]
    Sync(#[from] crate::sync::client::SyncError),
    #[error(transparent)]
    Draft(#[from] DraftError),
}

/// The synced worklist's entry `id`; an id the kit's worklist lacks is refused (a visit with no
/// name and no NIK check would follow).
fn worklist_entry(home: &KitHome, id: &str) -> Result<WorklistEntry, StartError> {
    let entries = crate::sync::client::load_state(home)?
        .map(|(_, b)| b.worklist)
        .unwrap_or_default();
    let count = entries.len();
    entries
        .into_iter()
        .find(|e| e.id == id.trim())
        .ok_or_else(|| StartError::NotInWorklist {
            id: id.trim().to_string(),
            entries: count,
        })
}

/// A visit with nothing captured yet.
fn blank(category: Category, operator: &str) -> Visit {
    Visit {
        id: Uuid::new_v4(),
        resident: Resident {
            reference: ResidentRef::Nik(String::new()),
            name: None,
            sex: None,
            birth_date: None,
            foreigner: false,
        },
        category,
        operator: Operator {
            id: operator.to_string(),
            name: None,
        },
        consent: None,
        place: Place {
            description: String::new(),
            location: None,
        },
        started_at: jiff::Timestamp::now(),
        captures: Default::default(),
        confirmed_warnings: Vec::new(),
    }
}

/// Starts the visit `new` describes on the kit at `home` and saves it (and, for a synthetic one,
/// its files) to `drafts`.
pub fn start(home: &KitHome, drafts: &Drafts, new: &NewVisit) -> Result<Visit, StartError> {
    let operator = new
        .operator
        .clone()
        .or(home.config.operator.clone())
        .ok_or(StartError::NoOperator)?;
    if let Some(nik) = &new.nik {
        nik::parse(nik)?;
    }
    // The offline policy first: past a limit, nothing is started.
    let store = crate::store::Store::open(&home.root)?;
    crate::sync::status::check_new_visit(home, &store)?;
    drop(store);
    let entry = match &new.worklist {
        Some(id) => Some(worklist_entry(home, id)?),
        None => None,
    };
    let Some(category) = new.category.or(entry.as_ref().map(|e| e.category)) else {
        return Err(StartError::NoCategory);
    };
    check_exceptions(category, &new.exceptions)?;
    let (mut visit, files) = match &new.synthetic {
        Some(s) => {
            let mut finger_exceptions = s.finger_exceptions.clone();
            finger_exceptions.extend(new.exceptions.iter().filter_map(|(subject, r, p)| {
                match subject {
                    Subject::Finger(f) => Some((*f, r.clone(), *p)),
                    _ => None,
                }
            }));
            synthetic_visit(
                s.seed,
                &SampleOptions {
                    category,
                    operator: operator.clone(),
                    finger_exceptions,
                    signature_kind: s.signature_kind,
                    ..Default::default()
                },
            )
        }
        None => (blank(category, &operator), Vec::new()),
    };
    for (subject, reason, permanence) in &new.exceptions {
        record_exception(&mut visit, *subject, reason.clone(), *permanence);
    }
    for (i, (document, reason, permanence)) in new.document_exceptions.iter().enumerate() {
        if new.document_exceptions[..i]
            .iter()
            .any(|(d, _, _)| d == document)
        {
            return Err(StartError::ExceptionTwice(document.name_en().into()));
        }
        if *document == DocumentKind::All && new.synthetic.is_some() {
            // The synthetic document photos stand for photos that cannot be taken.
            visit.captures.documents.clear();
        }
        let exception = Exception {
            reason: reason.clone(),
            permanence: *permanence,
            proof_file: None,
            noted_at: jiff::Timestamp::now(),
        };
        visit.record_document_exception(*document, exception)?;
    }
    // A synthetic face, signature or document photo an exception replaced is not kept.
    let referenced = visit.referenced_files();
    let files: Vec<_> = files
        .into_iter()
        .filter(|f| referenced.contains(&f.name))
        .collect();
    visit.resident = Resident {
        reference: match (&new.nik, &new.worklist, &entry) {
            (Some(nik), _, _) => ResidentRef::Nik(nik.trim().into()),
            (None, _, Some(WorklistEntry { nik: Some(nik), .. })) => ResidentRef::Nik(nik.clone()),
            (None, Some(w), _) => ResidentRef::Worklist(w.clone()),
            (None, None, _) => return Err(StartError::NoResident),
        },
        name: new.name.clone().or(entry.as_ref().map(|e| e.name.clone())),
        sex: new.sex,
        birth_date: new.birth_date,
        foreigner: new.foreigner,
    };
    visit.operator = Operator {
        id: operator,
        name: None,
    };
    if let (true, Some(e)) = (new.place.is_empty(), &entry) {
        visit.place.description = e.place();
    }
    if !new.place.is_empty() || new.location.is_some() {
        visit.place = Place {
            description: new.place.clone(),
            location: new.location.map(|(lat, lon)| GeoPoint {
                lat,
                lon,
                accuracy_m: None,
            }),
        };
    }
    if let Some(c) = &new.consent {
        record_consent(&mut visit, c)?;
    } else if new.synthetic.is_none() {
        visit.consent = None;
    }
    visit.confirmed_warnings = new.confirm.clone();
    for f in &files {
        drafts.save_file(visit.id, &f.name, &f.bytes)?;
    }
    drafts.save_visit(&visit)?;
    Ok(visit)
}

/// Records in `visit` the consent given now by `by`: `resident`, or `guardian:NAME`. The caller
/// saves the visit.
pub fn record_consent(visit: &mut Visit, by: &str) -> Result<(), StartError> {
    let given_by = match by.trim() {
        "resident" => ConsentBy::Resident,
        g => match g.strip_prefix("guardian:") {
            Some(name) if !name.trim().is_empty() => ConsentBy::Guardian(name.trim().into()),
            _ => return Err(StartError::BadConsent),
        },
    };
    visit.consent = Some(Consent {
        given: true,
        given_by,
        at: jiff::Timestamp::now(),
    });
    Ok(())
}

/// Refuses exceptions a visit of `category` cannot hold: any, for a visit that records no
/// biometrics; two for one face, finger or signature.
fn check_exceptions(
    category: Category,
    exceptions: &[(Subject, ExceptionReason, Permanence)],
) -> Result<(), StartError> {
    for (i, (subject, _, _)) in exceptions.iter().enumerate() {
        let what = Step::from(*subject).to_string();
        if !category.records_biometrics() {
            return Err(StartError::ExceptionWithoutBiometrics(what));
        }
        if exceptions[..i].iter().any(|(s, _, _)| s == subject) {
            return Err(StartError::ExceptionTwice(what));
        }
    }
    Ok(())
}

/// Records an exception for `subject` in `visit`, noted now, in place of whatever its slot held.
fn record_exception(
    visit: &mut Visit,
    subject: Subject,
    reason: ExceptionReason,
    permanence: Permanence,
) {
    let slot = Slot::Exception(Exception {
        reason,
        permanence,
        proof_file: None,
        noted_at: jiff::Timestamp::now(),
    });
    let c = &mut visit.captures;
    match subject {
        Subject::Face => c.face = Some(slot),
        Subject::Finger(f) => {
            c.fingers.insert(f, slot);
        }
        Subject::Signature => c.signature = Some(slot),
    }
}

/// Records `codes` as confirmed on the draft `id` (opened with `identity`): each must be one of
/// the visit's NIK warnings; a code confirmed before stays once.
pub fn confirm(
    drafts: &Drafts,
    identity: &age::x25519::Identity,
    id: Uuid,
    codes: &[String],
) -> Result<(), StartError> {
    let (mut visit, _) = drafts.load(id, identity)?;
    let known: Vec<&'static str> = visit.nik_warnings().iter().map(|w| w.code).collect();
    for c in codes {
        if !known.contains(&c.as_str()) {
            return Err(StartError::UnknownWarning {
                id,
                code: c.clone(),
                known,
            });
        }
        if !visit.confirmed_warnings.contains(c) {
            visit.confirmed_warnings.push(c.clone());
        }
    }
    drafts.save_visit(&visit)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::SecretString;

    const NIK: &str = "7408014512500001"; // a woman born 1950-12-05

    fn home(dir: &std::path::Path, operator: Option<&str>) -> KitHome {
        KitHome::init(
            dir,
            crate::home::InitOptions {
                office_recipients: Vec::new(),
                hub_key: None,
                operator: operator.map(String::from),
                passphrase: SecretString::from("pass".to_string()),
                work_factor: 10,
            },
        )
        .unwrap()
    }

    fn new(nik: &str) -> NewVisit {
        NewVisit {
            nik: Some(nik.into()),
            category: Some(Category::Lansia),
            consent: Some("guardian:Budi".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_visit_starts_as_entered_and_is_saved_at_once() {
        let d = tempfile::tempdir().unwrap();
        let h = home(d.path(), Some("op-7"));
        let drafts = h.drafts().unwrap();
        let mut n = new(&format!(" {NIK} "));
        n.location = Some((-3.1, 121.1));
        let v = start(&h, &drafts, &n).unwrap();
        assert_eq!(v.resident.reference, ResidentRef::Nik(NIK.into()));
        assert_eq!(v.operator.id, "op-7");
        assert_eq!(
            v.consent.as_ref().unwrap().given_by,
            ConsentBy::Guardian("Budi".into())
        );
        assert_eq!(v.place.location.unwrap().lat, -3.1);
        assert!(v.captures.face.is_none());
        let identity = h
            .unlock_drafts(&SecretString::from("pass".to_string()))
            .unwrap();
        assert_eq!(drafts.load(v.id, &identity).unwrap().0, v);
    }

    #[test]
    fn a_worklist_id_the_kit_does_not_hold_is_refused_and_nothing_is_saved() {
        let d = tempfile::tempdir().unwrap();
        let h = home(d.path(), Some("op-7"));
        let drafts = h.drafts().unwrap();
        for category in [Some(Category::Sakit), None] {
            let n = NewVisit {
                worklist: Some("W-9".into()),
                category,
                ..Default::default()
            };
            let e = start(&h, &drafts, &n).unwrap_err();
            assert!(
                matches!(e, StartError::NotInWorklist { ref id, entries: 0 } if id == "W-9"),
                "{e}"
            );
            assert!(e.to_string().contains("jemput sync"), "{e}");
        }
        assert!(drafts.list().unwrap().is_empty());
    }

    #[test]
    fn what_the_operator_must_fix_is_refused_before_anything_is_saved() {
        let d = tempfile::tempdir().unwrap();
        let h = home(d.path(), None);
        let drafts = h.drafts().unwrap();
        let e = start(&h, &drafts, &new(NIK)).unwrap_err();
        assert!(matches!(e, StartError::NoOperator), "{e}");
        let mut n = new(NIK);
        n.operator = Some("op-1".into());
        n.consent = Some("guardian: ".into());
        let e = start(&h, &drafts, &n).unwrap_err();
        assert_eq!(e.to_string(), "--consent is `resident` or `guardian:NAME`");
        n.nik = Some("12".into());
        assert!(matches!(start(&h, &drafts, &n), Err(StartError::Nik(_))));
        assert!(drafts.list().unwrap().is_empty());
    }

    #[test]
    fn only_the_visits_own_warnings_can_be_confirmed_and_each_once() {
        let d = tempfile::tempdir().unwrap();
        let h = home(d.path(), Some("op-7"));
        let drafts = h.drafts().unwrap();
        let mut n = new(NIK);
        n.sex = Some(Sex::Male); // the NIK says a woman
        let v = start(&h, &drafts, &n).unwrap();
        let codes: Vec<String> = v.nik_warnings().iter().map(|w| w.code.into()).collect();
        assert!(!codes.is_empty());
        let identity = h
            .unlock_drafts(&SecretString::from("pass".to_string()))
            .unwrap();
        let e = confirm(&drafts, &identity, v.id, &["made_up".into()]).unwrap_err();
        assert!(e.to_string().contains("has no warning \"made_up\""), "{e}");
        confirm(&drafts, &identity, v.id, &codes).unwrap();
        confirm(&drafts, &identity, v.id, &codes).unwrap();
        let saved = drafts.load(v.id, &identity).unwrap().0;
        assert_eq!(saved.confirmed_warnings, codes);
        assert!(saved
            .readiness()
            .iter()
            .all(|p| !matches!(p, jemput_core::visit::check::Problem::Unconfirmed(_))));
    }
}

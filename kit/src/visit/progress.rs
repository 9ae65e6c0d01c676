//! How far a visit has come, from its record alone (no devices): the slots its category needs and
//! the first one still empty — what a list of drafts shows as the step reached.

use jemput_core::visit::{FingerPosition, Visit};

use super::slots;
use super::step::Step;

/// The steps whose captures `visit` needs before it can be sealed, in order: the face, each
/// finger and the signature for a visit that records biometrics (each filled by a capture or an
/// exception); the first document photo (or an exception for one) for a document-only visit.
/// The location and further document photos are never needed.
pub fn needed(visit: &Visit) -> Vec<Step> {
    if visit.category.records_biometrics() {
        std::iter::once(Step::Face)
            .chain(FingerPosition::all().map(Step::Finger))
            .chain(std::iter::once(Step::Signature))
            .collect()
    } else {
        vec![Step::Document(1)]
    }
}

/// Whether `visit` holds a capture or an exception for `step` (for the location: a position).
pub fn filled(visit: &Visit, step: Step) -> bool {
    match step {
        Step::Location => visit.place.location.is_some(),
        // A document-only visit needs a document photo or an exception for one.
        Step::Document(1) if !visit.captures.document_exceptions.is_empty() => true,
        _ => slots::filled(visit, step),
    }
}

/// The first of [`needed`] still empty; `None` when every capture the visit needs is there (it
/// may still wait for consent or a confirmed warning: see `Visit::readiness`).
pub fn first_missing(visit: &Visit) -> Option<Step> {
    needed(visit).into_iter().find(|s| !filled(visit, *s))
}

/// How many of [`needed`] are filled, and how many there are.
pub fn count(visit: &Visit) -> (usize, usize) {
    let needed = needed(visit);
    let done = needed.iter().filter(|s| filled(visit, **s)).count();
    (done, needed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visit::sample::{synthetic_visit, SampleOptions};
    use jemput_core::visit::Category;

    #[test]
    fn a_visit_reaches_the_first_slot_it_lacks() {
        let opts = SampleOptions {
            category: Category::Lansia,
            ..Default::default()
        };
        let (mut v, _) = synthetic_visit(3, &opts);
        assert_eq!(first_missing(&v), None);
        assert_eq!(count(&v), (12, 12));
        let seven = FingerPosition::new(7).unwrap();
        v.captures.fingers.remove(&seven);
        v.captures.signature = None;
        assert_eq!(first_missing(&v), Some(Step::Finger(seven)));
        assert_eq!(count(&v), (10, 12));
        v.captures.face = None;
        assert_eq!(first_missing(&v), Some(Step::Face));

        let opts = SampleOptions {
            category: Category::Dokumen,
            ..Default::default()
        };
        let (mut d, _) = synthetic_visit(3, &opts);
        d.captures.documents.clear();
        assert_eq!(needed(&d), [Step::Document(1)]);
        assert_eq!(first_missing(&d), Some(Step::Document(1)));
        assert_eq!(count(&d), (0, 1));
        // An exception for the document photos fills the need, as a finger's does.
        let refused = jemput_core::visit::Exception {
            reason: jemput_core::visit::ExceptionReason::Refused,
            permanence: jemput_core::visit::Permanence::Temporary,
            proof_file: None,
            noted_at: jiff::Timestamp::now(),
        };
        d.record_document_exception(jemput_core::visit::DocumentKind::Kk, refused)
            .unwrap();
        assert_eq!(first_missing(&d), None);
        assert_eq!(count(&d), (1, 1));
    }
}

//! A visit's slots by the step that fills them: the face, each finger, the signature (a capture or
//! an exception) and each document photo (always a capture), read, taken out and put back
//! uniformly, and the draft files each one uses.

use jemput_core::visit::{Exception, ExceptionReason, Permanence, Slot, Visit};

use super::step::Step;

/// What the visit holds for `step` (`None` for the location, which is no slot).
pub(crate) fn get(visit: &Visit, step: Step) -> Option<Slot> {
    let c = &visit.captures;
    match step {
        Step::Location => None,
        Step::Face => c.face.clone(),
        Step::Finger(p) => c.fingers.get(&p).cloned(),
        Step::Signature => c.signature.clone(),
        Step::Document(n) => n
            .checked_sub(1)
            .and_then(|i| c.documents.get(i as usize))
            .cloned()
            .map(Slot::Captured),
    }
}

/// Whether the visit holds something for `step`.
pub(crate) fn filled(visit: &Visit, step: Step) -> bool {
    get(visit, step).is_some()
}

/// Takes what the visit holds for `step` out of it; a document photo's place closes up until
/// [`put`] inserts one there again.
pub(crate) fn take(visit: &mut Visit, step: Step) -> Option<Slot> {
    let c = &mut visit.captures;
    match step {
        Step::Location => None,
        Step::Face => c.face.take(),
        Step::Finger(p) => c.fingers.remove(&p),
        Step::Signature => c.signature.take(),
        Step::Document(n) => {
            let i = n.checked_sub(1)? as usize;
            (i < c.documents.len()).then(|| Slot::Captured(c.documents.remove(i)))
        }
    }
}

/// Records `slot` for `step`, replacing what was there; a document photo is inserted at its place
/// (after [`take`]) or appended. An exception for a document photo, or anything for the location,
/// is ignored: no step makes one.
pub(crate) fn put(visit: &mut Visit, step: Step, slot: Slot) {
    let c = &mut visit.captures;
    match (step, slot) {
        (Step::Face, s) => c.face = Some(s),
        (Step::Finger(p), s) => {
            c.fingers.insert(p, s);
        }
        (Step::Signature, s) => c.signature = Some(s),
        (Step::Document(n), Slot::Captured(capture)) => {
            let i = (n.max(1) as usize - 1).min(c.documents.len());
            c.documents.insert(i, capture);
        }
        (Step::Document(_), Slot::Exception(_)) | (Step::Location, _) => {}
    }
}

/// The draft files `slot` refers to.
pub(crate) fn files(slot: &Slot) -> Vec<String> {
    match slot {
        Slot::Captured(c) => std::iter::once(c.file.clone())
            .chain(c.extra_files.iter().cloned())
            .collect(),
        Slot::Exception(e) => e.proof_file.iter().cloned().collect(),
    }
}

/// An exception noted now, in place of a capture.
pub(crate) fn exception(reason: ExceptionReason, permanence: Permanence) -> Slot {
    Slot::Exception(Exception {
        reason,
        permanence,
        proof_file: None,
        noted_at: jiff::Timestamp::now(),
    })
}

//! What a slap's page shows ([`super::slaps`]): the three slaps with their state, the fingers of
//! the slap (kept image, jemput's score, the device's score, forced flag, retries, exception,
//! attempts), which of them are marked missing, the progress counted by slap, and where the
//! browser goes next.

use std::collections::HashMap;

use jemput_core::visit::{ExceptionReason, FingerPosition, Slot, Visit};
use jemput_kit::home::KitHome;
use jemput_kit::sbi::Slap;
use jemput_kit::visit::{progress, Step};
use serde::Serialize;

use super::capture_view::{
    attempt_views, finger_id, finger_state, slot_view, step_url, threshold_of, who, AttemptView,
    SlotView, REASONS,
};
use super::slap_steps::{code, count, filled, page_url, slap_url_for, SLAPS};
use crate::devices::{Role, RoleView};
use crate::i18n::Lang;
use crate::App;

/// Every message id the slap pages build.
pub fn message_ids_used() -> Vec<String> {
    let mut ids: Vec<String> = SLAPS
        .iter()
        .flat_map(|s| {
            [
                format!("slap-{}", code(*s)),
                format!("slap-place-{}", code(*s)),
            ]
        })
        .collect();
    for state in ["done", "partial", "pending"] {
        ids.push(format!("slap-state-{state}"));
    }
    ids
}

/// A finger the operator marked missing: an exception for a reason of their own, not one the
/// capture policy recorded (those are taken again with the slap).
pub(super) fn marked_missing(slot: Option<&Slot>) -> bool {
    matches!(slot, Some(Slot::Exception(e))
        if !matches!(e.reason, ExceptionReason::PoorQuality | ExceptionReason::NotDetected))
}

/// Where the browser goes after `slap`: the next slap with an empty finger, else the first empty
/// step after the fingers (the signature), else whatever the visit still lacks, else the review.
fn next_url(visit: &Visit, slap: Slap) -> (String, bool) {
    let after = SLAPS
        .into_iter()
        .skip_while(|s| *s != slap)
        .skip(1)
        .find(|s| s.fingers().into_iter().any(|p| !filled(visit, p)));
    if let Some(s) = after {
        return (page_url(visit.id, s), false);
    }
    let needed = progress::needed(visit);
    let later = needed
        .iter()
        .copied()
        .find(|s| *s > Step::Finger(FingerPosition::all().last().expect("ten fingers")))
        .filter(|s| !progress::filled(visit, *s));
    match later.or_else(|| progress::first_missing(visit)) {
        Some(Step::Finger(p)) => (slap_url_for(visit, p), false),
        Some(s) => (step_url(visit.id, Some(s)), false),
        None => (step_url(visit.id, None), true),
    }
}

#[derive(Debug, Serialize)]
struct SlapNav {
    code: &'static str,
    title: String,
    /// `done`, `partial`, `pending`.
    state: &'static str,
    current: bool,
}

#[derive(Debug, Serialize)]
struct FingerOfSlap {
    code: String,
    step: String,
    name: String,
    /// `done`, `retried`, `forced`, `exception`, `pending` (as on the hand of the finger pages).
    state: &'static str,
    /// Marked missing by the operator: sent to the device as missing.
    missing: bool,
    slot: Option<SlotView>,
    attempts: Vec<AttemptView>,
}

#[derive(Debug, Serialize)]
pub(super) struct SlapView {
    pub(super) id: String,
    who: String,
    /// `slap-left`: the page's own step name for the live events.
    step: String,
    /// The finger steps whose live attempts this page shows.
    steps: String,
    pub(super) slap: &'static str,
    title: String,
    place: String,
    slaps: Vec<SlapNav>,
    fingers: Vec<FingerOfSlap>,
    /// Whether some finger is to be asked of the device (not every one marked missing).
    capturable: bool,
    /// Whether every finger of the slap holds a capture or an exception.
    complete: bool,
    problem: Option<String>,
    devices: Vec<RoleView>,
    role: &'static str,
    next: String,
    next_is_review: bool,
    reasons: Vec<(&'static str, &'static str)>,
    done: usize,
    needed: usize,
}

pub(super) fn slap_view(
    app: &App,
    lang: Lang,
    home: &KitHome,
    visit: &Visit,
    files: &HashMap<String, Vec<u8>>,
    slap: Slap,
    problem: Option<String>,
) -> SlapView {
    let id = visit.id;
    let text = |m: &str| app.i18n.text(lang, m, None);
    let threshold = threshold_of(home, Step::Finger(slap.fingers()[0]));
    let fingers: Vec<FingerOfSlap> = slap
        .fingers()
        .into_iter()
        .map(|p| {
            let slot = visit.captures.fingers.get(&p);
            FingerOfSlap {
                code: format!("{:02}", p.code()),
                step: Step::Finger(p).id(),
                name: text(&finger_id(p)),
                state: finger_state(slot).0,
                missing: marked_missing(slot),
                slot: slot.map(|s| slot_view(id, s, threshold, lang, files)),
                attempts: attempt_views(app, lang, id, Step::Finger(p)),
            }
        })
        .collect();
    let slaps = SLAPS
        .into_iter()
        .map(|s| {
            let n = s
                .fingers()
                .into_iter()
                .filter(|p| filled(visit, *p))
                .count();
            SlapNav {
                code: code(s),
                title: text(&format!("slap-{}", code(s))),
                state: match n {
                    0 => "pending",
                    n if n == s.fingers().len() => "done",
                    _ => "partial",
                },
                current: s == slap,
            }
        })
        .collect();
    let (next, next_is_review) = next_url(visit, slap);
    let (done, needed) = count(visit);
    SlapView {
        id: id.to_string(),
        who: who(visit),
        step: format!("slap-{}", code(slap)),
        steps: fingers
            .iter()
            .map(|f| f.step.clone())
            .collect::<Vec<_>>()
            .join(" "),
        slap: code(slap),
        title: text(&format!("slap-{}", code(slap))),
        place: text(&format!("slap-place-{}", code(slap))),
        capturable: fingers.iter().any(|f| !f.missing),
        complete: fingers.iter().all(|f| f.slot.is_some()),
        fingers,
        slaps,
        problem,
        devices: app.devices.panel(),
        role: Role::Scanner.code(),
        next,
        next_is_review,
        reasons: REASONS
            .iter()
            .copied()
            .filter(|(code, _)| *code != "unable_to_sign")
            .collect(),
        done,
        needed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::visit::Permanence;

    #[test]
    fn a_finger_step_opens_the_first_slap_still_to_take_and_the_progress_counts_slaps() {
        use jemput_core::visit::Category;
        use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};
        let opts = SampleOptions {
            category: Category::Lansia,
            ..Default::default()
        };
        let (mut v, _) = synthetic_visit(3, &opts);
        let id = v.id;
        let f = |n| FingerPosition::new(n).unwrap();
        // Face, three slaps, signature.
        assert_eq!(count(&v), (5, 5));
        v.captures.fingers.remove(&f(1));
        v.captures.fingers.remove(&f(9));
        assert_eq!(count(&v), (3, 5));
        // An empty finger goes to the first slap still to take (4-4-2), a filled one to its own.
        assert_eq!(slap_url_for(&v, f(1)), format!("/visit/{id}/slap/left"));
        assert_eq!(slap_url_for(&v, f(2)), format!("/visit/{id}/slap/right"));
        // After the left slap: the right one is full, so the thumbs.
        assert_eq!(
            next_url(&v, Slap::Left),
            (format!("/visit/{id}/slap/thumbs"), false)
        );
        // After the thumbs, with the left slap still lacking finger 9: back to it.
        assert_eq!(
            next_url(&v, Slap::Thumbs),
            (format!("/visit/{id}/slap/left"), false)
        );
        v.captures.fingers.remove(&f(3));
        assert_eq!(
            next_url(&v, Slap::Left),
            (format!("/visit/{id}/slap/right"), false)
        );
    }

    #[test]
    fn only_an_operators_exception_is_a_finger_marked_missing() {
        let exception = |reason| {
            Slot::Exception(jemput_core::visit::Exception {
                reason,
                permanence: Permanence::Temporary,
                proof_file: None,
                noted_at: jiff::Timestamp::UNIX_EPOCH,
            })
        };
        assert!(marked_missing(Some(&exception(ExceptionReason::Amputated))));
        assert!(!marked_missing(Some(&exception(
            ExceptionReason::PoorQuality
        ))));
        assert!(!marked_missing(Some(&exception(
            ExceptionReason::NotDetected
        ))));
        assert!(!marked_missing(None));
    }
}

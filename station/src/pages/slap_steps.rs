//! The three slaps as steps of a visit, when an SBI slap scanner takes the fingers 4-4-2: their
//! order, their names in the station's addresses, whether a slap's fingers are done, which
//! slap page a finger is on, and the progress counted by slap. The capture pages
//! ([`super::capture`]), the slap pages ([`super::slaps`]) and both views use them.

use jemput_core::visit::{FingerPosition, Visit};
use jemput_kit::sbi::Slap;
use jemput_kit::visit::{progress, Step};
use uuid::Uuid;

/// The slaps in the order the 4-4-2 takes them.
pub const SLAPS: [Slap; 3] = [Slap::Left, Slap::Right, Slap::Thumbs];

/// `left`, `right`, `thumbs`: a slap in the station's addresses.
pub fn code(slap: Slap) -> &'static str {
    match slap {
        Slap::Left => "left",
        Slap::Right => "right",
        Slap::Thumbs => "thumbs",
    }
}

pub(super) fn parse(raw: &str) -> Option<Slap> {
    SLAPS.into_iter().find(|s| code(*s) == raw)
}

/// `/visit/{id}/slap/{slap}`.
pub fn page_url(id: Uuid, slap: Slap) -> String {
    format!("/visit/{id}/slap/{}", code(slap))
}

/// Whether a page address is a slap page's, `/visit/{uuid}/slap/{slap}` (where the language
/// switch may send the browser back to).
pub fn is_slap_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "visit", id, "slap", slap] if id.parse::<Uuid>().is_ok() && parse(slap).is_some()
    )
}

pub(super) fn filled(visit: &Visit, p: FingerPosition) -> bool {
    progress::filled(visit, Step::Finger(p))
}

/// The first slap, in 4-4-2 order, with a finger still empty.
pub(super) fn first_pending(visit: &Visit) -> Option<Slap> {
    SLAPS
        .into_iter()
        .find(|s| s.fingers().into_iter().any(|p| !filled(visit, p)))
}

/// Where a finger step's address sends the browser when the fingers are taken by slap: an empty
/// finger to the first slap still to take (so the visit goes on 4-4-2), a filled one to its own
/// slap (to look at it or take it again).
pub fn slap_url_for(visit: &Visit, p: FingerPosition) -> String {
    let slap = if filled(visit, p) {
        Slap::of(p)
    } else {
        first_pending(visit).unwrap_or(Slap::of(p))
    };
    page_url(visit.id, slap)
}

/// The progress when the fingers count as their slaps: (done, needed).
pub fn count(visit: &Visit) -> (usize, usize) {
    let needed = progress::needed(visit);
    let others: Vec<Step> = needed
        .iter()
        .copied()
        .filter(|s| !matches!(s, Step::Finger(_)))
        .collect();
    let slaps = if others.len() < needed.len() {
        SLAPS.len()
    } else {
        0
    };
    let done_slaps = if slaps == 0 {
        0
    } else {
        SLAPS
            .iter()
            .filter(|s| s.fingers().into_iter().all(|p| filled(visit, p)))
            .count()
    };
    let done_others = others
        .iter()
        .filter(|s| progress::filled(visit, **s))
        .count();
    (done_others + done_slaps, others.len() + slaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_slap_pages_own_address_is_a_slap_path() {
        let id = "0b7d4d2e-5d7e-4f4f-9d59-1d2f3c4b5a69";
        for slap in ["left", "right", "thumbs"] {
            assert!(is_slap_path(&format!("/visit/{id}/slap/{slap}")), "{slap}");
        }
        for bad in [
            format!("/visit/{id}/slap/middle"),
            format!("/visit/{id}/slap/left/capture"),
            format!("//evil.example/visit/{id}/slap/left"),
            "/visit/not-a-uuid/slap/left".to_string(),
        ] {
            assert!(!is_slap_path(&bad), "{bad}");
        }
    }

    #[test]
    fn the_slaps_take_the_ten_fingers_in_4_4_2_order() {
        let codes: Vec<Vec<u8>> = SLAPS
            .iter()
            .map(|s| s.fingers().iter().map(|p| p.code()).collect())
            .collect();
        assert_eq!(codes, [vec![7, 8, 9, 10], vec![2, 3, 4, 5], vec![6, 1]]);
    }
}

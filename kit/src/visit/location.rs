//! Where the visit took place: one fix from the GPS receiver, when there is one, recorded as the
//! visit's location. A fix is logged, never required: without one the visit says why and goes on.

use jemput_drivers::{CaptureControl, LocationSource};

use jemput_core::visit::{GeoPoint, Visit};

/// What the visit learned about its location.
#[derive(Debug, Clone, PartialEq)]
pub enum FixOutcome {
    Fix(GeoPoint),
    /// No fix within the timeout (or no receiver): the visit says so and goes on.
    NoFix(String),
}

/// Asks `gps` for a fix within `control`'s timeout and records it in `visit.place.location`; the
/// location the visit had is kept when there is no fix. The caller saves the record.
pub fn locate(
    visit: &mut Visit,
    gps: Option<&mut dyn LocationSource>,
    control: &CaptureControl,
) -> FixOutcome {
    let Some(gps) = gps else {
        return FixOutcome::NoFix("no GPS receiver".into());
    };
    match gps.fix(control) {
        Ok(f) => {
            let p = GeoPoint {
                lat: f.lat,
                lon: f.lon,
                accuracy_m: f.accuracy_m,
            };
            visit.place.location = Some(p);
            FixOutcome::Fix(p)
        }
        Err(e) => FixOutcome::NoFix(e.to_string()),
    }
}

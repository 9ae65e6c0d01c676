//! Test-only hold points on the hub's completion path, for the power-loss tests
//! (`tests/powerloss.rs`) to cut the power exactly there, and the scale-out fault tests to stop
//! the database there. Unset in production.
//!
//! `JEMPUT_TEST_HUB_HOLD=POINT:FILE` makes the hub, when it reaches `POINT`, create `FILE` and wait
//! (at most a minute) until the test removes it. The points, in the order a packet passes them:
//! `assembling` (scale-out backend: the scratch copy of the staged bytes created, still empty),
//! `registry` (the prelude and the outer signature checked, the kit registry not yet read:
//! `tests/scale_out_faults.rs` stops PostgreSQL there), `verified` (the whole packet checked,
//! nothing stored yet), `signed` (its receipt signed, not stored), `moved` (the packet file renamed into `packets/` and the directories synced, the
//! receipt not yet committed), `receipted` (the receipt committed, the upload not yet marked
//! done nor answered). `jemput hub migrate` (`migrate`) has three: `migrate-packets` (every packet
//! checked and, with an object store, written there; nothing in PostgreSQL yet),
//! `migrate-committed` (the state committed in PostgreSQL, `hub.toml` not yet rewritten) and
//! `migrate-config` (`hub.toml` rewritten, the embedded files not yet moved aside).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The hold point and its file, read once per process.
fn setting() -> Option<&'static (String, PathBuf)> {
    static HOLD: OnceLock<Option<(String, PathBuf)>> = OnceLock::new();
    HOLD.get_or_init(|| {
        let v = std::env::var("JEMPUT_TEST_HUB_HOLD").ok()?;
        let (point, file) = v.split_once(':')?;
        Some((point.to_string(), PathBuf::from(file)))
    })
    .as_ref()
}

/// Waits at `point` if the test asked for it (see the module documentation).
pub(crate) fn hold(point: &str) {
    let Some((want, file)) = setting() else {
        return;
    };
    if want != point {
        return;
    }
    if std::fs::write(file, std::process::id().to_string()).is_err() {
        return;
    }
    let until = Instant::now() + Duration::from_secs(60);
    while file.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(2));
    }
}

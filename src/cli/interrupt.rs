//! Ctrl-C, SIGTERM and SIGHUP: the first asks the running command to stop (captures are cancelled
//! and drivers return the device to idle; `jemput sim` stops its models); a second one exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Exit status after an interrupted command (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The flag the signal handler sets; installs the handler on first use.
pub fn flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let seen = flag.clone();
        let installed = ctrlc::set_handler(move || {
            if seen.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        });
        if let Err(e) = installed {
            tracing::warn!(error = %e, "cannot catch Ctrl-C; it will end jemput at once");
        }
        flag
    })
    .clone()
}

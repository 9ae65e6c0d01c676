//! What every handler shares: the hub, one lock per upload, the creation lock, and the blocking
//! pool for SQLite commits and fsyncs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::Hub;

/// Shared state of the handlers.
pub(crate) struct AppState {
    pub(crate) hub: Arc<Hub>,
    /// One lock per upload: `HEAD`, `PATCH`, `DELETE` and completion of an upload never interleave.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Creation is serialised so that two creations of one packet yield one upload.
    pub(crate) creation: tokio::sync::Mutex<()>,
}

impl AppState {
    pub(crate) fn new(hub: Arc<Hub>) -> AppState {
        AppState {
            hub,
            locks: Mutex::new(HashMap::new()),
            creation: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn upload_lock(&self, upload_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 256 {
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(upload_id.to_string()).or_default().clone()
    }
}

/// Runs `f` on the blocking pool (SQLite commits and fsyncs must not stall the runtime).
pub(crate) async fn blocking<T: Send + 'static>(
    hub: &Arc<Hub>,
    f: impl FnOnce(&Hub) -> T + Send + 'static,
) -> T {
    let hub = hub.clone();
    tokio::task::spawn_blocking(move || f(&hub))
        .await
        .expect("a hub task panicked")
}

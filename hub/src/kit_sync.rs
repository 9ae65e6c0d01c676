//! What the hub gives kits before a trip: the worklist (`worklist.json`, imported from CSV), the
//! kit settings (`kit-settings.toml`) and, per kit, the signed sync document served at
//! `GET /v1/sync` (`docs/hub-protocol.md` §8; the handler is `http::sync`).

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Hub, HubError};
use jemput_core::fsutil;
use jemput_core::wire::sync::{KitSettings, SyncBody, SyncDocument, SYNC_VERSION};
use jemput_core::worklist::WorklistEntry;

/// The worklist, in the data directory.
pub const WORKLIST_FILE: &str = "worklist.json";
/// The settings sent to kits, in the data directory.
pub const KIT_SETTINGS_FILE: &str = "kit-settings.toml";

/// `worklist.json`: the office's current worklist. An import replaces it whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoredWorklist {
    /// When it was imported.
    pub imported_at: jiff::Timestamp,
    /// The file it was imported from.
    pub source: String,
    /// The entries, in file order.
    pub entries: Vec<WorklistEntry>,
}

/// Reads the worklist; an empty one when none was imported.
pub fn load_worklist(data: &Path) -> Result<Option<StoredWorklist>, HubError> {
    let path = data.join(WORKLIST_FILE);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| HubError::BadConfig {
                path,
                why: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HubError::io("read", &path)(e)),
    }
}

/// Replaces the worklist durably (a crash leaves the old one or the new one, never a mix).
pub fn save_worklist(data: &Path, w: &StoredWorklist) -> Result<(), HubError> {
    crate::HubConfig::load(data)?;
    let path = data.join(WORKLIST_FILE);
    let text = serde_json::to_vec_pretty(w).expect("a worklist serialises");
    fsutil::write_atomic(&path, &text, 0o600).map_err(HubError::io("write", &path))
}

/// Reads the kit settings; [`KitSettings::recommended`] when the file does not exist yet.
pub fn load_settings(data: &Path) -> Result<KitSettings, HubError> {
    let path = data.join(KIT_SETTINGS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => {
            let s: KitSettings = toml::from_str(&t).map_err(|e| HubError::BadConfig {
                path: path.clone(),
                why: e.to_string(),
            })?;
            if let Some(c) = &s.capture {
                c.validate().map_err(|e| HubError::BadConfig {
                    path,
                    why: e.to_string(),
                })?;
            }
            Ok(s)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KitSettings::recommended()),
        Err(e) => Err(HubError::io("read", &path)(e)),
    }
}

/// Writes the kit settings durably.
pub fn save_settings(data: &Path, s: &KitSettings) -> Result<(), HubError> {
    crate::HubConfig::load(data)?;
    let path = data.join(KIT_SETTINGS_FILE);
    let text = toml::to_string_pretty(s).expect("kit settings serialise");
    fsutil::write_atomic(&path, text.as_bytes(), 0o600).map_err(HubError::io("write", &path))
}

impl Hub {
    /// The sync document for `kit_id`: settings and the worklist entries for it (those assigned
    /// to it and those assigned to no kit), signed now by the hub key.
    pub fn sync_document(&self, kit_id: &str) -> Result<SyncDocument, HubError> {
        let settings = load_settings(&self.data)?;
        let worklist = load_worklist(&self.data)?
            .map(|w| w.entries)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.is_for(kit_id))
            .collect();
        let body = SyncBody {
            sync_version: SYNC_VERSION,
            hub_id: self.config.hub_id.clone(),
            kit_id: kit_id.to_string(),
            issued_at: jiff::Timestamp::now(),
            settings,
            worklist,
        };
        Ok(SyncDocument::sign(&body, &self.key))
    }
}

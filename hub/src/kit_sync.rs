//! What the hub gives kits before a trip: the worklist (`worklist.json`, imported from CSV), the
//! kit settings (`kit-settings.toml`) and, per kit, the signed sync document served at
//! `GET /v1/sync` (`docs/hub-protocol.md` §8; the handler is `http::sync`).

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Backend, Hub, HubError};
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
    match shared_state(data)? {
        Some(pool) => worklist_of(data, Some(&pool)),
        None => worklist_of(data, None),
    }
}

/// The PostgreSQL database of a scale-out hub; `None` for an embedded one.
fn shared_state(data: &Path) -> Result<Option<crate::pg::Pool>, HubError> {
    if crate::HubConfig::load(data)?.postgres.is_none() {
        return Ok(None);
    }
    match crate::open_backend(data)? {
        Backend::Postgres(pool) => Ok(Some(pool)),
        Backend::Embedded(_) => Ok(None),
    }
}

pub(crate) fn worklist_of(
    data: &Path,
    pool: Option<&crate::pg::Pool>,
) -> Result<Option<StoredWorklist>, HubError> {
    let path = data.join(WORKLIST_FILE);
    if let Some(pool) = pool {
        return crate::pg::kit_sync::load(pool, crate::pg::kit_sync::WORKLIST)?
            .map(|text| {
                serde_json::from_str(&text).map_err(|e| HubError::Corrupt {
                    what: "worklist",
                    value: e.to_string(),
                })
            })
            .transpose();
    }
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
    if let Some(pool) = shared_state(data)? {
        let text = String::from_utf8(text).expect("JSON is UTF-8");
        return crate::pg::kit_sync::save(&pool, crate::pg::kit_sync::WORKLIST, &text);
    }
    fsutil::write_atomic(&path, &text, 0o600).map_err(HubError::io("write", &path))
}

/// Reads the kit settings; [`KitSettings::recommended`] when the file does not exist yet.
pub fn load_settings(data: &Path) -> Result<KitSettings, HubError> {
    match shared_state(data)? {
        Some(pool) => settings_of(data, Some(&pool)),
        None => settings_of(data, None),
    }
}

pub(crate) fn settings_of(
    data: &Path,
    pool: Option<&crate::pg::Pool>,
) -> Result<KitSettings, HubError> {
    let path = data.join(KIT_SETTINGS_FILE);
    let read = match pool {
        Some(pool) => crate::pg::kit_sync::load(pool, crate::pg::kit_sync::KIT_SETTINGS)?
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
        None => std::fs::read_to_string(&path),
    };
    match read {
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
    if let Some(pool) = shared_state(data)? {
        return crate::pg::kit_sync::save(&pool, crate::pg::kit_sync::KIT_SETTINGS, &text);
    }
    fsutil::write_atomic(&path, text.as_bytes(), 0o600).map_err(HubError::io("write", &path))
}

impl Hub {
    /// The sync document for `kit_id`: settings and the worklist entries for it (those assigned
    /// to it and those assigned to no kit), signed now by the hub key.
    pub fn sync_document(&self, kit_id: &str) -> Result<SyncDocument, HubError> {
        let pool = match &self.state {
            Backend::Postgres(pool) => Some(pool),
            Backend::Embedded(_) => None,
        };
        let settings = settings_of(&self.data, pool)?;
        let worklist = worklist_of(&self.data, pool)?
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

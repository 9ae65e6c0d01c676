//! The worklist and the kit settings on PostgreSQL: one row each in `documents`, holding the same
//! text as `worklist.json` and `kit-settings.toml` do in the embedded backend, so that every
//! process of the hub serves the same sync document.

use jiff::Timestamp;

use super::{conn, Pool};
use crate::{ts_text, HubError};

/// The document's name for the worklist.
pub(crate) const WORKLIST: &str = "worklist.json";
/// The document's name for the kit settings.
pub(crate) const KIT_SETTINGS: &str = "kit-settings.toml";

pub(crate) fn load(pool: &Pool, name: &str) -> Result<Option<String>, HubError> {
    Ok(conn(pool)?
        .query_opt("SELECT body FROM documents WHERE name = $1", &[&name])?
        .map(|r| r.get(0)))
}

pub(crate) fn save(pool: &Pool, name: &str, body: &str) -> Result<(), HubError> {
    conn(pool)?.execute(
        "INSERT INTO documents (name, body, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET body = $2, updated_at = $3",
        &[&name, &body, &ts_text(Timestamp::now())],
    )?;
    Ok(())
}

/// When the document was last saved; `None` when it never was.
pub(crate) fn updated_at(pool: &Pool, name: &str) -> Result<Option<String>, HubError> {
    Ok(conn(pool)?
        .query_opt("SELECT updated_at FROM documents WHERE name = $1", &[&name])?
        .map(|r| r.get(0)))
}

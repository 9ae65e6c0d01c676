//! The kit side of sync: download the hub's sync document, verify it against the pinned hub key,
//! refuse a stale one, keep it in the kit home (`sync.json`, written atomically) and apply its
//! office recipients and retention to the kit config.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::home::{HomeError, KitHome};
use crate::pin::PinnedVerifier;
use crate::upload::tus::{read_capped, read_capped_bytes, MAX_ERROR_BODY};
use jemput_core::fsutil;
use jemput_core::keys;
use jemput_core::wire::auth;
use jemput_core::wire::sync::{DocumentError, SyncBody, SyncDocument, SYNC_PATH};

/// The file in the kit home that holds the last accepted sync document.
pub const SYNC_FILE: &str = "sync.json";
/// Largest sync document read (a worklist of 100 000 entries fits).
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;
/// How long a sync may take.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(60);

/// `sync.json`: the last sync document the kit accepted, and what the kit measured then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncState {
    /// The document, exactly as the hub signed it.
    pub document: SyncDocument,
    /// When the kit accepted it (the kit's clock).
    pub synced_at: jiff::Timestamp,
    /// The kit's clock minus the hub's, in seconds, measured at that sync (positive: the kit is
    /// ahead).
    pub clock_skew_secs: i64,
    /// The hub URL it came from.
    pub hub_url: String,
}

/// `jemput sync --json`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SyncOutcome {
    pub hub_id: String,
    pub hub_url: String,
    /// When the hub issued the document.
    pub issued_at: jiff::Timestamp,
    /// When the kit accepted it.
    pub synced_at: jiff::Timestamp,
    /// The kit's clock minus the hub's, in seconds.
    pub clock_skew_secs: i64,
    /// Worklist entries for this kit.
    pub worklist_entries: usize,
    /// Office recipients now configured on the kit.
    pub office_recipients: Vec<String>,
    /// Retention now configured on the kit, in hours.
    pub retention_hours: u32,
    /// Whether the hub set the kit's capture policy (`[capture]`) in this sync.
    pub capture_policy_from_hub: bool,
    /// The sync document now stored.
    pub file: PathBuf,
}

/// Why a sync failed. Nothing on the kit changes unless a sync succeeds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    #[error("no hub to sync with: set one with `jemput config set hub-url http://<hub>:<port>` (or enroll the kit)")]
    NoHubUrl,
    #[error("no pinned hub key: a sync document cannot be verified; pin it with `jemput config set hub-key KEY` (or enroll the kit)")]
    NoHubKey,
    #[error("hub-url {0:?} is not an http:// or https:// URL")]
    BadUrl(String),
    #[error("the hub at {url} cannot be reached: {why}; check the link (signal, tethering, Starlink) and try again")]
    Unreachable { url: String, why: String },
    /// The hub presented another TLS certificate than the one pinned at enrollment.
    #[error(transparent)]
    PinMismatch(#[from] crate::pin::PinMismatch),
    #[error("the hub refused the sync (HTTP {status}): {reason}{}", hint(*status, reason, *skew_secs))]
    Refused {
        status: u16,
        reason: String,
        /// The kit's clock minus the hub's (`Date` header), when the hub sent one.
        skew_secs: Option<i64>,
    },
    /// `429` or `503` with `Retry-After`: the hub is busy and said when to ask again.
    #[error("the hub is busy, retry after {retry_after_secs} s (HTTP {status}: {reason}); nothing was changed: run `jemput sync` again then")]
    Busy {
        status: u16,
        reason: String,
        /// What `Retry-After` asked for, at most 600 s.
        retry_after_secs: u64,
    },
    #[error("the hub's answer is not a sync document: {0}")]
    NotADocument(String),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("the sync document was issued to kit {got}, not to this kit ({expected}); nothing was changed")]
    WrongKit { expected: String, got: String },
    #[error("the sync document (issued {got}) is older than the one already accepted (issued {accepted}): a replayed or stale document, or the hub's clock went back; nothing was changed")]
    Stale {
        got: jiff::Timestamp,
        accepted: jiff::Timestamp,
    },
    #[error(
        "the sync document names a bad office recipient: {0}; nothing was changed, tell the office"
    )]
    BadRecipient(String),
    #[error(
        "the sync document's capture policy is unusable: {0}; nothing was changed, tell the office"
    )]
    BadCapturePolicy(jemput_core::visit::policy::PolicyError),
    #[error("the stored sync document {path} cannot be used: {why}; run `jemput sync` again")]
    BadState { path: PathBuf, why: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Home(#[from] HomeError),
}

fn hint(status: u16, reason: &str, skew: Option<i64>) -> String {
    match (status, skew) {
        (401, Some(s)) if reason.contains("stale") => format!(
            "; the kit's clock is {s} s off the hub's: set the clock (e.g. `timedatectl set-ntp true`) and sync again"
        ),
        _ => String::new(),
    }
}

/// The sync URL for a hub base URL (`http://hub:8080` or one ending in `/v1/uploads`).
pub fn sync_url(hub_url: &str) -> Result<Url, SyncError> {
    let mut url = Url::parse(hub_url.trim()).map_err(|_| SyncError::BadUrl(hub_url.into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(SyncError::BadUrl(hub_url.into()));
    }
    let path = url.path().trim_end_matches('/');
    let base = path.strip_suffix("/v1/uploads").unwrap_or(path).to_string();
    url.set_path(&format!("{base}{SYNC_PATH}"));
    url.set_query(None);
    Ok(url)
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(SYNC_TIMEOUT)
        .user_agent(concat!("jemput/", env!("CARGO_PKG_VERSION")))
}

/// A client for [`sync`] with the kit's usual timeouts and plain rustls trust (for a hub the kit
/// has no certificate pin for; see [`client_for`]).
pub fn default_client() -> reqwest::Client {
    client_builder()
        .build()
        .expect("the HTTP client builds with rustls")
}

/// The client for syncing with the kit's hub: when the kit pinned the hub's certificate at
/// enrollment (`hub_cert_sha256`), it trusts exactly that certificate on `https` URLs.
pub fn client_for(home: &KitHome) -> Result<reqwest::Client, SyncError> {
    pinned_client_for(home).map(|(http, _)| http)
}

/// [`client_for`], and the pin's verifier when there is a pin: give it to [`sync_pinned`] so that
/// a hub presenting another certificate is named as such, not as unreachable.
pub fn pinned_client_for(
    home: &KitHome,
) -> Result<(reqwest::Client, Option<Arc<PinnedVerifier>>), SyncError> {
    match home.config.hub_cert_sha256.as_deref() {
        None => Ok((default_client(), None)),
        Some(pin) => {
            let pin: crate::pin::CertPin = pin.parse().map_err(|e| SyncError::BadState {
                path: home.config_path(),
                why: format!("hub_cert_sha256: {e}"),
            })?;
            let (http, verifier) = crate::pin::pinned_client(client_builder(), &pin);
            Ok((http, Some(verifier)))
        }
    }
}

/// The last accepted sync document of the kit, verified again against the pinned hub key (so
/// that a hand-edited `sync.json` cannot loosen the policy); `None` when the kit never synced.
pub fn load_state(home: &KitHome) -> Result<Option<(SyncState, SyncBody)>, SyncError> {
    let path = home.root.join(SYNC_FILE);
    let bad = |why: String| SyncError::BadState {
        path: path.clone(),
        why,
    };
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    let state: SyncState = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    let key = home.config.hub_key.ok_or(SyncError::NoHubKey)?;
    let body = state
        .document
        .verify(&key)
        .map_err(|e| bad(e.to_string()))?;
    if body.kit_id != home.config.kit_id {
        return Err(bad(format!("it was issued to kit {}", body.kit_id)));
    }
    Ok(Some((state, body)))
}

/// The `Date` header as a timestamp.
fn http_date(headers: &reqwest::header::HeaderMap) -> Option<jiff::Timestamp> {
    let v = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    jiff::fmt::rfc2822::parse(v).ok().map(|z| z.timestamp())
}

/// Downloads, verifies and stores the hub's sync document for this kit, then applies its office
/// recipients and retention to the kit config. Nothing changes unless every check passes.
pub async fn sync(home: &mut KitHome, http: &reqwest::Client) -> Result<SyncOutcome, SyncError> {
    sync_pinned(home, http, None).await
}

/// [`sync`] with the verifier of `http`'s certificate pin (from [`pinned_client_for`]): a
/// mismatch is [`SyncError::PinMismatch`], naming both fingerprints.
pub async fn sync_pinned(
    home: &mut KitHome,
    http: &reqwest::Client,
    pin: Option<&PinnedVerifier>,
) -> Result<SyncOutcome, SyncError> {
    let hub_url = home.config.hub_url.clone().ok_or(SyncError::NoHubUrl)?;
    let hub_key = home.config.hub_key.ok_or(SyncError::NoHubKey)?;
    let url = sync_url(&hub_url)?;
    let kit_key = home.kit_key()?;
    let sent = jiff::Timestamp::now();
    let auth_value = auth::sign(
        &home.config.kit_id,
        &kit_key,
        &auth::Request::new("GET", url.path()),
        sent.as_second(),
    );
    let unreachable = |e: reqwest::Error| match pin.and_then(|p| p.take_mismatch()) {
        Some(m) => SyncError::PinMismatch(m),
        None => SyncError::Unreachable {
            url: hub_url.clone(),
            why: e.to_string(),
        },
    };
    let resp = http
        .get(url.clone())
        .header(auth::HEADER, auth_value)
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status();
    let hub_date = http_date(resp.headers());
    if !status.is_success() {
        let now = jiff::Timestamp::now();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::upload::pacing::retry_after(v, now));
        let reason = read_capped(resp, MAX_ERROR_BODY).await.unwrap_or_default();
        // One line, at most 200 characters: hubs answer with a one-line reason.
        let reason: String = reason
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .take(200)
            .collect();
        let status = status.as_u16();
        if let (429 | 503, Some(wait)) = (status, retry_after) {
            return Err(SyncError::Busy {
                status,
                reason,
                retry_after_secs: wait.as_secs(),
            });
        }
        return Err(SyncError::Refused {
            status,
            reason,
            skew_secs: hub_date.map(|d| now.as_second() - d.as_second()),
        });
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(SyncError::NotADocument(format!(
            "larger than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    // One byte over the limit is enough to know the document is too large.
    let bytes = read_capped_bytes(resp, MAX_DOCUMENT_BYTES + 1)
        .await
        .map_err(unreachable)?;
    let received = jiff::Timestamp::now();
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(SyncError::NotADocument(format!(
            "larger than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    let document =
        SyncDocument::from_json(&bytes).map_err(|e| SyncError::NotADocument(e.to_string()))?;
    let body = document.verify(&hub_key)?;
    accept(home, document, body, &hub_url, sent, received)
}

/// The checks and writes of a sync once the document is in hand (separate so that tests can feed
/// documents without a network).
pub fn accept(
    home: &mut KitHome,
    document: SyncDocument,
    body: SyncBody,
    hub_url: &str,
    sent: jiff::Timestamp,
    received: jiff::Timestamp,
) -> Result<SyncOutcome, SyncError> {
    if body.kit_id != home.config.kit_id {
        return Err(SyncError::WrongKit {
            expected: home.config.kit_id.clone(),
            got: body.kit_id,
        });
    }
    match load_state(home) {
        Ok(Some((_, last))) if body.issued_at < last.issued_at => {
            return Err(SyncError::Stale {
                got: body.issued_at,
                accepted: last.issued_at,
            })
        }
        Ok(_) => {}
        // An unusable old document (e.g. signed by a hub key the kit no longer pins) is replaced.
        Err(e) => tracing::warn!("replacing the stored sync document: {e}"),
    }
    for r in &body.settings.office_recipients {
        keys::parse_recipient(r).map_err(|e| SyncError::BadRecipient(e.to_string()))?;
    }
    if let Some(capture) = &body.settings.capture {
        capture.validate().map_err(SyncError::BadCapturePolicy)?;
    }
    // The kit's clock at the middle of the exchange, against the hub's time of issue.
    let half = received.duration_since(sent) / 2;
    let midpoint = sent.checked_add(half).unwrap_or(received);
    let skew = midpoint.duration_since(body.issued_at).as_secs();
    let state = SyncState {
        document,
        synced_at: received,
        clock_skew_secs: skew,
        hub_url: hub_url.to_string(),
    };
    let path = home.root.join(SYNC_FILE);
    let text = serde_json::to_vec_pretty(&state).expect("the sync state serialises");
    fsutil::write_atomic(&path, &text, 0o600).map_err(|source| SyncError::Write {
        path: path.clone(),
        source,
    })?;
    let settings = &body.settings;
    if !settings.office_recipients.is_empty() {
        home.config.office_recipients = settings.office_recipients.clone();
    }
    if let Some(h) = settings.retention_hours {
        home.config.retention_hours = h;
    }
    if let Some(capture) = &settings.capture {
        home.config.capture = capture.clone();
    }
    home.save_config()?;
    Ok(SyncOutcome {
        hub_id: body.hub_id,
        hub_url: hub_url.to_string(),
        issued_at: body.issued_at,
        synced_at: received,
        clock_skew_secs: skew,
        worklist_entries: body.worklist.len(),
        office_recipients: home.config.office_recipients.clone(),
        retention_hours: home.config.retention_hours,
        capture_policy_from_hub: settings.capture.is_some(),
        file: path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sync_url_sits_beside_the_uploads_path() {
        for (given, want) in [
            ("http://10.0.0.2:8080", "http://10.0.0.2:8080/v1/sync"),
            ("https://hub.example/", "https://hub.example/v1/sync"),
            (
                "http://127.0.0.1:9/office/v1/uploads",
                "http://127.0.0.1:9/office/v1/sync",
            ),
        ] {
            assert_eq!(sync_url(given).unwrap().as_str(), want);
        }
        assert!(sync_url("ftp://x").is_err());
        assert!(sync_url("nonsense").is_err());
    }
}

//! `jemput status`: the queue, the last sync, and the offline policy against the kit's state; and
//! the check that runs before a new visit starts.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::client::{load_state, SyncError};
use crate::home::KitHome;
use crate::store::{State, Store, StoreError};
use jemput_core::offline::{
    self as policy, Effective, LimitStatus, Measures, PolicyRefusal, Source,
};

/// How long the online-only check waits for the hub.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Packets by queue state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct QueueCounts {
    pub sealed: u64,
    pub uploading: u64,
    pub acknowledged: u64,
    pub purged: u64,
    pub quarantined: u64,
    /// Refused by the hub for good (`jemput queue` shows why).
    pub refused: u64,
}

/// The last accepted sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LastSync {
    /// When the kit accepted it (the kit's clock).
    pub synced_at: jiff::Timestamp,
    /// When the hub issued it (the hub's clock).
    pub issued_at: jiff::Timestamp,
    pub hub_id: String,
    pub hub_url: String,
    /// The kit's clock minus the hub's, in seconds, at that sync.
    pub clock_skew_secs: i64,
    /// Worklist entries received.
    pub worklist_entries: usize,
}

/// `jemput status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct KitStatus {
    pub kit_id: String,
    pub hub_url: Option<String>,
    /// Packets by state.
    pub queue: QueueCounts,
    /// Packets not yet acknowledged (sealed or uploading).
    pub packets_waiting: u64,
    /// Bytes of those packets.
    pub bytes_waiting: u64,
    /// `null` when the kit never synced.
    pub last_sync: Option<LastSync>,
    /// Free disk under the kit home, in bytes.
    pub free_disk_bytes: u64,
    /// Every offline limit against the kit's state.
    pub limits: Vec<LimitStatus>,
    /// Whether online-only recording is on.
    pub online_only: bool,
    /// Where the online-only setting comes from, `null` when unset (off).
    pub online_only_source: Option<Source>,
    /// Whether the limits let a new visit start (online-only mode also needs the hub to answer
    /// at that moment, which `status` does not try).
    pub new_visit_allowed: bool,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot measure the free disk under {path}: {source}")]
    Disk {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// The policy in force: the last sync document's over the kit config's.
pub fn effective_policy(home: &KitHome) -> Result<Effective, SyncError> {
    let hub = load_state(home)?
        .map(|(_, body)| body.settings.policy)
        .unwrap_or_default();
    Ok(Effective {
        hub,
        local: home.config.policy,
    })
}

/// The kit's status now.
pub fn kit_status(home: &KitHome, store: &Store) -> Result<KitStatus, StatusError> {
    let state = load_state(home)?;
    let effective = Effective {
        hub: state
            .as_ref()
            .map(|(_, b)| b.settings.policy)
            .unwrap_or_default(),
        local: home.config.policy,
    };
    let mut queue = QueueCounts::default();
    let (mut packets_waiting, mut bytes_waiting) = (0u64, 0u64);
    for e in store.list()? {
        let n = match e.state {
            State::Sealed => &mut queue.sealed,
            State::Uploading => &mut queue.uploading,
            State::Acknowledged => &mut queue.acknowledged,
            State::Purged => &mut queue.purged,
            State::Quarantined => &mut queue.quarantined,
            State::Refused => &mut queue.refused,
        };
        *n += 1;
        if matches!(e.state, State::Sealed | State::Uploading) {
            packets_waiting += 1;
            bytes_waiting += e.size;
        }
    }
    let free_disk_bytes =
        jemput_core::fsutil::free_bytes(&home.root).map_err(|source| StatusError::Disk {
            path: home.root.clone(),
            source,
        })?;
    let last_sync = state.as_ref().map(|(s, b)| LastSync {
        synced_at: s.synced_at,
        issued_at: b.issued_at,
        hub_id: b.hub_id.clone(),
        hub_url: s.hub_url.clone(),
        clock_skew_secs: s.clock_skew_secs,
        worklist_entries: b.worklist.len(),
    });
    let limits = policy::evaluate(
        &effective,
        &Measures {
            now: jiff::Timestamp::now(),
            last_sync: last_sync.as_ref().map(|l| l.synced_at),
            clock_skew_secs: last_sync.as_ref().map(|l| l.clock_skew_secs),
            backlog_packets: packets_waiting,
            backlog_bytes: bytes_waiting,
            free_disk_bytes,
        },
    );
    let (online_only, online_only_source) = effective.online_only();
    Ok(KitStatus {
        kit_id: home.config.kit_id.clone(),
        hub_url: home.config.hub_url.clone(),
        queue,
        packets_waiting,
        bytes_waiting,
        last_sync,
        free_disk_bytes,
        new_visit_allowed: limits.iter().all(|l| !l.exceeded),
        limits,
        online_only,
        online_only_source,
    })
}

/// Whether the hub at `hub_url` answers `GET /v1/info` within [`PROBE_TIMEOUT`]; over `https`
/// only with the certificate pinned by `pin` when given.
pub async fn probe_hub(hub_url: &str, pin: Option<&str>) -> Result<(), String> {
    let mut url = super::client::sync_url(hub_url).map_err(|e| e.to_string())?;
    let path = url.path().replace(
        jemput_core::wire::sync::SYNC_PATH,
        jemput_core::wire::tus::INFO_PATH,
    );
    url.set_path(&path);
    let builder = reqwest::Client::builder().timeout(PROBE_TIMEOUT);
    let http = match pin {
        Some(pin) => {
            let pin: crate::pin::CertPin =
                pin.parse().map_err(|e| format!("hub_cert_sha256: {e}"))?;
            crate::pin::pinned_client(builder, &pin).0
        }
        None => builder.build().map_err(|e| e.to_string())?,
    };
    match http.get(url).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("it answered HTTP {}", r.status().as_u16())),
        Err(e) => Err(if e.is_timeout() {
            format!("no answer within {} s", PROBE_TIMEOUT.as_secs())
        } else if e.is_connect() {
            "connection failed".into()
        } else {
            e.to_string()
        }),
    }
}

/// The check before a new visit: every limit, and in online-only mode the hub must answer.
/// `Ok` carries the status it was decided on.
pub fn check_new_visit(home: &KitHome, store: &Store) -> Result<KitStatus, NewVisitError> {
    let status = kit_status(home, store)?;
    let mut reasons: Vec<String> = status
        .limits
        .iter()
        .filter(|l| l.exceeded)
        .map(policy::refusal_line)
        .collect();
    if status.online_only {
        let probe = match home.config.hub_url.as_deref() {
            None => Err("no hub-url is set".to_string()),
            Some(url) => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| rt.block_on(probe_hub(url, home.config.hub_cert_sha256.as_deref()))),
        };
        if let Err(why) = probe {
            reasons.push(policy::online_only_line(
                home.config.hub_url.as_deref(),
                &why,
            ));
        }
    }
    if reasons.is_empty() {
        Ok(status)
    } else {
        Err(NewVisitError::Refused(PolicyRefusal { reasons }))
    }
}

/// Why a new visit cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NewVisitError {
    #[error(transparent)]
    Refused(#[from] PolicyRefusal),
    #[error(transparent)]
    Status(#[from] StatusError),
}

//! Getting sealed packets to the hub: a tus 1.0.0 client ([`tus`]), the queue drain that resumes
//! from the server's offset and turns signed receipts into acknowledged packets ([`uploader`]),
//! chunk sizing and back-off ([`pacing`]), and purging after the retention period ([`purge`]).
//!
//! The protocol is `docs/hub-protocol.md`; a plain tus 1.0.0 server can stand in for the hub, and
//! its packets are then "uploaded, no receipt": never acknowledged, never purged.

pub mod agent;
pub mod pacing;
pub mod purge;
pub mod tus;
pub mod uploader;

use reqwest::Url;
use schemars::JsonSchema;
use serde::Serialize;

pub use purge::purge_expired;
pub use uploader::{UploadOptions, Uploader};

/// The path of the hub's tus endpoint under its base URL.
pub const HUB_UPLOADS_PATH: &str = "v1/uploads";

/// A bad `--endpoint` or `hub-url`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    #[error("{0:?} is not a URL: {1}; give e.g. http://10.0.0.2:8080 (a hub) or http://host:1080/files/ (a tus server)")]
    NotAUrl(String, String),
    #[error("{0:?} is not an http:// or https:// URL")]
    Scheme(String),
}

/// The tus creation URL for `s`: a URL with no path (`http://hub:8080`) is a hub's base URL and
/// gets `/v1/uploads`; a URL with a path (`http://host:1080/files/`) is used as it is, so any tus
/// server can be named.
pub fn parse_endpoint(s: &str) -> Result<Url, EndpointError> {
    let mut url =
        Url::parse(s.trim()).map_err(|e| EndpointError::NotAUrl(s.into(), e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(EndpointError::Scheme(s.into()));
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path(HUB_UPLOADS_PATH);
    }
    Ok(url)
}

/// What became of one packet in a drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The hub's receipt verified with the pinned key and is stored; the packet is acknowledged.
    Acknowledged,
    /// Every byte is on the server, but no verified receipt came back (a plain tus server): the
    /// packet stays `uploading` and is never purged.
    UploadedNoReceipt,
    /// The server's size limit is below the packet's size; the packet stays sealed.
    TooLarge,
    /// The packet failed verification on the kit's disk and was quarantined, not sent.
    Quarantined,
    /// The upload failed (see `error`); the packet stays queued and the next drain resumes it.
    Failed,
    /// The hub refused the packet for good (see `error`: e.g. its packet id belongs to another
    /// kit); it is now `refused` in the queue, kept on the kit and not sent again.
    Refused,
    /// Not tried: the drain stopped first (see the report's `stopped`).
    NotAttempted,
    /// Stopped between two chunks because the kit was asked to stop (Ctrl-C, SIGTERM); the
    /// confirmed offset is recorded and the next drain resumes from the server's offset.
    Interrupted,
}

impl Outcome {
    /// Whether the packet reached the server (with or without a receipt).
    pub fn is_delivered(self) -> bool {
        matches!(self, Outcome::Acknowledged | Outcome::UploadedNoReceipt)
    }
}

/// One packet's result in `jemput upload --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PacketResult {
    pub packet_id: String,
    /// Size of the packet file in bytes.
    pub size: u64,
    pub outcome: Outcome,
    /// `PATCH` body bytes sent in this drain (including any a cut lost).
    pub bytes_sent: u64,
    /// The server's offset when this drain resumed an earlier upload.
    pub resumed_from: Option<u64>,
    /// Attempts made (1 when nothing went wrong).
    pub attempts: u32,
    /// The hub that signed the receipt, when acknowledged.
    pub hub_id: Option<String>,
    /// What went wrong, and what to do, when not delivered.
    pub error: Option<String>,
}

/// `jemput upload --json`: one drain of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UploadReport {
    /// The tus creation URL packets were sent to.
    pub endpoint: String,
    /// The per-chunk checksum sent (`blake3`, `sha256`, `sha1`), when the server offers the extension.
    pub checksum: Option<String>,
    /// Every packet that was waiting (sealed or uploading), oldest first.
    pub packets: Vec<PacketResult>,
    /// Packets purged after this drain (acknowledged longer than the retention period).
    pub purged: Vec<String>,
    /// Why the drain stopped before trying every packet (the hub refused the kit, or cannot be
    /// reached).
    pub stopped: Option<String>,
    /// Seconds the hub asked the kit to wait before it asks again (it answered `429` or `503`
    /// with `Retry-After`; at most 600): the drain stopped there and the packets stay queued.
    pub retry_after_secs: Option<u64>,
}

impl UploadReport {
    /// True when every waiting packet reached the server and the drain did not stop.
    pub fn all_delivered(&self) -> bool {
        self.stopped.is_none() && self.packets.iter().all(|p| p.outcome.is_delivered())
    }
}

/// Receives progress while packets upload (the CLI draws bars; the library stays quiet).
pub trait Progress {
    /// A packet starts (or resumes) at `offset` of `size`.
    fn start(&self, packet_id: &str, size: u64, offset: u64);
    /// The server confirmed `offset` bytes.
    fn advance(&self, packet_id: &str, offset: u64);
    /// The packet is done with this outcome.
    fn finish(&self, packet_id: &str, outcome: Outcome);
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64, _: u64) {}
    fn advance(&self, _: &str, _: u64) {}
    fn finish(&self, _: &str, _: Outcome) {}
}

/// Errors that end a drain (as opposed to a packet's failure, which is in its [`PacketResult`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_hub_url_gets_the_uploads_path_and_a_tus_url_is_kept() {
        assert_eq!(
            parse_endpoint("http://10.0.0.2:8080").unwrap().as_str(),
            "http://10.0.0.2:8080/v1/uploads"
        );
        assert_eq!(
            parse_endpoint("https://hub.example/").unwrap().as_str(),
            "https://hub.example/v1/uploads"
        );
        assert_eq!(
            parse_endpoint(" http://127.0.0.1:1080/files/ ")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:1080/files/"
        );
        assert!(matches!(
            parse_endpoint("ftp://x/"),
            Err(EndpointError::Scheme(_))
        ));
        assert!(matches!(
            parse_endpoint("hub:8080"),
            Err(EndpointError::Scheme(_)) | Err(EndpointError::NotAUrl(..))
        ));
        assert!(matches!(
            parse_endpoint("not a url"),
            Err(EndpointError::NotAUrl(..))
        ));
    }
}

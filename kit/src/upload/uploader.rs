//! Draining the queue once: every sealed or uploading packet, oldest first, is resumed from the
//! server's offset (or created anew), sent in chunks with the confirmed offset recorded after each,
//! and acknowledged when a receipt that verifies with the pinned hub key comes back.
//!
//! What the kit does on each answer is `docs/hub-protocol.md` §5: `409` → ask the offset again;
//! `404`/`410`/`403` on an upload → create a new one; `460` → send the chunk again; `413` at
//! creation → keep the packet sealed and say it is too large; `413` to a `PATCH` → the chunk was
//! over the server's limit: send it again smaller (never more than the hub's advertised
//! `Jemput-Max-Chunk` in the first place); `401` → stop the whole drain with the reason; `400`,
//! `403`, `409` or `422` to a creation and `422` at completion → the hub refused the packet for
//! good: it becomes `refused` with the reason and is not sent again; `429` or `503` with
//! `Retry-After` → the hub is busy: stop the drain, say when to retry (at most 10 minutes away) and
//! leave every packet queued; no answer or another `5xx` → back off with jitter and try again, a
//! bounded number of times.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::Url;

use super::pacing::{Backoff, ChunkSizer};
use super::tus::{Capabilities, Creation, KitAuth, TusClient, TusError};
use super::{Outcome, PacketResult, Progress, UploadError, UploadReport};
use crate::store::{QueueEntry, State, Store, StoreError};
use jemput_core::keys::{PublicKey, SigningKey};
use jemput_core::packet;
use jemput_core::wire::receipt::{Receipt, ReceiptError};

/// How a drain behaves.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Attempts per packet before it is reported failed (and left for the next drain).
    pub max_attempts: u32,
    /// Waits between attempts.
    pub backoff: Backoff,
    /// Hours an acknowledged packet is kept before the drain purges it.
    pub retention_hours: u32,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            max_attempts: 5,
            backoff: Backoff::default(),
            retention_hours: crate::home::DEFAULT_RETENTION_HOURS,
        }
    }
}

/// Uploads a kit's queue to one tus endpoint.
#[derive(Debug)]
pub struct Uploader {
    client: TusClient,
    kit_public: PublicKey,
    hub_key: Option<PublicKey>,
    options: UploadOptions,
    /// Set when the kit is asked to stop: the drain ends between chunks.
    stop: Option<Arc<AtomicBool>>,
    /// The chunk sizer as the last packet left it: what the drain has learnt of the link.
    link: Mutex<ChunkSizer>,
}

/// The `stopped` reason of a drain that was asked to stop.
pub const STOPPED_BY_REQUEST: &str =
    "stopped on request (Ctrl-C or SIGTERM); the next upload resumes from the server's offset";

/// Why one attempt at a packet ended without a final outcome.
#[derive(Debug)]
enum Step {
    /// Worth another attempt after a wait (no answer, server error, repeated conflicts).
    Transient(String),
    /// The server's size limit is below the packet's.
    TooLarge,
    /// Another attempt would get the same answer (a refusal, a receipt that does not verify).
    Fatal(String),
    /// The hub refused the packet for good: it becomes `refused` and is not sent again.
    Refused(String),
    /// The hub refused the kit: stop the drain.
    Stop(String),
    /// The hub is busy and said when to ask again: stop the drain.
    Busy(String, Duration),
    /// The kit was asked to stop (between chunks).
    Interrupted,
    /// The queue failed: end the drain with this error.
    Store(StoreError),
}

impl From<StoreError> for Step {
    fn from(e: StoreError) -> Step {
        Step::Store(e)
    }
}

impl From<TusError> for Step {
    fn from(e: TusError) -> Step {
        if let TusError::Busy { retry_after, .. } = &e {
            return Step::Busy(busy(&e), *retry_after);
        }
        match e {
            TusError::Unauthorized { .. } | TusError::PinMismatch(_) => Step::Stop(e.to_string()),
            TusError::TooLarge { .. } => Step::TooLarge,
            TusError::PacketRefused { .. } => Step::Refused(e.to_string()),
            e if e.is_transient() => Step::Transient(e.to_string()),
            TusError::Gone { .. } | TusError::Conflict { .. } => Step::Transient(e.to_string()),
            e => Step::Fatal(e.to_string()),
        }
    }
}

/// Why a drain stopped before trying every packet, and when the hub asked to be asked again.
#[derive(Debug)]
struct Stopped {
    why: String,
    retry_after: Option<Duration>,
}

impl From<String> for Stopped {
    fn from(why: String) -> Stopped {
        Stopped {
            why,
            retry_after: None,
        }
    }
}

/// The reason a drain stops at a busy hub.
fn busy(e: &TusError) -> String {
    format!("{e}; the packets stay queued: run `jemput upload` again then (`jemput agent` waits by itself)")
}

/// One packet being uploaded.
struct Job<'a> {
    entry: &'a QueueEntry,
    bytes: Bytes,
    prelude: Bytes,
    result: PacketResult,
    sizer: ChunkSizer,
}

impl Uploader {
    /// An uploader sending to `endpoint` as kit `kit_id`, verifying receipts with `hub_key`.
    pub fn new(
        endpoint: Url,
        kit_id: &str,
        kit_key: SigningKey,
        hub_key: Option<PublicKey>,
        options: UploadOptions,
    ) -> Uploader {
        let kit_public = kit_key.public();
        let auth = KitAuth {
            kit_id: kit_id.to_owned(),
            key: kit_key,
        };
        Uploader {
            client: TusClient::new(endpoint, Some(auth)),
            kit_public,
            hub_key,
            options,
            stop: None,
            link: Mutex::new(ChunkSizer::default()),
        }
    }

    /// Makes the drain stop between chunks (and during waits) once `stop` turns true.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Uploader {
        self.stop = Some(stop);
        self
    }

    /// Whether the kit was asked to stop.
    pub fn stop_requested(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }

    /// Sleeps for `wait`, waking early when asked to stop.
    async fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while !self.stop_requested() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
    }

    /// Accepts only the hub certificate with this SHA-256 on `https` (see [`crate::pin`]); a
    /// different certificate stops the drain with both fingerprints in the reason.
    pub fn pin_certificate(mut self, pin: &jemput_core::wire::pin::CertPin) -> Uploader {
        self.client.pin_certificate(pin);
        self
    }

    /// Uploads every sealed or uploading packet once, then purges acknowledged packets older
    /// than the retention period.
    ///
    /// A packet's failure is in its [`PacketResult`]; only a failing queue ends the drain early
    /// with an error.
    pub async fn drain(
        &self,
        store: &mut Store,
        progress: &dyn Progress,
    ) -> Result<UploadReport, UploadError> {
        let waiting: Vec<QueueEntry> = store
            .list()?
            .into_iter()
            .filter(|e| matches!(e.state, State::Sealed | State::Uploading))
            .collect();
        let mut report = UploadReport {
            endpoint: self.client.endpoint().to_string(),
            checksum: None,
            packets: Vec::with_capacity(waiting.len()),
            purged: Vec::new(),
            stopped: None,
            retry_after_secs: None,
        };
        let caps = if waiting.is_empty() {
            None
        } else {
            match self.discover().await {
                Ok(c) => Some(c),
                Err(stopped) => {
                    report.stop(stopped);
                    None
                }
            }
        };
        report.checksum = caps
            .as_ref()
            .and_then(|c| c.checksum())
            .map(|a| a.name().to_owned());
        for entry in &waiting {
            if self.stop_requested() && report.stopped.is_none() {
                report.stopped = Some(STOPPED_BY_REQUEST.into());
            }
            let result = match (&caps, &report.stopped) {
                (Some(caps), None) => {
                    let (result, stop) = self.upload_packet(store, entry, caps, progress).await?;
                    if let Some(stopped) = stop {
                        report.stop(stopped);
                    }
                    result
                }
                _ => not_attempted(entry),
            };
            progress.finish(&entry.packet_id, result.outcome);
            report.packets.push(result);
        }
        let retention = jiff::SignedDuration::from_hours(self.options.retention_hours.into());
        report.purged = super::purge_expired(store, retention, jiff::Timestamp::now())?;
        Ok(report)
    }

    /// `OPTIONS`, retried with back-off while the server does not answer.
    async fn discover(&self) -> Result<Capabilities, Stopped> {
        let mut retry = 0;
        loop {
            match self.client.options().await {
                Ok(c) => return Ok(c),
                Err(e) if e.is_transient() && retry + 1 < self.options.max_attempts => {
                    tracing::warn!(error = %e, "upload endpoint not answering; retrying");
                    self.pause(self.options.backoff.delay(retry)).await;
                    if self.stop_requested() {
                        return Err(String::from(STOPPED_BY_REQUEST).into());
                    }
                    retry += 1;
                }
                Err(e @ TusError::Busy { retry_after, .. }) => {
                    return Err(Stopped {
                        why: busy(&e),
                        retry_after: Some(retry_after),
                    })
                }
                Err(e) => {
                    return Err(format!(
                        "{e}; check the link and the hub URL (`jemput config show`), then run `jemput upload` again"
                    )
                    .into())
                }
            }
        }
    }

    /// Uploads one packet with bounded attempts; returns its result and, when the hub refused the
    /// kit, the reason to stop the drain.
    async fn upload_packet(
        &self,
        store: &mut Store,
        entry: &QueueEntry,
        caps: &Capabilities,
        progress: &dyn Progress,
    ) -> Result<(PacketResult, Option<Stopped>), UploadError> {
        let mut result = not_attempted(entry);
        let fail = |mut r: PacketResult, outcome, why: String| {
            r.outcome = outcome;
            r.error = Some(why);
            Ok((r, None))
        };
        let path = store.path_of(entry);
        let bytes = match std::fs::read(&path) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                let why = format!("cannot read {}: {e}; run `jemput doctor`", path.display());
                return fail(result, Outcome::Failed, why);
            }
        };
        let prelude = match packet::verify(&bytes, Some(&self.kit_public)) {
            Ok(p) => bytes.slice(..p.payload_offset),
            Err(e) => {
                let why = format!("the packet file fails verification ({e}); quarantined");
                store.transition(&entry.packet_id, State::Quarantined, Some(&why))?;
                return fail(result, Outcome::Quarantined, why);
            }
        };
        result.size = bytes.len() as u64;
        if let Some(max) = caps.max_size.filter(|&m| m < result.size) {
            let why = too_large(result.size, Some(max));
            self.keep_sealed(store, entry, &why)?;
            return fail(result, Outcome::TooLarge, why);
        }
        if entry.state == State::Sealed {
            store.transition(&entry.packet_id, State::Uploading, None)?;
        }
        // What the last packets learnt of the link (see `pacing`), not a fresh start.
        let mut sizer = *self.link.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(max) = caps.max_chunk {
            sizer.limit(max);
        }
        let mut job = Job {
            entry,
            bytes,
            prelude,
            result,
            sizer,
        };
        let checksum = caps.checksum();
        loop {
            job.result.attempts += 1;
            let attempted = self.attempt(store, &mut job, checksum, progress).await;
            *self.link.lock().unwrap_or_else(|e| e.into_inner()) = job.sizer;
            let step = match attempted {
                Ok(outcome) => {
                    job.result.outcome = outcome;
                    return Ok((job.result, None));
                }
                Err(step) => step,
            };
            match step {
                Step::Store(e) => return Err(e.into()),
                Step::Stop(why) => {
                    job.result.outcome = Outcome::Failed;
                    job.result.error = Some(why.clone());
                    return Ok((job.result, Some(why.into())));
                }
                Step::Busy(why, wait) => {
                    job.result.outcome = Outcome::Failed;
                    job.result.error = Some(why.clone());
                    let stopped = Stopped {
                        why,
                        retry_after: Some(wait),
                    };
                    return Ok((job.result, Some(stopped)));
                }
                Step::Interrupted => {
                    job.result.outcome = Outcome::Interrupted;
                    return Ok((job.result, Some(String::from(STOPPED_BY_REQUEST).into())));
                }
                Step::TooLarge => {
                    let why = too_large(job.result.size, caps.max_size);
                    self.keep_sealed(store, entry, &why)?;
                    return fail(job.result, Outcome::TooLarge, why);
                }
                Step::Fatal(why) => return fail(job.result, Outcome::Failed, why),
                Step::Refused(why) => {
                    let why = format!(
                        "{why}; the packet is kept on the kit as refused (`jemput queue`) and not sent again: tell the office"
                    );
                    store.clear_upload(&entry.packet_id)?;
                    store.transition(&entry.packet_id, State::Refused, Some(&why))?;
                    return fail(job.result, Outcome::Refused, why);
                }
                Step::Transient(why) if job.result.attempts >= self.options.max_attempts => {
                    let why = format!(
                        "{why}; gave up after {} attempts, the next `jemput upload` resumes from the server's offset",
                        job.result.attempts
                    );
                    return fail(job.result, Outcome::Failed, why);
                }
                Step::Transient(why) => {
                    let wait = self.options.backoff.delay(job.result.attempts - 1);
                    tracing::warn!(packet_id = %entry.packet_id, error = %why, ?wait, "upload interrupted; retrying");
                    self.pause(wait).await;
                    if self.stop_requested() {
                        job.result.outcome = Outcome::Interrupted;
                        job.result.error = Some(why);
                        return Ok((job.result, Some(String::from(STOPPED_BY_REQUEST).into())));
                    }
                }
            }
        }
    }

    /// One attempt: find where the upload stands, send the rest, take the receipt.
    async fn attempt(
        &self,
        store: &mut Store,
        job: &mut Job<'_>,
        checksum: Option<super::tus::ChecksumAlgorithm>,
        progress: &dyn Progress,
    ) -> Result<Outcome, Step> {
        let id = job.entry.packet_id.as_str();
        let len = job.bytes.len() as u64;
        let (url, mut offset) = match self.resume_point(store, job).await? {
            Some(point) => point,
            None => match self.client.create(len, &[("packet", &job.prelude)]).await? {
                Creation::Created { url, max_chunk } => {
                    if let Some(max) = max_chunk {
                        job.sizer.limit(max);
                    }
                    store.set_upload(id, url.as_str(), 0)?;
                    (url, 0)
                }
                Creation::AlreadyHeld { receipt } => {
                    return self.take_receipt(store, job, receipt).await;
                }
            },
        };
        progress.start(id, len, offset);
        let mut conflicts = 0;
        let mut mismatches = 0;
        while offset < len {
            if self.stop_requested() {
                tracing::info!(packet_id = id, offset, "stopping between chunks on request");
                return Err(Step::Interrupted);
            }
            let n = (job.sizer.size() as u64).min(len - offset);
            let chunk = job.bytes.slice(offset as usize..(offset + n) as usize);
            job.result.bytes_sent += n;
            let started = Instant::now();
            match self.client.patch(&url, offset, chunk, checksum).await {
                Ok(p) if p.offset > offset && p.offset <= offset + n => {
                    job.sizer
                        .confirmed((p.offset - offset) as usize, started.elapsed());
                    offset = p.offset;
                    store.set_upload(id, url.as_str(), offset)?;
                    progress.advance(id, offset);
                    if offset == len {
                        return self.take_receipt(store, job, p.receipt).await;
                    }
                }
                Ok(p) => {
                    return Err(Step::Transient(format!(
                        "PATCH at {offset} of {n} bytes was answered with offset {}",
                        p.offset
                    )))
                }
                Err(TusError::Conflict { .. }) if conflicts < 3 => {
                    conflicts += 1;
                    offset = self.client.head(&url).await?.offset;
                    store.set_upload(id, url.as_str(), offset)?;
                }
                Err(TusError::ChecksumMismatch { .. }) if mismatches < 3 => {
                    mismatches += 1;
                    tracing::warn!(
                        packet_id = id,
                        offset,
                        "checksum mismatch at the server; sending the chunk again"
                    );
                }
                Err(TusError::ChunkTooLarge { max, .. }) => {
                    if !job.sizer.refused(n as usize, max) {
                        return Err(Step::Fatal(format!(
                            "the server refused a chunk of {n} bytes as too large (HTTP 413) and smaller chunks are not worth trying; check the proxy in front of the hub (its request body limit)"
                        )));
                    }
                    tracing::info!(
                        packet_id = id,
                        refused = n,
                        next = job.sizer.size(),
                        "the server takes smaller chunks; sending the chunk again smaller"
                    );
                }
                Err(TusError::Gone { .. }) => {
                    store.clear_upload(id)?;
                    return Err(Step::Transient(
                        "the upload vanished on the server; a new one is created".into(),
                    ));
                }
                Err(e @ TusError::Network { .. }) => {
                    job.sizer.cut();
                    return Err(e.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        // The server already had every byte (found by HEAD): only the receipt is missing.
        self.take_receipt(store, job, None).await
    }

    /// The recorded upload, if the server still has it: its URL and the server's offset (recorded
    /// as the confirmed offset). `None` when a new upload must be created.
    async fn resume_point(
        &self,
        store: &mut Store,
        job: &mut Job<'_>,
    ) -> Result<Option<(Url, u64)>, Step> {
        let id = job.entry.packet_id.as_str();
        let Some(rec) = store.upload_of(id)? else {
            return Ok(None);
        };
        let url = match Url::parse(&rec.url) {
            Ok(u) if u.origin() == self.client.endpoint().origin() => u,
            _ => {
                tracing::info!(packet_id = id, url = %rec.url, "recorded upload is on another server; starting anew");
                store.clear_upload(id)?;
                return Ok(None);
            }
        };
        let len = job.bytes.len() as u64;
        match self.client.head(&url).await {
            Ok(pos) if pos.length.is_none_or(|l| l == len) && pos.offset <= len => {
                if pos.offset < rec.offset {
                    tracing::warn!(
                        packet_id = id,
                        recorded = rec.offset,
                        server = pos.offset,
                        "server holds fewer bytes than it confirmed; resuming from its offset"
                    );
                }
                store.set_upload(id, url.as_str(), pos.offset)?;
                job.result.resumed_from.get_or_insert(pos.offset);
                Ok(Some((url, pos.offset)))
            }
            Ok(pos) => {
                tracing::warn!(
                    packet_id = id,
                    ?pos,
                    len,
                    "recorded upload does not match the packet; terminating it and starting anew"
                );
                if let Err(e) = self.client.delete(&url).await {
                    tracing::debug!(error = %e, "termination of the stale upload failed");
                }
                store.clear_upload(id)?;
                Ok(None)
            }
            Err(TusError::Gone { .. }) => {
                store.clear_upload(id)?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every byte is on the server: verify and store the receipt (from the answer, else asked of
    /// the hub), or record that none came.
    async fn take_receipt(
        &self,
        store: &mut Store,
        job: &mut Job<'_>,
        header: Option<String>,
    ) -> Result<Outcome, Step> {
        let id = job.entry.packet_id.as_str();
        let receipt = match header {
            Some(h) => Receipt::from_header_value(&h),
            None => match self.client.receipt(id).await {
                Ok(Some(json)) => serde_json::from_str::<Receipt>(&json)
                    .map_err(|e| ReceiptError::Malformed(e.to_string())),
                Ok(None) => {
                    tracing::info!(
                        packet_id = id,
                        "uploaded; the server sent no receipt, so the packet is kept"
                    );
                    job.result.error = None;
                    return Ok(Outcome::UploadedNoReceipt);
                }
                Err(e) => return Err(e.into()),
            },
        };
        let kept = "the packet stays uploading and is never purged without a verified receipt";
        let Some(hub_key) = &self.hub_key else {
            return Err(Step::Fatal(format!(
                "the hub sent a receipt but this kit pins no hub key, so it cannot be verified; pin it with `jemput config set hub-key <key>` and run `jemput upload` again ({kept})"
            )));
        };
        let verified = receipt.and_then(|r| {
            r.verify_for(hub_key, id, &job.entry.payload_sha256)
                .map(|body| (r, body))
        });
        let (receipt, body) =
            verified.map_err(|e| Step::Fatal(format!("receipt refused: {e}; {kept}")))?;
        let stored = serde_json::to_vec(&receipt).expect("a receipt serialises");
        let note = format!("receipt from {} at {}", body.hub_id, body.received_at);
        store.acknowledge(id, &stored, Some(&note))?;
        job.result.hub_id = Some(body.hub_id);
        Ok(Outcome::Acknowledged)
    }

    /// Puts a packet the server cannot take back to sealed, forgetting its upload.
    fn keep_sealed(
        &self,
        store: &mut Store,
        entry: &QueueEntry,
        why: &str,
    ) -> Result<(), StoreError> {
        store.clear_upload(&entry.packet_id)?;
        if store.get(&entry.packet_id)?.map(|e| e.state) == Some(State::Uploading) {
            store.transition(&entry.packet_id, State::Sealed, Some(why))?;
        }
        Ok(())
    }
}

impl UploadReport {
    /// Records why the drain stops (and, from a busy hub, when to ask again).
    fn stop(&mut self, stopped: Stopped) {
        self.stopped = Some(stopped.why);
        self.retry_after_secs = stopped.retry_after.map(|d| d.as_secs());
    }
}

fn not_attempted(entry: &QueueEntry) -> PacketResult {
    PacketResult {
        packet_id: entry.packet_id.clone(),
        size: entry.size,
        outcome: Outcome::NotAttempted,
        bytes_sent: 0,
        resumed_from: None,
        attempts: 0,
        hub_id: None,
        error: None,
    }
}

fn too_large(size: u64, max: Option<u64>) -> String {
    let limit = max
        .map(|m| format!(" takes at most {m} bytes"))
        .unwrap_or_else(|| " refused it as too large (HTTP 413)".into());
    format!("the packet is {size} bytes and this server{limit}; it stays sealed for a hub that takes it (ask the office to raise the hub's limit)")
}

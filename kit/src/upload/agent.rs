//! `jemput agent`: drain the queue again and again until asked to stop. Whenever the hub answers
//! the queue is drained (packets sealed meanwhile included: every round lists the queue afresh);
//! when it does not, or a packet fails, the agent waits with exponential back-off and jitter
//! before the next round — and at least as long as a busy hub asked (`Retry-After`, at most 10
//! minutes); when all is delivered it looks again every `poll`. Asked to stop, it
//! ends between chunks: every confirmed offset is recorded, nothing is lost, and the next `upload`
//! or `agent` resumes from the server's offset.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::pacing::Backoff;
use super::uploader::STOPPED_BY_REQUEST;
use super::{Outcome, Progress, UploadError, UploadReport, Uploader};
use crate::store::Store;

/// How the agent paces its rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentOptions {
    /// Wait between rounds while everything is delivered (new packets are found this soon).
    pub poll: Duration,
    /// Waits after a round that could not deliver (hub unreachable, a failed packet).
    pub backoff: Backoff,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            poll: Duration::from_secs(10),
            backoff: Backoff {
                base: Duration::from_secs(2),
                max: Duration::from_secs(300),
            },
        }
    }
}

/// Whether a round left work that waiting may finish: the hub did not answer or refused the kit,
/// or a packet failed. Packets too large for this hub or quarantined are not retried sooner.
pub fn needs_retry(report: &UploadReport) -> bool {
    report
        .stopped
        .as_deref()
        .is_some_and(|s| s != STOPPED_BY_REQUEST)
        || report.packets.iter().any(|p| p.outcome == Outcome::Failed)
}

/// The wait before the next round after one that needs a retry: the back-off's `backoff`, or
/// longer when the hub said when to ask again.
pub fn retry_wait(report: &UploadReport, backoff: Duration) -> Duration {
    let asked = report
        .retry_after_secs
        .map(Duration::from_secs)
        .unwrap_or_default()
        .min(super::pacing::MAX_RETRY_AFTER);
    backoff.max(asked)
}

/// Runs rounds until `stop` is set; `on_round` sees each round's report. Only a failing queue
/// ends it with an error.
pub async fn run(
    uploader: &Uploader,
    store: &mut Store,
    progress: &dyn Progress,
    options: &AgentOptions,
    stop: &AtomicBool,
    mut on_round: impl FnMut(&UploadReport, Option<Duration>),
) -> Result<(), UploadError> {
    let mut failed_rounds = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let report = uploader.drain(store, progress).await?;
        let wait = if needs_retry(&report) {
            failed_rounds += 1;
            let w = retry_wait(&report, options.backoff.delay(failed_rounds - 1));
            on_round(&report, Some(w));
            w
        } else {
            failed_rounds = 0;
            on_round(&report, None);
            options.poll
        };
        let until = Instant::now() + wait;
        while !stop.load(Ordering::SeqCst) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::PacketResult;

    fn report(stopped: Option<&str>, outcomes: &[Outcome]) -> UploadReport {
        UploadReport {
            endpoint: "http://hub/v1/uploads".into(),
            checksum: None,
            packets: outcomes
                .iter()
                .map(|&o| PacketResult {
                    packet_id: "p".into(),
                    size: 1,
                    outcome: o,
                    bytes_sent: 0,
                    resumed_from: None,
                    attempts: 1,
                    hub_id: None,
                    error: None,
                })
                .collect(),
            purged: vec![],
            stopped: stopped.map(str::to_owned),
            retry_after_secs: None,
        }
    }

    #[test]
    fn after_a_busy_hub_the_agent_waits_as_long_as_it_asked_and_at_most_ten_minutes() {
        let mut r = report(
            Some("the hub is busy, retry after 120 s"),
            &[Outcome::Failed],
        );
        let backoff = Duration::from_secs(2);
        assert_eq!(retry_wait(&r, backoff), backoff);
        r.retry_after_secs = Some(120);
        assert!(needs_retry(&r));
        assert_eq!(retry_wait(&r, backoff), Duration::from_secs(120));
        assert_eq!(
            retry_wait(&r, Duration::from_secs(300)),
            Duration::from_secs(300)
        );
        r.retry_after_secs = Some(86_400);
        assert_eq!(retry_wait(&r, backoff), Duration::from_secs(600));
    }

    #[test]
    fn only_an_unreachable_hub_or_a_failed_packet_makes_the_agent_back_off() {
        assert!(!needs_retry(&report(None, &[])));
        assert!(!needs_retry(&report(
            None,
            &[
                Outcome::Acknowledged,
                Outcome::TooLarge,
                Outcome::Quarantined
            ]
        )));
        assert!(needs_retry(&report(
            None,
            &[Outcome::Acknowledged, Outcome::Failed]
        )));
        assert!(needs_retry(&report(
            Some("no answer"),
            &[Outcome::NotAttempted]
        )));
        assert!(!needs_retry(&report(
            Some(STOPPED_BY_REQUEST),
            &[Outcome::Interrupted]
        )));
    }
}

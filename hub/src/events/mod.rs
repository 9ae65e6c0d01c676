//! Status events: every change of a packet's state at the hub (received, verified, rejected,
//! opened, open-failed) is written to a durable outbox table in the same SQLite transaction as the
//! change itself, and a background worker POSTs each event to every webhook in `hub.toml`, signed
//! with HMAC-SHA-256, retrying with exponential back-off and jitter until it is delivered or older
//! than `event_max_age_secs` (then it gives up and records that). Undelivered events survive
//! restarts: the outbox is the database. The wire format is `docs/hub-protocol.md` §7.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use std::path::Path;

use crate::CachedSql;
use rusqlite::{params, Connection};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::{lock, open_hub_db, parse_ts, ts_text, Backend, Hub, HubConfig, HubError};
use jemput_core::backoff::Backoff;

pub(crate) mod model;
pub use model::{Delivery, DeliveryState, EventKind, OpenedVisit, StatusEvent, WorklistPlace};

/// The header carrying the time of the attempt and the HMAC-SHA-256 over it, the event id, the
/// event kind and the body: `t=<unix seconds>,sha256=<lowercase hex>` ([`signature`]).
pub const SIGNATURE_HEADER: &str = "Jemput-Signature";
/// Domain prefix of the signed webhook message (version 2: version 1 signed the body only).
pub const SIGNATURE_DOMAIN: &str = "jemput/webhook/v2";
/// How far from the receiver's clock a delivery's `t` may be before [`verify_signature`] refuses
/// it as a replay (receivers dedupe by event id within it).
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;
/// The header naming the event kind (`verified`, …).
pub const EVENT_HEADER: &str = "Jemput-Event";
/// The header carrying the event id (also in the body).
pub const EVENT_ID_HEADER: &str = "Jemput-Event-Id";
/// How long one POST to a webhook may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the worker looks for due deliveries when nothing wakes it.
const POLL: Duration = Duration::from_millis(500);
/// Deliveries tried per webhook per round.
const BATCH: usize = 32;
/// How long a process holds an event it is posting before another process may post it (the
/// scale-out backend): longer than one post may take, so only a process that died lets it go.
const LEASE: Duration = Duration::from_secs(POST_TIMEOUT.as_secs() + 5);

/// A webhook the hub posts status events to (`[[webhooks]]` in `hub.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where events are POSTed (http:// or https://).
    pub url: String,
    /// The shared secret the `Jemput-Signature` HMAC is keyed with (UTF-8 bytes).
    pub secret: String,
    /// Allow a plain `http://` URL to a host other than loopback (events and signatures then
    /// cross the network in clear). Off: such a URL is refused when the config is read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_plain_http: bool,
    /// Send the resident's name and NIK (from the hub's worklist) in `opened` events to this
    /// webhook. Off: the event carries the worklist entry id, desa and RT/RW only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_name_and_nik: bool,
}

impl WebhookConfig {
    /// Why this webhook's URL is refused, if it is: not http(s), or plain http to a host other
    /// than loopback without `allow_plain_http`.
    pub fn url_problem(&self) -> Option<String> {
        let Ok(url) = reqwest::Url::parse(&self.url) else {
            return Some(format!("webhook url {:?} is not a URL", self.url));
        };
        let Some(host) = url.host_str() else {
            return Some(format!("webhook url {:?} has no host", self.url));
        };
        let ip = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host.eq_ignore_ascii_case("localhost")
            || ip
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
        match url.scheme() {
            "https" => None,
            "http" if loopback || self.allow_plain_http => None,
            "http" => Some(format!(
                "webhook url {:?} is plain http:// to a host that is not loopback: events and their signatures would cross the network in clear; use https://, or set allow_plain_http = true for this webhook if the network is trusted",
                self.url
            )),
            _ => Some(format!(
                "webhook url {:?} is not an http:// or https:// URL",
                self.url
            )),
        }
    }
}

impl StatusEvent {
    /// The event as `hook` receives it: the resident's name and NIK only if it asks for them.
    fn for_hook(&self, hook: &WebhookConfig) -> std::borrow::Cow<'_, StatusEvent> {
        let has_resident = self
            .visit
            .as_ref()
            .and_then(|v| v.worklist.as_ref())
            .is_some_and(|w| w.name.is_some() || w.nik.is_some());
        if hook.include_name_and_nik || !has_resident {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut ev = self.clone();
        if let Some(w) = ev.visit.as_mut().and_then(|v| v.worklist.as_mut()) {
            w.name = None;
            w.nik = None;
        }
        std::borrow::Cow::Owned(ev)
    }
}

/// Writes an event to the outbox. Call it with the transaction that makes the state change.
pub(crate) fn enqueue(
    conn: &Connection,
    kind: EventKind,
    packet_id: &str,
    kit_id: &str,
    size: Option<u64>,
    reason: Option<&str>,
) -> Result<(), HubError> {
    enqueue_with_visit(conn, kind, packet_id, kit_id, size, reason, None)
}

/// [`enqueue`] with what an `opened` event says of the visit.
pub(crate) fn enqueue_with_visit(
    conn: &Connection,
    kind: EventKind,
    packet_id: &str,
    kit_id: &str,
    size: Option<u64>,
    reason: Option<&str>,
    visit: Option<&OpenedVisit>,
) -> Result<(), HubError> {
    let visit = visit.map(|v| serde_json::to_string(v).expect("a visit detail serialises"));
    conn.exec(
        "INSERT INTO events (kind, packet_id, kit_id, size, reason, created_at, visit)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            kind.as_str(),
            packet_id,
            kit_id,
            size.map(|s| s as i64),
            reason,
            ts_text(Timestamp::now()),
            visit
        ],
    )?;
    Ok(())
}

fn signing_mac(secret: &str, t: i64, event_id: &str, event: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{SIGNATURE_DOMAIN}\n{t}\n{event_id}\n{event}\n").as_bytes());
    mac.update(body);
    mac
}

/// The `Jemput-Signature` value of a delivery at time `t`: HMAC-SHA-256 under `secret` of
/// `"jemput/webhook/v2\n" ‖ t "\n" ‖ event id "\n" ‖ event kind "\n" ‖ body` (the id and kind as
/// sent in `Jemput-Event-Id` and `Jemput-Event`).
pub fn signature(secret: &str, t: i64, event_id: &str, event: &str, body: &[u8]) -> String {
    let mac = signing_mac(secret, t, event_id, event, body);
    format!("t={t},sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a delivery's signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("malformed Jemput-Signature: expected t=<unix seconds>,sha256=<hex>")]
    Malformed,
    #[error("delivery time {t} is more than {SIGNATURE_TOLERANCE_SECS} s from now ({now}): an old delivery replayed, or a clock is wrong")]
    Stale { t: i64, now: i64 },
    #[error("the signature does not match the body, event id and event kind")]
    Mismatch,
}

/// Checks a delivery as a receiver should: `header` is `Jemput-Signature`, `event_id` and `event`
/// the `Jemput-Event-Id` and `Jemput-Event` values, `body` the raw bytes, `now` the receiver's
/// clock. The HMAC is compared in constant time; a `t` more than [`SIGNATURE_TOLERANCE_SECS`]
/// from `now` is refused. Receivers also drop an event id they already stored.
pub fn verify_signature(
    secret: &str,
    header: &str,
    event_id: &str,
    event: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let (mut t, mut sig) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("sha256", v)) => sig = hex::decode(v).ok(),
            _ => return Err(SignatureError::Malformed),
        }
    }
    let (Some(t), Some(sig)) = (t, sig) else {
        return Err(SignatureError::Malformed);
    };
    if t.abs_diff(now) > SIGNATURE_TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale { t, now });
    }
    signing_mac(secret, t, event_id, event, body)
        .verify_slice(&sig)
        .map_err(|_| SignatureError::Mismatch)
}

struct Due {
    event: StatusEvent,
    created_at: Timestamp,
    attempts: u32,
    last_error: Option<String>,
}

/// The event columns every query selects, in the order [`event_row`] reads them.
const EVENT_COLUMNS: &str =
    "e.event_id, e.kind, e.packet_id, e.kit_id, e.size, e.reason, e.created_at, e.visit";

fn event_row(
    hub_id: &str,
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(StatusEvent, String, String, Option<String>)> {
    let kind: String = r.get(1)?;
    let at: String = r.get(6)?;
    let visit: Option<String> = r.get(7)?;
    Ok((
        StatusEvent {
            event_id: r.get(0)?,
            event: EventKind::Received, // replaced below, once the kind is checked
            hub_id: hub_id.to_owned(),
            packet_id: r.get(2)?,
            kit_id: r.get(3)?,
            size: r.get::<_, Option<i64>>(4)?.map(|s| s as u64),
            reason: r.get(5)?,
            at: Timestamp::UNIX_EPOCH,
            visit: None, // parsed below
        },
        kind,
        at,
        visit,
    ))
}

fn finish_event(
    (mut ev, kind, at, visit): (StatusEvent, String, String, Option<String>),
) -> Result<(StatusEvent, Timestamp), HubError> {
    ev.event = EventKind::parse(&kind)?;
    let at = parse_ts("event time", at)?;
    ev.at = at;
    ev.visit = visit
        .map(|v| {
            serde_json::from_str(&v).map_err(|_| HubError::Corrupt {
                what: "event visit detail",
                value: v,
            })
        })
        .transpose()?;
    Ok((ev, at))
}

/// Events not yet delivered to (or given up for) `url` whose next attempt is due at `now`.
fn due(conn: &Connection, hub_id: &str, url: &str, now: Timestamp) -> Result<Vec<Due>, HubError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS}, d.attempts, d.last_error
         FROM events e LEFT JOIN deliveries d ON d.event_id = e.event_id AND d.url = ?1
         WHERE d.state IS NULL OR (d.state = 'pending' AND d.next_at <= ?2)
         ORDER BY e.event_id LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![url, ts_text(now), BATCH as i64], |r| {
            Ok((
                event_row(hub_id, r)?,
                r.get::<_, Option<i64>>(8)?,
                r.get::<_, Option<String>>(9)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(raw, attempts, last_error)| {
            let (event, created_at) = finish_event(raw)?;
            Ok(Due {
                event,
                created_at,
                attempts: attempts.unwrap_or(0) as u32,
                last_error,
            })
        })
        .collect()
}

fn record(
    conn: &Connection,
    event_id: i64,
    url: &str,
    state: &str,
    attempts: u32,
    next_at: Timestamp,
    last_error: Option<&str>,
) -> Result<(), HubError> {
    conn.exec(
        "INSERT INTO deliveries (event_id, url, state, attempts, next_at, last_error, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (event_id, url) DO UPDATE SET state = ?3, attempts = ?4, next_at = ?5,
             last_error = ?6, updated_at = ?7",
        params![
            event_id,
            url,
            state,
            attempts,
            ts_text(next_at),
            last_error,
            ts_text(Timestamp::now())
        ],
    )?;
    Ok(())
}

/// Every event of the hub in `data` with its delivery state for each configured webhook, oldest
/// first.
pub fn deliveries(data: &Path) -> Result<Vec<Delivery>, HubError> {
    let config = HubConfig::load(data)?;
    if config.postgres.is_some() {
        let Backend::Postgres(pool) = crate::open_backend(data)? else {
            unreachable!("hub.toml names PostgreSQL")
        };
        let mut out = Vec::new();
        for hook in &config.webhooks {
            out.extend(crate::pg::events::deliveries(
                &pool,
                &config.hub_id,
                &hook.url,
            )?);
        }
        out.sort_by_key(|d| d.event.event_id);
        return Ok(out);
    }
    let db = open_hub_db(data)?;
    let conn = lock(&db);
    let hub_id = config.hub_id.clone();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS}, d.state, d.attempts, d.last_error
         FROM events e LEFT JOIN deliveries d ON d.event_id = e.event_id AND d.url = ?1
         ORDER BY e.event_id"
    ))?;
    let mut out = Vec::new();
    for hook in &config.webhooks {
        let rows = stmt
            .query_map([&hook.url], |r| {
                Ok((
                    event_row(&hub_id, r)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (raw, state, attempts, last_error) in rows {
            out.push(Delivery {
                event: finish_event(raw)?.0,
                url: hook.url.clone(),
                state: DeliveryState::parse(state)?,
                attempts: attempts.unwrap_or(0) as u32,
                last_error,
            });
        }
    }
    out.sort_by_key(|d| d.event.event_id);
    Ok(out)
}

/// POSTs one event; `Err` is why it was not delivered.
async fn post(
    http: &reqwest::Client,
    hook: &WebhookConfig,
    event: &StatusEvent,
    attempt: u32,
) -> Result<(), String> {
    let body = serde_json::to_vec(&event.for_hook(hook)).expect("an event serialises");
    let (id, kind) = (event.event_id.to_string(), event.event.as_str());
    let t = Timestamp::now().as_second();
    let resp = http
        .post(&hook.url)
        .timeout(POST_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            SIGNATURE_HEADER,
            signature(&hook.secret, t, &id, kind, &body),
        )
        .header(EVENT_HEADER, kind)
        .header(EVENT_ID_HEADER, &id)
        .header("Jemput-Delivery-Attempt", attempt.to_string())
        .body(body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", resp.status().as_u16()))
    }
}

/// The webhook worker: delivers due events until `stop` turns true. Spawned by the server.
pub(crate) async fn run_worker(
    hub: Arc<Hub>,
    wake: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let hooks = hub.config().webhooks.clone();
    if hooks.is_empty() {
        return;
    }
    let http = reqwest::Client::builder()
        .connect_timeout(POST_TIMEOUT)
        .user_agent(concat!("jemput-hub/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds with rustls");
    let backoff = Backoff {
        base: Duration::from_millis(hub.config().webhook_retry_base_ms.max(1)),
        max: Duration::from_secs(hub.config().webhook_retry_max_secs.max(1)),
    };
    let max_age = jiff::SignedDuration::from_secs(
        hub.config().event_max_age_secs.min(i64::MAX as u64) as i64,
    );
    // One task per webhook: a slow or dead receiver delays only its own events.
    let tasks: Vec<_> = hooks
        .into_iter()
        .map(|hook| {
            let worker = HookWorker {
                hub: hub.clone(),
                hook,
                http: http.clone(),
                backoff,
                max_age,
            };
            tokio::spawn(worker.run(wake.clone(), stop.clone()))
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
}

/// Delivers the events of one webhook.
struct HookWorker {
    hub: Arc<Hub>,
    hook: WebhookConfig,
    http: reqwest::Client,
    backoff: Backoff,
    max_age: jiff::SignedDuration,
}

impl HookWorker {
    async fn run(
        self,
        wake: Arc<tokio::sync::Notify>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        while !*stop.borrow() {
            self.round(&stop).await;
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Tries every due event once (or gives it up).
    async fn round(&self, stop: &tokio::sync::watch::Receiver<bool>) {
        let (hub, hook, http, backoff, max_age) = (
            &self.hub,
            &self.hook,
            &self.http,
            self.backoff,
            self.max_age,
        );
        // On PostgreSQL each event is leased before it is posted (another process's worker may
        // be posting too): one at a time, so a lease covers one post, until none is due.
        let shared = matches!(hub.state, Backend::Postgres(_));
        loop {
            let h = hub.clone();
            let url = hook.url.clone();
            let found = tokio::task::spawn_blocking(move || match &h.state {
                Backend::Embedded(db) => due(&lock(db), &h.config().hub_id, &url, Timestamp::now()),
                Backend::Postgres(pool) => crate::pg::events::lease_due(
                    pool,
                    &h.config().hub_id,
                    &url,
                    Timestamp::now(),
                    1,
                    LEASE,
                )
                .map(|found| {
                    found
                        .into_iter()
                        .map(|(event, created_at, attempts, last_error)| Due {
                            event,
                            created_at,
                            attempts,
                            last_error,
                        })
                        .collect()
                }),
            })
            .await
            .expect("the outbox query panicked");
            let due = match found {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!("cannot read the event outbox: {e}");
                    return;
                }
            };
            if due.is_empty() {
                return;
            }
            for d in due {
                if *stop.borrow() {
                    return;
                }
                let now = Timestamp::now();
                let outcome = if now.duration_since(d.created_at) > max_age {
                    let why = format!(
                        "gave up after {} attempts, the event is older than {} s{}",
                        d.attempts,
                        max_age.as_secs(),
                        d.last_error
                            .as_deref()
                            .map(|e| format!("; last error: {e}"))
                            .unwrap_or_default()
                    );
                    tracing::warn!(event = d.event.event_id, url = %hook.url, "{why}");
                    ("gave_up", d.attempts, now, Some(why))
                } else {
                    let attempt = d.attempts + 1;
                    match post(http, hook, &d.event, attempt).await {
                        Ok(()) => {
                            tracing::info!(event = d.event.event_id, url = %hook.url, attempt, "status event delivered");
                            ("delivered", attempt, now, None)
                        }
                        Err(why) => {
                            let wait = backoff.delay(attempt - 1);
                            tracing::info!(event = d.event.event_id, url = %hook.url, attempt, ?wait, "status event not delivered: {why}");
                            let next = now
                                .checked_add(
                                    jiff::SignedDuration::try_from(wait)
                                        .unwrap_or(jiff::SignedDuration::ZERO),
                                )
                                .unwrap_or(now);
                            ("pending", attempt, next, Some(why))
                        }
                    }
                };
                let (h, url, id) = (hub.clone(), hook.url.clone(), d.event.event_id);
                let saved = tokio::task::spawn_blocking(move || {
                    let (state, attempts, next, why) = outcome;
                    match &h.state {
                        Backend::Embedded(db) => {
                            record(&lock(db), id, &url, state, attempts, next, why.as_deref())
                        }
                        Backend::Postgres(pool) => crate::pg::events::record(
                            pool,
                            id,
                            &url,
                            state,
                            attempts,
                            next,
                            why.as_deref(),
                        ),
                    }
                })
                .await
                .expect("recording a delivery panicked");
                if let Err(e) = saved {
                    tracing::error!("cannot record a webhook delivery: {e}");
                }
            }
            if !shared {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_time_id_kind_and_body() {
        // The HMAC is of the documented message.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(b"rahasia").unwrap();
        m.update(b"jemput/webhook/v2\n1000\n42\nverified\n{}");
        assert_eq!(
            signature("rahasia", 1000, "42", "verified", b"{}"),
            format!("t=1000,sha256={}", hex::encode(m.finalize().into_bytes()))
        );

        let body = br#"{"event_id":42}"#;
        let sig = signature("rahasia", 1000, "42", "verified", body);
        let check = |secret: &str, header: &str, id: &str, kind: &str, body: &[u8], now: i64| {
            verify_signature(secret, header, id, kind, body, now)
        };
        assert_eq!(check("rahasia", &sig, "42", "verified", body, 1200), Ok(()));
        assert_eq!(
            check("lain", &sig, "42", "verified", body, 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("rahasia", &sig, "42", "verified", b"{}", 1000),
            Err(SignatureError::Mismatch)
        );
        // The headers are signed: another event id or kind does not verify.
        assert_eq!(
            check("rahasia", &sig, "43", "verified", body, 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check("rahasia", &sig, "42", "rejected", body, 1000),
            Err(SignatureError::Mismatch)
        );
        // A captured delivery replayed later is stale; its time cannot be changed either.
        assert_eq!(
            check("rahasia", &sig, "42", "verified", body, 1301),
            Err(SignatureError::Stale { t: 1000, now: 1301 })
        );
        let moved = sig.replace("t=1000", "t=1301");
        assert_eq!(
            check("rahasia", &moved, "42", "verified", body, 1301),
            Err(SignatureError::Mismatch)
        );
        for bad in [
            "sha256=00",
            "t=1000",
            "t=x,sha256=00",
            "t=1000,sha256=zz",
            "t=1000,sha1=00",
        ] {
            assert_eq!(
                check("rahasia", bad, "42", "verified", body, 1000),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_http_webhooks_are_refused_except_on_loopback_or_when_allowed() {
        let hook = |url: &str, allow| WebhookConfig {
            url: url.into(),
            secret: "0123456789abcdef".into(),
            allow_plain_http: allow,
            include_name_and_nik: false,
        };
        for ok in [
            "https://office.example/hook",
            "http://127.0.0.1:9/hook",
            "http://127.8.0.1/hook",
            "http://[::1]:80/hook",
            "http://localhost:8080/hook",
        ] {
            assert_eq!(hook(ok, false).url_problem(), None, "{ok}");
        }
        let refused = hook("http://10.0.0.9/hook", false).url_problem().unwrap();
        assert!(refused.contains("allow_plain_http"), "{refused}");
        assert_eq!(hook("http://10.0.0.9/hook", true).url_problem(), None);
        assert!(hook("ftp://10.0.0.9/x", true).url_problem().is_some());
        assert!(hook("not a url", true).url_problem().is_some());
    }

    #[test]
    fn event_kinds_are_kebab_case_on_the_wire_and_round_trip() {
        for k in [
            EventKind::Received,
            EventKind::Verified,
            EventKind::Rejected,
            EventKind::Opened,
            EventKind::OpenFailed,
        ] {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(EventKind::parse(k.as_str()).unwrap(), k);
        }
        assert!(EventKind::parse("opened ").is_err());
    }
}

//! The events outbox and its deliveries on PostgreSQL, for several hub processes at once.
//!
//! Every process runs a webhook worker. To take an event for a webhook, a worker *leases* its
//! delivery row: it moves the row's `next_at` a lease ahead, in one statement that only succeeds
//! while the row is still due, so two workers never take the same delivery at once (the second
//! finds it not due any more, or waits on the first's row lock and then finds it so). The worker
//! posts and records the outcome, which replaces the lease. A worker that dies mid-post leaves
//! the lease to run out, and any process posts the event again: at least once, no event lost,
//! and no busy double delivery while the first worker is alive.

use std::time::Duration;

use jiff::Timestamp;
use postgres::{GenericClient, Row};

use super::{conn, Pool};
use crate::events::model::{Delivery, DeliveryState, EventKind, OpenedVisit, StatusEvent};
use crate::{parse_ts, ts_text, HubError};

/// Writes an event to the outbox, in the transaction of the state change; `visit` is what an
/// `opened` event says of the visit (stored as the same JSON text as in SQLite).
pub(crate) fn enqueue(
    c: &mut impl GenericClient,
    kind: EventKind,
    packet_id: &str,
    kit_id: &str,
    size: Option<u64>,
    reason: Option<&str>,
    visit: Option<&OpenedVisit>,
) -> Result<(), HubError> {
    let visit = visit.map(|v| serde_json::to_string(v).expect("a visit detail serialises"));
    c.execute(
        "INSERT INTO events (kind, packet_id, kit_id, size, reason, created_at, visit)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &kind.as_str(),
            &packet_id,
            &kit_id,
            &size.map(|s| s as i64),
            &reason,
            &ts_text(Timestamp::now()),
            &visit,
        ],
    )?;
    Ok(())
}

/// The event in columns 0 to 6 of `r` (`event_id` … `created_at`), its visit detail in column
/// `visit_col`.
fn event(hub_id: &str, r: &Row, visit_col: usize) -> Result<StatusEvent, HubError> {
    let kind: String = r.get(1);
    let visit = r
        .get::<_, Option<String>>(visit_col)
        .map(|v| {
            serde_json::from_str(&v).map_err(|_| HubError::Corrupt {
                what: "event visit detail",
                value: v,
            })
        })
        .transpose()?;
    Ok(StatusEvent {
        event_id: r.get(0),
        event: EventKind::parse(&kind)?,
        hub_id: hub_id.to_owned(),
        packet_id: r.get(2),
        kit_id: r.get(3),
        size: r.get::<_, Option<i64>>(4).map(|s| s.max(0) as u64),
        reason: r.get(5),
        at: parse_ts("event time", r.get(6))?,
        visit,
    })
}

/// A leased event: the event, when it was made, attempts so far, the last error.
pub(crate) type Leased = (StatusEvent, Timestamp, u32, Option<String>);

/// Leases up to `batch` events due for `url` at `now` for `lease`, oldest first.
pub(crate) fn lease_due(
    pool: &Pool,
    hub_id: &str,
    url: &str,
    now: Timestamp,
    batch: usize,
    lease: Duration,
) -> Result<Vec<Leased>, HubError> {
    let until = now
        .checked_add(jiff::SignedDuration::try_from(lease).unwrap_or(jiff::SignedDuration::ZERO))
        .unwrap_or(now);
    let (now, until) = (ts_text(now), ts_text(until));
    let rows = conn(pool)?.query(
        "WITH due AS (
             SELECT e.event_id FROM events e
             LEFT JOIN deliveries d ON d.event_id = e.event_id AND d.url = $1
             WHERE d.state IS NULL OR (d.state = 'pending' AND d.next_at <= $2)
             ORDER BY e.event_id LIMIT $4
         ),
         taken AS (
             INSERT INTO deliveries (event_id, url, state, attempts, next_at, updated_at)
             SELECT event_id, $1, 'pending', 0, $3, $2 FROM due
             ON CONFLICT (event_id, url) DO UPDATE SET next_at = $3
                 WHERE deliveries.state = 'pending' AND deliveries.next_at <= $2
             RETURNING event_id, attempts, last_error
         )
         SELECT e.event_id, e.kind, e.packet_id, e.kit_id, e.size, e.reason, e.created_at,
                t.attempts, t.last_error, e.visit
         FROM taken t JOIN events e ON e.event_id = t.event_id
         ORDER BY e.event_id",
        &[&url, &now, &until, &(batch as i64)],
    )?;
    rows.iter()
        .map(|r| {
            let ev = event(hub_id, r, 9)?;
            let at = ev.at;
            Ok((ev, at, r.get::<_, i32>(7).max(0) as u32, r.get(8)))
        })
        .collect()
}

/// Records the outcome of a delivery (replacing its lease).
pub(crate) fn record(
    pool: &Pool,
    event_id: i64,
    url: &str,
    state: &str,
    attempts: u32,
    next_at: Timestamp,
    last_error: Option<&str>,
) -> Result<(), HubError> {
    conn(pool)?.execute(
        "INSERT INTO deliveries (event_id, url, state, attempts, next_at, last_error, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (event_id, url) DO UPDATE SET state = $3, attempts = $4, next_at = $5,
             last_error = $6, updated_at = $7",
        &[
            &event_id,
            &url,
            &state,
            &(attempts.min(i32::MAX as u32) as i32),
            &ts_text(next_at),
            &last_error,
            &ts_text(Timestamp::now()),
        ],
    )?;
    Ok(())
}

/// Every event with its delivery state for `url`, oldest first.
pub(crate) fn deliveries(pool: &Pool, hub_id: &str, url: &str) -> Result<Vec<Delivery>, HubError> {
    conn(pool)?
        .query(
            "SELECT e.event_id, e.kind, e.packet_id, e.kit_id, e.size, e.reason, e.created_at,
                    d.state, d.attempts, d.last_error, e.visit
             FROM events e LEFT JOIN deliveries d ON d.event_id = e.event_id AND d.url = $1
             ORDER BY e.event_id",
            &[&url],
        )?
        .iter()
        .map(|r| {
            Ok(Delivery {
                event: event(hub_id, r, 10)?,
                url: url.to_string(),
                state: DeliveryState::parse(r.get(7))?,
                attempts: r.get::<_, Option<i32>>(8).unwrap_or(0).max(0) as u32,
                last_error: r.get(9),
            })
        })
        .collect()
}

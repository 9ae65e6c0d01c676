//! What the home page shows, built from the kit's own records: rows of plain values and the
//! Fluent message ids that name them (categories, offline limits, units).

use jemput_core::offline::{Limit, LimitStatus, Source};
use jemput_core::visit::{Category, ResidentRef, Visit};
use jemput_core::worklist::WorklistEntry;
use jemput_kit::sync::status::{KitStatus, QueueCounts};
use jemput_kit::visit::progress;
use serde::Serialize;
use uuid::Uuid;

/// The message id of a visit category, e.g. `category-rumah-sakit`.
pub fn category_id(c: Category) -> String {
    format!("category-{}", c.code().replace('_', "-"))
}

/// The message id of an offline limit, e.g. `limit-max-days-since-sync`.
pub fn limit_id(l: Limit) -> String {
    format!("limit-{}", l.name().replace('_', "-"))
}

/// The message id of a limit's unit (`days`, `packets`, `bytes`, `seconds`).
pub fn unit_id(unit: &str) -> String {
    format!("unit-{unit}")
}

const LIMITS: [Limit; 5] = [
    Limit::MaxDaysSinceSync,
    Limit::MaxBacklogPackets,
    Limit::MaxBacklogBytes,
    Limit::MinFreeDiskBytes,
    Limit::MaxClockSkewSecs,
];
const UNITS: [&str; 4] = ["days", "packets", "bytes", "seconds"];

/// Every message id the code builds (the templates' own are read from their source).
pub fn message_ids_used() -> Vec<String> {
    let mut ids: Vec<String> = Category::ALL.into_iter().map(category_id).collect();
    ids.extend(LIMITS.into_iter().map(limit_id));
    ids.extend(UNITS.into_iter().map(unit_id));
    ids.extend(
        [
            "source-hub",
            "source-local",
            "unlock-empty",
            "unlock-wrong",
            "unlock-failed",
            "error-not-found",
            "home-failed",
            "visit-need-nik",
            "visit-bad-date",
            "visit-need-category",
            "visit-bad-nik",
            "visit-confirm-warnings",
            "visit-not-in-worklist",
            "visit-start-failed",
            "consent-need-decision",
            "consent-need-name",
            "consent-save-failed",
        ]
        .map(String::from),
    );
    ids
}

/// `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

#[derive(Debug, Serialize)]
pub struct WorkRow {
    pub id: String,
    pub name: String,
    pub nik: Option<String>,
    pub category: String,
    pub place: String,
    pub notes: Option<String>,
    /// A visit in progress is already for this resident.
    pub in_progress: bool,
}

#[derive(Debug, Serialize)]
pub struct DraftRow {
    pub id: String,
    /// The resident's name, else their NIK or worklist id.
    pub who: String,
    pub category: Option<String>,
    pub started: Option<String>,
    /// What still stands between the visit and sealing.
    pub problems: usize,
    /// The resident refused consent: the visit ended with nothing captured.
    pub refused: bool,
    /// The draft could not be read (the error, for a technician).
    pub error: Option<String>,
    /// The step the visit reached: `consent` when it has none yet, else the first capture it
    /// lacks as a step id (`finger-07`).
    pub next_step: Option<String>,
    /// Captures filled (or excepted) and needed.
    pub done: usize,
    pub needed: usize,
    /// `next_step` in the operator's words (filled by the page, which knows the language).
    pub next_text: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LimitRow {
    pub name: String,
    pub unit: String,
    /// The limit in force, `None` when off.
    pub value: Option<String>,
    pub current: Option<String>,
    /// How close the kit is, in percent of the limit.
    pub percent: Option<u32>,
    pub exceeded: bool,
    pub source: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct HomeView {
    pub kit_id: String,
    pub operator: Option<String>,
    pub worklist: Vec<WorkRow>,
    pub synced: bool,
    pub drafts: Vec<DraftRow>,
    pub queue: QueueCounts,
    pub waiting_packets: u64,
    pub waiting_bytes: String,
    pub last_sync: Option<String>,
    pub limits: Vec<LimitRow>,
    pub new_visit_allowed: bool,
    pub online_only: bool,
    /// Seconds after which the page reloads itself (and so shows the lock once it locked).
    pub refresh_after: u64,
}

fn show(unit: &str, v: f64) -> String {
    match unit {
        "bytes" => human_bytes(v as u64),
        "days" => format!("{v:.1}"),
        _ => format!("{v:.0}"),
    }
}

fn limit_row(l: &LimitStatus) -> LimitRow {
    LimitRow {
        name: limit_id(l.limit),
        unit: unit_id(&l.unit),
        value: l.value.map(|v| show(&l.unit, v as f64)),
        current: l.current.map(|c| show(&l.unit, c)),
        percent: l
            .used
            .map(|u| (u * 100.0).round().clamp(0.0, 9999.0) as u32),
        exceeded: l.exceeded,
        source: l.source.map(|s| match s {
            Source::Hub => "source-hub",
            Source::Local => "source-local",
        }),
    }
}

fn when(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

fn same_resident(v: &Visit, e: &WorklistEntry) -> bool {
    match &v.resident.reference {
        ResidentRef::Worklist(id) => *id == e.id,
        ResidentRef::Nik(n) => e.nik.as_deref() == Some(n.as_str()),
    }
}

/// The home page from the kit's status, its synced worklist (already the entries for this kit)
/// and its drafts (each read, or why it could not be).
pub fn home_view(
    kit_id: &str,
    operator: Option<String>,
    status: &KitStatus,
    worklist: &[WorklistEntry],
    drafts: &[(Uuid, Result<Visit, String>)],
    refresh_after: u64,
) -> HomeView {
    let visits: Vec<&Visit> = drafts.iter().filter_map(|d| d.1.as_ref().ok()).collect();
    HomeView {
        kit_id: kit_id.to_string(),
        operator,
        worklist: worklist
            .iter()
            .map(|e| WorkRow {
                id: e.id.clone(),
                name: e.name.clone(),
                nik: e.nik.clone(),
                category: category_id(e.category),
                place: e.place(),
                notes: e.notes.clone(),
                in_progress: visits.iter().any(|v| same_resident(v, e)),
            })
            .collect(),
        synced: status.last_sync.is_some(),
        drafts: drafts
            .iter()
            .map(|(id, v)| match v {
                Ok(v) => {
                    DraftRow {
                        id: id.to_string(),
                        who: v.resident.name.clone().unwrap_or_else(|| {
                            match &v.resident.reference {
                                ResidentRef::Nik(n) => n.clone(),
                                ResidentRef::Worklist(w) => w.clone(),
                            }
                        }),
                        category: Some(category_id(v.category)),
                        started: Some(when(v.started_at)),
                        problems: v.readiness().len(),
                        refused: v.consent.as_ref().is_some_and(|c| !c.given),
                        error: None,
                        // Consent comes before every capture (`/visit/{id}` goes there first).
                        next_step: if v.consent.is_none() {
                            Some("consent".to_string())
                        } else {
                            progress::first_missing(v).map(|s| s.id())
                        },
                        done: progress::count(v).0,
                        needed: progress::count(v).1,
                        next_text: None,
                    }
                }
                Err(e) => DraftRow {
                    id: id.to_string(),
                    who: id.to_string(),
                    category: None,
                    started: None,
                    problems: 0,
                    refused: false,
                    error: Some(e.clone()),
                    next_step: None,
                    done: 0,
                    needed: 0,
                    next_text: None,
                },
            })
            .collect(),
        queue: status.queue,
        waiting_packets: status.packets_waiting,
        waiting_bytes: human_bytes(status.bytes_waiting),
        last_sync: status.last_sync.as_ref().map(|l| when(l.synced_at)),
        limits: status.limits.iter().map(limit_row).collect(),
        new_visit_allowed: status.new_visit_allowed,
        online_only: status.online_only,
        refresh_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_units_and_sizes_read_as_the_operator_sees_them() {
        assert_eq!(category_id(Category::RumahSakit), "category-rumah-sakit");
        assert_eq!(
            limit_id(Limit::MinFreeDiskBytes),
            "limit-min-free-disk-bytes"
        );
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
        let row = limit_row(&LimitStatus {
            limit: Limit::MaxDaysSinceSync,
            value: Some(5),
            source: Some(Source::Hub),
            current: Some(6.3),
            unit: "days".into(),
            used: Some(1.25),
            exceeded: true,
        });
        assert_eq!(row.value.as_deref(), Some("5.0"));
        assert_eq!(row.current.as_deref(), Some("6.3"));
        assert_eq!(row.percent, Some(125));
        assert_eq!(row.source, Some("source-hub"));
        assert!(row.exceeded);
    }
}

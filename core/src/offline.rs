//! The offline policy: limits past which a kit refuses to start a new visit (days since the last
//! sync, backlog not yet acknowledged, free disk, clock skew) and the online-only mode.
//!
//! Each limit comes from the last sync document when the hub sets it, else from the kit config
//! (`jemput config set max-days-since-sync 5`), else it is off. Refusals name the limit, the
//! current value and what to do, in Bahasa Indonesia and English.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The limits; every one optional (unset: no limit, or "let the other source decide").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflinePolicy {
    /// Most whole days since the last successful sync (MOSIP freezes after 5 without a master
    /// data sync). A kit that never synced is past this limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_days_since_sync: Option<u32>,
    /// Most packets sealed but not yet acknowledged by the hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backlog_packets: Option<u64>,
    /// Most bytes of packets sealed but not yet acknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_backlog_bytes: Option<u64>,
    /// Least free disk, in bytes, under the kit home.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_free_disk_bytes: Option<u64>,
    /// Largest clock difference from the hub, in seconds, measured at the last sync (MOSIP: ±5 min).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clock_skew_secs: Option<u64>,
    /// Online-only recording: a visit starts only when the hub answers, and each sealed packet
    /// is uploaded at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_only: Option<bool>,
}

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    MaxDaysSinceSync,
    MaxBacklogPackets,
    MaxBacklogBytes,
    MinFreeDiskBytes,
    MaxClockSkewSecs,
}

impl Limit {
    /// The setting's name (as in `jemput config set` and `jemput hub settings set`, with `-`).
    pub fn name(self) -> &'static str {
        match self {
            Limit::MaxDaysSinceSync => "max_days_since_sync",
            Limit::MaxBacklogPackets => "max_backlog_packets",
            Limit::MaxBacklogBytes => "max_backlog_bytes",
            Limit::MinFreeDiskBytes => "min_free_disk_bytes",
            Limit::MaxClockSkewSecs => "max_clock_skew_secs",
        }
    }
}

/// Where a limit in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The last sync document from the hub.
    Hub,
    /// The kit config.
    Local,
}

/// The policy in force: each value with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub hub: OfflinePolicy,
    pub local: OfflinePolicy,
}

impl Effective {
    fn pick<T: Copy>(&self, f: impl Fn(&OfflinePolicy) -> Option<T>) -> Option<(T, Source)> {
        f(&self.hub)
            .map(|v| (v, Source::Hub))
            .or(f(&self.local).map(|v| (v, Source::Local)))
    }

    /// A limit in force and its source.
    pub fn limit(&self, l: Limit) -> Option<(u64, Source)> {
        match l {
            Limit::MaxDaysSinceSync => self.pick(|p| p.max_days_since_sync.map(u64::from)),
            Limit::MaxBacklogPackets => self.pick(|p| p.max_backlog_packets),
            Limit::MaxBacklogBytes => self.pick(|p| p.max_backlog_bytes),
            Limit::MinFreeDiskBytes => self.pick(|p| p.min_free_disk_bytes),
            Limit::MaxClockSkewSecs => self.pick(|p| p.max_clock_skew_secs),
        }
    }

    /// Whether online-only mode is on, and who says so.
    pub fn online_only(&self) -> (bool, Option<Source>) {
        match self.pick(|p| p.online_only) {
            Some((v, s)) => (v, Some(s)),
            None => (false, None),
        }
    }
}

/// What the kit measured for the limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    pub now: jiff::Timestamp,
    pub last_sync: Option<jiff::Timestamp>,
    pub clock_skew_secs: Option<i64>,
    pub backlog_packets: u64,
    pub backlog_bytes: u64,
    pub free_disk_bytes: u64,
}

/// One limit against the kit's state: the item of `jemput status --json`'s `limits`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LimitStatus {
    pub limit: Limit,
    /// The limit in force (in `unit`), `null` when off.
    pub value: Option<u64>,
    /// Where the value comes from, `null` when off.
    pub source: Option<Source>,
    /// The kit's current value in `unit`, `null` when unknown (e.g. never synced).
    pub current: Option<f64>,
    /// `days`, `packets`, `bytes` or `seconds`.
    pub unit: String,
    /// How close the kit is: current / limit (for free disk: limit / current); 1 or more is at
    /// or past the limit. `null` when the limit is off or the value unknown.
    pub used: Option<f64>,
    /// Whether a new visit is refused for this limit.
    pub exceeded: bool,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Every limit against the measures, in a fixed order.
pub fn evaluate(p: &Effective, m: &Measures) -> Vec<LimitStatus> {
    let days = m
        .last_sync
        .map(|t| round2(m.now.duration_since(t).as_secs_f64() / 86_400.0).max(0.0));
    let skew = m.clock_skew_secs.map(|s| s.unsigned_abs() as f64);
    let rows: [(Limit, Option<f64>, &str); 5] = [
        (Limit::MaxDaysSinceSync, days, "days"),
        (
            Limit::MaxBacklogPackets,
            Some(m.backlog_packets as f64),
            "packets",
        ),
        (
            Limit::MaxBacklogBytes,
            Some(m.backlog_bytes as f64),
            "bytes",
        ),
        (
            Limit::MinFreeDiskBytes,
            Some(m.free_disk_bytes as f64),
            "bytes",
        ),
        (Limit::MaxClockSkewSecs, skew, "seconds"),
    ];
    rows.into_iter()
        .map(|(limit, current, unit)| {
            let set = p.limit(limit);
            let (used, exceeded) = match (set, current) {
                (None, _) => (None, false),
                // Never synced: past a days-since-sync limit; an unmeasured skew refuses nothing.
                (Some(_), None) => (None, limit == Limit::MaxDaysSinceSync),
                (Some((v, _)), Some(c)) => {
                    let v = v as f64;
                    match limit {
                        Limit::MinFreeDiskBytes => (
                            Some(if c > 0.0 {
                                round2(v / c)
                            } else {
                                f64::INFINITY
                            }),
                            c < v,
                        ),
                        // A new visit adds a packet: at the maximum already, it is refused.
                        Limit::MaxBacklogPackets | Limit::MaxBacklogBytes => {
                            (Some(ratio(c, v)), c >= v)
                        }
                        _ => (Some(ratio(c, v)), c > v),
                    }
                }
            };
            LimitStatus {
                limit,
                value: set.map(|s| s.0),
                source: set.map(|s| s.1),
                current,
                unit: unit.into(),
                used: used.filter(|u| u.is_finite()),
                exceeded,
            }
        })
        .collect()
}

fn ratio(c: f64, v: f64) -> f64 {
    if v > 0.0 {
        round2(c / v)
    } else if c > 0.0 {
        f64::INFINITY
    } else {
        1.0
    }
}

fn mib(b: f64) -> String {
    format!("{:.1} MiB", b / (1024.0 * 1024.0))
}

/// The bilingual refusal for one exceeded limit: the limit, the current value, what to do.
pub fn refusal_line(s: &LimitStatus) -> String {
    let v = s.value.unwrap_or(0);
    let name = s.limit.name();
    match (s.limit, s.current) {
        (Limit::MaxDaysSinceSync, None) => format!(
            "kit ini belum pernah sinkron dengan kantor (batas {name} = {v} hari); sambungkan ke jaringan lalu jalankan `jemput sync` / \
             this kit has never synced with the office (limit {name} = {v} days); get online and run `jemput sync`"
        ),
        (Limit::MaxDaysSinceSync, Some(c)) => format!(
            "sudah {c:.1} hari sejak sinkronisasi terakhir (batas {name} = {v} hari); sambungkan ke jaringan lalu jalankan `jemput sync` / \
             {c:.1} days since the last sync (limit {name} = {v} days); get online and run `jemput sync`"
        ),
        (Limit::MaxBacklogPackets, c) => format!(
            "{} paket belum diterima kantor (batas {name} = {v}); unggah dulu dengan `jemput upload` / \
             {} packets not yet acknowledged by the office (limit {name} = {v}); upload them first with `jemput upload`",
            c.unwrap_or(0.0), c.unwrap_or(0.0)
        ),
        (Limit::MaxBacklogBytes, c) => {
            let (c, l) = (mib(c.unwrap_or(0.0)), mib(v as f64));
            format!(
                "{c} paket belum diterima kantor (batas {name} = {l}); unggah dulu dengan `jemput upload` / \
                 {c} of packets not yet acknowledged by the office (limit {name} = {l}); upload them first with `jemput upload`"
            )
        }
        (Limit::MinFreeDiskBytes, c) => {
            let (c, l) = (mib(c.unwrap_or(0.0)), mib(v as f64));
            format!(
                "sisa ruang disk {c} (minimal {name} = {l}); unggah paket dengan `jemput upload` agar yang sudah diterima dihapus, atau kosongkan disk / \
                 {c} of free disk (minimum {name} = {l}); upload with `jemput upload` so acknowledged packets are purged, or free disk space"
            )
        }
        (Limit::MaxClockSkewSecs, c) => format!(
            "jam kit selisih {} detik dengan hub (batas {name} = {v} detik); setel jam kit (mis. `timedatectl set-ntp true`) lalu jalankan `jemput sync` / \
             the kit's clock is {} s off the hub's (limit {name} = {v} s); set the clock (e.g. `timedatectl set-ntp true`), then run `jemput sync`",
            c.unwrap_or(0.0), c.unwrap_or(0.0)
        ),
    }
}

/// The bilingual refusal of online-only mode when the hub does not answer.
pub fn online_only_line(hub_url: Option<&str>, why: &str) -> String {
    let hub = hub_url.unwrap_or("(no hub-url)");
    format!(
        "mode wajib daring (online_only) aktif dan hub {hub} tidak dapat dihubungi ({why}); sambungkan kit ke jaringan (sinyal, tethering, Starlink) lalu coba lagi / \
         online-only mode is on and the hub {hub} cannot be reached ({why}); get the kit online (signal, tethering, Starlink) and try again"
    )
}

/// A new visit refused by the offline policy; the message holds one line per reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("kunjungan baru ditolak / new visit refused:\n{}", .reasons.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
pub struct PolicyRefusal {
    /// One bilingual line per limit past which the kit is.
    pub reasons: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measures() -> Measures {
        let now: jiff::Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        Measures {
            now,
            last_sync: Some(now - jiff::SignedDuration::from_hours(24 * 3)),
            clock_skew_secs: Some(-40),
            backlog_packets: 4,
            backlog_bytes: 10 << 20,
            free_disk_bytes: 1 << 30,
        }
    }

    #[test]
    fn hub_values_override_local_ones_and_unset_limits_refuse_nothing() {
        let p = Effective {
            hub: OfflinePolicy {
                max_days_since_sync: Some(2),
                ..Default::default()
            },
            local: OfflinePolicy {
                max_days_since_sync: Some(30),
                max_backlog_packets: Some(4),
                ..Default::default()
            },
        };
        let s = evaluate(&p, &measures());
        assert_eq!(s[0].value, Some(2));
        assert_eq!(s[0].source, Some(Source::Hub));
        assert_eq!(s[0].current, Some(3.0));
        assert_eq!(s[0].used, Some(1.5));
        assert!(s[0].exceeded);
        assert_eq!(s[1].source, Some(Source::Local));
        assert!(
            s[1].exceeded,
            "4 waiting at a maximum of 4: a fifth is refused"
        );
        assert!(s[2..].iter().all(|l| !l.exceeded && l.value.is_none()));
        let none = evaluate(
            &Effective {
                hub: Default::default(),
                local: Default::default(),
            },
            &measures(),
        );
        assert!(none.iter().all(|l| !l.exceeded));
    }

    #[test]
    fn never_synced_is_past_a_days_limit_and_low_disk_and_skew_are_caught() {
        let p = Effective {
            hub: OfflinePolicy::default(),
            local: OfflinePolicy {
                max_days_since_sync: Some(5),
                min_free_disk_bytes: Some(2 << 30),
                max_clock_skew_secs: Some(30),
                ..Default::default()
            },
        };
        let mut m = measures();
        m.last_sync = None;
        let s = evaluate(&p, &m);
        assert!(s[0].exceeded && s[0].current.is_none());
        assert!(refusal_line(&s[0]).contains("never synced"));
        assert!(s[3].exceeded);
        assert_eq!(s[3].used, Some(2.0));
        assert!(s[4].exceeded);
        assert_eq!(s[4].current, Some(40.0));
        let line = refusal_line(&s[4]);
        assert!(
            line.contains("selisih 40 detik") && line.contains("40 s off"),
            "{line}"
        );
    }
}

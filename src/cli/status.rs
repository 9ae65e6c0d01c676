//! `jemput status`: queue counts, bytes waiting, the last sync, and how close the kit is to each
//! offline limit.

use std::process::ExitCode;

use clap::Args;
use jemput_core::offline::{Limit, LimitStatus, Source};
use jemput_kit::store::Store;
use jemput_kit::sync::status::kit_status;

use super::output::bytes;
use super::Global;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON (schemas/status.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: StatusArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let store = Store::open(&home.root)?;
    let s = kit_status(&home, &store)?;
    if a.json {
        super::output::json(&s)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "kit {}  hub {}",
        s.kit_id,
        s.hub_url.as_deref().unwrap_or("(none)")
    );
    let q = &s.queue;
    println!(
        "queue: {} sealed, {} uploading, {} acknowledged, {} purged, {} quarantined, {} refused",
        q.sealed, q.uploading, q.acknowledged, q.purged, q.quarantined, q.refused
    );
    println!(
        "waiting: {} packets, {}",
        s.packets_waiting,
        bytes(s.bytes_waiting)
    );
    match &s.last_sync {
        Some(l) => println!(
            "last sync: {} from {} ({} worklist entries, clock skew {} s)",
            l.synced_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            l.hub_id,
            l.worklist_entries,
            l.clock_skew_secs
        ),
        None => println!("last sync: never (run `jemput sync`)"),
    }
    println!("free disk: {}", bytes(s.free_disk_bytes));
    println!("offline policy:");
    for l in &s.limits {
        println!("  {}", limit_line(l));
    }
    println!(
        "  online_only: {}{}",
        if s.online_only { "on" } else { "off" },
        source(s.online_only_source)
    );
    if s.new_visit_allowed {
        println!("kunjungan baru boleh / new visits allowed");
    } else {
        println!("KUNJUNGAN BARU DITOLAK / NEW VISITS REFUSED: see the limits marked PAST");
    }
    Ok(ExitCode::SUCCESS)
}

fn source(s: Option<Source>) -> &'static str {
    match s {
        Some(Source::Hub) => " (from the hub)",
        Some(Source::Local) => " (local config)",
        None => "",
    }
}

fn show(l: &LimitStatus, v: f64) -> String {
    match l.limit {
        Limit::MaxBacklogBytes | Limit::MinFreeDiskBytes => bytes(v as u64),
        Limit::MaxDaysSinceSync => format!("{v:.1} days"),
        Limit::MaxClockSkewSecs => format!("{v} s"),
        Limit::MaxBacklogPackets => format!("{v} packets"),
    }
}

fn limit_line(l: &LimitStatus) -> String {
    let name = l.limit.name();
    let Some(value) = l.value else {
        return format!("{name}: off");
    };
    let current = l
        .current
        .map(|c| show(l, c))
        .unwrap_or_else(|| "unknown".into());
    let used = l
        .used
        .map(|u| format!(", {:.0}% of the limit", u * 100.0))
        .unwrap_or_default();
    format!(
        "{name}: {} (now {current}{used}){}{}",
        show(l, value as f64),
        source(l.source),
        if l.exceeded { "  PAST" } else { "" }
    )
}

//! `jemput queue`: the packets on this kit, their state, size and age.

use std::process::ExitCode;

use clap::Args;
use jemput_kit::seal;

use super::Global;

#[derive(Debug, Args)]
pub struct QueueArgs {
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: QueueArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let (store, report) = seal::open_store(&home)?;
    let entries = store.list()?;
    if a.json {
        super::output::json(&entries)?;
    } else {
        if entries.is_empty() {
            eprintln!("the queue is empty");
        }
        let now = jiff::Timestamp::now();
        for e in &entries {
            let age = now
                .since(e.created_at)
                .map(|s| s.get_seconds())
                .unwrap_or(0);
            let note = if e.uploaded_without_receipt {
                "  uploaded, no receipt".to_string()
            } else if let Some(why) = &e.refused_because {
                format!("  refused by the hub / ditolak hub: {why}")
            } else {
                String::new()
            };
            println!(
                "{}  {:<12}  {:>9}  {:>6}{}{}",
                e.packet_id,
                e.state.to_string(),
                super::output::bytes(e.size),
                human_age(age),
                if e.file_present { "" } else { "  FILE MISSING" },
                note
            );
        }
    }
    Ok(if report.missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn human_age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

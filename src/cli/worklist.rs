//! `jemput worklist`: the residents to visit, from the last sync document.

use std::process::ExitCode;

use clap::Args;
use jemput_kit::sync::client::load_state;

use super::Global;

#[derive(Debug, Args)]
pub struct WorklistArgs {
    /// Print the entries as JSON (schemas/worklist.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: WorklistArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let entries = load_state(&home)?
        .map(|(_, body)| body.worklist)
        .unwrap_or_default();
    if a.json {
        super::output::json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        eprintln!(
            "daftar kunjungan kosong / the worklist is empty: run `jemput sync` to fetch it from the office"
        );
    }
    for e in &entries {
        println!(
            "{:<18} {:<16} {:<12} {}  —  {}{}",
            e.id,
            e.nik.as_deref().unwrap_or("-"),
            e.category.code(),
            e.name,
            e.place(),
            e.notes
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
    if !entries.is_empty() {
        eprintln!("start a visit from an entry with `jemput visit new --worklist ID`");
    }
    Ok(ExitCode::SUCCESS)
}

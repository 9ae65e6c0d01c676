//! `jemput hub worklist [import FILE.csv]`: the residents the office wants visited, served to kits
//! in their sync documents.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput_core::worklist::{parse_csv, WorklistEntry};
use jemput_hub::kit_sync::{load_worklist, save_worklist, StoredWorklist};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WorklistArgs {
    /// Print the list as JSON (schemas/worklist.schema.json)
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<WorklistCommand>,
}

#[derive(Debug, Subcommand)]
pub enum WorklistCommand {
    /// Replace the worklist with a CSV file (columns: nik, id, name, address, rt_rw, desa,
    /// category, notes, kit); all or nothing: any bad row and nothing is imported
    Import {
        /// The CSV file, with a header row
        file: PathBuf,
    },
}

pub fn run(data: &Path, a: WorklistArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        None => {
            let entries = load_worklist(data)?.map(|w| w.entries).unwrap_or_default();
            if a.json {
                crate::cli::output::json(&entries)?;
            } else {
                if entries.is_empty() {
                    eprintln!("no worklist; import one with `jemput hub worklist import FILE.csv`");
                }
                for e in &entries {
                    print_entry(e);
                }
            }
        }
        Some(WorklistCommand::Import { file }) => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let entries =
                parse_csv(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let n = entries.len();
            let assigned = entries.iter().filter(|e| e.kit.is_some()).count();
            save_worklist(
                data,
                &StoredWorklist {
                    imported_at: jiff::Timestamp::now(),
                    source: file.display().to_string(),
                    entries,
                },
            )?;
            super::audit(
                data,
                "worklist.import",
                &format!("{}: {n} entries", file.display()),
            );
            println!(
                "imported {n} entries from {} ({assigned} assigned to one kit, {} to every kit); kits get them at their next `jemput sync`",
                file.display(),
                n - assigned
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_entry(e: &WorklistEntry) {
    println!(
        "{:<18} {:<16} {:<12} {:<14} {}  —  {}",
        e.id,
        e.nik.as_deref().unwrap_or("-"),
        e.category.code(),
        e.kit.as_deref().unwrap_or("(every kit)"),
        e.name,
        e.place()
    );
}

//! `jemput seal`: visit drafts → packets in the queue.

use std::process::ExitCode;

use clap::Args;
use jemput::keys::draft;
use jemput::kit;
use jemput::outputs::{SealFailure, SealOutput};
use uuid::Uuid;

use super::Global;

#[derive(Debug, Args)]
pub struct SealArgs {
    /// Visit ids to seal
    #[arg(required_unless_present = "all")]
    pub visits: Vec<Uuid>,
    /// Seal every draft that is ready
    #[arg(long, conflicts_with = "visits")]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: SealArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let drafts = home.drafts()?;
    let pass = draft::passphrase_from_env_or_prompt("Kit passphrase: ")?;
    let identity = home.unlock_drafts(&pass)?;
    let (mut store, _) = kit::open_store(&home)?;
    let ids = if a.all { drafts.list()? } else { a.visits };
    let mut sealed = Vec::new();
    let mut failed = Vec::new();
    for id in ids {
        match kit::seal_draft(&home, &mut store, &drafts, &identity, id) {
            Ok(o) => {
                if !a.json {
                    println!(
                        "{}  {}  {}",
                        o.packet_id,
                        super::output::bytes(o.size),
                        o.path.display()
                    );
                }
                sealed.push(o);
            }
            Err(e) => {
                eprintln!("error: visit {id} not sealed (its draft is kept): {e}");
                failed.push(SealFailure {
                    visit_id: id,
                    error: e.to_string(),
                });
            }
        }
    }
    let ok = failed.is_empty();
    if a.json {
        super::output::json(&SealOutput { sealed, failed })?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

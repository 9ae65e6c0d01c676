//! `jemput stress-seal` (hidden): the child of the crash-test harness. Seals synthetic visits through
//! the real code path (draft files, draft record, seal, queue commit, draft removal) and prints
//! `SEALED <packet id> <path>` on stdout only after each seal has returned, and `DRAFT <visit id>`
//! after each new visit's first draft save has returned.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use jemput_kit::draft_key;
use jemput_kit::seal;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};

use super::Global;

#[derive(Debug, Args)]
pub struct StressArgs {
    /// Number of visits to seal
    #[arg(long, default_value_t = 1000)]
    pub count: u32,
    /// Seed of the synthetic captures
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(g: &Global, a: StressArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let drafts = home.drafts()?;
    let pass = draft_key::passphrase_from_env_or_prompt("Kit passphrase: ")?;
    let identity = home.unlock_drafts(&pass)?;
    let (mut store, report) = seal::open_store(&home)?;
    eprintln!(
        "recovery: {} temp removed, {} adopted, {} quarantined, {} missing",
        report.temp_removed.len(),
        report.adopted.len(),
        report.quarantined.len(),
        report.missing.len()
    );
    // Complete drafts left by a killed run are sealed first: nothing captured is ever dropped.
    // Incomplete ones (killed mid-visit) stay drafts, as for an operator who resumes later.
    for id in drafts.list()? {
        let (visit, _) = drafts.load(id, &identity)?;
        if visit.readiness().is_empty() {
            let o = seal::seal_draft(&home, &mut store, &drafts, &identity, id)?;
            announce(&o)?;
        }
    }
    let (template, files) = synthetic_visit(a.seed, &SampleOptions::default());
    for _ in 0..a.count {
        let mut visit = template.clone();
        visit.id = uuid::Uuid::new_v4();
        // As in a real visit: the record first, then each capture, then the record that uses them.
        let mut empty = visit.clone();
        empty.captures = Default::default();
        drafts.save_visit(&empty)?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "DRAFT {}", visit.id)?;
            out.flush()?;
        }
        for f in &files {
            drafts.save_file(visit.id, &f.name, &f.bytes)?;
        }
        drafts.save_visit(&visit)?;
        let o = seal::seal_draft(&home, &mut store, &drafts, &identity, visit.id)?;
        announce(&o)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn announce(o: &seal::SealOutcome) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "SEALED {} {}", o.packet_id, o.path.display())?;
    out.flush()?;
    Ok(())
}

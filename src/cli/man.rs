//! `jemput man --out DIR`: a roff man page (section 1) for `jemput` and for every subcommand,
//! nested ones too (`jemput-hub-serve.1`), written by clap_mangen from the same definitions the
//! command line parses with. Hidden subcommands (test harnesses) get no page.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory};

use super::Cli;

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing): jemput.1, jemput-hub.1,
    /// jemput-hub-serve.1, …
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The date the pages carry (YYYY-MM-DD) [default: from SOURCE_DATE_EPOCH when set, for
    /// reproducible builds, else today (UTC)]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<jiff::civil::Date>,
}

pub fn run(a: ManArgs) -> anyhow::Result<ExitCode> {
    let date = match a.date {
        Some(d) => d,
        None => default_date()?,
    };
    let written = write_pages(&a.out, date)?;
    for path in &written {
        println!("{}", path.display());
    }
    super::output::note(&format!(
        "{} man pages in {}; read one with `man -l {}`",
        written.len(),
        a.out.display(),
        a.out.join("jemput.1").display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// SOURCE_DATE_EPOCH (seconds since 1970, the reproducible-builds convention) when set, else today,
/// both in UTC.
fn default_date() -> anyhow::Result<jiff::civil::Date> {
    let now = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => {
            let secs: i64 = v.trim().parse().map_err(|_| {
                anyhow::anyhow!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds since 1970")
            })?;
            jiff::Timestamp::from_second(secs)
                .map_err(|e| anyhow::anyhow!("SOURCE_DATE_EPOCH={v:?} is out of range: {e}"))?
        }
        Err(_) => jiff::Timestamp::now(),
    };
    Ok(now.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// Writes one page per visible command into `out`, returning the files written (parents first).
pub fn write_pages(out: &Path, date: jiff::civil::Date) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    // `help` is clap's own subcommand; its page would only repeat `--help`. Building the command
    // gives every subcommand its display name (`jemput-hub-serve`), which becomes its page name.
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_tree(&cmd, out, &date.to_string(), &mut written)?;
    Ok(written)
}

fn write_tree(
    cmd: &clap::Command,
    out: &Path,
    date: &str,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(name.to_uppercase())
        .section("1")
        .date(date)
        .source(format!("jemput {}", env!("CARGO_PKG_VERSION")))
        .manual("jemput manual")
        .render(&mut page)?;
    let path = out.join(format!("{name}.1"));
    std::fs::write(&path, page)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_tree(sub, out, date, written)?;
    }
    Ok(())
}

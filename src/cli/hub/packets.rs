//! `jemput hub packets`: the packets the hub knows of, with their state (receiving, rejected,
//! verified, opened, open failed, not opened).

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use jemput_hub::packets::{self, PacketRow, PacketState};

#[derive(Debug, Args)]
pub struct PacketsArgs {
    /// Print the list as JSON (schemas/hub-packets.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(data: &Path, a: PacketsArgs) -> anyhow::Result<ExitCode> {
    let rows = packets::list(data)?;
    if a.json {
        crate::cli::output::json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        eprintln!("no packets yet: kits upload with `jemput upload` or `jemput agent`");
    }
    for r in &rows {
        println!("{}", line(r));
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(s: PacketState) -> &'static str {
    match s {
        PacketState::Receiving => "receiving",
        PacketState::Rejected => "REJECTED",
        PacketState::Verified => "verified",
        PacketState::Opened => "opened",
        PacketState::OpenFailed => "OPEN FAILED",
        PacketState::NotOpened => "not opened",
    }
}

/// One line per packet: id, kit, size, time, state, and what to know about it.
fn line(r: &PacketRow) -> String {
    let detail = match (r.state, r.offset, r.files, &r.reason) {
        (PacketState::Receiving, Some(o), _, _) => {
            format!("{} arrived", crate::cli::output::bytes(o))
        }
        (PacketState::Opened, _, Some(f), _) => format!("{f} files"),
        (PacketState::NotOpened, ..) => {
            "no office identity configured (office_identity in hub.toml)".into()
        }
        (_, _, _, Some(why)) => why.clone(),
        _ => String::new(),
    };
    format!(
        "{}  {:<12}  {:>9}  {}  {:<11}  {detail}",
        r.packet_id,
        r.kit_id,
        crate::cli::output::bytes(r.size),
        r.received_at.strftime("%Y-%m-%d %H:%M:%S"),
        describe(r.state),
    )
}

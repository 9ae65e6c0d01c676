//! `jemput doctor`: check a kit — home, keys, config, serial access, disk, clock, queue.

use std::process::ExitCode;

use clap::Args;
use jemput_kit::doctor::{self, Status};

use super::Global;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: DoctorArgs) -> anyhow::Result<ExitCode> {
    let report = doctor::check(&g.home_dir());
    if a.json {
        super::output::json(&report)?;
    } else {
        for f in &report.findings {
            let tag = match f.status {
                Status::Ok => "ok  ",
                Status::Warning => "WARN",
                Status::Error => "FAIL",
            };
            println!("[{tag}] {:<16} {}", f.check, f.message);
            if let Some(fix) = &f.fix {
                println!("       {:<16} fix: {fix}", "");
            }
        }
    }
    Ok(if report.status == Status::Error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

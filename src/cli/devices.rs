//! `jemput devices`: every serial device found, accessible or not, with the reason and the fix.
//!
//! Not finished: matching ports to drivers by their ID tables, `devices test`, and USB devices
//! (cameras, U.are.U readers) arrive with the device issues.

use std::process::ExitCode;

use clap::Args;
use jemput_drivers::discover::{self, Access};

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DevicesArgs) -> anyhow::Result<ExitCode> {
    let ports = discover::serial_ports();
    if a.json {
        super::output::json(&ports)?;
        return Ok(ExitCode::SUCCESS);
    }
    if ports.is_empty() {
        eprintln!("no serial devices found (plug in the scanner or pen; `jemput sim` runs a device model)");
    }
    for p in &ports {
        let id = p
            .usb
            .as_ref()
            .map(|u| {
                format!(
                    "{}:{} {}",
                    u.vid,
                    u.pid,
                    u.product
                        .as_deref()
                        .or(u.manufacturer.as_deref())
                        .unwrap_or("")
                )
            })
            .unwrap_or_else(|| "(not USB)".into());
        let access = match &p.access {
            Access::Accessible => "ok".to_string(),
            Access::PermissionDenied { fix } => format!("permission denied: {fix}"),
            Access::Busy { held_by } => format!(
                "busy{}",
                held_by
                    .as_deref()
                    .map(|h| format!(" (held by {h})"))
                    .unwrap_or_default()
            ),
            Access::Unavailable { reason } => format!("unavailable: {reason}"),
        };
        println!("{:<16} {:<32} {access}", p.path.display(), id);
    }
    Ok(ExitCode::SUCCESS)
}

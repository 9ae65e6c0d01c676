//! `jemput office keygen`: the keys the office keeps.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct OfficeArgs {
    #[command(subcommand)]
    pub command: OfficeCommand,
}

#[derive(Debug, Subcommand)]
pub enum OfficeCommand {
    /// Create an age identity (opens packets) and the hub's signing key in DIR
    Keygen {
        /// Directory to write the keys to (created if missing; existing keys are never overwritten)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(a: OfficeArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        OfficeCommand::Keygen { out, json } => {
            let k = jemput_core::keys::office::keygen(&out)?;
            if json {
                super::output::json(&k)?;
            } else {
                println!(
                    "office identity: {} (keep it secret; `age -d -i` reads it)",
                    k.identity_file.display()
                );
                println!("office recipient: {}", k.recipient);
                println!("hub key: {}", k.hub_key_file.display());
                println!("hub public key: {}", k.hub_public_key);
                println!(
                    "configure a kit with: jemput init --office-recipient {} --hub-key {}",
                    k.recipient, k.hub_public_key
                );
                println!(
                    "make the hub sign with it: jemput hub init --data DIR --hub-key {}",
                    k.hub_key_file.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

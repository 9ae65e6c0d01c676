//! `jemput hub init`: create a hub's data directory.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use jemput::hub::{self, Hub, HubInitOutput};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(data: &Path, a: InitArgs) -> anyhow::Result<ExitCode> {
    let config = hub::init(data)?;
    let opened = Hub::open(data)?;
    let out = HubInitOutput {
        data: data.to_path_buf(),
        hub_id: config.hub_id,
        hub_key: opened.public_key(),
        key_file: data.join(hub::KEY_FILE),
        max_size: config.max_size,
    };
    if a.json {
        crate::cli::output::json(&out)?;
    } else {
        println!("hub {} created in {}", out.hub_id, data.display());
        println!(
            "hub public key: {} (pin it on kits: jemput init --hub-key …)",
            out.hub_key
        );
        println!(
            "register a kit: jemput hub kits add --data {} --kit-id ID --kit-key KEY",
            data.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

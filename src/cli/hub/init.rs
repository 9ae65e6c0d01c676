//! `jemput hub init`: create a hub's data directory.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use jemput::hub::{self, Hub, HubInitOutput};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The office's age identity file (from `jemput office keygen`): the hub opens every verified
    /// packet with it and records the result. Without it packets are recorded "not opened"; add
    /// `office_identity = "FILE"` to hub.toml later to open them.
    #[arg(long, value_name = "FILE")]
    pub office_identity: Option<std::path::PathBuf>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(data: &Path, a: InitArgs) -> anyhow::Result<ExitCode> {
    let identity = match &a.office_identity {
        Some(f) => {
            // Check it before creating anything: a hub that cannot open its packets is a typo.
            jemput::keys::office::load_identities(f)?;
            Some(std::path::absolute(f)?)
        }
        None => None,
    };
    let mut config = hub::init(data)?;
    if identity.is_some() {
        config.office_identity = identity;
        config.save(data)?;
    }
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

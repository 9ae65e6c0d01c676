//! `jemput init`: create a kit home.

use std::process::ExitCode;

use clap::Args;
use jemput_core::keys::PublicKey;
use jemput_kit::draft_key as draft;
use jemput_kit::home::{InitOptions, KitHome};

use super::Global;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Office recipient (age1…) to encrypt packets to; repeat for several
    #[arg(long = "office-recipient", value_name = "AGE1…")]
    pub office_recipients: Vec<String>,
    /// The hub's ed25519 public key (base64), pinned for receipts
    #[arg(long, value_name = "KEY")]
    pub hub_key: Option<PublicKey>,
    /// Default operator id for new visits
    #[arg(long)]
    pub operator: Option<String>,
    /// scrypt work factor (log2 N) of the passphrase protecting the draft key
    #[arg(long, default_value_t = draft::DEFAULT_WORK_FACTOR, value_parser = clap::value_parser!(u8).range(10..=22))]
    pub work_factor: u8,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: InitArgs) -> anyhow::Result<ExitCode> {
    let root = g.home_dir();
    let passphrase = draft::passphrase_from_env_or_prompt("Passphrase for this kit's drafts: ")?;
    let home = KitHome::init(
        &root,
        InitOptions {
            office_recipients: a.office_recipients,
            hub_key: a.hub_key,
            operator: a.operator,
            passphrase,
            work_factor: a.work_factor,
        },
    )?;
    let kit_key = home.kit_key()?.public();
    if a.json {
        super::output::json(&serde_json::json!({
            "kit_home": home.root,
            "kit_id": home.config.kit_id,
            "kit_key": kit_key.to_string(),
            "office_recipients": home.config.office_recipients,
        }))?;
    } else {
        println!(
            "kit {} created at {}",
            home.config.kit_id,
            home.root.display()
        );
        println!("kit key (register it on the hub): {kit_key}");
        if home.config.office_recipients.is_empty() {
            eprintln!(
                "note: no office recipient yet; sealing needs one: `jemput config set office-recipient age1…`"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

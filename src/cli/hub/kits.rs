//! `jemput hub kits [add|revoke]`: the kits allowed to upload.

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput_core::keys::PublicKey;
use jemput_hub::{KitEntry, Registry};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct KitsArgs {
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<KitsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum KitsCommand {
    /// Register a kit's public key by hand (`jemput hub enroll-token` is the usual way)
    Add {
        /// The kit's id, as in its config (`jemput config`)
        #[arg(long, value_name = "ID")]
        kit_id: String,
        /// The kit's ed25519 public key (base64, from `jemput init`)
        #[arg(long, value_name = "KEY")]
        kit_key: String,
        /// A name for people: team, district
        #[arg(long)]
        name: Option<String>,
        /// Print the new entry as JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke a kit: its requests are refused from now on
    Revoke {
        /// The kit's id
        #[arg(value_name = "ID")]
        kit_id: String,
    },
}

pub fn run(data: &Path, a: KitsArgs) -> anyhow::Result<ExitCode> {
    let registry = Registry::open(data)?;
    match a.command {
        None => {
            let kits = registry.list()?;
            if a.json {
                crate::cli::output::json(&kits)?;
            } else {
                if kits.is_empty() {
                    eprintln!(
                        "no kits registered; enroll one with a token from `jemput hub enroll-token`"
                    );
                }
                for k in &kits {
                    print_kit(k);
                }
            }
        }
        Some(KitsCommand::Add {
            kit_id,
            kit_key,
            name,
            json,
        }) => {
            let kit_key: PublicKey = kit_key.parse()?;
            let k = registry.add(&kit_id, &kit_key, name.as_deref())?;
            super::audit(data, "kit.add", &kit_id);
            if json {
                crate::cli::output::json(&k)?;
            } else {
                print_kit(&k);
            }
        }
        Some(KitsCommand::Revoke { kit_id }) => {
            let k = registry.revoke(&kit_id)?;
            super::audit(data, "kit.revoke", &kit_id);
            print_kit(&k);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_kit(k: &KitEntry) {
    let how = match &k.enrolled_with {
        Some(t) => format!(
            "enrolled {} (token {t})",
            k.added_at.strftime("%Y-%m-%d %H:%M")
        ),
        None => format!("added {} (by hand)", k.added_at.strftime("%Y-%m-%d %H:%M")),
    };
    let seen = match k.last_seen {
        Some(t) => format!("last seen {}", t.strftime("%Y-%m-%d %H:%M")),
        None => "never seen".into(),
    };
    println!(
        "{}  {}  {}  {how}  {seen}{}",
        k.kit_id,
        k.kit_key,
        k.name.as_deref().unwrap_or("-"),
        k.revoked_at
            .map(|t| format!("  REVOKED {}", t.strftime("%Y-%m-%d %H:%M")))
            .unwrap_or_default()
    );
}

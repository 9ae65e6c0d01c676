//! `jemput open`: verify, decrypt with the office identity, verify inside, extract.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use jemput_core::keys::{office, PublicKey};
use jemput_core::packet;

#[derive(Debug, Args)]
pub struct OpenArgs {
    pub packet: PathBuf,
    /// age identity file of the office (AGE-SECRET-KEY-1…)
    #[arg(long, short = 'i', value_name = "FILE")]
    pub identity: PathBuf,
    /// Directory to extract into; must not exist or be empty. Nothing is written on failure.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The kit's public key (base64) the packet must be signed with
    #[arg(long)]
    pub kit_key: Option<PublicKey>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: OpenArgs) -> anyhow::Result<ExitCode> {
    let ids = office::load_identities(&a.identity)?;
    let bytes = super::read_packet(&a.packet)?;
    let c = packet::open_to_dir(&bytes, &ids, a.kit_key.as_ref(), &a.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.packet.display()))?;
    if a.json {
        super::output::json(&serde_json::json!({
            "packet_id": c.manifest.packet_id,
            "kit_id": c.manifest.kit_id,
            "out": a.out,
            "manifest": c.manifest,
        }))?;
    } else {
        let v = &c.manifest.visit;
        println!(
            "opened {} from {} into {}",
            c.manifest.packet_id,
            c.manifest.kit_id,
            a.out.display()
        );
        println!(
            "visit {} ({}), {} files, {} exceptions",
            v.id,
            v.category,
            c.files.len(),
            v.exception_count()
        );
        super::visit::print_exceptions(v);
    }
    Ok(ExitCode::SUCCESS)
}

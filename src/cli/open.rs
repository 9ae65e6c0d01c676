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
    /// The kit's public key (base64) the packet must be signed with; without it the key in the
    /// packet's own header is trusted, and `open` prints it (stderr) to compare with the registry
    #[arg(long)]
    pub kit_key: Option<PublicKey>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: OpenArgs) -> anyhow::Result<ExitCode> {
    let ids = office::load_identities(&a.identity)?;
    // Streamed from the file: the packet is never held whole, each file written as it comes out.
    let file = std::fs::File::open(&a.packet)
        .map_err(|e| anyhow::anyhow!("cannot read packet {}: {e}", a.packet.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let c = packet::open_reader_to_dir(reader, &ids, a.kit_key.as_ref(), &a.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.packet.display()))?;
    let kit_key = &c.prelude.header.kit_key;
    // Which key the signatures were checked with, and where it came from: without --kit-key the
    // packet vouches for itself, and only the office's registry says whether it is the kit's.
    let trusted_from = if a.kit_key.is_some() {
        "given"
    } else {
        eprintln!(
            "kunci kit dari header paket / trusted the kit key in the packet's own header: {kit_key} (kit {}); no --kit-key was given, so compare it with the kit's registered key (`jemput hub kits`)",
            c.manifest.kit_id
        );
        "packet_header"
    };
    if a.json {
        super::output::json(&serde_json::json!({
            "packet_id": c.manifest.packet_id,
            "kit_id": c.manifest.kit_id,
            "kit_key": kit_key,
            "kit_key_from": trusted_from,
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
        super::visit::print_captures(v);
        super::visit::print_exceptions(v);
    }
    Ok(ExitCode::SUCCESS)
}

//! `jemput packet inspect|verify|payload`: look at a packet without the office key.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput::outputs::{InspectOutput, VerifyOutput};
use jemput_core::keys::PublicKey;
use jemput_core::packet;

#[derive(Debug, Args)]
pub struct PacketArgs {
    #[command(subcommand)]
    pub command: PacketCommand,
}

#[derive(Debug, Subcommand)]
pub enum PacketCommand {
    /// Print the cleartext header (no key needed, nothing verified)
    Inspect {
        packet: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Check the outer signature, payload length and SHA-256 (and the kit key, if given)
    Verify {
        packet: PathBuf,
        /// The kit's public key (base64) the packet must be signed with
        #[arg(long)]
        kit_key: Option<PublicKey>,
        #[arg(long)]
        json: bool,
    },
    /// Write the raw age payload to stdout (`| age -d -i office.age` gives the tar)
    Payload {
        packet: PathBuf,
        /// Write even if the outer checks fail (for forensics)
        #[arg(long)]
        no_verify: bool,
    },
}

pub fn run(a: PacketArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        PacketCommand::Inspect { packet: path, json } => {
            let bytes = super::read_packet(&path)?;
            let p = packet::parse_prelude(&bytes)?;
            let out = InspectOutput {
                file: path,
                file_size: bytes.len() as u64,
                payload_offset: p.payload_offset as u64,
                header: p.header,
            };
            if json {
                super::output::json(&out)?;
            } else {
                let h = &out.header;
                println!("packet      {}", h.packet_id);
                println!("format      v{}", h.format_version);
                println!("kit         {} (key {})", h.kit_id, h.kit_key);
                println!("created     {}", h.created_at);
                println!("recipients  {}", h.recipients.join(", "));
                println!(
                    "payload     {} bytes, sha256 {}",
                    h.payload_length, h.payload_sha256
                );
                println!(
                    "file        {} bytes (not verified; use `jemput packet verify`)",
                    out.file_size
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        PacketCommand::Verify {
            packet: path,
            kit_key,
            json,
        } => {
            let bytes = super::read_packet(&path)?;
            let result = packet::verify(&bytes, kit_key.as_ref());
            let header = packet::parse_prelude(&bytes).ok().map(|p| p.header);
            let out = VerifyOutput {
                file: path.clone(),
                ok: result.is_ok(),
                packet_id: header.as_ref().map(|h| h.packet_id.clone()),
                kit_id: header.as_ref().map(|h| h.kit_id.clone()),
                kit_key: header.as_ref().map(|h| h.kit_key.to_string()),
                error_code: result.as_ref().err().map(|e| e.code().to_string()),
                error: result.as_ref().err().map(|e| e.to_string()),
            };
            if json {
                super::output::json(&out)?;
            }
            match result {
                Ok(p) => {
                    if !json {
                        println!(
                            "ok: {} from {} — outer signature, payload length and SHA-256 verify{}",
                            p.header.packet_id,
                            p.header.kit_id,
                            if kit_key.is_some() {
                                ", kit key matches"
                            } else {
                                ""
                            }
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        PacketCommand::Payload {
            packet: path,
            no_verify,
        } => {
            let bytes = super::read_packet(&path)?;
            let p = if no_verify {
                packet::parse_prelude(&bytes)?
            } else {
                packet::verify(&bytes, None)?
            };
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes[p.payload_offset..])?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

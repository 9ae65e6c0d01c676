//! `jemput export`: office-side exports of packets. `export nist` writes an ANSI/NIST-ITL
//! transaction; `export inspect` reads one back and shows its records and fields.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use jemput_core::export::nist::{self, ExportOptions, FingerSource, Profile};
use jemput_core::keys::{office, PublicKey};

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub command: ExportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Open a packet with the office identity and write an ANSI/NIST-ITL 1-2011 Update 2015
    /// transaction (Type-1, Type-2, Type-14 fingers as WSQ, Type-10 face, Type-8 signature)
    Nist(Box<NistArgs>),
    /// Read an ANSI/NIST-ITL transaction and show its records and fields (checks LEN and CNT)
    Inspect(InspectArgs),
    /// Print the built-in agency profile (TOML), to copy and edit for `export nist --profile`
    Profile,
}

#[derive(Debug, Args)]
pub struct NistArgs {
    /// The packet file (`.jpk`)
    pub packet: PathBuf,
    /// age identity file of the office (AGE-SECRET-KEY-1…)
    #[arg(long, short = 'i', value_name = "FILE")]
    pub identity: PathBuf,
    /// Where to write the transaction (e.g. `visit.an2`); must not exist
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Agency profile (TOML): TOT, DAI, ORI, Type-2 mapping [default: the built-in profile]
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Override the profile's 1.004 TOT (type of transaction)
    #[arg(long)]
    pub tot: Option<String>,
    /// Override the profile's 1.007 DAI (destination agency)
    #[arg(long)]
    pub dai: Option<String>,
    /// Override the profile's 1.008 ORI (originating agency)
    #[arg(long)]
    pub ori: Option<String>,
    /// The kit's public key (base64) the packet must be signed with
    #[arg(long)]
    pub kit_key: Option<PublicKey>,
    /// Where the finger images come from: `packet` (the packet's WSQ) or `original` (the
    /// device's ISO/IEC 19794-4 record kept beside it, e.g. from an SBI scanner, its image as the
    /// device coded it; fingers without one get the packet's WSQ, with a note)
    #[arg(long, value_enum, default_value_t = Fingers::Packet)]
    pub fingers: Fingers,
    /// Print what was written as JSON (schemas/export-nist.schema.json)
    #[arg(long)]
    pub json: bool,
}

/// `--fingers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fingers {
    Packet,
    Original,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The transaction file (`.an2`, `.eft`, …)
    pub file: PathBuf,
    /// Print the records and fields as JSON (schemas/export-inspect.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ExportArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        ExportCommand::Nist(a) => run_nist(*a),
        ExportCommand::Inspect(a) => run_inspect(a),
        ExportCommand::Profile => {
            print!("{}", nist::profile::DEFAULT_PROFILE);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_profile(a: &NistArgs) -> anyhow::Result<Profile> {
    let mut p = match &a.profile {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read profile {}", path.display()))?;
            Profile::parse(&text).with_context(|| format!("{}", path.display()))?
        }
        None => Profile::default_profile(),
    };
    if let Some(v) = &a.tot {
        p.tot = v.clone();
    }
    if let Some(v) = &a.dai {
        p.dai = v.clone();
    }
    if let Some(v) = &a.ori {
        p.ori = v.clone();
    }
    // Overrides obey the same rules as a profile file.
    p.validate().context("--tot/--dai/--ori")?;
    Ok(p)
}

fn run_nist(a: NistArgs) -> anyhow::Result<ExitCode> {
    if a.out.exists() {
        anyhow::bail!(
            "{} already exists; choose another --out (nothing was overwritten) / \
             berkas sudah ada, pilih --out lain",
            a.out.display()
        );
    }
    let profile = load_profile(&a)?;
    let ids = office::load_identities(&a.identity)?;
    let bytes = super::read_packet(&a.packet)?;
    let contents = jemput_core::packet::decrypt(&bytes, &ids, a.kit_key.as_ref())
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.packet.display()))?;
    let opts = ExportOptions {
        profile,
        now: jiff::Timestamp::now(),
        fingers: match a.fingers {
            Fingers::Packet => FingerSource::Packet,
            Fingers::Original => FingerSource::Original,
        },
    };
    let (out, summary) = nist::export(&contents, &opts)
        .map_err(|e| anyhow::anyhow!("{}: cannot export: {e}", a.packet.display()))?;
    jemput_core::fsutil::write_atomic(&a.out, &out, 0o600)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    if a.json {
        super::output::json(&summary)?;
    } else {
        println!(
            "wrote {} ({} bytes, {} records) for packet {}",
            a.out.display(),
            summary.bytes,
            summary.records.len(),
            summary.tcn
        );
        println!(
            "fingers: {} with image ({} the device's original), {} amputated/bandaged; face: {}; signature: {}",
            summary.fingers.len(),
            summary.fingers_original.len(),
            summary.fingers_missing.len(),
            if summary.face { "yes" } else { "no" },
            if summary.signature { "yes" } else { "no" }
        );
        for n in &summary.notes {
            eprintln!("note: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let t = nist::parse(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid ANSI/NIST-ITL transaction: {e} / bukan transaksi ANSI/NIST-ITL yang sah",
            a.file.display()
        )
    })?;
    let out = nist::inspect(&t, bytes.len() as u64);
    if a.json {
        super::output::json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {} bytes, VER {}, TCN {}, {} records",
        a.file.display(),
        out.bytes,
        out.version.as_deref().unwrap_or("?"),
        out.tcn.as_deref().unwrap_or("?"),
        out.records.len()
    );
    for r in &out.records {
        println!(
            "record {} type {} IDC {}",
            r.index,
            r.record_type,
            r.idc.as_deref().unwrap_or("-")
        );
        for f in &r.fields {
            let name = f.name.as_deref().unwrap_or("");
            match (&f.subfields, f.data_bytes) {
                (_, Some(n)) => println!(
                    "  {} {name:<4} {n} bytes, sha256 {}",
                    f.tag,
                    f.data_sha256.as_deref().unwrap_or("")
                ),
                (Some(s), None) => {
                    let v: Vec<String> = s.iter().map(|sf| sf.join("␟")).collect();
                    println!("  {} {name:<4} {}", f.tag, v.join("␞"));
                }
                (None, None) => println!("  {} {name}", f.tag),
            }
        }
        if let Some(t8) = &r.type8 {
            println!(
                "  SIG {} SRT {} ISR {} HLL {} VLL {}, {} bytes, sha256 {}",
                t8.sig, t8.srt, t8.isr, t8.hll, t8.vll, t8.data_bytes, t8.data_sha256
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

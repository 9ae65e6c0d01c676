//! `jemput visit`: start, list, show and confirm visits in progress (encrypted drafts).
//!
//! Capturing from real devices comes with the device issues; until then `visit new --synthetic`
//! fills every capture from the built-in generators.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput_core::visit::{Category, ExceptionReason, FingerPosition, Permanence, Sex};
use jemput_kit::draft_key;
use jemput_kit::new_visit::{self, NewVisit, Notice, Synthetic};
use uuid::Uuid;

use super::Global;

#[derive(Debug, Args)]
pub struct VisitArgs {
    #[command(subcommand)]
    pub command: VisitCommand,
}

#[derive(Debug, Subcommand)]
pub enum VisitCommand {
    /// Start a visit (saved at once as an encrypted draft)
    New(NewArgs),
    /// List the drafts on this kit (no passphrase needed)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a draft and what still blocks sealing (needs the passphrase)
    Show {
        id: Uuid,
        #[arg(long)]
        json: bool,
    },
    /// Confirm warnings (e.g. nik_sex_mismatch) after checking them with the resident
    Confirm {
        id: Uuid,
        #[arg(required = true)]
        codes: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Resident's NIK (16 digits)
    #[arg(
        long,
        conflicts_with = "worklist",
        required_unless_present = "worklist"
    )]
    pub nik: Option<String>,
    /// Start from a worklist entry (`jemput worklist`): fills the resident reference (its NIK,
    /// else the entry id), name, category and place; an id the synced worklist does not hold is
    /// recorded as given, with a warning
    #[arg(long)]
    pub worklist: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_parser = parse_sex)]
    pub sex: Option<Sex>,
    /// Birth date as YYYY-MM-DD
    #[arg(long)]
    pub birth_date: Option<jiff::civil::Date>,
    /// A foreign national (KTP-el for foreigners): the face backdrop rule asks for orange
    #[arg(long)]
    pub foreigner: bool,
    /// lansia, sakit, disabilitas, odgj, rumah_sakit, umum, dokumen [default: the worklist
    /// entry's]
    #[arg(long, required_unless_present = "worklist")]
    pub category: Option<Category>,
    /// Operator id [default: from config]
    #[arg(long)]
    pub operator: Option<String>,
    /// Place: address, ward or village
    #[arg(long, default_value = "")]
    pub place: String,
    #[arg(long, requires = "lon", allow_hyphen_values = true)]
    pub lat: Option<f64>,
    #[arg(long, requires = "lat", allow_hyphen_values = true)]
    pub lon: Option<f64>,
    /// Consent given by the resident (`resident`) or a guardian (`guardian:NAME`)
    #[arg(long)]
    pub consent: Option<String>,
    /// Fill every capture from the built-in synthetic generators (no devices yet)
    #[arg(long)]
    pub synthetic: bool,
    /// What the resident wrote on the pad: `signature`, or for someone who cannot sign
    /// `simple-mark` (a simple line) or `written-name`; recorded and flagged (needs --synthetic
    /// until `visit` captures from a pad)
    #[arg(long, value_enum, requires = "synthetic")]
    pub signature_kind: Option<super::args::SignatureKindArg>,
    /// Finger exception POS=REASON[,permanent], e.g. 7=amputated,permanent; REASON is amputated,
    /// bandaged, unable_to_sign, blind, refused, device_failure or other:TEXT
    #[arg(long = "exception", value_parser = parse_exception)]
    pub exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
    /// Warning codes already confirmed with the resident
    #[arg(long = "confirm")]
    pub confirm: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

fn parse_sex(s: &str) -> Result<Sex, String> {
    match s {
        "male" | "m" | "laki-laki" | "l" => Ok(Sex::Male),
        "female" | "f" | "perempuan" | "p" => Ok(Sex::Female),
        _ => Err("use male/female (or laki-laki/perempuan)".into()),
    }
}

fn parse_exception(s: &str) -> Result<(FingerPosition, ExceptionReason, Permanence), String> {
    let (pos, rest) = s.split_once('=').ok_or("expected POS=REASON[,permanent]")?;
    let pos: FingerPosition = pos.parse::<u8>().map_err(|e| e.to_string())?.try_into()?;
    let (reason, perm) = match rest.rsplit_once(',') {
        Some((r, "permanent")) => (r, Permanence::Permanent),
        Some((r, "temporary")) => (r, Permanence::Temporary),
        _ => (rest, Permanence::Temporary),
    };
    let reason = match reason {
        "amputated" => ExceptionReason::Amputated,
        "bandaged" => ExceptionReason::BandagedOrInjured,
        "unable_to_sign" => ExceptionReason::UnableToSign,
        "blind" => ExceptionReason::Blind,
        "refused" => ExceptionReason::Refused,
        "device_failure" => ExceptionReason::DeviceFailure,
        r => match r.strip_prefix("other:") {
            Some(t) if !t.trim().is_empty() => ExceptionReason::Other(t.trim().into()),
            _ => return Err(format!("unknown exception reason {r:?}")),
        },
    };
    Ok((pos, reason, perm))
}

/// A notice for the operator, in Bahasa Indonesia then English.
fn notice(n: &Notice) -> String {
    match n {
        Notice::NotInWorklist(id) => format!(
            "peringatan: {id:?} tidak ada di daftar kunjungan hasil sinkron; dicatat apa adanya / \
             warning: {id:?} is not in the synced worklist (`jemput worklist`); recorded as given"
        ),
    }
}

pub fn run(g: &Global, a: VisitArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let drafts = home.drafts()?;
    match a.command {
        VisitCommand::New(n) => {
            let json = n.json;
            let new = NewVisit {
                nik: n.nik,
                worklist: n.worklist,
                name: n.name,
                sex: n.sex,
                birth_date: n.birth_date,
                foreigner: n.foreigner,
                category: n.category,
                operator: n.operator,
                place: n.place,
                location: n.lat.zip(n.lon),
                consent: n.consent,
                synthetic: n.synthetic.then(|| Synthetic {
                    seed: rand::random::<u32>() as u64,
                    finger_exceptions: n.exceptions,
                    signature_kind: n.signature_kind.unwrap_or_default().into(),
                }),
                confirm: n.confirm,
            };
            let visit =
                new_visit::start(&home, &drafts, &new, &mut |n| eprintln!("{}", notice(&n)))?;
            let problems: Vec<String> = visit.readiness().iter().map(|p| p.to_string()).collect();
            if json {
                super::output::json(&serde_json::json!({
                    "visit_id": visit.id,
                    "ready": problems.is_empty(),
                    "problems": problems,
                }))?;
            } else {
                println!("{}", visit.id);
                for p in &problems {
                    eprintln!("  belum siap / not ready: {p}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        VisitCommand::List { json } => {
            let ids = drafts.list()?;
            if json {
                super::output::json(&ids)?;
            } else if ids.is_empty() {
                eprintln!("no drafts");
            } else {
                for id in ids {
                    println!("{id}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        VisitCommand::Show { id, json } => {
            let pass = draft_key::passphrase_from_env_or_prompt("Kit passphrase: ")?;
            let identity = home.unlock_drafts(&pass)?;
            let (visit, files) = drafts.load(id, &identity)?;
            let problems: Vec<String> = visit.readiness().iter().map(|p| p.to_string()).collect();
            if json {
                super::output::json(&serde_json::json!({
                    "visit": visit,
                    "files": files.iter().map(|f| serde_json::json!({"name": f.name, "size": f.bytes.len()})).collect::<Vec<_>>(),
                    "problems": problems,
                }))?;
            } else {
                println!(
                    "visit {} ({}, {})",
                    visit.id,
                    visit.category.label_id(),
                    visit.category.label_en()
                );
                println!("resident: {:?}", visit.resident.reference);
                println!("files: {}", files.len());
                println!("exceptions: {}", visit.exception_count());
                if problems.is_empty() {
                    println!("siap disegel / ready to seal");
                }
                for p in problems {
                    println!("  belum siap / not ready: {p}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        VisitCommand::Confirm { id, codes } => {
            let pass = draft_key::passphrase_from_env_or_prompt("Kit passphrase: ")?;
            let identity = home.unlock_drafts(&pass)?;
            new_visit::confirm(&drafts, &identity, id, &codes)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

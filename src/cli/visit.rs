//! `jemput visit`: start, list, show, confirm and discard visits in progress (encrypted drafts);
//! `visit capture` (its own file, [`super::visit_capture`]) fills one from the devices, and
//! `visit new --synthetic` from the built-in generators (training).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput::outputs::VisitListEntry;
use jemput_core::visit::{Category, Permanence, ResidentRef, Sex, Slot, Visit};
use jemput_kit::draft_key;
use jemput_kit::new_visit::{self, NewVisit, Synthetic};
use jemput_kit::visit::{progress, Drafts};
use uuid::Uuid;

use super::visit_common::{fix_for, fixes, parse_exception, split_exceptions, ExceptionArg};
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
    /// Capture a draft from the devices, step by step (resumes where it stopped)
    Capture(super::visit_capture::CaptureArgs),
    /// List the drafts on this kit: resident, category, step reached, ready (needs the passphrase)
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
    /// Discard a draft that will never be finished; the reason is kept in an audit line
    /// (discarded.jsonl in the kit home)
    Discard {
        id: Uuid,
        /// Why (e.g. "resident moved away"); required
        #[arg(long, required = true)]
        reason: String,
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
    /// refused
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
    /// What the synthetic resident wrote on the pad: `signature`, or for someone who cannot sign
    /// `simple-mark` (a simple line) or `written-name`; recorded and flagged (with --synthetic;
    /// from a pad: `visit capture --signature-kind`)
    #[arg(long, value_enum, requires = "synthetic")]
    pub signature_kind: Option<super::args::SignatureKindArg>,
    /// An exception in place of a capture, WHAT=REASON[,permanent]: WHAT is a finger 1–10, `face`
    /// or `signature`, or for a document-only visit `documents` (every document photo) or one
    /// document, `akta`, `kia` or `kk`; REASON is amputated, bandaged, unable_to_sign, blind,
    /// refused, device_failure or other:TEXT; e.g. 7=amputated,permanent,
    /// signature=unable_to_sign, kk=other:left at home. Recorded in the draft at once (repeat the
    /// flag for more)
    #[arg(long = "exception", value_name = "WHAT=REASON", value_parser = parse_exception)]
    pub exceptions: Vec<ExceptionArg>,
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

/// Prints one line per exception the visit holds: what, why, for how long.
pub fn print_exceptions(visit: &Visit) {
    for (what, e) in visit.exceptions() {
        let permanence = match e.permanence {
            Permanence::Temporary => "sementara / temporary",
            Permanence::Permanent => "permanen / permanent",
        };
        println!("  exception {what}: {} ({permanence})", e.reason.label_id());
    }
}

/// Prints one line per captured image: its file, jemput's score and the device's own (an SBI
/// device's `qualityScore`), and the device's original record kept beside it.
pub fn print_captures(visit: &Visit) {
    let line = |what: String, c: &jemput_core::visit::Capture| {
        let mut parts = vec![c.file.clone()];
        if let Some(q) = &c.quality {
            parts.push(format!("score {} ({})", q.score, q.algorithm));
        }
        if let Some(d) = c.device_quality {
            parts.push(format!("device score {d:.1}"));
        }
        if c.forced {
            parts.push("kept as forced".into());
        }
        for f in c.extra_files.iter().filter(|f| f.contains(".iso19794-")) {
            parts.push(format!("device's original {f}"));
        }
        println!("  {what}: {}", parts.join(", "));
    };
    for (pos, slot) in &visit.captures.fingers {
        if let Slot::Captured(c) = slot {
            line(format!("finger {:02} ({})", pos.code(), pos.name_en()), c);
        }
    }
    if let Some(Slot::Captured(c)) = &visit.captures.face {
        line("face".into(), c);
    }
    if let Some(Slot::Captured(c)) = &visit.captures.signature {
        line("signature".into(), c);
    }
}

pub fn run(g: &Global, a: VisitArgs) -> anyhow::Result<ExitCode> {
    if let VisitCommand::Capture(c) = a.command {
        return super::visit_capture::run(g, c);
    }
    let home = g.open_home()?;
    let drafts = home.drafts()?;
    match a.command {
        VisitCommand::New(n) => {
            let json = n.json;
            let (exceptions, document_exceptions) = split_exceptions(n.exceptions);
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
                    finger_exceptions: Vec::new(),
                    signature_kind: n.signature_kind.unwrap_or_default().into(),
                }),
                confirm: n.confirm,
                exceptions,
                document_exceptions,
            };
            let visit = new_visit::start(&home, &drafts, &new)?;
            let problems: Vec<String> = visit.readiness().iter().map(|p| p.to_string()).collect();
            if json {
                super::output::json(&serde_json::json!({
                    "visit_id": visit.id,
                    "ready": problems.is_empty(),
                    "problems": problems,
                }))?;
            } else {
                println!("{}", visit.id);
                let problems = visit.readiness();
                for p in &problems {
                    eprintln!("  belum siap / not ready: {p}");
                }
                for fix in fixes(&problems, visit.id) {
                    eprintln!("  next: {fix}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        VisitCommand::List { json } => {
            let ids = drafts.list()?;
            let pass = draft_key::passphrase_from_env_or_prompt("Kit passphrase: ")?;
            let identity = home.unlock_drafts(&pass)?;
            let entries: Vec<VisitListEntry> = ids
                .into_iter()
                .map(|id| list_entry(&drafts, &identity, id))
                .collect();
            if json {
                super::output::json(&entries)?;
            } else if entries.is_empty() {
                eprintln!("no drafts");
            } else {
                for e in &entries {
                    println!("{}", list_line(e));
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
                println!("resident: {}", resident(&visit));
                println!("files: {}", files.len());
                println!("exceptions: {}", visit.exception_count());
                print_exceptions(&visit);
                if problems.is_empty() {
                    println!("siap disegel / ready to seal");
                }
                for p in visit.readiness() {
                    println!("  belum siap / not ready: {p}");
                    println!("    fix: {}", fix_for(&p, visit.id));
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
        VisitCommand::Discard { id, reason } => {
            let pass = draft_key::passphrase_from_env_or_prompt("Kit passphrase: ")?;
            let identity = home.unlock_drafts(&pass)?;
            let r = jemput_kit::discard::discard(&home, &drafts, &identity, id, &reason)?;
            let progress = r
                .progress
                .map(|[done, needed]| format!(", {done} of {needed} captures"))
                .unwrap_or_default();
            eprintln!(
                "discarded visit {id}{progress}: {:?}; recorded in {}",
                r.reason,
                home.root.join(jemput_kit::discard::AUDIT_FILE).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        VisitCommand::Capture(_) => unreachable!("dispatched above"),
    }
}

/// The resident as the operator reads it: `NIK 7408014512500001, Siti Aminah`.
fn resident(visit: &Visit) -> String {
    let reference = match &visit.resident.reference {
        ResidentRef::Nik(n) => format!("NIK {n}"),
        ResidentRef::Worklist(w) => format!("worklist entry {w}"),
    };
    match &visit.resident.name {
        Some(name) => format!("{reference}, {name}"),
        None => reference,
    }
}

/// One draft as `visit list` shows it; a draft that cannot be read says why.
fn list_entry(drafts: &Drafts, identity: &age::x25519::Identity, id: Uuid) -> VisitListEntry {
    match drafts.load(id, identity) {
        Ok((visit, _)) => {
            let (done, needed) = progress::count(&visit);
            let problems = visit.readiness();
            VisitListEntry {
                visit_id: id,
                resident: Some(resident(&visit)),
                category: Some(visit.category.code().to_string()),
                started_at: Some(visit.started_at),
                next_step: progress::first_missing(&visit).map(|s| s.id()),
                captures: Some([done, needed]),
                ready: problems.is_empty(),
                problems: problems.iter().map(|p| p.to_string()).collect(),
                error: None,
            }
        }
        Err(e) => VisitListEntry {
            visit_id: id,
            resident: None,
            category: None,
            started_at: None,
            next_step: None,
            captures: None,
            ready: false,
            problems: Vec::new(),
            error: Some(e.to_string()),
        },
    }
}

fn list_line(e: &VisitListEntry) -> String {
    if let Some(error) = &e.error {
        return format!("{}  cannot be read: {error}", e.visit_id);
    }
    let step = match (&e.next_step, e.captures) {
        (Some(s), Some([done, needed])) => format!("next {s} ({done}/{needed})"),
        (None, _) => "all captured".to_string(),
        (Some(s), None) => format!("next {s}"),
    };
    let ready = if e.ready {
        "ready to seal".to_string()
    } else {
        format!("not ready ({})", e.problems.len())
    };
    format!(
        "{}  {:<12} {:<26} {}  {}",
        e.visit_id,
        e.category.as_deref().unwrap_or("-"),
        step,
        ready,
        e.resident.as_deref().unwrap_or("-"),
    )
}

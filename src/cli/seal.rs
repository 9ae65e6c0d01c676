//! `jemput seal`: visit drafts → packets in the queue.

use std::process::ExitCode;

use clap::Args;
use jemput::outputs::{SealFailure, SealOutput};
use jemput_core::packet::PacketError;
use jemput_kit::draft_key;
use jemput_kit::seal;
use uuid::Uuid;

use super::Global;

#[derive(Debug, Args)]
pub struct SealArgs {
    /// Visit ids to seal
    #[arg(required_unless_present = "all")]
    pub visits: Vec<Uuid>,
    /// Seal every draft that is ready
    #[arg(long, conflicts_with = "visits")]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: SealArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let drafts = home.drafts()?;
    let pass = draft_key::passphrase_from_env_or_prompt("Kit passphrase: ")?;
    let identity = home.unlock_drafts(&pass)?;
    let (mut store, _) = seal::open_store(&home)?;
    let ids = if a.all { drafts.list()? } else { a.visits };
    let mut sealed = Vec::new();
    let mut failed = Vec::new();
    for id in ids {
        match seal::seal_draft(&home, &mut store, &drafts, &identity, id) {
            Ok(o) => {
                if !a.json {
                    println!(
                        "{}  {}  {}",
                        o.packet_id,
                        super::output::bytes(o.size),
                        o.path.display()
                    );
                }
                sealed.push(o);
            }
            Err(e) => {
                let error = with_fixes(&drafts, &identity, id, &e);
                eprintln!("error: visit {id} not sealed (its draft is kept): {error}");
                failed.push(SealFailure {
                    visit_id: id,
                    error,
                });
            }
        }
    }
    let mut ok = failed.is_empty();
    // Online-only recording: what was sealed goes to the hub at once.
    if !sealed.is_empty()
        && jemput_kit::sync::status::effective_policy(&home)?
            .online_only()
            .0
    {
        if let Err(why) = upload_now(&home, &mut store) {
            eprintln!(
                "mode wajib daring: paket tersegel dan aman di antrean, tetapi belum terunggah ({why}); jalankan `jemput upload` / \
                 online-only mode: the packets are sealed and safe in the queue but not uploaded ({why}); run `jemput upload`"
            );
            ok = false;
        }
    }
    if a.json {
        super::output::json(&SealOutput { sealed, failed })?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The error, and for a visit that is not ready each problem with the command that fixes it.
fn with_fixes(
    drafts: &jemput_kit::visit::Drafts,
    identity: &age::x25519::Identity,
    id: Uuid,
    e: &seal::SealError,
) -> String {
    let seal::SealError::Packet(PacketError::Incomplete(lines)) = e else {
        return e.to_string();
    };
    let problems = drafts
        .load(id, identity)
        .map(|(v, _)| v.readiness())
        .unwrap_or_default();
    let mut out = String::from("the visit is not ready to seal:");
    for line in lines {
        out.push_str(&format!("\n  - {line}"));
        if let Some(p) = problems.iter().find(|p| p.to_string() == *line) {
            out.push_str(&format!(
                "\n    fix: {}",
                super::visit_common::fix_for(p, id)
            ));
        }
    }
    out
}

/// Drains the queue once to the configured hub; `Err` says why not everything was acknowledged.
fn upload_now(
    home: &jemput_kit::home::KitHome,
    store: &mut jemput_kit::store::Store,
) -> Result<(), String> {
    let url = home.config.hub_url.as_deref().ok_or("no hub-url is set")?;
    let endpoint = jemput_kit::upload::parse_endpoint(url).map_err(|e| e.to_string())?;
    let key = home.kit_key().map_err(|e| e.to_string())?;
    let pin = super::upload::pinned_for(&home.config, &endpoint).map_err(|e| e.to_string())?;
    let mut uploader = jemput_kit::upload::Uploader::new(
        endpoint,
        &home.config.kit_id,
        key,
        home.config.hub_key,
        jemput_kit::upload::UploadOptions {
            retention_hours: home.config.retention_hours,
            max_attempts: 2,
            ..Default::default()
        },
    );
    if let Some(pin) = pin {
        uploader = uploader.pin_certificate(&pin);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime
        .block_on(uploader.drain(store, &jemput_kit::upload::NoProgress))
        .map_err(|e| e.to_string())?;
    let acked = report
        .packets
        .iter()
        .filter(|p| p.outcome == jemput_kit::upload::Outcome::Acknowledged)
        .count();
    if let Some(why) = report.stopped {
        return Err(why);
    }
    if acked < report.packets.len() {
        return Err(format!(
            "{} of {} packets acknowledged",
            acked,
            report.packets.len()
        ));
    }
    eprintln!("online-only: {acked} packet(s) uploaded and acknowledged by the hub");
    Ok(())
}

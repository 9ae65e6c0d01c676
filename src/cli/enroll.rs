//! `jemput enroll <hub-url> <token>`: register this kit with a hub and take on what it hands out
//! (office recipients, hub key, pinned certificate, hub URL and id).

use std::process::ExitCode;

use clap::Args;
use jemput_core::wire::enroll::EnrollToken;
use jemput_kit::enroll::{self, EnrollOptions};

use super::Global;

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The hub's base URL, e.g. https://10.0.0.2:8470
    #[arg(value_name = "HUB_URL")]
    pub hub_url: String,
    /// The one-time token from the office (`jemput hub enroll-token`); it also pins the hub's
    /// certificate
    #[arg(value_name = "TOKEN")]
    pub token: String,
    /// Allow a plain http:// hub URL that is not on this machine. Unsafe: nothing authenticates
    /// the hub then, so whoever answers on the network path could hand the kit its own keys and
    /// receive every packet sealed afterwards
    #[arg(long)]
    pub insecure_http: bool,
    /// Trust the hub's key even though the kit already trusts a different one (`hub_key` in its
    /// config). Only when the office replaced its hub key on purpose: receipts and sync documents
    /// are then checked with the new key
    #[arg(long)]
    pub replace_hub_key: bool,
    /// Print the result as JSON (schemas/enroll.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: EnrollArgs) -> anyhow::Result<ExitCode> {
    let token: EnrollToken = a.token.parse()?;
    let mut home = g.open_home()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let out = runtime.block_on(enroll::enroll(
        &mut home,
        &a.hub_url,
        &token,
        EnrollOptions {
            insecure_http: a.insecure_http,
            replace_hub_key: a.replace_hub_key,
        },
    ))?;
    // The hub's settings, offline policy and worklist come in its signed sync document: fetch it
    // now over the pinned connection, so an enrolled kit starts with them.
    let http = jemput_kit::sync::client::client_for(&home)?;
    let synced = runtime.block_on(jemput_kit::sync::sync(&mut home, &http));
    if a.json {
        super::output::json(&out)?;
    } else {
        println!(
            "kit {} terdaftar di hub {} / enrolled with hub {} at {}",
            out.kit_id, out.hub_id, out.hub_id, out.hub_url
        );
        if let Some(name) = &out.kit_name {
            println!("registered as: {name}");
        }
        println!("hub key (receipts): {}", out.hub_key);
        println!("hub certificate SHA-256 (pinned): {}", out.hub_cert_sha256);
        for r in &out.office_recipients {
            println!("office recipient: {r}");
        }
        println!("next: `jemput upload` sends sealed packets to this hub");
    }
    match synced {
        Ok(s) => eprintln!(
            "sinkron / synced: {} worklist entries, settings and offline policy from the hub",
            s.worklist_entries
        ),
        Err(e) => eprintln!(
            "peringatan / warning: enrolled, but the first sync failed ({e}); run `jemput sync`"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

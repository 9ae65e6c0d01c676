//! `jemput sync`: download the hub's signed sync document (office recipients, settings, worklist)
//! before a trip; verify it against the pinned hub key and keep it in the kit home.

use std::process::ExitCode;

use clap::Args;
use jemput_kit::sync::client;

use super::Global;

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Sync with this hub base URL instead of the config's hub-url (the URL is not saved)
    #[arg(long, value_name = "URL")]
    pub hub_url: Option<String>,
    /// Print the result as JSON (schemas/sync.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, a: SyncArgs) -> anyhow::Result<ExitCode> {
    let mut home = g.open_home()?;
    let saved_url = home.config.hub_url.clone();
    if let Some(u) = &a.hub_url {
        home.config.hub_url = Some(u.trim().to_string());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (http, pin) = client::pinned_client_for(&home)?;
    let result = runtime.block_on(client::sync_pinned(&mut home, &http, pin.as_deref()));
    if a.hub_url.is_some() && result.is_ok() {
        // `sync` saved the config with the one-off URL in it: put the configured one back.
        home.config.hub_url = saved_url;
        home.save_config()?;
    }
    let out = result?;
    if a.json {
        super::output::json(&out)?;
    } else {
        println!(
            "sinkron / synced with {} ({}): {} worklist entries, {} office recipient(s), retention {} h",
            out.hub_id,
            out.hub_url,
            out.worklist_entries,
            out.office_recipients.len(),
            out.retention_hours
        );
        if out.capture_policy_from_hub {
            println!("capture policy: set by the hub (see `jemput config show`)");
        }
        println!(
            "clock: the kit is {} s {} the hub",
            out.clock_skew_secs.abs(),
            if out.clock_skew_secs >= 0 {
                "ahead of"
            } else {
                "behind"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

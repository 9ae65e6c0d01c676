//! `jemput hub events`: the status events in the outbox and where each stands for each webhook
//! (pending with its attempts and last error, delivered, or given up).

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use jemput_hub::events::{self, Delivery, DeliveryState};

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events not yet delivered (pending or given up)
    #[arg(long)]
    pub undelivered: bool,
    /// Print the list as JSON (schemas/hub-events.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(data: &Path, a: EventsArgs) -> anyhow::Result<ExitCode> {
    let config = jemput_hub::HubConfig::load(data)?;
    let mut rows = events::deliveries(data)?;
    if a.undelivered {
        rows.retain(|d| d.state != DeliveryState::Delivered);
    }
    if a.json {
        crate::cli::output::json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if config.webhooks.is_empty() {
        eprintln!(
            "no webhooks configured: add [[webhooks]] with url and secret to {}",
            data.join(jemput_hub::CONFIG_FILE).display()
        );
    }
    for d in &rows {
        println!("{}", line(d));
    }
    Ok(ExitCode::SUCCESS)
}

fn line(d: &Delivery) -> String {
    let e = &d.event;
    let err = d
        .last_error
        .as_deref()
        .map(|e| format!("  ({e})"))
        .unwrap_or_default();
    let state = match d.state {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::GaveUp => "GAVE UP",
    };
    format!(
        "{:>6}  {:<11}  {}  {}  {:<9}  {} attempts  {}{err}",
        e.event_id,
        serde_json::to_value(e.event)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        e.packet_id,
        e.at.strftime("%Y-%m-%d %H:%M:%S"),
        state,
        d.attempts,
        d.url,
    )
}

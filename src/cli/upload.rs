//! `jemput upload`: drain the queue once to the hub (or any tus server), then purge what the hub
//! signed for and the retention period has passed.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use jemput_core::backoff::Backoff;
use jemput_kit::seal;
use jemput_kit::upload::{self, Outcome, PacketResult, Progress, UploadOptions, Uploader};

use super::Global;

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Where to upload, instead of the config's hub-url: a hub's base URL (http://hub:8080, its
    /// /v1/uploads is used) or any tus 1.0.0 creation URL with a path (http://host:1080/files/)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Attempts per packet (and at reaching the server) before reporting it failed; waits grow
    /// from --first-wait to 30 s between attempts
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub attempts: u32,
    /// Seconds to wait before the second attempt (decimals allowed, 0 to 30); each later wait
    /// doubles, with jitter, up to 30 s
    #[arg(long, default_value_t = 0.5, value_name = "SECS", value_parser = first_wait)]
    pub first_wait: f64,
    /// Print the results as JSON (schemas/upload.schema.json)
    #[arg(long)]
    pub json: bool,
}

/// `--first-wait`: seconds, from none up to the longest wait.
fn first_wait(s: &str) -> Result<f64, String> {
    let longest = Backoff::default().max.as_secs_f64();
    match s.parse::<f64>() {
        Ok(secs) if (0.0..=longest).contains(&secs) => Ok(secs),
        _ => Err(format!(
            "a number of seconds from 0 to {longest}, such as 0.5"
        )),
    }
}

pub fn run(g: &Global, a: UploadArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let given = a.endpoint.as_deref().or(home.config.hub_url.as_deref());
    let Some(given) = given else {
        anyhow::bail!(
            "no hub to upload to: set one with `jemput config set hub-url http://<hub>:<port>`, or pass --endpoint URL"
        );
    };
    let endpoint = upload::parse_endpoint(given)?;
    let (mut store, _) = seal::open_store(&home)?;
    let mut uploader = Uploader::new(
        endpoint.clone(),
        &home.config.kit_id,
        home.kit_key()?,
        home.config.hub_key,
        UploadOptions {
            retention_hours: home.config.retention_hours,
            max_attempts: a.attempts,
            backoff: Backoff {
                base: Duration::from_secs_f64(a.first_wait),
                ..Backoff::default()
            },
        },
    );
    // The pinned certificate applies to the enrolled hub; another --endpoint (any tus server)
    // is checked against the usual roots.
    if let Some(pin) = pinned_for(&home.config, &endpoint)? {
        uploader = uploader.pin_certificate(&pin);
    }
    let progress = StderrProgress {
        on: !a.json && std::io::stderr().is_terminal(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(uploader.drain(&mut store, &progress))?;

    if a.json {
        super::output::json(&report)?;
    } else {
        if report.packets.is_empty() {
            eprintln!("nothing to upload: no sealed packets are waiting");
        }
        for p in &report.packets {
            println!("{}", line(p));
        }
        for id in &report.purged {
            println!("{id}  purged (acknowledged longer than the retention period)");
        }
    }
    if let Some(why) = &report.stopped {
        eprintln!("upload stopped: {why}");
    }
    let failed: Vec<&PacketResult> = report
        .packets
        .iter()
        .filter(|p| !p.outcome.is_delivered())
        .collect();
    if failed.is_empty() && report.stopped.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{} of {} packets not delivered; they stay queued",
        failed.len(),
        report.packets.len()
    );
    for p in failed.iter().filter(|p| p.error.is_some()) {
        eprintln!("  {}: {}", p.packet_id, p.error.as_deref().unwrap_or(""));
    }
    Ok(ExitCode::FAILURE)
}

/// The certificate pin to use for `endpoint`: the kit's, when the endpoint is on the enrolled
/// hub's origin.
pub(crate) fn pinned_for(
    config: &jemput_kit::home::Config,
    endpoint: &reqwest::Url,
) -> anyhow::Result<Option<jemput_core::wire::pin::CertPin>> {
    let (Some(pin), Some(hub)) = (&config.hub_cert_sha256, &config.hub_url) else {
        return Ok(None);
    };
    let hub = upload::parse_endpoint(hub)?;
    Ok((hub.origin() == endpoint.origin())
        .then(|| pin.parse())
        .transpose()?)
}

fn describe(o: Outcome) -> &'static str {
    match o {
        Outcome::Acknowledged => "acknowledged",
        Outcome::UploadedNoReceipt => "uploaded, no receipt",
        Outcome::TooLarge => "TOO LARGE",
        Outcome::Quarantined => "QUARANTINED",
        Outcome::Failed => "FAILED",
        Outcome::Refused => "REFUSED BY THE HUB",
        Outcome::NotAttempted => "not attempted",
        Outcome::Interrupted => "interrupted",
    }
}

/// One line per packet: id, outcome, size, and what to know about it.
pub(crate) fn line(p: &PacketResult) -> String {
    let detail = match (&p.outcome, &p.hub_id, &p.error) {
        (Outcome::Acknowledged, Some(hub), _) => format!("receipt from {hub}"),
        (Outcome::UploadedNoReceipt, _, _) => "kept until a hub signs for it".into(),
        (_, _, Some(e)) => e.clone(),
        _ => String::new(),
    };
    let resumed = p
        .resumed_from
        .filter(|&o| o > 0)
        .map(|o| format!(" (resumed at {})", super::output::bytes(o)))
        .unwrap_or_default();
    format!(
        "{}  {:<20}  {:>9}  {detail}{resumed}",
        p.packet_id,
        describe(p.outcome),
        super::output::bytes(p.size)
    )
}

/// Progress lines on stderr for a person watching a terminal.
struct StderrProgress {
    on: bool,
}

impl Progress for StderrProgress {
    fn start(&self, packet_id: &str, size: u64, offset: u64) {
        if self.on {
            eprintln!(
                "{packet_id}: sending {} from {}",
                super::output::bytes(size),
                super::output::bytes(offset)
            );
        }
    }
    fn advance(&self, _: &str, _: u64) {}
    fn finish(&self, _: &str, _: Outcome) {}
}

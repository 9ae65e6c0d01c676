//! `jemput agent`: upload the queue whenever the hub answers, until Ctrl-C or SIGTERM. A progress
//! bar per packet on a terminal, plain lines otherwise; purges after retention as `upload` does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use jemput_core::backoff::Backoff;
use jemput_kit::seal;
use jemput_kit::upload::agent::{self, AgentOptions};
use jemput_kit::upload::{self, Outcome, Progress, UploadOptions, UploadReport, Uploader};

use super::output::{self, Transfer};
use super::Global;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Where to upload, instead of the config's hub-url (as for `jemput upload`)
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Seconds between looks at the queue while everything is delivered
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub poll: u64,
    /// Longest wait, in seconds, between rounds while the hub does not answer (waits start at
    /// 2 s and double, with jitter)
    #[arg(long, default_value_t = 300, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_wait: u64,
    /// Attempts per packet within one round before the round counts as failed
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub attempts: u32,
}

pub fn run(g: &Global, a: AgentArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let given = a.endpoint.as_deref().or(home.config.hub_url.as_deref());
    let Some(given) = given else {
        anyhow::bail!(
            "no hub to upload to: set one with `jemput config set hub-url http://<hub>:<port>`, or pass --endpoint URL"
        );
    };
    let endpoint = upload::parse_endpoint(given)?;
    let (mut store, _) = seal::open_store(&home)?;
    let stop = super::interrupt::flag();
    // The pinned certificate applies to the enrolled hub (as for `jemput upload`).
    let pin = super::upload::pinned_for(&home.config, &endpoint)?;
    let mut uploader = Uploader::new(
        endpoint.clone(),
        &home.config.kit_id,
        home.kit_key()?,
        home.config.hub_key,
        UploadOptions {
            retention_hours: home.config.retention_hours,
            max_attempts: a.attempts,
            ..UploadOptions::default()
        },
    )
    .with_stop(stop.clone());
    if let Some(pin) = pin {
        uploader = uploader.pin_certificate(&pin);
    }
    let options = AgentOptions {
        poll: Duration::from_secs(a.poll),
        backoff: Backoff {
            base: Duration::from_secs(2).min(Duration::from_secs(a.max_wait)),
            max: Duration::from_secs(a.max_wait),
        },
    };
    let progress = AgentProgress::default();
    let mut last: HashMap<String, Outcome> = HashMap::new();
    output::note(&format!(
        "agent uploading to {endpoint}; Ctrl-C or SIGTERM stops it between chunks"
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(agent::run(
        &uploader,
        &mut store,
        &progress,
        &options,
        &stop,
        |report, wait| report_round(report, wait, &mut last),
    ))?;
    let waiting = store
        .list()?
        .into_iter()
        .filter(|e| {
            matches!(
                e.state,
                jemput_kit::store::State::Sealed | jemput_kit::store::State::Uploading
            )
        })
        .count();
    output::note(&format!(
        "agent stopped; {waiting} packets still waiting (the next `jemput agent` or `jemput upload` resumes them)"
    ));
    Ok(ExitCode::SUCCESS)
}

/// Prints each packet's outcome when it changes (a packet failing every round is said once), and
/// why the agent waits.
fn report_round(
    report: &UploadReport,
    wait: Option<Duration>,
    last: &mut HashMap<String, Outcome>,
) {
    for p in &report.packets {
        if p.outcome == Outcome::NotAttempted {
            continue;
        }
        if last.insert(p.packet_id.clone(), p.outcome) != Some(p.outcome) {
            println!("{}", super::upload::line(p));
        }
    }
    for id in &report.purged {
        println!("{id}  purged (acknowledged longer than the retention period)");
    }
    if let (Some(wait), Some(why)) = (wait, &report.stopped) {
        output::note(&format!(
            "hub not reachable ({why}); trying again in {} s",
            wait.as_secs().max(1)
        ));
    } else if let Some(wait) = wait {
        output::note(&format!(
            "some packets were not delivered; trying again in {} s",
            wait.as_secs().max(1)
        ));
    }
}

/// A bar per packet on a terminal; a line at the start of each packet otherwise.
#[derive(Default)]
struct AgentProgress {
    bars: RefCell<HashMap<String, Transfer>>,
}

impl Progress for AgentProgress {
    fn start(&self, packet_id: &str, size: u64, offset: u64) {
        let bar = output::byte_bar(packet_id, size, offset);
        if !bar.is_shown() {
            output::note(&format!(
                "{packet_id}: sending {} from {}",
                output::bytes(size),
                output::bytes(offset)
            ));
        }
        self.bars.borrow_mut().insert(packet_id.to_owned(), bar);
    }
    fn advance(&self, packet_id: &str, offset: u64) {
        if let Some(bar) = self.bars.borrow().get(packet_id) {
            bar.set_position(offset);
        }
    }
    fn finish(&self, packet_id: &str, _: Outcome) {
        self.bars.borrow_mut().remove(packet_id);
    }
}

//! `jemput sim <ef01|isdv4|gps>...`: runs device models on new ptys until Ctrl-C (or SIGTERM), so
//! the kit, `jemput capture` or any other program can use them as real devices.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use jemput::outputs::SimOutput;
use jemput_drivers::registry::{self, SimModel, SimOptions};

use super::output;

#[derive(Debug, Args)]
pub struct SimArgs {
    /// The models to run: ef01 (fingerprint module), isdv4 (signature pad), gps (NMEA receiver);
    /// the same model twice runs two devices (different people)
    #[arg(required = true, value_name = "MODEL", value_parser = model_names())]
    pub models: Vec<String>,
    /// No pacing and no waiting for the operator (tests); default: real device speed
    #[arg(long)]
    pub fast: bool,
    /// Inject a fault: NAME for every model that knows it, or MODEL:NAME for one
    /// (`jemput sim ef01 --fault list` lists them)
    #[arg(long, value_name = "F")]
    pub fault: Vec<String>,
    /// One line of JSON per model on stdout ({"model", "path", …}), printed as each starts
    #[arg(long)]
    pub json: bool,
}

fn model_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(registry::factories().iter().map(|f| f.sim_name()))
}

/// The faults each model gets: `name` goes to every model that knows it, `model:name` to that
/// model; a fault no model knows is an error listing what they do know.
fn faults_for(models: &[String], faults: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut out = vec![Vec::new(); models.len()];
    for spec in faults {
        let (only, name) = match spec.split_once(':') {
            Some((m, n)) => (Some(m), n),
            None => (None, spec.as_str()),
        };
        let mut used = false;
        for (i, m) in models.iter().enumerate() {
            let f = registry::sim_factory(m).expect("clap checks model names");
            if only.is_some_and(|o| o != m) {
                continue;
            }
            if f.sim_faults().iter().any(|k| k.name == name) {
                out[i].push(name.to_string());
                used = true;
            }
        }
        if !used {
            anyhow::bail!(
                "no model given knows the fault `{spec}`; {}",
                fault_list(models)
            );
        }
    }
    Ok(out)
}

fn fault_list(models: &[String]) -> String {
    let mut seen = Vec::new();
    let mut lines = Vec::new();
    for m in models {
        if seen.contains(m) {
            continue;
        }
        seen.push(m.clone());
        let f = registry::sim_factory(m).expect("clap checks model names");
        let names: Vec<_> = f
            .sim_faults()
            .iter()
            .map(|k| format!("{} ({})", k.name, k.help))
            .collect();
        lines.push(format!("{m}: {}", names.join(", ")));
    }
    format!("faults: {}", lines.join("; "))
}

pub fn run(a: SimArgs) -> anyhow::Result<ExitCode> {
    if a.fault.iter().any(|f| f == "list") {
        println!("{}", fault_list(&a.models));
        return Ok(ExitCode::SUCCESS);
    }
    let faults = faults_for(&a.models, &a.fault)?;
    // Catch Ctrl-C before the models start, so that no signal can leave them half set up.
    let stop = super::interrupt::flag();
    let mut running: Vec<SimModel> = Vec::new();
    let mut next_index = std::collections::HashMap::<&str, u32>::new();
    for (model, faults) in a.models.iter().zip(faults) {
        let index = next_index.entry(model.as_str()).or_insert(0);
        let sim = registry::start_sim(
            model,
            &SimOptions {
                fast: a.fast,
                index: *index,
                faults,
            },
        )?;
        *index += 1;
        let line = SimOutput {
            model: sim.model.into(),
            driver: sim.driver.into(),
            path: sim.path.clone(),
            baud: sim.baud,
            fast: sim.fast,
            faults: sim.faults.clone(),
        };
        if a.json {
            output::json_line(&line)?;
        } else {
            println!(
                "{:<6} {}  (open with: {} --driver {}; {}{})",
                line.model,
                line.path.display(),
                line.path.display(),
                line.driver,
                if line.fast {
                    "fast".to_string()
                } else {
                    format!("real speed, {} baud", line.baud)
                },
                if line.faults.is_empty() {
                    String::new()
                } else {
                    format!(", faults: {}", line.faults.join(" "))
                }
            );
        }
        running.push(sim);
    }
    if !a.json {
        output::note("device models running; Ctrl-C stops them");
    }
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(running);
    tracing::info!("device models stopped");
    Ok(ExitCode::SUCCESS)
}

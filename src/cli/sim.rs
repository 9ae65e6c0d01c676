//! `jemput sim <ef01|isdv4|gps|uru4000|ptp>...`: runs device models until Ctrl-C (or SIGTERM), so
//! the kit, `jemput capture` or any other program can use them as real devices: serial models on
//! new ptys, USB models (`uru4000`, `ptp`) behind a USB/IP server on loopback, which Linux's
//! vhci-hcd can attach (`usbip attach`, or tests/vm/run.sh in a VM). Every model is started by the
//! driver registry.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use jemput::outputs::SimOutput;
use jemput_drivers::registry::{self, SimFault, SimModel, SimOptions, Transport};

use super::output;

#[derive(Debug, Args)]
pub struct SimArgs {
    /// The models to run: ef01 (fingerprint module), isdv4 (signature pad), gps (NMEA receiver)
    /// on ptys; ptp (still camera) over USB/IP; the same model twice runs two devices (different
    /// people)
    #[arg(required = true, value_name = "MODEL", value_parser = model_names())]
    pub models: Vec<String>,
    /// No pacing and no waiting for the operator (tests); default: real device speed
    #[arg(long)]
    pub fast: bool,
    /// Inject a fault: NAME for every model that knows it, or MODEL:NAME for one
    /// (`jemput sim ef01 --fault list` lists them)
    #[arg(long, value_name = "F")]
    pub fault: Vec<String>,
    /// One line of JSON per model on stdout ({"model", "path", …}; USB models {"model",
    /// "address", "busid", …}), printed as each starts
    #[arg(long)]
    pub json: bool,
    /// Where USB models' USB/IP servers listen (port 0: a free port each; a fixed port serves one
    /// USB model). Keep it on loopback: USB/IP has no authentication
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

fn model_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(registry::models().map(|m| m.model_name()))
}

/// The faults model `name` knows.
fn known_faults(name: &str) -> &'static [SimFault] {
    registry::sim_factory(name)
        .and_then(|f| f.model())
        .map_or(&[], |m| m.faults())
}

/// Whether model `name` is a USB device (served over USB/IP).
fn is_usb(name: &str) -> bool {
    registry::sim_factory(name).is_some_and(|f| f.transport() == Transport::Usb)
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
            if only.is_some_and(|o| o != m) {
                continue;
            }
            if known_faults(m).iter().any(|k| k.name == name) {
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
        let names: Vec<_> = known_faults(m)
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
    let usb_count = a.models.iter().filter(|m| is_usb(m)).count();
    if usb_count > 1 && a.listen.port() != 0 {
        anyhow::bail!(
            "--listen {} names one port, but {usb_count} USB models need one each; use port 0 / pakai port 0",
            a.listen
        );
    }
    // Kept until the end: dropping a model stops it.
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
                usbip: Some(a.listen),
            },
        )?;
        let line = match sim.usbip() {
            Some(server) => {
                let r = server.record();
                SimOutput {
                    model: sim.model.into(),
                    driver: sim.driver.into(),
                    transport: sim.transport().into(),
                    path: None,
                    baud: None,
                    address: Some(server.address().to_string()),
                    busid: Some(server.busid().to_string()),
                    usb_id: Some(format!("{:04x}:{:04x}", r.vendor_id, r.product_id)),
                    fast: sim.fast,
                    faults: sim.faults.clone(),
                }
            }
            None => SimOutput {
                model: sim.model.into(),
                driver: sim.driver.into(),
                transport: sim.transport().into(),
                path: Some(sim.path.clone()),
                baud: Some(sim.baud),
                address: None,
                busid: None,
                usb_id: None,
                fast: sim.fast,
                faults: sim.faults.clone(),
            },
        };
        running.push(sim);
        *index += 1;
        if a.json {
            output::json_line(&line)?;
        } else {
            print_human(&line);
        }
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

fn print_human(line: &SimOutput) {
    let faults = if line.faults.is_empty() {
        String::new()
    } else {
        format!(", faults: {}", line.faults.join(" "))
    };
    match (&line.path, &line.address, &line.busid) {
        (Some(path), _, _) => println!(
            "{:<6} {}  (open with: {} --driver {}; {}{faults})",
            line.model,
            path.display(),
            path.display(),
            line.driver,
            match line.baud {
                Some(baud) if !line.fast => format!("real speed, {baud} baud"),
                _ => "fast".to_string(),
            },
        ),
        (None, Some(addr), Some(busid)) => {
            let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "3240"));
            println!(
                "{:<6} usbip {addr} busid {busid} {}  (attach as root: usbip --tcp-port {port} attach -r {host} -b {busid}{faults})",
                line.model,
                line.usb_id.as_deref().unwrap_or(""),
            )
        }
        _ => println!("{:<6} running", line.model),
    }
}

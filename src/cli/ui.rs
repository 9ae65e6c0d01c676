//! `jemput ui`: the operator station. Binds the station (loopback only), prints its URL with the
//! session token, opens the browser, and serves until Ctrl-C. With `--sim` on a machine with no
//! kit, it first makes a throw-away training kit with a local hub and a short worklist; with
//! `--sim` the capture steps run on the device models (for a training kit and for an existing
//! kit alike), without it on the devices the driver registry opens (`ui_devices.rs`).

use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;
use jemput::outputs::UiOutput;
use jemput_kit::home::{HomeError, KitHome};
use jemput_station::devices::{Devices, SimDevices};
use jemput_station::{Options, Station, Training};

use super::Global;

#[derive(Debug, Args)]
pub struct UiArgs {
    /// Address to listen on: loopback only (127.0.0.1 or ::1); port 0 picks a free one
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Print the URL but do not open a browser
    #[arg(long)]
    pub no_browser: bool,
    /// stdout is one JSON object: {"url": …} (schemas/ui.schema.json)
    #[arg(long)]
    pub json: bool,
    /// Training: capture from the device models (EF01 scanner, ISDV4 pad and NMEA GPS on ptys,
    /// the PTP camera in memory), made for each visit's resident; with no kit at the home, make
    /// a throw-away training kit (a local hub and a short worklist, removed when the station
    /// stops) instead of an error
    #[arg(long)]
    pub sim: bool,
    /// With --sim: keep the device models at device speed (a finger waits to be placed, the pen
    /// writes at a hand's pace) instead of running them fast
    #[arg(long, requires = "sim")]
    pub realtime: bool,
    /// The camera for the face and document photos (without --sim): VID:PID[:SERIAL], usb:PORT,
    /// v4l2:/dev/videoN or sbi:PORT/DEVICEID/0 for an SBI camera (checked against the kit's trust
    /// store) [default: the first camera found]
    #[arg(long, value_name = "SEL", conflicts_with = "sim")]
    pub camera: Option<super::select::AnySelector>,
    /// The fingerprint scanner (without --sim): a tty path, VID:PID[:SERIAL], usb:PORT or
    /// sbi:PORT/DEVICEID/SUBID for an SBI slap scanner [default: the first scanner found]
    #[arg(long, value_name = "SEL", conflicts_with = "sim")]
    pub scanner: Option<super::select::AnySelector>,
    /// The signature pad (without --sim): a tty path, VID:PID[:SERIAL] or usb:PORT [default:
    /// the first pad found]
    #[arg(long, value_name = "SEL", conflicts_with = "sim")]
    pub pad: Option<jemput_drivers::Selector>,
    /// The GPS receiver (without --sim): a tty path, VID:PID[:SERIAL] or usb:PORT [default: the
    /// first receiver found]
    #[arg(long, value_name = "SEL", conflicts_with = "sim")]
    pub gps: Option<jemput_drivers::Selector>,
    /// Minutes without activity after which the station locks itself (drops the draft key)
    #[arg(long, value_name = "MINUTES", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=24 * 60))]
    pub lock_after: u64,
}

pub fn run(g: &Global, a: UiArgs) -> anyhow::Result<ExitCode> {
    // Refuse a non-loopback address before making anything.
    jemput_station::check_listen(a.listen)?;
    let root = g.home_dir();
    let mut training_kit = None;
    let home = match (KitHome::open(&root), a.sim) {
        (Ok(h), _) => h.root,
        (Err(HomeError::NotInitialised(_)), true) => {
            super::output::note(
                "no kit here: making a throw-away training kit (local hub, short worklist) …",
            );
            let t = super::training::training_kit()?;
            super::output::note(&format!(
                "training kit at {} (removed when the station stops), its hub at {}",
                t.dir.path().display(),
                t.hub.url
            ));
            let root = t.home.root.clone();
            training_kit = Some(t);
            root
        }
        (Err(HomeError::NotInitialised(p)), false) => anyhow::bail!(
            "no kit at {}: create one with `jemput init`, or try the station on a throw-away training kit with `jemput ui --sim`",
            p.display()
        ),
        (Err(e), _) => return Err(e.into()),
    };
    // Ctrl-C and SIGTERM are caught before the URL is printed, so a stop right after it still
    // removes the training kit.
    let stop = super::interrupt::flag();
    let station = Station::bind(Options {
        home,
        listen: a.listen,
        lock_after: Duration::from_secs(a.lock_after * 60),
        training: training_kit.as_ref().map(|_| Training {
            passphrase: super::training::TRAINING_PASSPHRASE.into(),
        }),
    })?;
    let devices = if a.sim {
        Devices::new(Box::new(SimDevices::new(a.realtime)))
    } else {
        Devices::new(Box::new(super::ui_devices::Hardware {
            camera: a.camera.clone(),
            scanner: a.scanner.clone(),
            pad: a.pad.clone(),
            gps: a.gps.clone(),
        }))
    };
    let station = station.with_devices(devices);
    let url = station.url();
    if a.json {
        super::output::json_line(&UiOutput { url: url.clone() })?;
    } else {
        println!("{url}");
        super::output::note(
            "stasiun operator berjalan / the operator station is running: open the address above (Ctrl-C stops it)",
        );
    }
    if !a.no_browser {
        open_browser(&url);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(station.serve(async move {
        while !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }))?;
    drop(training_kit);
    super::output::note("stasiun berhenti / the station stopped");
    Ok(ExitCode::SUCCESS)
}

/// Opens `url` with `xdg-open`; a machine without one (or a failure) is a warning: the URL is
/// printed, and the operator can open it by hand.
fn open_browser(url: &str) {
    let child = Command::new("xdg-open")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Err(e) => tracing::warn!(
            "cannot open a browser (xdg-open: {e}); open the printed address by hand"
        ),
        Ok(mut child) => {
            std::thread::spawn(move || match child.wait() {
                Ok(s) if s.success() => {}
                Ok(s) => tracing::warn!("xdg-open failed ({s}); open the printed address by hand"),
                Err(e) => tracing::warn!("xdg-open: {e}; open the printed address by hand"),
            });
        }
    }
}

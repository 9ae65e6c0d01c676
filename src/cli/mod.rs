//! The command line: one file per subcommand, each with its args struct and a `run` function.

pub mod agent;
pub mod args;
pub mod calibrate;
pub mod capture;
pub mod capture_common;
pub mod capture_sbi;
pub mod completions;
pub mod demo;
pub mod devices;
pub mod devices_test;
pub mod doctor;
pub mod enroll;
pub mod export;
pub mod hub;
pub mod imaging;
pub mod init;
pub mod interrupt;
pub mod man;
pub mod office;
pub mod open;
pub mod output;
pub mod packet;
pub mod queue;
pub mod sbi;
pub mod sbi_drivers;
pub mod seal;
pub mod select;
pub mod settings;
pub mod sim;
pub mod status;
pub mod stress;
pub mod sync;
pub mod training;
pub mod ui;
pub mod ui_devices;
pub mod upload;
pub mod usbip;
pub mod visit;
pub mod visit_capture;
pub mod visit_common;
pub mod worklist;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// jemput: capture biometrics in the field, seal them into encrypted signed packets, and get them
/// safely to the civil registry.
#[derive(Debug, Parser)]
#[command(name = "jemput", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Kit home directory [default: $XDG_DATA_HOME/jemput]
    #[arg(long, global = true, env = "JEMPUT_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Global {
    pub fn home_dir(&self) -> PathBuf {
        jemput_kit::home::resolve(self.home.as_deref())
    }
    pub fn open_home(&self) -> anyhow::Result<jemput_kit::home::KitHome> {
        Ok(jemput_kit::home::KitHome::open(&self.home_dir())?)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a kit home: signing key, draft key, config, queue
    Init(init::InitArgs),
    /// Office keys: create the identity that opens packets and the hub key
    Office(office::OfficeArgs),
    /// Show or change the kit config
    Config(settings::ConfigArgs),
    /// Visits in progress (encrypted drafts)
    Visit(visit::VisitArgs),
    /// Seal visit drafts into packets in the queue
    Seal(seal::SealArgs),
    /// Inspect, verify or extract the payload of a packet file
    Packet(packet::PacketArgs),
    /// Open a packet with the office identity: verify, decrypt, extract
    Open(open::OpenArgs),
    /// List the packets in the kit's queue
    Queue(queue::QueueArgs),
    /// Enroll this kit with a hub using a one-time token from the office
    Enroll(enroll::EnrollArgs),
    /// Upload the queue once to the hub (resumable tus), store receipts, purge after retention
    Upload(upload::UploadArgs),
    /// Download the hub's signed settings and worklist before a trip
    Sync(sync::SyncArgs),
    /// List the worklist from the last sync
    Worklist(worklist::WorklistArgs),
    /// Queue, last sync and the offline policy limits
    Status(status::StatusArgs),
    /// Upload whenever the hub answers, until Ctrl-C or SIGTERM (back-off while it does not)
    Agent(agent::AgentArgs),
    /// Calibrate a device (pad corners; fingerprint module settings and blank baseline)
    Calibrate(calibrate::CalibrateArgs),
    /// Check a kit: home, keys, config, serial access, ModemManager, disk, clock, queue
    Doctor(doctor::DoctorArgs),
    /// List capture devices with their drivers and access status; `devices test` tries one
    Devices(devices::DevicesArgs),
    /// One capture from a device to files, for bench tests (finger PNG; signature PNG + trace)
    Capture(capture::CaptureArgs),
    /// Run device models until Ctrl-C: fingerprint module, pen pad, GPS on new ptys; camera (ptp)
    /// over USB/IP
    Sim(sim::SimArgs),
    /// MOSIP SBI: make device keys, serve jemput's devices as an SBI device service
    Sbi(sbi::SbiArgs),
    /// USB/IP client: list a server's devices, attach one to this machine's vhci-hcd
    Usbip(usbip::UsbIpArgs),
    /// The operator station: a local web UI (loopback only) to unlock the kit and see the
    /// worklist, visits in progress, queue and offline limits
    Ui(ui::UiArgs),
    /// Run the whole kit on embedded defaults: throw-away kit and office, synthetic visits
    Demo(demo::DemoArgs),
    /// The office hub: receive packets from kits, verify them, sign receipts
    Hub(hub::HubArgs),
    /// Office exports: ANSI/NIST-ITL transactions from packets (`export nist`, `export inspect`)
    Export(export::ExportArgs),
    /// Image encodings: WSQ fingerprint compression (`imaging wsq encode|decode`)
    Imaging(imaging::ImagingArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or PowerShell
    Completions(completions::CompletionsArgs),
    /// Write a man page for jemput and every subcommand into a directory
    Man(man::ManArgs),
    /// Test harness: seal synthetic visits in a loop, reporting each success (crash tests)
    #[command(hide = true)]
    StressSeal(stress::StressArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Init(a) => init::run(g, a),
        Command::Office(a) => office::run(a),
        Command::Config(a) => settings::run(g, a),
        Command::Visit(a) => visit::run(g, a),
        Command::Seal(a) => seal::run(g, a),
        Command::Packet(a) => packet::run(a),
        Command::Open(a) => open::run(a),
        Command::Queue(a) => queue::run(g, a),
        Command::Enroll(a) => enroll::run(g, a),
        Command::Upload(a) => upload::run(g, a),
        Command::Sync(a) => sync::run(g, a),
        Command::Worklist(a) => worklist::run(g, a),
        Command::Status(a) => status::run(g, a),
        Command::Agent(a) => agent::run(g, a),
        Command::Demo(a) => demo::run(a),
        Command::Ui(a) => ui::run(g, a),
        Command::Devices(a) => devices::run(g, a),
        Command::Doctor(a) => doctor::run(g, a),
        Command::Calibrate(a) => calibrate::run(g, a),
        Command::Hub(a) => hub::run(a),
        Command::Imaging(a) => imaging::run(g, a),
        Command::Export(a) => export::run(a),
        Command::Capture(a) => capture::run(g, a),
        Command::Sim(a) => sim::run(a),
        Command::Sbi(a) => sbi::run(g, a),
        Command::Usbip(a) => usbip::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
        Command::StressSeal(a) => stress::run(g, a),
    }
}

/// Reads a whole packet file, naming it in the error.
pub fn read_packet(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read packet {}: {e}", path.display()))
}

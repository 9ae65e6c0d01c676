//! `jemput hub …`: the office hub that receives packets from kits. One file per subcommand.

pub mod enroll_token;
pub mod events;
pub mod init;
pub mod kits;
pub mod migrate;
pub mod packets;
pub mod serve;
pub mod settings;
pub mod users;
pub mod worklist;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct HubArgs {
    /// The hub's data directory (key, config, database, packets)
    #[arg(long, global = true, env = "JEMPUT_HUB_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    #[command(subcommand)]
    pub command: HubCommand,
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Create a hub: id, signing key, TLS certificate, config, database
    Init(init::InitArgs),
    /// Serve the kit-hub protocol (tus 1.0.0 + signed receipts + enrollment) over HTTPS
    ///
    /// The hub presents its own self-signed certificate; kits pin its SHA-256, learnt from the
    /// enrollment token. Plain HTTP only on loopback (--plain-http) or with --insecure-http.
    Serve(serve::ServeArgs),
    /// Issue a one-time enrollment token for one kit (shown once; the hub keeps its hash)
    EnrollToken(enroll_token::EnrollTokenArgs),
    /// List the registered kits, or add and revoke them
    Kits(kits::KitsArgs),
    /// List the worklist kits receive, or import it from CSV
    Worklist(worklist::WorklistArgs),
    /// Show or change the settings kits receive at sync (offline policy, retention, recipients)
    Settings(settings::SettingsArgs),
    /// List the packets the hub knows of, with kit, size, time received and state
    Packets(packets::PacketsArgs),
    /// List status events and their delivery to each webhook
    Events(events::EventsArgs),
    /// Add, list or remove the office console's accounts (served at /console/ by `hub serve`)
    Users(users::UsersArgs),
    /// Move an embedded hub's state into PostgreSQL (and its packets into an object store)
    ///
    /// The hub keeps its id, signing key, TLS certificate and enrolled kits: kits carry on as
    /// before. Every row of hub.sqlite (kits, enrollment tokens, uploads, receipts, openings,
    /// events and webhook deliveries, request nonces), the worklist and the kit settings are
    /// copied in one PostgreSQL transaction into an empty database; packets are checked against
    /// their receipts and, with --object-store, copied there and read back. Then hub.toml names
    /// PostgreSQL, and hub.sqlite, the old hub.toml, worklist.json, kit-settings.toml and
    /// uploads/ (and packets/ when they went to the object store) are kept in
    /// <data>/embedded-backup/, never deleted.
    ///
    /// Stop the hub first: a running hub is refused. Uploads in progress are carried over with
    /// the bytes received so far: a kit resumes them where it was. The office console's accounts
    /// and audit log are not copied (the PostgreSQL backend has no console yet); they stay in the
    /// kept hub.sqlite. A run that failed changed nothing and can be run again; one interrupted
    /// after its commit is finished by running it again.
    Migrate(migrate::MigrateArgs),
}

pub fn run(a: HubArgs) -> anyhow::Result<ExitCode> {
    let data = a.data.as_deref();
    match a.command {
        HubCommand::Init(c) => init::run(need_data(data)?, c),
        HubCommand::Serve(c) => serve::run(need_data(data)?, c),
        HubCommand::EnrollToken(c) => enroll_token::run(need_data(data)?, c),
        HubCommand::Kits(c) => kits::run(need_data(data)?, c),
        HubCommand::Worklist(c) => worklist::run(need_data(data)?, c),
        HubCommand::Settings(c) => settings::run(need_data(data)?, c),
        HubCommand::Packets(c) => packets::run(need_data(data)?, c),
        HubCommand::Events(c) => events::run(need_data(data)?, c),
        HubCommand::Users(c) => users::run(need_data(data)?, c),
        HubCommand::Migrate(c) => migrate::run(need_data(data)?, c),
    }
}

fn need_data(data: Option<&Path>) -> anyhow::Result<&Path> {
    data.ok_or_else(|| {
        anyhow::anyhow!("no hub data directory: pass --data DIR (or set JEMPUT_HUB_DATA)")
    })
}

/// Records a change made from the command line in the office console's audit log (actor
/// `(command line)`), beside the changes made in the console. The change is already done: a log
/// that cannot be written is said on stderr, not made the command's failure.
fn audit(data: &Path, action: &str, detail: &str) {
    use jemput_hub::office::{Office, OfficeError, CLI_ACTOR};
    let recorded = Office::open(data)
        .map_err(OfficeError::from)
        .and_then(|o| o.record(CLI_ACTOR, action, detail));
    if let Err(e) = recorded {
        eprintln!("warning: the change is made, but the audit log could not record it: {e}");
    }
}

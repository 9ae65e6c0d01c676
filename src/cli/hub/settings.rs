//! `jemput hub settings [set KEY VALUE]`: what kits receive in their sync documents — office
//! recipients, retention and the offline policy (`kit-settings.toml` in the data directory).

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use jemput::hub::kit_sync::{load_settings, save_settings};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SettingsArgs {
    /// Print the settings as JSON (schemas/kit-settings.schema.json)
    #[arg(long)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<SettingsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Change one setting; `off` removes a limit (kits then use their local value, if any)
    Set { key: SettingKey, value: String },
    /// Remove an office recipient
    RemoveRecipient { recipient: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SettingKey {
    /// Add an office recipient (age1…) kits encrypt to
    OfficeRecipient,
    /// Hours kits keep acknowledged packets
    RetentionHours,
    /// Most days a kit may go without a sync
    MaxDaysSinceSync,
    /// Most packets waiting for a receipt
    MaxBacklogPackets,
    /// Most bytes waiting for a receipt
    MaxBacklogBytes,
    /// Least free disk on a kit, in bytes
    MinFreeDiskBytes,
    /// Largest clock difference from the hub, in seconds
    MaxClockSkewSecs,
    /// Online-only recording: true or false
    OnlineOnly,
}

/// `off`/`none` → None, else a number.
pub fn optional<T: std::str::FromStr>(key: &str, v: &str) -> anyhow::Result<Option<T>> {
    match v.trim() {
        "off" | "none" | "" => Ok(None),
        n => n
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{key} takes a whole number, or `off`; got {v:?}")),
    }
}

/// `true`/`on`/`false`/`off`.
pub fn flag(v: &str) -> anyhow::Result<bool> {
    match v.trim() {
        "true" | "on" | "yes" => Ok(true),
        "false" | "off" | "no" => Ok(false),
        _ => anyhow::bail!("online-only takes true or false, got {v:?}"),
    }
}

pub fn run(data: &Path, a: SettingsArgs) -> anyhow::Result<ExitCode> {
    let mut s = load_settings(data)?;
    match a.command {
        None => {
            if a.json {
                crate::cli::output::json(&s)?;
            } else {
                print!("{}", toml::to_string_pretty(&s)?);
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(SettingsCommand::Set { key, value }) => {
            let p = &mut s.policy;
            match key {
                SettingKey::OfficeRecipient => {
                    jemput::keys::parse_recipient(&value)?;
                    let v = value.trim().to_string();
                    if !s.office_recipients.contains(&v) {
                        s.office_recipients.push(v);
                    }
                }
                SettingKey::RetentionHours => {
                    s.retention_hours = optional("retention-hours", &value)?
                }
                SettingKey::MaxDaysSinceSync => {
                    p.max_days_since_sync = optional("max-days-since-sync", &value)?
                }
                SettingKey::MaxBacklogPackets => {
                    p.max_backlog_packets = optional("max-backlog-packets", &value)?
                }
                SettingKey::MaxBacklogBytes => {
                    p.max_backlog_bytes = optional("max-backlog-bytes", &value)?
                }
                SettingKey::MinFreeDiskBytes => {
                    p.min_free_disk_bytes = optional("min-free-disk-bytes", &value)?
                }
                SettingKey::MaxClockSkewSecs => {
                    p.max_clock_skew_secs = optional("max-clock-skew-secs", &value)?
                }
                SettingKey::OnlineOnly => p.online_only = Some(flag(&value)?),
            }
        }
        Some(SettingsCommand::RemoveRecipient { recipient }) => {
            let before = s.office_recipients.len();
            s.office_recipients.retain(|r| r != recipient.trim());
            anyhow::ensure!(
                s.office_recipients.len() < before,
                "{recipient} is not an office recipient in the hub's kit settings"
            );
        }
    }
    save_settings(data, &s)?;
    eprintln!("saved; kits get the new settings at their next `jemput sync`");
    Ok(ExitCode::SUCCESS)
}

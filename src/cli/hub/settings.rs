//! `jemput hub settings [set KEY VALUE]`: what kits receive in their sync documents — office
//! recipients, retention, the offline policy and the capture policy (`kit-settings.toml` in the
//! data directory).

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use jemput_hub::kit_sync::{load_settings, save_settings};

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
    /// The whole capture policy: `default` (MOSIP's defaults) or `off` (kits keep their own)
    CapturePolicy,
    /// Capture policy: jemput-fq/1 score a finger needs (sets the policy, from the defaults)
    FingerThreshold,
    /// Capture policy: captures tried per finger
    FingerMaxAttempts,
    /// Capture policy: keep the best attempt rather than the last (true/false)
    FingerKeepBest,
    /// Capture policy: keep a finger below the threshold as forced (true/false)
    FingerAllowForced,
    /// Capture policy: jemput-faceq/1 score a face photo needs (50: every face check passed)
    FaceThreshold,
    /// Capture policy: jemput-sigq/1 score a usual signature needs
    SignatureThreshold,
    /// Capture policy: WSQ bit rate of stored fingers
    WsqBitrate,
}

/// A number for the capture policy key `key`.
fn number<T: std::str::FromStr>(key: &str, v: &str) -> anyhow::Result<T> {
    v.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{key} takes a number; got {v:?}"))
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
        _ => anyhow::bail!("takes true or false, got {v:?}"),
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
                    jemput_core::keys::parse_recipient(&value)?;
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
                SettingKey::CapturePolicy => {
                    s.capture = match value.trim() {
                        "off" | "none" => None,
                        "default" => Some(Default::default()),
                        _ => {
                            anyhow::bail!("capture-policy takes `default` or `off`, got {value:?}")
                        }
                    }
                }
                key => {
                    let c = s.capture.get_or_insert_with(Default::default);
                    match key {
                        SettingKey::FingerThreshold => {
                            c.finger.threshold = number("finger-threshold", &value)?
                        }
                        SettingKey::FingerMaxAttempts => {
                            c.finger.max_attempts = number("finger-max-attempts", &value)?
                        }
                        SettingKey::FingerKeepBest => c.finger.keep_best = flag(&value)?,
                        SettingKey::FingerAllowForced => c.finger.allow_forced = flag(&value)?,
                        SettingKey::FaceThreshold => {
                            c.face.threshold = number("face-threshold", &value)?
                        }
                        SettingKey::SignatureThreshold => {
                            c.signature.threshold = number("signature-threshold", &value)?
                        }
                        SettingKey::WsqBitrate => c.wsq_bitrate = number("wsq-bitrate", &value)?,
                        _ => unreachable!("the other keys are matched above"),
                    }
                    c.validate()?;
                }
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
    super::audit(
        data,
        "settings.save",
        "kit settings (offline and capture policy, office recipients)",
    );
    eprintln!("saved; kits get the new settings at their next `jemput sync`");
    Ok(ExitCode::SUCCESS)
}

//! `jemput config`: show or change the kit config.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use jemput_core::keys::{self, PublicKey};

use super::hub::settings::{flag, optional};
use super::Global;

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config (TOML, or JSON with --json)
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change one setting
    Set { key: ConfigKey, value: String },
    /// Remove an office recipient
    RemoveRecipient { recipient: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConfigKey {
    /// Add an office recipient (age1…)
    OfficeRecipient,
    /// Pin the hub's ed25519 public key (base64)
    HubKey,
    /// Default operator id
    Operator,
    /// Largest packet to seal, in bytes
    MaxPacketBytes,
    /// The hub's base URL (http:// or https://), where `jemput upload` sends packets
    HubUrl,
    /// Hours to keep an acknowledged packet before purging it (default 24)
    RetentionHours,
    /// Pin the hub's TLS certificate by its SHA-256 (64 hex digits; `jemput enroll` sets it)
    HubCertSha256,
    /// Offline policy: most days without a sync (`off` to remove; the hub's value wins)
    MaxDaysSinceSync,
    /// Offline policy: most packets waiting for a receipt
    MaxBacklogPackets,
    /// Offline policy: most bytes waiting for a receipt
    MaxBacklogBytes,
    /// Offline policy: least free disk, in bytes
    MinFreeDiskBytes,
    /// Offline policy: largest clock difference from the hub, in seconds
    MaxClockSkewSecs,
    /// Offline policy: online-only recording (true, false, or off to unset)
    OnlineOnly,
    /// Capture policy: jemput-fq/1 score (0–100) a finger needs (default 40)
    FingerThreshold,
    /// Capture policy: captures tried per finger, the first included (default 3)
    FingerMaxAttempts,
    /// Capture policy: keep the best attempt rather than the last (true/false, default true)
    FingerKeepBest,
    /// Capture policy: keep a finger below the threshold as forced (true/false, default true;
    /// false makes it an exception)
    FingerAllowForced,
    /// Capture policy: jemput-faceq/1 score a face photo needs (default 50: every face check passed)
    FaceThreshold,
    /// Capture policy: jemput-sigq/1 score a usual signature needs (default 0: any trace)
    SignatureThreshold,
    /// WSQ bit rate of stored fingers (default 0.75 ≈ 15:1)
    WsqBitrate,
}

pub fn run(g: &Global, a: ConfigArgs) -> anyhow::Result<ExitCode> {
    let mut home = g.open_home()?;
    match a.command {
        ConfigCommand::Show { json } => {
            if json {
                super::output::json(&home.config)?;
            } else {
                print!("{}", toml::to_string_pretty(&home.config)?);
            }
            return Ok(ExitCode::SUCCESS);
        }
        ConfigCommand::Set { key, value } => {
            let c = &mut home.config;
            match key {
                ConfigKey::OfficeRecipient => {
                    keys::parse_recipient(&value)?;
                    let v = value.trim().to_string();
                    if !c.office_recipients.contains(&v) {
                        c.office_recipients.push(v);
                    }
                }
                ConfigKey::HubKey => c.hub_key = Some(value.parse::<PublicKey>()?),
                ConfigKey::Operator => c.operator = Some(value),
                ConfigKey::HubUrl => {
                    jemput_kit::upload::parse_endpoint(&value)?;
                    c.hub_url = Some(value.trim().to_string());
                }
                ConfigKey::HubCertSha256 => {
                    let pin: jemput_core::wire::pin::CertPin = value.parse()?;
                    c.hub_cert_sha256 = Some(pin.to_string());
                }
                ConfigKey::RetentionHours => {
                    c.retention_hours = value.parse().map_err(|_| {
                        anyhow::anyhow!("retention-hours must be a whole number of hours")
                    })?
                }
                ConfigKey::MaxDaysSinceSync => {
                    c.policy.max_days_since_sync = optional("max-days-since-sync", &value)?
                }
                ConfigKey::MaxBacklogPackets => {
                    c.policy.max_backlog_packets = optional("max-backlog-packets", &value)?
                }
                ConfigKey::MaxBacklogBytes => {
                    c.policy.max_backlog_bytes = optional("max-backlog-bytes", &value)?
                }
                ConfigKey::MinFreeDiskBytes => {
                    c.policy.min_free_disk_bytes = optional("min-free-disk-bytes", &value)?
                }
                ConfigKey::MaxClockSkewSecs => {
                    c.policy.max_clock_skew_secs = optional("max-clock-skew-secs", &value)?
                }
                ConfigKey::OnlineOnly => {
                    c.policy.online_only = match value.trim() {
                        "unset" | "none" => None,
                        v => Some(flag(v)?),
                    }
                }
                ConfigKey::FingerThreshold => {
                    c.capture.finger.threshold = value.trim().parse().map_err(|_| {
                        anyhow::anyhow!("finger-threshold must be a score from 0 to 100")
                    })?
                }
                ConfigKey::FingerMaxAttempts => {
                    c.capture.finger.max_attempts = value.trim().parse().map_err(|_| {
                        anyhow::anyhow!("finger-max-attempts must be a whole number, at least 1")
                    })?
                }
                ConfigKey::FingerKeepBest => {
                    c.capture.finger.keep_best = switch("finger-keep-best", &value)?
                }
                ConfigKey::FingerAllowForced => {
                    c.capture.finger.allow_forced = switch("finger-allow-forced", &value)?
                }
                ConfigKey::FaceThreshold => {
                    c.capture.face.threshold = value.trim().parse().map_err(|_| {
                        anyhow::anyhow!("face-threshold must be a score from 0 to 100")
                    })?
                }
                ConfigKey::SignatureThreshold => {
                    c.capture.signature.threshold = value.trim().parse().map_err(|_| {
                        anyhow::anyhow!("signature-threshold must be a score from 0 to 100")
                    })?
                }
                ConfigKey::WsqBitrate => {
                    c.capture.wsq_bitrate = value.trim().parse().map_err(|_| {
                        anyhow::anyhow!("wsq-bitrate must be a number of bits per pixel, e.g. 0.75")
                    })?
                }
                ConfigKey::MaxPacketBytes => {
                    c.limits.max_packet_bytes = value.parse().map_err(|_| {
                        anyhow::anyhow!("max-packet-bytes must be a number of bytes")
                    })?
                }
            }
        }
        ConfigCommand::RemoveRecipient { recipient } => {
            let before = home.config.office_recipients.len();
            home.config
                .office_recipients
                .retain(|r| r != recipient.trim());
            anyhow::ensure!(
                home.config.office_recipients.len() < before,
                "{recipient} is not an office recipient of this kit"
            );
        }
    }
    home.config.capture.validate()?;
    home.save_config()?;
    Ok(ExitCode::SUCCESS)
}

/// A true/false setting named `key`.
fn switch(key: &str, v: &str) -> anyhow::Result<bool> {
    match v.trim() {
        "true" | "on" | "yes" => Ok(true),
        "false" | "off" | "no" => Ok(false),
        _ => anyhow::bail!("{key} takes true or false, got {v:?}"),
    }
}

//! `jemput hub enroll-token`: issue a one-time token that enrolls one kit.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use jemput_hub::{server, HubConfig, Tokens};

#[derive(Debug, Args)]
pub struct EnrollTokenArgs {
    /// The name the enrolled kit gets in the registry: team, district
    #[arg(long)]
    pub name: Option<String>,
    /// Hours the token stays valid (1 to 720)
    #[arg(long, default_value_t = 24, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(jemput_hub::enroll::MAX_TTL_HOURS)))]
    pub ttl_hours: u32,
    /// Print the token as JSON (schemas/hub-enroll-token.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(data: &Path, a: EnrollTokenArgs) -> anyhow::Result<ExitCode> {
    let config = HubConfig::load(data)?;
    // The token pins the certificate the hub serves; a hub made before TLS gets one now.
    let (_, cert) = server::open_with_cert(data)?;
    let issued = Tokens::open(data)?.issue(a.name.as_deref(), a.ttl_hours, &cert.fingerprint())?;
    let named = issued.name.as_deref().map(|n| format!(" ({n})"));
    super::audit(
        data,
        "token.issue",
        &format!("{}{}", issued.token_id, named.unwrap_or_default()),
    );
    if config.office_recipients.is_empty() {
        eprintln!(
            "warning: this hub knows no office recipient, so enrollment will be refused until \
             office_recipients is set in {}",
            data.join(jemput_hub::CONFIG_FILE).display()
        );
    }
    if a.json {
        crate::cli::output::json(&issued)?;
    } else {
        println!("{}", issued.token);
        eprintln!(
            "one-time token {} valid until {:.0}{}; on the kit: jemput enroll https://<this hub>:<port> <token>",
            issued.token_id,
            issued.expires_at,
            issued
                .name
                .as_deref()
                .map(|n| format!(" for {n}"))
                .unwrap_or_default()
        );
        eprintln!("it is shown once: the hub keeps only its hash");
    }
    Ok(ExitCode::SUCCESS)
}

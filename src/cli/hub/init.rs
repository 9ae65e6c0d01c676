//! `jemput hub init`: create a hub's data directory, with its signing key and TLS certificate.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use jemput_hub::{Hub, HubInitOutput};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// A name or address for the hub's TLS certificate; repeat for several [default: localhost,
    /// 127.0.0.1, ::1 and the host name]. Kits pin the certificate itself, so these matter only
    /// to other clients
    #[arg(long = "san", value_name = "NAME|IP")]
    pub sans: Vec<String>,
    /// An office age recipient (age1…) that enrolled kits encrypt packets to; repeat for several
    #[arg(long = "office-recipient", value_name = "AGE1…")]
    pub office_recipients: Vec<String>,
    /// The office's age identity file (from `jemput office keygen`): the hub opens every verified
    /// packet with it and records the result. Without it packets are recorded "not opened"; add
    /// `office_identity = "FILE"` to hub.toml later to open them.
    #[arg(long, value_name = "FILE")]
    pub office_identity: Option<std::path::PathBuf>,
    /// The hub signing key the office made (`hub.ed25519` from `jemput office keygen`), copied
    /// into the data directory: receipts and sync documents are then signed with the key kits
    /// were given with `jemput init --hub-key`. Without it the hub makes a key of its own, which
    /// kits learn when they enroll
    #[arg(long, value_name = "FILE")]
    pub hub_key: Option<std::path::PathBuf>,
    /// Keep the hub's state in this PostgreSQL database instead of hub.sqlite (the scale-out
    /// backend, docs/scale-out.md), e.g. postgresql://jemput@/jemput?host=/run/postgresql. Never
    /// put a password in it: the password comes from PGPASSWORD, or from a file named by
    /// --postgres-password-file
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// A file holding the PostgreSQL role's password, readable by the hub's user only (mode
    /// 0600); recorded in hub.toml as password_file
    #[arg(long, value_name = "FILE", requires = "postgres")]
    pub postgres_password_file: Option<std::path::PathBuf>,
    /// Store verified packets in an S3-compatible object store instead of the data directory:
    /// `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION`, e.g.
    /// `s3://packets?endpoint=http://127.0.0.1:3900&region=garage`. Credentials never go on the
    /// command line: the hub reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the file given
    /// with --object-store-credentials
    #[arg(long, value_name = "URL")]
    pub object_store: Option<String>,
    /// A file with the object store's credentials (`access_key_id = "…"`, `secret_access_key =
    /// "…"`, mode 0600), named in hub.toml; read by every hub process at start
    #[arg(long, value_name = "FILE", requires = "object_store")]
    pub object_store_credentials: Option<std::path::PathBuf>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(data: &Path, a: InitArgs) -> anyhow::Result<ExitCode> {
    let identity = match &a.office_identity {
        Some(f) => {
            // Check it before creating anything: a hub that cannot open its packets is a typo.
            jemput_core::keys::office::load_identities(f)?;
            Some(std::path::absolute(f)?)
        }
        None => None,
    };
    let object_store = match &a.object_store {
        Some(url) => {
            // Check it before creating anything.
            jemput_hub::objects::ObjectUrl::parse(url)
                .map_err(|why| anyhow::anyhow!("bad --object-store {url:?}: {why}"))?;
            Some(jemput_hub::ObjectStoreConfig {
                url: url.clone(),
                credentials_file: a
                    .object_store_credentials
                    .as_deref()
                    .map(std::path::absolute)
                    .transpose()?,
            })
        }
        None => None,
    };
    let mut config = jemput_hub::init_with(
        data,
        &jemput_hub::InitOptions {
            sans: a.sans.clone(),
            office_recipients: a.office_recipients,
            hub_key: a.hub_key.clone(),
            postgres: match &a.postgres {
                Some(url) => Some(jemput_hub::PostgresConfig {
                    password_file: a
                        .postgres_password_file
                        .as_deref()
                        .map(std::path::absolute)
                        .transpose()?,
                    ..jemput_hub::PostgresConfig::new(url)
                }),
                None => None,
            },
        },
    )?;
    if identity.is_some() || object_store.is_some() {
        config.office_identity = identity;
        config.object_store = object_store;
        config.save(data)?;
    }
    let opened = Hub::open(data)?;
    // The hub exists now either way; a store that refuses is said, and `hub serve` checks again.
    let store_problem = opened.storage().check().err();
    let out = HubInitOutput {
        data: data.to_path_buf(),
        hub_id: config.hub_id,
        hub_key: opened.public_key(),
        key_file: data.join(jemput_hub::KEY_FILE),
        max_size: config.max_size,
        cert_file: data.join(jemput_hub::tls::CERT_FILE),
        cert_sha256: opened.cert_sha256().unwrap_or_default().to_string(),
        sans: if a.sans.is_empty() {
            jemput_hub::tls::default_sans()
        } else {
            a.sans
        },
        office_recipients: config.office_recipients,
        postgres: config.postgres.as_ref().map(|p| p.url.clone()),
        object_store: config.object_store.as_ref().map(|o| o.url.clone()),
    };
    if a.json {
        crate::cli::output::json(&out)?;
    } else {
        println!("hub {} created in {}", out.hub_id, data.display());
        match &a.hub_key {
            Some(f) => println!(
                "hub public key: {} (the office's, from {})",
                out.hub_key,
                f.display()
            ),
            None => println!(
                "hub public key: {} (new; kits pin it when they enroll, or with `jemput init --hub-key`)",
                out.hub_key
            ),
        }
        println!(
            "TLS certificate SHA-256: {} (names: {})",
            out.cert_sha256,
            out.sans.join(", ")
        );
        if let Some(url) = &out.postgres {
            println!("the hub's state is in PostgreSQL: {url}");
        }
        if let Some(url) = &out.object_store {
            println!("packets are stored in the object store {url}");
        }
        if out.office_recipients.is_empty() {
            eprintln!(
                "note: no office recipient yet; kits cannot enroll until office_recipients is set in {}",
                data.join(jemput_hub::CONFIG_FILE).display()
            );
        }
        println!(
            "enroll a kit: jemput hub enroll-token --data {} --name TEAM, then on the kit: jemput enroll https://<hub>:<port> <token>",
            data.display()
        );
    }
    if let Some(e) = store_problem {
        eprintln!("warning: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

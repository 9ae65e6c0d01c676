//! `jemput hub migrate`: move an embedded hub's state into PostgreSQL (and its packets into an
//! object store), keeping its identity. The work is `jemput_hub::migrate`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use jemput_hub::migrate::{self, MigrateOptions};

use jemput::outputs::HubMigrateOutput;

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The PostgreSQL database to move the hub's state into, e.g.
    /// postgresql://jemput@/jemput?host=/run/postgresql. It must be empty (a new `createdb`).
    /// Never put a password in it: the password comes from PGPASSWORD, or from a file named by
    /// --postgres-password-file
    #[arg(long, value_name = "URL")]
    pub postgres: String,
    /// A file holding the PostgreSQL role's password, readable by the hub's user only (mode
    /// 0600); recorded in hub.toml as password_file
    #[arg(long, value_name = "FILE")]
    pub postgres_password_file: Option<PathBuf>,
    /// Also move the packets from the data directory into this S3-compatible object store:
    /// `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION` (the bucket must exist). Each packet is
    /// written, read back and compared by SHA-256. Credentials come from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY, or the file given with --object-store-credentials. Without it the
    /// packets stay in <data>/packets/
    #[arg(long, value_name = "URL")]
    pub object_store: Option<String>,
    /// A file with the object store's credentials (`access_key_id = "…"`, `secret_access_key =
    /// "…"`, mode 0600), named in hub.toml
    #[arg(long, value_name = "FILE", requires = "object_store")]
    pub object_store_credentials: Option<PathBuf>,
    /// Print the summary as JSON (schemas/hub-migrate.schema.json)
    #[arg(long)]
    pub json: bool,
}

pub fn run(data: &Path, a: MigrateArgs) -> anyhow::Result<ExitCode> {
    let opts = MigrateOptions {
        postgres: jemput_hub::PostgresConfig {
            password_file: a
                .postgres_password_file
                .as_deref()
                .map(std::path::absolute)
                .transpose()?,
            ..jemput_hub::PostgresConfig::new(&a.postgres)
        },
        object_store: match &a.object_store {
            Some(url) => Some(jemput_hub::ObjectStoreConfig {
                url: url.clone(),
                credentials_file: a
                    .object_store_credentials
                    .as_deref()
                    .map(std::path::absolute)
                    .transpose()?,
            }),
            None => None,
        },
    };
    let mut reporter = Reporter::default();
    let summary = migrate::migrate(data, &opts, &mut |done, total, bytes, total_bytes| {
        reporter.packet(done, total, bytes, total_bytes)
    })?;
    drop(reporter);
    let out = HubMigrateOutput {
        data: data.to_path_buf(),
        summary,
    };
    if a.json {
        crate::cli::output::json(&out)?;
    } else {
        print_summary(&out);
    }
    Ok(ExitCode::SUCCESS)
}

/// Progress of the packet copy on stderr: a bar on a terminal, else a line at every tenth.
#[derive(Default)]
struct Reporter {
    bar: Option<crate::cli::output::Transfer>,
    next_tenth: u64,
}

impl Reporter {
    fn packet(&mut self, done: u64, total: u64, bytes: u64, total_bytes: u64) {
        if std::io::stderr().is_terminal() {
            let bar = self.bar.get_or_insert_with(|| {
                crate::cli::output::byte_bar("checking and copying packets", total_bytes, 0)
            });
            bar.set_position(bytes);
            return;
        }
        // Quiet for a few packets; a line per tenth of many.
        if total < 50 {
            return;
        }
        if done * 10 >= total * (self.next_tenth + 1) {
            self.next_tenth = done * 10 / total;
            eprintln!(
                "packets: {done}/{total} ({} of {})",
                crate::cli::output::bytes(bytes),
                crate::cli::output::bytes(total_bytes)
            );
        }
    }
}

fn print_summary(out: &HubMigrateOutput) {
    let s = &out.summary;
    if s.resumed {
        println!(
            "an earlier run had copied hub {} into {}; finished it",
            s.hub_id, s.postgres
        );
    } else {
        println!("hub {} moved to PostgreSQL {}", s.hub_id, s.postgres);
    }
    for (table, rows) in &s.tables {
        println!("  {table:<15} {rows:>8} rows");
    }
    let p = &s.packets;
    match &s.object_store {
        Some(url) if p.copied_to_object_store > 0 => println!(
            "packets: {} ({}) checked against their receipts, copied to {url} and read back identical",
            p.count,
            crate::cli::output::bytes(p.bytes)
        ),
        Some(url) => println!(
            "packets: {} ({}) in the object store {url}",
            p.count,
            crate::cli::output::bytes(p.bytes)
        ),
        None => println!(
            "packets: {} ({}) checked against their receipts; they stay in {}",
            p.count,
            crate::cli::output::bytes(p.bytes),
            out.data.join(jemput_hub::PACKETS_DIR).display()
        ),
    }
    let u = &s.uploads_in_progress;
    if u.count > 0 {
        println!(
            "uploads in progress: {} carried over with {} (kits resume them where they were)",
            u.count,
            crate::cli::output::bytes(u.staged_bytes)
        );
    }
    println!(
        "the embedded hub's files are kept in {} (hub.sqlite, the old hub.toml, …); to roll back, see docs/scale-out.md",
        s.backup.display()
    );
    println!(
        "start the hub as before: jemput hub serve --data {}",
        out.data.display()
    );
}

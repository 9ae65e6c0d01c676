//! `jemput hub users add|list|remove`: the office console's accounts. A password comes from a
//! prompt (asked twice) or from standard input with `--password-stdin`, never from an argument
//! (where `ps` and the shell history would show it).

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use jemput_hub::office::{Office, Role, CLI_ACTOR};

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add an account (password asked twice, or read from stdin with --password-stdin)
    Add {
        /// The account name: 1 to 32 of a-z 0-9 . _ -
        name: String,
        /// admin changes things (tokens, kits, worklist, settings); viewer only looks
        #[arg(long, value_parser = ["admin", "viewer"])]
        role: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts
    List {
        /// Print them as JSON (schemas/hub-users.schema.json)
        #[arg(long)]
        json: bool,
    },
    /// Remove an account and end its sessions
    Remove {
        /// The account name
        name: String,
    },
}

pub fn run(data: &Path, a: UsersArgs) -> anyhow::Result<ExitCode> {
    let office = Office::open(data)?;
    match a.command {
        UsersCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let role: Role = role.parse()?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                let first = rpassword::prompt_password(format!("password for {name}: "))?;
                let again = rpassword::prompt_password("the same password again: ")?;
                if first != again {
                    anyhow::bail!("the two passwords differ; nothing was added");
                }
                first
            };
            office.add_account(CLI_ACTOR, &name, role, &password)?;
            eprintln!("added {name} ({role}); sign in at https://<this hub>:<port>/console/");
        }
        UsersCommand::List { json } => {
            let accounts = office.accounts()?;
            if json {
                crate::cli::output::json(&accounts)?;
            } else {
                if accounts.is_empty() {
                    eprintln!("no account; add one with `jemput hub users add NAME --role admin`");
                }
                for acc in accounts {
                    println!(
                        "{:<32} {:<7} added {:.0}",
                        acc.name, acc.role, acc.created_at
                    );
                }
            }
        }
        UsersCommand::Remove { name } => {
            office.remove_account(CLI_ACTOR, &name)?;
            eprintln!("removed {name}; its sessions are ended");
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `jemput completions SHELL`: the shell completion script for jemput, on stdout (clap_complete).
//! The Debian package installs the bash, zsh and fish ones; people who build from source write
//! them where their shell looks (the README says where).

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

pub fn run(a: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    // Generated into memory first: clap_complete panics when its writer fails, and stdout can
    // (a closed pipe, a full disk).
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "jemput", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::anyhow!("cannot write the {} completions: {e}", a.shell))?;
    Ok(ExitCode::SUCCESS)
}

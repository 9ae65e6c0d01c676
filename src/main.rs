//! The `jemput` binary: parse the command line, dispatch to `cli`.

#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::output::init_logging(args.global.verbose);
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            cli::output::print_error(&e);
            ExitCode::FAILURE
        }
    }
}

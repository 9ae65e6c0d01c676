//! `jemput-powerloss-server`: one power-loss disk served in a process of its own, driven over
//! stdin/stdout by a test (see `jemput_powerloss::server` for the protocol and
//! `jemput_powerloss::RemoteDisk` for the client). Test-only; not installed with jemput.

use std::process::ExitCode;

fn main() -> ExitCode {
    let disk = jemput_powerloss::Disk::new();
    let stdin = std::io::stdin();
    match jemput_powerloss::server::serve(&disk, stdin.lock(), std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jemput-powerloss-server: {e}");
            ExitCode::FAILURE
        }
    }
}

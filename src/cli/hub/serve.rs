//! `jemput hub serve`: run the hub until SIGTERM or Ctrl-C, over HTTPS with its own certificate (or plain
//! HTTP on loopback when asked).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8470
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Serve plain HTTP instead of HTTPS, on a loopback address only (e.g. behind a TLS proxy on
    /// this machine)
    #[arg(long)]
    pub plain_http: bool,
    /// Serve plain HTTP on any address. Unsafe: kits cannot pin the hub, packet headers, kit ids,
    /// upload URLs and enrollment tokens travel in clear text, and anyone on the path can watch
    /// or cut uploads (packets stay encrypted and signed, receipts stay verifiable)
    #[arg(long)]
    pub insecure_http: bool,
}

pub fn run(data: &Path, a: ServeArgs) -> anyhow::Result<ExitCode> {
    let plain = a.plain_http || a.insecure_http;
    if plain && !a.listen.ip().is_loopback() {
        if !a.insecure_http {
            anyhow::bail!(
                "refusing to serve plain HTTP on {}, which is not a loopback address. Serve HTTPS \
                 (drop --plain-http), or pass --insecure-http on a network you trust",
                a.listen
            );
        }
        eprintln!(
            "warning: serving plain HTTP on {}: kits cannot pin this hub; packet headers, kit ids, \
             upload URLs and enrollment tokens travel in clear text, and anyone on the path can \
             watch or cut uploads. Packets stay encrypted and signed, requests stay authenticated, \
             receipts stay verifiable.",
            a.listen
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", a.listen))?;
        let (info, cert) = {
            let data = data.to_path_buf();
            tokio::task::spawn_blocking(move || {
                jemput_hub::server::open_with_cert(&data)
                    .map(|(h, c)| (h.info(), c.fingerprint()))
            })
            .await??
        };
        let scheme = if plain { "http" } else { "https" };
        let addr = listener.local_addr()?;
        eprintln!(
            "hub {} listening on {scheme}://{addr} (hub key {}; certificate SHA-256 {cert}); Ctrl-C or SIGTERM stops it",
            info.hub_id,
            info.hub_key
        );
        // The console's accounts, sessions and audit log are in the hub's state database
        // (hub.sqlite or PostgreSQL), so every process of a scale-out hub serves the same console.
        eprintln!(
            "office console at {scheme}://{addr}/console/ (accounts: jemput hub users add NAME --role admin)"
        );
        let console: Option<jemput_hub::ExtraRoutes> = Some(Box::new(|hub| {
            jemput_console::router(hub)
                .map_err(|e| jemput_hub::HubError::Serve(std::io::Error::other(e.to_string())))
        }));
        let stop = stop_signal()?;
        if plain {
            jemput_hub::serve_until_with(data, listener, console, stop).await?;
        } else {
            jemput_hub::serve_tls_until_with(data, listener, console, stop).await?;
        }
        eprintln!("hub {} stopped", info.hub_id);
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on the first SIGTERM (what `systemctl stop` and `kill` send) or SIGINT (Ctrl-C), after
/// saying so: the hub then stops accepting, gives requests in flight a few seconds and closes
/// its database. A second signal ends the process at once.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| anyhow::anyhow!("cannot catch SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| anyhow::anyhow!("cannot catch SIGINT: {e}"))?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        eprintln!(
            "{name} received: the hub stops accepting, lets requests in flight finish (up to {} s) and closes its database",
            jemput_hub::server::SHUTDOWN_GRACE.as_secs()
        );
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            eprintln!("a second signal: stopping at once");
            std::process::exit(i32::from(crate::cli::interrupt::EXIT_INTERRUPTED));
        });
    })
}

//! `jemput hub serve`: run the hub until Ctrl-C.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

/// Plain HTTP only for now: TLS with the hub's own certificate, which kits pin at enrollment,
/// comes in a later step. Until then the hub refuses non-loopback addresses unless told
/// `--insecure-http`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8470
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Serve plain HTTP on a non-loopback address (TLS is not implemented yet). Request
    /// signatures and receipts still hold, but packet headers, kit ids and upload URLs travel in
    /// clear text and anyone on the path can watch or cut uploads
    #[arg(long)]
    pub insecure_http: bool,
}

pub fn run(data: &Path, a: ServeArgs) -> anyhow::Result<ExitCode> {
    if !a.listen.ip().is_loopback() {
        if !a.insecure_http {
            anyhow::bail!(
                "refusing to serve plain HTTP on {}, which is not a loopback address: this hub has no \
                 TLS yet. Listen on 127.0.0.1 behind a TLS proxy, or pass --insecure-http on a network \
                 you trust",
                a.listen
            );
        }
        eprintln!(
            "warning: serving plain HTTP on {}: packet headers, kit ids and upload URLs travel in clear \
             text, and anyone on the path can watch or cut uploads. Packets stay encrypted and signed, \
             requests stay authenticated, receipts stay verifiable.",
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
        let info = {
            let data = data.to_path_buf();
            tokio::task::spawn_blocking(move || jemput::hub::Hub::open(&data).map(|h| h.info()))
                .await??
        };
        eprintln!(
            "hub {} listening on http://{} (hub key {}); Ctrl-C stops it",
            info.hub_id,
            listener.local_addr()?,
            info.hub_key
        );
        jemput::hub::serve_until(data, listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

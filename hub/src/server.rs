//! Running the hub: on a listener in the caller's runtime ([`serve`], [`serve_until`] for plain
//! HTTP, [`serve_tls_until`] for HTTPS with the hub's certificate), or on a loopback port in a
//! thread with its own runtime ([`spawn_local`], [`spawn_local_tls`], for the demo and tests).
//! Either way with the connection caps of the hub's config and a timer on every request head.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::connlimit::{ConnLimiter, LimitedListener};
use crate::tls::{HubCert, TlsListener};
use crate::{Hub, HubError};
use jemput_core::keys::PublicKey;

/// How long a stopping hub waits for requests in flight before it drops them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Routes served beside the hub's own on the same listener (the office console,
/// `jemput-console`), made from the opened hub. Their handlers find the connection's peer
/// address as `axum::extract::ConnectInfo<SocketAddr>` in the request's extensions.
pub type ExtraRoutes = Box<dyn FnOnce(Arc<Hub>) -> Result<axum::Router, HubError> + Send>;

/// Serves the hub in `data` on `listener` until an error.
pub async fn serve(data: &Path, listener: TcpListener) -> Result<(), HubError> {
    serve_until(data, listener, std::future::pending()).await
}

/// Serves the hub in `data` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish (for at most a few seconds).
pub async fn serve_until(
    data: &Path,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    serve_until_with(data, listener, None, shutdown).await
}

/// As [`serve_until`], with `extra` routes beside the hub's.
pub async fn serve_until_with(
    data: &Path,
    listener: TcpListener,
    extra: Option<ExtraRoutes>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let data = data.to_path_buf();
    let hub = tokio::task::spawn_blocking(move || open_checked(&data))
        .await
        .expect("opening the hub panicked")?;
    let limiter = ConnLimiter::for_config(hub.config());
    serve_hub(
        hub,
        LimitedListener::new(listener, limiter),
        extra,
        shutdown,
    )
    .await
}

/// Serves the hub in `data` over HTTPS with its certificate (created first, with the default
/// names, if the hub has none) on `listener` until `shutdown` resolves.
pub async fn serve_tls_until(
    data: &Path,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    serve_tls_until_with(data, listener, None, shutdown).await
}

/// As [`serve_tls_until`], with `extra` routes beside the hub's.
pub async fn serve_tls_until_with(
    data: &Path,
    listener: TcpListener,
    extra: Option<ExtraRoutes>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError> {
    let data = data.to_path_buf();
    let (hub, cert) = tokio::task::spawn_blocking(move || {
        let (hub, cert) = open_with_cert(&data)?;
        check_storage(&hub)?;
        Ok::<_, HubError>((hub, cert))
    })
    .await
    .expect("opening the hub panicked")?;
    let limiter = ConnLimiter::for_config(hub.config());
    let tls =
        TlsListener::new(listener, cert.server_config()?, limiter).map_err(HubError::Serve)?;
    serve_hub(hub, tls, extra, shutdown).await
}

/// Opens the hub and checks its storage ([`check_storage`]).
fn open_checked(data: &Path) -> Result<Hub, HubError> {
    let hub = Hub::open(data)?;
    check_storage(&hub)?;
    Ok(hub)
}

/// Checks before serving that the hub's storage can be used: credentials the object store refuses,
/// a missing bucket or no credentials at all stop the start with the reason. An object store that
/// does not answer now does not: the hub serves, and answers completions `503` until it does.
pub fn check_storage(hub: &Hub) -> Result<(), HubError> {
    match hub.storage().check() {
        Err(e @ HubError::ObjectStoreUnavailable { .. }) => {
            tracing::warn!("{e}");
            Ok(())
        }
        other => other,
    }
}

/// Loads the hub certificate, creating it with the default names if the hub has none (a hub made
/// before TLS), then opens the hub.
pub fn open_with_cert(data: &Path) -> Result<(Hub, HubCert), HubError> {
    crate::HubConfig::load(data)?;
    let cert = match HubCert::load(data) {
        Ok(c) => c,
        Err(HubError::NoCertificate { .. }) => {
            let fp = crate::tls::create_cert(data, &crate::tls::default_sans())?;
            tracing::warn!("created a TLS certificate for this hub (SHA-256 {fp})");
            HubCert::load(data)?
        }
        Err(e) => return Err(e),
    };
    Ok((Hub::open(data)?, cert))
}

async fn serve_hub<L>(
    hub: Hub,
    mut listener: L,
    extra: Option<ExtraRoutes>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), HubError>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let hub = Arc::new(hub);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut app = crate::http::router(hub.clone(), stop_rx.clone());
    if let Some(extra) = extra {
        app = app.merge(extra(hub.clone())?);
    }
    let mut grace_rx = stop_rx.clone();
    // Background work after the receipt path: opening packets, posting status events.
    tokio::spawn(crate::opener::run(
        hub.clone(),
        hub.wake_opener.clone(),
        stop_rx.clone(),
    ));
    tokio::spawn(crate::events::run_worker(
        hub.clone(),
        hub.wake_events.clone(),
        stop_rx.clone(),
    ));
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    // Each connection is served by hyper directly rather than through `axum::serve`, which sets
    // no timer: without one a client that stalls while sending its request head would hold its
    // connection (and a file descriptor) for ever. With the timer hyper closes a connection whose
    // head has not arrived within the hub's idle timeout (an idle kept-alive connection too, as
    // the timer runs while hyper waits for the next head). Bodies are paced by the router
    // (`http/body.rs`), and the listener caps how many connections are served at once
    // (`connlimit.rs`).
    let header_timeout = Duration::from_secs(hub.config().idle_timeout_secs.max(1));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = stop_rx;
    loop {
        tokio::select! {
            (io, addr) = listener.accept() => {
                // The peer's address, for the routes that want it (the console's sign-in limits).
                let app = tower_layer::Layer::layer(
                    &axum::Extension(axum::extract::ConnectInfo(addr)),
                    app.clone(),
                );
                let service = hyper_util::service::TowerToHyperService::new(app);
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(hyper_util::rt::TokioIo::new(io), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%addr, "connection ended: {e}");
                    }
                });
            }
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    drop(listener);
    let grace = async move {
        let _ = grace_rx.wait_for(|s| *s).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        () = graceful.shutdown() => {}
        () = grace => {
            tracing::warn!(
                "requests still in flight after {} s were cut; their kits resume from the recorded offset",
                SHUTDOWN_GRACE.as_secs()
            );
        }
    }
    // A PATCH cut here keeps the hub consistent: its append task records an offset only after
    // the bytes are synced, and the next PATCH truncates what lies past the recorded offset.
    let hub2 = hub.clone();
    match tokio::task::spawn_blocking(move || hub2.checkpoint()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!("closing the hub database: {e}"),
        Err(e) => tracing::warn!("closing the hub database: {e}"),
    }
    Ok(())
}

/// A hub running on a loopback port in a background thread; stopped on [`HubHandle::shutdown`]
/// or drop.
#[derive(Debug)]
pub struct HubHandle {
    /// Base URL, e.g. `http://127.0.0.1:40123` or `https://127.0.0.1:40123` (the protocol's
    /// paths start with `/v1/`).
    pub url: String,
    /// The SHA-256 of the certificate served, when serving HTTPS.
    pub cert_sha256: Option<String>,
    /// The bound address.
    pub addr: SocketAddr,
    /// The hub's id.
    pub hub_id: String,
    /// The hub's public key: receipts verify with it.
    pub hub_key: PublicKey,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), HubError>>>,
}

impl HubHandle {
    /// Stops the hub and waits for its thread; returns the server's error, if it failed.
    pub fn shutdown(mut self) -> Result<(), HubError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), HubError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(HubError::Serve(std::io::Error::other(
                "the hub thread panicked",
            ))),
            None => Ok(()),
        }
    }
}

impl Drop for HubHandle {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// Opens the hub in `data` and serves it over plain HTTP on `127.0.0.1:<free port>` from a new
/// thread with its own runtime. Errors opening the hub or binding come back here, not from the
/// thread.
pub fn spawn_local(data: &Path) -> Result<HubHandle, HubError> {
    spawn(off_runtime(|| Hub::open(data))?, None)
}

/// As [`spawn_local`], over HTTPS with the hub's certificate (created if the hub has none).
pub fn spawn_local_tls(data: &Path) -> Result<HubHandle, HubError> {
    let (hub, cert) = off_runtime(|| open_with_cert(data))?;
    spawn(hub, Some(cert))
}

/// Runs `f` where blocking is allowed: here, or on a thread of its own when called from a
/// thread that drives a tokio runtime (opening a hub on PostgreSQL connects with the blocking
/// client, which tokio forbids there).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| s.spawn(f).join().expect("opening the hub panicked"))
}

fn spawn(hub: Hub, cert: Option<HubCert>) -> Result<HubHandle, HubError> {
    let tls_config = cert.as_ref().map(|c| c.server_config()).transpose()?;
    let cert_sha256 = cert.as_ref().map(|c| c.fingerprint());
    let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(HubError::Serve)?;
    std_listener
        .set_nonblocking(true)
        .map_err(HubError::Serve)?;
    let addr = std_listener.local_addr().map_err(HubError::Serve)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("jemput-hub")
        .enable_all()
        .build()
        .map_err(HubError::Serve)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let hub_id = hub.config().hub_id.clone();
    let hub_key = hub.public_key();
    let thread = std::thread::Builder::new()
        .name("jemput-hub".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).map_err(HubError::Serve)?;
                let stop = async move {
                    let _ = stop_rx.await;
                };
                let limiter = ConnLimiter::for_config(hub.config());
                match tls_config {
                    Some(c) => {
                        let tls =
                            TlsListener::new(listener, c, limiter).map_err(HubError::Serve)?;
                        serve_hub(hub, tls, None, stop).await
                    }
                    None => {
                        serve_hub(hub, LimitedListener::new(listener, limiter), None, stop).await
                    }
                }
            })
        })
        .map_err(HubError::Serve)?;
    let scheme = if cert_sha256.is_some() {
        "https"
    } else {
        "http"
    };
    Ok(HubHandle {
        url: format!("{scheme}://{addr}"),
        cert_sha256,
        addr,
        hub_id,
        hub_key,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

//! jemput-station: the operator station, a local web UI over the field kit.
//!
//! `jemput ui` binds it on a loopback address, prints (and opens) its URL, and serves pages
//! rendered on the server from templates and assets embedded in the binary: no npm, no CDN,
//! nothing outside the station's own address.
//!
//! - [`security`]: the guard in front of every route (Host check, the URL token that becomes a
//!   session cookie, CSRF on every POST, `no-store`);
//! - [`lock`]: the draft identity, in memory only while unlocked, dropped after an idle time;
//! - [`i18n`]: every operator-facing string from Project Fluent, Bahasa Indonesia first;
//! - [`problems`]: an error that reaches the operator (a device unplugged, busy, …) in the
//!   operator's words;
//! - [`render`]: the templates; [`pages`]: the routes (unlock, home, new visit, consent, the
//!   capture steps, the slaps of an SBI slap scanner, the device panel, resume, review, seal,
//!   upload now) and what they show;
//!   [`devices`]: the devices behind the capture steps (the models with `--sim`, or the driver
//!   registry) and their live events; [`assets`]: the embedded CSS and the vendored htmx.
//!
//! What works now: unlock, the home page (worklist, visits in progress, queue and link, the
//! offline limits), locking, the language switch, starting a visit and its consent, the capture
//! steps (face, ten fingers, signature, document photos) with their exceptions and the device
//! panel, resuming a visit where it stopped, its review, sealing it and uploading the queue.

pub mod assets;
pub mod devices;
pub mod error;
pub mod i18n;
pub mod lock;
pub mod pages;
pub mod problems;
pub mod render;
pub mod security;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::StationError;
pub use lock::DEFAULT_LOCK_AFTER;

/// How `jemput ui` runs the station.
#[derive(Debug, Clone)]
pub struct Options {
    /// The kit home.
    pub home: PathBuf,
    /// Where to listen; must be a loopback address. Port 0 picks a free port.
    pub listen: SocketAddr,
    /// Idle time after which the station locks itself.
    pub lock_after: Duration,
    /// Set when the kit is a throw-away training kit (`jemput ui --sim` on a machine with none).
    pub training: Option<Training>,
}

/// A throw-away training kit, made for `jemput ui --sim`.
#[derive(Debug, Clone)]
pub struct Training {
    /// Its passphrase, shown on the unlock page (it protects nothing real).
    pub passphrase: String,
}

/// What the routes share.
#[derive(Debug)]
pub struct App {
    pub home: PathBuf,
    pub guard: security::Guard,
    pub lock: lock::KitLock,
    pub i18n: Arc<i18n::I18n>,
    pub pages: render::Pages,
    pub training: Option<Training>,
    /// The "upload now" under way, or the last one's results.
    pub uploads: pages::upload::Uploads,
    /// The devices behind the capture steps ([`devices::Devices::none`] unless
    /// [`Station::with_devices`] gives some).
    pub devices: devices::Devices,
}

/// A station bound to its address, ready to serve.
#[derive(Debug)]
pub struct Station {
    listener: std::net::TcpListener,
    app: Arc<App>,
}

/// Refuses an address that is not loopback: the station shows residents' data and must never be
/// reachable from the network.
pub fn check_listen(listen: SocketAddr) -> Result<(), StationError> {
    if listen.ip().is_loopback() {
        Ok(())
    } else {
        Err(StationError::NotLoopback(listen))
    }
}

impl Station {
    /// Checks the options (loopback only, a kit at `home`), loads the messages and templates,
    /// and binds the address.
    pub fn bind(opts: Options) -> Result<Station, StationError> {
        check_listen(opts.listen)?;
        if opts.lock_after.is_zero() {
            return Err(StationError::NoLockTime);
        }
        // Refuse at once when there is no kit, rather than on the first page.
        jemput_kit::home::KitHome::open(&opts.home)?;
        let i18n = Arc::new(i18n::load()?);
        let pages = render::pages(i18n.clone())?;
        let listener =
            std::net::TcpListener::bind(opts.listen).map_err(|source| StationError::Bind {
                addr: opts.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StationError::Bind {
            addr: opts.listen,
            source,
        })?;
        Ok(Station {
            listener,
            app: Arc::new(App {
                home: opts.home,
                guard: security::Guard::new(addr.to_string()),
                lock: lock::KitLock::new(opts.lock_after),
                i18n,
                pages,
                training: opts.training,
                uploads: Default::default(),
                devices: devices::Devices::none(),
            }),
        })
    }

    /// The station with `devices` behind its capture steps (before it serves).
    pub fn with_devices(mut self, devices: devices::Devices) -> Station {
        match Arc::get_mut(&mut self.app) {
            Some(app) => app.devices = devices,
            None => unreachable!("the app is shared only once the station serves"),
        }
        self
    }

    /// The URL to open: the station's address with its session token.
    pub fn url(&self) -> String {
        self.app.guard.url()
    }

    /// Serves until `shutdown` completes; the draft identity is dropped when this returns.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StationError> {
        let io = |source| StationError::Serve { source };
        self.listener.set_nonblocking(true).map_err(io)?;
        let listener = tokio::net::TcpListener::from_std(self.listener).map_err(io)?;
        let app = self.app.clone();
        // The idle rule runs on a timer too, so the key leaves memory while nobody is there.
        let period =
            (app.lock.idle() / 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
        let ticker = {
            let app = app.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(period);
                loop {
                    every.tick().await;
                    app.lock.tick(Instant::now());
                    if app.lock.locked(Instant::now()).is_some() {
                        // Locked: the devices close, and the attempt images go with the key.
                        app.devices.release();
                    }
                }
            })
        };
        // Stopping ends the event streams too, or the open ones would hold the server.
        let stopping = {
            let app = app.clone();
            async move {
                shutdown.await;
                app.devices.close();
            }
        };
        let served = axum::serve(listener, pages::router(app.clone()))
            .with_graceful_shutdown(stopping)
            .await;
        ticker.abort();
        app.lock.lock();
        app.devices.release();
        served.map_err(io)
    }
}

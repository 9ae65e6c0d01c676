//! "Unggah sekarang": drains the kit's queue to its hub once, through the kit's own uploader (as
//! `jemput upload` does), on a thread of its own; the page follows it by polling a fragment
//! (htmx, every second) and shows each packet's result — the hub's receipt, a refusal, or "will
//! be tried again" — in the operator's language. With no hub set or no link, the packets stay in
//! the queue and the page says so.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use jemput_kit::home::KitHome;
use jemput_kit::upload::{self, Outcome, Progress, UploadOptions, UploadReport, Uploader};
use serde::Serialize;

use super::view::human_bytes;
use super::{Base, Ctx};
use crate::i18n::Lang;
use crate::security::Session;
use crate::App;

/// Attempts per packet in one "upload now" (the waits between them grow to 30 s).
const ATTEMPTS: u32 = 3;

/// Message ids the code builds.
pub const MESSAGE_IDS: &[&str] = &[
    "upload-acknowledged",
    "upload-no-receipt",
    "upload-too-large",
    "upload-quarantined",
    "upload-refused",
    "upload-retry",
    "upload-not-attempted",
    "upload-no-hub",
    "upload-stopped",
    "upload-failed",
];

#[derive(Debug, Default)]
struct Job {
    running: bool,
    /// The packet being sent, its size, and the bytes the hub confirmed.
    current: Option<(String, u64, u64)>,
    /// The last drain's report, or why it could not run.
    last: Option<Result<UploadReport, String>>,
}

/// The station's one upload at a time.
#[derive(Debug, Default)]
pub struct Uploads {
    job: Mutex<Job>,
}

impl Uploads {
    fn job(&self) -> std::sync::MutexGuard<'_, Job> {
        self.job.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Progress from the drain into the shared job.
struct Track(Arc<App>);

impl Progress for Track {
    fn start(&self, packet_id: &str, size: u64, offset: u64) {
        self.0.uploads.job().current = Some((packet_id.to_string(), size, offset));
    }
    fn advance(&self, _: &str, offset: u64) {
        if let Some(c) = &mut self.0.uploads.job().current {
            c.2 = offset;
        }
    }
    fn finish(&self, _: &str, _: Outcome) {}
}

/// Why no upload can start.
#[derive(Debug)]
pub enum NotStarted {
    /// The kit has no hub to send to (never enrolled).
    NoHub,
    Kit(String),
}

fn drain(app: &Arc<App>, home: &KitHome, url: &str) -> Result<UploadReport, String> {
    let endpoint = upload::parse_endpoint(url).map_err(|e| e.to_string())?;
    let (mut store, _) = jemput_kit::seal::open_store(home).map_err(|e| e.to_string())?;
    let mut uploader = Uploader::new(
        endpoint,
        &home.config.kit_id,
        home.kit_key().map_err(|e| e.to_string())?,
        home.config.hub_key,
        UploadOptions {
            retention_hours: home.config.retention_hours,
            max_attempts: ATTEMPTS,
            ..UploadOptions::default()
        },
    );
    // The endpoint is always the enrolled hub: its pinned certificate applies.
    if let Some(pin) = &home.config.hub_cert_sha256 {
        let pin: jemput_core::wire::pin::CertPin = pin.parse().map_err(|e| format!("{e}"))?;
        uploader = uploader.pin_certificate(&pin);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime
        .block_on(uploader.drain(&mut store, &Track(app.clone())))
        .map_err(|e| e.to_string())
}

/// Starts draining the queue to the kit's hub, unless a drain is already running.
pub fn start(app: &Arc<App>) -> Result<(), NotStarted> {
    let home = KitHome::open(&app.home).map_err(|e| NotStarted::Kit(e.to_string()))?;
    let Some(url) = home.config.hub_url.clone() else {
        return Err(NotStarted::NoHub);
    };
    {
        let mut job = app.uploads.job();
        if job.running {
            return Ok(());
        }
        job.running = true;
        job.current = None;
        job.last = None;
    }
    let app = app.clone();
    std::thread::spawn(move || {
        let result = drain(&app, &home, &url);
        let mut job = app.uploads.job();
        job.running = false;
        job.current = None;
        job.last = Some(result);
    });
    Ok(())
}

#[derive(Debug, Serialize)]
struct Row {
    packet_id: String,
    size: String,
    ok: bool,
    text: String,
}

#[derive(Debug, Serialize)]
struct StatusView {
    running: bool,
    /// The packet being sent: id, and percent confirmed.
    current: Option<(String, u64)>,
    rows: Vec<Row>,
    /// Why the drain stopped early or could not run, in words for the operator.
    stopped: Option<String>,
    /// Nothing was waiting.
    nothing: bool,
    done: bool,
}

fn status_view(app: &App, lang: Lang) -> StatusView {
    let job = app.uploads.job();
    let t = |id: &str, args: &[(&str, String)]| {
        let mut a = fluent_bundle::FluentArgs::new();
        for (k, v) in args {
            a.set(k.to_string(), v.clone());
        }
        app.i18n.text(lang, id, Some(&a))
    };
    // The kit's and the hub's reasons are English: after the operator's words, said to be for
    // the technician (as a device problem's are).
    let with_detail = |text: String, why: &str| {
        if why.trim().is_empty() {
            text
        } else {
            let detail = t("device-problem-detail", &[("detail", why.to_string())]);
            format!("{text} {detail}")
        }
    };
    let mut view = StatusView {
        running: job.running,
        current: job
            .current
            .as_ref()
            .map(|(id, size, at)| (id.clone(), at * 100 / (*size).max(1))),
        rows: Vec::new(),
        stopped: None,
        nothing: false,
        done: !job.running && job.last.is_some(),
    };
    match &job.last {
        None => {}
        Some(Err(why)) => view.stopped = Some(with_detail(t("upload-failed", &[]), why)),
        Some(Ok(report)) => {
            view.nothing = report.packets.is_empty() && report.stopped.is_none();
            view.stopped = report
                .stopped
                .as_ref()
                .map(|why| with_detail(t("upload-stopped", &[]), why));
            view.rows = report
                .packets
                .iter()
                .map(|p| {
                    let why = p.error.clone().unwrap_or_default();
                    let text = match p.outcome {
                        Outcome::Acknowledged => t(
                            "upload-acknowledged",
                            &[("hub", p.hub_id.clone().unwrap_or_default())],
                        ),
                        Outcome::UploadedNoReceipt => t("upload-no-receipt", &[]),
                        Outcome::TooLarge => t("upload-too-large", &[]),
                        Outcome::Quarantined => with_detail(t("upload-quarantined", &[]), &why),
                        Outcome::Refused => with_detail(t("upload-refused", &[]), &why),
                        Outcome::Failed | Outcome::Interrupted => {
                            with_detail(t("upload-retry", &[]), &why)
                        }
                        Outcome::NotAttempted => t("upload-not-attempted", &[]),
                    };
                    Row {
                        packet_id: p.packet_id.clone(),
                        size: human_bytes(p.size),
                        ok: p.outcome == Outcome::Acknowledged,
                        text,
                    }
                })
                .collect();
        }
    }
    view
}

#[derive(Debug, Serialize)]
struct StatusCtx {
    lang: &'static str,
    #[serde(flatten)]
    view: StatusView,
}

#[derive(Debug, Serialize)]
struct PageView {
    no_hub: bool,
    #[serde(flatten)]
    view: StatusView,
}

fn upload_page(app: &App, session: &Session, status: StatusCode, no_hub: bool) -> Response {
    app.pages.page(
        status,
        "upload.html",
        &Ctx {
            base: Base::new(app, session, "/home"),
            page: PageView {
                no_hub,
                view: status_view(app, session.lang),
            },
        },
    )
}

/// `POST /upload` ("Unggah sekarang"): starts the drain, then shows it.
pub async fn submit(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    match start(&app) {
        Ok(()) => Redirect::to("/upload").into_response(),
        Err(NotStarted::NoHub) => upload_page(&app, &session, StatusCode::CONFLICT, true),
        Err(NotStarted::Kit(why)) => {
            app.uploads.job().last = Some(Err(why));
            upload_page(&app, &session, StatusCode::INTERNAL_SERVER_ERROR, false)
        }
    }
}

/// `GET /upload`: the upload under way, or the last one's results.
pub async fn page(State(app): State<Arc<App>>, Extension(session): Extension<Session>) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    upload_page(&app, &session, StatusCode::OK, false)
}

/// `GET /upload/status`: the fragment the page polls while the drain runs.
pub async fn status(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return (StatusCode::FORBIDDEN, "locked").into_response();
    }
    app.pages.page(
        StatusCode::OK,
        "upload_status.html",
        &StatusCtx {
            lang: session.lang.code(),
            view: status_view(&app, session.lang),
        },
    )
}

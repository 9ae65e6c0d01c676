//! jemput's own SBI device service (`jemput sbi serve`): MOSIPDISC, MOSIPDINFO, RCAPTURE and the
//! STREAM preview on 127.0.0.1, certification level L0, every capture signed with the device key.
//! The devices behind it are [`Backend`]s: the simulated slap scanner and camera (`sim`), and the
//! binary's adapters over jemput's own drivers (`src/cli/sbi_drivers.rs`: single-finger scanners
//! and cameras).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tokio::sync::Mutex;

use jemput_drivers::CaptureControl;
use jemput_sbi::chain;
use jemput_sbi::proto::{
    self, BiometricData, CaptureRequest, CaptureResponse, CapturedBiometric, DeviceInfo,
    DeviceInfoEntry, DigitalId, DiscoverRequest, DiscoveredDevice, SbiStatus, StreamRequest,
    SPEC_VERSION,
};
use jemput_sbi::SbiError;

use crate::sign::Signer;

/// The version of this device service (`serviceVersion`, `deviceServiceVersion`, and the
/// firmware of an L0 device, which the specification says is the same).
pub const SERVICE_VERSION: &str = concat!("jemput-", env!("CARGO_PKG_VERSION"));
/// The environment jemput's service declares itself for.
pub use jemput_sbi::proto::ENV;

/// One capture a backend made: the ISO record and the device's quality score (0–100).
#[derive(Debug, Clone)]
pub struct Captured {
    /// `bioSubType` (a finger name, or "UNKNOWN" from a single-finger scanner asked for no
    /// particular finger), `None` for a face.
    pub sub_type: Option<String>,
    pub record: Vec<u8>,
    pub quality: f32,
}

/// Why a backend could not capture: an SBI error code (101, 102, 109, 5xx …).
#[derive(Debug, Clone)]
pub struct CaptureFailure {
    pub code: u16,
    pub info: String,
}

/// The `bioSubType` of a finger a single-finger scanner was asked for without naming it, and the
/// finger position a backend is given for it (ISO/IEC 19794-4's "unknown finger", code 0).
pub const UNKNOWN_FINGER: &str = proto::UNKNOWN_FINGER;

/// The capture timeout when a request's `timeout` is missing or not a number of milliseconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest capture a request may ask for (its `timeout` is cut to this).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// The capture timeout a request asks for (`timeout`, milliseconds), within 1 s ..= [`MAX_TIMEOUT`].
pub fn request_timeout(req: &CaptureRequest) -> Duration {
    timeout_of(&req.timeout, DEFAULT_TIMEOUT, MAX_TIMEOUT)
}

/// A request's `timeout` (milliseconds, as text), `default` when it is missing or not a number,
/// within 1 s ..= `max`.
fn timeout_of(millis: &str, default: Duration, max: Duration) -> Duration {
    millis
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_millis)
        .unwrap_or(default)
        .clamp(Duration::from_secs(1), max)
}

/// The interval between preview frames: five a second, above the specification's minimum of three
/// ("Device Stream": a live video stream of 3 frames per second or more).
pub const PREVIEW_INTERVAL: Duration = Duration::from_millis(200);
/// How long a `STREAM` lasts when its request names no `timeout` (the specification's default,
/// five minutes), and the longest one served: a client that wants more asks again.
pub const STREAM_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a preview backend may wait for one frame of its device.
pub const FRAME_WAIT: Duration = Duration::from_secs(5);
/// How long a capture (or a new `STREAM`) waits for the device's running preview to let go of it
/// before answering "busy".
const PREVIEW_STOP_WAIT: Duration = Duration::from_secs(3);
/// The error a device that gives no preview answers `STREAM` with: a device provider's own code
/// (the specification leaves 5xx to the vendor; its table has none for this).
pub const NO_PREVIEW: u16 = 501;

/// [`NO_PREVIEW`], saying why.
pub fn no_preview(why: &str) -> CaptureFailure {
    CaptureFailure {
        code: NO_PREVIEW,
        info: format!("This device gives no preview (STREAM): {why}"),
    }
}

/// How long a `STREAM` request asks for (`timeout`, milliseconds), within 1 s ..= [`STREAM_TIMEOUT`].
pub fn stream_timeout(req: &StreamRequest) -> Duration {
    timeout_of(&req.timeout, STREAM_TIMEOUT, STREAM_TIMEOUT)
}

/// When each preview frame is due: one every `interval` from the first, and after a frame that
/// came late the next one is due at once rather than a burst catching up.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    due: Option<Instant>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Self {
        Pacer {
            interval,
            due: None,
        }
    }

    /// A frame went out at `now`: when the next one is due.
    pub fn sent(&mut self, now: Instant) -> Instant {
        let next = match self.due {
            Some(due) => (due + self.interval).max(now),
            None => now + self.interval,
        };
        self.due = Some(next);
        next
    }
}

/// The finger a single-finger scanner is asked for: `count` must be 1 and `bioSubType` name at
/// most one finger ("UNKNOWN" or none: position 0), which must not be an exception. `None`: the
/// request asks for something a single-finger scanner cannot give (error 109).
pub fn single_finger(bio: &proto::BioRequest) -> Option<u8> {
    if bio.count.trim().parse::<u32>().ok()? != 1 {
        return None;
    }
    let position = match bio.bio_sub_type.as_slice() {
        [] => 0,
        [name] if name == UNKNOWN_FINGER => 0,
        [name] => proto::finger_position(name)?,
        _ => return None,
    };
    let name = proto::finger_name(position).unwrap_or(UNKNOWN_FINGER);
    (!bio.exception.iter().any(|e| e == name)).then_some(position)
}

/// A device behind the service.
pub trait Backend: Send + Sync {
    /// "Finger" or "Face".
    fn bio_type(&self) -> &'static str;
    /// "Slap", "Single", "Full face". A "Single" finger device takes `deviceSubId` 0 and one
    /// finger per capture ([`single_finger`]).
    fn device_sub_type(&self) -> &'static str;
    fn make(&self) -> String;
    fn model(&self) -> String;
    fn serial(&self) -> String;
    /// The `deviceSubId`s it takes.
    fn sub_ids(&self) -> Vec<u8>;
    /// Captures what `bio` asks for (fingers already filtered of exceptions by the caller; for a
    /// single-finger device the one finger asked for, 0 when unknown) within `control`'s timeout
    /// (the request's); its cancel flag is raised when the client goes away before the answer.
    /// Runs on a blocking thread of its own (`spawn_blocking`), never on the service's runtime
    /// threads.
    fn capture(
        &self,
        sub_id: u8,
        fingers: &[u8],
        exceptions: &[String],
        control: &CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure>;

    /// The live preview of `sub_id` (`STREAM`): calls `each` with one JPEG frame after another
    /// until it returns `false` or `control`'s cancel flag is raised; `control.timeout` bounds
    /// the wait for one frame. `each` returns when the next frame is due ([`PREVIEW_INTERVAL`]),
    /// so a backend that makes its frames makes the next one then; one whose camera runs at its
    /// own rate lets the frames of `interval` pass. Runs on a blocking thread of its own. A device
    /// without a preview answers [`no_preview`] (the default).
    fn preview(
        &self,
        sub_id: u8,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure> {
        let _ = (sub_id, interval, control, each);
        Err(no_preview("it has no live image"))
    }
}

/// A backend that is another one with its captures changed (a test aid's poor fingers): it is the
/// device [`Wraps::inner`] is — its identity, sub-devices and preview — and writes only
/// [`Wraps::capture`].
pub trait Wraps: Send + Sync {
    type Inner: Backend;
    fn inner(&self) -> &Self::Inner;
    /// As [`Backend::capture`].
    fn capture(
        &self,
        sub_id: u8,
        fingers: &[u8],
        exceptions: &[String],
        control: &CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure>;
}

impl<W: Wraps> Backend for W {
    fn bio_type(&self) -> &'static str {
        self.inner().bio_type()
    }
    fn device_sub_type(&self) -> &'static str {
        self.inner().device_sub_type()
    }
    fn make(&self) -> String {
        self.inner().make()
    }
    fn model(&self) -> String {
        self.inner().model()
    }
    fn serial(&self) -> String {
        self.inner().serial()
    }
    fn sub_ids(&self) -> Vec<u8> {
        self.inner().sub_ids()
    }
    fn capture(
        &self,
        sub_id: u8,
        fingers: &[u8],
        exceptions: &[String],
        control: &CaptureControl,
    ) -> Result<Vec<Captured>, CaptureFailure> {
        Wraps::capture(self, sub_id, fingers, exceptions, control)
    }
    fn preview(
        &self,
        sub_id: u8,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Vec<u8>) -> bool,
    ) -> Result<(), CaptureFailure> {
        self.inner().preview(sub_id, interval, control, each)
    }
}

/// Misbehaviours a test service can be told to show (never used by `jemput sbi serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// The second biometric's hash is of the wrong record.
    BrokenChain,
    /// One finger fewer than asked, without an error.
    FewerFingers,
    /// Timestamps ten minutes old.
    Stale,
    /// Another transaction id in the data.
    OtherTransaction,
    /// `data` sent unsigned (base64url payload only).
    Unsigned,
    /// The signature's last byte flipped.
    BadSignature,
}

struct Device {
    id: String,
    backend: Box<dyn Backend>,
    /// Held by the capture running (the device is "Busy").
    busy: Mutex<()>,
    /// The stop flag of the preview running, if one is: a capture or a new `STREAM` raises it
    /// and waits for the preview to let go of the device.
    preview: std::sync::Mutex<Option<Arc<AtomicBool>>>,
}

/// The running service's state.
pub struct Service {
    port: u16,
    signer: Signer,
    devices: Vec<Device>,
    provider: String,
    fault: Fault,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("port", &self.port)
            .field("devices", &self.devices.len())
            .finish_non_exhaustive()
    }
}

impl Service {
    /// A service on `port` with `backends` as devices 1, 2, … signing with `signer`.
    pub fn new(port: u16, signer: Signer, provider: &str, backends: Vec<Box<dyn Backend>>) -> Self {
        Service {
            port,
            signer,
            provider: provider.to_string(),
            fault: Fault::None,
            devices: backends
                .into_iter()
                .enumerate()
                .map(|(i, backend)| Device {
                    id: (i + 1).to_string(),
                    backend,
                    busy: Mutex::new(()),
                    preview: std::sync::Mutex::new(None),
                })
                .collect(),
        }
    }

    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    fn callback(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn digital_id(&self, d: &Device) -> DigitalId {
        DigitalId {
            serial_no: d.backend.serial(),
            make: d.backend.make(),
            model: d.backend.model(),
            kind: d.backend.bio_type().into(),
            device_sub_type: d.backend.device_sub_type().into(),
            device_provider: self.provider.clone(),
            device_provider_id: self.provider.to_lowercase().replace(' ', "-"),
            date_time: proto::now_string(),
        }
    }

    fn signed_digital_id(&self, d: &Device) -> Result<String, SbiError> {
        let json = serde_json::to_vec(&self.digital_id(d)).expect("serialises");
        self.signer.sign(&json)
    }

    fn discover(&self, kind: &str) -> Vec<DiscoveredDevice> {
        self.devices
            .iter()
            .filter(|d| kind == "Biometric Device" || kind == d.backend.bio_type())
            .map(|d| DiscoveredDevice {
                device_id: d.id.clone(),
                device_status: status(d).into(),
                certification: "L0".into(),
                service_version: SERVICE_VERSION.into(),
                device_sub_id: d.backend.sub_ids().iter().map(u8::to_string).collect(),
                callback_id: self.callback(),
                digital_id: URL_SAFE_NO_PAD
                    .encode(serde_json::to_vec(&self.digital_id(d)).expect("serialises")),
                device_code: d.backend.serial(),
                spec_version: vec![SPEC_VERSION.into()],
                purpose: "Registration".into(),
                error: SbiStatus::success(),
            })
            .collect()
    }

    fn info(&self) -> Result<Vec<DeviceInfoEntry>, SbiError> {
        self.devices
            .iter()
            .map(|d| {
                let info = DeviceInfo {
                    device_status: status(d).into(),
                    device_id: d.id.clone(),
                    firmware: SERVICE_VERSION.into(),
                    certification: "L0".into(),
                    service_version: SERVICE_VERSION.into(),
                    device_sub_id: d.backend.sub_ids().iter().map(u8::to_string).collect(),
                    callback_id: self.callback(),
                    digital_id: self.signed_digital_id(d)?,
                    device_code: d.backend.serial(),
                    env: ENV.into(),
                    purpose: "Registration".into(),
                    spec_version: vec![SPEC_VERSION.into()],
                };
                Ok(DeviceInfoEntry {
                    device_info: self
                        .signer
                        .sign(&serde_json::to_vec(&info).expect("serialises"))?,
                    error: SbiStatus::success(),
                })
            })
            .collect()
    }

    async fn capture(self: &Arc<Self>, req: CaptureRequest) -> CaptureResponse {
        let fail = |code: u16| CaptureResponse {
            biometrics: vec![CapturedBiometric {
                spec_version: Some(SPEC_VERSION.into()),
                data: None,
                hash: None,
                error: SbiStatus::code(code),
            }],
        };
        let tx_ok = !req.transaction_id.is_empty()
            && req
                .transaction_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !tx_ok {
            return fail(112);
        }
        let [bio] = req.bio.as_slice() else {
            return fail(109);
        };
        let Some(dev) = self.devices.iter().find(|d| d.id == bio.device_id) else {
            return fail(106);
        };
        if bio.kind != dev.backend.bio_type() {
            return fail(106);
        }
        let Ok(sub_id) = bio.device_sub_id.parse::<u8>() else {
            return fail(109);
        };
        if !dev.backend.sub_ids().contains(&sub_id) {
            return fail(109);
        }
        let Ok(_guard) = dev.busy.try_lock() else {
            return fail(111);
        };
        // The specification: once a registration capture is asked, no more frames go to the
        // stream. The device's preview ends, and lets go of the device, before the capture.
        if !end_preview(dev).await {
            return fail(111);
        }
        let single = bio.kind == "Finger" && dev.backend.device_sub_type() == "Single";
        let fingers: Vec<u8> = if single {
            match single_finger(bio) {
                Some(f) => vec![f],
                None => return fail(109),
            }
        } else if bio.kind == "Finger" {
            let Some(all) = proto::slap_fingers(sub_id).or(match sub_id {
                0 => Some(&[][..]),
                _ => None,
            }) else {
                return fail(109);
            };
            all.iter()
                .copied()
                .filter(|f| {
                    let name = proto::finger_name(*f).unwrap_or_default();
                    (bio.bio_sub_type.is_empty()
                        || bio.bio_sub_type.iter().any(|s| s == name || s == "UNKNOWN"))
                        && !bio.exception.iter().any(|e| e == name)
                })
                .collect()
        } else {
            Vec::new()
        };
        let count: usize = bio.count.parse().unwrap_or(usize::MAX);
        if bio.kind == "Finger" && count > fingers.len() {
            return fail(109);
        }
        let this = Arc::clone(self);
        let exceptions = bio.exception.clone();
        let id = dev.id.clone();
        // A client that goes away drops this future: the guard raises the cancel flag, so the
        // device stops waiting (and is free for the next capture) rather than run to its timeout.
        let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
        let control = CaptureControl {
            timeout: request_timeout(&req),
            cancel: Arc::clone(&cancel.0),
        };
        let captured = tokio::task::spawn_blocking(move || {
            let dev = this
                .devices
                .iter()
                .find(|d| d.id == id)
                .expect("found above");
            dev.backend.capture(sub_id, &fingers, &exceptions, &control)
        })
        .await;
        let captured = match captured {
            Ok(Ok(c)) => c,
            Ok(Err(f)) => {
                let mut r = fail(f.code);
                r.biometrics[0].error.error_info = f.info;
                return r;
            }
            Err(_) => return fail(102),
        };
        match self.sign_captures(dev, &req, bio, captured) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("signing a capture failed: {e}");
                fail(102)
            }
        }
    }

    fn sign_captures(
        &self,
        dev: &Device,
        req: &CaptureRequest,
        bio: &proto::BioRequest,
        mut captured: Vec<Captured>,
    ) -> Result<CaptureResponse, SbiError> {
        let digital_id = self.signed_digital_id(dev)?;
        let mut previous = bio.previous_hash.clone();
        if self.fault == Fault::FewerFingers && captured.len() > 1 {
            captured.pop();
        }
        let mut out = Vec::new();
        for (i, c) in captured.iter().enumerate() {
            let mut hash = chain::next_hash(&previous, &c.record).ok_or_else(|| {
                SbiError::Garbage(format!("previousHash {previous:?} is not hex"))
            })?;
            previous = hash.clone();
            if self.fault == Fault::BrokenChain && i == 1 {
                hash = chain::next_hash("", b"another record").expect("hex");
            }
            let timestamp = if self.fault == Fault::Stale {
                jiff::Timestamp::now()
                    .checked_sub(jiff::SignedDuration::from_secs(600))
                    .expect("in range")
                    .strftime("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            } else {
                proto::now_string()
            };
            let data = BiometricData {
                digital_id: digital_id.clone(),
                bio_type: dev.backend.bio_type().into(),
                bio_sub_type: c.sub_type.clone(),
                device_code: dev.backend.serial(),
                device_service_version: SERVICE_VERSION.into(),
                purpose: req.purpose.clone(),
                env: req.env.clone(),
                bio_value: URL_SAFE_NO_PAD.encode(&c.record),
                transaction_id: if self.fault == Fault::OtherTransaction {
                    format!("{}-0", req.transaction_id)
                } else {
                    req.transaction_id.clone()
                },
                timestamp,
                requested_score: bio.requested_score.clone(),
                quality_score: format!("{:.0}", c.quality.clamp(0.0, 100.0)),
            };
            let json = serde_json::to_vec(&data).expect("serialises");
            let mut data = self.signer.sign(&json)?;
            match self.fault {
                Fault::Unsigned => data = URL_SAFE_NO_PAD.encode(&json),
                Fault::BadSignature => {
                    // The signature's first character: all six of its bits are signature bits,
                    // so the text stays canonical base64url (the last character carries padding
                    // bits that a strict decoder refuses before it checks anything).
                    let at = data.rfind('.').expect("a compact JWS") + 1;
                    let first = if data[at..].starts_with('A') {
                        "B"
                    } else {
                        "A"
                    };
                    data.replace_range(at..at + 1, first);
                }
                _ => {}
            }
            out.push(CapturedBiometric {
                spec_version: Some(SPEC_VERSION.into()),
                data: Some(data),
                hash: Some(hash),
                error: SbiStatus::success(),
            });
        }
        Ok(CaptureResponse { biometrics: out })
    }
}

impl Service {
    /// `STREAM`: the device's live preview as M-JPEG (`multipart/x-mixed-replace`, one JPEG per
    /// part, [`PREVIEW_INTERVAL`] apart) until the request's timeout, the client hanging up, a
    /// capture of the device or a new `STREAM` of it; or, before any frame, an SBI error as JSON.
    /// Frames are not signed: the specification signs captures, not previews.
    async fn stream(self: &Arc<Self>, req: StreamRequest) -> Response {
        let port = self.port;
        let fail = |f: CaptureFailure| json_response(port, StatusCode::OK, error_body_info(f));
        let code = |c: u16| {
            fail(CaptureFailure {
                code: c,
                info: proto::error_text(c).into(),
            })
        };
        let found = self.devices.iter().position(|d| {
            if req.device_id.is_empty() {
                !req.serial_no.is_empty() && d.backend.serial() == req.serial_no
            } else {
                d.id == req.device_id
            }
        });
        let Some(index) = found else {
            return code(106);
        };
        let dev = &self.devices[index];
        let sub_id = match req.device_sub_id.trim().parse::<u8>() {
            Ok(s) if dev.backend.sub_ids().contains(&s) => s,
            _ => return code(109),
        };
        // A capture running holds the device: its status is "Busy", and so is the answer.
        if dev.busy.try_lock().is_err() {
            return code(111);
        }
        // One preview per device: a new STREAM ends the one running (a client that opens the
        // preview again, or one whose hang-up the service has not seen yet).
        if !end_preview(dev).await {
            return code(111);
        }
        let stop = Arc::new(AtomicBool::new(false));
        {
            let mut slot = lock(&dev.preview);
            if slot.is_some() {
                return code(111);
            }
            *slot = Some(Arc::clone(&stop));
        }
        let length = stream_timeout(&req);
        tracing::info!(
            device_id = %dev.id,
            device_sub_id = sub_id,
            timeout_ms = length.as_millis() as u64,
            "STREAM"
        );
        // The client going away drops this future or, later, the answer's body: either raises the
        // stop flag, so the preview lets go of the device at once.
        let guard = CancelOnDrop(Arc::clone(&stop));
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let dev = &this.devices[index];
            let (frames, why) = run_preview(dev.backend.as_ref(), sub_id, length, &stop, &tx);
            tracing::info!(device_id = %dev.id, device_sub_id = sub_id, frames, why, "STREAM ended");
            let mut slot = lock(&dev.preview);
            if slot.as_ref().is_some_and(|f| Arc::ptr_eq(f, &stop)) {
                *slot = None;
            }
        });
        let first = match rx.recv().await {
            Some(Ok(frame)) => frame,
            Some(Err(f)) => return fail(f),
            None => {
                return fail(CaptureFailure {
                    code: 102,
                    info: format!(
                        "{}: the preview ended before its first frame",
                        proto::error_text(102)
                    ),
                })
            }
        };
        let boundary = format!("jemput-frame-{:016x}", rand::random::<u64>());
        let body = Frames {
            first: Some(first),
            rx,
            boundary: boundary.clone(),
            done: false,
            _stop: guard,
        };
        let mut r = (StatusCode::OK, axum::body::Body::from_stream(body)).into_response();
        let h = r.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{}; boundary={boundary}",
            proto::STREAM_CONTENT_TYPE
        )) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Ok(v) = HeaderValue::from_str(&format!("http://127.0.0.1:{port}")) {
            h.insert(header::LOCATION, v);
        }
        r
    }
}

/// Runs `backend`'s preview of `sub_id` for `length` on this (blocking) thread, each frame sent
/// to `tx` at [`PREVIEW_INTERVAL`] (one the client has not taken yet is dropped, never queued),
/// until `length` passed, `stop` is raised or the receiver is gone. A failure of the device is sent
/// too. Returns the frames sent and why the preview ended.
fn run_preview(
    backend: &dyn Backend,
    sub_id: u8,
    length: Duration,
    stop: &Arc<AtomicBool>,
    tx: &tokio::sync::mpsc::Sender<Result<Vec<u8>, CaptureFailure>>,
) -> (u64, &'static str) {
    use tokio::sync::mpsc::error::TrySendError;
    let deadline = Instant::now() + length;
    let control = CaptureControl {
        timeout: FRAME_WAIT,
        cancel: Arc::clone(stop),
    };
    let mut pacer = Pacer::new(PREVIEW_INTERVAL);
    let (mut sent, mut why) = (0u64, "timeout");
    let result = backend.preview(sub_id, PREVIEW_INTERVAL, &control, &mut |jpeg| {
        match tx.try_send(Ok(jpeg)) {
            Ok(()) => sent += 1,
            // The client reads slower than the frames come: this one is left out.
            Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Closed(_)) => {
                why = "client gone";
                return false;
            }
        }
        let due = pacer.sent(Instant::now()).min(deadline);
        while Instant::now() < due && !stop.load(Ordering::SeqCst) && !tx.is_closed() {
            std::thread::sleep(
                due.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(20)),
            );
        }
        if tx.is_closed() {
            why = "client gone";
            false
        } else if stop.load(Ordering::SeqCst) {
            why = "ended for a capture or another STREAM";
            false
        } else if Instant::now() >= deadline {
            why = "timeout";
            false
        } else {
            true
        }
    });
    if let Err(f) = result {
        if tx.is_closed() {
            why = "client gone";
        } else if stop.load(Ordering::SeqCst) {
            why = "ended for a capture or another STREAM";
        } else {
            if f.code == NO_PREVIEW {
                tracing::info!(info = %f.info, "no preview");
            } else {
                tracing::warn!(code = f.code, info = %f.info, "the preview failed");
            }
            why = "device error";
            let _ = tx.try_send(Err(f));
        }
    }
    (sent, why)
}

/// Ends the device's preview, if one runs, and waits for it to let go of the device; `false`
/// when it did not within [`PREVIEW_STOP_WAIT`].
async fn end_preview(dev: &Device) -> bool {
    let Some(stop) = lock(&dev.preview).clone() else {
        return true;
    };
    stop.store(true, Ordering::SeqCst);
    let begun = Instant::now();
    while begun.elapsed() < PREVIEW_STOP_WAIT {
        let running = lock(&dev.preview)
            .as_ref()
            .is_some_and(|f| Arc::ptr_eq(f, &stop));
        if !running {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// A std mutex's value, poisoned or not (a preview that panicked left only a flag behind).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One part of an M-JPEG stream: the delimiter, its headers and the frame.
fn frame_part(boundary: &str, jpeg: &[u8]) -> Bytes {
    let mut part = format!(
        "--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
        jpeg.len()
    )
    .into_bytes();
    part.extend_from_slice(jpeg);
    part.extend_from_slice(b"\r\n");
    Bytes::from(part)
}

/// The body of a `STREAM` answer: the frames as they come, then the closing delimiter. Dropped
/// (the client gone), it stops the preview.
struct Frames {
    first: Option<Vec<u8>>,
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, CaptureFailure>>,
    boundary: String,
    done: bool,
    _stop: CancelOnDrop,
}

impl futures_core::Stream for Frames {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(frame_part(&this.boundary, &first))));
        }
        if this.done {
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                Poll::Ready(Some(Ok(frame_part(&this.boundary, &frame))))
            }
            // The preview ended (its timeout, a capture, a device error): the closing delimiter.
            Poll::Ready(Some(Err(_)) | None) => {
                this.done = true;
                Poll::Ready(Some(Ok(Bytes::from(format!("--{}--\r\n", this.boundary)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Raises its flag when dropped (with the request's future, when the client goes away).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn status(d: &Device) -> &'static str {
    if d.busy.try_lock().is_ok() {
        "Ready"
    } else {
        "Busy"
    }
}

fn json_response(port: u16, status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("http://127.0.0.1:{port}")) {
        h.insert(header::LOCATION, v);
    }
    r
}

fn error_body(code: u16) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "error": SbiStatus::code(code) })).expect("json")
}

/// `{"error": {"errorCode", "errorInfo"}}` of a failure, its own words kept.
fn error_body_info(f: CaptureFailure) -> Vec<u8> {
    let status = SbiStatus {
        error_code: f.code.to_string(),
        error_info: f.info,
    };
    serde_json::to_vec(&serde_json::json!({ "error": status })).expect("json")
}

async fn handle(
    State(svc): State<Arc<Service>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let port = svc.port;
    let ok = |v: Vec<u8>| json_response(port, StatusCode::OK, v);
    match (method.as_str(), uri.path()) {
        ("MOSIPDISC", "/device") => match serde_json::from_slice::<DiscoverRequest>(&body) {
            Ok(r) if ["Biometric Device", "Finger", "Face", "Iris"].contains(&r.kind.as_str()) => {
                ok(serde_json::to_vec(&svc.discover(&r.kind)).expect("json"))
            }
            _ => json_response(port, StatusCode::BAD_REQUEST, error_body(101)),
        },
        ("MOSIPDINFO", "/info") => match svc.info() {
            Ok(i) => ok(serde_json::to_vec(&i).expect("json")),
            Err(e) => {
                tracing::warn!("device info: {e}");
                json_response(port, StatusCode::INTERNAL_SERVER_ERROR, error_body(102))
            }
        },
        ("RCAPTURE", "/capture") => match serde_json::from_slice::<CaptureRequest>(&body) {
            Ok(req) => {
                // One line per capture asked for (`jemput -v sbi serve`): what a kit asked of
                // which device, to follow a visit's slaps from the service's side.
                for b in &req.bio {
                    tracing::info!(
                        device_id = %b.device_id,
                        device_sub_id = %b.device_sub_id,
                        bio_sub_type = ?b.bio_sub_type,
                        exception = ?b.exception,
                        "RCAPTURE"
                    );
                }
                ok(serde_json::to_vec(&svc.capture(req).await).expect("json"))
            }
            Err(_) => json_response(port, StatusCode::BAD_REQUEST, error_body(101)),
        },
        ("STREAM", "/stream") => match serde_json::from_slice::<StreamRequest>(&body) {
            Ok(req) => svc.stream(req).await,
            Err(_) => json_response(port, StatusCode::BAD_REQUEST, error_body(101)),
        },
        _ => json_response(port, StatusCode::NOT_FOUND, error_body(106)),
    }
}

/// Binds 127.0.0.1:`port`, or the first free port of 4501–4600 when `port` is `None`.
pub async fn bind(port: Option<u16>) -> std::io::Result<tokio::net::TcpListener> {
    let ports: Vec<u16> = match port {
        Some(p) => vec![p],
        None => proto::PORT_RANGE.collect(),
    };
    let mut last = None;
    for p in ports {
        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], p))).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no port to bind")))
}

/// Serves `svc` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    svc: Service,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(Arc::new(svc));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_frames_are_due_at_three_a_second_or_more_without_bursts() {
        assert!(PREVIEW_INTERVAL <= Duration::from_millis(1000 / 3));
        let mut pacer = Pacer::new(PREVIEW_INTERVAL);
        let t0 = Instant::now();
        // Frames made at once: each next one due an interval after the last one was due.
        let first = pacer.sent(t0);
        assert_eq!(first, t0 + PREVIEW_INTERVAL);
        let second = pacer.sent(first);
        assert_eq!(second, first + PREVIEW_INTERVAL);
        // A frame that came a second late: the next one is due at once, not five to catch up.
        let late = second + Duration::from_secs(1);
        assert_eq!(pacer.sent(late), late);
        assert_eq!(pacer.sent(late), late + PREVIEW_INTERVAL);
    }

    #[test]
    fn a_stream_asks_five_minutes_unless_it_says_otherwise() {
        let mut r = StreamRequest::default();
        assert_eq!(stream_timeout(&r), Duration::from_secs(300));
        r.timeout = "2500".into();
        assert_eq!(stream_timeout(&r), Duration::from_millis(2500));
        r.timeout = "86400000".into();
        assert_eq!(stream_timeout(&r), STREAM_TIMEOUT);
        r.timeout = "10".into();
        assert_eq!(stream_timeout(&r), Duration::from_secs(1));
    }

    #[test]
    fn a_frame_part_says_its_type_and_length() {
        let p = frame_part("b0", &[0xff, 0xd8, 0xff, 0xd9]);
        assert_eq!(
            &p[..],
            b"--b0\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\n\xff\xd8\xff\xd9\r\n"
        );
    }
}

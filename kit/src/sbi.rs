//! SBI devices (MOSIP's Secure Biometric Interface, docs/sbi.md) used by the kit like its own:
//! [`SbiCamera`] is a [`Camera`] the visit engine's face step takes unchanged,
//! [`SbiFingerScanner`] (a single-finger scanner) is a [`FingerprintScanner`] its finger steps
//! take unchanged, and [`SbiSlapScanner`] takes a slap (left four, right four, two thumbs) with
//! missing fingers as exceptions. Each finger comes with its grey image, the device's
//! `qualityScore` and its original ISO/IEC 19794-4 record. Every answer is checked in full against
//! the kit's trust store (`<home>/sbi-trust/`) by `jemput_sbi` before anything of it is returned.
//!
//! The drivers' traits are synchronous and the SBI client is async (reqwest): each device runs
//! the client on a small current-thread tokio runtime of its own, so calling one from a blocking
//! thread blocks only that thread. Never call them from inside an async task.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use image::GrayImage;
use jemput_core::finger::FingerPosition;
use jemput_core::iso19794::{self, ImageFormat};
use jemput_drivers::{
    Camera, CaptureControl, Device, DeviceError, DeviceInfo, FingerImage, FingerprintScanner,
    FrameMeta, Photo, PreviewStats, NO_FINGER,
};
use jemput_sbi::client::{self, CaptureAsk, SbiSelector};
use jemput_sbi::proto::{self, DigitalId};
use jemput_sbi::trust::TrustStore;
use jemput_sbi::verify::VerifiedBiometric;
use jemput_sbi::SbiError;

/// The kit's trust directory of device-provider CA certificates, under its home (one
/// `<sha256>.pem` each, as `jemput sbi trust add` writes them).
pub const TRUST_DIR: &str = "sbi-trust";

/// The quality score an SBI device is asked to reach (`requestedScore`).
pub const REQUESTED_SCORE: u8 = 40;

/// JPEG quality when a face record's image is not a JPEG already (JPEG 2000, PNG) and is
/// re-encoded for the visit's photo.
const FACE_JPEG_QUALITY: u8 = 92;

/// What can go wrong opening or using an SBI device, beyond the drivers' errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbiDeviceError {
    #[error(
        "no device-provider CA is trusted on this kit, so no SBI answer can be accepted: \
         `jemput sbi trust add CA.pem` (the CA certificate from the device's vendor or from \
         `jemput sbi keygen`)"
    )]
    NoTrustedCa,
    #[error("{selector}: no SBI device service answered discovery: {source}")]
    NoService {
        selector: String,
        #[source]
        source: SbiError,
    },
    #[error(
        "{selector}: the device service on port {port} lists no device {device_id} with sub-id \
         {sub_id} (`jemput devices` lists what it has)"
    )]
    NoSuchDevice {
        selector: String,
        port: u16,
        device_id: String,
        sub_id: u8,
    },
    #[error("{selector} is a {what}, not a {wanted}")]
    WrongKind {
        selector: String,
        what: String,
        wanted: &'static str,
    },
    #[error("every finger of the {slap} is marked missing: nothing to capture")]
    AllMissing { slap: &'static str },
    #[error(transparent)]
    Sbi(#[from] SbiError),
    #[error("the SBI runtime: {0}")]
    Runtime(std::io::Error),
}

/// The kit's trust store at `home` (`<home>/sbi-trust/`) and the CA files in `extra`; refused
/// when that trusts no CA at all.
pub fn trust_store(home: &Path, extra: &[PathBuf]) -> Result<TrustStore, SbiDeviceError> {
    let mut trust = TrustStore::load_dir(&home.join(TRUST_DIR))?;
    for ca in extra {
        trust.add_pem_file(ca)?;
    }
    if trust.is_empty() {
        return Err(SbiDeviceError::NoTrustedCa);
    }
    Ok(trust)
}

/// One SBI sub-device found by discovery, with the runtime its client runs on.
struct Link {
    selector: SbiSelector,
    trust: TrustStore,
    runtime: tokio::runtime::Runtime,
    info: DeviceInfo,
    /// What discovery's (unsigned) digital ID calls it: "Finger", "Face".
    bio_type: String,
    /// The transaction the captures of this device belong to and the hash of its last
    /// accepted biometric (the next capture's `previousHash`): SBI's hash chain links them.
    transaction_id: String,
    last_hash: String,
}

impl Link {
    fn open(selector: &SbiSelector, trust: TrustStore) -> Result<Link, SbiDeviceError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SbiDeviceError::Runtime)?;
        let found = runtime
            .block_on(client::discover(selector.port, client::SCAN_TIMEOUT))
            .map_err(|source| SbiDeviceError::NoService {
                selector: selector.to_string(),
                source,
            })?;
        let sub = selector.sub_id.to_string();
        let dev = found
            .iter()
            .find(|d| d.device_id == selector.device_id && d.device_sub_id.contains(&sub))
            .ok_or_else(|| SbiDeviceError::NoSuchDevice {
                selector: selector.to_string(),
                port: selector.port,
                device_id: selector.device_id.clone(),
                sub_id: selector.sub_id,
            })?;
        // Discovery's digital ID is unsigned by design: it names the device here; each capture's
        // signed one is what the capture is checked against.
        let id: Option<DigitalId> = jemput_sbi::jws::unsigned_payload(&dev.digital_id)
            .and_then(|b| serde_json::from_slice(&b).ok());
        let info = DeviceInfo {
            driver: "sbi".into(),
            model: id
                .as_ref()
                .map(|i| format!("{} {} ({})", i.make, i.model, dev.certification))
                .unwrap_or_else(|| format!("SBI device {}", dev.device_id)),
            serial: Some(dev.device_code.clone()),
            firmware: Some(format!("SBI {}", dev.service_version)),
        };
        Ok(Link {
            selector: selector.clone(),
            trust,
            runtime,
            info,
            bio_type: id.map(|i| i.kind).unwrap_or_default(),
            transaction_id: client::new_transaction_id(),
            last_hash: String::new(),
        })
    }

    /// Starts a new transaction: the next capture's chain starts afresh.
    fn new_transaction(&mut self) {
        self.transaction_id = client::new_transaction_id();
        self.last_hash.clear();
    }

    /// One RCAPTURE whose answer passed every check and then `decode` (the images read from
    /// the records): nothing of a refused answer is kept, its link of the hash chain included.
    fn capture_decoded<T>(
        &mut self,
        sub_id: u8,
        fingers: Vec<String>,
        exceptions: Vec<String>,
        control: &CaptureControl,
        decode: impl FnOnce(&[VerifiedBiometric]) -> Result<T, DeviceError>,
    ) -> Result<T, DeviceError> {
        let previous_hash = self.last_hash.clone();
        let got = self.capture("Finger", sub_id, fingers, exceptions, control)?;
        decode(&got).inspect_err(|_| self.last_hash = previous_hash)
    }

    /// One RCAPTURE, every check passed, within `control` (its timeout is the device's; its
    /// cancel flag drops the request).
    fn capture(
        &mut self,
        bio_type: &str,
        sub_id: u8,
        fingers: Vec<String>,
        exceptions: Vec<String>,
        control: &CaptureControl,
    ) -> Result<Vec<VerifiedBiometric>, DeviceError> {
        let ask = CaptureAsk {
            port: self.selector.port,
            device_id: self.selector.device_id.clone(),
            bio_type: bio_type.into(),
            sub_id,
            fingers,
            exceptions,
            requested_score: REQUESTED_SCORE,
            timeout: control.timeout.max(Duration::from_secs(1)),
        };
        let (trust, tx, prev) = (&self.trust, &self.transaction_id, &self.last_hash);
        let got = self.runtime.block_on(async {
            tokio::select! {
                r = client::capture(&ask, trust, tx, prev) => Some(r),
                _ = cancelled(&control.cancel) => None,
            }
        });
        // A single-finger scanner that saw no finger (error 101) is an attempt that detected
        // nothing, as for the kit's own scanners, not a device fault.
        let single_finger = bio_type == "Finger" && sub_id == 0;
        let got = got.ok_or(DeviceError::Cancelled)?.map_err(|e| match e {
            SbiError::Device { code, .. } if single_finger && code.trim() == "101" => {
                DeviceError::Timeout(ask.timeout, NO_FINGER)
            }
            e => device_error(e, ask.timeout),
        })?;
        if let Some(last) = got.last() {
            self.last_hash = last.hash.clone();
        }
        Ok(got)
    }
}

/// Resolves once `cancel` is raised (looked at every 100 ms).
async fn cancelled(cancel: &AtomicBool) {
    while !cancel.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An SBI refusal or failure as the drivers' error, its message kept whole.
fn device_error(e: SbiError, waited: Duration) -> DeviceError {
    match e {
        SbiError::Timeout { .. } => DeviceError::Timeout(waited, "the SBI device service"),
        SbiError::Unreachable { .. } => DeviceError::Disconnected,
        // Refused answers (unsigned, untrusted, replayed, chain broken, garbage): nothing kept.
        other => DeviceError::Protocol(format!("SBI: {other}")),
    }
}

/// An SBI camera (`deviceSubId` 0) as the kit's [`Camera`]: each photo is one RCAPTURE of a face
/// in a transaction of its own, its ISO/IEC 19794-5 record decoded to the JPEG the visit keeps.
pub struct SbiCamera {
    link: Link,
    /// The device's quality score of the last photo.
    last_quality: Option<f32>,
}

impl std::fmt::Debug for SbiCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SbiCamera")
            .field("selector", &self.link.selector.to_string())
            .field("info", &self.link.info)
            .finish_non_exhaustive()
    }
}

impl SbiCamera {
    /// Finds the device `selector` names by discovery; its captures are checked against `trust`.
    pub fn open(selector: &SbiSelector, trust: TrustStore) -> Result<Self, SbiDeviceError> {
        Self::from_link(Link::open(selector, trust)?)
    }

    fn from_link(link: Link) -> Result<Self, SbiDeviceError> {
        if link.bio_type != "Face" {
            return Err(SbiDeviceError::WrongKind {
                selector: link.selector.to_string(),
                what: kind_name(&link.bio_type),
                wanted: "camera (Face)",
            });
        }
        Ok(SbiCamera {
            link,
            last_quality: None,
        })
    }

    pub fn selector(&self) -> &SbiSelector {
        &self.link.selector
    }

    /// The photo and the device's answer for it (its ISO record and quality score).
    pub fn capture_face(
        &mut self,
        control: &CaptureControl,
    ) -> Result<(Photo, VerifiedBiometric), DeviceError> {
        self.link.new_transaction();
        let got = self.link.capture("Face", 0, vec![], vec![], control)?;
        let [face] = <[VerifiedBiometric; 1]>::try_from(got).map_err(|g| {
            DeviceError::Protocol(format!("SBI: {} faces in the answer, not one", g.len()))
        })?;
        let photo = face_photo(&face.record)?;
        Ok((photo, face))
    }

    /// The camera's live preview (`STREAM`) for `control.timeout` at most: `each` gets every
    /// frame, checked to be a JPEG (its size read from its header), until it returns `false`,
    /// the service ends the stream or `control` is cancelled. Returns the frames given. The
    /// frames are **not signed** (the specification signs captures only): for the operator's
    /// eyes, never kept as the photo, which is [`SbiCamera::capture_face`]'s.
    pub fn preview_frames(
        &mut self,
        control: &CaptureControl,
        each: &mut dyn FnMut(Photo) -> bool,
    ) -> Result<u64, DeviceError> {
        let length = control.timeout.max(Duration::from_secs(1));
        let sel = &self.link.selector;
        self.link.runtime.block_on(async {
            let opened = tokio::select! {
                s = client::stream(sel.port, &sel.device_id, sel.sub_id, length) => s,
                _ = cancelled(&control.cancel) => return Ok(0),
            };
            let mut stream = opened.map_err(|e| device_error(e, length))?;
            let mut given = 0;
            let ended = loop {
                let next = tokio::select! {
                    f = stream.next_frame() => f,
                    _ = cancelled(&control.cancel) => break Ok(given),
                };
                let frame = match next {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break Ok(given),
                    Err(e) => break Err(device_error(e, client::FRAME_TIMEOUT)),
                };
                given += 1;
                match preview_photo(frame) {
                    Ok(photo) => {
                        if !each(photo) {
                            break Ok(given);
                        }
                    }
                    Err(e) => break Err(e),
                }
            };
            // Hung up at once (this runtime runs only while the kit uses the device): the
            // service ends the preview and the device is free.
            stream.close().await;
            ended
        })
    }
}

/// A preview frame as a photo: a JPEG whose header gives its size.
fn preview_photo(frame: client::PreviewFrame) -> Result<Photo, DeviceError> {
    let bad = |e: String| DeviceError::BadData(format!("SBI preview frame: {e}"));
    if !frame.content_type.eq_ignore_ascii_case("image/jpeg") {
        return Err(bad(format!("{:?}, not image/jpeg", frame.content_type)));
    }
    let (width, height) = image::ImageReader::with_format(
        std::io::Cursor::new(&frame.jpeg),
        image::ImageFormat::Jpeg,
    )
    .into_dimensions()
    .map_err(|e| bad(e.to_string()))?;
    Ok(Photo {
        jpeg: frame.jpeg,
        width,
        height,
    })
}

impl Device for SbiCamera {
    fn info(&self) -> &DeviceInfo {
        &self.link.info
    }
}

impl Camera for SbiCamera {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError> {
        self.last_quality = None;
        let (photo, face) = self.capture_face(control)?;
        self.last_quality = Some(face.quality_score);
        Ok(photo)
    }

    fn last_device_quality(&self) -> Option<f32> {
        self.last_quality
    }

    /// `frames` frames of the device's `STREAM` preview, each a JPEG checked as
    /// [`SbiCamera::preview_frames`] checks it; the timestamps are from when the stream opened.
    fn preview(
        &mut self,
        frames: u64,
        control: &CaptureControl,
        each: &mut dyn FnMut(&FrameMeta),
    ) -> Result<PreviewStats, DeviceError> {
        let begun = Instant::now();
        let (mut got, mut first, mut last) = (0u64, None, Duration::ZERO);
        if frames > 0 {
            self.preview_frames(control, &mut |photo| {
                got += 1;
                last = begun.elapsed();
                first.get_or_insert(last);
                each(&FrameMeta {
                    count: got,
                    sequence: u32::try_from(got).unwrap_or(u32::MAX),
                    timestamp: last,
                    bytes: photo.jpeg.len(),
                });
                got < frames
            })?;
        }
        if control.cancel.load(Ordering::Relaxed) {
            return Err(DeviceError::Cancelled);
        }
        if got < frames {
            return Err(DeviceError::Timeout(
                control.timeout,
                "the SBI preview's frames",
            ));
        }
        let fps = match first {
            Some(a) if last > a && got > 1 => (got - 1) as f64 / (last - a).as_secs_f64(),
            _ => 0.0,
        };
        Ok(PreviewStats {
            frames: got,
            elapsed: begun.elapsed(),
            fps,
        })
    }

    fn live_jpeg(
        &mut self,
        _interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Photo) -> bool,
    ) -> Result<u64, DeviceError> {
        self.preview_frames(control, each)
    }
}

/// The JPEG photo of a face record: its own JPEG when it holds one (checked to decode to the
/// header's size), otherwise its image decoded and encoded as JPEG.
pub fn face_photo(record: &[u8]) -> Result<Photo, DeviceError> {
    let bad = |e: String| DeviceError::BadData(format!("SBI face record: {e}"));
    let rec = iso19794::read_face_record(record).map_err(|e| bad(e.to_string()))?;
    let img = rec
        .images
        .first()
        .ok_or_else(|| bad("it holds no image".into()))?;
    let rgb = img.rgb_pixels().map_err(|e| bad(e.to_string()))?;
    let jpeg = if img.format == ImageFormat::Jpeg {
        img.image.clone()
    } else {
        jemput_drivers::synth::jpeg_rgb(&rgb, FACE_JPEG_QUALITY)
    };
    Ok(Photo {
        jpeg,
        width: rgb.width(),
        height: rgb.height(),
    })
}

/// The three slaps of a ten-print capture (the 4-4-2 flow), by `deviceSubId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slap {
    /// 1: left index, middle, ring, little.
    Left,
    /// 2: right index, middle, ring, little.
    Right,
    /// 3: the two thumbs.
    Thumbs,
}

impl Slap {
    pub fn sub_id(self) -> u8 {
        match self {
            Slap::Left => 1,
            Slap::Right => 2,
            Slap::Thumbs => 3,
        }
    }

    pub fn from_sub_id(sub_id: u8) -> Option<Slap> {
        match sub_id {
            1 => Some(Slap::Left),
            2 => Some(Slap::Right),
            3 => Some(Slap::Thumbs),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Slap::Left => "left slap",
            Slap::Right => "right slap",
            Slap::Thumbs => "two thumbs",
        }
    }

    /// The slap a finger is taken in.
    pub fn of(finger: FingerPosition) -> Slap {
        match finger.code() {
            1 | 6 => Slap::Thumbs,
            2..=5 => Slap::Right,
            _ => Slap::Left,
        }
    }

    /// Its fingers, by ISO/IEC 19794-4 position.
    pub fn fingers(self) -> Vec<FingerPosition> {
        proto::slap_fingers(self.sub_id())
            .unwrap_or(&[])
            .iter()
            .filter_map(|&p| FingerPosition::new(p))
            .collect()
    }
}

/// One finger of a slap, as the device segmented it.
#[derive(Clone)]
pub struct SlapFinger {
    pub position: FingerPosition,
    /// Its SBI name (`Left IndexFinger` …).
    pub name: String,
    /// The decoded image, 8-bit grey.
    pub image: GrayImage,
    /// The image's resolution, pixels per inch.
    pub ppi: u32,
    /// The device's `qualityScore`, 0–100.
    pub device_quality: f32,
    /// The original ISO/IEC 19794-4 record, as the device signed it.
    pub record: Vec<u8>,
    /// Its link in the transaction's hash chain.
    pub hash: String,
}

impl std::fmt::Debug for SlapFinger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print biometric bytes.
        f.debug_struct("SlapFinger")
            .field("position", &self.position.code())
            .field("name", &self.name)
            .field("width", &self.image.width())
            .field("height", &self.image.height())
            .field("ppi", &self.ppi)
            .field("device_quality", &self.device_quality)
            .field("record_bytes", &self.record.len())
            .finish()
    }
}

/// An SBI slap scanner's sub-device (`deviceSubId` 1, 2 or 3 of a Finger device). Its slaps are
/// links of one transaction's hash chain until [`SbiSlapScanner::new_transaction`].
pub struct SbiSlapScanner {
    link: Link,
}

impl std::fmt::Debug for SbiSlapScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SbiSlapScanner")
            .field("selector", &self.link.selector.to_string())
            .field("info", &self.link.info)
            .finish_non_exhaustive()
    }
}

impl SbiSlapScanner {
    /// Finds the device `selector` names by discovery (any of its slap sub-ids: the slap to take
    /// is given with each capture); its captures are checked against `trust`.
    pub fn open(selector: &SbiSelector, trust: TrustStore) -> Result<Self, SbiDeviceError> {
        Self::from_link(Link::open(selector, trust)?)
    }

    fn from_link(link: Link) -> Result<Self, SbiDeviceError> {
        if link.bio_type != "Finger" || Slap::from_sub_id(link.selector.sub_id).is_none() {
            return Err(SbiDeviceError::WrongKind {
                selector: link.selector.to_string(),
                what: kind_name(&link.bio_type),
                wanted: "slap scanner (Finger, sub-id 1, 2 or 3)",
            });
        }
        Ok(SbiSlapScanner { link })
    }

    pub fn info(&self) -> &DeviceInfo {
        &self.link.info
    }

    pub fn selector(&self) -> &SbiSelector {
        &self.link.selector
    }

    /// The slap the selector names.
    pub fn default_slap(&self) -> Slap {
        Slap::from_sub_id(self.link.selector.sub_id).unwrap_or(Slap::Left)
    }

    /// Ends the transaction: the next slap starts a new hash chain.
    pub fn new_transaction(&mut self) {
        self.link.new_transaction();
    }

    /// The transaction id the slaps are captured under.
    pub fn transaction_id(&self) -> &str {
        &self.link.transaction_id
    }

    /// Takes `slap` with the fingers of `missing` that belong to it sent as exceptions (the
    /// others are ignored). Returns each finger the device segmented, in the device's order (that
    /// of the hash chain), only
    /// when the whole answer passed every check and each record decodes and is of the finger it
    /// is named for. Refused without asking the device when every finger of the slap is missing.
    pub fn capture_slap(
        &mut self,
        slap: Slap,
        missing: &[FingerPosition],
        control: &CaptureControl,
    ) -> Result<Vec<SlapFinger>, SlapError> {
        self.capture_fingers(slap, &slap.fingers(), missing, control)
    }

    /// Like [`Self::capture_slap`], asking the device for the fingers of `wanted` only (a slap
    /// taken again for the fingers still below the threshold, or for one finger the operator
    /// retakes): they are the request's `bioSubType`, and every other finger of the slap — those
    /// in `missing` and those not wanted — is sent in `exception[]`, SBI's way of asking a slap
    /// device for fewer fingers, so that a device that takes the whole slap whatever `bioSubType`
    /// says still returns only the fingers wanted.
    pub fn capture_fingers(
        &mut self,
        slap: Slap,
        wanted: &[FingerPosition],
        missing: &[FingerPosition],
        control: &CaptureControl,
    ) -> Result<Vec<SlapFinger>, SlapError> {
        let fingers = slap.fingers();
        let asked: Vec<String> = fingers
            .iter()
            .filter(|f| wanted.contains(f) && !missing.contains(f))
            .filter_map(|f| proto::finger_name(f.code()).map(str::to_string))
            .collect();
        let exceptions: Vec<String> = fingers
            .iter()
            .filter(|f| missing.contains(f) || !wanted.contains(f))
            .filter_map(|f| proto::finger_name(f.code()).map(str::to_string))
            .collect();
        if asked.is_empty() {
            return Err(SlapError::Sbi(SbiDeviceError::AllMissing {
                slap: slap.name(),
            }));
        }
        Ok(self
            .link
            .capture_decoded(slap.sub_id(), asked, exceptions, control, decode_slap)?)
    }
}

/// A single-finger SBI scanner (a Finger device of `deviceSubType` "Single", `deviceSubId` 0) as
/// the kit's [`FingerprintScanner`]: each capture is one RCAPTURE for one finger, the finger
/// [`FingerprintScanner::set_finger`] last named (none: "UNKNOWN"), its answer checked as a
/// slap's is (signatures, trust, transaction and time, hash chain, the finger asked for) and its
/// record decoded and checked to be of that finger. The device's `qualityScore` and the original
/// record of the last finger are [`FingerprintScanner::last_device_quality`] and
/// [`FingerprintScanner::last_record`]. Its captures are links of one transaction's hash chain
/// until [`SbiFingerScanner::new_transaction`]. The device's "no finger" (error 101) is a
/// timeout waiting for [`NO_FINGER`], as a local scanner's.
pub struct SbiFingerScanner {
    link: Link,
    /// The finger the next captures ask for; `None`: "UNKNOWN".
    finger: Option<FingerPosition>,
    /// The last finger's `qualityScore` and original record.
    last: Option<(f32, Vec<u8>)>,
}

impl std::fmt::Debug for SbiFingerScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SbiFingerScanner")
            .field("selector", &self.link.selector.to_string())
            .field("info", &self.link.info)
            .field("finger", &self.finger.map(FingerPosition::code))
            .finish_non_exhaustive()
    }
}

impl SbiFingerScanner {
    /// Finds the device `selector` names by discovery (a Finger device of sub-id 0); its captures
    /// are checked against `trust`.
    pub fn open(selector: &SbiSelector, trust: TrustStore) -> Result<Self, SbiDeviceError> {
        Self::from_link(Link::open(selector, trust)?)
    }

    fn from_link(link: Link) -> Result<Self, SbiDeviceError> {
        if link.bio_type != "Finger" || link.selector.sub_id != 0 {
            return Err(SbiDeviceError::WrongKind {
                selector: link.selector.to_string(),
                what: kind_name(&link.bio_type),
                wanted: "single-finger scanner (Finger, sub-id 0)",
            });
        }
        Ok(SbiFingerScanner {
            link,
            finger: None,
            last: None,
        })
    }

    pub fn selector(&self) -> &SbiSelector {
        &self.link.selector
    }

    /// Ends the transaction: the next finger starts a new hash chain.
    pub fn new_transaction(&mut self) {
        self.link.new_transaction();
    }

    /// The transaction id the fingers are captured under.
    pub fn transaction_id(&self) -> &str {
        &self.link.transaction_id
    }

    /// One finger, `finger` named in the request (`None`: "UNKNOWN"): its decoded image and
    /// resolution with the device's answer (record, `qualityScore`, hash), only when the whole
    /// answer passed every check and its record decodes and is of that finger.
    pub fn capture_one(
        &mut self,
        finger: Option<FingerPosition>,
        control: &CaptureControl,
    ) -> Result<(GrayImage, u32, VerifiedBiometric), DeviceError> {
        let code = finger.map_or(0, FingerPosition::code);
        let name = proto::finger_name(code).unwrap_or(proto::UNKNOWN_FINGER);
        self.link
            .capture_decoded(0, vec![name.into()], vec![], control, |got| {
                let [b] = got else {
                    return Err(DeviceError::Protocol(format!(
                        "SBI: {} fingers in the answer, not one",
                        got.len()
                    )));
                };
                let answered = b.bio_sub_type.as_deref().unwrap_or_default();
                if answered != name {
                    return Err(DeviceError::BadData(format!(
                        "SBI: asked for {name:?}, the device answered {answered:?}"
                    )));
                }
                let (image, ppi) = finger_image(name, code, &b.record)?;
                Ok((image, ppi, b.clone()))
            })
    }
}

impl Device for SbiFingerScanner {
    fn info(&self) -> &DeviceInfo {
        &self.link.info
    }
}

impl FingerprintScanner for SbiFingerScanner {
    fn capture_finger(&mut self, control: &CaptureControl) -> Result<FingerImage, DeviceError> {
        self.last = None;
        let (image, ppi, b) = self.capture_one(self.finger, control)?;
        self.last = Some((b.quality_score, b.record));
        Ok(FingerImage {
            width: image.width(),
            height: image.height(),
            ppi,
            pixels: image.into_raw(),
        })
    }

    fn set_finger(&mut self, position: u8) {
        self.finger = FingerPosition::new(position);
    }

    fn last_device_quality(&self) -> Option<f32> {
        self.last.as_ref().map(|(q, _)| *q)
    }

    fn last_record(&self) -> Option<&[u8]> {
        self.last.as_ref().map(|(_, r)| r.as_slice())
    }
}

/// An SBI Finger device, as discovery names it: a single-finger scanner (sub-id 0) or a slap
/// scanner (sub-ids 1, 2, 3). `--scanner sbi:…` takes either.
#[derive(Debug)]
pub enum SbiFingerDevice {
    Single(SbiFingerScanner),
    Slap(SbiSlapScanner),
}

impl SbiFingerDevice {
    /// Finds the device `selector` names by discovery (one discovery for either kind).
    pub fn open(selector: &SbiSelector, trust: TrustStore) -> Result<Self, SbiDeviceError> {
        Self::from_link(Link::open(selector, trust)?)
    }

    fn from_link(link: Link) -> Result<Self, SbiDeviceError> {
        if link.selector.sub_id == 0 && link.bio_type == "Finger" {
            return SbiFingerScanner::from_link(link).map(SbiFingerDevice::Single);
        }
        SbiSlapScanner::from_link(link)
            .map(SbiFingerDevice::Slap)
            .map_err(|e| match e {
                SbiDeviceError::WrongKind { selector, what, .. } => SbiDeviceError::WrongKind {
                    selector,
                    what,
                    wanted: "fingerprint scanner (Finger: sub-id 0 single finger, 1–3 slaps)",
                },
                e => e,
            })
    }

    pub fn info(&self) -> &DeviceInfo {
        match self {
            SbiFingerDevice::Single(s) => &s.link.info,
            SbiFingerDevice::Slap(s) => &s.link.info,
        }
    }
}

/// Any SBI sub-device the kit can use, as discovery names it: a camera or a fingerprint scanner
/// (what `jemput devices test sbi:…` takes one capture of).
#[derive(Debug)]
pub enum SbiDevice {
    Camera(SbiCamera),
    Finger(SbiFingerDevice),
}

impl SbiDevice {
    /// Finds the device `selector` names by discovery and opens it as what discovery's digital ID
    /// calls it (a Face device: a camera; a Finger device: by its sub-id); its captures are
    /// checked against `trust`.
    pub fn open(selector: &SbiSelector, trust: TrustStore) -> Result<Self, SbiDeviceError> {
        let link = Link::open(selector, trust)?;
        if link.bio_type == "Face" {
            SbiCamera::from_link(link).map(SbiDevice::Camera)
        } else {
            SbiFingerDevice::from_link(link).map(SbiDevice::Finger)
        }
    }

    pub fn info(&self) -> &DeviceInfo {
        match self {
            SbiDevice::Camera(c) => &c.link.info,
            SbiDevice::Finger(f) => f.info(),
        }
    }
}

/// What the kit uses an SBI sub-device as, by its type and `deviceSubId`: "single finger",
/// "left slap", "right slap", "two thumbs" or "face camera"; `None` for one it cannot use (an
/// iris device, a sub-id its type does not have).
pub fn role(bio_type: &str, sub_id: u8) -> Option<&'static str> {
    match (bio_type, sub_id) {
        ("Finger", 0) => Some("single finger"),
        ("Finger", n) => Slap::from_sub_id(n).map(Slap::name),
        ("Face", 0) => Some("face camera"),
        _ => None,
    }
}

/// Why a slap was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SlapError {
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Sbi(#[from] SbiDeviceError),
}

/// The image of a finger's ISO/IEC 19794-4 record and its resolution, checked to be the one image
/// of the record and of finger position `code` (0: unknown), the one `name` (its `bioSubType`)
/// says.
fn finger_image(name: &str, code: u8, record: &[u8]) -> Result<(GrayImage, u32), DeviceError> {
    let bad = |e: String| DeviceError::BadData(format!("SBI {name:?}: {e}"));
    let rec = iso19794::read_finger_record(record)
        .map_err(|e| bad(format!("the ISO/IEC 19794-4 record: {e}")))?;
    let [rep] = rec.images.as_slice() else {
        return Err(bad(format!(
            "the record holds {} finger images, not one",
            rec.images.len()
        )));
    };
    if rep.position.code() != code {
        return Err(bad(format!(
            "the record is of finger position {}, not {code}",
            rep.position.code(),
        )));
    }
    let image = rep
        .grey_pixels()
        .map_err(|e| bad(format!("the image: {e}")))?;
    Ok((image, rep.ppi()))
}

/// Each verified biometric of a slap decoded, in the device's order (the hash chain's).
fn decode_slap(got: &[VerifiedBiometric]) -> Result<Vec<SlapFinger>, DeviceError> {
    let mut out = Vec::with_capacity(got.len());
    for b in got {
        let name = b.bio_sub_type.clone().unwrap_or_default();
        let position = proto::finger_position(&name)
            .and_then(FingerPosition::new)
            .ok_or_else(|| DeviceError::BadData(format!("SBI {name:?}: not a finger SBI names")))?;
        let (image, ppi) = finger_image(&name, position.code(), &b.record)?;
        out.push(SlapFinger {
            position,
            name,
            image,
            ppi,
            device_quality: b.quality_score,
            record: b.record.clone(),
            hash: b.hash.clone(),
        });
    }
    Ok(out)
}

fn kind_name(bio_type: &str) -> String {
    if bio_type.is_empty() {
        "device of unknown type".into()
    } else {
        format!("{bio_type} device")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::iso19794::{write_face_record, FaceImage, FaceRecord};

    fn face_record(format: ImageFormat, bytes: Vec<u8>, w: u16, h: u16) -> Vec<u8> {
        write_face_record(&FaceRecord::new(vec![FaceImage::new(format, w, h, bytes)])).unwrap()
    }

    #[test]
    fn a_face_records_jpeg_is_kept_and_a_png_becomes_a_jpeg_of_the_same_size() {
        let rgb = image::RgbImage::from_fn(60, 80, |x, y| image::Rgb([x as u8 * 4, y as u8, 90]));
        let jpeg = jemput_drivers::synth::jpeg_rgb(&rgb, 90);
        let photo = face_photo(&face_record(ImageFormat::Jpeg, jpeg.clone(), 60, 80)).unwrap();
        assert_eq!(photo.jpeg, jpeg, "the device's own JPEG, untouched");
        assert_eq!((photo.width, photo.height), (60, 80));

        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(rgb)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let photo = face_photo(&face_record(ImageFormat::Png, png, 60, 80)).unwrap();
        assert_eq!(&photo.jpeg[..2], [0xff, 0xd8], "re-encoded as JPEG");
        let back = image::load_from_memory(&photo.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (60, 80));

        // A header that lies about the size, and bytes that are no record, are refused.
        let jpeg = jemput_drivers::synth::jpeg_rgb(&image::RgbImage::new(60, 80), 90);
        assert!(matches!(
            face_photo(&face_record(ImageFormat::Jpeg, jpeg, 61, 80)),
            Err(DeviceError::BadData(_))
        ));
        assert!(matches!(
            face_photo(b"FAC\0garbage"),
            Err(DeviceError::BadData(_))
        ));
    }

    #[test]
    fn slaps_name_their_fingers_and_an_empty_trust_store_is_refused() {
        let codes = |s: Slap| s.fingers().iter().map(|f| f.code()).collect::<Vec<_>>();
        assert_eq!(codes(Slap::Left), [7, 8, 9, 10]);
        assert_eq!(codes(Slap::Right), [2, 3, 4, 5]);
        assert_eq!(codes(Slap::Thumbs), [6, 1]);
        for s in [Slap::Left, Slap::Right, Slap::Thumbs] {
            assert_eq!(Slap::from_sub_id(s.sub_id()), Some(s));
            for f in s.fingers() {
                assert_eq!(Slap::of(f), s);
            }
        }
        assert_eq!(Slap::from_sub_id(0), None);
        let home = tempfile::tempdir().unwrap();
        let e = trust_store(home.path(), &[]).unwrap_err();
        assert!(e.to_string().contains("jemput sbi trust add"), "{e}");
    }
}

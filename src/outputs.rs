//! The JSON shapes printed by `--json` commands (their schemas are in `schemas/`).

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

use jemput_core::packet::Header;

/// `jemput packet inspect --json`: the header and where it sits in the file.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InspectOutput {
    pub file: PathBuf,
    pub file_size: u64,
    pub header: Header,
    pub payload_offset: u64,
}

/// `jemput packet verify --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VerifyOutput {
    pub file: PathBuf,
    pub ok: bool,
    pub packet_id: Option<String>,
    pub kit_id: Option<String>,
    pub kit_key: Option<String>,
    /// Stable code of the failure (e.g. `tampered_header`, `truncated_payload`), when not ok.
    pub error_code: Option<String>,
    pub error: Option<String>,
}

/// `jemput demo --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DemoOutput {
    pub kit_home: PathBuf,
    /// Path of the office's age identity file.
    pub office_identity: PathBuf,
    /// Paths of the packets sealed in this run.
    pub packets: Vec<PathBuf>,
    /// Paths of the hub receipts of this run's packets (empty with `--offline`).
    pub receipts: Vec<PathBuf>,
    /// URL of the embedded hub: the one the demo uploaded to, or with `--offline` the one the kit
    /// enrolled with before the trip (serve the hub there again to drain the queue).
    pub hub_url: Option<String>,
    /// The embedded hub's data directory (`jemput hub serve --data`).
    pub hub_data: PathBuf,
    /// Number of visits run.
    pub visits: u32,
    /// Directory the first packet was opened into with the office identity.
    pub opened: PathBuf,
}

/// `jemput ui --json`: printed once the station listens.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UiOutput {
    /// The station's address with its session token (`http://127.0.0.1:PORT/?token=…`): opening
    /// it starts a browser session.
    pub url: String,
}

/// `jemput seal --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SealOutput {
    pub sealed: Vec<jemput_kit::seal::SealOutcome>,
    pub failed: Vec<SealFailure>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SealFailure {
    pub visit_id: uuid::Uuid,
    pub error: String,
}

/// One finger of an SBI slap in `jemput devices test` (no image: its size and scores).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SbiFingerSummary {
    /// The SBI finger name: `Left IndexFinger` …
    pub bio_sub_type: String,
    pub width: u32,
    pub height: u32,
    /// The device's `qualityScore`, 0–100.
    pub device_quality: f32,
    /// jemput's own score of the decoded image (`jemput-fq/1`, 0–100).
    pub jemput_quality: u8,
}

impl SbiFingerSummary {
    /// The finger `bio_sub_type` names, its decoded image scored by jemput, and the device's score.
    pub fn of(bio_sub_type: String, image: &image::GrayImage, device_quality: f32) -> Self {
        use jemput_core::imaging::quality::{FingerQuality, JemputFq};
        SbiFingerSummary {
            bio_sub_type,
            width: image.width(),
            height: image.height(),
            device_quality,
            jemput_quality: JemputFq.score(image).score,
        }
    }
}

/// `jemput devices --json`: every port listed, with candidate drivers, access and the fix, then
/// every device of an SBI device service on the kit.
pub type DevicesOutput = Vec<ListedDevice>;

/// One entry of `jemput devices --json`: a device the kit's own drivers reach (serial, USB,
/// V4L2), or one behind a MOSIP SBI device service (it has `port` and `bio_type`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ListedDevice {
    Local(jemput_drivers::registry::FoundDevice),
    Sbi(SbiDeviceOutput),
}

/// What one capture of `jemput devices test` returned (no biometric data: sizes and counts only).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaptureSummary {
    Finger {
        width: u32,
        height: u32,
        ppi: u32,
        /// Distinct grey levels in the image (16 for EF01 modules' 4-bit uploads).
        grey_levels: u32,
    },
    Signature {
        points: usize,
        pen_down_points: usize,
        strokes: usize,
        extent_x: u32,
        extent_y: u32,
        /// Time from the first pen-down to the last point.
        duration_ms: u32,
    },
    Location {
        fix: jemput_drivers::Fix,
    },
    /// What an SBI device returned, after every check passed: one entry per finger of a slap.
    SbiFingers {
        fingers: Vec<SbiFingerSummary>,
    },
    /// A face photo from a camera (the JPEG's size only).
    Photo {
        width: u32,
        height: u32,
        bytes: usize,
    },
}

impl CaptureSummary {
    pub fn finger(img: &jemput_drivers::FingerImage) -> Self {
        let mut seen = [false; 256];
        img.pixels.iter().for_each(|&p| seen[usize::from(p)] = true);
        CaptureSummary::Finger {
            width: img.width,
            height: img.height,
            ppi: img.ppi,
            grey_levels: seen.iter().filter(|s| **s).count() as u32,
        }
    }

    pub fn photo(photo: &jemput_drivers::Photo) -> Self {
        CaptureSummary::Photo {
            width: photo.width,
            height: photo.height,
            bytes: photo.jpeg.len(),
        }
    }

    pub fn signature(trace: &jemput_drivers::PenTrace) -> Self {
        CaptureSummary::Signature {
            points: trace.points.len(),
            pen_down_points: trace.points.iter().filter(|p| p.touching).count(),
            strokes: strokes(trace.points.iter().map(|p| p.touching)),
            extent_x: trace.extent_x,
            extent_y: trace.extent_y,
            duration_ms: trace.points.last().map_or(0, |p| p.t_ms),
        }
    }
}

/// Pen-down runs in a trace, from each sample's pen-down flag in order.
pub fn strokes(touching: impl IntoIterator<Item = bool>) -> usize {
    let mut down = false;
    let mut n = 0;
    for t in touching {
        if t && !down {
            n += 1;
        }
        down = t;
    }
    n
}

/// `jemput devices test --json`: liveness, identity, one capture, timings.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeviceTestOutput {
    /// The selector as given.
    pub selector: String,
    /// The tty the driver talked over (a pty for `sim:`).
    pub path: PathBuf,
    pub simulated: bool,
    /// How the driver was chosen.
    pub identified_by: jemput_drivers::registry::Identified,
    pub capability: jemput_drivers::registry::Capability,
    pub info: jemput_drivers::DeviceInfo,
    /// Time to open the port and initialise the device (and start the model, for `sim:`).
    pub open_ms: u64,
    /// The capture, when it succeeded.
    pub capture: Option<CaptureSummary>,
    /// Time the capture took, including waiting for the finger, the pen or the fix.
    pub capture_ms: u64,
    /// Whether the device opened and captured.
    pub ok: bool,
    /// Why the capture failed, with what to do.
    pub error: Option<String>,
}

/// `jemput capture finger --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaptureFingerOutput {
    /// The PNG written (8-bit grey).
    pub out: PathBuf,
    pub width: u32,
    pub height: u32,
    pub ppi: u32,
    /// Finger position code, 1 (right thumb) … 10 (left little).
    pub position: u8,
    pub position_name: String,
    pub device: jemput_drivers::DeviceInfo,
    /// The device's path; for an SBI scanner its service's address.
    pub path: PathBuf,
    pub capture_ms: u64,
    /// SBI single-finger scanners: the original ISO/IEC 19794-4 record as the device signed it,
    /// written beside the PNG (`<out>` with the extension `.iso19794-4`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<PathBuf>,
    /// SBI single-finger scanners: the device's `qualityScore`, 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_quality: Option<f32>,
    /// SBI single-finger scanners: jemput's own fingerprint quality (`jemput-fq/1`, 0–100) of
    /// the image decoded from the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jemput_quality: Option<u8>,
}

/// `jemput capture face --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaptureFaceOutput {
    /// The JPEG written, byte for byte as the camera delivered it.
    pub out: PathBuf,
    /// Size of the JPEG in bytes.
    pub bytes: usize,
    /// Pixels, as the camera reports them (0 when it does not say).
    pub width: u32,
    pub height: u32,
    pub device: jemput_drivers::DeviceInfo,
    /// The selector the camera was opened by.
    pub selector: String,
    pub capture_ms: u64,
    /// Webcams: the negotiated V4L2 format and size, e.g. `YUYV 1280x720`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Webcams and SBI cameras: the preview frames streamed before the still (`--preview-frames`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewSummary>,
    /// SBI cameras: the original ISO/IEC 19794-5 record as the device signed it, written beside
    /// the JPEG (`<out>` with the extension `.iso19794-5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<PathBuf>,
    /// SBI cameras: the device's `qualityScore`, 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_quality: Option<f32>,
}

/// `jemput capture finger sbi:PORT/ID/SUB --out-dir DIR --json`: one slap of an SBI slap scanner,
/// written only after the whole answer passed every check.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaptureSlapOutput {
    /// The selector the scanner was opened by.
    pub selector: String,
    /// `left slap`, `right slap` or `two thumbs` (the selector's sub-id 1, 2, 3).
    pub slap: String,
    pub out_dir: PathBuf,
    /// The fingers sent to the device as exceptions (missing), by position code.
    pub missing: Vec<u8>,
    /// The SBI transaction id the slap was captured under.
    pub transaction_id: String,
    pub device: jemput_drivers::DeviceInfo,
    pub capture_ms: u64,
    /// Each finger the device segmented, in the device's order (that of the hash chain).
    pub fingers: Vec<SlapFingerOutput>,
}

/// One finger of a slap, as `capture finger sbi:… --out-dir DIR` wrote it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SlapFingerOutput {
    /// Finger position code, 1 (right thumb) … 10 (left little).
    pub position: u8,
    pub position_name: String,
    /// The SBI finger name (`Left IndexFinger` …).
    pub bio_sub_type: String,
    /// The PNG written (8-bit grey), decoded from the record: `NN-<finger>.png`.
    pub image: PathBuf,
    /// The original ISO/IEC 19794-4 record as the device signed it: `NN-<finger>.iso19794-4`.
    pub record: PathBuf,
    pub width: u32,
    pub height: u32,
    pub ppi: u32,
    /// The device's `qualityScore`, 0–100.
    pub device_quality: f32,
    /// jemput's own fingerprint quality (`jemput-fq/1`) of the decoded image, 0–100.
    pub jemput_quality: u8,
    /// The finger's link in the transaction's hash chain.
    pub hash: String,
}

/// The preview frames of `capture face v4l2:… --preview-frames N`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewSummary {
    pub frames: u64,
    pub elapsed_ms: u64,
    /// Frames a second, by the driver's frame timestamps.
    pub fps: f64,
}

/// `jemput capture signature --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CaptureSignatureOutput {
    /// The PNG written (the pen-down strokes, dark on white).
    pub out: PathBuf,
    /// The pen trace written as JSON (`pen-trace.schema.json`).
    pub trace: PathBuf,
    pub points: usize,
    pub strokes: usize,
    pub device: jemput_drivers::DeviceInfo,
    pub path: PathBuf,
    pub capture_ms: u64,
}

/// One line of `jemput sim --json`, printed as soon as the model runs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SimOutput {
    /// The model (`ef01`, `isdv4`, `gps`, `ptp`).
    pub model: String,
    /// The driver that talks to it (`--driver` for a tty selector).
    pub driver: String,
    /// How the model is reached: `pty` (serial models) or `usbip` (USB models).
    pub transport: String,
    /// The tty to open, as a real device's (serial models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The line speed the model paces its output at (serial models; unpaced with `fast`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baud: Option<u32>,
    /// `host:port` of the USB/IP server exporting the model (USB models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The bus id to import from that server (USB models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub busid: Option<String>,
    /// `VID:PID` the model shows once attached (USB models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usb_id: Option<String>,
    pub fast: bool,
    pub faults: Vec<String>,
}

/// One device of `jemput usbip list --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsbIpDeviceOutput {
    /// The bus id to import.
    pub busid: String,
    /// `VID:PID`.
    pub usb_id: String,
    /// Linux `usb_device_speed`: 1 low, 2 full, 3 high, 5 super.
    pub speed: u32,
    /// `class/subclass/protocol` of each interface, hex.
    pub interfaces: Vec<String>,
}

/// `jemput usbip attach --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UsbIpAttachOutput {
    pub server: String,
    pub busid: String,
    /// The vhci port the device was attached to (`detach` takes it).
    pub port: u32,
    /// `busnum << 16 | devnum` on the server.
    pub devid: u32,
    pub speed: u32,
}

/// `jemput imaging face check --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FaceCheckOutput {
    /// The photo checked.
    pub input: PathBuf,
    /// The backdrop colour the rule expected (`#rrggbb (why)`), or null when the rule was off
    /// (no birth year given, or disabled in the settings).
    pub backdrop: Option<String>,
    /// The checks.
    pub report: jemput_core::imaging::face::FaceReport,
}

/// One draft in `jemput visit list --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VisitListEntry {
    pub visit_id: uuid::Uuid,
    /// `NIK 7408014512500001, Siti Aminah` or `worklist entry W-9`; absent when the draft cannot
    /// be read.
    pub resident: Option<String>,
    /// The visit category (`lansia` …).
    pub category: Option<String>,
    pub started_at: Option<jiff::Timestamp>,
    /// The first capture the visit still needs (a step id: `face`, `finger-07`, `signature`,
    /// `document-1`); absent when it has them all.
    pub next_step: Option<String>,
    /// Captures and exceptions held, of those the visit needs: `[done, needed]`.
    pub captures: Option<[usize; 2]>,
    /// Whether `jemput seal` would take it now.
    pub ready: bool,
    /// What blocks sealing.
    pub problems: Vec<String>,
    /// Why the draft cannot be read (it is listed all the same).
    pub error: Option<String>,
}

/// `jemput visit capture --json`: what the run did and what the visit still needs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VisitCaptureOutput {
    pub visit_id: uuid::Uuid,
    /// The steps run to the end (a capture or an exception recorded), by id (`face`,
    /// `finger-07`, `signature`, `document-1`, `location`), in order.
    pub ran: Vec<String>,
    /// The steps this run was to take that the draft still lacks (skipped, failed, or not reached
    /// after a stop); a rerun starts at the first.
    pub pending: Vec<String>,
    /// Whether `jemput seal` would take it now.
    pub ready: bool,
    /// What blocks sealing.
    pub problems: Vec<String>,
}

/// `jemput sbi serve --json`: one line once the device service listens.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SbiServeOutput {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The device-provider CA certificate (PEM) a client must trust.
    pub ca_cert: PathBuf,
}

/// One sub-device of an SBI device service, as `jemput sbi devices --json` lists it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SbiDeviceOutput {
    /// `sbi:PORT/DEVICEID/SUBID`, for `jemput sbi capture`.
    pub selector: String,
    pub port: u16,
    pub device_id: String,
    /// `deviceSubId`: 1 left slap, 2 right slap, 3 two thumbs, 0 none (a face).
    pub sub_id: String,
    /// From the discovery's (unsigned) digital ID: "Finger", "Face", "Iris".
    pub bio_type: String,
    /// "Slap", "Single", "Touchless", "Full face".
    pub device_sub_type: String,
    /// What the kit uses it as: "single finger" (a single-finger scanner, sub-id 0), "left
    /// slap", "right slap", "two thumbs" or "face camera"; absent for a device the kit cannot
    /// use (an iris device).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub make: String,
    pub model: String,
    /// `deviceCode`, the serial number.
    pub serial: String,
    /// "Ready", "Busy", "Not Ready", "Not Registered".
    pub status: String,
    /// "L0" or "L1".
    pub certification: String,
}

/// One device-provider CA of `jemput sbi trust list --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SbiTrustedCaOutput {
    /// SHA-256 of the certificate (DER), hex; `jemput sbi trust remove` takes its start.
    pub sha256: String,
    pub subject: String,
    /// The end of its validity, as the certificate states it.
    pub not_after: String,
    /// Its file in the kit's trust directory.
    pub file: PathBuf,
}

/// One biometric `jemput sbi capture --json` wrote, after the whole answer was verified.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SbiCaptureOutput {
    /// The SBI finger name (`Left IndexFinger` …), or `Face`.
    pub bio_sub_type: String,
    /// The ISO/IEC 19794 record as the device signed it.
    pub record: PathBuf,
    /// The image inside it: PNG for a finger, the JPEG as recorded for a face.
    pub image: PathBuf,
    /// The device's `qualityScore`, 0–100.
    pub device_quality: f32,
    /// jemput's own fingerprint quality (`jemput-fq/1`) of the decoded image; none for a face.
    pub jemput_quality: Option<u8>,
    /// The biometric's link in the transaction's hash chain.
    pub hash: String,
}

/// `jemput hub migrate --json`: what moved where.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HubMigrateOutput {
    /// The hub's data directory (it keeps its configuration, keys and certificate).
    pub data: PathBuf,
    #[serde(flatten)]
    pub summary: jemput_hub::migrate::MigrateSummary,
}

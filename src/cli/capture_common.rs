//! What both ways of `jemput capture finger|face` share — a device through jemput's drivers
//! ([`super::capture`]) and an SBI device ([`super::capture_sbi`]): their arguments, the exit
//! status of a failed capture, writing the files, printing the report, and a camera's preview
//! frames counted before the photo.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use jemput::outputs::{CaptureFaceOutput, CaptureFingerOutput, PreviewSummary};
use jemput_drivers::{Camera, CaptureControl, DeviceError};

use super::output;
use super::select::{AnySelector, DeviceSelect};

#[derive(Debug, Args)]
#[command(after_help = "\
An SBI single-finger scanner (sbi:PORT/DEVICEID/0, a Finger device) is asked for the finger \
--finger names (1-10): the PNG goes to --out FILE.png and the original ISO/IEC 19794-4 record \
beside it (FILE.iso19794-4), with the device's quality score and jemput's in --json. \
An SBI slap scanner (sbi:PORT/DEVICEID/SUBID; sub-id 1 left slap, 2 right slap, 3 two thumbs) \
gives several fingers: they go to --out-dir DIR as NN-<finger>.png (8-bit grey, decoded from the \
record) and NN-<finger>.iso19794-4 (the original record as the device signed it), NN being the \
position code. --missing 9 or --missing 7,8 sends missing fingers as exceptions. Every answer \
is checked against the kit's trust store (`jemput sbi trust add CA.pem`) before anything is \
written: an untrusted, badly signed, replayed or chain-broken answer writes nothing.")]
pub struct FingerArgs {
    #[command(flatten)]
    pub device: DeviceSelect,
    /// The PNG to write (one finger from a local scanner)
    #[arg(long, value_name = "FILE.png", required_unless_present = "out_dir")]
    pub out: Option<PathBuf>,
    /// The directory to write a slap's fingers to (an SBI slap scanner)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "position"])]
    pub out_dir: Option<PathBuf>,
    /// Finger position, for a local or an SBI single-finger scanner (a slap scanner's sub-id
    /// names the slap): 1 right thumb, 2 right index … 6 left thumb … 10 left little; 2 when not
    /// given
    #[arg(long, visible_alias = "finger", value_parser = clap::value_parser!(u8).range(1..=10))]
    pub position: Option<u8>,
    /// SBI slaps: fingers that are missing (amputated, bandaged), by position code, sent to the
    /// device as exceptions; those of other slaps are ignored
    #[arg(long, value_name = "N,N…", value_delimiter = ',',
          value_parser = clap::value_parser!(u8).range(1..=10))]
    pub missing: Vec<u8>,
    /// Also trust this device-provider CA certificate (PEM) for this SBI capture (the kit's
    /// trust store is always used)
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Seconds to wait for the finger
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub timeout: f64,
    /// Print what was written as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct FaceArgs {
    /// The camera: VID:PID[:SERIAL] or usb:<port path> of a PTP camera, v4l2:/dev/videoN (or
    /// /dev/videoN) of a webcam, sim:ptp[:n] for the camera model started in-process, or
    /// sbi:PORT/DEVICEID/0 for an SBI camera (its answer checked against the kit's trust store;
    /// the original ISO/IEC 19794-5 record is written beside the JPEG, its extension
    /// .iso19794-5)
    #[arg(value_name = "SELECTOR")]
    pub selector: AnySelector,
    /// Also trust this device-provider CA certificate (PEM) for this SBI capture (the kit's
    /// trust store is always used)
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// Webcams and SBI cameras (their STREAM preview, unsigned): stream this many preview frames
    /// first and print the frame rate
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preview_frames: u64,
    /// Webcams: the largest frame size to negotiate (the largest offered size within it)
    #[arg(long, value_name = "WxH", default_value = "1920x1080")]
    pub max_size: jemput_drivers::v4l2::Size,
    /// The JPEG to write
    #[arg(long, value_name = "FILE.jpg")]
    pub out: PathBuf,
    /// Seconds to wait for the camera to take the photo
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub timeout: f64,
    /// Print what was written as JSON
    #[arg(long)]
    pub json: bool,
}

/// Exit status for a failed capture: 130 when Ctrl-C cancelled it.
pub(super) fn failed(e: DeviceError, what: &str) -> anyhow::Result<ExitCode> {
    if matches!(e, DeviceError::Cancelled) {
        output::note(&format!("{what} cancelled; the device is left idle"));
        return Ok(ExitCode::from(super::interrupt::EXIT_INTERRUPTED));
    }
    Err(anyhow::Error::new(e).context(format!("{what} failed")))
}

pub(super) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Prints one finger's report (JSON with `--json`).
pub(super) fn print_finger(report: &CaptureFingerOutput, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        output::json(report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {} ({}), {} × {} at {} ppi from {} {} in {} ms",
        report.out.display(),
        report.position_name,
        report.position,
        report.width,
        report.height,
        report.ppi,
        report.device.driver,
        report.device.model,
        report.capture_ms
    );
    if let (Some(record), Some(q)) = (&report.record, report.device_quality) {
        println!(
            "{}: the original ISO/IEC 19794-4 record, device quality {q:.1}, jemput-fq {}",
            record.display(),
            report
                .jemput_quality
                .map_or_else(|| "-".to_string(), |q| q.to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Streams `frames` preview frames (one line each on stderr, then the rate): a webcam's, or an SBI
/// camera's `STREAM`.
pub(super) fn preview_frames(
    cam: &mut (dyn Camera + Send),
    frames: u64,
    control: &CaptureControl,
    json: bool,
) -> Result<PreviewSummary, DeviceError> {
    let stats = cam.preview(frames, control, &mut |f| {
        if !json {
            output::note(&format!(
                "frame {:>4}  seq {:>6}  t {:>12.6} s  {} bytes",
                f.count,
                f.sequence,
                f.timestamp.as_secs_f64(),
                f.bytes
            ));
        }
    })?;
    if !json {
        output::note(&format!(
            "preview: {} frames in {:.2} s, {:.1} frames/s",
            stats.frames,
            stats.elapsed.as_secs_f64(),
            stats.fps
        ));
    }
    Ok(PreviewSummary {
        frames: stats.frames,
        elapsed_ms: stats.elapsed.as_millis() as u64,
        fps: stats.fps,
    })
}

/// Prints what `capture face` wrote: the JSON report, or one line.
pub(super) fn print_face(report: &CaptureFaceOutput, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        output::json(report)?;
    } else {
        println!(
            "{}: {} × {} JPEG ({} bytes) from {} {} in {} ms",
            report.out.display(),
            report.width,
            report.height,
            report.bytes,
            report.device.driver,
            report.device.model,
            report.capture_ms
        );
        if let (Some(record), Some(q)) = (&report.record, report.device_quality) {
            println!(
                "{}: the original ISO/IEC 19794-5 record, device quality {q:.1}",
                record.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `jemput capture finger|face|signature <selector>`: one capture to files, for bench tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Subcommand};
use jemput::outputs::{strokes, CaptureFaceOutput, CaptureFingerOutput, CaptureSignatureOutput};
use jemput_core::finger::FingerPosition;
use jemput_drivers::registry::{self, CameraOptions, Capability, OpenOptions};
use jemput_drivers::{synth, Selector};

use super::capture_common::{
    failed, preview_frames, print_face, print_finger, write_file, FaceArgs, FingerArgs,
};
use super::output;
use super::select::{self, AnySelector, DeviceSelect};

#[derive(Debug, Args)]
pub struct CaptureArgs {
    #[command(subcommand)]
    pub what: CaptureCommand,
}

#[derive(Debug, Subcommand)]
pub enum CaptureCommand {
    /// Capture one finger from a fingerprint scanner (an SBI single-finger scanner's with its
    /// ISO/IEC 19794-4 record beside it) into an 8-bit grey PNG, or one slap of an SBI slap
    /// scanner into a directory (a PNG and the ISO/IEC 19794-4 record per finger)
    Finger(FingerArgs),
    /// Take the face photo with a PTP camera, a V4L2 webcam or an SBI camera and write a JPEG
    Face(FaceArgs),
    /// Record one signature from a pen pad: a PNG of the strokes and the pen trace as JSON
    Signature(SignatureArgs),
}

#[derive(Debug, Args)]
pub struct SignatureArgs {
    #[command(flatten)]
    pub device: DeviceSelect,
    /// The PNG to write
    #[arg(long, value_name = "FILE.png")]
    pub out: PathBuf,
    /// The pen trace to write as JSON (schemas/pen-trace.schema.json)
    #[arg(long, value_name = "FILE.json")]
    pub trace: PathBuf,
    /// Seconds to wait for the pen to touch the pad
    #[arg(long, default_value_t = 60.0, value_name = "S")]
    pub timeout: f64,
    /// What the resident writes: a signature, or, for someone who cannot sign, a simple line or
    /// the written name (recorded in the trace, and flagged)
    #[arg(long, value_enum, default_value_t = super::args::SignatureKindArg::Signature)]
    pub kind: super::args::SignatureKindArg,
    /// Print what was written as JSON
    #[arg(long)]
    pub json: bool,
}

/// Width of the rendered signature; the height follows the pad's aspect ratio.
const SIGNATURE_WIDTH: u32 = 1200;

pub fn run(g: &super::Global, a: CaptureArgs) -> anyhow::Result<ExitCode> {
    match a.what {
        CaptureCommand::Finger(f) => match &f.device.selector {
            AnySelector::Sbi(sel) if sel.sub_id == 0 => {
                let sel = sel.clone();
                super::capture_sbi::single(&g.home_dir(), &sel, f)
            }
            AnySelector::Sbi(sel) => {
                let sel = sel.clone();
                super::capture_sbi::slap(&g.home_dir(), &sel, f)
            }
            AnySelector::Local(_) => finger(f),
        },
        CaptureCommand::Face(f) => match f.selector.clone() {
            AnySelector::Sbi(sel) => super::capture_sbi::face(&g.home_dir(), &sel, f),
            AnySelector::Local(sel) => face(sel, f),
        },
        CaptureCommand::Signature(s) => signature(s),
    }
}

fn finger(a: FingerArgs) -> anyhow::Result<ExitCode> {
    let Some(out) = a.out else {
        anyhow::bail!(
            "--out-dir is for a slap of an SBI slap scanner (sbi:PORT/DEVICEID/SUBID); one finger \
             from {} goes to --out FILE.png",
            a.device.selector
        );
    };
    anyhow::ensure!(
        a.missing.is_empty() && a.ca.is_empty(),
        "--missing and --ca are for SBI slap scanners (sbi:PORT/DEVICEID/SUBID)"
    );
    let position = FingerPosition::new(a.position.unwrap_or(2)).expect("clap checks 1..=10");
    let control = select::control(a.timeout)?;
    let mut dev = a.device.open()?;
    let info = dev.info().clone();
    let path = dev.path().to_path_buf();
    let scanner = dev.scanner()?;
    let bar = output::waiting(&format!("place the {} on the sensor", position.name_en()));
    if !bar.is_shown() && !a.json {
        output::note(&format!(
            "place the {} on the sensor of {}…",
            position.name_en(),
            path.display()
        ));
    }
    scanner.set_transfer_progress(bar.progress("image"));
    let begun = Instant::now();
    let result = scanner.capture_finger(&control);
    scanner.set_transfer_progress(None);
    drop(bar);
    let img = match result {
        Ok(img) => img,
        Err(e) => return failed(e, "the finger capture"),
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    anyhow::ensure!(
        img.pixels.len() == (img.width * img.height) as usize,
        "the scanner returned {} bytes for a {} × {} image",
        img.pixels.len(),
        img.width,
        img.height
    );
    write_file(&out, &synth::png_gray(img.width, img.height, &img.pixels))?;
    let report = CaptureFingerOutput {
        out,
        width: img.width,
        height: img.height,
        ppi: img.ppi,
        position: position.code(),
        position_name: position.name_en().into(),
        device: info,
        path,
        capture_ms,
        record: None,
        device_quality: None,
        jemput_quality: None,
    };
    print_finger(&report, a.json)
}

fn face(selector: Selector, a: FaceArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        a.ca.is_empty(),
        "--ca is for SBI cameras (sbi:PORT/DEVICEID/0)"
    );
    let control = select::control(a.timeout)?;
    anyhow::ensure!(
        a.preview_frames == 0 || matches!(selector, Selector::V4l2(_)),
        "--preview-frames is for webcams (v4l2:/dev/videoN) and SBI cameras (sbi:PORT/ID/0); a \
         PTP camera has no preview stream"
    );
    let options = OpenOptions {
        wanted: Some(Capability::Camera),
        camera: CameraOptions {
            max_size: Some(a.max_size),
        },
        ..OpenOptions::default()
    };
    let mut dev = registry::open(&selector, &options)?;
    let info = dev.info().clone();
    let path = dev.path().to_path_buf();
    let cam = dev.camera()?;
    // A camera that streams (a webcam) says its format, may show preview frames, and delivers
    // its still at once; a still camera (PTP) takes its time and downloads the photo.
    let format = cam.stream_format();
    let mut preview = None;
    let bar = match &format {
        Some(format) => {
            if !a.json {
                output::note(&format!("{} on {}: {format}", info.model, path.display()));
            }
            if a.preview_frames > 0 {
                preview = match preview_frames(cam, a.preview_frames, &control, a.json) {
                    Ok(p) => Some(p),
                    Err(e) => return failed(e, "the preview"),
                };
            }
            None
        }
        None => {
            let bar = output::waiting("taking the photo");
            if !bar.is_shown() && !a.json {
                output::note(&format!("taking the photo with {}…", info.model));
            }
            cam.set_transfer_progress(bar.progress("photo"));
            Some(bar)
        }
    };
    let begun = Instant::now();
    let result = cam.capture_photo(&control);
    if bar.is_some() {
        cam.set_transfer_progress(None);
    }
    drop(bar);
    let photo = match result {
        Ok(p) => p,
        Err(e) => return failed(e, "the face photo"),
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    write_file(&a.out, &photo.jpeg)?;
    let report = CaptureFaceOutput {
        out: a.out,
        bytes: photo.jpeg.len(),
        width: photo.width,
        height: photo.height,
        device: info,
        selector: selector.to_string(),
        capture_ms,
        format,
        preview,
        record: None,
        device_quality: None,
    };
    print_face(&report, a.json)
}

fn signature(a: SignatureArgs) -> anyhow::Result<ExitCode> {
    let control = select::control(a.timeout)?;
    let mut dev = a.device.open()?;
    let info = dev.info().clone();
    let path = dev.path().to_path_buf();
    let pad = dev.pad()?;
    let bar = output::waiting("sign on the pad; lift the pen when done");
    if !bar.is_shown() && !a.json {
        output::note(&format!(
            "sign on the pad at {}; lift the pen when done…",
            path.display()
        ));
    }
    let begun = Instant::now();
    let result = pad.record_signature(&control);
    drop(bar);
    let trace = match result {
        Ok(t) => t,
        Err(e) => return failed(e, "the signature"),
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    let file = jemput_core::imaging::signature::SignatureTrace::new(
        jemput_kit::devices::pen_trace(trace),
        a.kind.into(),
        Some(jemput_kit::devices::record(&info)),
        // This bench command applies no calibration: the trace is in the pad's raw units.
        None,
    );
    let img = jemput_core::imaging::signature::render(
        &file,
        &jemput_core::imaging::signature::RenderOptions {
            width: SIGNATURE_WIDTH,
            ..Default::default()
        },
    );
    write_file(&a.out, &jemput_core::imaging::signature::png(&img))?;
    write_file(&a.trace, &file.to_json())?;
    let trace = file.pen_trace();
    let report = CaptureSignatureOutput {
        out: a.out,
        trace: a.trace,
        points: trace.points.len(),
        strokes: strokes(trace.points.iter().map(|p| p.touching)),
        device: info,
        path,
        capture_ms,
    };
    if a.json {
        output::json(&report)?;
    } else {
        println!(
            "{} and {}: {} points in {} strokes from {} {} in {} ms",
            report.out.display(),
            report.trace.display(),
            report.points,
            report.strokes,
            report.device.driver,
            report.device.model,
            report.capture_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}

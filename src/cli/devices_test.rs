//! `jemput devices test <selector>`: is the device alive, what it says it is, one capture (a
//! finger image, a signature, a fix or a photo), and how long each took.

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use jemput::outputs::{CaptureSummary, DeviceTestOutput};
use jemput_drivers::registry::{Capabilities, Identified};
use jemput_drivers::DeviceError;

use super::output;
use super::select::{self, DeviceSelect};

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub device: DeviceSelect,
    /// Seconds to wait for the finger, the signature or the fix
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub timeout: f64,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: TestArgs) -> anyhow::Result<ExitCode> {
    let control = select::control(a.timeout)?;
    let begun = Instant::now();
    let mut dev = a.device.open()?;
    let open_ms = begun.elapsed().as_millis() as u64;
    let info = dev.info().clone();
    let path = dev.path().to_path_buf();
    tracing::info!(path = %path.display(), ?info, open_ms, "device opened");

    let begun = Instant::now();
    let result: Result<CaptureSummary, DeviceError> = match dev.capabilities() {
        Capabilities::Fingerprint(scanner) => {
            let bar = output::waiting("waiting for a finger on the sensor");
            if !bar.is_shown() && !a.json {
                output::note("place a finger on the sensor…");
            }
            scanner.set_transfer_progress(bar.progress("image"));
            let r = scanner.capture_finger(&control);
            scanner.set_transfer_progress(None);
            r.map(|img| CaptureSummary::finger(&img))
        }
        Capabilities::Signature(pad) => {
            let _bar = output::waiting("waiting for a signature on the pad");
            if !a.json {
                output::note("sign on the pad; lift the pen when done…");
            }
            pad.record_signature(&control)
                .map(|t| CaptureSummary::signature(&t))
        }
        Capabilities::Location(gps) => {
            let _bar = output::waiting("waiting for a GPS fix");
            gps.fix(&control)
                .map(|fix| CaptureSummary::Location { fix })
        }
        Capabilities::Camera(cam) => {
            let bar = output::waiting("taking a photo");
            cam.set_transfer_progress(bar.progress("photo"));
            let r = cam.capture_photo(&control);
            cam.set_transfer_progress(None);
            r.map(|p| CaptureSummary::Photo {
                width: p.width,
                height: p.height,
                bytes: p.jpeg.len(),
            })
        }
        _ => Err(DeviceError::NotSupported(
            "this kind of device in `devices test`",
        )),
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    let interrupted = matches!(result, Err(DeviceError::Cancelled));
    let (capture, error) = match result {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let report = DeviceTestOutput {
        selector: a.device.selector.to_string(),
        path,
        simulated: dev.sim().is_some(),
        identified_by: dev.identified_by(),
        capability: dev.capability(),
        info,
        open_ms,
        ok: capture.is_some(),
        capture,
        capture_ms,
        error,
    };
    drop(dev);
    if a.json {
        output::json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(match (report.ok, interrupted) {
        (true, _) => ExitCode::SUCCESS,
        (false, true) => ExitCode::from(super::interrupt::EXIT_INTERRUPTED),
        (false, false) => ExitCode::FAILURE,
    })
}

fn print_report(r: &DeviceTestOutput) {
    let how = match r.identified_by {
        Identified::Sim => "device model started in-process",
        Identified::Hint => "driver named with --driver",
        Identified::IdTable => "driver from the USB id",
        Identified::Probe => "driver found by probing",
        Identified::DeviceClass => "driver from the node's V4L2 capabilities",
    };
    println!("device     {} on {} ({how})", r.selector, r.path.display());
    println!(
        "identity   {} {}, serial {}, firmware {}",
        r.info.driver,
        r.info.model,
        r.info.serial.as_deref().unwrap_or("-"),
        r.info.firmware.as_deref().unwrap_or("-")
    );
    println!("open       {} ms", r.open_ms);
    match &r.capture {
        Some(CaptureSummary::Finger {
            width,
            height,
            ppi,
            grey_levels,
        }) => println!(
            "capture    finger image {width} × {height} at {ppi} ppi, {grey_levels} grey levels, in {} ms",
            r.capture_ms
        ),
        Some(CaptureSummary::Signature {
            points,
            pen_down_points,
            strokes,
            extent_x,
            extent_y,
            duration_ms,
        }) => println!(
            "capture    signature of {points} points ({pen_down_points} pen down, {strokes} strokes, {duration_ms} ms) on a {extent_x} × {extent_y} pad, in {} ms",
            r.capture_ms
        ),
        Some(CaptureSummary::Location { fix }) => println!(
            "capture    fix {:.6}, {:.6}{} at unix time {}, in {} ms",
            fix.lat,
            fix.lon,
            fix.accuracy_m
                .map(|m| format!(" ±{m:.0} m"))
                .unwrap_or_default(),
            fix.unix_time,
            r.capture_ms
        ),
        Some(CaptureSummary::Photo {
            width,
            height,
            bytes,
        }) => println!(
            "capture    photo {width} × {height} JPEG ({bytes} bytes), in {} ms",
            r.capture_ms
        ),
        None => println!(
            "capture    FAILED after {} ms: {}",
            r.capture_ms,
            r.error.as_deref().unwrap_or("unknown error")
        ),
    }
    println!("result     {}", if r.ok { "ok" } else { "failed" });
}

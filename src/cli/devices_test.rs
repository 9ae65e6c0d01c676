//! `jemput devices test <selector>`: is the device alive, what it says it is, one capture (a
//! finger image, a signature, a fix or a photo), and how long each took.

use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use jemput::outputs::{CaptureSummary, DeviceTestOutput, SbiFingerSummary};
use jemput_drivers::registry::{Capabilities, Identified};
use jemput_drivers::DeviceError;

use super::output;
use super::select::{self, AnySelector, DeviceSelect};

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

pub fn run(g: &super::Global, a: TestArgs) -> anyhow::Result<ExitCode> {
    if let AnySelector::Sbi(sel) = &a.device.selector {
        return sbi_test(&g.home_dir(), sel, &a);
    }
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
            r.map(|p| CaptureSummary::photo(&p))
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
    finish(&report, a.json, interrupted)
}

/// Prints the report and gives the exit status: 130 when Ctrl-C cut the capture short.
fn finish(report: &DeviceTestOutput, json: bool, interrupted: bool) -> anyhow::Result<ExitCode> {
    if json {
        output::json(report)?;
    } else {
        print_report(report);
    }
    Ok(match (report.ok, interrupted) {
        (true, _) => ExitCode::SUCCESS,
        (false, true) => ExitCode::from(super::interrupt::EXIT_INTERRUPTED),
        (false, false) => ExitCode::FAILURE,
    })
}

/// `devices test sbi:PORT/ID/SUB`: the kit's own SBI device ([`jemput_kit::sbi::SbiDevice`], as
/// `capture`, `visit capture` and `jemput ui` open it) found by the service's discovery (its time
/// is the "open" time), then one capture, accepted only after every check against the kit's trust
/// store (signatures, CA, transaction, time, hash chain, counts): a face, a slap's fingers or one
/// finger ("UNKNOWN") of a single-finger scanner.
fn sbi_test(
    home: &std::path::Path,
    sel: &jemput_sbi::client::SbiSelector,
    a: &TestArgs,
) -> anyhow::Result<ExitCode> {
    use jemput_drivers::registry::Capability;
    use jemput_kit::sbi::{SbiDevice, SbiFingerDevice, SlapError};
    let trust = super::sbi::kit_trust(home, &[])?;
    let control = select::control(a.timeout)?;
    let begun = Instant::now();
    let mut dev = SbiDevice::open(sel, trust)?;
    let open_ms = begun.elapsed().as_millis() as u64;
    let info = dev.info().clone();
    let (capability, what) = match &dev {
        SbiDevice::Camera(_) => (Capability::Camera, "look at the camera…"),
        SbiDevice::Finger(SbiFingerDevice::Single(_)) => {
            (Capability::Fingerprint, "place a finger on the scanner…")
        }
        SbiDevice::Finger(SbiFingerDevice::Slap(_)) => {
            (Capability::Fingerprint, "place the fingers on the scanner…")
        }
    };
    if !a.json {
        output::note(what);
    }
    let begun = Instant::now();
    let result: Result<CaptureSummary, DeviceError> = match &mut dev {
        SbiDevice::Camera(cam) => cam
            .capture_face(&control)
            .map(|(p, _)| CaptureSummary::photo(&p)),
        SbiDevice::Finger(SbiFingerDevice::Single(scanner)) => {
            scanner.capture_one(None, &control).map(|(image, _, b)| {
                let name = b.bio_sub_type.unwrap_or_default();
                CaptureSummary::SbiFingers {
                    fingers: vec![SbiFingerSummary::of(name, &image, b.quality_score)],
                }
            })
        }
        SbiDevice::Finger(SbiFingerDevice::Slap(scanner)) => {
            let slap = scanner.default_slap();
            match scanner.capture_slap(slap, &[], &control) {
                Ok(got) => Ok(CaptureSummary::SbiFingers {
                    fingers: got
                        .into_iter()
                        .map(|f| SbiFingerSummary::of(f.name, &f.image, f.device_quality))
                        .collect(),
                }),
                Err(SlapError::Device(e)) => Err(e),
                // Only a slap with every finger missing, and none is sent as missing here.
                Err(SlapError::Sbi(e)) => return Err(e.into()),
            }
        }
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    let interrupted = matches!(result, Err(DeviceError::Cancelled));
    let (capture, error) = match result {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let report = DeviceTestOutput {
        selector: sel.to_string(),
        path: format!("http://127.0.0.1:{}/", sel.port).into(),
        simulated: false,
        identified_by: Identified::SbiDiscovery,
        capability,
        info,
        open_ms,
        ok: capture.is_some(),
        capture,
        capture_ms,
        error,
    };
    finish(&report, a.json, interrupted)
}

fn print_report(r: &DeviceTestOutput) {
    let how = match r.identified_by {
        Identified::Sim => "device model started in-process",
        Identified::Hint => "driver named with --driver",
        Identified::IdTable => "driver from the USB id",
        Identified::Probe => "driver found by probing",
        Identified::DeviceClass => "driver from the node's V4L2 capabilities",
        Identified::SbiDiscovery => "listed by the SBI device service's discovery",
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
        Some(CaptureSummary::SbiFingers { fingers }) => {
            println!(
                "capture    {} finger(s), every signature and the hash chain checked, in {} ms",
                fingers.len(),
                r.capture_ms
            );
            for f in fingers {
                println!(
                    "           {:<18} {} × {}  device quality {:>5.1}  jemput-fq {:>3}",
                    f.bio_sub_type, f.width, f.height, f.device_quality, f.jemput_quality
                );
            }
        }
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

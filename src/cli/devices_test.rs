//! `jemput devices test <selector>`: is the device alive, what it says it is, one capture (a
//! finger image, a signature, a fix or a photo), and how long each took.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use clap::Args;
use jemput::outputs::{CaptureSummary, DeviceTestOutput};
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

/// `devices test sbi:PORT/ID/SUB`: the service's discovery must list the device (its time is the
/// "open" time), then one registration capture, accepted only after every check against the
/// kit's trust store (signatures, CA, transaction, time, hash chain, counts).
fn sbi_test(
    home: &std::path::Path,
    sel: &jemput_sbi::client::SbiSelector,
    a: &TestArgs,
) -> anyhow::Result<ExitCode> {
    use jemput_sbi::client;
    let trust = super::sbi::kit_trust(home, &[])?;
    let timeout = std::time::Duration::try_from_secs_f64(a.timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout takes a positive number of seconds")?;
    let runtime = super::sbi::runtime()?;
    let begun = Instant::now();
    let found = runtime
        .block_on(client::discover(sel.port, client::SCAN_TIMEOUT))
        .with_context(|| format!("{sel}: no SBI device service answered discovery"))?;
    let sub = sel.sub_id.to_string();
    let dev = found
        .iter()
        .find(|d| d.device_id == sel.device_id && d.device_sub_id.contains(&sub))
        .with_context(|| {
            format!(
                "{sel}: the device service on port {} lists no device {} with sub-id {sub} \
                 (`jemput devices` lists what it has)",
                sel.port, sel.device_id
            )
        })?;
    let open_ms = begun.elapsed().as_millis() as u64;
    // Discovery's digital ID is unsigned: it names the device here, the capture's signed one is
    // what the capture is checked against.
    let id: Option<jemput_sbi::proto::DigitalId> =
        jemput_sbi::jws::unsigned_payload(&dev.digital_id)
            .and_then(|b| serde_json::from_slice(&b).ok());
    // Sub-id 0 is a camera or a single-finger scanner: discovery's digital ID says which.
    let bio_type = match (&id, sel.sub_id) {
        (Some(i), 0) if i.kind == "Finger" => "Finger",
        (_, 0) => "Face",
        _ => "Finger",
    };
    let capability = if bio_type == "Face" {
        jemput_drivers::registry::Capability::Camera
    } else {
        jemput_drivers::registry::Capability::Fingerprint
    };
    if !a.json {
        output::note(match (capability, sel.sub_id) {
            (jemput_drivers::registry::Capability::Camera, _) => "look at the camera…",
            (_, 0) => "place a finger on the scanner…",
            _ => "place the fingers on the scanner…",
        });
    }
    let ask = super::sbi::ask_for(sel, bio_type, None, vec![], 40, timeout);
    let begun = Instant::now();
    let got = runtime.block_on(client::capture(
        &ask,
        &trust,
        &client::new_transaction_id(),
        "",
    ));
    let capture_ms = begun.elapsed().as_millis() as u64;
    let (capture, error) = match got
        .map_err(anyhow::Error::new)
        .and_then(|g| sbi_summary(&g))
    {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    let report = DeviceTestOutput {
        selector: sel.to_string(),
        path: format!("http://127.0.0.1:{}/", sel.port).into(),
        simulated: false,
        identified_by: Identified::SbiDiscovery,
        capability,
        info: jemput_drivers::DeviceInfo {
            driver: "sbi".into(),
            model: id
                .as_ref()
                .map(|i| format!("{} {} ({})", i.make, i.model, dev.certification))
                .unwrap_or_else(|| format!("SBI device {}", dev.device_id)),
            serial: Some(dev.device_code.clone()),
            firmware: Some(format!("SBI {}", dev.service_version)),
        },
        open_ms,
        ok: capture.is_some(),
        capture,
        capture_ms,
        error,
    };
    finish(&report, a.json, false)
}

/// What a verified SBI capture holds, without its images.
fn sbi_summary(got: &[jemput_sbi::verify::VerifiedBiometric]) -> anyhow::Result<CaptureSummary> {
    if let Some(face) = got.iter().find(|b| b.bio_type == "Face") {
        let rec = jemput_core::iso19794::read_face_record(&face.record)
            .context("the ISO/IEC 19794-5 record")?;
        let img = rec
            .images
            .first()
            .context("the face record holds no image")?;
        return Ok(CaptureSummary::Photo {
            width: u32::from(img.width),
            height: u32::from(img.height),
            bytes: img.image.len(),
        });
    }
    let mut fingers = Vec::new();
    for b in got {
        let name = b.bio_sub_type.clone().unwrap_or_default();
        let rec = jemput_core::iso19794::read_finger_record(&b.record)
            .with_context(|| format!("{name}: the ISO/IEC 19794-4 record"))?;
        let rep = rec
            .images
            .first()
            .context("the finger record holds no image")?;
        let (_, jemput_quality) = super::sbi::finger_image(&name, &b.record)?;
        fingers.push(jemput::outputs::SbiFingerSummary {
            bio_sub_type: name,
            width: u32::from(rep.width),
            height: u32::from(rep.height),
            device_quality: b.quality_score,
            jemput_quality,
        });
    }
    Ok(CaptureSummary::SbiFingers { fingers })
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

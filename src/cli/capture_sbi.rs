//! `jemput capture face|finger sbi:PORT/DEVICEID/SUBID`: a capture through a device of an SBI
//! device service (a camera, a single-finger scanner, a slap scanner), by the kit's own SBI
//! devices (`jemput_kit::sbi`). Every answer is checked in full against the kit's trust store
//! before anything is written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use jemput::outputs::{
    CaptureFaceOutput, CaptureFingerOutput, CaptureSlapOutput, SlapFingerOutput,
};
use jemput_core::finger::FingerPosition;
use jemput_core::imaging::quality::{FingerQuality, JemputFq};
use jemput_drivers::Device;
use jemput_kit::sbi::{SbiCamera, SbiFingerScanner, SbiSlapScanner, SlapError};
use jemput_sbi::client::SbiSelector;

use super::capture_common::{
    failed, preview_frames, print_face, print_finger, write_file, FaceArgs, FingerArgs,
};
use super::{output, select};

/// The extension of a face's original record written beside its JPEG.
const FACE_RECORD_EXT: &str = "iso19794-5";
/// The extension of a finger's original record.
const FINGER_RECORD_EXT: &str = "iso19794-4";

/// `capture face sbi:…`: the photo (the record's JPEG) and the original record beside it.
pub fn face(home: &Path, sel: &SbiSelector, a: FaceArgs) -> anyhow::Result<ExitCode> {
    let trust = super::sbi::kit_trust(home, &a.ca)?;
    let control = select::control(a.timeout)?;
    let mut cam = SbiCamera::open(sel, trust)?;
    let info = cam.info().clone();
    // The device's STREAM preview first, as a webcam's (frames unsigned: only the capture is kept).
    let preview = match a.preview_frames {
        0 => None,
        n => match preview_frames(&mut cam, n, &control, a.json) {
            Ok(p) => Some(p),
            Err(e) => return failed(e, "the preview"),
        },
    };
    if !a.json {
        output::note(&format!("look at the camera of {}…", info.model));
    }
    let begun = Instant::now();
    let (photo, face) = match cam.capture_face(&control) {
        Ok(got) => got,
        Err(e) => return failed(e, "the face photo"),
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    let record = a.out.with_extension(FACE_RECORD_EXT);
    write_file(&a.out, &photo.jpeg)?;
    write_file(&record, &face.record)?;
    let report = CaptureFaceOutput {
        out: a.out,
        bytes: photo.jpeg.len(),
        width: photo.width,
        height: photo.height,
        device: info,
        selector: sel.to_string(),
        capture_ms,
        format: None,
        preview,
        record: Some(record),
        device_quality: Some(face.quality_score),
    };
    print_face(&report, a.json)
}

/// `capture finger sbi:PORT/ID/0`: one finger of a single-finger scanner, the one `--finger`
/// names, as a PNG (decoded from the record) with the original record beside it.
pub fn single(home: &Path, sel: &SbiSelector, a: FingerArgs) -> anyhow::Result<ExitCode> {
    let Some(out) = a.out.clone() else {
        anyhow::bail!(
            "{sel} is an SBI single-finger scanner: one finger goes to --out FILE.png (--out-dir \
             is for the fingers of a slap scanner's slap)"
        );
    };
    anyhow::ensure!(
        a.device.driver.is_none() && a.device.baud.is_none(),
        "--driver and --baud are for the kit's own scanners, not {sel}"
    );
    anyhow::ensure!(
        a.missing.is_empty(),
        "--missing is for a slap scanner's slap; a single-finger scanner takes the finger \
         --finger names"
    );
    let trust = super::sbi::kit_trust(home, &a.ca)?;
    let control = select::control(a.timeout)?;
    let position = FingerPosition::new(a.position.unwrap_or(2)).expect("clap checks 1..=10");
    let mut scanner = SbiFingerScanner::open(sel, trust)?;
    let info = jemput_drivers::Device::info(&scanner).clone();
    let bar = output::waiting(&format!("place the {} on the scanner", position.name_en()));
    if !bar.is_shown() && !a.json {
        output::note(&format!(
            "place the {} on the scanner of {}…",
            position.name_en(),
            info.model
        ));
    }
    let begun = Instant::now();
    let result = scanner.capture_one(Some(position), &control);
    drop(bar);
    let (image, ppi, finger) = match result {
        Ok(got) => got,
        Err(e) => return failed(e, "the finger capture"),
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    // The whole answer passed every check: only now is anything written.
    let record = out.with_extension(FINGER_RECORD_EXT);
    write_file(&out, &jemput_drivers::synth::png_gray_image(&image))?;
    write_file(&record, &finger.record)?;
    let report = CaptureFingerOutput {
        out,
        width: image.width(),
        height: image.height(),
        ppi,
        position: position.code(),
        position_name: position.name_en().into(),
        device: info,
        path: format!("http://127.0.0.1:{}/", sel.port).into(),
        capture_ms,
        record: Some(record),
        device_quality: Some(finger.quality_score),
        jemput_quality: Some(JemputFq.score(&image).score),
    };
    print_finger(&report, a.json)
}

/// The file name of a finger of a slap, without extension: `07-left-index`.
fn finger_stem(p: FingerPosition) -> String {
    format!("{:02}-{}", p.code(), p.name_en().replace(' ', "-"))
}

/// `capture finger sbi:…`: one slap, each finger as a PNG and its original record in `--out-dir`.
pub fn slap(home: &Path, sel: &SbiSelector, a: FingerArgs) -> anyhow::Result<ExitCode> {
    let Some(out_dir) = a.out_dir.clone() else {
        anyhow::bail!(
            "{sel} is an SBI slap scanner: a slap gives several fingers, so name a directory for \
             them with --out-dir DIR (instead of --out)"
        );
    };
    anyhow::ensure!(
        a.device.driver.is_none() && a.device.baud.is_none(),
        "--driver and --baud are for the kit's own scanners, not {sel}"
    );
    let trust = super::sbi::kit_trust(home, &a.ca)?;
    let control = select::control(a.timeout)?;
    let mut scanner = SbiSlapScanner::open(sel, trust)?;
    let info = scanner.info().clone();
    let slap = scanner.default_slap();
    let missing: Vec<FingerPosition> = a
        .missing
        .iter()
        .filter_map(|&c| FingerPosition::new(c))
        .collect();
    let sent: Vec<u8> = slap
        .fingers()
        .into_iter()
        .filter(|f| missing.contains(f))
        .map(FingerPosition::code)
        .collect();
    let bar = output::waiting(&format!("place the {} on the scanner", slap.name()));
    if !bar.is_shown() && !a.json {
        output::note(&format!(
            "place the {} on the scanner of {}…",
            slap.name(),
            info.model
        ));
    }
    let begun = Instant::now();
    let result = scanner.capture_slap(slap, &missing, &control);
    drop(bar);
    let fingers = match result {
        Ok(f) => f,
        Err(SlapError::Device(e)) => return failed(e, &format!("the {}", slap.name())),
        Err(SlapError::Sbi(e)) => return Err(e.into()),
    };
    let capture_ms = begun.elapsed().as_millis() as u64;
    // The whole answer passed every check: only now is anything written.
    let mut written = Vec::with_capacity(fingers.len());
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for f in &fingers {
        let stem = finger_stem(f.position);
        let image = out_dir.join(format!("{stem}.png"));
        let record = out_dir.join(format!("{stem}.{FINGER_RECORD_EXT}"));
        files.push((
            image.clone(),
            jemput_drivers::synth::png_gray_image(&f.image),
        ));
        files.push((record.clone(), f.record.clone()));
        written.push(SlapFingerOutput {
            position: f.position.code(),
            position_name: f.position.name_en().into(),
            bio_sub_type: f.name.clone(),
            image,
            record,
            width: f.image.width(),
            height: f.image.height(),
            ppi: f.ppi,
            device_quality: f.device_quality,
            jemput_quality: JemputFq.score(&f.image).score,
            hash: f.hash.clone(),
        });
    }
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    for (path, bytes) in &files {
        write_file(path, bytes)?;
    }
    let report = CaptureSlapOutput {
        selector: sel.to_string(),
        slap: slap.name().into(),
        out_dir,
        missing: sent,
        transaction_id: scanner.transaction_id().to_string(),
        device: info,
        capture_ms,
        fingers: written,
    };
    if a.json {
        output::json(&report)?;
    } else {
        println!(
            "{} from {} {} in {} ms{}:",
            report.slap,
            report.device.driver,
            report.device.model,
            report.capture_ms,
            if report.missing.is_empty() {
                String::new()
            } else {
                format!(
                    " (missing: {})",
                    report
                        .missing
                        .iter()
                        .map(u8::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        for f in &report.fingers {
            println!(
                "  {:<13} {} × {} at {} ppi  device quality {:>5.1}  jemput-fq {:>3}  {}",
                f.position_name,
                f.width,
                f.height,
                f.ppi,
                f.device_quality,
                f.jemput_quality,
                f.image.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

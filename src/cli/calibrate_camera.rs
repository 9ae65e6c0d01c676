//! `jemput calibrate <camera>`: reads the exposure and white balance device properties a PTP
//! camera exposes (GetDevicePropDesc), sets the ones asked for (`--white-balance`,
//! `--exposure-bias`, `--iso`; SetDevicePropValue) and keeps the record in the kit home under the
//! camera's identity. Properties the camera does not expose over PTP are listed as such: set those
//! in the camera's own menu. A visit's face photo taken with that camera then records the record's
//! id as its `calibration_id` (looked up by the camera's identity, [`calibration::current_id`]).

use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use jemput_drivers::ptp::props::{code, CALIBRATION_PROPERTIES, WHITE_BALANCE_NAMES};
use jemput_drivers::ptp::{self, AnyCamera, DevicePropDesc, PropForm, PropValue, PtpConfig};
use jemput_drivers::registry::Capability;
use jemput_drivers::{Device, Selector};
use jemput_kit::calibration::{self, CalibrationRecord};

use super::calibrate::{calibration_id, CalDriver, CalibrateArgs};

/// White balance settings `--white-balance` takes (PTP WhiteBalance values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhiteBalance {
    Auto,
    Daylight,
    Fluorescent,
    Tungsten,
    Flash,
}

impl WhiteBalance {
    fn value(self) -> i128 {
        match self {
            WhiteBalance::Auto => 2,
            WhiteBalance::Daylight => 4,
            WhiteBalance::Fluorescent => 5,
            WhiteBalance::Tungsten => 6,
            WhiteBalance::Flash => 7,
        }
    }
}

/// Whether the arguments name a camera: `sim:ptp`, `--driver ptp`, or a USB selector that the
/// USB listing shows as a PTP camera.
pub fn is_camera(a: &CalibrateArgs) -> bool {
    if a.driver == Some(CalDriver::Ptp) || ptp::is_sim(&a.selector) {
        return true;
    }
    if a.driver.is_some() {
        return false;
    }
    match &a.selector {
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
            jemput_drivers::usb_registry::list_usb().iter().any(|d| {
                d.drivers.iter().any(|c| c.capability == Capability::Camera)
                    && match &a.selector {
                        Selector::UsbId { vid, pid, .. } => d.usb.as_ref().is_some_and(|u| {
                            u.vid == format!("{vid:04x}") && u.pid == format!("{pid:04x}")
                        }),
                        Selector::UsbPort(p) => d.usb_port.as_deref() == Some(p.as_str()),
                        _ => false,
                    }
            })
        }
        _ => false,
    }
}

fn name_of(code: u16) -> &'static str {
    CALIBRATION_PROPERTIES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("property", |(_, n)| n)
}

fn show(code_: u16, v: &PropValue) -> String {
    match (code_, v.as_int()) {
        (code::WHITE_BALANCE, Some(n)) => WHITE_BALANCE_NAMES
            .iter()
            .find(|(k, _)| i128::from(*k) == n)
            .map_or(format!("{n}"), |(_, name)| format!("{name} ({n})")),
        (code::EXPOSURE_BIAS_COMPENSATION, Some(n)) => format!("{:+.2} EV", n as f64 / 1000.0),
        _ => v.to_string(),
    }
}

fn allowed(desc: &DevicePropDesc) -> String {
    match &desc.form {
        PropForm::None => "any value of its type".into(),
        PropForm::Range { min, max, step } => format!(
            "{} to {} in steps of {}",
            show(desc.code, min),
            show(desc.code, max),
            show(desc.code, step).trim_start_matches('+')
        ),
        PropForm::Enumeration(v) => v
            .iter()
            .map(|v| show(desc.code, v))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Sets `code` to `value` where the camera exposes it, allows it and lets the host write it.
fn set(cam: &mut AnyCamera, code_: u16, value: PropValue) -> anyhow::Result<()> {
    let name = name_of(code_);
    anyhow::ensure!(
        cam.has_property(code_),
        "the camera does not expose {name} ({code_:#06x}) over PTP; set it in the camera's own menu"
    );
    let desc = cam
        .property_desc(code_)
        .with_context(|| format!("reading {name}"))?;
    anyhow::ensure!(
        desc.writable,
        "the camera lets jemput read {name} but not set it; set it in the camera's own menu"
    );
    anyhow::ensure!(
        desc.allows(&value),
        "the camera does not allow {name} {}; it allows {}",
        show(code_, &value),
        allowed(&desc)
    );
    cam.set_property(code_, desc.data_type, &value)
        .with_context(|| format!("setting {name}"))
}

pub fn run(home_root: &std::path::Path, a: &CalibrateArgs) -> anyhow::Result<ExitCode> {
    let mut cam = ptp::open_camera(&a.selector, PtpConfig::default())?;
    let mut wanted: Vec<(u16, PropValue)> = Vec::new();
    if let Some(wb) = a.white_balance {
        wanted.push((code::WHITE_BALANCE, PropValue::Int(wb.value())));
    }
    if let Some(ev) = a.exposure_bias {
        anyhow::ensure!(
            ev.is_finite() && ev.abs() <= 10.0,
            "--exposure-bias takes EV between -10 and 10"
        );
        wanted.push((
            code::EXPOSURE_BIAS_COMPENSATION,
            PropValue::Int((ev * 1000.0).round() as i128),
        ));
    }
    if let Some(iso) = a.iso {
        wanted.push((code::EXPOSURE_INDEX, PropValue::Int(iso.into())));
    }
    let mut set_values = serde_json::Map::new();
    for (c, v) in wanted {
        set(&mut cam, c, v.clone())?;
        set_values.insert(name_of(c).into(), serde_json::to_value(&v)?);
    }

    let mut properties = serde_json::Map::new();
    let mut not_exposed = Vec::new();
    let mut lines = Vec::new();
    for &(c, name) in CALIBRATION_PROPERTIES {
        if !cam.has_property(c) {
            not_exposed.push(name);
            continue;
        }
        let desc = cam
            .property_desc(c)
            .with_context(|| format!("reading {name}"))?;
        lines.push(format!(
            "{name:<20} {:<18} {} (allowed: {})",
            show(c, &desc.current),
            if desc.writable {
                "settable"
            } else {
                "read-only"
            },
            allowed(&desc)
        ));
        properties.insert(name.into(), serde_json::to_value(&desc)?);
    }
    let data = serde_json::json!({
        "properties": properties,
        "set": set_values,
        "not_exposed": not_exposed,
    });
    let record = CalibrationRecord {
        id: calibration_id("ptp", &data),
        device: cam.info().clone(),
        created_at: jiff::Timestamp::now(),
        data,
    };
    let file = calibration::save(home_root, &record)?;
    if a.json {
        super::output::json(&record)?;
        return Ok(ExitCode::SUCCESS);
    }
    if properties_empty(&record) {
        super::output::note(
            "the camera exposes no exposure or white balance properties over PTP: set them in the \
             camera's own menu (the record notes that nothing could be read)",
        );
    }
    for l in &lines {
        println!("{l}");
    }
    if !not_exposed.is_empty() {
        println!("not exposed over PTP: {}", not_exposed.join(", "));
    }
    println!("calibration {} saved ({})", record.id, file.display());
    // Nothing takes the visit's face photo from a PTP camera yet (enrollment uses the synthetic
    // face); the record is kept under the camera's identity for when it does.
    println!(
        "the record is kept under this camera's identity (captures do not reference it yet: the \
         visit's face photo does not come from a camera yet)"
    );
    Ok(ExitCode::SUCCESS)
}

fn properties_empty(r: &CalibrationRecord) -> bool {
    r.data["properties"]
        .as_object()
        .is_none_or(|m| m.is_empty())
}

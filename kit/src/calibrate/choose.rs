//! Which device a `jemput calibrate` selector names and what it is calibrated as — refusing,
//! before anything is opened, what cannot be calibrated or needs its driver named — and opening
//! it through the driver registry: a real device by selector, a `sim:` one on a device model
//! that lets a calibration through (a pad that taps its corners, a module whose sensor stays
//! empty).

use jemput_drivers::ef01::ModelOptions;
use jemput_drivers::isdv4::{Handwriting, Isdv4ModelConfig};
use jemput_drivers::ptp::{self, OpenCameraError};
use jemput_drivers::registry::{self, Capability, ModelDevice, OpenOptions, OpenedDevice};
use jemput_drivers::Selector;

use super::error::CalibrateError;

/// The driver of the device to calibrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalDriver {
    Ef01,
    Isdv4,
    /// A PTP camera (exposure and white balance).
    Ptp,
}

impl CalDriver {
    /// The driver's name in the registry.
    fn name(self) -> &'static str {
        match self {
            CalDriver::Ef01 => "ef01",
            CalDriver::Isdv4 => "isdv4",
            CalDriver::Ptp => "ptp",
        }
    }

    /// What its devices are opened and calibrated as.
    fn capability(self) -> Capability {
        match self {
            CalDriver::Ef01 => Capability::Fingerprint,
            CalDriver::Isdv4 => Capability::Signature,
            CalDriver::Ptp => Capability::Camera,
        }
    }
}

/// Whether the selector names a camera: `sim:ptp`, `--driver ptp`, or a USB selector that the
/// USB listing shows as a PTP camera.
pub fn is_camera(selector: &Selector, driver: Option<CalDriver>) -> bool {
    if driver == Some(CalDriver::Ptp) || ptp::is_sim(selector) {
        return true;
    }
    if driver.is_some() {
        return false;
    }
    match selector {
        Selector::UsbId { .. } | Selector::UsbPort(_) => registry::list_usb().iter().any(|d| {
            d.drivers.iter().any(|c| c.capability == Capability::Camera)
                && match selector {
                    Selector::UsbId { vid, pid, .. } => d.usb.as_ref().is_some_and(|u| {
                        u.vid == format!("{vid:04x}") && u.pid == format!("{pid:04x}")
                    }),
                    Selector::UsbPort(p) => d.usb_port.as_deref() == Some(p.as_str()),
                    _ => false,
                }
        }),
        _ => false,
    }
}

/// Opens the PTP camera `selector` names: by USB id or port, or the camera model of
/// `sim:ptp[:n]`. Any other selector is refused before anything is opened.
pub(super) fn open_camera(selector: &Selector) -> Result<OpenedDevice, CalibrateError> {
    if !matches!(selector, Selector::UsbId { .. } | Selector::UsbPort(_)) && !ptp::is_sim(selector)
    {
        return Err(CalibrateError::NotACamera(OpenCameraError::NotACamera {
            selector: selector.to_string(),
        }));
    }
    open(selector, None, None, Capability::Camera)
}

/// Opens the serial device `selector` names — a pen pad or an EF01 module — as its driver's
/// capability: a tty path with its driver named, a USB adapter whose driver its id tells (or
/// `driver` names), or `sim:isdv4` / `sim:ef01`. Other selectors are refused before anything is
/// opened.
pub(super) fn open_serial(
    selector: &Selector,
    driver: Option<CalDriver>,
    baud: Option<u32>,
) -> Result<OpenedDevice, CalibrateError> {
    match selector {
        Selector::Tty(p) => {
            let d = driver.ok_or_else(|| CalibrateError::DriverNeeded(p.clone()))?;
            open(selector, Some(d), baud, d.capability())
        }
        Selector::Sim { model, .. } if model == "isdv4" => {
            let pad = Isdv4ModelConfig {
                handwriting: Handwriting::CornerTaps,
                ..Default::default()
            }
            .fast();
            open_model(CalDriver::Isdv4, pad.into())
        }
        Selector::Sim { model, .. } if model == "ef01" => {
            let module = ModelOptions {
                finger_after_polls: u32::MAX,
                ..ModelOptions::fast()
            };
            open_model(CalDriver::Ef01, module.into())
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
            let d = match driver {
                Some(d) => d,
                None => port_driver(selector)?,
            };
            open(selector, Some(d), baud, d.capability())
        }
        other => Err(CalibrateError::Unsupported(other.to_string())),
    }
}

/// The serial driver of the port a USB selector names, when its USB id tells; several (a
/// USB-serial bridge that many devices sit behind), or none of the drivers calibration takes,
/// need `--driver`.
fn port_driver(selector: &Selector) -> Result<CalDriver, CalibrateError> {
    let found = registry::list_serial();
    let dev = registry::resolve(selector, &found)?;
    let names: Vec<&str> = dev.drivers.iter().map(|c| c.driver.as_str()).collect();
    match names.as_slice() {
        ["ef01"] => Ok(CalDriver::Ef01),
        ["isdv4"] => Ok(CalDriver::Isdv4),
        many => Err(CalibrateError::AmbiguousDriver {
            path: dev.path.clone(),
            drivers: many.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

/// Opens a device by selector through the registry, as `wanted`; `driver` names a serial
/// driver.
fn open(
    selector: &Selector,
    driver: Option<CalDriver>,
    baud: Option<u32>,
    wanted: Capability,
) -> Result<OpenedDevice, CalibrateError> {
    let options = OpenOptions {
        driver: driver.map(|d| d.name().to_string()),
        baud,
        wanted: Some(wanted),
        ..OpenOptions::default()
    };
    Ok(registry::open(selector, &options)?)
}

/// Opens `driver` on a device model this module configured, through the registry.
fn open_model(driver: CalDriver, model: ModelDevice) -> Result<OpenedDevice, CalibrateError> {
    let options = OpenOptions {
        wanted: Some(driver.capability()),
        ..OpenOptions::default()
    };
    Ok(registry::open_model(driver.name(), model, true, &options)?)
}

//! `jemput calibrate <selector>`: calibrate a device and keep the record in the kit home; later
//! captures with the device reference its calibration id. The kit (`jemput_kit::calibrate`)
//! opens the device through the driver registry, and its driver calibrates it:
//!
//! - ISDV4 pad: the operator taps the top-left, then the bottom-right corner of the signing area;
//!   the mapping from digitizer units to the area is stored.
//! - EF01 module: packet size and security level are checked and set (persisted) to the kit's
//!   values, and a blank-sensor baseline is taken: the sensor must report "no finger" on three polls.
//! - PTP camera: exposure and white balance device properties are read and, with
//!   `--white-balance`, `--exposure-bias`, `--iso`, set.
//!
//! Selectors: `VID:PID[:SERIAL]` or `usb:<port>` (resolved through the driver registry; `--driver`
//! when the adapter is shared by several drivers), a tty path with `--driver`, or `sim:isdv4` /
//! `sim:ef01` (a device model on a pty) / `sim:ptp` (the camera model in-process).

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use jemput_drivers::Selector;
use jemput_kit::calibrate::{
    self, CalDriver, CalibrateRequest, Calibrated, CameraSettings, Prompt, WhiteBalance,
};

use super::Global;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CalDriverArg {
    Ef01,
    Isdv4,
    /// A PTP camera (exposure and white balance)
    Ptp,
}

/// White balance settings `--white-balance` takes (PTP WhiteBalance values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhiteBalanceArg {
    Auto,
    Daylight,
    Fluorescent,
    Tungsten,
    Flash,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// A tty path (with --driver), VID:PID[:SERIAL] or usb:<port> of a serial device or a PTP
    /// camera, or sim:ef01 / sim:isdv4 / sim:ptp
    pub selector: Selector,
    /// The driver of a tty path
    #[arg(long)]
    pub driver: Option<CalDriverArg>,
    /// Line speed of a tty path [default: the port's ID table's, else 57600 for ef01, 19200 for
    /// isdv4]
    #[arg(long)]
    pub baud: Option<u32>,
    /// Seconds to wait for the operator
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    #[arg(long)]
    pub json: bool,
    /// Camera: the white balance to set
    #[arg(long, value_enum)]
    pub white_balance: Option<WhiteBalanceArg>,
    /// Camera: the exposure bias to set, in EV (e.g. -0.5, 1)
    #[arg(long, allow_negative_numbers = true, value_name = "EV")]
    pub exposure_bias: Option<f64>,
    /// Camera: the ISO speed to set
    #[arg(long)]
    pub iso: Option<u32>,
}

pub fn run(g: &Global, a: CalibrateArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    let request = CalibrateRequest {
        selector: a.selector,
        driver: a.driver.map(|d| match d {
            CalDriverArg::Ef01 => CalDriver::Ef01,
            CalDriverArg::Isdv4 => CalDriver::Isdv4,
            CalDriverArg::Ptp => CalDriver::Ptp,
        }),
        baud: a.baud,
        timeout: Duration::from_secs(a.timeout),
        camera: CameraSettings {
            white_balance: a.white_balance.map(|w| match w {
                WhiteBalanceArg::Auto => WhiteBalance::Auto,
                WhiteBalanceArg::Daylight => WhiteBalance::Daylight,
                WhiteBalanceArg::Fluorescent => WhiteBalance::Fluorescent,
                WhiteBalanceArg::Tungsten => WhiteBalance::Tungsten,
                WhiteBalanceArg::Flash => WhiteBalance::Flash,
            }),
            exposure_bias: a.exposure_bias,
            iso: a.iso,
        },
    };
    let done = calibrate::calibrate(&home.root, &request, &mut |p| eprintln!("{}", prompt(p)))?;
    if a.json {
        super::output::json(&done.record)?;
    } else {
        print(&done);
    }
    Ok(ExitCode::SUCCESS)
}

/// What the operator is asked to do, in Bahasa Indonesia then English.
fn prompt(p: Prompt) -> &'static str {
    match p {
        Prompt::TapCorners => {
            "Ketuk sudut kiri atas, lalu sudut kanan bawah area tanda tangan / tap the top-left, \
             then the bottom-right corner of the signing area"
        }
    }
}

fn print(done: &Calibrated) {
    let Some(camera) = &done.camera else {
        println!(
            "calibration {} saved ({})",
            done.record.id,
            done.file.display()
        );
        println!(
            "later captures with this {} record it",
            done.record.device.driver
        );
        return;
    };
    if camera.properties.is_empty() {
        super::output::note(
            "the camera exposes no exposure or white balance properties over PTP: set them in the \
             camera's own menu (the record notes that nothing could be read)",
        );
    }
    for p in &camera.properties {
        println!(
            "{:<20} {:<18} {} (allowed: {})",
            p.name,
            p.current,
            if p.writable { "settable" } else { "read-only" },
            p.allowed
        );
    }
    if !camera.not_exposed.is_empty() {
        println!("not exposed over PTP: {}", camera.not_exposed.join(", "));
    }
    println!(
        "calibration {} saved ({})",
        done.record.id,
        done.file.display()
    );
    // A visit's face step looks the record up by the camera's identity and records its id.
    println!(
        "the record is kept under this camera's identity: the face photos it takes record the \
         calibration's id"
    );
}

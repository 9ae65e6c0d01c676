//! `jemput calibrate <selector>`: calibrate a device and keep the record in the kit home; later
//! captures with the device reference its calibration id.
//!
//! - ISDV4 pad: the operator taps the top-left, then the bottom-right corner of the signing area;
//!   the mapping from digitizer units to the area is stored.
//! - EF01 module: packet size and security level are checked and set (persisted) to the kit's
//!   values, and a blank-sensor baseline is taken: the sensor must report "no finger" on three polls.
//!
//! - PTP camera: exposure and white balance device properties are read and, with
//!   `--white-balance`, `--exposure-bias`, `--iso`, set (`calibrate_camera.rs`).
//!
//! Selectors: `VID:PID[:SERIAL]` or `usb:<port>` (resolved through the driver registry; `--driver`
//! when the adapter is shared by several drivers), a tty path with `--driver`, or `sim:isdv4` /
//! `sim:ef01` (a device model on a pty) / `sim:ptp` (the camera model in-process).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use jemput_drivers::ef01::{self, Ef01, Ef01Model, ModelOptions, PacketSize};
use jemput_drivers::isdv4::{Handwriting, Isdv4, Isdv4Config, Isdv4Model, Isdv4ModelConfig};
use jemput_drivers::{CaptureControl, Device, PortLink, Selector};
use jemput_kit::calibration::{self, CalibrationRecord};
use sha2::{Digest, Sha256};

use super::Global;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CalDriver {
    Ef01,
    Isdv4,
    /// A PTP camera (exposure and white balance; see `calibrate_camera.rs`)
    Ptp,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// A tty path (with --driver), VID:PID[:SERIAL] or usb:<port> of a serial device or a PTP
    /// camera, or sim:ef01 / sim:isdv4 / sim:ptp
    pub selector: Selector,
    /// The driver of a tty path
    #[arg(long)]
    pub driver: Option<CalDriver>,
    /// Line speed of a tty path [default: 57600 for ef01, 19200 for isdv4]
    #[arg(long)]
    pub baud: Option<u32>,
    /// Seconds to wait for the operator
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    #[arg(long)]
    pub json: bool,
    /// Camera: the white balance to set
    #[arg(long, value_enum)]
    pub white_balance: Option<super::calibrate_camera::WhiteBalance>,
    /// Camera: the exposure bias to set, in EV (e.g. -0.5, 1)
    #[arg(long, allow_negative_numbers = true, value_name = "EV")]
    pub exposure_bias: Option<f64>,
    /// Camera: the ISO speed to set
    #[arg(long)]
    pub iso: Option<u32>,
}

pub(super) fn calibration_id(prefix: &str, data: &serde_json::Value) -> String {
    let d = Sha256::digest(data.to_string().as_bytes());
    format!("{prefix}-cal-{}", hex::encode(&d[..6]))
}

pub fn run(g: &Global, a: CalibrateArgs) -> anyhow::Result<ExitCode> {
    let home = g.open_home()?;
    if super::calibrate_camera::is_camera(&a) {
        return super::calibrate_camera::run(&home.root, &a);
    }
    if a.white_balance.is_some() || a.exposure_bias.is_some() || a.iso.is_some() {
        anyhow::bail!(
            "--white-balance, --exposure-bias and --iso are camera settings; {} is not a camera",
            a.selector
        );
    }
    let control = CaptureControl {
        timeout: Duration::from_secs(a.timeout),
        cancel: Default::default(),
    };
    // Keep a simulated device alive for the whole calibration.
    let (driver, path, _sim): (CalDriver, PathBuf, Option<Box<dyn std::any::Any>>) =
        match &a.selector {
            Selector::Tty(p) => {
                let d = a.driver.ok_or_else(|| {
                    anyhow::anyhow!(
                        "name the driver of {}: --driver ef01 or --driver isdv4",
                        p.display()
                    )
                })?;
                (d, p.clone(), None)
            }
            Selector::Sim { model, .. } if model == "isdv4" => {
                let cfg = Isdv4ModelConfig {
                    handwriting: Handwriting::CornerTaps,
                    ..Default::default()
                }
                .fast();
                let (m, p) = Isdv4Model::on_pty(cfg)?;
                (CalDriver::Isdv4, p, Some(Box::new(SimIsdv4(Some(m)))))
            }
            Selector::Sim { model, .. } if model == "ef01" => {
                let opts = ModelOptions {
                    finger_after_polls: u32::MAX,
                    ..ModelOptions::fast()
                };
                let (m, p) = Ef01Model::spawn_on_pty(opts)?;
                (CalDriver::Ef01, p, Some(Box::new(SimEf01(Some(m)))))
            }
            sel @ (Selector::UsbId { .. } | Selector::UsbPort(_)) => {
            let found = jemput_drivers::registry::list();
            let dev = jemput_drivers::registry::resolve(sel, &found)?;
            let d = match a.driver {
                Some(d) => d,
                None => {
                    let names: Vec<&str> = dev.drivers.iter().map(|c| c.driver.as_str()).collect();
                    match names.as_slice() {
                        ["ef01"] => CalDriver::Ef01,
                        ["isdv4"] => CalDriver::Isdv4,
                        many => anyhow::bail!(
                            "{} may be any of {}: name the driver with --driver ef01 or --driver isdv4",
                            dev.path.display(),
                            many.join(", ")
                        ),
                    }
                }
            };
            (d, dev.path.clone(), None)
        }
        other => anyhow::bail!(
            "cannot calibrate {other}: use VID:PID, usb:<port>, a tty path with --driver, or sim:ef01 / sim:isdv4 / sim:ptp"
        ),
        };

    let record = match driver {
        // Cameras were handed to calibrate_camera above.
        CalDriver::Ptp => anyhow::bail!("{} is not a PTP camera selector", a.selector),
        CalDriver::Isdv4 => {
            let mut pad = Isdv4::open(
                &path,
                Isdv4Config {
                    baud: a.baud.unwrap_or(19_200),
                    ..Default::default()
                },
            )?;
            eprintln!("Ketuk sudut kiri atas, lalu sudut kanan bawah area tanda tangan / tap the top-left, then the bottom-right corner of the signing area");
            let cal = pad.calibrate(&control, (600, 180))?;
            CalibrationRecord {
                id: cal.id.clone(),
                device: pad.info().clone(),
                created_at: jiff::Timestamp::now(),
                data: serde_json::to_value(&cal)?,
            }
        }
        CalDriver::Ef01 => {
            let link = PortLink::open(&path, a.baud.unwrap_or(57_600))?;
            let mut m = Ef01::open(link, ef01::DEFAULT_ADDRESS, ef01::DEFAULT_PASSWORD)?;
            let before = *m.sys_params();
            if before.packet_size_code != 2 {
                m.set_packet_size(PacketSize::B128)?;
            }
            if before.security_level != 3 {
                m.set_security_level(3)?;
            }
            let after = m.read_sys_params()?;
            for i in 0..3 {
                if m.gen_img()? {
                    anyhow::bail!(
                        "the sensor reports a finger on blank poll {}: clean the sensor, keep fingers off, and calibrate again",
                        i + 1
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let data = serde_json::json!({
                "packet_size_bytes": 32u32 << after.packet_size_code,
                "security_level": after.security_level,
                "baud": 9600 * u32::from(after.baud_n),
                "capacity": after.capacity,
                "blank_polls_without_finger": 3,
                "changed": before != after,
            });
            CalibrationRecord {
                id: calibration_id("ef01", &data),
                device: m.info().clone(),
                created_at: jiff::Timestamp::now(),
                data,
            }
        }
    };
    let file = calibration::save(&home.root, &record)?;
    if a.json {
        super::output::json(&record)?;
    } else {
        println!("calibration {} saved ({})", record.id, file.display());
        println!(
            "later captures with this {} record it",
            record.device.driver
        );
    }
    Ok(ExitCode::SUCCESS)
}

struct SimIsdv4(Option<Isdv4Model>);
impl Drop for SimIsdv4 {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            m.stop();
        }
    }
}

struct SimEf01(Option<ef01::ModelHandle>);
impl Drop for SimEf01 {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            m.stop();
        }
    }
}

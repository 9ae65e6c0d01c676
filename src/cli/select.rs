//! The flags every command that opens one device takes: the selector, `--driver`, `--baud`.

use std::time::Duration;

use anyhow::Context;
use clap::builder::PossibleValuesParser;
use clap::Args;
use jemput_drivers::registry::{self, OpenError, OpenOptions, OpenedDevice};
use jemput_drivers::{CaptureControl, Selector};

/// A selector as the device commands take it: one of the kit's own devices, or a device of an SBI
/// device service (`sbi:PORT/DEVICEID/SUBID`).
#[derive(Debug, Clone)]
pub enum AnySelector {
    Local(Selector),
    Sbi(jemput_sbi::client::SbiSelector),
}

impl std::str::FromStr for AnySelector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("sbi:") {
            return s.parse().map(AnySelector::Sbi);
        }
        s.parse()
            .map(AnySelector::Local)
            .map_err(|e| format!("{e}"))
    }
}

impl std::fmt::Display for AnySelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnySelector::Local(s) => s.fmt(f),
            AnySelector::Sbi(s) => s.fmt(f),
        }
    }
}

#[derive(Debug, Args)]
pub struct DeviceSelect {
    /// The device: VID:PID[:SERIAL], usb:<port path>, a tty path,
    /// sim:<ef01|isdv4|gps|uru4000|ptp>[:n] for a device model started in-process, or
    /// sbi:PORT/DEVICEID/SUBID for a device of an SBI device service (see `jemput devices`)
    #[arg(value_name = "SELECTOR")]
    pub selector: AnySelector,
    /// The driver to use when the port's USB id does not tell (a shared USB-serial bridge, a bare
    /// tty); without it jemput probes: EF01, then ISDV4, then NMEA
    #[arg(long, value_name = "DRIVER", value_parser = driver_names())]
    pub driver: Option<String>,
    /// Line speed, when the device does not run at its driver's usual one
    #[arg(long, value_name = "BAUD")]
    pub baud: Option<u32>,
}

pub(super) fn driver_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        registry::port_drivers()
            .flat_map(|f| std::iter::once(f.name()).chain(f.aliases().iter().copied())),
    )
}

impl DeviceSelect {
    /// Opens the device, adding the setup hint an error calls for.
    pub fn open(&self) -> anyhow::Result<OpenedDevice> {
        let options = OpenOptions {
            driver: self.driver.clone(),
            baud: self.baud,
            ..OpenOptions::default()
        };
        let selector = match &self.selector {
            AnySelector::Local(s) => s,
            AnySelector::Sbi(s) => anyhow::bail!(
                "{s} is a device of an SBI device service, which this command does not take yet: \
                 `jemput devices test {s}` tests it, `jemput capture finger|face {s}` and \
                 `jemput sbi capture {s} --out-dir DIR` capture through it"
            ),
        };
        registry::open(selector, &options).map_err(|e| match hint_for(&e) {
            // The messages quote their causes: the hint goes after them.
            Some(hint) => anyhow::anyhow!("{e}\nhint: {hint}"),
            None => anyhow::Error::new(e),
        })
    }
}

/// Setup hints that belong to the CLI, not the library.
pub fn hint_for(e: &OpenError) -> Option<&'static str> {
    match e {
        OpenError::PermissionDenied { .. } => Some(
            "`jemput doctor` checks serial permissions; the rules in udev/ give the logged-in \
             operator access",
        ),
        OpenError::Busy { held_by: None, .. } => Some(
            "ModemManager often probes a new USB-serial adapter for a few seconds: wait and retry, \
             or install the rules in udev/ so it leaves jemput's devices alone",
        ),
        _ => None,
    }
}

/// A capture control with `timeout` that Ctrl-C cancels.
pub fn control(timeout: f64) -> anyhow::Result<CaptureControl> {
    let timeout = Duration::try_from_secs_f64(timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout takes a positive number of seconds")?;
    Ok(CaptureControl {
        timeout,
        cancel: super::interrupt::flag(),
    })
}

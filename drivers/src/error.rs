//! Why a device could not be opened or a device model not started ([`OpenError`]), and why an
//! opened device will not serve as the capability asked of it ([`NotCapable`]). Every message
//! says what to do next. The registry fills in the lists of known names, so this module needs
//! nothing above it.

use std::fmt;
use std::path::PathBuf;

use crate::transport::LinkError;
use crate::usbip::ServerError;
use crate::Capability;

/// A port a selector matched, as listed in an ambiguity error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub usb_port: Option<String>,
    pub serial: Option<String>,
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(p) = &self.usb_port {
            write!(f, " (usb:{p}")?;
            match &self.serial {
                Some(s) => write!(f, ", serial {s})")?,
                None => write!(f, ", no serial)")?,
            }
        }
        Ok(())
    }
}

fn list_candidates(c: &[Candidate]) -> String {
    c.iter()
        .map(Candidate::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a device could not be opened; every message says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error("no device matches {selector}: looked for {looked_for}; run `jemput devices` to see what is connected (plug the device in, or check the cable and hub)")]
    NotFound {
        selector: String,
        looked_for: String,
    },
    #[error("{selector} matches {} devices: {}; name one by VID:PID:SERIAL, usb:<port path> or its tty path", candidates.len(), list_candidates(candidates))]
    Ambiguous {
        selector: String,
        candidates: Vec<Candidate>,
    },
    #[error("unknown driver `{name}`; use one of: {known}")]
    UnknownDriver {
        name: String,
        /// The names `--driver` takes, with their aliases.
        known: String,
    },
    #[error("unknown device model `sim:{name}`; use one of: {known}")]
    UnknownModel {
        name: String,
        /// Every `sim:` selector.
        known: String,
    },
    #[error("{selector} is not a {wanted} selector: use {forms}")]
    NotA {
        selector: String,
        wanted: Capability,
        /// The selectors that name one.
        forms: String,
    },
    #[error(
        "`sim:{model}` is talked to by the {model_driver} driver, not `{hint}`; drop --driver"
    )]
    SimDriverMismatch {
        model: String,
        model_driver: &'static str,
        hint: String,
    },
    #[error("the {model} model has no fault `{fault}`; it knows: {known}")]
    UnknownFault {
        model: &'static str,
        fault: String,
        known: String,
    },
    #[error("nothing on {path} answered as {}: {reasons}; check power, cable and baud rate, or name the driver with --driver", tried.join(", then "))]
    NotIdentified {
        path: PathBuf,
        tried: Vec<&'static str>,
        reasons: String,
    },
    #[error("permission denied opening {path}: {fix}")]
    PermissionDenied { path: PathBuf, fix: String },
    #[error("{path} is busy: {} has it open; close that program (or stop ModemManager probing it) and retry", held_by.as_deref().unwrap_or("another program"))]
    Busy {
        path: PathBuf,
        held_by: Option<String>,
    },
    #[error("{path} does not exist: the device was unplugged or the path is wrong; run `jemput devices`, and after a replug open it by VID:PID or usb:<port> rather than by its old path")]
    Gone { path: PathBuf },
    #[error("cannot open {path}: {source}")]
    Link {
        path: PathBuf,
        #[source]
        source: LinkError,
    },
    /// A serial driver failed on the port the registry opened for it.
    #[error("the {driver} device on {path} failed to open: {source}")]
    Driver {
        driver: &'static str,
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A driver that finds its device by the selector itself (USB, V4L2) failed; its message
    /// names the device and what to do.
    #[error("{source}")]
    Device {
        driver: &'static str,
        selector: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("could not start the {model} device model on a pty: {source}; check that /dev/ptmx is usable")]
    Sim {
        model: &'static str,
        #[source]
        source: LinkError,
    },
    /// The USB/IP server of a USB device model did not start.
    #[error("{source}")]
    UsbIp {
        model: &'static str,
        #[source]
        source: Box<ServerError>,
    },
}

/// A device was asked for a capability it does not have.
#[derive(Debug, thiserror::Error)]
#[error("{path} is a {has} ({driver}), not a {wanted}; pick the {wanted}'s selector from `jemput devices`, or `sim:{sim}` to try one without hardware")]
pub struct NotCapable {
    pub path: PathBuf,
    pub driver: String,
    pub has: Capability,
    pub wanted: Capability,
    /// The device model that offers `wanted`.
    pub(crate) sim: &'static str,
}

//! Why a device could not be opened or a device model not started ([`OpenError`]), and why an
//! opened device will not serve as the capability asked of it ([`NotCapable`]). Every message
//! says what to do next. The registry fills in the lists of known names, so this module needs
//! nothing above it.

use std::fmt;
use std::path::PathBuf;

pub use crate::fault::{io_fault, Awaited, Fault};
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

impl OpenError {
    /// What the operator has to do about it.
    pub fn fault(&self) -> Fault {
        match self {
            OpenError::NotFound { .. } | OpenError::Gone { .. } => Fault::Unplugged,
            OpenError::Busy { held_by, .. } => Fault::Busy {
                holder: held_by.clone(),
            },
            OpenError::PermissionDenied { .. } => Fault::NoPermission,
            OpenError::Ambiguous { .. }
            | OpenError::UnknownDriver { .. }
            | OpenError::UnknownModel { .. }
            | OpenError::SimDriverMismatch { .. }
            | OpenError::UnknownFault { .. } => Fault::Other,
            OpenError::NotA { .. } | OpenError::NotIdentified { .. } => Fault::WrongDevice,
            OpenError::Link { source, .. } => source.fault(),
            OpenError::Driver { source, .. } => {
                boxed_fault(source.as_ref()).unwrap_or(Fault::DeviceFault)
            }
            OpenError::Device { source, .. } => {
                boxed_fault(source.as_ref()).unwrap_or(Fault::Other)
            }
            // A device model of `sim:` did not start: the machine, not a device.
            OpenError::Sim { .. } | OpenError::UsbIp { .. } => Fault::Other,
        }
    }
}

/// The fault of a driver's own error behind a boxed source, when it is one of the drivers'.
fn boxed_fault(e: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<Fault> {
    use crate::{ef01, isdv4, nmea, ptp, uru4000, usb, v4l2};
    if let Some(e) = e.downcast_ref::<ef01::Ef01Error>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<isdv4::Isdv4Error>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<nmea::NmeaError>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<uru4000::UruError>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<uru4000::OpenReaderError>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<ptp::PtpError>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<ptp::OpenCameraError>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<v4l2::V4l2Error>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<usb::UsbError>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<LinkError>() {
        return Some(e.fault());
    }
    if let Some(e) = e.downcast_ref::<crate::DeviceError>() {
        return Some(e.fault());
    }
    None
}

impl NotCapable {
    /// What the operator has to do about it.
    pub fn fault(&self) -> Fault {
        Fault::WrongDevice
    }
}

impl LinkError {
    /// What the operator has to do about it.
    pub fn fault(&self) -> Fault {
        match self {
            LinkError::Timeout(_) => Fault::DeviceFault,
            LinkError::Disconnected | LinkError::NotFound(_) => Fault::Unplugged,
            LinkError::Busy(_) => Fault::Busy { holder: None },
            LinkError::PermissionDenied(_) => Fault::NoPermission,
            LinkError::Io(e) => io_fault(e),
        }
    }
}

impl crate::DeviceError {
    /// What the operator has to do about it. A driver's error reaches the capture steps as one of
    /// these; what it waited for tells a timeout of the person from a device that stopped
    /// answering.
    pub fn fault(&self) -> Fault {
        use crate::DeviceError as E;
        match self {
            E::Busy => Fault::Busy { holder: None },
            E::PermissionDenied => Fault::NoPermission,
            E::Disconnected => Fault::Unplugged,
            E::Timeout(_, what) => match awaited(what) {
                Some(a) => Fault::Timeout(a),
                None => Fault::DeviceFault,
            },
            E::Cancelled => Fault::Cancelled,
            E::NotSupported(_) => Fault::WrongDevice,
            E::Protocol(_) => Fault::DeviceFault,
            E::BadData(_) => Fault::BadData,
            E::Io(e) => io_fault(e),
            E::Calibration(source) => boxed_fault(source.as_ref()).unwrap_or(Fault::Other),
        }
    }
}

/// What a [`crate::DeviceError::Timeout`] waited for, when it waited for the person or the scene
/// (the drivers' own words for it); `None` when it waited for the device to answer.
fn awaited(what: &str) -> Option<Awaited> {
    if what == crate::NO_FINGER {
        Some(Awaited::Finger)
    } else if what.starts_with("a signature") {
        Some(Awaited::Signature)
    } else if what.starts_with("a GPS fix") {
        Some(Awaited::Fix)
    } else if what == "a video frame" {
        Some(Awaited::Photo)
    } else {
        None
    }
}

#[cfg(test)]
mod fault_tests {
    use super::*;
    use crate::DeviceError;
    use std::time::Duration;

    #[test]
    fn open_errors_say_what_the_operator_does() {
        let busy = OpenError::Busy {
            path: "/dev/ttyUSB0".into(),
            held_by: Some("ModemManager (pid 812)".into()),
        };
        assert_eq!(
            busy.fault(),
            Fault::Busy {
                holder: Some("ModemManager (pid 812)".into())
            }
        );
        let eacces = std::io::Error::from_raw_os_error(13);
        let link = OpenError::Link {
            path: "/dev/ttyUSB0".into(),
            source: crate::transport::map_io(std::path::Path::new("/dev/ttyUSB0"), eacces),
        };
        assert_eq!(link.fault(), Fault::NoPermission);
        let gone = OpenError::Gone {
            path: "/dev/ttyUSB1".into(),
        };
        assert_eq!(gone.fault(), Fault::Unplugged);
        // A driver's error behind the box is read through.
        let driver = OpenError::Driver {
            driver: "ef01",
            path: "/dev/ttyUSB0".into(),
            source: Box::new(crate::ef01::Ef01Error::Disconnected {
                command: "ReadSysPara",
            }),
        };
        assert_eq!(driver.fault(), Fault::Unplugged);
        let camera = OpenError::Device {
            driver: "v4l2",
            selector: "v4l2:/dev/video0".into(),
            source: Box::new(crate::v4l2::V4l2Error::Busy {
                path: "/dev/video0".into(),
                held_by: None,
            }),
        };
        assert_eq!(camera.fault(), Fault::Busy { holder: None });
    }

    #[test]
    fn a_timeout_of_the_person_is_not_a_device_fault() {
        let t = |what| DeviceError::Timeout(Duration::from_secs(5), what).fault();
        assert_eq!(t(crate::NO_FINGER), Fault::Timeout(Awaited::Finger));
        let pad: DeviceError =
            crate::isdv4::Isdv4Error::NoSignature(Duration::from_secs(30)).into();
        assert_eq!(pad.fault(), Fault::Timeout(Awaited::Signature));
        let gps: DeviceError = crate::nmea::NmeaError::NoFix {
            waited: Duration::from_secs(60),
            why: "no satellites".into(),
        }
        .into();
        assert_eq!(gps.fault(), Fault::Timeout(Awaited::Fix));
        // A module that stops answering a command is a device fault.
        let module: DeviceError = crate::ef01::Ef01Error::Timeout {
            command: "UpImage",
            waited: Duration::from_secs(2),
        }
        .into();
        assert_eq!(module.fault(), Fault::DeviceFault);
        assert_eq!(DeviceError::Disconnected.fault(), Fault::Unplugged);
        // Data the device sent that cannot be used stays that through the capture traits, with
        // the message it always had.
        let image: DeviceError = crate::ef01::Ef01Error::ImageSize {
            bytes: 100,
            expected: 36_864,
            model: "R307",
        }
        .into();
        assert_eq!(image.fault(), Fault::BadData);
        assert!(image
            .to_string()
            .starts_with("protocol error: the module sent an image of 100 bytes"));
        let photo: DeviceError = crate::ptp::PtpError::NotJpeg("PNG".into()).into();
        assert_eq!(photo.fault(), Fault::BadData);
        assert_eq!(
            DeviceError::Io(std::io::Error::from_raw_os_error(16)).fault(),
            Fault::Busy { holder: None }
        );
    }
}

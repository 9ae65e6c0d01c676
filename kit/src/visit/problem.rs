//! What an operator must do about an error that reaches them during a visit: every
//! [`CaptureError`], [`DevicesError`] and the registry's [`OpenError`] classified into an
//! [`OperatorProblem`] — its [`ProblemKind`], the device's role and name — which the operator
//! station and `jemput visit capture` put into the operator's words (Bahasa Indonesia first).
//!
//! The classification names every variant (no catch-all arm): the drivers' own errors through
//! their `fault()` ([`jemput_drivers::error::Fault`]), the kit's here, so a new error variant does
//! not compile until someone decides what it means for the operator.

use jemput_drivers::error::{Awaited, Fault};
use jemput_drivers::registry::OpenError;
use jemput_drivers::{Capability, DeviceError};

use super::devices::DevicesError;
use super::draft::DraftError;
use super::error::CaptureError;

/// The role of a device in a visit, as the operator knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRole {
    /// The camera (face and document photos).
    Camera,
    /// The fingerprint scanner.
    Scanner,
    /// The signature pad.
    Pad,
    /// The GPS receiver.
    Gps,
}

impl DeviceRole {
    pub const ALL: [DeviceRole; 4] = [
        DeviceRole::Camera,
        DeviceRole::Scanner,
        DeviceRole::Pad,
        DeviceRole::Gps,
    ];

    /// A stable name (`camera`, `scanner`, `pad`, `gps`), e.g. for message ids.
    pub fn id(self) -> &'static str {
        match self {
            DeviceRole::Camera => "camera",
            DeviceRole::Scanner => "scanner",
            DeviceRole::Pad => "pad",
            DeviceRole::Gps => "gps",
        }
    }
}

impl From<Capability> for DeviceRole {
    fn from(c: Capability) -> DeviceRole {
        match c {
            Capability::Camera => DeviceRole::Camera,
            Capability::Fingerprint => DeviceRole::Scanner,
            Capability::Signature => DeviceRole::Pad,
            Capability::Location => DeviceRole::Gps,
        }
    }
}

/// What the operator waited for when nothing came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitedFor {
    /// A finger on the scanner.
    Finger,
    /// The resident's signature (the pen on the pad).
    Signature,
    /// A photo (the camera took none, or sent no frame).
    Photo,
    /// A GPS fix.
    Fix,
}

/// What the operator must do, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The device is not connected (not found, unplugged, gone mid-capture): plug it in.
    Unplugged,
    /// Another program holds the device (its name when known): close that program.
    Busy { holder: Option<String> },
    /// This user may not open the device: a technician must set up access.
    NoPermission,
    /// The device chosen is not one for this step (or not a usable one): choose another.
    WrongDevice,
    /// The device failed mid-capture (an error code, no answer): replug it and try again.
    DeviceFault,
    /// Nothing came in time from the resident or the scene (no finger, no pen, no photo).
    Timeout(WaitedFor),
    /// The capture was cancelled; nothing already captured is lost.
    Cancelled,
    /// The device sent something unusable (an image of the wrong size, not a JPEG): take it again.
    BadData,
    /// The capture worked, but no attempt reached the quality threshold: take it again, or
    /// record an exception.
    PoorQuality,
    /// The kit cannot store it (disk full, the draft cannot be written or read).
    Storage,
    /// Anything else: the English message says what (for a technician).
    Other,
}

impl ProblemKind {
    /// One of each kind (with example parameters), for checks that every kind has its words.
    pub fn examples() -> Vec<ProblemKind> {
        let mut all = vec![
            ProblemKind::Unplugged,
            ProblemKind::Busy { holder: None },
            ProblemKind::Busy {
                holder: Some("ModemManager".into()),
            },
            ProblemKind::NoPermission,
            ProblemKind::WrongDevice,
            ProblemKind::DeviceFault,
            ProblemKind::Cancelled,
            ProblemKind::BadData,
            ProblemKind::PoorQuality,
            ProblemKind::Storage,
            ProblemKind::Other,
        ];
        for w in [
            WaitedFor::Finger,
            WaitedFor::Signature,
            WaitedFor::Photo,
            WaitedFor::Fix,
        ] {
            all.push(ProblemKind::Timeout(w));
        }
        // A new kind must be added above: this match has no catch-all.
        for k in &all {
            match k {
                ProblemKind::Unplugged
                | ProblemKind::Busy { .. }
                | ProblemKind::NoPermission
                | ProblemKind::WrongDevice
                | ProblemKind::DeviceFault
                | ProblemKind::Timeout(_)
                | ProblemKind::Cancelled
                | ProblemKind::BadData
                | ProblemKind::PoorQuality
                | ProblemKind::Storage
                | ProblemKind::Other => {}
            }
        }
        all
    }
}

/// An error as the operator meets it: what to do, on which device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorProblem {
    pub kind: ProblemKind,
    /// The device's role, when the error concerns one.
    pub role: Option<DeviceRole>,
    /// The device's name (its path or selector and driver), when known.
    pub device: Option<String>,
}

impl OperatorProblem {
    pub fn new(kind: ProblemKind) -> OperatorProblem {
        OperatorProblem {
            kind,
            role: None,
            device: None,
        }
    }

    /// With `role` where the error did not say which device it was.
    pub fn on(mut self, role: DeviceRole) -> OperatorProblem {
        self.role.get_or_insert(role);
        self
    }

    fn named(mut self, device: impl Into<String>) -> OperatorProblem {
        self.device = Some(device.into());
        self
    }
}

impl From<Fault> for ProblemKind {
    fn from(f: Fault) -> ProblemKind {
        match f {
            Fault::Unplugged => ProblemKind::Unplugged,
            Fault::Busy { holder } => ProblemKind::Busy { holder },
            Fault::NoPermission => ProblemKind::NoPermission,
            Fault::WrongDevice => ProblemKind::WrongDevice,
            Fault::DeviceFault => ProblemKind::DeviceFault,
            Fault::Timeout(a) => ProblemKind::Timeout(match a {
                Awaited::Finger => WaitedFor::Finger,
                Awaited::Signature => WaitedFor::Signature,
                Awaited::Photo => WaitedFor::Photo,
                Awaited::Fix => WaitedFor::Fix,
            }),
            Fault::Cancelled => ProblemKind::Cancelled,
            Fault::BadData => ProblemKind::BadData,
            Fault::Other => ProblemKind::Other,
        }
    }
}

/// The problem of a device error on a device of `role` (when known).
pub fn device_problem(e: &DeviceError, role: Option<DeviceRole>) -> OperatorProblem {
    OperatorProblem {
        kind: e.fault().into(),
        role,
        device: None,
    }
}

/// The problem of a device that could not be opened as `role` (when known). The device is named
/// by what the error names (its path or selector).
pub fn open_problem(e: &OpenError, role: Option<DeviceRole>) -> OperatorProblem {
    let p = OperatorProblem {
        kind: e.fault().into(),
        role,
        device: None,
    };
    match e {
        OpenError::NotFound { selector, .. }
        | OpenError::Ambiguous { selector, .. }
        | OpenError::NotA { selector, .. }
        | OpenError::Device { selector, .. } => p.named(selector.clone()),
        OpenError::NotIdentified { path, .. }
        | OpenError::PermissionDenied { path, .. }
        | OpenError::Busy { path, .. }
        | OpenError::Gone { path }
        | OpenError::Link { path, .. }
        | OpenError::Driver { path, .. } => p.named(path.display().to_string()),
        _ => p,
    }
}

/// The role of the device a capture step's description names (`capturing finger 2 …`, `taking
/// the face photo …`, `recording the signature …`, `taking <a document> …`).
fn role_of_step(what: &str) -> Option<DeviceRole> {
    if what.starts_with("capturing finger") {
        Some(DeviceRole::Scanner)
    } else if what.starts_with("recording the signature") {
        Some(DeviceRole::Pad)
    } else if what.starts_with("taking") {
        Some(DeviceRole::Camera)
    } else if what.contains("location") || what.contains("GPS") {
        Some(DeviceRole::Gps)
    } else {
        None
    }
}

/// The role a [`CaptureError::NoDevice`] names (`fingerprint scanner`, `camera`, …).
fn role_of_noun(noun: &str) -> Option<DeviceRole> {
    [
        Capability::Camera,
        Capability::Fingerprint,
        Capability::Signature,
        Capability::Location,
    ]
    .into_iter()
    .find(|c| c.noun() == noun)
    .map(DeviceRole::from)
}

fn draft_problem(e: &DraftError) -> ProblemKind {
    match e {
        DraftError::Io { .. } | DraftError::DiskFull { .. } => ProblemKind::Storage,
        // A draft the kit cannot read back: its storage is damaged (or it is another kit's).
        DraftError::Decrypt { .. } | DraftError::Malformed { .. } => ProblemKind::Storage,
        DraftError::NotFound(_) | DraftError::BadName(_) => ProblemKind::Other,
    }
}

impl CaptureError {
    /// What the operator must do about this error, with the device's role where it concerns
    /// one.
    pub fn operator_problem(&self) -> OperatorProblem {
        use jemput_core::imaging::face::FaceError;
        match self {
            CaptureError::Device { what, source } => device_problem(source, role_of_step(what)),
            CaptureError::Draft(e) => OperatorProblem::new(draft_problem(e)),
            CaptureError::Wsq { .. } => {
                OperatorProblem::new(ProblemKind::BadData).on(DeviceRole::Scanner)
            }
            CaptureError::Policy(_) => OperatorProblem::new(ProblemKind::Other),
            // A photo from the camera that is no readable image; encoding one is the kit's own.
            CaptureError::Face(FaceError::Decode(_)) => {
                OperatorProblem::new(ProblemKind::BadData).on(DeviceRole::Camera)
            }
            CaptureError::Face(_) => OperatorProblem::new(ProblemKind::Other),
            CaptureError::SignatureQuality { .. } => {
                OperatorProblem::new(ProblemKind::PoorQuality).on(DeviceRole::Pad)
            }
            CaptureError::FaceChecks { .. } => {
                OperatorProblem::new(ProblemKind::PoorQuality).on(DeviceRole::Camera)
            }
            CaptureError::UnreadablePhoto { .. } => {
                OperatorProblem::new(ProblemKind::BadData).on(DeviceRole::Camera)
            }
            CaptureError::NoDevice { device, .. } => OperatorProblem {
                kind: ProblemKind::Unplugged,
                role: role_of_noun(device),
                device: None,
            },
            CaptureError::DocumentOutOfOrder { .. } | CaptureError::DocumentException(_) => {
                OperatorProblem::new(ProblemKind::Other)
            }
        }
    }
}

impl DevicesError {
    /// What the operator must do about this error.
    pub fn operator_problem(&self) -> OperatorProblem {
        use crate::calibration::CalibrationError;
        match self {
            DevicesError::Twice {
                capability, second, ..
            } => OperatorProblem::new(ProblemKind::WrongDevice)
                .on((*capability).into())
                .named(second.clone()),
            DevicesError::Calibration(CalibrationError::Io { .. }) => {
                OperatorProblem::new(ProblemKind::Storage)
            }
            DevicesError::Calibration(CalibrationError::Damaged { .. }) => {
                OperatorProblem::new(ProblemKind::Other)
            }
            // The pad's recorded calibration does not fit it: it is calibrated again.
            DevicesError::PadCalibration { pad, .. } => OperatorProblem::new(ProblemKind::Other)
                .on(DeviceRole::Pad)
                .named(pad.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_scanner_unplugged_mid_capture_is_unplugged_on_the_scanner() {
        let e = CaptureError::Device {
            what: "capturing finger 2 (right index)".into(),
            source: DeviceError::Disconnected,
        };
        let p = e.operator_problem();
        assert_eq!(p.kind, ProblemKind::Unplugged);
        assert_eq!(p.role, Some(DeviceRole::Scanner));
    }

    #[test]
    fn no_finger_and_no_pen_are_timeouts_of_the_resident_and_a_silent_module_a_fault() {
        let finger = CaptureError::Device {
            what: "capturing finger 7 (left index)".into(),
            source: DeviceError::Timeout(Duration::from_secs(10), jemput_drivers::NO_FINGER),
        };
        assert_eq!(
            finger.operator_problem().kind,
            ProblemKind::Timeout(WaitedFor::Finger)
        );
        let pen = CaptureError::Device {
            what: "recording the signature (attempt 1)".into(),
            source: jemput_drivers::isdv4::Isdv4Error::NoSignature(Duration::from_secs(60)).into(),
        };
        let p = pen.operator_problem();
        assert_eq!(
            (p.kind, p.role),
            (
                ProblemKind::Timeout(WaitedFor::Signature),
                Some(DeviceRole::Pad)
            )
        );
        let module = CaptureError::Device {
            what: "capturing finger 1 (right thumb)".into(),
            source: jemput_drivers::ef01::Ef01Error::Timeout {
                command: "GetImage",
                waited: Duration::from_secs(2),
            }
            .into(),
        };
        assert_eq!(module.operator_problem().kind, ProblemKind::DeviceFault);
    }

    #[test]
    fn a_busy_port_names_its_holder_and_eacces_is_no_permission() {
        let busy = OpenError::Busy {
            path: "/dev/ttyUSB0".into(),
            held_by: Some("ModemManager (pid 812)".into()),
        };
        let p = open_problem(&busy, Some(DeviceRole::Scanner));
        assert_eq!(
            p,
            OperatorProblem {
                kind: ProblemKind::Busy {
                    holder: Some("ModemManager (pid 812)".into())
                },
                role: Some(DeviceRole::Scanner),
                device: Some("/dev/ttyUSB0".into()),
            }
        );
        let eacces = std::io::Error::from_raw_os_error(13);
        let link = jemput_drivers::transport::map_io(std::path::Path::new("/dev/ttyACM0"), eacces);
        let e = OpenError::Link {
            path: "/dev/ttyACM0".into(),
            source: link,
        };
        assert_eq!(open_problem(&e, None).kind, ProblemKind::NoPermission);
        // EACCES straight from the OS in a capture, too.
        let e = CaptureError::Device {
            what: "taking the face photo (attempt 1)".into(),
            source: DeviceError::Io(std::io::Error::from_raw_os_error(13)),
        };
        let p = e.operator_problem();
        assert_eq!(
            (p.kind, p.role),
            (ProblemKind::NoPermission, Some(DeviceRole::Camera))
        );
    }

    #[test]
    fn a_pty_that_vanished_is_unplugged_and_names_its_path() {
        // What a device model's pty (or an unplugged adapter's tty) is once it is gone.
        let selector: jemput_drivers::Selector = "/dev/pts/999999".parse().unwrap();
        let Err(e) = jemput_drivers::registry::open(&selector, &Default::default()) else {
            panic!("a pty that does not exist was opened");
        };
        let p = open_problem(&e, Some(DeviceRole::Scanner));
        assert_eq!(p.kind, ProblemKind::Unplugged, "{e}");
        assert_eq!(p.device.as_deref(), Some("/dev/pts/999999"));
    }

    #[test]
    fn a_photo_that_is_no_jpeg_is_bad_data_from_the_camera() {
        let e = CaptureError::Device {
            what: "taking the face photo (attempt 2)".into(),
            source: jemput_drivers::ptp::PtpError::NotJpeg("a RAW file".into()).into(),
        };
        let p = e.operator_problem();
        assert_eq!(
            (p.kind, p.role),
            (ProblemKind::BadData, Some(DeviceRole::Camera))
        );
    }

    #[test]
    fn storage_and_quality_and_missing_devices_are_named() {
        let full = CaptureError::Draft(DraftError::DiskFull {
            path: "/kit/drafts/x.age".into(),
            source: std::io::Error::from_raw_os_error(28),
        });
        assert_eq!(full.operator_problem().kind, ProblemKind::Storage);
        let sig = CaptureError::SignatureQuality {
            attempts: 3,
            best_score: 20,
            threshold: 40,
        };
        assert_eq!(sig.operator_problem().kind, ProblemKind::PoorQuality);
        let none = CaptureError::NoDevice {
            step: "finger 1".into(),
            device: "fingerprint scanner",
        };
        let p = none.operator_problem();
        assert_eq!(
            (p.kind, p.role),
            (ProblemKind::Unplugged, Some(DeviceRole::Scanner))
        );
    }
}

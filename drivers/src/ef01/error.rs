//! EF01 errors: every confirmation code explained with what to do next, link failures kept with
//! the command they interrupted, and the transfer failures the driver retries.

use std::time::Duration;

use super::protocol::Confirmation;
use crate::{DeviceError, LinkError};

/// What a confirmation code means, and what the operator or technician should do about it.
pub fn explain(code: Confirmation) -> (&'static str, &'static str) {
    use Confirmation::*;
    match code {
        Ok => ("the command succeeded", "nothing"),
        ReceiveError => (
            "the module received a damaged packet",
            "check the cable and the baud rate, then try again",
        ),
        NoFinger => (
            "no finger is on the sensor",
            "ask the resident to place the finger flat on the sensor",
        ),
        CaptureFailed => (
            "the sensor could not capture an image",
            "wipe the sensor and the finger, then capture again",
        ),
        ImageTooDisorderly => (
            "the image is too smudged to use",
            "wipe the sensor, dry or moisten the finger, then capture again",
        ),
        TooFewFeatures => (
            "the image shows too few ridge features",
            "press the finger flatter and a little longer, then capture again",
        ),
        NoMatch => (
            "the two fingerprints do not match",
            "capture the same finger again",
        ),
        NotFound => (
            "no matching template is stored",
            "enroll the finger first, or try another finger",
        ),
        CombineFailed => (
            "the two captures could not be combined into one template",
            "capture the same finger twice, placed the same way",
        ),
        PageOutOfRange => (
            "the template page is outside the library",
            "use a page below the library capacity",
        ),
        TemplateInvalid => (
            "the stored template could not be read",
            "enroll the finger again",
        ),
        UploadTemplateFailed => (
            "the module could not send the template",
            "check the cable, then try again",
        ),
        CannotReceiveData => (
            "the module could not receive the following data packets",
            "check the cable and the packet size, then try again",
        ),
        UploadImageFailed => (
            "the module could not send the image",
            "check the cable, then capture again",
        ),
        DeleteFailed => (
            "the template could not be deleted",
            "try again; if it persists the module's flash may be worn",
        ),
        ClearFailed => (
            "the template library could not be cleared",
            "try again; if it persists the module's flash may be worn",
        ),
        WrongPassword => (
            "the module rejected the password",
            "use the password set on this module (factory default 00000000)",
        ),
        NoValidImage => (
            "there is no valid image in the buffer",
            "capture a finger before processing or uploading",
        ),
        FlashWriteError => (
            "writing the module's flash failed",
            "power-cycle the module and try again; replace it if this persists",
        ),
        Undefined => (
            "the module reported an undefined error",
            "power-cycle the module and try again",
        ),
        InvalidRegister => (
            "the register number is invalid",
            "this is a driver bug: report it with `jemput report`",
        ),
        BadRegisterConfig => (
            "the register value is not allowed",
            "use a supported value (baud 9600×1…12, level 1–5, packet 32–256)",
        ),
        WrongNotepadPage => ("the notepad page is invalid", "use a page from 0 to 15"),
        PortFailure => ("the module's serial port failed", "power-cycle the module"),
        AddressError => (
            "the module address does not match",
            "use the address set on this module (factory default FFFFFFFF)",
        ),
        PasswordRequired => (
            "the module requires its password first",
            "open the module with its password",
        ),
        Other(_) => (
            "the module returned an unknown code",
            "power-cycle the module; if it persists, report it with `jemput report`",
        ),
    }
}

/// Why an EF01 operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Ef01Error {
    /// The module answered with an error confirmation code.
    #[error("{command} failed: {} (code 0x{:02X}); {}", explain(*code).0, code.code(), explain(*code).1)]
    Device {
        command: &'static str,
        code: Confirmation,
    },
    #[error("the module rejected the password; use the password set on this module (factory default 00000000)")]
    WrongPassword,
    #[error("no reply to {command} within {waited:?}; check that the module is powered, the cable, the baud rate and the address")]
    Timeout {
        command: &'static str,
        waited: Duration,
    },
    #[error("no finger on the sensor within {waited:?}; ask the resident to place the finger flat, then capture again")]
    NoFinger { waited: Duration },
    #[error("the module was disconnected during {command}; plug it back in and open it again by selector")]
    Disconnected { command: &'static str },
    #[error("{command}: {source}")]
    Link {
        command: &'static str,
        #[source]
        source: LinkError,
    },
    #[error("{command}: a damaged packet arrived ({detail}); check the cable and the baud rate")]
    Checksum {
        command: &'static str,
        detail: String,
    },
    #[error("{command}: a packet was cut short ({received} bytes of a frame, then silence); check the cable and the baud rate")]
    Truncated {
        command: &'static str,
        received: usize,
    },
    #[error("{command} failed {attempts} times in a row; last: {last}")]
    TransferFailed {
        command: &'static str,
        attempts: u32,
        last: Box<Ef01Error>,
    },
    #[error("{command}: unexpected reply: {detail}")]
    UnexpectedReply {
        command: &'static str,
        detail: String,
    },
    #[error("the module sent an image of {bytes} bytes, which fits no known sensor ({expected} expected for the {model}); choose the right module model")]
    ImageSize {
        bytes: usize,
        expected: usize,
        model: &'static str,
    },
    #[error("{0} is not supported by this module")]
    NotSupported(&'static str),
    #[error("invalid setting: {0}")]
    InvalidSetting(String),
    #[error("cancelled")]
    Cancelled,
    #[error("the sensor reports a finger on blank poll {poll}: clean the sensor, keep fingers off, and calibrate again")]
    FingerOnSensor { poll: u32 },
}

impl Ef01Error {
    /// The error for a non-zero confirmation code in reply to `command`.
    pub fn from_code(command: &'static str, code: u8) -> Ef01Error {
        match Confirmation::from_code(code) {
            Confirmation::WrongPassword => Ef01Error::WrongPassword,
            code => Ef01Error::Device { command, code },
        }
    }

    /// Wraps a link failure, naming the command it interrupted.
    pub fn link(command: &'static str, e: LinkError, waited: Duration) -> Ef01Error {
        match e {
            LinkError::Timeout(_) => Ef01Error::Timeout { command, waited },
            LinkError::Disconnected => Ef01Error::Disconnected { command },
            source => Ef01Error::Link { command, source },
        }
    }

    /// The confirmation code behind this error, if the module sent one.
    pub fn confirmation(&self) -> Option<Confirmation> {
        match self {
            Ef01Error::Device { code, .. } => Some(*code),
            Ef01Error::WrongPassword => Some(Confirmation::WrongPassword),
            Ef01Error::TransferFailed { last, .. } => last.confirmation(),
            _ => None,
        }
    }

    /// Whether repeating the transfer may help: line noise, a cut-short packet, a lost reply.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Ef01Error::Checksum { .. } | Ef01Error::Truncated { .. } | Ef01Error::Timeout { .. }
        ) || matches!(
            self.confirmation(),
            Some(Confirmation::ReceiveError | Confirmation::CannotReceiveData)
        )
    }
}

impl From<Ef01Error> for DeviceError {
    fn from(e: Ef01Error) -> DeviceError {
        match e {
            Ef01Error::Timeout { command, waited } => DeviceError::Timeout(waited, command),
            Ef01Error::NoFinger { waited } => DeviceError::Timeout(waited, crate::NO_FINGER),
            Ef01Error::Disconnected { .. } => DeviceError::Disconnected,
            Ef01Error::Link {
                source: LinkError::Busy(_),
                ..
            } => DeviceError::Busy,
            Ef01Error::Link {
                source: LinkError::PermissionDenied(_),
                ..
            } => DeviceError::PermissionDenied,
            Ef01Error::NotSupported(what) => DeviceError::NotSupported(what),
            Ef01Error::Cancelled => DeviceError::Cancelled,
            other => crate::fault::unusable(other.fault(), other.to_string()),
        }
    }
}

impl Ef01Error {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use crate::fault::{Awaited, Fault};
        match self {
            Ef01Error::Device { .. }
            | Ef01Error::Timeout { .. }
            | Ef01Error::Checksum { .. }
            | Ef01Error::Truncated { .. }
            | Ef01Error::UnexpectedReply { .. } => Fault::DeviceFault,
            Ef01Error::TransferFailed { last, .. } => last.fault(),
            // A module set up with another password, or asked for what it does not do: not the
            // module for this kit as it is set up.
            Ef01Error::WrongPassword | Ef01Error::NotSupported(_) => Fault::WrongDevice,
            Ef01Error::NoFinger { .. } => Fault::Timeout(Awaited::Finger),
            Ef01Error::Disconnected { .. } => Fault::Unplugged,
            Ef01Error::Link { source, .. } => source.fault(),
            Ef01Error::ImageSize { .. } => Fault::BadData,
            Ef01Error::InvalidSetting(_) | Ef01Error::FingerOnSensor { .. } => Fault::Other,
            Ef01Error::Cancelled => Fault::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_confirmation_code_says_what_happened_and_what_to_do() {
        for code in Confirmation::known().filter(|c| *c != Confirmation::Ok) {
            let msg = Ef01Error::from_code("GenImg", code.code()).to_string();
            let (what, todo) = explain(code);
            assert!(msg.contains(what) && msg.contains(todo), "{msg}");
            if code != Confirmation::WrongPassword {
                assert!(msg.starts_with("GenImg failed"), "{msg}");
                assert!(msg.contains(&format!("0x{:02X}", code.code())), "{msg}");
            }
        }
        let unknown = Ef01Error::from_code("UpImage", 0x42).to_string();
        assert!(
            unknown.contains("unknown code") && unknown.contains("0x42"),
            "{unknown}"
        );
    }

    #[test]
    fn device_errors_keep_their_kind() {
        let e: DeviceError = Ef01Error::Timeout {
            command: "UpImage",
            waited: Duration::from_secs(1),
        }
        .into();
        assert!(matches!(e, DeviceError::Timeout(_, "UpImage")));
        let e: DeviceError = Ef01Error::Disconnected { command: "GenImg" }.into();
        assert!(matches!(e, DeviceError::Disconnected));
        let e: DeviceError = Ef01Error::WrongPassword.into();
        assert!(e.to_string().contains("password"), "{e}");
    }
}

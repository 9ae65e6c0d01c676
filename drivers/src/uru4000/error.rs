//! U.are.U errors: each says what failed and what to do next; USB failures keep the step they
//! interrupted.

use std::time::Duration;

use super::protocol::CodecError;
use crate::usb::UsbError;
use crate::DeviceError;

/// Why a U.are.U operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UruError {
    #[error("the fingerprint reader was disconnected during {during}; plug it in again (jemput finds it again by its selector)")]
    Disconnected { during: String },
    #[error("no answer from the fingerprint reader within {after:?} during {during}; unplug and replug it")]
    Timeout { during: String, after: Duration },
    #[error("USB error during {during}: {source}")]
    Usb {
        during: String,
        #[source]
        source: UsbError,
    },
    #[error(
        "no finger on the sensor within {0:?}; place the finger flat on the glass and try again"
    )]
    NoFinger(Duration),
    #[error("the reader reported a device fault (event 0x0800) during {during}; unplug it, wait a few seconds and plug it in again")]
    DeviceFault { during: String },
    #[error("the reader did not power up (HWSTAT {hwstat:#04x} after {after:?}); unplug and replug it, on a powered port or hub")]
    PowerUp { hwstat: u8, after: Duration },
    #[error("the image transfer ended after {got} of {want} bytes; check the USB cable (avoid long cables and unpowered hubs) and scan again")]
    ShortImage { got: usize, want: usize },
    #[error("malformed data from the reader during {during}: {source}")]
    Codec {
        during: String,
        #[source]
        source: CodecError,
    },
    #[error("this reader's firmware scrambles its images ({blocks} scrambled blocks) and jemput has no verified descrambler yet (docs/devices.md §3); use another reader and report this model and its firmware")]
    Scrambled { blocks: usize },
    #[error("cancelled")]
    Cancelled,
}

impl UruError {
    /// Wraps a USB error met during `during`.
    pub fn usb(during: impl Into<String>, source: UsbError) -> Self {
        let during = during.into();
        match source {
            UsbError::Disconnected => UruError::Disconnected { during },
            UsbError::Timeout(after) => UruError::Timeout { during, after },
            source => UruError::Usb { during, source },
        }
    }

    /// Whether the reader went away (a replug and a reopen by selector may bring it back).
    pub fn is_disconnect(&self) -> bool {
        matches!(
            self,
            UruError::Disconnected { .. }
                | UruError::Usb {
                    source: UsbError::NotFound(_),
                    ..
                }
        )
    }
}

impl From<UruError> for DeviceError {
    fn from(e: UruError) -> Self {
        match e {
            UruError::Disconnected { .. } => DeviceError::Disconnected,
            UruError::Timeout { after, .. } => {
                DeviceError::Timeout(after, "the fingerprint reader")
            }
            UruError::NoFinger(after) => DeviceError::Timeout(after, "a finger on the sensor"),
            UruError::Cancelled => DeviceError::Cancelled,
            UruError::Usb { ref source, .. } => source
                .device_error()
                .unwrap_or_else(|| DeviceError::Protocol(e.to_string())),
            other => crate::fault::unusable(other.fault(), other.to_string()),
        }
    }
}

impl UruError {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use crate::fault::{Awaited, Fault};
        match self {
            UruError::Disconnected { .. } => Fault::Unplugged,
            UruError::Timeout { .. }
            | UruError::DeviceFault { .. }
            | UruError::PowerUp { .. }
            | UruError::ShortImage { .. } => Fault::DeviceFault,
            UruError::Usb { source, .. } => source.fault(),
            UruError::NoFinger(_) => Fault::Timeout(Awaited::Finger),
            UruError::Codec { .. } => Fault::BadData,
            // A firmware whose images jemput cannot read: another reader is needed.
            UruError::Scrambled { .. } => Fault::WrongDevice,
            UruError::Cancelled => Fault::Cancelled,
        }
    }
}

impl super::OpenReaderError {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use super::OpenReaderError as E;
        use crate::fault::Fault;
        match self {
            E::NotFound { .. } => Fault::Unplugged,
            E::Ambiguous { .. } | E::Usb(_) => Fault::Other,
            E::NotAReader { .. } => Fault::WrongDevice,
            E::Driver { source, .. } => source.fault(),
        }
    }
}

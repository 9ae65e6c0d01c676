//! What can go wrong with an ISDV4 pen pad, each error saying what to do next.

use std::time::Duration;

use crate::transport::LinkError;
use crate::DeviceError;

/// A packet that does not follow the ISDV4 layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("first byte 0x{0:02x} lacks the sync bit (bit 7)")]
    NoSync(u8),
    #[error("byte {at} carries the sync bit, which only a packet's first byte may")]
    SyncInside { at: usize },
    #[error("first byte 0x{0:02x} marks a control or touch packet, not a pen packet")]
    NotPen(u8),
    #[error("first byte 0x{0:02x} is not a control packet (bit 6 clear)")]
    NotControl(u8),
}

/// Why an ISDV4 operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Isdv4Error {
    #[error("the pen pad on {port} did not answer the {query} within {waited:?} at {baud} baud: check the cable and the baud rate (19 200 for WACf000–WACf007 and FUJ* pads, 38 400 for WACf008 and later)")]
    NoReply {
        port: String,
        query: &'static str,
        baud: u32,
        waited: Duration,
    },
    #[error("the pen pad on {port} sent a bad reply to the {query}: {source}; power-cycle the pad and retry")]
    BadReply {
        port: String,
        query: &'static str,
        source: CodecError,
    },
    #[error("the pen pad on {port} reports an unusable range ({what}); it may not be an ISDV4 pen digitizer")]
    BadCaps { port: String, what: String },
    #[error("nobody signed within {0:?}: ask the resident to sign on the pad (pen tip down), or record that they cannot sign")]
    NoSignature(Duration),
    #[error(
        "the pen stayed on the pad for more than {0:?}: lift the pen and start the signature again"
    )]
    SessionTooLong(Duration),
    #[error("the signature was cancelled")]
    Cancelled,
    #[error("the pen pad on {port} was disconnected while {during}: check the cable, then reopen the pad by its selector")]
    Disconnected { port: String, during: &'static str },
    #[error("serial error on {port} while {during}: {source}")]
    Link {
        port: String,
        during: &'static str,
        source: LinkError,
    },
    #[error("calibration rejected: {0}; tap the two corners again, firmly and apart")]
    Calibration(String),
}

impl Isdv4Error {
    /// Wraps a link error, naming a disconnect as such.
    pub(crate) fn link(port: String, during: &'static str, e: LinkError) -> Self {
        match e {
            LinkError::Disconnected => Isdv4Error::Disconnected { port, during },
            source => Isdv4Error::Link {
                port,
                during,
                source,
            },
        }
    }
}

impl From<Isdv4Error> for DeviceError {
    fn from(e: Isdv4Error) -> Self {
        match e {
            Isdv4Error::Cancelled => DeviceError::Cancelled,
            Isdv4Error::Disconnected { .. } => DeviceError::Disconnected,
            Isdv4Error::NoSignature(waited) => DeviceError::Timeout(
                waited,
                "a signature (ask the resident to sign, or record that they cannot sign)",
            ),
            Isdv4Error::Link {
                source: LinkError::Busy(_),
                ..
            } => DeviceError::Busy,
            Isdv4Error::Link {
                source: LinkError::PermissionDenied(_),
                ..
            } => DeviceError::PermissionDenied,
            other => crate::fault::unusable(other.fault(), other.to_string()),
        }
    }
}

impl Isdv4Error {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use crate::fault::{Awaited, Fault};
        match self {
            Isdv4Error::NoReply { .. } | Isdv4Error::BadReply { .. } => Fault::DeviceFault,
            Isdv4Error::BadCaps { .. } => Fault::WrongDevice,
            Isdv4Error::NoSignature(_) => Fault::Timeout(Awaited::Signature),
            // Signing went on past the longest session: the resident signs again.
            Isdv4Error::SessionTooLong(_) => Fault::BadData,
            Isdv4Error::Cancelled => Fault::Cancelled,
            Isdv4Error::Disconnected { .. } => Fault::Unplugged,
            Isdv4Error::Link { source, .. } => source.fault(),
            Isdv4Error::Calibration(_) => Fault::Other,
        }
    }
}

//! What can go wrong with an NMEA GPS receiver, each error saying what to do next.

use std::time::Duration;

use crate::transport::LinkError;
use crate::DeviceError;

/// A line that is not a well-formed, correctly checksummed sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SentenceError {
    #[error("not a sentence: it does not start with '$'")]
    NoDollar,
    #[error("the sentence has no '*hh' checksum")]
    NoChecksum,
    #[error("checksum mismatch: computed {expected:02X}, the sentence says {found:02X}")]
    BadChecksum { expected: u8, found: u8 },
    #[error("the sentence holds bytes that are not ASCII")]
    NotAscii,
    #[error("{kind} has {got} fields, at least {need} expected")]
    TooFewFields {
        kind: String,
        got: usize,
        need: usize,
    },
    #[error("bad {which} field {value:?}")]
    Field { which: &'static str, value: String },
}

impl SentenceError {
    pub(crate) fn field(which: &'static str, value: &str) -> Self {
        SentenceError::Field {
            which,
            value: value.to_string(),
        }
    }
}

/// Why a GPS receiver gave no position.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NmeaError {
    #[error("no valid NMEA sentence from {port} within {waited:?} at {baud} baud ({rejected} lines rejected as garbage or bad checksums): check the cable and the baud rate (most receivers use 4800 or 9600)")]
    NoData {
        port: String,
        waited: Duration,
        baud: u32,
        rejected: u64,
    },
    #[error("no GPS fix within {waited:?}: the receiver reports {why}; move it to open sky and wait, or continue: the visit will record \"no fix\"")]
    NoFix { waited: Duration, why: String },
    #[error("waiting for a GPS fix was cancelled")]
    Cancelled,
    #[error("the GPS receiver on {port} was disconnected: check the cable, then reopen it by its selector")]
    Disconnected { port: String },
    #[error("serial error on {port} while reading the GPS receiver: {source}")]
    Link { port: String, source: LinkError },
}

impl From<NmeaError> for DeviceError {
    fn from(e: NmeaError) -> Self {
        match e {
            NmeaError::Cancelled => DeviceError::Cancelled,
            NmeaError::Disconnected { .. } => DeviceError::Disconnected,
            NmeaError::NoFix { waited, .. } => DeviceError::Timeout(
                waited,
                "a GPS fix (move the receiver to open sky; the visit records \"no fix\")",
            ),
            NmeaError::Link {
                source: LinkError::Busy(_),
                ..
            } => DeviceError::Busy,
            NmeaError::Link {
                source: LinkError::PermissionDenied(_),
                ..
            } => DeviceError::PermissionDenied,
            other => crate::fault::unusable(other.fault(), other.to_string()),
        }
    }
}

impl NmeaError {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use crate::fault::{Awaited, Fault};
        match self {
            // Nothing readable on the port: not a receiver at this baud rate, or a dead one.
            NmeaError::NoData { .. } => Fault::DeviceFault,
            NmeaError::NoFix { .. } => Fault::Timeout(Awaited::Fix),
            NmeaError::Cancelled => Fault::Cancelled,
            NmeaError::Disconnected { .. } => Fault::Unplugged,
            NmeaError::Link { source, .. } => source.fault(),
        }
    }
}

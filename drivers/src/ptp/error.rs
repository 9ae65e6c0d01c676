//! PTP errors: every response code explained with what to do next, USB failures kept with the
//! operation they interrupted, the capture-level failures (no capture support, no photo), and why
//! a property could not be calibrated ([`PropertyError`]).

use std::time::Duration;

use super::protocol::{CodecError, OperationCode, ResponseCode};
use crate::usb::UsbError;
use crate::DeviceError;

/// What a response code means, and what the operator or technician should do about it.
pub fn explain(code: ResponseCode) -> (&'static str, &'static str) {
    match code {
        ResponseCode::OK => ("the operation succeeded", "nothing"),
        ResponseCode::UNDEFINED | ResponseCode::GENERAL_ERROR => (
            "the camera reported a general error",
            "switch the camera off and on, reconnect it, and try again",
        ),
        ResponseCode::SESSION_NOT_OPEN => (
            "no session is open on the camera",
            "reconnect the camera (jemput opens a new session)",
        ),
        ResponseCode::INVALID_TRANSACTION_ID => (
            "the camera lost track of the transaction numbers",
            "reconnect the camera",
        ),
        ResponseCode::OPERATION_NOT_SUPPORTED => (
            "the camera does not support this operation",
            "use a camera that supports PTP remote capture, or report the model",
        ),
        ResponseCode::PARAMETER_NOT_SUPPORTED | ResponseCode::INVALID_PARAMETER => (
            "the camera refused a parameter of the operation",
            "report the camera model; it may need a vendor capture hook",
        ),
        ResponseCode::INCOMPLETE_TRANSFER => (
            "the camera reports an incomplete transfer",
            "check the USB cable (avoid long cables and unpowered hubs) and try again",
        ),
        ResponseCode::INVALID_STORAGE_ID | ResponseCode::STORE_NOT_AVAILABLE => (
            "the camera's memory card is not available",
            "insert a memory card (or close the card door) and try again",
        ),
        ResponseCode::INVALID_OBJECT_HANDLE => (
            "the photo is no longer on the camera",
            "take the photo again",
        ),
        ResponseCode::DEVICE_PROP_NOT_SUPPORTED
        | ResponseCode::INVALID_DEVICE_PROP_FORMAT
        | ResponseCode::INVALID_DEVICE_PROP_VALUE => (
            "the camera does not accept this setting",
            "leave the setting at the camera's default",
        ),
        ResponseCode::INVALID_OBJECT_FORMAT_CODE
        | ResponseCode::SPECIFICATION_BY_FORMAT_UNSUPPORTED => (
            "the camera cannot capture in the requested format",
            "set the camera to JPEG (not RAW only) and try again",
        ),
        ResponseCode::STORE_FULL => (
            "the camera's memory card is full",
            "delete photos from the card or insert an empty one, then take the photo again",
        ),
        ResponseCode::OBJECT_WRITE_PROTECTED
        | ResponseCode::STORE_READ_ONLY
        | ResponseCode::ACCESS_DENIED => (
            "the camera's memory card is write-protected",
            "slide the card's lock switch to unlocked, or insert another card",
        ),
        ResponseCode::NO_THUMBNAIL_PRESENT => (
            "the photo has no thumbnail",
            "nothing to do: the photo itself is unaffected",
        ),
        ResponseCode::SELF_TEST_FAILED => (
            "the camera failed its self test",
            "switch the camera off and on; if it persists the camera needs service",
        ),
        ResponseCode::PARTIAL_DELETION => (
            "the camera deleted only part of what was asked",
            "delete the remaining photos on the camera",
        ),
        ResponseCode::NO_VALID_OBJECT_INFO
        | ResponseCode::INVALID_CODE_FORMAT
        | ResponseCode::UNKNOWN_VENDOR_CODE
        | ResponseCode::INVALID_PARENT_OBJECT
        | ResponseCode::SPECIFICATION_OF_DESTINATION_UNSUPPORTED => (
            "the camera did not understand the request",
            "report the camera model and firmware",
        ),
        ResponseCode::CAPTURE_ALREADY_TERMINATED => {
            ("the capture had already ended", "take the photo again")
        }
        ResponseCode::DEVICE_BUSY => (
            "the camera is busy (focusing, writing the card, or showing a menu)",
            "leave the camera's menus, wait a moment and take the photo again",
        ),
        ResponseCode::SESSION_ALREADY_OPEN => (
            "another program already has a session open on the camera",
            "close other camera programs (gphoto2, photo import) and reconnect the camera",
        ),
        ResponseCode::TRANSACTION_CANCELLED => (
            "the camera cancelled the transfer",
            "keep the camera still and connected, then take the photo again",
        ),
        _ => (
            "the camera answered with a code jemput does not know",
            "report the camera model and the code",
        ),
    }
}

/// Why a PTP operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PtpError {
    #[error("the camera answered {op} with {code}: {}; {}", explain(*code).0, explain(*code).1)]
    Response {
        op: OperationCode,
        code: ResponseCode,
    },
    #[error("the camera was disconnected during {during}; plug it in again (jemput finds it again by its selector)")]
    Disconnected { during: String },
    #[error("no answer from the camera within {after:?} during {during}; check that it is switched on, in PTP/PTP-camera USB mode, and not asleep")]
    Timeout { during: String, after: Duration },
    #[error("USB error during {during}: {source}")]
    Usb {
        during: String,
        #[source]
        source: UsbError,
    },
    #[error("the camera ({model}) does not support InitiateCapture (0x100E){}; it needs a vendor capture hook, which jemput does not have for it yet", vendor_ops(*vendor, vendor_operations))]
    NoCapture {
        model: String,
        vendor: u32,
        vendor_operations: Vec<OperationCode>,
    },
    #[error("the camera took no photo within {0:?} of InitiateCapture; check that it can focus (light, lens cap) and try again")]
    NoPhoto(Duration),
    #[error("the camera cancelled the transfer of the photo ({status}); keep it connected and take the photo again")]
    TransferCancelled { status: ResponseCode },
    #[error("the photo the camera sent is not a JPEG ({0}); set the camera to JPEG and try again")]
    NotJpeg(String),
    #[error("protocol error during {during}: {what}")]
    Protocol { during: String, what: String },
    #[error("malformed data from the camera during {during}: {source}")]
    Codec {
        during: String,
        #[source]
        source: CodecError,
    },
    #[error("cancelled")]
    Cancelled,
}

fn vendor_ops(vendor: u32, ops: &[OperationCode]) -> String {
    let who = match super::dataset::vendor_name(vendor) {
        Some(name) => format!("{name} (vendor extension {vendor:#x})"),
        None if vendor == 0 => "no vendor extension".to_string(),
        None => format!("vendor extension {vendor:#x}"),
    };
    if ops.is_empty() {
        return format!(" and lists no vendor operations ({who})");
    }
    let list: Vec<String> = ops
        .iter()
        .take(12)
        .map(|o| format!("{:#06x}", o.0))
        .collect();
    let more = if ops.len() > 12 {
        format!(" and {} more", ops.len() - 12)
    } else {
        String::new()
    };
    format!(
        "; it wants {who} vendor operations for remote capture: {}{more}",
        list.join(", ")
    )
}

impl PtpError {
    /// Wraps a USB error met during `during`.
    pub fn usb(during: impl Into<String>, source: UsbError) -> Self {
        let during = during.into();
        match source {
            UsbError::Disconnected => PtpError::Disconnected { during },
            UsbError::Timeout(after) => PtpError::Timeout { during, after },
            source => PtpError::Usb { during, source },
        }
    }

    /// The response code, for errors the camera answered with.
    pub fn response_code(&self) -> Option<ResponseCode> {
        match self {
            PtpError::Response { code, .. } => Some(*code),
            PtpError::TransferCancelled { status } => Some(*status),
            _ => None,
        }
    }
}

impl From<PtpError> for DeviceError {
    fn from(e: PtpError) -> Self {
        match e {
            PtpError::Disconnected { .. } => DeviceError::Disconnected,
            PtpError::Timeout { after, .. } => DeviceError::Timeout(after, "the camera"),
            PtpError::Cancelled => DeviceError::Cancelled,
            PtpError::Usb { ref source, .. } => source
                .device_error()
                .unwrap_or_else(|| DeviceError::Protocol(e.to_string())),
            other => crate::fault::unusable(other.fault(), other.to_string()),
        }
    }
}

/// Why a camera's exposure or white balance could not be calibrated; each says where to set the
/// value instead, or what the camera allows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PropertyError {
    #[error("an exposure bias of {ev} EV is out of range: cameras are asked for -10 to 10 EV")]
    ExposureBiasRange { ev: f64 },
    #[error(
        "the camera does not expose {name} ({code:#06x}) over PTP; set it in the camera's own menu"
    )]
    NotExposed { name: &'static str, code: u16 },
    #[error("the camera lets jemput read {name} but not set it; set it in the camera's own menu")]
    ReadOnly { name: &'static str },
    #[error("the camera does not allow {name} {value}; it allows {allowed}")]
    NotAllowed {
        name: &'static str,
        value: String,
        allowed: String,
    },
    #[error("reading {name}")]
    Read {
        name: &'static str,
        #[source]
        source: PtpError,
    },
    #[error("setting {name}")]
    Set {
        name: &'static str,
        #[source]
        source: PtpError,
    },
    #[error(transparent)]
    Record(#[from] serde_json::Error),
}

impl PtpError {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use crate::fault::{Awaited, Fault};
        match self {
            PtpError::Response { .. }
            | PtpError::Timeout { .. }
            | PtpError::TransferCancelled { .. }
            | PtpError::Protocol { .. } => Fault::DeviceFault,
            PtpError::Disconnected { .. } => Fault::Unplugged,
            PtpError::Usb { source, .. } => source.fault(),
            PtpError::NoCapture { .. } => Fault::WrongDevice,
            PtpError::NoPhoto(_) => Fault::Timeout(Awaited::Photo),
            PtpError::NotJpeg(_) | PtpError::Codec { .. } => Fault::BadData,
            PtpError::Cancelled => Fault::Cancelled,
        }
    }
}

impl super::OpenCameraError {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use super::OpenCameraError as E;
        use crate::fault::Fault;
        match self {
            E::NotFound { .. } => Fault::Unplugged,
            E::Ambiguous { .. } | E::Usb(_) => Fault::Other,
            E::NotACamera { .. } => Fault::WrongDevice,
            E::Open { source, .. } => source.fault(),
            E::Driver { source, .. } => source.fault(),
        }
    }
}

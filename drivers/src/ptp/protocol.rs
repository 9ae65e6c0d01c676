//! The pure PTP codec (ISO 15740 / PIMA 15740 over the USB Still Image Capture class,
//! docs/devices.md §5): operation, response, event and format codes, and the bulk-pipe containers.
//! Everything is little-endian. Bytes in, values out; nothing here touches a device.

use std::fmt;

/// Bytes of a container header: length u32, type u16, code u16, transaction id u32.
pub const HEADER_LEN: usize = 12;
/// Parameters a command or response may carry.
pub const MAX_PARAMS: usize = 5;
/// Parameters an event may carry.
pub const MAX_EVENT_PARAMS: usize = 3;

/// Why bytes are not a PTP container or dataset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("{what}: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("container type {0} is not command (1), data (2), response (3) or event (4)")]
    BadType(u16),
    #[error("container length {length} is impossible (header is 12 bytes, {what})")]
    BadLength { length: u32, what: &'static str },
    #[error("{kind} container carries {count} parameters; at most {max} are allowed")]
    TooManyParams {
        kind: ContainerType,
        count: usize,
        max: usize,
    },
    #[error("container parameter bytes ({0}) are not a whole number of u32")]
    RaggedParams(usize),
    #[error("{field}: string is not valid UCS-2")]
    BadString { field: &'static str },
    #[error("{field}: string of {len} characters does not fit a PTP string (254 at most)")]
    StringTooLong { field: &'static str, len: usize },
    #[error("{field}: array of {count} elements does not fit the {left} bytes left")]
    BadArray {
        field: &'static str,
        count: u32,
        left: usize,
    },
    #[error("{what}: {extra} unexpected bytes after the dataset")]
    TrailingBytes { what: &'static str, extra: usize },
    #[error("device property data type {0:#06x} is not one jemput reads (integers up to 64 bits and strings)")]
    UnsupportedDataType(u16),
    #[error("device property form flag {0} is not none (0), range (1) or enumeration (2)")]
    BadFormFlag(u8),
    #[error("value {value} does not fit the property's data type {data_type:#06x}")]
    ValueOutOfType { value: i128, data_type: u16 },
}

/// Container types of the USB bulk pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerType {
    Command = 1,
    Data = 2,
    Response = 3,
    Event = 4,
}

impl ContainerType {
    fn from_u16(v: u16) -> Result<Self, CodecError> {
        Ok(match v {
            1 => ContainerType::Command,
            2 => ContainerType::Data,
            3 => ContainerType::Response,
            4 => ContainerType::Event,
            other => return Err(CodecError::BadType(other)),
        })
    }
}

impl fmt::Display for ContainerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContainerType::Command => "command",
            ContainerType::Data => "data",
            ContainerType::Response => "response",
            ContainerType::Event => "event",
        })
    }
}

macro_rules! code_set {
    ($(#[$doc:meta])* $name:ident, $unknown:literal { $($konst:ident = $value:literal, $text:literal;)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u16);

        impl $name {
            $(
                #[doc = $text]
                pub const $konst: $name = $name($value);
            )*

            /// The standard name (`GetObject`, `DeviceBusy`), if the code is a standard one.
            pub fn name(self) -> Option<&'static str> {
                let text: &'static str = match self.0 {
                    $($value => $text,)*
                    _ => return None,
                };
                text.split(['(', ' ']).next()
            }

            /// Whether the code is in the vendor-extension range (bits 15–12 = 0b1001).
            pub fn is_vendor(self) -> bool {
                self.0 & 0xF000 == 0x9000
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{n} ({:#06x})", self.0),
                    None if self.is_vendor() => write!(f, "vendor {} {:#06x}", $unknown, self.0),
                    None => write!(f, "{} {:#06x}", $unknown, self.0),
                }
            }
        }
    };
}

code_set!(
    /// An operation code (what a command asks for).
    OperationCode, "operation" {
    GET_DEVICE_INFO = 0x1001, "GetDeviceInfo (allowed before OpenSession)";
    OPEN_SESSION = 0x1002, "OpenSession(SessionID ≠ 0)";
    CLOSE_SESSION = 0x1003, "CloseSession";
    GET_STORAGE_IDS = 0x1004, "GetStorageIDs";
    GET_STORAGE_INFO = 0x1005, "GetStorageInfo(StorageID)";
    GET_NUM_OBJECTS = 0x1006, "GetNumObjects(StorageID, Format, Parent)";
    GET_OBJECT_HANDLES = 0x1007, "GetObjectHandles(StorageID or 0xFFFFFFFF, Format, Parent)";
    GET_OBJECT_INFO = 0x1008, "GetObjectInfo(Handle)";
    GET_OBJECT = 0x1009, "GetObject(Handle)";
    GET_THUMB = 0x100A, "GetThumb(Handle)";
    DELETE_OBJECT = 0x100B, "DeleteObject(Handle, Format)";
    SEND_OBJECT_INFO = 0x100C, "SendObjectInfo";
    SEND_OBJECT = 0x100D, "SendObject";
    INITIATE_CAPTURE = 0x100E, "InitiateCapture(StorageID, Format; 0 = default)";
    FORMAT_STORE = 0x100F, "FormatStore";
    RESET_DEVICE = 0x1010, "ResetDevice";
    SELF_TEST = 0x1011, "SelfTest";
    SET_OBJECT_PROTECTION = 0x1012, "SetObjectProtection";
    POWER_DOWN = 0x1013, "PowerDown";
    GET_DEVICE_PROP_DESC = 0x1014, "GetDevicePropDesc";
    GET_DEVICE_PROP_VALUE = 0x1015, "GetDevicePropValue";
    SET_DEVICE_PROP_VALUE = 0x1016, "SetDevicePropValue";
    RESET_DEVICE_PROP_VALUE = 0x1017, "ResetDevicePropValue";
    TERMINATE_OPEN_CAPTURE = 0x1018, "TerminateOpenCapture";
    MOVE_OBJECT = 0x1019, "MoveObject";
    COPY_OBJECT = 0x101A, "CopyObject";
    GET_PARTIAL_OBJECT = 0x101B, "GetPartialObject(Handle, Offset, MaxBytes)";
    INITIATE_OPEN_CAPTURE = 0x101C, "InitiateOpenCapture";
});

code_set!(
    /// A response code (how an operation ended).
    ResponseCode, "response" {
    UNDEFINED = 0x2000, "Undefined";
    OK = 0x2001, "OK";
    GENERAL_ERROR = 0x2002, "GeneralError";
    SESSION_NOT_OPEN = 0x2003, "SessionNotOpen";
    INVALID_TRANSACTION_ID = 0x2004, "InvalidTransactionID";
    OPERATION_NOT_SUPPORTED = 0x2005, "OperationNotSupported";
    PARAMETER_NOT_SUPPORTED = 0x2006, "ParameterNotSupported";
    INCOMPLETE_TRANSFER = 0x2007, "IncompleteTransfer";
    INVALID_STORAGE_ID = 0x2008, "InvalidStorageID";
    INVALID_OBJECT_HANDLE = 0x2009, "InvalidObjectHandle";
    DEVICE_PROP_NOT_SUPPORTED = 0x200A, "DevicePropNotSupported";
    INVALID_OBJECT_FORMAT_CODE = 0x200B, "InvalidObjectFormatCode";
    STORE_FULL = 0x200C, "StoreFull";
    OBJECT_WRITE_PROTECTED = 0x200D, "ObjectWriteProtected";
    STORE_READ_ONLY = 0x200E, "StoreReadOnly";
    ACCESS_DENIED = 0x200F, "AccessDenied";
    NO_THUMBNAIL_PRESENT = 0x2010, "NoThumbnailPresent";
    SELF_TEST_FAILED = 0x2011, "SelfTestFailed";
    PARTIAL_DELETION = 0x2012, "PartialDeletion";
    STORE_NOT_AVAILABLE = 0x2013, "StoreNotAvailable";
    SPECIFICATION_BY_FORMAT_UNSUPPORTED = 0x2014, "SpecificationByFormatUnsupported";
    NO_VALID_OBJECT_INFO = 0x2015, "NoValidObjectInfo";
    INVALID_CODE_FORMAT = 0x2016, "InvalidCodeFormat";
    UNKNOWN_VENDOR_CODE = 0x2017, "UnknownVendorCode";
    CAPTURE_ALREADY_TERMINATED = 0x2018, "CaptureAlreadyTerminated";
    DEVICE_BUSY = 0x2019, "DeviceBusy";
    INVALID_PARENT_OBJECT = 0x201A, "InvalidParentObject";
    INVALID_DEVICE_PROP_FORMAT = 0x201B, "InvalidDevicePropFormat";
    INVALID_DEVICE_PROP_VALUE = 0x201C, "InvalidDevicePropValue";
    INVALID_PARAMETER = 0x201D, "InvalidParameter";
    SESSION_ALREADY_OPEN = 0x201E, "SessionAlreadyOpen";
    TRANSACTION_CANCELLED = 0x201F, "TransactionCancelled";
    SPECIFICATION_OF_DESTINATION_UNSUPPORTED = 0x2020, "SpecificationOfDestinationUnsupported";
});

code_set!(
    /// An event code (what the camera reports on the interrupt endpoint).
    EventCode, "event" {
    CANCEL_TRANSACTION = 0x4001, "CancelTransaction(TID)";
    OBJECT_ADDED = 0x4002, "ObjectAdded(Handle)";
    OBJECT_REMOVED = 0x4003, "ObjectRemoved(Handle)";
    STORE_ADDED = 0x4004, "StoreAdded(StorageID)";
    STORE_REMOVED = 0x4005, "StoreRemoved(StorageID)";
    DEVICE_PROP_CHANGED = 0x4006, "DevicePropChanged(Property)";
    OBJECT_INFO_CHANGED = 0x4007, "ObjectInfoChanged(Handle)";
    DEVICE_INFO_CHANGED = 0x4008, "DeviceInfoChanged";
    REQUEST_OBJECT_TRANSFER = 0x4009, "RequestObjectTransfer(Handle)";
    STORE_FULL = 0x400A, "StoreFull(StorageID)";
    DEVICE_RESET = 0x400B, "DeviceReset";
    STORAGE_INFO_CHANGED = 0x400C, "StorageInfoChanged(StorageID)";
    CAPTURE_COMPLETE = 0x400D, "CaptureComplete(TID of InitiateCapture)";
    UNREPORTED_STATUS = 0x400E, "UnreportedStatus";
});

code_set!(
    /// An object format code (ObjectInfo, InitiateCapture, GetObjectHandles).
    FormatCode, "format" {
    UNDEFINED = 0x3000, "Undefined non-image object";
    ASSOCIATION = 0x3001, "Association (a folder)";
    EXIF_JPEG = 0x3801, "EXIF/JPEG";
    JFIF = 0x3808, "JFIF";
    TIFF = 0x380D, "TIFF";
});

/// Class-specific control requests of the USB Still Image Capture class.
pub mod class {
    /// Cancel Request (host to device, class, interface): data = 0x4001 u16 + TransactionID u32.
    pub const CANCEL: u8 = 0x64;
    /// Get Extended Event Data.
    pub const GET_EXTENDED_EVENT_DATA: u8 = 0x65;
    /// Device Reset Request.
    pub const DEVICE_RESET: u8 = 0x66;
    /// Get Device Status (device to host, class, interface): length u16, code u16, then u32
    /// parameters (the halted endpoints).
    pub const GET_DEVICE_STATUS: u8 = 0x67;
    /// bmRequestType of class requests to the interface, host to device.
    pub const OUT: u8 = 0x21;
    /// bmRequestType of class requests to the interface, device to host.
    pub const IN: u8 = 0xA1;
}

/// The header of a bulk-pipe container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Whole container length, header included.
    pub length: u32,
    pub kind: ContainerType,
    pub code: u16,
    pub transaction_id: u32,
}

impl Header {
    /// Bytes of payload after the header.
    pub fn payload_len(&self) -> usize {
        self.length as usize - HEADER_LEN
    }
}

/// Decodes a container header from the first 12 bytes of `bytes`.
pub fn decode_header(bytes: &[u8]) -> Result<Header, CodecError> {
    if bytes.len() < HEADER_LEN {
        return Err(CodecError::Truncated {
            what: "container header",
            need: HEADER_LEN,
            have: bytes.len(),
        });
    }
    let length = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes"));
    let kind = ContainerType::from_u16(u16::from_le_bytes([bytes[4], bytes[5]]))?;
    if (length as usize) < HEADER_LEN {
        return Err(CodecError::BadLength {
            length,
            what: "shorter than its own header",
        });
    }
    if kind != ContainerType::Data {
        let max = if kind == ContainerType::Event {
            MAX_EVENT_PARAMS
        } else {
            MAX_PARAMS
        };
        if length as usize > HEADER_LEN + 4 * max {
            return Err(CodecError::BadLength {
                length,
                what: "too long for a container of parameters",
            });
        }
    }
    Ok(Header {
        length,
        kind,
        code: u16::from_le_bytes([bytes[6], bytes[7]]),
        transaction_id: u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")),
    })
}

/// A command, response or event: a code, a transaction id and up to five u32 parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamContainer {
    pub kind: ContainerType,
    pub code: u16,
    pub transaction_id: u32,
    pub params: Vec<u32>,
}

impl ParamContainer {
    /// Encodes the container; too many parameters for its kind is an error.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let max = match self.kind {
            ContainerType::Event => MAX_EVENT_PARAMS,
            _ => MAX_PARAMS,
        };
        if self.params.len() > max || self.kind == ContainerType::Data {
            return Err(CodecError::TooManyParams {
                kind: self.kind,
                count: self.params.len(),
                max,
            });
        }
        let mut out = header_bytes(
            HEADER_LEN + 4 * self.params.len(),
            self.kind,
            self.code,
            self.transaction_id,
        );
        for p in &self.params {
            out.extend_from_slice(&p.to_le_bytes());
        }
        Ok(out)
    }

    /// Decodes a whole command, response or event container.
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let h = decode_header(bytes)?;
        if h.kind == ContainerType::Data {
            return Err(CodecError::BadType(2));
        }
        if bytes.len() < h.length as usize {
            return Err(CodecError::Truncated {
                what: "container",
                need: h.length as usize,
                have: bytes.len(),
            });
        }
        let payload = &bytes[HEADER_LEN..h.length as usize];
        if !payload.len().is_multiple_of(4) {
            return Err(CodecError::RaggedParams(payload.len()));
        }
        Ok(ParamContainer {
            kind: h.kind,
            code: h.code,
            transaction_id: h.transaction_id,
            params: payload
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
        })
    }

    /// The `i`th parameter, 0 when the container does not carry it (PTP's convention).
    pub fn param(&self, i: usize) -> u32 {
        self.params.get(i).copied().unwrap_or(0)
    }
}

fn header_bytes(length: usize, kind: ContainerType, code: u16, tid: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(length);
    out.extend_from_slice(&(length as u32).to_le_bytes());
    out.extend_from_slice(&(kind as u16).to_le_bytes());
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&tid.to_le_bytes());
    out
}

/// Encodes a command container (at most five parameters).
pub fn command(op: OperationCode, tid: u32, params: &[u32]) -> Result<Vec<u8>, CodecError> {
    ParamContainer {
        kind: ContainerType::Command,
        code: op.0,
        transaction_id: tid,
        params: params.to_vec(),
    }
    .encode()
}

/// Encodes a data container holding `payload`.
///
/// # Errors
/// A payload of 4 GiB or more does not fit the u32 length.
pub fn data(code: u16, tid: u32, payload: &[u8]) -> Result<Vec<u8>, CodecError> {
    let length = HEADER_LEN + payload.len();
    if u32::try_from(length).is_err() {
        return Err(CodecError::BadLength {
            length: u32::MAX,
            what: "data does not fit a u32 length",
        });
    }
    let mut out = header_bytes(length, ContainerType::Data, code, tid);
    out.extend_from_slice(payload);
    Ok(out)
}

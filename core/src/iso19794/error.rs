//! What can be wrong with an ISO/IEC 19794 record, read or written.

/// A record that cannot be read, or a record value that cannot be written. Every reader check
/// ends here: no input makes the readers panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IsoError {
    /// The first four bytes are not the format identifier.
    #[error(
        "not an {standard} record: it starts with {found:02x?}, not {expected:?} \
         (is it another kind of record, or base64 that was not decoded?)"
    )]
    NotARecord {
        standard: &'static str,
        expected: &'static str,
        found: Vec<u8>,
    },
    /// The version number is not the one jemput reads.
    #[error(
        "{standard} record version {found:?} is not supported: jemput reads version {supported:?} \
         ({edition}), the one MOSIP's SBI specification asks for"
    )]
    UnsupportedVersion {
        standard: &'static str,
        edition: &'static str,
        supported: &'static str,
        found: String,
    },
    /// The bytes end inside a field.
    #[error("the record is cut short: it ends inside the {field} at byte {offset} ({needed} bytes needed, {available} left)")]
    Truncated {
        field: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// A length field disagrees with the bytes it counts.
    #[error("the {field} says {declared} bytes, but {actual} bytes are there")]
    LengthMismatch {
        field: &'static str,
        declared: u64,
        actual: u64,
    },
    /// A representation's length ends inside one of its fields.
    #[error(
        "representation {index} says it is {length} bytes long, which ends inside its {field}"
    )]
    RepresentationTooShort {
        index: u16,
        length: u32,
        field: &'static str,
    },
    /// Bytes left over where the record should end.
    #[error("{count} bytes follow {after}")]
    TrailingBytes { after: &'static str, count: usize },
    /// A count field disagrees with what follows it.
    #[error("the {field} says {declared}, but the record holds {actual}")]
    CountMismatch {
        field: &'static str,
        declared: u64,
        actual: u64,
    },
    /// A coded field holds a value the standard does not define.
    #[error("the {field} is {value}, which the standard does not define{hint}")]
    InvalidValue {
        field: &'static str,
        value: u64,
        hint: &'static str,
    },
    /// A part of the standard jemput does not handle.
    #[error("{0}")]
    Unsupported(String),
    /// A value too large for its field when writing.
    #[error("cannot write the record: the {field} is {value}, the format allows at most {max}")]
    TooLarge {
        field: &'static str,
        value: u64,
        max: u64,
    },
    /// The image inside a record does not decode, or does not match the record's header.
    #[error("the {format} image in the record does not decode: {message}")]
    Image {
        format: &'static str,
        message: String,
    },
}

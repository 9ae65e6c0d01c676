//! Errors of the WSQ codec.

/// What went wrong decoding or encoding a WSQ image.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data does not start with the WSQ start-of-image marker.
    #[error("not a WSQ file: it does not start with the SOI marker FF A0")]
    NotWsq,
    /// The data ends before something it announced.
    #[error("WSQ data truncated at byte {offset}: {what}")]
    Truncated {
        /// Byte offset where more data was needed.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A marker that is not allowed where it appears.
    #[error("unexpected WSQ marker FF {marker:02X} at byte {offset}")]
    UnexpectedMarker {
        /// Second byte of the marker.
        marker: u8,
        /// Byte offset of the marker.
        offset: usize,
    },
    /// A segment whose content breaks the specification.
    #[error("invalid WSQ {segment} at byte {offset}: {reason}")]
    Invalid {
        /// The segment (marker name) or stage.
        segment: &'static str,
        /// Byte offset of the segment.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The declared image is larger than this decoder accepts, or than the data could hold.
    #[error("WSQ image of {width} × {height} pixels refused: {reason}")]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Which limit it breaks.
        reason: &'static str,
    },
    /// A feature of the specification this codec does not implement.
    #[error("unsupported WSQ feature: {0}")]
    Unsupported(String),
    /// The image or the options given to the encoder are not usable.
    #[error("cannot encode: {0}")]
    BadInput(String),
}

/// Result with the codec's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

//! ANSI/NIST-ITL 1-2011 Update 2015 (NIST SP 500-290e3) transactions, traditional encoding:
//! the writer ([`record`], [`mod@build`]), the agency profile ([`profile`]), the reader ([`read`])
//! and the summary `jemput export inspect` prints ([`mod@inspect`]).
//!
//! The mapping from a visit to records and fields is documented in `docs/export-nist.md`.

pub mod build;
pub mod inspect;
pub mod profile;
pub mod read;
pub mod record;

pub use build::{build, ExportError, ExportOptions, ExportSummary, FingerSource};
pub use inspect::{inspect, InspectOutput};
pub use profile::Profile;
pub use read::{parse, ReadError};
pub use record::{Field, Record, Transaction, Type8};

/// File separator: ends a record.
pub const FS: u8 = 0x1C;
/// Group separator: between fields.
pub const GS: u8 = 0x1D;
/// Record separator: between subfields.
pub const RS: u8 = 0x1E;
/// Unit separator: between information items.
pub const US: u8 = 0x1F;

/// Opens nothing itself: builds and encodes the transaction of an already opened packet, then
/// reads it back with [`parse`] as a last structural check before anyone writes it to disk.
pub fn export(
    contents: &crate::packet::Contents,
    opts: &ExportOptions,
) -> Result<(Vec<u8>, ExportSummary), ExportError> {
    let (t, mut summary) = build(contents, opts)?;
    let bytes = t.encode().ok_or(ExportError::TooLarge)?;
    if let Err(e) = parse(&bytes) {
        // The writer and the reader disagree: a bug, reported rather than written out.
        return Err(ExportError::Internal(format!(
            "the encoded transaction does not read back: {e}"
        )));
    }
    summary.bytes = bytes.len() as u64;
    Ok((bytes, summary))
}

//! The tus and jemput headers as the hub reads and writes them, and the `Tus-Resumable` check
//! every tus request passes first. The names and values are `jemput_core::wire::tus`'s.

use axum::http::{HeaderMap, HeaderName, StatusCode};
use jemput_core::wire::tus::{parse_upload_number, TUS_VERSION};

use super::error::ApiError;

pub(crate) static TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
pub(crate) static TUS_VERSION_H: HeaderName = HeaderName::from_static("tus-version");
pub(crate) static UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
pub(crate) static UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
pub(crate) static UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
pub(crate) static UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
pub(crate) static JEMPUT_RECEIPT: HeaderName = HeaderName::from_static("jemput-receipt");
pub(crate) static JEMPUT_MAX_CHUNK: HeaderName = HeaderName::from_static("jemput-max-chunk");

pub(crate) fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request(format!("{name} is not ASCII text")))
        })
        .transpose()
}

/// `Upload-Offset` or `Upload-Length`, or a `400` saying what is wrong.
pub(crate) fn parse_decimal(name: &str, v: &str) -> Result<u64, ApiError> {
    parse_upload_number(name, v).map_err(ApiError::bad_request)
}

pub(crate) fn check_tus_resumable(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(&TUS_RESUMABLE).map(|v| v.as_bytes()) {
        Some(v) if v == TUS_VERSION.as_bytes() => Ok(()),
        Some(v) => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "Tus-Resumable {} is not supported; this hub speaks tus {TUS_VERSION}",
                String::from_utf8_lossy(v)
            ),
        )
        .with(&TUS_VERSION_H, TUS_VERSION)),
        None => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!("missing Tus-Resumable header; this hub speaks tus {TUS_VERSION}"),
        )
        .with(&TUS_VERSION_H, TUS_VERSION)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_core::wire::tus::{MAX_CHUNK_HEADER, RECEIPT_HEADER};

    #[test]
    fn the_header_names_are_the_shared_ones() {
        assert_eq!(JEMPUT_RECEIPT.as_str(), RECEIPT_HEADER.to_ascii_lowercase());
        assert_eq!(
            JEMPUT_MAX_CHUNK.as_str(),
            MAX_CHUNK_HEADER.to_ascii_lowercase()
        );
    }
}

//! The tus 1.0.0 vocabulary kit and hub share, each piece defined once: the version and extensions
//! the hub offers, the jemput headers, the paths under a hub's base URL, `Upload-Metadata`,
//! `Upload-Checksum` and the decimal numbers of `Upload-Offset` / `Upload-Length`
//! (`docs/hub-protocol.md`; the tus protocol itself is at <https://tus.io/protocols/resumable-upload>).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The tus version spoken, in `Tus-Resumable` and `Tus-Version`.
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions a jemput hub offers (`Tus-Extension`).
pub const TUS_EXTENSIONS: &str = "creation,termination,checksum,expiration";
/// The checksum algorithms a jemput hub offers (`Tus-Checksum-Algorithm`).
///
/// `sha1` is the one the tus checksum extension requires of every server; `blake3` is the jemput
/// kit's choice when offered (the extension lets a server name any algorithm in lowercase ASCII):
/// a cryptographic hash like the others, so the request signature still covers the body through
/// it, at several times SHA-256's speed (BENCHMARKS.md, "the server's CPU per packet").
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256,blake3";
/// Content type of a `PATCH` body.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
/// The response header carrying a hub receipt (base64 of the receipt JSON).
pub const RECEIPT_HEADER: &str = "Jemput-Receipt";
/// The header in which a hub advertises its largest `PATCH` body (`OPTIONS`, creation, and a `413`
/// to a `PATCH`), so a kit never sends more and can tell "chunk too big" from "packet too big".
pub const MAX_CHUNK_HEADER: &str = "Jemput-Max-Chunk";
/// Longest `Upload-Metadata` value a hub reads: a prelude with the largest header the packet
/// format allows (64 KiB), in base64, fits.
pub const MAX_METADATA_LEN: usize = 96 * 1024;

/// The tus endpoint under a hub's base URL.
pub const UPLOADS_PATH: &str = "/v1/uploads";
/// The hub's unauthenticated identity (`GET`).
pub const INFO_PATH: &str = "/v1/info";
/// A stored receipt, by packet id: `RECEIPTS_PATH/<packet id>`.
pub const RECEIPTS_PATH: &str = "/v1/receipts";

/// A per-chunk checksum algorithm of the tus checksum extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    Sha1,
    Sha256,
    /// BLAKE3 with its default 32-byte output (<https://github.com/BLAKE3-team/BLAKE3-specs>).
    Blake3,
}

impl ChecksumAlgorithm {
    /// The name in `Tus-Checksum-Algorithm` and `Upload-Checksum`.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Sha1 => "sha1",
            ChecksumAlgorithm::Sha256 => "sha256",
            ChecksumAlgorithm::Blake3 => "blake3",
        }
    }

    /// The algorithm called `name`, if tus and the hub know it.
    pub fn from_name(name: &str) -> Option<ChecksumAlgorithm> {
        match name {
            "sha1" => Some(ChecksumAlgorithm::Sha1),
            "sha256" => Some(ChecksumAlgorithm::Sha256),
            "blake3" => Some(ChecksumAlgorithm::Blake3),
            _ => None,
        }
    }

    /// Bytes in a digest.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 | ChecksumAlgorithm::Blake3 => 32,
        }
    }

    /// The `Upload-Checksum` value of `chunk`: `<name> <base64 digest>`.
    pub fn header_value(self, chunk: &[u8]) -> String {
        let mut h = ChunkHasher::new(self);
        h.update(chunk);
        format!("{} {}", self.name(), B64.encode(h.finish()))
    }
}

/// A digest computed as a chunk arrives.
#[derive(Debug, Clone)]
pub enum ChunkHasher {
    Sha1(Sha1),
    Sha256(Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl ChunkHasher {
    pub fn new(alg: ChecksumAlgorithm) -> ChunkHasher {
        match alg {
            ChecksumAlgorithm::Sha1 => ChunkHasher::Sha1(Sha1::new()),
            ChecksumAlgorithm::Sha256 => ChunkHasher::Sha256(Sha256::new()),
            ChecksumAlgorithm::Blake3 => ChunkHasher::Blake3(Box::default()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            ChunkHasher::Sha1(h) => h.update(data),
            ChunkHasher::Sha256(h) => h.update(data),
            ChunkHasher::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// The digest of everything so far (the hasher itself goes on).
    pub fn finish(&self) -> Vec<u8> {
        match self {
            ChunkHasher::Sha1(h) => h.clone().finalize().to_vec(),
            ChunkHasher::Sha256(h) => h.clone().finalize().to_vec(),
            ChunkHasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// Reads an `Upload-Checksum` value, `<algorithm> <base64 digest>`: the algorithm and the digest,
/// whose length is checked against the algorithm. `Err` is the reason for a `400`.
pub fn parse_upload_checksum(v: &str) -> Result<(ChecksumAlgorithm, Vec<u8>), String> {
    let (alg, digest) = v
        .trim()
        .split_once(' ')
        .ok_or("Upload-Checksum must be `<algorithm> <base64 digest>`")?;
    let digest = B64
        .decode(digest.trim())
        .map_err(|_| "the Upload-Checksum digest is not base64".to_string())?;
    let alg = ChecksumAlgorithm::from_name(alg).ok_or_else(|| {
        format!("checksum algorithm {alg:?} is not supported; use one of {CHECKSUM_ALGORITHMS}")
    })?;
    if digest.len() != alg.digest_len() {
        return Err(format!(
            "the Upload-Checksum digest is {} bytes, {} digests are {}",
            digest.len(),
            alg.name(),
            alg.digest_len()
        ));
    }
    Ok((alg, digest))
}

/// `Upload-Offset` or `Upload-Length`: a non-negative decimal integer as tus writes them (digits
/// only). `Err` is the reason for a `400`.
pub fn parse_upload_number(name: &str, v: &str) -> Result<u64, String> {
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{name} must be a non-negative decimal integer, got {v:?}"
        ));
    }
    v.parse()
        .map_err(|_| format!("{name} {v:?} is out of range"))
}

/// A key of `Upload-Metadata` and its decoded value, if it has one.
pub type MetadataPair = (String, Option<Vec<u8>>);

/// Writes an `Upload-Metadata` value: `key base64,key base64`.
pub fn encode_metadata(pairs: &[(&str, &[u8])]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", B64.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a tus `Upload-Metadata` value: `key base64,key base64,key` (keys unique, no spaces or
/// commas in keys; the value may be absent). `Err` names what is wrong.
pub fn parse_metadata(v: &str) -> Result<Vec<MetadataPair>, String> {
    let mut out: Vec<MetadataPair> = Vec::new();
    for pair in v.split(',') {
        let pair = pair.trim();
        let (key, value) = match pair.split_once(' ') {
            Some((k, v)) => (k, Some(v.trim())),
            None => (pair, None),
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("bad key {key:?}"));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!("key {key:?} given twice"));
        }
        let value = match value {
            Some(v) => Some(
                B64.decode(v)
                    .map_err(|e| format!("value of {key:?} is not base64: {e}"))?,
            ),
            None => None,
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_written_by_the_kit_reads_back_on_the_hub() {
        let text = encode_metadata(&[("prelude", b"JPK1\n{}"), ("name", b"")]);
        let pairs = parse_metadata(&text).unwrap();
        assert_eq!(
            pairs,
            [
                ("prelude".to_string(), Some(b"JPK1\n{}".to_vec())),
                // An empty value is written as nothing after the space: it reads as no value.
                ("name".to_string(), None),
            ]
        );
        assert!(parse_metadata("a,a").unwrap_err().contains("twice"));
        assert!(parse_metadata("a !!!").unwrap_err().contains("not base64"));
    }

    #[test]
    fn metadata_parses_tus_pairs_and_refuses_garbage() {
        let m = parse_metadata("packet aGVsbG8=,flag,name d29ybGQ=").unwrap();
        assert_eq!(m[0], ("packet".into(), Some(b"hello".to_vec())));
        assert_eq!(m[1], ("flag".into(), None));
        assert_eq!(m[2], ("name".into(), Some(b"world".to_vec())));
        for bad in [
            "",
            "packet !!!",
            "a 1,a 1",
            ",packet aGVsbG8=",
            "p\u{e9} aGVsbG8=",
        ] {
            assert!(parse_metadata(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_checksum_header_written_by_the_kit_parses_and_matches_its_chunk() {
        for alg in [
            ChecksumAlgorithm::Sha1,
            ChecksumAlgorithm::Sha256,
            ChecksumAlgorithm::Blake3,
        ] {
            assert_eq!(ChecksumAlgorithm::from_name(alg.name()), Some(alg));
            assert!(CHECKSUM_ALGORITHMS.split(',').any(|a| a == alg.name()));
            let v = alg.header_value(b"chunk");
            let (got, digest) = parse_upload_checksum(&v).unwrap();
            assert_eq!(got, alg);
            let mut h = ChunkHasher::new(alg);
            h.update(b"chu");
            h.update(b"nk");
            assert_eq!(h.finish(), digest);
        }
        // The published BLAKE3 digest of the empty input (the BLAKE3 specification's test
        // vectors), so the name stands for that function and not another 32-byte one.
        let (_, empty) =
            parse_upload_checksum(&ChecksumAlgorithm::Blake3.header_value(b"")).unwrap();
        assert_eq!(
            hex::encode(empty),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert!(parse_upload_checksum("md5 AAAA")
            .unwrap_err()
            .contains("md5"));
        assert!(parse_upload_checksum("sha256 AAAA")
            .unwrap_err()
            .contains("3 bytes"));
        assert!(parse_upload_checksum("sha256").is_err());
    }

    #[test]
    fn upload_numbers_are_plain_decimal() {
        assert_eq!(parse_upload_number("Upload-Offset", "0"), Ok(0));
        assert_eq!(parse_upload_number("Upload-Offset", "65536"), Ok(65536));
        for bad in ["", "-1", "+1", "1e3", " 1", "99999999999999999999999"] {
            assert!(
                parse_upload_number("Upload-Offset", bad).is_err(),
                "{bad:?}"
            );
        }
    }
}

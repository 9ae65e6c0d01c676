//! The hub certificate pin: the SHA-256 of the hub's TLS certificate that a kit learns at
//! enrollment and accepts, alone, ever after. The kit's TLS verifier that enforces it is
//! `jemput_kit::upload::pin`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The SHA-256 of a certificate's DER encoding, 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertPin(String);

impl CertPin {
    /// The pin of a DER certificate.
    pub fn of(der: &[u8]) -> CertPin {
        CertPin(hex::encode(Sha256::digest(der)))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CertPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertPin({})", self.0)
    }
}

/// A certificate fingerprint that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a certificate SHA-256: give 64 hex digits (colons allowed), as `jemput hub serve` prints it")]
pub struct BadPin(pub String);

impl FromStr for CertPin {
    type Err = BadPin;

    fn from_str(s: &str) -> Result<CertPin, BadPin> {
        let t = s.trim();
        let t = t.strip_prefix("sha256:").unwrap_or(t);
        let hex: String = t.chars().filter(|&c| c != ':').collect();
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(CertPin(hex.to_ascii_lowercase()))
        } else {
            Err(BadPin(s.into()))
        }
    }
}

/// The server presented another certificate than the pinned one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the hub's TLS certificate is not the pinned one: expected SHA-256 {expected}, the server presented {presented}. Someone may be intercepting the connection, or the hub's certificate changed: check with the office before enrolling again")]
pub struct PinMismatch {
    /// The pinned fingerprint.
    pub expected: CertPin,
    /// What the server presented.
    pub presented: CertPin,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_from_hex_with_or_without_colons_and_a_prefix() {
        let hex = "AB".repeat(32);
        let p: CertPin = hex.parse().unwrap();
        assert_eq!(p.as_str(), "ab".repeat(32));
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(colons.parse::<CertPin>().unwrap(), p);
        assert_eq!(format!("sha256:{hex}").parse::<CertPin>().unwrap(), p);
        assert!("ab".repeat(31).parse::<CertPin>().is_err());
        assert!("zz".repeat(32).parse::<CertPin>().is_err());
        assert_eq!(CertPin::of(b"x").as_str().len(), 64);
    }
}

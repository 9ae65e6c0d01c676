//! The device service's side of SBI's compact JWS (RFC 7515): RS256 signing with the device key,
//! the device certificate first in the `x5c` header. Verification is the client's
//! (`jemput_sbi::jws`).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jemput_sbi::jws::Header;
use jemput_sbi::SbiError;
use ring::signature::{self, RsaKeyPair};

/// A device's signing key with its certificate chain (the device certificate first).
pub struct Signer {
    key: RsaKeyPair,
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// From an RSA private key in PKCS#8 DER and the DER certificates for `x5c`.
    pub fn new(pkcs8: &[u8], chain: Vec<Vec<u8>>) -> Result<Self, SbiError> {
        let key = RsaKeyPair::from_pkcs8(pkcs8)
            .map_err(|e| SbiError::Key(format!("not an RSA private key in PKCS#8: {e}")))?;
        if chain.is_empty() {
            return Err(SbiError::Key("no certificate for the x5c header".into()));
        }
        Ok(Signer { key, chain })
    }

    /// `base64url(header).base64url(payload).base64url(signature)`.
    pub fn sign(&self, payload: &[u8]) -> Result<String, SbiError> {
        let header = Header {
            alg: "RS256".into(),
            typ: Some("JWT".into()),
            x5c: self.chain.iter().map(|c| STANDARD.encode(c)).collect(),
        };
        let header = serde_json::to_vec(&header).expect("a header always serialises");
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| SbiError::Key("RSA signing failed".into()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

//! Compact JWS (RFC 7515) as SBI uses it: RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3),
//! the signer's certificate first in the `x5c` header (standard base64 of its DER, RFC 7515
//! §4.1.6). Verifying with ring (signing is the device service's, `jemput-sbi-service`); checking
//! the certificate's issuer is the trust store's job.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::signature;
use serde::{Deserialize, Serialize};

use crate::error::SbiError;

/// The JOSE header SBI's JWS carry (also what `jemput-sbi-service` signs with).
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Standard base64 of each certificate's DER, the signer's first.
    #[serde(default)]
    pub x5c: Vec<String>,
}

/// A JWS whose signature verified against the certificate it names: the payload and that
/// certificate (DER), still to be checked against the trust store.
#[derive(Debug)]
pub struct Verified {
    pub payload: Vec<u8>,
    pub signer_cert: Vec<u8>,
}

/// Checks a compact JWS's RS256 signature with the first certificate of its `x5c`. `what` names
/// the field in errors ("data", "digitalId", "deviceInfo").
pub fn verify(jws: &str, what: &'static str) -> Result<Verified, SbiError> {
    let bad = |why: String| SbiError::BadSignature { what, why };
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SbiError::Unsigned { what });
    };
    if s.is_empty() {
        return Err(SbiError::Unsigned { what });
    }
    let header: Header = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("the header is not base64url JSON".into()))?;
    if header.alg != "RS256" {
        return Err(bad(format!("algorithm {:?}, not RS256", header.alg)));
    }
    let cert = header
        .x5c
        .first()
        .ok_or_else(|| bad("no certificate in x5c".into()))?;
    let cert = STANDARD
        .decode(cert)
        .map_err(|_| bad("the x5c certificate is not base64".into()))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&cert)
        .map_err(|e| bad(format!("the x5c certificate does not parse: {e}")))?;
    let key = parsed.public_key().subject_public_key.data.to_vec();
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad("the signature is not base64url".into()))?;
    let input_len = h.len() + 1 + p.len();
    signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(&jws.as_bytes()[..input_len], &sig)
        .map_err(|_| bad("the signature does not verify with the x5c certificate".into()))?;
    let payload = URL_SAFE_NO_PAD
        .decode(p)
        .map_err(|_| bad("the payload is not base64url".into()))?;
    Ok(Verified {
        payload,
        signer_cert: cert,
    })
}

/// The payload of an unsigned digital ID (discovery answers carry it as bare base64url JSON).
pub fn unsigned_payload(b64: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).ok()
}

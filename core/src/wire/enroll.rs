//! Enrollment: the one-time token the office hands a field team, and the exchange in which a kit
//! registers its key with the hub (`POST /v1/enroll`, `docs/hub-protocol.md` §7).
//!
//! A token reads `jemput-enroll.<id>.<secret>.<cert sha256>`: an 8-hex-digit id (how the hub finds
//! it), a 32-hex-digit secret (128 random bits; the hub keeps only its SHA-256), and the SHA-256 of
//! the hub's TLS certificate, so the kit can pin the hub on first contact (as kubeadm's discovery
//! hash does). The kit proves it holds its key by signing the request; the signature also covers
//! the certificate fingerprint, binding the request to the TLS server it was meant for.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::{PublicKey, SigningKey};

/// Domain-separation prefix of enrollment request signatures.
pub const ENROLL_DOMAIN: &[u8] = b"jemput/enroll/v1\0";
/// The version of the enrollment exchange.
pub const ENROLL_VERSION: u32 = 1;
/// The path of the enrollment endpoint.
pub const ENROLL_PATH: &str = "/v1/enroll";
const TOKEN_PREFIX: &str = "jemput-enroll";

/// A parsed enrollment token.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollToken {
    /// The token id (8 lowercase hex digits), not secret.
    pub id: String,
    /// The secret (32 lowercase hex digits).
    pub secret: String,
    /// The SHA-256 of the hub's TLS certificate (64 lowercase hex digits).
    pub cert_sha256: String,
}

impl fmt::Debug for EnrollToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollToken")
            .field("id", &self.id)
            .field("cert_sha256", &self.cert_sha256)
            .finish_non_exhaustive()
    }
}

/// Why a token string is not a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("not an enrollment token: it should read jemput-enroll.<8 hex>.<32 hex>.<64 hex>, as `jemput hub enroll-token` prints it; {0}")]
    Malformed(&'static str),
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl EnrollToken {
    /// A new random token for a hub whose certificate has this fingerprint.
    pub fn generate(cert_sha256: &str) -> EnrollToken {
        EnrollToken {
            id: hex::encode(rand::random::<[u8; 4]>()),
            secret: hex::encode(rand::random::<[u8; 16]>()),
            cert_sha256: cert_sha256.to_ascii_lowercase(),
        }
    }

    /// The SHA-256 of the secret, as the hub stores it (hex).
    pub fn secret_hash(secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }
}

impl fmt::Display for EnrollToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{TOKEN_PREFIX}.{}.{}.{}",
            self.id, self.secret, self.cert_sha256
        )
    }
}

impl FromStr for EnrollToken {
    type Err = TokenError;

    fn from_str(s: &str) -> Result<EnrollToken, TokenError> {
        let s = s.trim();
        let mut parts = s.split('.');
        if parts.next() != Some(TOKEN_PREFIX) {
            return Err(TokenError::Malformed(
                "it does not start with jemput-enroll.",
            ));
        }
        let (Some(id), Some(secret), Some(cert), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed(
                "it does not have four parts separated by dots",
            ));
        };
        if !is_hex(id, 8) {
            return Err(TokenError::Malformed(
                "its id is not 8 lowercase hex digits",
            ));
        }
        if !is_hex(secret, 32) {
            return Err(TokenError::Malformed(
                "its secret is not 32 lowercase hex digits",
            ));
        }
        if !is_hex(cert, 64) {
            return Err(TokenError::Malformed(
                "its certificate fingerprint is not 64 lowercase hex digits",
            ));
        }
        Ok(EnrollToken {
            id: id.into(),
            secret: secret.into(),
            cert_sha256: cert.into(),
        })
    }
}

/// What a kit sends to `POST /v1/enroll` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// Always 1.
    pub enroll_version: u32,
    /// The token's id.
    pub token_id: String,
    /// The token's secret (the hub compares its SHA-256 with the stored one).
    pub token_secret: String,
    /// The kit's id, as in its packet headers.
    pub kit_id: String,
    /// The kit's ed25519 public key.
    pub kit_key: PublicKey,
    /// The certificate fingerprint the kit pinned (from the token).
    pub cert_sha256: String,
    /// Unix seconds when the kit signed; the hub accepts the request replay window.
    pub t: i64,
    /// Base64 ed25519 signature by `kit_key` over [`EnrollRequest::message`], with
    /// [`ENROLL_DOMAIN`].
    pub signature: String,
}

impl EnrollRequest {
    /// A signed request.
    pub fn new(token: &EnrollToken, kit_id: &str, key: &SigningKey, t: i64) -> EnrollRequest {
        let mut r = EnrollRequest {
            enroll_version: ENROLL_VERSION,
            token_id: token.id.clone(),
            token_secret: token.secret.clone(),
            kit_id: kit_id.into(),
            kit_key: key.public(),
            cert_sha256: token.cert_sha256.clone(),
            t,
            signature: String::new(),
        };
        r.signature = B64.encode(key.sign(ENROLL_DOMAIN, &r.message()));
        r
    }

    /// The signed message: token id, kit id, kit key, certificate fingerprint and time, one per
    /// line (the secret is not signed: it is checked by the hub on its own).
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{}\n{}\n{}\n{}\n{}",
            self.token_id, self.kit_id, self.kit_key, self.cert_sha256, self.t
        )
        .into_bytes()
    }

    /// Whether the signature verifies with the key in the request (proof of possession).
    pub fn signature_verifies(&self) -> bool {
        let Ok(raw) = B64.decode(self.signature.trim()) else {
            return false;
        };
        let Ok(sig) = <[u8; 64]>::try_from(raw.as_slice()) else {
            return false;
        };
        self.kit_key.verify(ENROLL_DOMAIN, &self.message(), &sig)
    }
}

/// What the hub answers to a successful enrollment (`200`, JSON;
/// `schemas/enroll-response.schema.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EnrollResponse {
    /// Always 1.
    pub enroll_version: u32,
    /// The hub's id; receipts name it.
    pub hub_id: String,
    /// The hub's ed25519 public key: receipts verify with it.
    pub hub_key: PublicKey,
    /// The SHA-256 of the hub's TLS certificate, for the kit to pin.
    pub hub_cert_sha256: String,
    /// The office age recipients packets must be encrypted to.
    pub office_recipients: Vec<String>,
    /// The kit id registered.
    pub kit_id: String,
    /// The name the registry gives the kit (from the token), if any.
    pub kit_name: Option<String>,
    /// Reserved for the hub's signed settings document (offline policy and the like), which the
    /// `jemput sync` work defines; hubs of this version send `null`, and kits of this version
    /// store nothing from it.
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_prints_and_parses_back_and_its_debug_form_hides_the_secret() {
        let t = EnrollToken::generate(&"ab".repeat(32));
        let s = t.to_string();
        assert!(s.starts_with("jemput-enroll."), "{s}");
        assert_eq!(s.parse::<EnrollToken>().unwrap(), t);
        assert_eq!(format!("  {s}\n").parse::<EnrollToken>().unwrap(), t);
        assert!(!format!("{t:?}").contains(&t.secret));
    }

    #[test]
    fn garbage_tokens_are_refused_naming_the_part_that_is_wrong() {
        let good = EnrollToken::generate(&"cd".repeat(32)).to_string();
        let cases = [
            ("", "does not start"),
            ("hello", "does not start"),
            ("jemput-enroll.abc", "four parts"),
            (&good.replacen(".", "..", 1), "four parts"),
            (&format!("{good}.x"), "four parts"),
            (
                &format!(
                    "jemput-enroll.ABCDEF01.{}.{}",
                    "a".repeat(32),
                    "b".repeat(64)
                ),
                "id is not",
            ),
            (
                &format!(
                    "jemput-enroll.abcdef01.{}.{}",
                    "g".repeat(32),
                    "b".repeat(64)
                ),
                "secret is not",
            ),
        ];
        for (s, want) in cases {
            let e = s.parse::<EnrollToken>().unwrap_err().to_string();
            assert!(e.contains(want), "{s:?}: {e}");
        }
        let mut short_cert = good.clone();
        short_cert.pop();
        let e = short_cert.parse::<EnrollToken>().unwrap_err().to_string();
        assert!(e.contains("certificate fingerprint"), "{e}");
    }

    #[test]
    fn the_request_signature_binds_kit_key_token_and_certificate() {
        let key = SigningKey::generate();
        let token = EnrollToken::generate(&"01".repeat(32));
        let r = EnrollRequest::new(&token, "kit-1", &key, 1_700_000_000);
        assert!(r.signature_verifies());
        let mut other_cert = r.clone();
        other_cert.cert_sha256 = "02".repeat(32);
        assert!(!other_cert.signature_verifies());
        let mut other_kit = r.clone();
        other_kit.kit_id = "kit-2".into();
        assert!(!other_kit.signature_verifies());
        let mut other_key = r.clone();
        other_key.kit_key = SigningKey::generate().public();
        assert!(!other_key.signature_verifies());
        let mut garbage = r;
        garbage.signature = "not base64!".into();
        assert!(!garbage.signature_verifies());
    }
}

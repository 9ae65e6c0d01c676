//! ed25519 signing keys (kit and hub) with domain-separated messages.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, Verifier};

use super::KeyError;
use crate::fsutil;

/// Domain-separation prefix of the outer (header) signature.
pub const OUTER_DOMAIN: &[u8] = b"jemput/outer/v1\0";
/// Domain-separation prefix of the inner (manifest) signature.
pub const INNER_DOMAIN: &[u8] = b"jemput/inner/v1\0";
/// Domain-separation prefix of hub receipts.
pub const RECEIPT_DOMAIN: &[u8] = b"jemput/receipt/v1\0";
/// Domain-separation prefix of the hub's sync documents (settings and worklist for a kit).
pub const SYNC_DOMAIN: &[u8] = b"jemput/sync/v1\0";

/// An ed25519 signing key.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public {})", self.public())
    }
}

/// An ed25519 public key; shown and parsed as standard base64 of its 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub ed25519_dalek::VerifyingKey);

impl SigningKey {
    pub fn generate() -> Self {
        SigningKey(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `domain ‖ message`.
    pub fn sign(&self, domain: &[u8], message: &[u8]) -> [u8; 64] {
        let mut m = Vec::with_capacity(domain.len() + message.len());
        m.extend_from_slice(domain);
        m.extend_from_slice(message);
        self.0.sign(&m).to_bytes()
    }

    /// Writes the key as PKCS#8 PEM (readable by OpenSSL), mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        // PKCS#8 v1 (no embedded public key): the form OpenSSL 3.0 reads.
        let pair = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        };
        let pem = pair
            .to_pkcs8_pem(Default::default())
            .map_err(|e| KeyError::Malformed {
                path: path.into(),
                why: e.to_string(),
            })?;
        fsutil::write_atomic(path, pem.as_bytes(), 0o600).map_err(|source| KeyError::Write {
            path: path.into(),
            source,
        })
    }

    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?;
        ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
            .map(SigningKey)
            .map_err(|e| KeyError::Malformed {
                path: path.into(),
                why: e.to_string(),
            })
    }
}

impl PublicKey {
    /// Verifies `signature` over `domain ‖ message`.
    pub fn verify(&self, domain: &[u8], message: &[u8], signature: &[u8; 64]) -> bool {
        let mut m = Vec::with_capacity(domain.len() + message.len());
        m.extend_from_slice(domain);
        m.extend_from_slice(message);
        self.0
            .verify(&m, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&B64.encode(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl std::str::FromStr for PublicKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bytes = B64
            .decode(s.trim())
            .map_err(|e| KeyError::BadPublicKey(format!("{s:?}: {e}")))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::BadPublicKey(format!("{s:?}: not 32 bytes")))?;
        ed25519_dalek::VerifyingKey::from_bytes(&arr)
            .map(PublicKey)
            .map_err(|e| KeyError::BadPublicKey(format!("{s:?}: {e}")))
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for PublicKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Ed25519PublicKey".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "ed25519 public key: standard base64 (with padding) of its 32 bytes",
            "pattern": "^[A-Za-z0-9+/]{43}=$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_distinct_so_signatures_do_not_transfer() {
        let k = SigningKey::generate();
        let sig = k.sign(INNER_DOMAIN, b"m");
        assert!(k.public().verify(INNER_DOMAIN, b"m", &sig));
        assert!(!k.public().verify(OUTER_DOMAIN, b"m", &sig));
        assert!(!k.public().verify(INNER_DOMAIN, b"n", &sig));
    }

    #[test]
    fn save_load_round_trip_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k.pem");
        let k = SigningKey::generate();
        k.save(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(SigningKey::load(&p).unwrap().public(), k.public());
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn public_key_text_round_trip() {
        let k = SigningKey::generate().public();
        assert_eq!(k.to_string().parse::<PublicKey>().unwrap(), k);
        assert!("AAAA".parse::<PublicKey>().is_err());
    }
}

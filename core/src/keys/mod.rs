//! Keys: the kit's signing key, office recipients and key ids, the pinned hub key. (The kit's
//! draft key is the kit's: `jemput_kit::draft_key`.)
//!
//! What lives where:
//! - the kit holds its ed25519 signing key (`keys/kit.ed25519`, PKCS#8 PEM, mode 0600), the office
//!   *recipients* (public), the hub's *public* key, and its draft key — an age X25519 identity whose
//!   secret is itself encrypted to the operator passphrase with age's scrypt recipient;
//! - the office holds the age identities that open packets and the hub's signing key
//!   ([`office::keygen`]). The kit never holds an office secret.

pub mod office;
pub mod sign;

pub use sign::{PublicKey, SigningKey};

use sha2::{Digest, Sha256};

/// The id of an age recipient as written in packet headers: the first 8 bytes of
/// SHA-256(recipient string `age1…`), lowercase hex (16 characters).
pub fn recipient_key_id(recipient: &str) -> String {
    let d = Sha256::digest(recipient.trim().as_bytes());
    hex::encode(&d[..8])
}

/// Parses an `age1…` X25519 recipient, with a message saying what is wrong.
pub fn parse_recipient(s: &str) -> Result<age::x25519::Recipient, KeyError> {
    s.trim().parse().map_err(|e: &str| KeyError::BadRecipient {
        input: s.to_string(),
        why: e.to_string(),
    })
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("not an age X25519 recipient: {input:?} ({why}); office recipients start with age1")]
    BadRecipient { input: String, why: String },
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write key file {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} is malformed: {why}")]
    Malformed {
        path: std::path::PathBuf,
        why: String,
    },
    #[error("not an ed25519 public key: {0}")]
    BadPublicKey(String),
    #[error("wrong passphrase for the draft key (or the key file is damaged)")]
    WrongPassphrase,
    #[error("no passphrase: set JEMPUT_PASSPHRASE or run from a terminal to be asked for it")]
    NoPassphrase,
    #[error("{0}")]
    Age(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_is_stable_and_short() {
        let id = recipient_key_id("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p");
        assert_eq!(id.len(), 16);
        assert_eq!(
            id,
            recipient_key_id(" age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n")
        );
    }

    #[test]
    fn bad_recipient_names_input() {
        let e = parse_recipient("age1nope").unwrap_err();
        assert!(e.to_string().contains("age1nope"));
    }
}

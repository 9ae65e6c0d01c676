//! Receipts: the hub's signed statement that it holds a verified packet. A kit may purge a packet
//! only after it holds a receipt that verifies with the pinned hub key.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::keys::sign::RECEIPT_DOMAIN;
use crate::keys::{PublicKey, SigningKey};

/// What the hub attests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {
    /// Format version of receipts: 1.
    pub receipt_version: u32,
    /// The hub's id (e.g. `hub-1a2b3c4d`).
    pub hub_id: String,
    pub packet_id: String,
    pub kit_id: String,
    /// SHA-256 of the age payload, as in the packet header (hex).
    pub payload_sha256: String,
    /// Size of the whole packet file in bytes.
    pub size: u64,
    pub received_at: jiff::Timestamp,
}

/// A receipt as sent and stored: the body's exact JSON text and an ed25519 signature over
/// `"jemput/receipt/v1\0"` ‖ that text (the text is signed as is, never re-serialised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The JSON text of a [`ReceiptBody`].
    pub body: String,
    /// base64 of the 64-byte signature.
    pub signature: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiptError {
    #[error("receipt is malformed: {0}")]
    Malformed(String),
    #[error("receipt signature does not verify with the pinned hub key: a forged receipt, or the kit pins another hub's key")]
    BadSignature,
    #[error("receipt is for {what} {got}, expected {expected}")]
    Mismatch {
        what: &'static str,
        expected: String,
        got: String,
    },
}

impl Receipt {
    /// Signs a body with the hub key.
    pub fn sign(body: &ReceiptBody, hub_key: &SigningKey) -> Receipt {
        let text = serde_json::to_string(body).expect("a receipt body serialises");
        let sig = hub_key.sign(RECEIPT_DOMAIN, text.as_bytes());
        Receipt {
            body: text,
            signature: B64.encode(sig),
        }
    }

    /// Verifies the signature with `hub_key` and returns the body.
    pub fn verify(&self, hub_key: &PublicKey) -> Result<ReceiptBody, ReceiptError> {
        let sig: [u8; 64] = B64
            .decode(&self.signature)
            .map_err(|e| ReceiptError::Malformed(format!("signature: {e}")))?
            .try_into()
            .map_err(|_| ReceiptError::Malformed("signature is not 64 bytes".into()))?;
        if !hub_key.verify(RECEIPT_DOMAIN, self.body.as_bytes(), &sig) {
            return Err(ReceiptError::BadSignature);
        }
        let body: ReceiptBody = serde_json::from_str(&self.body)
            .map_err(|e| ReceiptError::Malformed(format!("body: {e}")))?;
        if body.receipt_version != 1 {
            return Err(ReceiptError::Malformed(format!(
                "unknown receipt version {}",
                body.receipt_version
            )));
        }
        Ok(body)
    }

    /// Verifies, and checks the receipt is for this packet (id and payload hash).
    pub fn verify_for(
        &self,
        hub_key: &PublicKey,
        packet_id: &str,
        payload_sha256: &str,
    ) -> Result<ReceiptBody, ReceiptError> {
        let body = self.verify(hub_key)?;
        for (what, expected, got) in [
            ("packet", packet_id, body.packet_id.as_str()),
            ("payload hash", payload_sha256, body.payload_sha256.as_str()),
        ] {
            if expected != got {
                return Err(ReceiptError::Mismatch {
                    what,
                    expected: expected.into(),
                    got: got.into(),
                });
            }
        }
        Ok(body)
    }

    /// The receipt as one line of JSON (the `Jemput-Receipt` header carries it base64-encoded).
    pub fn to_header_value(&self) -> String {
        B64.encode(serde_json::to_vec(self).expect("a receipt serialises"))
    }

    pub fn from_header_value(v: &str) -> Result<Receipt, ReceiptError> {
        let bytes = B64
            .decode(v.trim())
            .map_err(|e| ReceiptError::Malformed(format!("header: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| ReceiptError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> ReceiptBody {
        ReceiptBody {
            receipt_version: 1,
            hub_id: "hub-test".into(),
            packet_id: "p1".into(),
            kit_id: "kit-1".into(),
            payload_sha256: "ab".repeat(32),
            size: 1234,
            received_at: "2026-11-23T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_signed_receipt_verifies_and_survives_the_header_round_trip() {
        let hub = SigningKey::generate();
        let r = Receipt::sign(&body(), &hub);
        let back = Receipt::from_header_value(&r.to_header_value()).unwrap();
        assert_eq!(
            back.verify_for(&hub.public(), "p1", &"ab".repeat(32))
                .unwrap(),
            body()
        );
    }

    #[test]
    fn forged_altered_or_misdirected_receipts_are_refused() {
        let hub = SigningKey::generate();
        let other = SigningKey::generate();
        let r = Receipt::sign(&body(), &other);
        assert_eq!(r.verify(&hub.public()), Err(ReceiptError::BadSignature));
        let mut r = Receipt::sign(&body(), &hub);
        r.body = r.body.replace("1234", "1235");
        assert_eq!(r.verify(&hub.public()), Err(ReceiptError::BadSignature));
        let r = Receipt::sign(&body(), &hub);
        assert!(matches!(
            r.verify_for(&hub.public(), "p2", &"ab".repeat(32)),
            Err(ReceiptError::Mismatch { what: "packet", .. })
        ));
        // An inner or outer packet signature is not a receipt signature (domain separation).
        let mut r = Receipt::sign(&body(), &hub);
        let s = hub.sign(crate::keys::sign::OUTER_DOMAIN, r.body.as_bytes());
        r.signature = B64.encode(s);
        assert_eq!(r.verify(&hub.public()), Err(ReceiptError::BadSignature));
    }
}

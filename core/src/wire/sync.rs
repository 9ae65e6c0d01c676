//! The sync document: what a kit downloads from the hub before a trip — office recipients, settings
//! (retention, the offline policy) and the worklist for that kit — signed by the hub key
//! (`docs/hub-protocol.md` §8). The kit's client is `jemput_kit::sync`; the limits it enforces are
//! [`crate::offline`].

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::keys::sign::SYNC_DOMAIN;
use crate::keys::{PublicKey, SigningKey};
use crate::worklist::WorklistEntry;

use crate::offline::OfflinePolicy;

/// The path of the sync endpoint under the hub's base URL.
pub const SYNC_PATH: &str = "/v1/sync";
/// Format version of sync documents.
pub const SYNC_VERSION: u32 = 1;

/// What the office sets for its kits (`jemput hub settings`); carried in every sync document.
/// (Not `Eq`: the capture policy's WSQ bit rate is a float.)
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KitSettings {
    /// Office age recipients (`age1…`) kits encrypt packets to; when not empty, a sync replaces
    /// the kit's list with it.
    #[serde(default)]
    pub office_recipients: Vec<String>,
    /// Hours an acknowledged packet is kept on the kit before it is purged; unset leaves the
    /// kit's own setting.
    #[serde(default)]
    pub retention_hours: Option<u32>,
    /// Offline limits; each one set here overrides the kit's local value.
    #[serde(default)]
    pub policy: OfflinePolicy,
    /// The capture policy (thresholds, attempts, keep-best, forcing, WSQ bit rate); when set, a
    /// sync replaces the kit's `[capture]` with it. Unset leaves each kit's own. Hubs before this
    /// field send none, and kits before it refuse a document that has one (`deny_unknown_fields`),
    /// so set it only once every kit runs a jemput that knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture: Option<crate::visit::policy::CapturePolicy>,
}

impl KitSettings {
    /// What a new hub sets: limits in the spirit of MOSIP's freeze rules, loosened for
    /// week-long trips to blank-spot areas (see README, "Offline policy").
    pub fn recommended() -> KitSettings {
        KitSettings {
            office_recipients: Vec::new(),
            retention_hours: None,
            policy: OfflinePolicy {
                max_days_since_sync: Some(14),
                max_backlog_packets: Some(500),
                max_backlog_bytes: Some(2 << 30),
                min_free_disk_bytes: Some(100 << 20),
                max_clock_skew_secs: Some(300),
                online_only: Some(false),
            },
            capture: None,
        }
    }
}

/// What the hub attests in a sync document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    /// Format version: 1.
    pub sync_version: u32,
    /// The hub's id.
    pub hub_id: String,
    /// The kit this document was issued to.
    pub kit_id: String,
    /// When the hub issued it (the hub's clock); a kit refuses a document older than the last one
    /// it accepted, and measures its clock skew against this time.
    pub issued_at: jiff::Timestamp,
    /// Office recipients, retention and the offline policy.
    pub settings: KitSettings,
    /// The entries for this kit: those assigned to it and those assigned to no kit.
    pub worklist: Vec<WorklistEntry>,
}

/// A sync document as sent and stored: the body's exact JSON text and an ed25519 signature over
/// `"jemput/sync/v1\0"` ‖ that text (signed as is, never re-serialised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncDocument {
    /// The JSON text of a [`SyncBody`].
    pub body: String,
    /// base64 of the 64-byte signature.
    pub signature: String,
}

/// Why a sync document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    #[error("the sync document is malformed: {0}")]
    Malformed(String),
    #[error("the sync document's signature does not verify with the pinned hub key: a forged document, or the kit pins another hub's key; nothing was changed")]
    BadSignature,
}

impl SyncDocument {
    /// Signs a body with the hub key.
    pub fn sign(body: &SyncBody, hub_key: &SigningKey) -> SyncDocument {
        let text = serde_json::to_string(body).expect("a sync body serialises");
        let sig = hub_key.sign(SYNC_DOMAIN, text.as_bytes());
        SyncDocument {
            body: text,
            signature: B64.encode(sig),
        }
    }

    /// Decodes a document as it comes off the network (nothing is trusted until [`Self::verify`]).
    pub fn from_json(bytes: &[u8]) -> Result<SyncDocument, DocumentError> {
        serde_json::from_slice(bytes).map_err(|e| DocumentError::Malformed(e.to_string()))
    }

    /// Verifies the signature with `hub_key` and returns the body.
    pub fn verify(&self, hub_key: &PublicKey) -> Result<SyncBody, DocumentError> {
        let sig: [u8; 64] = B64
            .decode(&self.signature)
            .map_err(|e| DocumentError::Malformed(format!("signature: {e}")))?
            .try_into()
            .map_err(|_| DocumentError::Malformed("signature is not 64 bytes".into()))?;
        if !hub_key.verify(SYNC_DOMAIN, self.body.as_bytes(), &sig) {
            return Err(DocumentError::BadSignature);
        }
        let body: SyncBody = serde_json::from_str(&self.body)
            .map_err(|e| DocumentError::Malformed(format!("body: {e}")))?;
        if body.sync_version != SYNC_VERSION {
            return Err(DocumentError::Malformed(format!(
                "unknown sync version {}",
                body.sync_version
            )));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::sign::RECEIPT_DOMAIN;

    fn body() -> SyncBody {
        SyncBody {
            sync_version: 1,
            hub_id: "hub-1".into(),
            kit_id: "kit-1".into(),
            issued_at: "2026-11-23T10:00:00Z".parse().unwrap(),
            settings: KitSettings::recommended(),
            worklist: vec![],
        }
    }

    #[test]
    fn a_signed_document_verifies_and_a_forged_or_altered_one_does_not() {
        let hub = SigningKey::generate();
        let doc = SyncDocument::sign(&body(), &hub);
        assert_eq!(doc.verify(&hub.public()).unwrap(), body());
        let other = SigningKey::generate();
        assert_eq!(
            SyncDocument::sign(&body(), &other).verify(&hub.public()),
            Err(DocumentError::BadSignature)
        );
        let mut altered = doc.clone();
        altered.body = altered
            .body
            .replace("\"online_only\":false", "\"online_only\":true");
        assert_ne!(altered.body, doc.body);
        assert_eq!(
            altered.verify(&hub.public()),
            Err(DocumentError::BadSignature)
        );
        // A receipt signature over the same text is not a sync signature (domain separation).
        let mut cross = doc.clone();
        cross.signature = B64.encode(hub.sign(RECEIPT_DOMAIN, doc.body.as_bytes()));
        assert_eq!(
            cross.verify(&hub.public()),
            Err(DocumentError::BadSignature)
        );
    }

    proptest::proptest! {
        /// Arbitrary bytes as an answer from the network: never a panic, never a verified body.
        #[test]
        fn arbitrary_answers_never_verify(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let hub = SigningKey::generate();
            if let Ok(doc) = SyncDocument::from_json(&data) {
                proptest::prop_assert!(doc.verify(&hub.public()).is_err());
            }
        }
    }
}

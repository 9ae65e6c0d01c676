//! The checks every capture answer must pass before anything of it is kept: each biometric's
//! `data` and `digitalId` signed (RS256) by a certificate a trusted device-provider CA issued, the
//! transaction id the one asked for, the timestamp fresh, the hash chain unbroken from the
//! request's `previousHash`, and as many biometrics as asked for.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::chain;
use crate::error::SbiError;
use crate::jws;
use crate::proto::{BiometricData, CaptureRequest, CaptureResponse, DigitalId};
use crate::trust::TrustStore;

/// How old (or how far ahead) a biometric's timestamp may be, in seconds, beyond the capture's
/// own timeout.
pub const MAX_SKEW_SECS: i64 = 120;

/// One biometric that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedBiometric {
    pub bio_type: String,
    pub bio_sub_type: Option<String>,
    /// The ISO/IEC 19794 record (bioValue decoded).
    pub record: Vec<u8>,
    /// The device's quality score, 0–100.
    pub quality_score: f32,
    pub requested_score: String,
    pub hash: String,
    pub device_code: String,
    pub digital_id: DigitalId,
    pub timestamp: String,
}

/// Parses an SBI time (`yyyy-mm-ddTHH:MM:ssZ`, fractions and offsets also taken).
fn parse_time(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// Checks `resp` against the request that asked for it. `now` is Unix seconds. On any failure
/// nothing is returned: the caller keeps none of the answer.
pub fn verify_capture(
    req: &CaptureRequest,
    resp: &CaptureResponse,
    trust: &TrustStore,
    now: i64,
) -> Result<Vec<VerifiedBiometric>, SbiError> {
    let bio = req
        .bio
        .first()
        .ok_or_else(|| SbiError::Garbage("the request asks for nothing".into()))?;
    let asked: usize = bio.count.parse().unwrap_or(0);
    if let Some(e) = resp.biometrics.iter().find(|b| !b.error.is_success()) {
        return Err(SbiError::Device {
            code: e.error.error_code.clone(),
            info: e.error.error_info.clone(),
        });
    }
    if resp.biometrics.len() < asked {
        return Err(SbiError::TooFew {
            asked,
            got: resp.biometrics.len(),
        });
    }
    let timeout_secs = bio_timeout_secs(req);
    let mut previous = bio.previous_hash.clone();
    let mut out = Vec::with_capacity(resp.biometrics.len());
    let mut seen = Vec::new();
    for (index, b) in resp.biometrics.iter().enumerate() {
        let data = b
            .data
            .as_deref()
            .ok_or(SbiError::Unsigned { what: "data" })?;
        let signed = jws::verify(data, "data")?;
        trust.check(&signed.signer_cert, now)?;
        let d: BiometricData = serde_json::from_slice(&signed.payload)
            .map_err(|e| SbiError::Garbage(format!("biometric {index}'s data: {e}")))?;
        let id = jws::verify(&d.digital_id, "digitalId")?;
        trust.check(&id.signer_cert, now)?;
        let digital_id: DigitalId = serde_json::from_slice(&id.payload)
            .map_err(|e| SbiError::Garbage(format!("biometric {index}'s digitalId: {e}")))?;
        if d.transaction_id != req.transaction_id {
            return Err(SbiError::Replayed(format!(
                "biometric {index} belongs to transaction {:?}, not {:?}",
                d.transaction_id, req.transaction_id
            )));
        }
        let at = parse_time(&d.timestamp).ok_or_else(|| {
            SbiError::Garbage(format!("biometric {index}'s timestamp {:?}", d.timestamp))
        })?;
        if at < now - MAX_SKEW_SECS - timeout_secs || at > now + MAX_SKEW_SECS {
            return Err(SbiError::Replayed(format!(
                "biometric {index} is timed {}, {} s from now (at most {} s allowed)",
                d.timestamp,
                at - now,
                MAX_SKEW_SECS + timeout_secs
            )));
        }
        if d.bio_type != bio.kind || d.purpose != req.purpose {
            return Err(SbiError::Garbage(format!(
                "biometric {index} is {} for {}, asked {} for {}",
                d.bio_type, d.purpose, bio.kind, req.purpose
            )));
        }
        if let Some(sub) = &d.bio_sub_type {
            if !bio.bio_sub_type.is_empty() && !bio.bio_sub_type.contains(sub) {
                return Err(SbiError::Garbage(format!(
                    "biometric {index} is {sub}, which was not asked for"
                )));
            }
            if bio.exception.contains(sub) || seen.contains(sub) {
                return Err(SbiError::Garbage(format!(
                    "biometric {index} is {sub}, an exception or a repeat"
                )));
            }
            seen.push(sub.clone());
        }
        let record = URL_SAFE_NO_PAD
            .decode(d.bio_value.trim_end_matches('='))
            .map_err(|_| SbiError::Garbage(format!("biometric {index}'s bioValue")))?;
        let expected = chain::next_hash(&previous, &record).ok_or_else(|| {
            SbiError::Garbage(format!("the previous hash {previous:?} is not hex"))
        })?;
        let got = b.hash.clone().unwrap_or_default();
        if got != expected {
            return Err(SbiError::ChainBroken {
                index,
                expected,
                got,
            });
        }
        let quality_score: f32 = d
            .quality_score
            .parse()
            .ok()
            .filter(|q: &f32| (0.0..=100.0).contains(q))
            .ok_or_else(|| {
                SbiError::Garbage(format!(
                    "biometric {index}'s qualityScore {:?}",
                    d.quality_score
                ))
            })?;
        previous = expected.clone();
        out.push(VerifiedBiometric {
            bio_type: d.bio_type,
            bio_sub_type: d.bio_sub_type,
            record,
            quality_score,
            requested_score: d.requested_score,
            hash: expected,
            device_code: d.device_code,
            digital_id,
            timestamp: d.timestamp,
        });
    }
    Ok(out)
}

fn bio_timeout_secs(req: &CaptureRequest) -> i64 {
    req.timeout.parse::<i64>().map(|ms| ms / 1000).unwrap_or(0)
}

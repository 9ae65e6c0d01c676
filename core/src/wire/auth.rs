//! Request authentication: every request a kit makes to the hub carries
//! `Jemput-Auth: kit=<kit id>, t=<unix seconds>, sig=<base64>` where the signature is ed25519 by the
//! kit key over `"jemput/request/v1\0" ‖ METHOD "\n" PATH "\n" OFFSET "\n" T` (OFFSET is the
//! `Upload-Offset` header value, or empty). The hub accepts it within a replay window.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::keys::{PublicKey, SigningKey};

/// Domain-separation prefix of request signatures.
pub const REQUEST_DOMAIN: &[u8] = b"jemput/request/v1\0";
/// The header name.
pub const HEADER: &str = "Jemput-Auth";
/// How far a request's time may be from the hub's clock.
pub const REPLAY_WINDOW_SECS: i64 = 300;

fn message(method: &str, path: &str, offset: Option<u64>, t: i64) -> Vec<u8> {
    let offset = offset.map(|o| o.to_string()).unwrap_or_default();
    format!("{method}\n{path}\n{offset}\n{t}").into_bytes()
}

/// The `Jemput-Auth` value for a request.
pub fn sign(
    kit_id: &str,
    key: &SigningKey,
    method: &str,
    path: &str,
    offset: Option<u64>,
    t: i64,
) -> String {
    let sig = key.sign(REQUEST_DOMAIN, &message(method, path, offset, t));
    format!("kit={kit_id}, t={t}, sig={}", B64.encode(sig))
}

/// A parsed `Jemput-Auth` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    pub kit_id: String,
    pub t: i64,
    pub sig: [u8; 64],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    #[error("missing Jemput-Auth header")]
    Missing,
    #[error("malformed Jemput-Auth header: {0}")]
    Malformed(&'static str),
    #[error(
        "request time {t} is outside the replay window (hub time {now}); check the kit's clock"
    )]
    Stale { t: i64, now: i64 },
    #[error("request signature does not verify for kit {0}")]
    BadSignature(String),
}

impl AuthHeader {
    pub fn parse(v: &str) -> Result<AuthHeader, AuthError> {
        let (mut kit, mut t, mut sig) = (None, None, None);
        for part in v.split(',') {
            let (k, val) = part
                .trim()
                .split_once('=')
                .ok_or(AuthError::Malformed("expected key=value"))?;
            match k {
                "kit" => kit = Some(val.to_string()),
                "t" => {
                    t = Some(
                        val.parse()
                            .map_err(|_| AuthError::Malformed("t is not a number"))?,
                    )
                }
                // base64 may end in '=': rejoin what split_once took apart.
                "sig" => sig = Some(val.to_string()),
                _ => return Err(AuthError::Malformed("unknown key")),
            }
        }
        let sig = sig.ok_or(AuthError::Malformed("no sig"))?;
        let sig: [u8; 64] = B64
            .decode(sig)
            .map_err(|_| AuthError::Malformed("sig is not base64"))?
            .try_into()
            .map_err(|_| AuthError::Malformed("sig is not 64 bytes"))?;
        let kit_id = kit.ok_or(AuthError::Malformed("no kit"))?;
        if kit_id.is_empty() || kit_id.len() > 64 {
            return Err(AuthError::Malformed("bad kit id"));
        }
        Ok(AuthHeader {
            kit_id,
            t: t.ok_or(AuthError::Malformed("no t"))?,
            sig,
        })
    }

    /// Checks time and signature for this request against the kit's key.
    pub fn verify(
        &self,
        key: &PublicKey,
        method: &str,
        path: &str,
        offset: Option<u64>,
        now: i64,
    ) -> Result<(), AuthError> {
        // `abs_diff`: a `t` near the ends of the i64 range must be stale, not an overflow.
        if self.t.abs_diff(now) > REPLAY_WINDOW_SECS.unsigned_abs() {
            return Err(AuthError::Stale { t: self.t, now });
        }
        if key.verify(
            REQUEST_DOMAIN,
            &message(method, path, offset, self.t),
            &self.sig,
        ) {
            Ok(())
        } else {
            Err(AuthError::BadSignature(self.kit_id.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_request_verifies_only_for_its_method_path_offset_and_time() {
        let k = SigningKey::generate();
        let v = sign("kit-1", &k, "PATCH", "/v1/uploads/abc", Some(65536), 1000);
        let h = AuthHeader::parse(&v).unwrap();
        assert_eq!(h.kit_id, "kit-1");
        h.verify(&k.public(), "PATCH", "/v1/uploads/abc", Some(65536), 1010)
            .unwrap();
        for (m, p, o) in [
            ("HEAD", "/v1/uploads/abc", Some(65536)),
            ("PATCH", "/v1/uploads/abd", Some(65536)),
            ("PATCH", "/v1/uploads/abc", Some(0)),
        ] {
            assert!(matches!(
                h.verify(&k.public(), m, p, o, 1000),
                Err(AuthError::BadSignature(_))
            ));
        }
        assert!(matches!(
            h.verify(&k.public(), "PATCH", "/v1/uploads/abc", Some(65536), 2000),
            Err(AuthError::Stale { .. })
        ));
        let other = SigningKey::generate();
        assert!(h
            .verify(
                &other.public(),
                "PATCH",
                "/v1/uploads/abc",
                Some(65536),
                1000
            )
            .is_err());
    }

    #[test]
    fn times_at_the_ends_of_the_integer_range_are_stale_not_an_overflow() {
        let k = SigningKey::generate();
        for (t, now) in [
            (i64::MIN, 1_800_000_000),
            (i64::MAX, -5),
            (i64::MIN, i64::MAX),
        ] {
            let h = AuthHeader::parse(&sign("kit-1", &k, "HEAD", "/v1/x", None, t)).unwrap();
            assert_eq!(
                h.verify(&k.public(), "HEAD", "/v1/x", None, now),
                Err(AuthError::Stale { t, now })
            );
        }
    }

    #[test]
    fn malformed_headers_are_named() {
        for bad in [
            "",
            "kit=a",
            "kit=a, t=x, sig=AAAA",
            "kit=a, t=1, sig=!!",
            "kit=a, t=1, sig=AAAA, zz=1",
        ] {
            assert!(AuthHeader::parse(bad).is_err(), "{bad:?}");
        }
    }
}

//! Request authentication: every request a kit makes to the hub carries
//! `Jemput-Auth: kit=<kit id>, t=<unix seconds>, n=<nonce>, sig=<base64>` where the signature is
//! ed25519 by the kit key over
//! `"jemput/request/v2\0" ‖ METHOD "\n" PATH "\n" T "\n" NONCE "\n" OFFSET "\n" LENGTH "\n"
//! METADATA "\n" CHECKSUM`: the last four are the `Upload-Offset`, `Upload-Length`,
//! `Upload-Metadata` and `Upload-Checksum` header values exactly as sent (empty when absent). The
//! body of a `PATCH` is bound through its `Upload-Checksum`, which the hub checks before it keeps
//! a byte. The hub accepts a request within a replay window and each nonce once
//! (`docs/hub-protocol.md` §1).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::keys::{PublicKey, SigningKey};

/// Domain-separation prefix of request signatures (version 2; version 1 is no longer accepted).
pub const REQUEST_DOMAIN: &[u8] = b"jemput/request/v2\0";
/// The header name.
pub const HEADER: &str = "Jemput-Auth";
/// How far a request's time may be from the hub's clock.
pub const REPLAY_WINDOW_SECS: i64 = 300;
/// Shortest and longest nonce accepted (characters of `A-Z a-z 0-9 _ -`).
pub const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=64;

/// The tus headers a signature covers, as sent (`None`: the header is absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Covered<'a> {
    pub offset: Option<&'a str>,
    pub length: Option<&'a str>,
    pub metadata: Option<&'a str>,
    pub checksum: Option<&'a str>,
}

/// What one request's signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path exactly as on the request line (no query).
    pub path: &'a str,
    pub headers: Covered<'a>,
}

impl<'a> Request<'a> {
    /// A request whose signature covers no tus header (`GET`, `HEAD`, `DELETE`).
    pub fn new(method: &'a str, path: &'a str) -> Request<'a> {
        Request {
            method,
            path,
            headers: Covered::default(),
        }
    }
}

fn message(r: &Request<'_>, t: i64, nonce: &str) -> Vec<u8> {
    let h = r.headers;
    let v = |s: Option<&str>| s.unwrap_or("").to_owned();
    [
        r.method.to_owned(),
        r.path.to_owned(),
        t.to_string(),
        nonce.to_owned(),
        v(h.offset),
        v(h.length),
        v(h.metadata),
        v(h.checksum),
    ]
    .join("\n")
    .into_bytes()
}

/// A fresh nonce: 32 hex digits (122 random bits).
pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `n` is an acceptable nonce.
pub fn valid_nonce(n: &str) -> bool {
    NONCE_LEN.contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The `Jemput-Auth` value for a request at time `t` with a fresh nonce.
pub fn sign(kit_id: &str, key: &SigningKey, request: &Request<'_>, t: i64) -> String {
    sign_with_nonce(kit_id, key, request, t, &new_nonce())
}

/// The `Jemput-Auth` value for a request with the given nonce (tests replay one on purpose).
pub fn sign_with_nonce(
    kit_id: &str,
    key: &SigningKey,
    request: &Request<'_>,
    t: i64,
    nonce: &str,
) -> String {
    let sig = key.sign(REQUEST_DOMAIN, &message(request, t, nonce));
    format!("kit={kit_id}, t={t}, n={nonce}, sig={}", B64.encode(sig))
}

/// A parsed `Jemput-Auth` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthHeader {
    pub kit_id: String,
    pub t: i64,
    pub nonce: String,
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
        let (mut kit, mut t, mut nonce, mut sig) = (None, None, None, None);
        for part in v.split(',') {
            let (k, val) = part
                .trim()
                .split_once('=')
                .ok_or(AuthError::Malformed("expected key=value"))?;
            let slot = match k {
                "kit" => &mut kit,
                "t" => &mut t,
                "n" => &mut nonce,
                // base64 may end in '=': split_once keeps everything after the first one.
                "sig" => &mut sig,
                _ => return Err(AuthError::Malformed("unknown key")),
            };
            if slot.replace(val.to_string()).is_some() {
                return Err(AuthError::Malformed("a key given twice"));
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
        let t = t
            .ok_or(AuthError::Malformed("no t"))?
            .parse()
            .map_err(|_| AuthError::Malformed("t is not a number"))?;
        let nonce = nonce.ok_or(AuthError::Malformed(
            "no n (nonce): this kit speaks an older protocol; update it",
        ))?;
        if !valid_nonce(&nonce) {
            return Err(AuthError::Malformed(
                "n (nonce) must be 16 to 64 of A-Z a-z 0-9 _ -",
            ));
        }
        Ok(AuthHeader {
            kit_id,
            t,
            nonce,
            sig,
        })
    }

    /// Checks time and signature for this request against the kit's key. Whether the nonce was
    /// seen before is the hub's to check (it remembers nonces for the replay window).
    pub fn verify(
        &self,
        key: &PublicKey,
        request: &Request<'_>,
        now: i64,
    ) -> Result<(), AuthError> {
        // `abs_diff`: a `t` near the ends of the i64 range must be stale, not an overflow.
        if self.t.abs_diff(now) > REPLAY_WINDOW_SECS.unsigned_abs() {
            return Err(AuthError::Stale { t: self.t, now });
        }
        if key.verify(
            REQUEST_DOMAIN,
            &message(request, self.t, &self.nonce),
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

    fn patch<'a>(path: &'a str, offset: &'a str, checksum: &'a str) -> Request<'a> {
        Request {
            method: "PATCH",
            path,
            headers: Covered {
                offset: Some(offset),
                checksum: Some(checksum),
                ..Covered::default()
            },
        }
    }

    #[test]
    fn a_signed_request_verifies_only_for_what_it_covers() {
        let k = SigningKey::generate();
        let good = patch("/v1/uploads/abc", "65536", "sha256 AAAA");
        let v = sign("kit-1", &k, &good, 1000);
        let h = AuthHeader::parse(&v).unwrap();
        assert_eq!(h.kit_id, "kit-1");
        assert!(valid_nonce(&h.nonce));
        h.verify(&k.public(), &good, 1010).unwrap();
        let mut other_method = good;
        other_method.method = "HEAD";
        let create = |length: &'static str, metadata: &'static str| Request {
            method: "PATCH",
            path: "/v1/uploads/abc",
            headers: Covered {
                offset: Some("65536"),
                length: Some(length),
                metadata: Some(metadata),
                checksum: Some("sha256 AAAA"),
            },
        };
        for r in [
            other_method,
            patch("/v1/uploads/abd", "65536", "sha256 AAAA"),
            patch("/v1/uploads/abc", "0", "sha256 AAAA"),
            patch("/v1/uploads/abc", "65536", "sha256 BBBB"),
            Request::new("PATCH", "/v1/uploads/abc"),
            create("10", ""),
            create("", "packet AAAA"),
        ] {
            assert!(
                matches!(
                    h.verify(&k.public(), &r, 1000),
                    Err(AuthError::BadSignature(_))
                ),
                "{r:?}"
            );
        }
        // Another nonce with the same signature does not verify either.
        let mut h2 = h.clone();
        h2.nonce = new_nonce();
        assert!(h2.verify(&k.public(), &good, 1000).is_err());
        assert!(matches!(
            h.verify(&k.public(), &good, 2000),
            Err(AuthError::Stale { .. })
        ));
        let other = SigningKey::generate();
        assert!(h.verify(&other.public(), &good, 1000).is_err());
    }

    #[test]
    fn times_at_the_ends_of_the_integer_range_are_stale_not_an_overflow() {
        let k = SigningKey::generate();
        let r = Request::new("HEAD", "/v1/x");
        for (t, now) in [
            (i64::MIN, 1_800_000_000),
            (i64::MAX, -5),
            (i64::MIN, i64::MAX),
        ] {
            let h = AuthHeader::parse(&sign("kit-1", &k, &r, t)).unwrap();
            assert_eq!(
                h.verify(&k.public(), &r, now),
                Err(AuthError::Stale { t, now })
            );
        }
    }

    #[test]
    fn malformed_headers_are_named() {
        let sig = B64.encode([0u8; 64]);
        for bad in [
            String::new(),
            "kit=a".into(),
            "kit=a, t=x, n=0123456789abcdef, sig=AAAA".into(),
            "kit=a, t=1, n=0123456789abcdef, sig=!!".into(),
            "kit=a, t=1, n=0123456789abcdef, sig=AAAA, zz=1".into(),
            // A version 1 header (no nonce).
            format!("kit=a, t=1, sig={sig}"),
            format!("kit=a, t=1, n=short, sig={sig}"),
            format!("kit=a, t=1, n=0123456789abcdef!, sig={sig}"),
            format!("kit=a, t=1, t=2, n=0123456789abcdef, sig={sig}"),
        ] {
            assert!(AuthHeader::parse(&bad).is_err(), "{bad:?}");
        }
        assert!(AuthHeader::parse(&format!("kit=a, t=1, n=0123456789abcdef, sig={sig}")).is_ok());
    }
}

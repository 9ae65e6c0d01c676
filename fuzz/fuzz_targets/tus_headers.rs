//! Fuzzes the tus request headers the hub reads from outside: `Upload-Metadata`, `Upload-Checksum`,
//! `Upload-Offset`/`Upload-Length`, and `Jemput-Auth` (parse and verify, with fuzzer-chosen times).
#![no_main]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use jemput_core::wire::tus::{parse_metadata, parse_upload_checksum, parse_upload_number};
use jemput_core::keys::SigningKey;
use jemput_core::wire::auth::{AuthError, AuthHeader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first 8 bytes choose the hub's clock for the auth check; the rest is the header text.
    let (clock, text) = data.split_at(data.len().min(8));
    let mut now = [0u8; 8];
    now[..clock.len()].copy_from_slice(clock);
    let now = i64::from_le_bytes(now);
    let Ok(v) = std::str::from_utf8(text) else {
        return;
    };

    if let Ok(pairs) = parse_metadata(v) {
        // What parses writes back (canonically) to the same pairs.
        let again: Vec<String> = pairs
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k} {}", B64.encode(v)),
                None => k.clone(),
            })
            .collect();
        assert_eq!(parse_metadata(&again.join(",")).unwrap(), pairs);
        assert!(!pairs.is_empty());
    }

    if let Ok((alg, digest)) = parse_upload_checksum(v) {
        let len = match alg.name() {
            "sha1" => 20,
            "sha256" => 32,
            other => panic!("unknown algorithm {other}"),
        };
        assert_eq!(digest.len(), len);
    }

    if let Ok(n) = parse_upload_number("Upload-Offset", v) {
        assert!(v.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(v.trim_start_matches('0').parse::<u64>().unwrap_or(0), n);
    }

    if let Ok(h) = AuthHeader::parse(v) {
        assert!(!h.kit_id.is_empty() && h.kit_id.len() <= 64);
        static KEY: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();
        let key = KEY.get_or_init(SigningKey::generate).public();
        let request = jemput_core::wire::auth::Request {
            method: "PATCH",
            path: "/v1/uploads/x",
            headers: jemput_core::wire::auth::Covered {
                offset: Some("0"),
                checksum: Some("sha256 AAAA"),
                ..Default::default()
            },
        };
        assert!(jemput_core::wire::auth::valid_nonce(&h.nonce));
        match h.verify(&key, &request, now) {
            Err(AuthError::Stale { .. }) => assert!(h.t.abs_diff(now) > 300),
            // A random signature never verifies.
            Err(AuthError::BadSignature(_)) => assert!(h.t.abs_diff(now) <= 300),
            other => panic!("unexpected {other:?}"),
        }
    }
});

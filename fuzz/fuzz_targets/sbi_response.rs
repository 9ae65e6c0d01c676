//! Fuzzes the SBI client's reading of a device service's answers: capture, discovery and device
//! info JSON, the JWS inside them, and the whole capture check (signatures, trust, transaction,
//! time, hash chain, counts) that runs before anything of a capture is kept.
//!
//! Invariants: with an empty trust store no capture answer is accepted; a JWS from outside never
//! verifies unless its signature checks with the certificate it carries; the hash chain only
//! takes 64 hex digits (or nothing) as the previous hash.
#![no_main]

use jemput_sbi::client::{self, CaptureAsk};
use jemput_sbi::trust::TrustStore;
use jemput_sbi::{chain, jws};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ask = CaptureAsk {
        port: 4501,
        device_id: "1".into(),
        bio_type: "Finger".into(),
        sub_id: 1,
        fingers: vec![],
        exceptions: vec!["Left RingFinger".into()],
        requested_score: 40,
        timeout: std::time::Duration::from_secs(10),
    };
    let req = ask.request("fuzz-tx", "");
    // The client's own path from an answer's body to a capture it keeps.
    let accepted = client::accept_capture(&req, 4501, data, &TrustStore::new(), 1_800_000_000);
    assert!(accepted.is_err(), "accepted without a trusted CA");
    if let Ok(resp) = client::read_capture(4501, data) {
        for b in &resp.biometrics {
            if let Some(d) = &b.data {
                let _ = jws::verify(d, "data");
            }
        }
    }
    let _ = client::read_discovery(4501, data);
    let _ = client::read_info(4501, data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = jws::verify(text, "data");
        let _ = jws::unsigned_payload(text);
        let ok = text.is_empty() || (text.len() == 64 && hex_digits(text));
        assert_eq!(chain::next_hash(text, data).is_some(), ok);
    }
});

fn hex_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

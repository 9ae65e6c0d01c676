//! Fuzzes the kit's reading of a sync document as it comes off the network: JSON decoding and
//! signature verification (the body is parsed only after the signature verifies).
//!
//! Invariant: no input verifies under a key the fuzzer does not hold.
#![no_main]

use jemput_core::keys::SigningKey;
use jemput_core::wire::sync::SyncDocument;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let hub = SigningKey::generate();
    if let Ok(doc) = SyncDocument::from_json(data) {
        assert!(doc.verify(&hub.public()).is_err());
    }
});

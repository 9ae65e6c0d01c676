//! Fuzzes the receipt decoder the kit runs on what a hub (or anyone on the path) sends: the
//! `Jemput-Receipt` header value, the receipt JSON, and the body JSON behind a valid signature.
#![no_main]

use jemput_core::keys::sign::RECEIPT_DOMAIN;
use jemput_core::keys::SigningKey;
use jemput_core::wire::receipt::Receipt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One key per process: what is checked does not depend on its value.
    static HUB: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();
    let hub = HUB.get_or_init(SigningKey::generate);
    if let Ok(v) = std::str::from_utf8(data) {
        if let Ok(r) = Receipt::from_header_value(v) {
            // A receipt from random bytes never verifies with the hub key.
            assert!(r.verify(&hub.public()).is_err());
            assert_eq!(Receipt::from_header_value(&r.to_header_value()).unwrap(), r);
        }
    }
    if let Ok(r) = serde_json::from_slice::<Receipt>(data) {
        assert!(r.verify(&hub.public()).is_err());
    }
    // The body decoder behind a signature that verifies: any text, signed by the hub key.
    if let Ok(text) = std::str::from_utf8(data) {
        let signed = Receipt {
            body: text.to_string(),
            signature: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                hub.sign(RECEIPT_DOMAIN, text.as_bytes()),
            ),
        };
        if let Ok(body) = signed.verify(&hub.public()) {
            assert_eq!(body.receipt_version, 1);
            let _ = signed
                .verify_for(&hub.public(), &body.packet_id, &body.payload_sha256)
                .unwrap();
        }
    }
});

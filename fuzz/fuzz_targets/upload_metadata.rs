//! Fuzzes what the hub decodes at creation: an `Upload-Metadata` value, the base64 `packet`
//! value in it, and the packet prelude that value must be (exactly, nothing after the signature).
#![no_main]

use jemput_core::wire::tus::{parse_metadata, MAX_METADATA_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = std::str::from_utf8(data) else {
        return;
    };
    if v.len() > MAX_METADATA_LEN {
        return;
    }
    let Ok(pairs) = parse_metadata(v) else {
        return;
    };
    for (i, (k, _)) in pairs.iter().enumerate() {
        assert!(!k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()));
        assert!(pairs[..i].iter().all(|(o, _)| o != k), "keys are unique");
    }
    if let Some((_, Some(prelude))) = pairs.into_iter().find(|(k, _)| k == "packet") {
        if let Ok(p) = jemput_core::packet::parse_prelude(&prelude) {
            assert!(p.payload_offset <= prelude.len());
        }
    }
});

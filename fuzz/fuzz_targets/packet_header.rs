//! Fuzzes the packet prelude parser and the outer verification with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = jemput_core::packet::parse_prelude(data) {
        assert!(p.payload_offset <= data.len());
    }
    let _ = jemput_core::packet::verify(data, None);
});

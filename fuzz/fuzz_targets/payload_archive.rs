//! Fuzzes the reader of the decrypted payload archive (tar) with arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, _, files)) = jemput_core::packet::read_archive(data) {
        for (name, _) in files {
            assert!(!name.contains('/') && !name.contains(".."));
        }
    }
});

//! Fuzzes the ISO/IEC 19794-5:2011 face image record reader (`iso19794::read_face_record`),
//! what an SBI camera returns in `bioValue`, with arbitrary bytes.
//!
//! Invariants beyond "never panics": a record that reads has at least one representation, every
//! image format it names is one a face record can hold, and it writes back to exactly the bytes
//! read.
#![no_main]

use jemput_core::iso19794::{read_face_record, write_face_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = read_face_record(data) else {
        return;
    };
    assert!(!record.images.is_empty());
    assert!(record.images.iter().all(|i| i.format.face_code().is_some()));
    let again = write_face_record(&record).expect("a record that reads writes again");
    assert_eq!(again, data);
});

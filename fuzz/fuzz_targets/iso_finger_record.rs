//! Fuzzes the ISO/IEC 19794-4:2011 finger image record reader (`iso19794::read_finger_record`),
//! what an SBI device returns in `bioValue`, with arbitrary bytes.
//!
//! Invariants beyond "never panics": a record that reads has at least one representation and
//! writes back to exactly the bytes read, but for the number of distinct finger positions
//! (byte 15), which the writer counts itself.
#![no_main]

use jemput_core::iso19794::{read_finger_record, write_finger_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = read_finger_record(data) else {
        return;
    };
    assert!(!record.images.is_empty());
    let again = write_finger_record(&record).expect("a record that reads writes again");
    assert_eq!(again.len(), data.len());
    assert_eq!(again[..15], data[..15]);
    assert_eq!(again[16..], data[16..]);
    assert_eq!(read_finger_record(&again).as_ref(), Ok(&record));
});

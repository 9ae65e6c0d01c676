//! Fuzzes the PTP codec: container headers, parameter containers and the DeviceInfo, StorageInfo,
//! ObjectInfo and DevicePropDesc datasets, as a camera could send them.
//!
//! Invariants: nothing panics; whatever decodes and re-encodes decodes to the same value (a string
//! of 255 units without its NUL is read, from a sloppy camera, but cannot be written back).
#![no_main]

use jemput_drivers::ptp::dataset::decode_u32_array;
use jemput_drivers::ptp::protocol::{decode_header, ParamContainer};
use jemput_drivers::ptp::{DeviceInfo, DevicePropDesc, ObjectInfo, StorageInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_header(data);
    if let Ok(c) = ParamContainer::decode(data) {
        let again = ParamContainer::decode(&c.encode().expect("a decoded container encodes"));
        assert_eq!(again.as_ref(), Ok(&c));
    }
    if let Ok(v) = DeviceInfo::decode(data) {
        if let Ok(bytes) = v.encode() {
            assert_eq!(DeviceInfo::decode(&bytes).as_ref(), Ok(&v));
        }
    }
    if let Ok(v) = StorageInfo::decode(data) {
        if let Ok(bytes) = v.encode() {
            assert_eq!(StorageInfo::decode(&bytes).as_ref(), Ok(&v));
        }
    }
    if let Ok(v) = ObjectInfo::decode(data) {
        if let Ok(bytes) = v.encode() {
            assert_eq!(ObjectInfo::decode(&bytes).as_ref(), Ok(&v));
        }
    }
    if let Ok(v) = DevicePropDesc::decode(data) {
        if let Ok(bytes) = v.encode() {
            assert_eq!(DevicePropDesc::decode(&bytes).as_ref(), Ok(&v));
        }
    }
    let _ = decode_u32_array(data, "handles");
});

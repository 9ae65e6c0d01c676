//! The PTP codec against the byte vectors of docs/devices.md §5 (two of them from a recorded gphoto2 ↔
//! Canon PowerShot exchange), dataset round trips, and garbage that must be an error, never a panic.

use jemput_drivers::ptp::dataset::{decode_u32_array, Reader, Writer};
use jemput_drivers::ptp::protocol::{
    command, data, decode_header, ContainerType, ParamContainer, HEADER_LEN,
};
use jemput_drivers::ptp::{
    CodecError, DeviceInfo, EventCode, ObjectInfo, OperationCode, ResponseCode, StorageInfo,
};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn commands_encode_to_the_published_bytes() {
    // ✓ Canon trace
    assert_eq!(
        command(OperationCode::OPEN_SESSION, 0, &[1]).unwrap(),
        hex("10 00 00 00 01 00 02 10 00 00 00 00 01 00 00 00")
    );
    assert_eq!(
        command(OperationCode::GET_DEVICE_INFO, 1, &[]).unwrap(),
        hex("0C 00 00 00 01 00 01 10 01 00 00 00")
    );
    assert_eq!(
        command(OperationCode::GET_OBJECT_HANDLES, 2, &[0xFFFF_FFFF, 0, 0]).unwrap(),
        hex("18 00 00 00 01 00 07 10 02 00 00 00 FF FF FF FF 00 00 00 00 00 00 00 00")
    );
    assert_eq!(
        command(OperationCode::INITIATE_CAPTURE, 5, &[0, 0]).unwrap(),
        hex("14 00 00 00 01 00 0E 10 05 00 00 00 00 00 00 00 00 00 00 00")
    );
}

#[test]
fn the_recorded_ok_response_decodes() {
    // ✓ Canon trace
    let r = ParamContainer::decode(&hex("0C 00 00 00 03 00 01 20 00 00 00 00")).unwrap();
    assert_eq!(r.kind, ContainerType::Response);
    assert_eq!(ResponseCode(r.code), ResponseCode::OK);
    assert_eq!(r.transaction_id, 0);
    assert!(r.params.is_empty());
    assert_eq!(r.param(3), 0, "an absent parameter reads as 0");
}

#[test]
fn a_data_container_covers_its_payload() {
    let d = data(OperationCode::GET_OBJECT.0, 9, b"\xFF\xD8abc\xFF\xD9").unwrap();
    let h = decode_header(&d).unwrap();
    assert_eq!(h.length as usize, HEADER_LEN + 7);
    assert_eq!(h.kind, ContainerType::Data);
    assert_eq!(h.code, 0x1009);
    assert_eq!(h.transaction_id, 9);
    assert_eq!(&d[HEADER_LEN..], b"\xFF\xD8abc\xFF\xD9");
}

#[test]
fn codes_print_their_standard_names() {
    assert_eq!(
        OperationCode::INITIATE_CAPTURE.to_string(),
        "InitiateCapture (0x100e)"
    );
    assert_eq!(ResponseCode(0x2019).to_string(), "DeviceBusy (0x2019)");
    assert_eq!(EventCode(0x400D).to_string(), "CaptureComplete (0x400d)");
    assert_eq!(OperationCode(0x9116).to_string(), "vendor operation 0x9116");
    assert!(OperationCode(0x9116).is_vendor() && !OperationCode(0x100E).is_vendor());
}

#[test]
fn every_standard_response_code_has_its_own_explanation_with_a_next_step() {
    for code in 0x2002..=0x2020u16 {
        let (what, next) = jemput_drivers::ptp::explain(ResponseCode(code));
        assert!(ResponseCode(code).name().is_some(), "{code:#x} unnamed");
        assert!(!what.contains("does not know"), "{code:#x}: {what}");
        assert!(!next.is_empty() && next != "nothing", "{code:#x}: {next}");
    }
}

#[test]
fn ptp_strings_count_units_with_the_nul_and_empty_is_one_zero_byte() {
    let mut w = Writer::default();
    w.string("s", "AB").unwrap();
    w.string("s", "").unwrap();
    assert_eq!(w.0, hex("03 41 00 42 00 00 00 00"));
    let mut r = Reader::new(&w.0, "test");
    assert_eq!(r.string("s").unwrap(), "AB");
    assert_eq!(r.string("s").unwrap(), "");
    r.finish().unwrap();
    let too_long = "x".repeat(255);
    assert!(matches!(
        Writer::default().string("Model", &too_long),
        Err(CodecError::StringTooLong { len: 255, .. })
    ));
}

#[test]
fn garbage_is_a_clear_error() {
    assert!(matches!(
        decode_header(&[1, 2, 3]),
        Err(CodecError::Truncated { .. })
    ));
    assert!(matches!(
        decode_header(&hex("0C 00 00 00 07 00 01 20 00 00 00 00")),
        Err(CodecError::BadType(7))
    ));
    assert!(matches!(
        decode_header(&hex("08 00 00 00 03 00 01 20 00 00 00 00")),
        Err(CodecError::BadLength { length: 8, .. })
    ));
    // A response claiming six parameters.
    assert!(matches!(
        decode_header(&hex("24 00 00 00 03 00 01 20 00 00 00 00")),
        Err(CodecError::BadLength { .. })
    ));
    assert!(matches!(
        command(OperationCode::GET_OBJECT, 1, &[1, 2, 3, 4, 5, 6]),
        Err(CodecError::TooManyParams { count: 6, .. })
    ));
    // An array announcing four billion handles in eight bytes.
    assert!(matches!(
        decode_u32_array(&hex("FF FF FF FF 01 00 00 00"), "ObjectHandles"),
        Err(CodecError::BadArray { .. })
    ));
    // An unpaired surrogate in a string.
    let mut bad = vec![2u8];
    bad.extend_from_slice(&0xD800u16.to_le_bytes());
    bad.extend_from_slice(&0u16.to_le_bytes());
    assert!(matches!(
        Reader::new(&bad, "t").string("Model"),
        Err(CodecError::BadString { field: "Model" })
    ));
    let msg = DeviceInfo::decode(&[0x64, 0x00]).unwrap_err().to_string();
    assert!(msg.contains("DeviceInfo"), "{msg}");
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>().prop_filter("no NUL", |c| *c != '\0'), 0..40)
        .prop_map(|v| v.into_iter().collect())
}

fn codes() -> impl Strategy<Value = Vec<u16>> {
    proptest::collection::vec(any::<u16>(), 0..30)
}

prop_compose! {
    fn device_info()(
        standard_version in any::<u16>(), vendor_extension_id in any::<u32>(),
        vendor_extension_version in any::<u16>(), vendor_extension_desc in text(),
        functional_mode in any::<u16>(), operations_supported in codes(), events_supported in codes(),
        device_properties_supported in codes(), capture_formats in codes(), image_formats in codes(),
        manufacturer in text(), model in text(), device_version in text(), serial_number in text(),
    ) -> DeviceInfo {
        DeviceInfo {
            standard_version, vendor_extension_id, vendor_extension_version, vendor_extension_desc,
            functional_mode, operations_supported, events_supported, device_properties_supported,
            capture_formats, image_formats, manufacturer, model, device_version, serial_number,
        }
    }
}

prop_compose! {
    fn object_info()(
        nums in proptest::array::uniform11(any::<u32>()), shorts in proptest::array::uniform4(any::<u16>()),
        filename in text(), capture_date in text(), modification_date in text(), keywords in text(),
    ) -> ObjectInfo {
        ObjectInfo {
            storage_id: nums[0], format: shorts[0], protection: shorts[1], compressed_size: nums[1],
            thumb_format: shorts[2], thumb_size: nums[2], thumb_width: nums[3], thumb_height: nums[4],
            image_width: nums[5], image_height: nums[6], bit_depth: nums[7], parent: nums[8],
            association_type: shorts[3], association_desc: nums[9], sequence_number: nums[10],
            filename, capture_date, modification_date, keywords,
        }
    }
}

proptest! {
    #[test]
    fn device_info_round_trips(info in device_info()) {
        let bytes = info.encode().unwrap();
        prop_assert_eq!(DeviceInfo::decode(&bytes).unwrap(), info);
    }

    #[test]
    fn object_info_round_trips(info in object_info()) {
        let bytes = info.encode().unwrap();
        prop_assert_eq!(ObjectInfo::decode(&bytes).unwrap(), info);
    }

    #[test]
    fn storage_info_round_trips(
        t in any::<(u16, u16, u16)>(), cap in any::<u64>(), free in any::<u64>(),
        images in any::<u32>(), description in text(), volume_label in text(),
    ) {
        let info = StorageInfo {
            storage_type: t.0, filesystem_type: t.1, access_capability: t.2, max_capacity: cap,
            free_space_bytes: free, free_space_images: images, description, volume_label,
        };
        prop_assert_eq!(StorageInfo::decode(&info.encode().unwrap()).unwrap(), info);
    }

    #[test]
    fn param_containers_round_trip(
        kind in prop_oneof![Just(ContainerType::Command), Just(ContainerType::Response), Just(ContainerType::Event)],
        code in any::<u16>(), tid in any::<u32>(), params in proptest::collection::vec(any::<u32>(), 0..=3),
    ) {
        let c = ParamContainer { kind, code, transaction_id: tid, params };
        prop_assert_eq!(ParamContainer::decode(&c.encode().unwrap()).unwrap(), c);
    }

    #[test]
    fn garbage_never_panics_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode_header(&bytes);
        let _ = ParamContainer::decode(&bytes);
        let _ = DeviceInfo::decode(&bytes);
        let _ = ObjectInfo::decode(&bytes);
        let _ = StorageInfo::decode(&bytes);
        let _ = decode_u32_array(&bytes, "handles");
    }

    #[test]
    fn a_truncated_dataset_is_an_error(info in device_info(), cut in 1usize..64) {
        let bytes = info.encode().unwrap();
        let keep = bytes.len().saturating_sub(cut);
        prop_assert!(DeviceInfo::decode(&bytes[..keep]).is_err());
    }
}

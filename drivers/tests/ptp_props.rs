//! PTP device properties through the real driver and the camera model: GetDevicePropDesc,
//! GetDevicePropValue and SetDevicePropValue (with its data phase) for white balance and
//! exposure, values the camera refuses, and a body that exposes no properties.

use std::time::Duration;

use jemput_drivers::ptp::props::{code, data_type};
use jemput_drivers::ptp::{
    OperationCode, PropForm, PropValue, PtpCamera, PtpConfig, PtpError, PtpFault, PtpModel,
    PtpModelConfig, ResponseCode,
};
use jemput_drivers::usb::MemUsb;

fn camera(faults: Vec<PtpFault>) -> (PtpCamera<MemUsb>, jemput_drivers::ptp::ModelLog) {
    let (usb, log, ep) = PtpModel::transport(PtpModelConfig {
        faults,
        ..PtpModelConfig::default().fast()
    });
    let config = PtpConfig {
        timeout: Duration::from_millis(500),
        ..PtpConfig::default()
    };
    (PtpCamera::open(usb, ep, config).unwrap(), log)
}

#[test]
fn white_balance_is_described_set_and_read_back() {
    let (mut cam, log) = camera(vec![]);
    assert!(cam.has_property(code::WHITE_BALANCE));
    let desc = cam.property_desc(code::WHITE_BALANCE).unwrap();
    assert_eq!(desc.data_type, data_type::UINT16);
    assert!(desc.writable);
    assert_eq!(desc.current, PropValue::Int(2), "automatic");
    assert!(matches!(&desc.form, PropForm::Enumeration(v) if v.contains(&PropValue::Int(4))));

    cam.set_property(code::WHITE_BALANCE, desc.data_type, &PropValue::Int(4))
        .unwrap();
    assert_eq!(
        cam.property_value(code::WHITE_BALANCE, desc.data_type)
            .unwrap(),
        PropValue::Int(4),
        "daylight, as set"
    );
    let ops = log.operations();
    assert!(
        ops.contains(&OperationCode::SET_DEVICE_PROP_VALUE),
        "{ops:?}"
    );
}

#[test]
fn a_negative_exposure_bias_survives_the_signed_16_bit_round_trip() {
    let (mut cam, _) = camera(vec![]);
    let desc = cam.property_desc(code::EXPOSURE_BIAS_COMPENSATION).unwrap();
    assert_eq!(desc.data_type, data_type::INT16);
    cam.set_property(desc.code, desc.data_type, &PropValue::Int(-1500))
        .unwrap();
    assert_eq!(
        cam.property_value(desc.code, desc.data_type).unwrap(),
        PropValue::Int(-1500)
    );
}

#[test]
fn a_value_the_camera_does_not_allow_is_refused_with_its_explanation() {
    let (mut cam, _) = camera(vec![]);
    let err = cam
        .set_property(
            code::EXPOSURE_INDEX,
            data_type::UINT16,
            &PropValue::Int(333),
        )
        .unwrap_err();
    assert_eq!(
        err.response_code(),
        Some(ResponseCode::INVALID_DEVICE_PROP_VALUE)
    );
    assert!(
        err.to_string().contains("does not accept this setting"),
        "{err}"
    );
    // The value stays as it was, and the session is still usable.
    assert_eq!(
        cam.property_value(code::EXPOSURE_INDEX, data_type::UINT16)
            .unwrap(),
        PropValue::Int(200)
    );
    // A value that does not fit the type never reaches the camera.
    let err = cam
        .set_property(
            code::EXPOSURE_INDEX,
            data_type::UINT16,
            &PropValue::Int(70_000),
        )
        .unwrap_err();
    assert!(matches!(err, PtpError::Codec { .. }), "{err}");
}

#[test]
fn a_body_without_properties_lists_none_and_answers_not_supported() {
    let (mut cam, _) = camera(vec![PtpFault::NoProperties]);
    assert!(!cam.has_property(code::WHITE_BALANCE));
    let err = cam.property_desc(code::WHITE_BALANCE).unwrap_err();
    assert_eq!(
        err.response_code(),
        Some(ResponseCode::DEVICE_PROP_NOT_SUPPORTED)
    );
}

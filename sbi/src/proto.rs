//! The SBI messages as they travel (MOSIP MDS specification 0.9.5, docs/sbi.md): discovery, device
//! info, registration capture, their error object and the digital ID. Every number is a JSON
//! string on the wire, as the specification and the compliance toolkit's schemas have them.

use serde::{Deserialize, Serialize};

/// The specification version jemput speaks and answers with.
pub const SPEC_VERSION: &str = "0.9.5";
/// The environment jemput's requests name and its device service declares itself for.
pub const ENV: &str = "Developer";
/// The first and last port a device service may bind on 127.0.0.1.
pub const PORT_RANGE: std::ops::RangeInclusive<u16> = 4501..=4600;

/// `MOSIPDISC /device` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverRequest {
    /// "Biometric Device" (any), "Finger", "Face" or "Iris".
    #[serde(rename = "type")]
    pub kind: String,
}

/// The `error` object every answer carries ("0"/"Success" when all went well).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbiStatus {
    #[serde(rename = "errorCode")]
    pub error_code: String,
    #[serde(rename = "errorInfo")]
    pub error_info: String,
}

impl SbiStatus {
    pub fn success() -> Self {
        SbiStatus {
            error_code: "0".into(),
            error_info: "Success".into(),
        }
    }
    /// One of the specification's codes with its message.
    pub fn code(code: u16) -> Self {
        SbiStatus {
            error_code: code.to_string(),
            error_info: error_text(code).into(),
        }
    }
    pub fn is_success(&self) -> bool {
        self.error_code == "0"
    }
}

/// The specification's message for an error code (its "Error Codes" table); 5xx are the vendor's.
pub fn error_text(code: u16) -> &'static str {
    match code {
        0 => "Success",
        100 => "Device not registered",
        101 => "Unable to detect a biometric object",
        102 => "Technical error during extraction.",
        103 => "Device tamper detected",
        104 => "Unable to connect to the management server",
        105 => "Image orientation error",
        106 => "Device not found",
        107 => "Device public key expired",
        108 => "Domain public key missing",
        109 => "Requested number of biometric (Finger/IRIS) not supported",
        110 => "Device is not ready",
        111 => "Device is Busy",
        112 => "Invalid Transaction ID",
        500..=599 => "Device provider's own error",
        _ => "Unknown error code",
    }
}

/// One entry of the discovery answer (a JSON array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredDevice {
    pub device_id: String,
    pub device_status: String,
    pub certification: String,
    pub service_version: String,
    pub device_sub_id: Vec<String>,
    pub callback_id: String,
    /// Unsigned: base64url of the digital ID's JSON.
    pub digital_id: String,
    pub device_code: String,
    pub spec_version: Vec<String>,
    pub purpose: String,
    pub error: SbiStatus,
}

/// One entry of the device info answer: `deviceInfo` is a JWS over [`DeviceInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfoEntry {
    pub device_info: String,
    pub error: SbiStatus,
}

/// What `deviceInfo` signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub device_status: String,
    pub device_id: String,
    pub firmware: String,
    pub certification: String,
    pub service_version: String,
    pub device_sub_id: Vec<String>,
    pub callback_id: String,
    /// Signed digital ID (JWS) for a registered device.
    pub digital_id: String,
    pub device_code: String,
    pub env: String,
    pub purpose: String,
    pub spec_version: Vec<String>,
}

/// The digital ID: who made the device and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigitalId {
    pub serial_no: String,
    pub make: String,
    pub model: String,
    /// "Finger", "Iris" or "Face".
    #[serde(rename = "type")]
    pub kind: String,
    /// Finger: "Slap", "Single", "Touchless"; Face: "Full face".
    pub device_sub_type: String,
    pub device_provider: String,
    pub device_provider_id: String,
    /// yyyy-mm-ddTHH:MM:ssZ.
    pub date_time: String,
}

/// `RCAPTURE /capture` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureRequest {
    pub env: String,
    pub purpose: String,
    pub spec_version: String,
    /// Milliseconds.
    pub timeout: String,
    pub capture_time: String,
    pub transaction_id: String,
    pub bio: Vec<BioRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_opts: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One modality asked for in a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BioRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub count: String,
    #[serde(default)]
    pub bio_sub_type: Vec<String>,
    #[serde(default)]
    pub exception: Vec<String>,
    pub requested_score: String,
    pub device_id: String,
    pub device_sub_id: String,
    pub previous_hash: String,
}

/// `RCAPTURE` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureResponse {
    pub biometrics: Vec<CapturedBiometric>,
}

/// One biometric of a capture answer: `data` is a JWS over [`BiometricData`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturedBiometric {
    pub spec_version: Option<String>,
    pub data: Option<String>,
    pub hash: Option<String>,
    pub error: SbiStatus,
}

/// What a capture's `data` signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BiometricData {
    /// The digital ID, itself a JWS.
    pub digital_id: String,
    pub bio_type: String,
    /// Absent for a face.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio_sub_type: Option<String>,
    pub device_code: String,
    pub device_service_version: String,
    pub purpose: String,
    pub env: String,
    /// base64url of the ISO/IEC 19794 record.
    pub bio_value: String,
    pub transaction_id: String,
    pub timestamp: String,
    pub requested_score: String,
    pub quality_score: String,
}

/// `STREAM /stream` body (the specification's "Device Stream Request"): the device and sub-device
/// whose live preview to send, and for how long (`timeout`, milliseconds; optional, five minutes
/// when missing). The specification writes every value as a string, as elsewhere; a device service
/// also takes them as JSON numbers, and `serialNo` (the device's serial number, discovery's
/// `deviceCode`) in place of `deviceId`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamRequest {
    #[serde(default, deserialize_with = "text_or_number")]
    pub device_id: String,
    #[serde(default, deserialize_with = "text_or_number")]
    pub device_sub_id: String,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "String::is_empty"
    )]
    pub timeout: String,
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "String::is_empty"
    )]
    pub serial_no: String,
}

/// The media type of a `STREAM` answer: M-JPEG, each frame one part of a
/// `multipart/x-mixed-replace` body (the specification: "Live Video stream … using M-JPEG").
pub const STREAM_CONTENT_TYPE: &str = "multipart/x-mixed-replace";

/// A JSON string, or a number taken as its text (`"1"` and `1` alike); `null` as empty.
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, found {other}"
        ))),
    }
}

/// The finger names of `bioSubType` and `exception[]`, by ISO/IEC 19794-4 finger position
/// (1 right thumb … 10 left little).
pub const FINGER_NAMES: [(u8, &str); 10] = [
    (1, "Right Thumb"),
    (2, "Right IndexFinger"),
    (3, "Right MiddleFinger"),
    (4, "Right RingFinger"),
    (5, "Right LittleFinger"),
    (6, "Left Thumb"),
    (7, "Left IndexFinger"),
    (8, "Left MiddleFinger"),
    (9, "Left RingFinger"),
    (10, "Left LittleFinger"),
];

/// The `bioSubType` of a finger not named: what a single-finger scanner (`deviceSubId` 0) is
/// asked for when any finger will do, and answers with then (the specification's `bio.bioSubType`
/// row lists it among the finger names; ISO/IEC 19794-4 position 0).
pub const UNKNOWN_FINGER: &str = "UNKNOWN";

/// The SBI name of a finger position.
pub fn finger_name(position: u8) -> Option<&'static str> {
    FINGER_NAMES
        .iter()
        .find(|(p, _)| *p == position)
        .map(|(_, n)| *n)
}

/// The finger position of an SBI finger name.
pub fn finger_position(name: &str) -> Option<u8> {
    FINGER_NAMES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(p, _)| *p)
}

/// The fingers a slap scanner's sub-device takes: 1 left slap, 2 right slap, 3 the two thumbs.
pub fn slap_fingers(device_sub_id: u8) -> Option<&'static [u8]> {
    match device_sub_id {
        1 => Some(&[7, 8, 9, 10]),
        2 => Some(&[2, 3, 4, 5]),
        3 => Some(&[6, 1]),
        _ => None,
    }
}

/// Now as the specification writes times (ISO 8601, `yyyy-mm-ddTHH:MM:ssZ`).
pub fn now_string() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finger_names_round_trip_and_slaps_name_their_hand() {
        for p in 1..=10 {
            assert_eq!(finger_position(finger_name(p).unwrap()), Some(p));
        }
        assert_eq!(finger_name(11), None);
        for f in slap_fingers(1).unwrap() {
            assert!(finger_name(*f).unwrap().starts_with("Left"));
        }
        for f in slap_fingers(2).unwrap() {
            assert!(finger_name(*f).unwrap().starts_with("Right"));
        }
        assert!(slap_fingers(3)
            .unwrap()
            .iter()
            .all(|f| finger_name(*f).unwrap().ends_with("Thumb")));
        assert_eq!(slap_fingers(0), None);
    }

    #[test]
    fn the_wire_names_are_the_specifications() {
        let b = BioRequest {
            kind: "Finger".into(),
            count: "4".into(),
            bio_sub_type: vec![],
            exception: vec!["Left RingFinger".into()],
            requested_score: "40".into(),
            device_id: "1".into(),
            device_sub_id: "1".into(),
            previous_hash: String::new(),
        };
        let v = serde_json::to_value(&b).unwrap();
        for k in [
            "type",
            "count",
            "bioSubType",
            "exception",
            "requestedScore",
            "deviceId",
            "deviceSubId",
            "previousHash",
        ] {
            assert!(v.get(k).is_some(), "{k} missing from {v}");
        }
        assert!(now_string().ends_with('Z') && now_string().len() == 20);
    }

    #[test]
    fn a_stream_request_takes_strings_or_numbers_and_writes_strings() {
        let r: StreamRequest =
            serde_json::from_str(r#"{"deviceId": 2, "deviceSubId": "0", "timeout": 4000}"#)
                .unwrap();
        assert_eq!(
            (
                r.device_id.as_str(),
                r.device_sub_id.as_str(),
                r.timeout.as_str()
            ),
            ("2", "0", "4000")
        );
        let r: StreamRequest =
            serde_json::from_str(r#"{"serialNo": "AB12", "deviceSubId": 1}"#).unwrap();
        assert_eq!((r.serial_no.as_str(), r.device_id.as_str()), ("AB12", ""));
        assert!(serde_json::from_str::<StreamRequest>(r#"{"deviceId": [1]}"#).is_err());
        let v = serde_json::to_value(StreamRequest {
            device_id: "2".into(),
            device_sub_id: "0".into(),
            timeout: "4000".into(),
            serial_no: String::new(),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"deviceId": "2", "deviceSubId": "0", "timeout": "4000"})
        );
    }
}

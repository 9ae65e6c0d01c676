//! Device properties (PTP 1.0 §13): the DevicePropDesc dataset, property values by data type,
//! and the standard properties `jemput calibrate` reads and sets on a camera — white balance,
//! exposure program, exposure bias and exposure index (ISO). Integers up to 64 bits and strings
//! are read; 128-bit and array types are refused with a clear error.

use super::dataset::{Reader, Writer};
use super::protocol::CodecError;

/// Standard device property codes jemput uses.
pub mod code {
    /// WhiteBalance (u16: 1 manual, 2 automatic, 3 one-push automatic, 4 daylight, 5 fluorescent,
    /// 6 tungsten, 7 flash).
    pub const WHITE_BALANCE: u16 = 0x5005;
    /// FNumber (u16, f-number × 100).
    pub const F_NUMBER: u16 = 0x5007;
    /// ExposureTime (u32, units of 0.1 ms).
    pub const EXPOSURE_TIME: u16 = 0x500D;
    /// ExposureProgramMode (u16: 1 manual, 2 automatic, 3 aperture priority, 4 shutter priority).
    pub const EXPOSURE_PROGRAM_MODE: u16 = 0x500E;
    /// ExposureIndex (u16, ISO speed).
    pub const EXPOSURE_INDEX: u16 = 0x500F;
    /// ExposureBiasCompensation (i16, units of 0.001 EV).
    pub const EXPOSURE_BIAS_COMPENSATION: u16 = 0x5010;
}

/// The exposure and white balance properties `jemput calibrate` looks at, with their names.
pub const CALIBRATION_PROPERTIES: &[(u16, &str)] = &[
    (code::WHITE_BALANCE, "white_balance"),
    (code::EXPOSURE_PROGRAM_MODE, "exposure_program"),
    (code::EXPOSURE_BIAS_COMPENSATION, "exposure_bias_mev"),
    (code::EXPOSURE_INDEX, "iso"),
    (code::EXPOSURE_TIME, "exposure_time_100us"),
    (code::F_NUMBER, "f_number_x100"),
];

/// White balance values by name (PTP 1.0 §13.5.5).
pub const WHITE_BALANCE_NAMES: &[(u16, &str)] = &[
    (1, "manual"),
    (2, "auto"),
    (3, "one-push"),
    (4, "daylight"),
    (5, "fluorescent"),
    (6, "tungsten"),
    (7, "flash"),
];

/// Data type codes of property values.
pub mod data_type {
    pub const INT8: u16 = 0x0001;
    pub const UINT8: u16 = 0x0002;
    pub const INT16: u16 = 0x0003;
    pub const UINT16: u16 = 0x0004;
    pub const INT32: u16 = 0x0005;
    pub const UINT32: u16 = 0x0006;
    pub const INT64: u16 = 0x0007;
    pub const UINT64: u16 = 0x0008;
    pub const STR: u16 = 0xFFFF;
}

/// A property value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum PropValue {
    Int(i128),
    Str(String),
}

impl PropValue {
    /// The integer, if it is one.
    pub fn as_int(&self) -> Option<i128> {
        match self {
            PropValue::Int(v) => Some(*v),
            PropValue::Str(_) => None,
        }
    }
}

impl std::fmt::Display for PropValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PropValue::Int(v) => write!(f, "{v}"),
            PropValue::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// The range of an integer type: (min, max, bytes).
fn int_type(dt: u16) -> Option<(i128, i128, usize)> {
    Some(match dt {
        data_type::INT8 => (i8::MIN.into(), i8::MAX.into(), 1),
        data_type::UINT8 => (0, u8::MAX.into(), 1),
        data_type::INT16 => (i16::MIN.into(), i16::MAX.into(), 2),
        data_type::UINT16 => (0, u16::MAX.into(), 2),
        data_type::INT32 => (i32::MIN.into(), i32::MAX.into(), 4),
        data_type::UINT32 => (0, u32::MAX.into(), 4),
        data_type::INT64 => (i64::MIN.into(), i64::MAX.into(), 8),
        data_type::UINT64 => (0, u64::MAX.into(), 8),
        _ => return None,
    })
}

/// Reads one value of data type `dt`.
pub fn read_value(r: &mut Reader<'_>, dt: u16) -> Result<PropValue, CodecError> {
    if dt == data_type::STR {
        return Ok(PropValue::Str(r.string("property value")?));
    }
    let (min, _, bytes) = int_type(dt).ok_or(CodecError::UnsupportedDataType(dt))?;
    let raw: u64 = match bytes {
        1 => r.u8()?.into(),
        2 => r.u16()?.into(),
        4 => r.u32()?.into(),
        _ => r.u64()?,
    };
    let v = if min < 0 {
        // Sign-extend from the type's width.
        let shift = 64 - 8 * bytes as u32;
        i128::from(((raw << shift) as i64) >> shift)
    } else {
        i128::from(raw)
    };
    Ok(PropValue::Int(v))
}

/// Writes one value as data type `dt` (a value outside the type is an error, not a wrap).
pub fn write_value(w: &mut Writer, dt: u16, v: &PropValue) -> Result<(), CodecError> {
    match v {
        PropValue::Str(s) if dt == data_type::STR => w.string("property value", s),
        PropValue::Str(_) => Err(CodecError::UnsupportedDataType(dt)),
        PropValue::Int(n) => {
            let (min, max, bytes) = int_type(dt).ok_or(CodecError::UnsupportedDataType(dt))?;
            if *n < min || *n > max {
                return Err(CodecError::ValueOutOfType {
                    value: *n,
                    data_type: dt,
                });
            }
            let raw = *n as i64 as u64;
            match bytes {
                1 => w.u8(raw as u8),
                2 => w.u16(raw as u16),
                4 => w.u32(raw as u32),
                _ => w.u64(raw),
            }
            Ok(())
        }
    }
}

/// The values a property may take.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropForm {
    None,
    Range {
        min: PropValue,
        max: PropValue,
        step: PropValue,
    },
    Enumeration(Vec<PropValue>),
}

/// The DevicePropDesc dataset.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DevicePropDesc {
    pub code: u16,
    pub data_type: u16,
    /// Whether the host may set it.
    pub writable: bool,
    pub factory_default: PropValue,
    pub current: PropValue,
    pub form: PropForm,
}

impl DevicePropDesc {
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes, "DevicePropDesc");
        let code = r.u16()?;
        let dt = r.u16()?;
        let writable = r.u8()? != 0;
        let factory_default = read_value(&mut r, dt)?;
        let current = read_value(&mut r, dt)?;
        let form = match r.u8()? {
            0 => PropForm::None,
            1 => PropForm::Range {
                min: read_value(&mut r, dt)?,
                max: read_value(&mut r, dt)?,
                step: read_value(&mut r, dt)?,
            },
            2 => {
                let n = r.u16()?;
                // Never trust the count for an allocation: each value takes at least a byte.
                if usize::from(n) > r.left() {
                    return Err(CodecError::BadArray {
                        field: "enumeration",
                        count: n.into(),
                        left: r.left(),
                    });
                }
                let mut values = Vec::with_capacity(n.into());
                for _ in 0..n {
                    values.push(read_value(&mut r, dt)?);
                }
                PropForm::Enumeration(values)
            }
            other => return Err(CodecError::BadFormFlag(other)),
        };
        r.finish()?;
        Ok(DevicePropDesc {
            code,
            data_type: dt,
            writable,
            factory_default,
            current,
            form,
        })
    }

    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut w = Writer(Vec::new());
        w.u16(self.code);
        w.u16(self.data_type);
        w.u8(u8::from(self.writable));
        write_value(&mut w, self.data_type, &self.factory_default)?;
        write_value(&mut w, self.data_type, &self.current)?;
        match &self.form {
            PropForm::None => w.u8(0),
            PropForm::Range { min, max, step } => {
                w.u8(1);
                for v in [min, max, step] {
                    write_value(&mut w, self.data_type, v)?;
                }
            }
            PropForm::Enumeration(values) => {
                w.u8(2);
                w.u16(values.len() as u16);
                for v in values {
                    write_value(&mut w, self.data_type, v)?;
                }
            }
        }
        Ok(w.0)
    }

    /// Whether `v` is one of the values the form allows.
    pub fn allows(&self, v: &PropValue) -> bool {
        match (&self.form, v) {
            (PropForm::None, _) => true,
            (PropForm::Enumeration(values), v) => values.contains(v),
            (PropForm::Range { min, max, step }, PropValue::Int(n)) => {
                match (min.as_int(), max.as_int(), step.as_int()) {
                    (Some(lo), Some(hi), Some(st)) => {
                        *n >= lo && *n <= hi && (st <= 0 || (*n - lo) % st == 0)
                    }
                    _ => false,
                }
            }
            (PropForm::Range { .. }, PropValue::Str(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_white_balance_enumeration_round_trips_byte_for_byte() {
        let d = DevicePropDesc {
            code: code::WHITE_BALANCE,
            data_type: data_type::UINT16,
            writable: true,
            factory_default: PropValue::Int(2),
            current: PropValue::Int(4),
            form: PropForm::Enumeration(vec![PropValue::Int(2), PropValue::Int(4)]),
        };
        let bytes = d.encode().unwrap();
        assert_eq!(
            bytes,
            [
                0x05, 0x50, 0x04, 0x00, 0x01, 0x02, 0x00, 0x04, 0x00, 0x02, 0x02, 0x00, 0x02, 0x00,
                0x04, 0x00
            ]
        );
        assert_eq!(DevicePropDesc::decode(&bytes).unwrap(), d);
        assert!(d.allows(&PropValue::Int(4)) && !d.allows(&PropValue::Int(6)));
    }

    #[test]
    fn signed_values_sign_extend_and_ranges_check_the_step() {
        let d = DevicePropDesc {
            code: code::EXPOSURE_BIAS_COMPENSATION,
            data_type: data_type::INT16,
            writable: true,
            factory_default: PropValue::Int(0),
            current: PropValue::Int(-1000),
            form: PropForm::Range {
                min: PropValue::Int(-3000),
                max: PropValue::Int(3000),
                step: PropValue::Int(500),
            },
        };
        let back = DevicePropDesc::decode(&d.encode().unwrap()).unwrap();
        assert_eq!(back.current, PropValue::Int(-1000));
        assert!(back.allows(&PropValue::Int(1500)));
        assert!(!back.allows(&PropValue::Int(1600)));
        assert!(!back.allows(&PropValue::Int(3500)));
    }

    #[test]
    fn values_outside_the_type_and_unknown_types_are_errors() {
        let mut w = Writer(Vec::new());
        assert!(matches!(
            write_value(&mut w, data_type::UINT8, &PropValue::Int(300)),
            Err(CodecError::ValueOutOfType { value: 300, .. })
        ));
        let mut r = Reader::new(&[0; 16], "x");
        assert_eq!(
            read_value(&mut r, 0x0009),
            Err(CodecError::UnsupportedDataType(0x0009))
        );
        // A bad form flag, and an enumeration count larger than the bytes left.
        let mut bad = vec![0x05, 0x50, 0x04, 0x00, 0x01, 0x02, 0x00, 0x02, 0x00, 0x07];
        assert_eq!(
            DevicePropDesc::decode(&bad),
            Err(CodecError::BadFormFlag(7))
        );
        bad[9] = 2;
        bad.extend_from_slice(&[0xFF, 0xFF]);
        assert!(matches!(
            DevicePropDesc::decode(&bad),
            Err(CodecError::BadArray { .. })
        ));
    }
}

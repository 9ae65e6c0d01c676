//! What the drivers report, as the shared formats record it: the kit is the one place that knows
//! both `jemput_drivers` and `jemput_core`, so the conversions live here.

use jemput_core::imaging::signature::{PenPoint, PenTrace};
use jemput_core::visit::{DeviceRecord, FingerPosition};

/// The record of a device, for a capture's manifest entry or a pen trace file.
pub fn record(info: &jemput_drivers::DeviceInfo) -> DeviceRecord {
    DeviceRecord {
        driver: info.driver.clone(),
        model: info.model.clone(),
        serial: info.serial.clone(),
        firmware: info.firmware.clone(),
    }
}

/// A finger position as the visit records it.
pub fn position_of(finger: jemput_drivers::FingerPosition) -> FingerPosition {
    FingerPosition::new(finger.code()).expect("both sides number fingers 1–10")
}

/// A finger position as the drivers (and their models) take it.
pub fn finger_of(finger: FingerPosition) -> jemput_drivers::FingerPosition {
    jemput_drivers::FingerPosition::new(finger.code()).expect("both sides number fingers 1–10")
}

/// A pad's trace as the signature file records it.
pub fn pen_trace(trace: jemput_drivers::PenTrace) -> PenTrace {
    PenTrace {
        extent_x: trace.extent_x,
        extent_y: trace.extent_y,
        max_pressure: trace.max_pressure,
        points: trace
            .points
            .into_iter()
            .map(|p| PenPoint {
                x: p.x,
                y: p.y,
                pressure: p.pressure,
                t_ms: p.t_ms,
                touching: p.touching,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finger_position_converts_both_ways_by_its_code() {
        for f in FingerPosition::all() {
            let d = finger_of(f);
            assert_eq!(d.code(), f.code());
            assert_eq!(position_of(d), f);
        }
    }

    #[test]
    fn a_pen_trace_and_a_device_keep_every_field() {
        let trace = jemput_drivers::PenTrace {
            extent_x: 100,
            extent_y: 50,
            max_pressure: 7,
            points: vec![jemput_drivers::PenPoint {
                x: 1,
                y: 2,
                pressure: 3,
                t_ms: 4,
                touching: true,
            }],
        };
        let got = pen_trace(trace.clone());
        assert_eq!(
            serde_json::to_value(&got).unwrap(),
            serde_json::to_value(&trace).unwrap()
        );
        let info = jemput_drivers::DeviceInfo {
            driver: "ef01".into(),
            model: "R307".into(),
            serial: Some("s".into()),
            firmware: None,
        };
        assert_eq!(
            serde_json::to_value(record(&info)).unwrap(),
            serde_json::to_value(&info).unwrap()
        );
    }
}

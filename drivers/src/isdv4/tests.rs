//! Specifications of the ISDV4 codec, and of the driver against the model over an in-memory link.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::protocol::*;
use super::*;
use crate::transport::MemLink;
use crate::{CaptureControl, Device, DeviceError, PenPoint, SignaturePad};

fn sample(x: u16, y: u16, pressure: u16) -> PenSample {
    PenSample {
        proximity: true,
        tip: true,
        x,
        y,
        pressure,
        ..PenSample::default()
    }
}

// --- codec ---------------------------------------------------------------------------------

#[test]
fn pen_packet_golden_vector_from_the_documented_layout() {
    // docs/devices.md §4.1: x = 12345, y = 6789, p = 500, proximity + tip.
    let bytes = [0xA1, 0x18, 0x0E, 0x0D, 0x21, 0x74, 0x2B, 0x00, 0x00];
    assert_eq!(sample(12_345, 6_789, 500).encode(), bytes);
    assert_eq!(
        PenSample::decode(&bytes).unwrap(),
        sample(12_345, 6_789, 500)
    );
}

#[test]
fn pen_packet_flags_sit_in_the_first_byte_and_only_it_has_the_sync_bit() {
    let s = PenSample {
        proximity: true,
        tip: false,
        side: true,
        eraser: true,
        x: 0xFFFF,
        y: 0xFFFF,
        pressure: PRESSURE_MAX,
        tilt_x: 0x7F,
        tilt_y: 0x7F,
    };
    let b = s.encode();
    assert_eq!(b[0], 0x80 | 0x20 | 0x04 | 0x02);
    assert!(b[1..].iter().all(|&x| x & 0x80 == 0), "{b:02x?}");
    assert_eq!(b, [0xA6, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F, 0x7F]);
    assert_eq!(PenSample::decode(&b).unwrap(), s);
}

#[test]
fn every_coordinate_bit_and_pressure_bit_round_trips() {
    for bit in 0..16 {
        let v = 1u16 << bit;
        for (x, y) in [(v, 0), (0, v), (v, v ^ 0xFFFF)] {
            let s = sample(x, y, 0);
            assert_eq!(PenSample::decode(&s.encode()).unwrap(), s, "x={x} y={y}");
        }
    }
    for p in [0, 1, 127, 128, 500, 1022, 1023] {
        let s = sample(1, 2, p);
        assert_eq!(PenSample::decode(&s.encode()).unwrap().pressure, p);
    }
    // Pressure beyond 10 bits is clamped, not wrapped.
    assert_eq!(
        PenSample::decode(&sample(1, 2, 5000).encode())
            .unwrap()
            .pressure,
        1023
    );
}

#[test]
fn decoding_rejects_broken_sync_and_non_pen_packets() {
    let mut b = sample(100, 200, 300).encode();
    b[0] &= 0x7F;
    assert_eq!(PenSample::decode(&b), Err(CodecError::NoSync(b[0])));
    let mut b = sample(100, 200, 300).encode();
    b[4] |= 0x80;
    assert_eq!(PenSample::decode(&b), Err(CodecError::SyncInside { at: 4 }));
    let mut b = sample(100, 200, 300).encode();
    b[0] |= CONTROL_BIT;
    assert_eq!(PenSample::decode(&b), Err(CodecError::NotPen(b[0])));
}

#[test]
fn pen_query_reply_carries_ranges_swapped_tilt_and_firmware() {
    let caps = PenCaps {
        max_x: 26_312,
        max_y: 16_520,
        max_pressure: 255,
        max_tilt_x: 63,
        max_tilt_y: 60,
        firmware: 0x0123,
    };
    let b = caps.encode_reply();
    // Built from the layout: 26312 = 51·512 + 50·4 + 0; 16520 = 32·512 + 34·4 + 0;
    // 255 = 127 + 1·128; tilt y max first; firmware 0x123 = 2·128 + 0x23.
    assert_eq!(b, [0xC0, 51, 50, 32, 34, 0x7F, 0x01, 60, 63, 0x02, 0x23]);
    assert_eq!(PenCaps::parse_reply(&b).unwrap(), caps);
    assert_eq!(caps.firmware_string(), "0x0123");
    let mut pen = [0u8; CONTROL_LEN];
    pen[..PEN_LEN].copy_from_slice(&sample(1, 1, 1).encode());
    assert_eq!(
        PenCaps::parse_reply(&pen),
        Err(CodecError::NotControl(0xA1))
    );
}

#[test]
fn touch_query_reply_round_trips_and_names_the_packet_length() {
    let t = TouchCaps {
        resolution: 10,
        sensor_id: 5,
        max_x: 4095,
        max_y: 4094,
        capacity_resolution: 3,
        firmware: 77,
    };
    let b = t.encode_reply();
    assert_eq!(b[0], 0xC1);
    assert_eq!(TouchCaps::parse_reply(&b).unwrap(), t);
    assert_eq!(t.packet_len(), 13);
    for (id, len) in [(0, 5), (1, 7), (2, 5), (3, 7), (4, 7), (5, 13)] {
        assert_eq!(TouchCaps { sensor_id: id, ..t }.packet_len(), len);
    }
    assert!(!TouchCaps::default().has_touch());
}

#[test]
fn decoder_frames_a_stream_split_anywhere() {
    let caps = super::Isdv4ModelConfig::default().caps;
    let samples: Vec<PenSample> = (0..20).map(|i| sample(i * 100, i * 50, i * 7)).collect();
    let mut wire = caps.encode_reply().to_vec();
    for s in &samples {
        wire.extend_from_slice(&s.encode());
    }
    for chunk in [1, 2, 5, 9, 10, 64] {
        let mut d = Decoder::new();
        let frames: Vec<Frame> = wire.chunks(chunk).flat_map(|c| d.feed(c)).collect();
        assert_eq!(frames.len(), 21, "chunk {chunk}");
        assert!(
            matches!(frames[0], Frame::Control { data_id: 0, bytes } if bytes == caps.encode_reply())
        );
        let pens: Vec<PenSample> = frames[1..]
            .iter()
            .map(|f| match f {
                Frame::Pen(s) => *s,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(pens, samples);
        assert_eq!(d.stats(), DecodeStats::default());
    }
}

#[test]
fn decoder_resynchronises_after_garbage_and_a_truncated_packet() {
    let a = sample(1_000, 2_000, 300);
    let b = sample(1_100, 2_050, 310);
    let mut wire = vec![0x00, 0x13, 0x0D, 0x7F]; // noise before the first packet
    wire.extend_from_slice(&a.encode()[..5]); // cut short
    wire.extend_from_slice(&GARBAGE); // 0x85 opens a bogus packet
    wire.extend_from_slice(&a.encode());
    wire.extend_from_slice(&[0x42, 0x42]);
    wire.extend_from_slice(&b.encode());
    let mut d = Decoder::new();
    assert_eq!(d.feed(&wire), vec![Frame::Pen(a), Frame::Pen(b)]);
    // Skipped: the 4 leading bytes and the two 0x42. Truncated: the cut packet (which swallowed
    // 0x13 0x0D 0x7F) and the bogus one opened by 0x85.
    assert_eq!(
        d.stats(),
        DecodeStats {
            skipped_bytes: 4 + 2,
            truncated: 2
        }
    );
}

#[test]
fn decoder_frames_touch_packets_by_the_queried_length() {
    let mut d = Decoder::new();
    d.set_touch_len(7);
    let touch = [0x91, 1, 2, 3, 4, 5, 6];
    let pen = sample(5, 6, 7);
    let mut wire = touch.to_vec();
    wire.extend_from_slice(&pen.encode());
    assert_eq!(
        d.feed(&wire),
        vec![Frame::Touch(touch.to_vec()), Frame::Pen(pen)]
    );
}

// --- driver and model over memory -----------------------------------------------------------

pub(crate) fn fast_driver() -> Isdv4Config {
    Isdv4Config {
        query_timeout: Duration::from_millis(300),
        settle: Duration::from_millis(5),
        idle_end: Duration::from_millis(300),
        ..Isdv4Config::default()
    }
}

fn control(ms: u64) -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_millis(ms),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

fn pair(config: Isdv4ModelConfig) -> (Isdv4Model, Result<Isdv4<MemLink>, Isdv4Error>) {
    let (host, dev) = MemLink::pair();
    let model = Isdv4Model::spawn(dev, config);
    (model, Isdv4::new(host, fast_driver()))
}

/// The points a host should see for `script`: from the first pen-down to the lift after the last.
pub(crate) fn expected_points(script: &[PenSample]) -> Vec<(u32, u32, u32, bool)> {
    let first = script.iter().position(|s| s.tip).unwrap();
    let last = script.iter().rposition(|s| s.tip).unwrap();
    script[first..=(last + 1).min(script.len() - 1)]
        .iter()
        .map(|s| {
            let p = if s.tip { u32::from(s.pressure) } else { 0 };
            (u32::from(s.x), u32::from(s.y), p, s.tip)
        })
        .collect()
}

pub(crate) fn seen(points: &[PenPoint]) -> Vec<(u32, u32, u32, bool)> {
    points
        .iter()
        .map(|p| (p.x, p.y, p.pressure, p.touching))
        .collect()
}

#[test]
fn a_signature_session_returns_the_models_strokes_in_device_units() {
    let config = Isdv4ModelConfig::default().fast();
    let (_model, pad) = pair(config.clone());
    let mut pad = pad.unwrap();
    assert_eq!(pad.caps(), config.caps);
    assert_eq!(pad.info().driver, "isdv4");
    assert_eq!(pad.info().firmware.as_deref(), Some("0x0024"));
    let started = Instant::now();
    let trace = pad.record(&control(5_000)).unwrap();
    let expected = expected_points(&script(&config));
    assert!(expected.len() > 200, "{} points", expected.len());
    assert_eq!(seen(&trace.points), expected);
    assert_eq!(
        (trace.extent_x, trace.extent_y, trace.max_pressure),
        (26_312, 16_520, 1023)
    );
    // Several strokes, host time never running backwards, and the session ended by idleness.
    let strokes = trace
        .points
        .windows(2)
        .filter(|w| !w[0].touching && w[1].touching)
        .count();
    assert!(strokes >= 1, "{strokes} pen-downs after the first");
    assert!(trace.points.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(pad.decode_stats(), DecodeStats::default());
}

#[test]
fn the_session_waits_for_pen_down_and_times_out_with_a_clear_error() {
    let config = Isdv4ModelConfig {
        lead_in: Duration::from_secs(60),
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, pad) = pair(config);
    let mut pad = pad.unwrap();
    let started = Instant::now();
    let e = pad.record(&control(250)).unwrap_err();
    assert!(matches!(e, Isdv4Error::NoSignature(_)), "{e}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(e.to_string().contains("nobody signed within 250ms"), "{e}");
    assert!(
        e.to_string().contains("record that they cannot sign"),
        "{e}"
    );
    let de: DeviceError = pad.record(&control(50)).unwrap_err().into();
    assert!(matches!(de, DeviceError::Timeout(..)), "{de}");
}

#[test]
fn cancel_discards_the_session_and_finish_keeps_it() {
    let config = Isdv4ModelConfig {
        repeat_after: Some(Duration::from_millis(50)),
        ..Isdv4ModelConfig::default()
    };
    let config = Isdv4ModelConfig {
        lead_in: Duration::ZERO,
        ..config
    };
    let (_model, pad) = pair(config);
    let mut pad = pad.unwrap();
    let c = control(5_000);
    let cancel = c.cancel.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        cancel.store(true, Ordering::SeqCst);
    });
    let e = pad.record(&c).unwrap_err();
    stopper.join().unwrap();
    assert!(matches!(e, Isdv4Error::Cancelled), "{e}");
    // The "done" button ends a session mid-signature with what was signed so far.
    let finish = pad.finish_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        finish.store(true, Ordering::SeqCst);
    });
    let started = Instant::now();
    let trace = pad.record(&control(5_000)).unwrap();
    stopper.join().unwrap();
    assert!(started.elapsed() < Duration::from_millis(1_500));
    assert!(trace.points.iter().any(|p| p.touching));
    // Real-time pacing at ~133 Hz: host time runs across the points.
    let span = trace.points.last().unwrap().t_ms;
    assert!((100..400).contains(&span), "{span} ms");
}

#[test]
fn a_plain_line_is_one_stroke_across_the_pad() {
    let config = Isdv4ModelConfig {
        handwriting: Handwriting::Line,
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, pad) = pair(config.clone());
    let trace = pad.unwrap().record(&control(5_000)).unwrap();
    assert_eq!(seen(&trace.points), expected_points(&script(&config)));
    let down: Vec<_> = trace.points.iter().filter(|p| p.touching).collect();
    assert_eq!(down.len(), (800.0 / (1000.0 / REPORT_HZ)).round() as usize);
    assert!(down.last().unwrap().x - down[0].x > 26_312 / 2);
}

#[test]
fn garbage_between_packets_is_skipped_and_the_trace_is_intact() {
    let config = Isdv4ModelConfig {
        faults: vec![Isdv4Fault::Garbage { every: 7 }],
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, pad) = pair(config.clone());
    let mut pad = pad.unwrap();
    let trace = pad.record(&control(5_000)).unwrap();
    assert_eq!(seen(&trace.points), expected_points(&script(&config)));
    let stats = pad.decode_stats();
    assert!(stats.skipped_bytes > 0 && stats.truncated > 0, "{stats:?}");
}

#[test]
fn truncated_packets_are_dropped_and_the_rest_kept() {
    let config = Isdv4ModelConfig {
        faults: vec![Isdv4Fault::Truncate { every: 10 }],
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, pad) = pair(config.clone());
    let mut pad = pad.unwrap();
    let trace = pad.record(&control(5_000)).unwrap();
    let full = script(&config);
    let lost = truncated_indices(&config, full.len());
    let kept: Vec<PenSample> = full
        .iter()
        .enumerate()
        .filter(|(i, _)| !lost.contains(i))
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(seen(&trace.points), expected_points(&kept));
    assert!(pad.decode_stats().truncated >= lost.len() as u64 - 1);
}

#[test]
fn an_unplug_mid_stroke_is_reported_as_a_disconnect() {
    let config = Isdv4ModelConfig {
        faults: vec![Isdv4Fault::Unplug { after: 60 }],
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, pad) = pair(config);
    let mut pad = pad.unwrap();
    let e = pad.record(&control(5_000)).unwrap_err();
    assert!(matches!(e, Isdv4Error::Disconnected { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("disconnected while starting a signature")
            || msg.contains("disconnected while recording a signature"),
        "{msg}"
    );
    assert!(msg.contains("reopen the pad by its selector"), "{msg}");
    assert!(matches!(DeviceError::from(e), DeviceError::Disconnected));
}

#[test]
fn a_pad_that_does_not_answer_the_query_fails_with_the_baud_hint() {
    let config = Isdv4ModelConfig {
        faults: vec![Isdv4Fault::NoReply],
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, pad) = pair(config);
    let e = pad.unwrap_err();
    assert!(matches!(e, Isdv4Error::NoReply { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("did not answer the pen query ('*') within 300ms at 19200 baud"),
        "{msg}"
    );
    assert!(msg.contains("38 400 for WACf008 and later"), "{msg}");
}

#[test]
fn the_touch_query_learns_the_touch_packet_length_and_pen_only_pads_have_none() {
    let touch = TouchCaps {
        resolution: 10,
        sensor_id: 1,
        max_x: 1023,
        max_y: 1023,
        capacity_resolution: 0,
        firmware: 3,
    };
    for (reply, expect) in [(Some(touch), Some(touch)), (None, None)] {
        let (host, dev) = MemLink::pair();
        let _model = Isdv4Model::spawn(
            dev,
            Isdv4ModelConfig {
                touch: reply,
                ..Isdv4ModelConfig::default().fast()
            },
        );
        let pad = Isdv4::new(
            host,
            Isdv4Config {
                touch_query: true,
                ..fast_driver()
            },
        )
        .unwrap();
        assert_eq!(pad.touch(), expect);
    }
}

#[test]
fn calibration_from_corner_taps_maps_traces_and_names_their_id() {
    let config = Isdv4ModelConfig {
        handwriting: Handwriting::CornerTaps,
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, pad) = pair(config.clone());
    let mut pad = pad.unwrap();
    let cal = pad.calibrate(&control(5_000), (10_000, 6_000)).unwrap();
    let (mx, my) = (config.caps.max_x as u32, config.caps.max_y as u32);
    assert_eq!(cal.top_left, [mx / 20, my / 20]);
    assert_eq!(cal.bottom_right, [mx - mx / 20, my - my / 20]);
    assert_eq!(crate::Calibration::calibration_id(&pad), None);
    pad.set_calibration(Some(cal.clone())).unwrap();
    assert_eq!(
        crate::Calibration::calibration_id(&pad),
        Some(cal.id.clone())
    );
    // Signing with the calibration in force gives signing-area units.
    let trace = pad.record_signature(&control(5_000)).unwrap();
    assert_eq!((trace.extent_x, trace.extent_y), (10_000, 6_000));
    assert_eq!((trace.points[0].x, trace.points[0].y), (0, 0));
    let last_down = trace.points.iter().rev().find(|p| p.touching).unwrap();
    assert_eq!((last_down.x, last_down.y), (10_000, 6_000));
}

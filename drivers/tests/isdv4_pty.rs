//! The ISDV4 driver against the device model over real pty pairs: model on the master, driver on
//! the slave opened by path through `serialport`, at both line speeds pads use.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jemput_drivers::isdv4::protocol::PenSample;
use jemput_drivers::isdv4::{
    script, Isdv4, Isdv4Config, Isdv4Error, Isdv4Fault, Isdv4Model, Isdv4ModelConfig,
};
use jemput_drivers::{CaptureControl, PenPoint};

fn driver(baud: u32) -> Isdv4Config {
    Isdv4Config {
        baud,
        query_timeout: Duration::from_millis(500),
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

fn expected(script: &[PenSample]) -> Vec<(u32, u32, u32, bool)> {
    let first = script.iter().position(|s| s.tip).unwrap();
    let last = script.iter().rposition(|s| s.tip).unwrap();
    script[first..=last + 1]
        .iter()
        .map(|s| {
            let p = if s.tip { u32::from(s.pressure) } else { 0 };
            (u32::from(s.x), u32::from(s.y), p, s.tip)
        })
        .collect()
}

fn seen(points: &[PenPoint]) -> Vec<(u32, u32, u32, bool)> {
    points
        .iter()
        .map(|p| (p.x, p.y, p.pressure, p.touching))
        .collect()
}

#[test]
fn a_signature_crosses_a_pty_at_19200_and_38400_baud() {
    for baud in [19_200, 38_400] {
        let config = Isdv4ModelConfig {
            baud,
            // 0x0D and 0x11 in the stream catch a slave that is not raw.
            faults: vec![Isdv4Fault::Garbage { every: 5 }],
            ..Isdv4ModelConfig::default().fast()
        };
        let (_model, path) = Isdv4Model::on_pty(config.clone()).unwrap();
        let mut pad = Isdv4::open(&path, driver(baud)).unwrap();
        assert_eq!(pad.caps(), config.caps);
        let trace = pad.record(&control(5_000)).unwrap();
        assert_eq!(
            seen(&trace.points),
            expected(&script(&config)),
            "{baud} baud"
        );
    }
}

#[test]
fn the_model_survives_the_slave_being_closed_and_reopened() {
    let config = Isdv4ModelConfig {
        handwriting: jemput_drivers::isdv4::Handwriting::Line,
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, path) = Isdv4Model::on_pty(config.clone()).unwrap();
    for _ in 0..2 {
        let mut pad = Isdv4::open(&path, driver(19_200)).unwrap();
        let trace = pad.record(&control(5_000)).unwrap();
        assert_eq!(seen(&trace.points), expected(&script(&config)));
        drop(pad);
        // Nobody holds the slave for a moment: the master reads EIO and must wait.
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn real_time_pacing_gives_host_timestamps_at_the_report_rate() {
    let config = Isdv4ModelConfig {
        handwriting: jemput_drivers::isdv4::Handwriting::Line,
        lead_in: Duration::from_millis(50),
        ..Isdv4ModelConfig::default()
    };
    let (_model, path) = Isdv4Model::on_pty(config.clone()).unwrap();
    let mut pad = Isdv4::open(&path, driver(19_200)).unwrap();
    let trace = pad.record(&control(5_000)).unwrap();
    assert_eq!(seen(&trace.points), expected(&script(&config)));
    // ~106 pen-down packets at 133 Hz: the stroke lasts about 0.8 s by the host's clock.
    let span = trace.points.last().unwrap().t_ms;
    assert!((650..1_300).contains(&span), "{span} ms");
}

#[test]
fn unplugging_the_pad_mid_stroke_is_a_disconnect_on_the_slave() {
    let config = Isdv4ModelConfig {
        faults: vec![Isdv4Fault::Unplug { after: 40 }],
        ..Isdv4ModelConfig::default().fast()
    };
    let (model, path) = Isdv4Model::on_pty(config).unwrap();
    let mut pad = Isdv4::open(&path, driver(38_400)).unwrap();
    let started = Instant::now();
    let e = pad.record(&control(5_000)).unwrap_err();
    assert!(matches!(e, Isdv4Error::Disconnected { .. }), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The model's thread ends right after closing the master.
    let gone = Instant::now();
    while !model.is_finished() && gone.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(model.is_finished());
}

#[test]
fn a_silent_pad_on_a_pty_fails_the_query_naming_the_port() {
    let config = Isdv4ModelConfig {
        faults: vec![Isdv4Fault::NoReply],
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, path) = Isdv4Model::on_pty(config).unwrap();
    let e = Isdv4::open(&path, driver(38_400)).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, Isdv4Error::NoReply { baud: 38_400, .. }),
        "{msg}"
    );
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

#[test]
fn over_a_pty_truncated_packets_are_dropped_and_the_rest_kept() {
    use jemput_drivers::isdv4::truncated_indices;
    let config = Isdv4ModelConfig {
        faults: vec![Isdv4Fault::Truncate { every: 10 }],
        ..Isdv4ModelConfig::default().fast()
    };
    let (_model, path) = Isdv4Model::on_pty(config.clone()).unwrap();
    let mut pad = Isdv4::open(&path, driver(19_200)).unwrap();
    let trace = pad.record(&control(5_000)).unwrap();
    let full = script(&config);
    let lost = truncated_indices(&config, full.len());
    let kept: Vec<PenSample> = full
        .iter()
        .enumerate()
        .filter(|(i, _)| !lost.contains(i))
        .map(|(_, s)| *s)
        .collect();
    assert!(!lost.is_empty());
    assert_eq!(seen(&trace.points), expected(&kept));
    assert!(pad.decode_stats().truncated >= lost.len() as u64 - 1);
}

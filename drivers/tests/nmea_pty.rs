//! The NMEA driver against the GPS model over real pty pairs: model on the master, driver on the
//! slave opened by path at the two common NMEA rates.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use jemput_drivers::nmea::{NmeaConfig, NmeaError, NmeaGps, NmeaModel, NmeaModelConfig};
use jemput_drivers::CaptureControl;

fn control(ms: u64) -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_millis(ms),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

#[test]
fn a_fix_crosses_a_pty_at_4800_and_9600_baud_and_survives_a_reopen() {
    for baud in [4_800, 9_600] {
        let config = NmeaModelConfig {
            baud,
            no_fix_epochs: 5,
            start_unix: 1_795_000_000,
            ..NmeaModelConfig::default().fast()
        };
        let (_model, path) = NmeaModel::on_pty(config).unwrap();
        for _ in 0..2 {
            let mut gps = NmeaGps::open(&path, NmeaConfig { baud }).unwrap();
            let fix = gps.wait_fix(&control(3_000)).unwrap();
            assert!(
                (fix.lat + 3.1).abs() < 1e-7 && (fix.lon - 121.1).abs() < 1e-7,
                "{fix:?}"
            );
            assert!(fix.unix_time >= 1_795_000_005, "{fix:?}");
            assert_eq!(fix.accuracy_m, Some(6.0));
            drop(gps);
            std::thread::sleep(Duration::from_millis(60));
        }
    }
}

#[test]
fn no_fix_over_a_pty_is_reported_as_no_fix() {
    let config = NmeaModelConfig {
        no_fix_epochs: u32::MAX,
        ..NmeaModelConfig::default().fast()
    };
    let (_model, path) = NmeaModel::on_pty(config).unwrap();
    let mut gps = NmeaGps::open(&path, NmeaConfig { baud: 9_600 }).unwrap();
    let e = gps.wait_fix(&control(400)).unwrap_err();
    assert!(matches!(e, NmeaError::NoFix { .. }), "{e}");
}

#[test]
fn a_receiver_at_real_pace_gives_a_fix_within_its_first_seconds() {
    let (_model, path) = NmeaModel::on_pty(NmeaModelConfig::default()).unwrap();
    let mut gps = NmeaGps::open(&path, NmeaConfig::default()).unwrap();
    let fix = gps.wait_fix(&control(3_000)).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (fix.unix_time - now).abs() <= 5,
        "{} vs {now}",
        fix.unix_time
    );
}

#[test]
fn over_a_pty_every_injected_fault_gives_its_result() {
    use jemput_drivers::nmea::NmeaFault;
    let open = |faults: Vec<NmeaFault>| {
        let (model, path) = NmeaModel::on_pty(NmeaModelConfig {
            faults,
            ..NmeaModelConfig::default().fast()
        })
        .unwrap();
        (
            model,
            NmeaGps::open(&path, NmeaConfig { baud: 4_800 }).unwrap(),
        )
    };
    // Garbage and every second checksum bad: still a fix, and the rejects are counted.
    let (_m, mut gps) = open(vec![
        NmeaFault::Garbage { every: 1 },
        NmeaFault::BadChecksum { every: 2 },
    ]);
    let fix = gps.wait_fix(&control(3_000)).unwrap();
    assert!((fix.lat + 3.1).abs() < 1e-7 && (fix.lon - 121.1).abs() < 1e-7);
    let stats = gps.stats();
    assert!(stats.rejected > 0 && stats.garbage_bytes > 0, "{stats:?}");
    // Every checksum bad: no valid data, with the baud hint.
    let (_m, mut gps) = open(vec![NmeaFault::BadChecksum { every: 1 }]);
    let e = gps.wait_fix(&control(400)).unwrap_err();
    assert!(
        matches!(e, NmeaError::NoData { rejected, .. } if rejected > 0),
        "{e}"
    );
    // Silent: no data at all.
    let (_m, mut gps) = open(vec![NmeaFault::Silent]);
    let e = gps.wait_fix(&control(300)).unwrap_err();
    assert!(matches!(e, NmeaError::NoData { rejected: 0, .. }), "{e}");
}

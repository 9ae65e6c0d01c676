//! Specifications of the NMEA codec, of the driver against the model over memory, and of the
//! model's sentences against an independent parser (Python's `pynmea2`; without it that test is
//! skipped with a `SKIPPED` line on stderr, or fails under `JEMPUT_REQUIRE_PEERS=1`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::protocol::*;
use super::*;
use crate::transport::MemLink;
use crate::{CaptureControl, DeviceError, LocationSource};

/// The classic examples of NMEA references (Munich, 23 March 1994, 12:35:19 UTC).
const CLASSIC_GGA: &str = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47";
const CLASSIC_RMC: &str = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A";

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-7
}

// --- codec ---------------------------------------------------------------------------------

#[test]
fn checksum_of_the_classic_gga_is_47_and_of_the_classic_rmc_6a() {
    let body = &CLASSIC_GGA[1..CLASSIC_GGA.len() - 3];
    assert_eq!(checksum(body.as_bytes()), 0x47);
    let body = &CLASSIC_RMC[1..CLASSIC_RMC.len() - 3];
    assert_eq!(checksum(body.as_bytes()), 0x6A);
    // G P G S A , A , 1 = 47 50 47 53 41 2C 41 2C 31, XOR 32.
    assert_eq!(frame("GPGSA,A,1"), "$GPGSA,A,1*32\r\n");
}

#[test]
fn the_classic_gga_parses_to_munich_with_fix_and_hdop() {
    let Sentence::Gga(g) = parse(CLASSIC_GGA).unwrap() else {
        panic!()
    };
    assert_eq!(g.talker, "GP");
    assert_eq!(
        g.time,
        Some(TimeOfDay {
            hour: 12,
            minute: 35,
            second: 19,
            millis: 0
        })
    );
    let (lat, lon) = g.position.unwrap();
    assert!(close(lat, 48.0 + 7.038 / 60.0), "{lat}");
    assert!(close(lon, 11.0 + 31.0 / 60.0), "{lon}");
    assert_eq!((g.quality, g.satellites, g.hdop), (1, Some(8), Some(0.9)));
    assert_eq!(g.altitude_m, Some(545.4));
}

#[test]
fn the_classic_rmc_parses_to_its_unix_time() {
    let Sentence::Rmc(r) = parse(CLASSIC_RMC).unwrap() else {
        panic!()
    };
    assert!(r.valid);
    let date = r.date.unwrap();
    assert_eq!((date.year, date.month, date.day), (1994, 3, 23));
    // 1994-03-23T12:35:19Z.
    assert_eq!(unix_time(date, r.time.unwrap()), 764_426_119);
    assert_eq!((r.speed_knots, r.course_deg), (Some(22.4), Some(84.4)));
}

#[test]
fn a_wrong_or_missing_checksum_is_rejected() {
    let bad = CLASSIC_GGA.replace("*47", "*48");
    assert_eq!(
        parse(&bad),
        Err(SentenceError::BadChecksum {
            expected: 0x47,
            found: 0x48
        })
    );
    assert_eq!(
        parse(&CLASSIC_GGA[..CLASSIC_GGA.len() - 3]),
        Err(SentenceError::NoChecksum)
    );
    assert_eq!(parse("GPGGA,1*00"), Err(SentenceError::NoDollar));
    // A flipped field byte breaks the checksum too.
    let flipped = CLASSIC_GGA.replace("4807.038", "4807.039");
    assert!(matches!(
        parse(&flipped),
        Err(SentenceError::BadChecksum { .. })
    ));
    // Lower-case hex is accepted.
    let lower = CLASSIC_RMC.replace("*6A", "*6a");
    assert!(matches!(parse(&lower), Ok(Sentence::Rmc(_))));
}

/// Found while writing the `nmea_parser` fuzz target: `u8::from_str_radix` takes a sign, so `*+A`
/// passed for the checksum 0A.
#[test]
fn a_checksum_is_exactly_two_hex_digits() {
    let body = "GPGSA,A,1,,,,,,,,,,,,,,,";
    assert_eq!(checksum(body.as_bytes()), 0x1E);
    assert!(matches!(
        parse(&format!("${body}*1E")),
        Ok(Sentence::Other { .. })
    ));
    // A body whose checksum is 0A, written "0A" (accepted) and "+A" (refused).
    let body = "GPTXT,AAP9";
    assert_eq!(checksum(body.as_bytes()), 0x0A);
    assert!(matches!(
        parse(&format!("${body}*0A")),
        Ok(Sentence::Other { .. })
    ));
    assert_eq!(
        parse(&format!("${body}*+A")),
        Err(SentenceError::Field {
            which: "checksum",
            value: "+A".into()
        })
    );
}

/// Found while writing the `nmea_parser` fuzz target: Rust's float parser takes `NaN`, `inf` and
/// `1e3`, so a correctly checksummed `NaN` HDOP became a NaN accuracy.
#[test]
fn numeric_fields_are_plain_decimals_never_nan_infinity_or_exponents() {
    for hdop in ["NaN", "inf", "-infinity", "1e3", "+0.9", "0x1", "-", "."] {
        let line = frame(&format!(
            "GPGGA,123519,4807.038,N,01131.000,E,1,08,{hdop},545.4,M,46.9,M,,"
        ));
        assert_eq!(
            parse(&line),
            Err(SentenceError::Field {
                which: "HDOP",
                value: hdop.into()
            }),
            "{line}"
        );
    }
    for (hdop, want) in [("0.9", 0.9), ("12", 12.0), (".5", 0.5), ("3.", 3.0)] {
        let line = frame(&format!(
            "GPGGA,123519,4807.038,N,01131.000,E,1,08,{hdop},-12.5,M,46.9,M,,"
        ));
        let Ok(Sentence::Gga(g)) = parse(&line) else {
            panic!("{line}")
        };
        assert_eq!((g.hdop, g.altitude_m), (Some(want), Some(-12.5)));
    }
    let rmc = frame("GPRMC,123519,A,4807.038,N,01131.000,E,NaN,084.4,230394,003.1,W");
    assert!(matches!(
        parse(&rmc),
        Err(SentenceError::Field { which: "speed", .. })
    ));
}

#[test]
fn no_fix_sentences_say_so_and_carry_no_position() {
    let gga = frame("GPGGA,235959.00,,,,,0,00,99.99,,,,,,");
    let Sentence::Gga(g) = parse(&gga).unwrap() else {
        panic!()
    };
    assert_eq!((g.quality, g.position), (0, None));
    let rmc = frame("GPRMC,235959.00,V,,,,,,,311299,,,N");
    let Sentence::Rmc(r) = parse(&rmc).unwrap() else {
        panic!()
    };
    assert!(!r.valid);
    assert_eq!(r.position, None);
    assert_eq!(
        r.date,
        Some(Date {
            year: 1999,
            month: 12,
            day: 31
        })
    );
}

#[test]
fn hemispheres_sign_the_coordinates_and_bad_ones_are_refused() {
    let line = frame("GNRMC,000000,A,0306.00000,S,12106.00000,E,0.0,,010125,,");
    let Sentence::Rmc(r) = parse(&line).unwrap() else {
        panic!()
    };
    assert_eq!(r.talker, "GN");
    let (lat, lon) = r.position.unwrap();
    assert!(close(lat, -3.1) && close(lon, 121.1), "{lat} {lon}");
    let west = frame("GPRMC,000000,A,0000.50000,N,00030.00000,W,,,010125,,");
    let Sentence::Rmc(r) = parse(&west).unwrap() else {
        panic!()
    };
    let (lat, lon) = r.position.unwrap();
    assert!(close(lat, 0.5 / 60.0) && close(lon, -0.5), "{lat} {lon}");
    for bad in [
        "GPRMC,000000,A,0361.0,S,12106.0,E,,,010125,,", // 61 minutes
        "GPRMC,000000,A,0306.0,X,12106.0,E,,,010125,,", // no such hemisphere
        "GPRMC,000000,A,9106.0,N,12106.0,E,,,010125,,", // beyond the pole
        "GPRMC,000000,A,0306.0,S,121060.0,E,,,010125,,", // too many degree digits
    ] {
        assert!(
            matches!(parse(&frame(bad)), Err(SentenceError::Field { .. })),
            "{bad}"
        );
    }
}

#[test]
fn gga_and_rmc_round_trip_through_text() {
    let time = Some(TimeOfDay {
        hour: 7,
        minute: 5,
        second: 9,
        millis: 500,
    });
    let gga = Gga {
        talker: "GN".into(),
        time,
        position: Some((-3.123456, 121.654321)),
        quality: 1,
        satellites: Some(9),
        hdop: Some(0.8),
        altitude_m: Some(25.5),
    };
    let Sentence::Gga(back) = parse(&gga.to_sentence()).unwrap() else {
        panic!()
    };
    let (lat, lon) = back.position.unwrap();
    assert!((lat + 3.123456).abs() < 1e-6 && (lon - 121.654321).abs() < 1e-6);
    assert_eq!(
        Gga {
            position: gga.position,
            ..back
        },
        gga
    );
    let rmc = Rmc {
        talker: "GP".into(),
        time,
        valid: true,
        position: Some((59.999999, -179.5)),
        speed_knots: Some(1.5),
        course_deg: Some(270.0),
        date: Some(Date {
            year: 2026,
            month: 11,
            day: 23,
        }),
    };
    let s = rmc.to_sentence();
    assert!(s.ends_with("\r\n") && s.len() <= 82 + 2, "{s}");
    let Sentence::Rmc(back) = parse(&s).unwrap() else {
        panic!()
    };
    assert_eq!(
        Rmc {
            position: rmc.position,
            ..back.clone()
        },
        rmc
    );
    let (lat, lon) = back.position.unwrap();
    assert!((lat - 59.999999).abs() < 1e-6 && (lon + 179.5).abs() < 1e-6);
}

#[test]
fn civil_dates_and_day_counts_agree_across_leap_years() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    assert_eq!(days_from_civil(1969, 12, 31), -1);
    for days in (-800..30_000).step_by(7) {
        let d = civil_from_days(days);
        assert_eq!(days_from_civil(d.year, d.month, d.day), days, "{d:?}");
    }
    assert_eq!(
        civil_from_days(19_782),
        Date {
            year: 2024,
            month: 2,
            day: 29
        }
    );
}

#[test]
fn the_line_reader_keeps_sentences_and_drops_garbage_around_them() {
    let mut r = LineReader::new();
    let mut wire = b"\x00\xffjunk".to_vec();
    wire.extend_from_slice(b"$GPGGA,12"); // cut off by the next '$'
    wire.extend_from_slice(CLASSIC_GGA.as_bytes());
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(&[b'$'; 1]);
    wire.extend_from_slice(&[b'A'; 200]); // over-long line
    wire.extend_from_slice(b"\r\n");
    let mut lines = Vec::new();
    for chunk in wire.chunks(7) {
        lines.extend(r.push(chunk));
    }
    lines.extend(r.push(CLASSIC_RMC.as_bytes()));
    lines.extend(r.push(b"\n"));
    assert_eq!(
        lines,
        vec![CLASSIC_GGA.to_string(), CLASSIC_RMC.to_string()]
    );
    // 6 junk bytes, the 9 of the cut sentence, then the over-long line: 121 bytes when it is
    // found too long and the 80 after it.
    assert_eq!(r.dropped(), 6 + 9 + 121 + 80);
}

// --- driver and model over memory -----------------------------------------------------------

fn control(ms: u64) -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_millis(ms),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

fn gps(config: NmeaModelConfig) -> (NmeaModel, NmeaGps<MemLink>) {
    let (host, dev) = MemLink::pair();
    let model = NmeaModel::spawn(dev, config);
    (model, NmeaGps::new(host, NmeaConfig::default()).unwrap())
}

fn base() -> NmeaModelConfig {
    NmeaModelConfig {
        start_unix: 1_795_000_000,
        ..NmeaModelConfig::default().fast()
    }
}

#[test]
fn a_fix_gives_the_models_position_time_and_hdop_accuracy() {
    let (_m, mut g) = gps(base());
    let fix = g.wait_fix(&control(2_000)).unwrap();
    assert!(close(fix.lat, -3.1) && close(fix.lon, 121.1), "{fix:?}");
    assert!(
        fix.unix_time >= 1_795_000_000 && fix.unix_time < 1_795_000_000 + 200,
        "{fix:?}"
    );
    assert_eq!(fix.accuracy_m, Some(1.2 * METRES_PER_HDOP));
    assert!(g.stats().sentences >= 2);
    assert_eq!(crate::Device::info(&g).driver, "nmea");
}

#[test]
fn the_first_fix_comes_after_the_no_fix_epochs() {
    let config = NmeaModelConfig {
        no_fix_epochs: 10,
        ..base()
    };
    let (_m, mut g) = gps(config);
    let fix = g.fix(&control(3_000)).unwrap();
    // Epoch 10 is the first with a fix, one simulated second per epoch.
    assert!(fix.unix_time >= 1_795_000_010, "{fix:?}");
}

#[test]
fn no_fix_within_the_timeout_is_a_clear_no_fix_error() {
    let config = NmeaModelConfig {
        no_fix_epochs: u32::MAX,
        ..base()
    };
    let (_m, mut g) = gps(config);
    let started = Instant::now();
    let e = g.wait_fix(&control(300)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(matches!(e, NmeaError::NoFix { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("no GPS fix within 300ms"), "{msg}");
    assert!(
        msg.contains("RMC status V") || msg.contains("GGA quality 0"),
        "{msg}"
    );
    assert!(msg.contains("the visit will record \"no fix\""), "{msg}");
    assert!(matches!(DeviceError::from(e), DeviceError::Timeout(..)));
}

#[test]
fn garbage_and_some_bad_checksums_are_skipped_on_the_way_to_a_fix() {
    let config = NmeaModelConfig {
        faults: vec![
            NmeaFault::Garbage { every: 1 },
            NmeaFault::BadChecksum { every: 2 },
        ],
        ..base()
    };
    let (_m, mut g) = gps(config);
    let fix = g.wait_fix(&control(2_000)).unwrap();
    assert!(close(fix.lat, -3.1) && close(fix.lon, 121.1));
    let stats = g.stats();
    assert!(stats.rejected > 0 && stats.garbage_bytes > 0, "{stats:?}");
}

#[test]
fn a_receiver_whose_every_checksum_fails_is_reported_as_no_valid_data() {
    let config = NmeaModelConfig {
        faults: vec![NmeaFault::BadChecksum { every: 1 }],
        ..base()
    };
    let (_m, mut g) = gps(config);
    let e = g.wait_fix(&control(300)).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, NmeaError::NoData { rejected, .. } if rejected > 0),
        "{msg}"
    );
    assert!(msg.contains("4800 or 9600"), "{msg}");
}

#[test]
fn a_silent_receiver_is_no_data_and_cancel_and_unplug_are_named() {
    let config = NmeaModelConfig {
        faults: vec![NmeaFault::Silent],
        ..base()
    };
    let (m, mut g) = gps(config);
    let e = g.wait_fix(&control(200)).unwrap_err();
    assert!(matches!(e, NmeaError::NoData { rejected: 0, .. }), "{e}");
    let c = control(5_000);
    c.cancel.store(true, Ordering::SeqCst);
    assert!(matches!(g.wait_fix(&c), Err(NmeaError::Cancelled)));
    m.stop();
    let e = g.wait_fix(&control(1_000)).unwrap_err();
    assert!(matches!(e, NmeaError::Disconnected { .. }), "{e}");
    assert!(e.to_string().contains("reopen it by its selector"), "{e}");
}

// --- oracle ---------------------------------------------------------------------------------

/// Parses `lines` with Python's pynmea2 (an independent implementation) and returns, per line,
/// `kind lat lon fix unix` or `ERR <exception>`.
fn pynmea2(lines: &[String]) -> Vec<String> {
    const SCRIPT: &str = r#"
import sys, calendar
try:
    import pynmea2
except ImportError:
    print("MISSING"); sys.exit(0)
for line in sys.stdin.read().splitlines():
    try:
        m = pynmea2.parse(line, check=True)
    except Exception as e:
        print("ERR", type(e).__name__); continue
    t = m.sentence_type
    if t == "GGA":
        fix = int(m.gps_qual or 0) > 0
        unix = "-"
    elif t == "RMC":
        fix = m.status == "A"
        unix = calendar.timegm(m.datetime.timetuple()) if m.datestamp and m.timestamp else "-"
    else:
        print(t, "-", "-", "-", "-"); continue
    lat = "%.7f" % m.latitude if m.lat else "-"
    lon = "%.7f" % m.longitude if m.lon else "-"
    print(t, lat, lon, int(fix), unix)
"#;
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 starts (the test checked it has pynmea2)");
    let input: String = lines
        .iter()
        .map(|l| l.trim_end().to_string() + "\n")
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.starts_with("MISSING"),
        "python3 could not import pynmea2 after all"
    );
    text.lines().map(str::to_string).collect()
}

/// Our parser's view of a line in the same form.
fn ours(line: &str) -> String {
    let coord = |p: Option<(f64, f64)>| match p {
        Some((lat, lon)) => (format!("{lat:.7}"), format!("{lon:.7}")),
        None => ("-".into(), "-".into()),
    };
    match parse(line) {
        Ok(Sentence::Gga(g)) => {
            let (lat, lon) = coord(g.position);
            format!("GGA {lat} {lon} {} -", u8::from(g.quality > 0))
        }
        Ok(Sentence::Rmc(r)) => {
            let (lat, lon) = coord(r.position);
            let unix = match (r.date, r.time) {
                (Some(d), Some(t)) => unix_time(d, t).to_string(),
                _ => "-".into(),
            };
            format!("RMC {lat} {lon} {} {unix}", u8::from(r.valid))
        }
        Ok(Sentence::Other { address }) => format!("{} - - - -", &address[address.len() - 3..]),
        Err(SentenceError::BadChecksum { .. }) => "ERR ChecksumError".into(),
        Err(e) => format!("ERR {e}"),
    }
}

#[test]
fn pynmea2_agrees_with_our_parser_on_the_models_sentences() {
    if !jemput_testkit::python_modules(
        &["pynmea2"],
        "python3 -m pip install pynmea2, or scripts/install-test-peers",
    ) {
        return;
    }
    let config = NmeaModelConfig {
        lat: -3.123457,
        lon: 121.098765,
        no_fix_epochs: 2,
        ..base()
    };
    let mut lines: Vec<String> = (0..4).flat_map(|n| epoch_sentences(&config, n)).collect();
    let west = NmeaModelConfig {
        lat: 51.4778,
        lon: -0.0015,
        talker: "GN".into(),
        start_unix: 946_684_799,
        ..config.clone()
    };
    lines.extend(epoch_sentences(&west, 5));
    lines.push(CLASSIC_GGA.into());
    lines.push(CLASSIC_RMC.into());
    lines.push(CLASSIC_RMC.replace("*6A", "*6B"));
    let theirs = pynmea2(&lines);
    assert_eq!(theirs.len(), lines.len(), "{theirs:?}");
    for (line, theirs) in lines.iter().zip(&theirs) {
        assert_eq!(&ours(line), theirs, "{}", line.trim_end());
    }
    // The comparison covered fixes and no-fixes, and a rejected checksum.
    assert!(theirs
        .iter()
        .any(|l| l.starts_with("RMC") && l.contains(" 0 ")));
    assert!(theirs
        .iter()
        .any(|l| l.starts_with("RMC -3.1234570 121.0987650 1")));
    assert!(theirs.last().unwrap().starts_with("ERR ChecksumError"));
}

//! Fuzzes the NMEA line framer and the sentence parser with an arbitrary byte stream.
//!
//! Invariants: the framer returns `$`-lines of at most `MAX_LINE` characters without line ends, the same
//! however the stream is split; a GGA or RMC that parses writes back a sentence that parses to the
//! same fix (up to the precision the writer keeps), with finite numbers only. Each line is also
//! parsed with its checksum put right, so that the fuzzer reaches the field parsers.
#![no_main]

use jemput_drivers::nmea::protocol::{frame, parse, LineReader, Sentence, MAX_LINE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&cut, data)) = input.split_first() else {
        return;
    };
    let mut reader = LineReader::new();
    let lines = reader.push(data);
    let mut split = LineReader::new();
    let cut = usize::from(cut).min(data.len());
    let mut again = split.push(&data[..cut]);
    again.extend(split.push(&data[cut..]));
    assert_eq!(again, lines, "splitting the stream changed the lines");
    assert_eq!(split.dropped(), reader.dropped());

    for line in &lines {
        assert!(line.starts_with('$'), "{line:?}");
        // Bytes that are not UTF-8 come back as U+FFFD (3 bytes each): count characters.
        assert!(line.chars().count() <= MAX_LINE, "{line:?}");
        assert!(!line.contains(['\r', '\n']));
        check(line);
        // The same line with its checksum put right, so the fields get parsed, not only refused.
        let body = line[1..]
            .rsplit_once('*')
            .map_or(&line[1..], |(body, _)| body);
        check(&frame(body));
    }
    // The parser also takes whatever a caller hands it.
    check(&String::from_utf8_lossy(data));
});

fn close(a: Option<f64>, b: Option<f64>, tolerance: f64) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= tolerance * a.abs().max(1.0),
        (None, None) => true,
        _ => false,
    }
}

fn close_pos(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> bool {
    close(a.map(|p| p.0), b.map(|p| p.0), 1e-6) && close(a.map(|p| p.1), b.map(|p| p.1), 1e-6)
}

fn check(line: &str) {
    match parse(line) {
        Ok(Sentence::Gga(gga)) => {
            let finite = [gga.hdop, gga.altitude_m]
                .into_iter()
                .flatten()
                .chain(gga.position.into_iter().flat_map(|(a, b)| [a, b]));
            for v in finite {
                assert!(v.is_finite(), "{gga:?}");
            }
            if let Some((lat, lon)) = gga.position {
                assert!(lat.abs() <= 90.0 && lon.abs() <= 180.0, "{gga:?}");
            }
            let written = gga.to_sentence();
            let Ok(Sentence::Gga(back)) = parse(&written) else {
                panic!("{gga:?} wrote {written:?}, which does not parse back");
            };
            assert_eq!(
                (&back.talker, back.quality, back.satellites),
                (&gga.talker, gga.quality, gga.satellites)
            );
            assert!(close_pos(back.position, gga.position), "{gga:?} → {back:?}");
            assert!(
                close(back.hdop, gga.hdop, 0.05 + 1e-9),
                "{gga:?} → {back:?}"
            );
            assert_eq!(
                back.time.map(|t| t.seconds()),
                gga.time.map(|t| t.seconds())
            );
        }
        Ok(Sentence::Rmc(rmc)) => {
            if let Some((lat, lon)) = rmc.position {
                assert!(lat.abs() <= 90.0 && lon.abs() <= 180.0, "{rmc:?}");
            }
            for v in [rmc.speed_knots, rmc.course_deg].into_iter().flatten() {
                assert!(v.is_finite(), "{rmc:?}");
            }
            let written = rmc.to_sentence();
            let Ok(Sentence::Rmc(back)) = parse(&written) else {
                panic!("{rmc:?} wrote {written:?}, which does not parse back");
            };
            assert_eq!(
                (&back.talker, back.valid, back.date),
                (&rmc.talker, rmc.valid, rmc.date)
            );
            assert!(close_pos(back.position, rmc.position), "{rmc:?} → {back:?}");
            assert_eq!(
                back.time.map(|t| t.seconds()),
                rmc.time.map(|t| t.seconds())
            );
        }
        Ok(Sentence::Other { address }) => assert!(!address.contains(',')),
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

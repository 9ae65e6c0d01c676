//! The NMEA-0183 codec for what a location source needs: checksums, GGA and RMC sentences (parse
//! and write), coordinates in `ddmm.mmmm` form, UTC date and time to Unix time, and a line framer
//! that survives garbage. Pure: bytes in, sentences out; shared by the driver and the model.
//!
//! A sentence is `$` + talker (2 letters, e.g. `GP`, `GN`) + type (3 letters) + `,`-separated fields
//! + `*hh` (XOR of every byte between `$` and `*`, two hex digits) + CR LF, at most 82 characters.

use super::error::SentenceError;

/// The longest line kept by [`LineReader`]; the standard allows 82 characters, receivers exceed it
/// a little with extra precision.
pub const MAX_LINE: usize = 120;

/// XOR of `body` (the bytes between `$` and `*`).
pub fn checksum(body: &[u8]) -> u8 {
    body.iter().fold(0, |a, b| a ^ b)
}

/// `$body*hh\r\n`.
pub fn frame(body: &str) -> String {
    format!("${body}*{:02X}\r\n", checksum(body.as_bytes()))
}

/// UTC time of day as a receiver reports it (`hhmmss.sss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millis: u16,
}

impl TimeOfDay {
    /// Whole seconds since midnight.
    pub fn seconds(&self) -> u32 {
        u32::from(self.hour) * 3600 + u32::from(self.minute) * 60 + u32::from(self.second)
    }

    fn parse(s: &str) -> Result<Self, SentenceError> {
        let bad = || SentenceError::field("time", s);
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.len() != 6 || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n = |r: std::ops::Range<usize>| whole[r].parse::<u8>().map_err(|_| bad());
        let (hour, minute, second) = (n(0..2)?, n(2..4)?, n(4..6)?);
        // 60 is a leap second.
        if hour > 23 || minute > 59 || second > 60 {
            return Err(bad());
        }
        let millis = if frac.is_empty() {
            0
        } else {
            let digits: String = frac.chars().chain("000".chars()).take(3).collect();
            digits.parse::<u16>().map_err(|_| bad())?
        };
        Ok(TimeOfDay {
            hour,
            minute,
            second,
            millis,
        })
    }
}

/// A UTC calendar date (`ddmmyy` in RMC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Two-digit years: 80–99 are 1980–1999, 00–79 are 2000–2079 (GPS time began in 1980).
    fn parse(s: &str) -> Result<Self, SentenceError> {
        let bad = || SentenceError::field("date", s);
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n = |r: std::ops::Range<usize>| s[r].parse::<u8>().map_err(|_| bad());
        let (day, month, yy) = (n(0..2)?, n(2..4)?, n(4..6)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(bad());
        }
        let year = if yy >= 80 { 1900 } else { 2000 } + i32::from(yy);
        Ok(Date { year, month, day })
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = i64::from(year) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

/// Seconds since the Unix epoch of a UTC date and time (fractions dropped).
pub fn unix_time(date: Date, time: TimeOfDay) -> i64 {
    days_from_civil(date.year, date.month, date.day) * 86_400 + i64::from(time.seconds())
}

/// Parses `ddmm.mmmm` (latitude, `deg_digits` 2) or `dddmm.mmmm` (longitude, 3) with its hemisphere
/// letter into signed decimal degrees. Both empty: no position.
fn parse_coord(
    value: &str,
    hemi: &str,
    deg_digits: usize,
    which: &'static str,
) -> Result<Option<f64>, SentenceError> {
    if value.is_empty() && hemi.is_empty() {
        return Ok(None);
    }
    let bad = || SentenceError::field(which, &format!("{value},{hemi}"));
    let int_len = value.find('.').unwrap_or(value.len());
    if int_len < 3
        || int_len > deg_digits + 2
        || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return Err(bad());
    }
    let deg: f64 = value[..int_len - 2].parse().map_err(|_| bad())?;
    let min: f64 = value[int_len - 2..].parse().map_err(|_| bad())?;
    if min >= 60.0 {
        return Err(bad());
    }
    let v = deg + min / 60.0;
    let (limit, neg) = match (deg_digits, hemi) {
        (2, "N") => (90.0, false),
        (2, "S") => (90.0, true),
        (3, "E") => (180.0, false),
        (3, "W") => (180.0, true),
        _ => return Err(bad()),
    };
    if v > limit {
        return Err(bad());
    }
    Ok(Some(if neg { -v } else { v }))
}

/// Writes signed degrees as `ddmm.mmmmm,H` (or `dddmm.mmmmm,H`).
fn format_coord(v: f64, deg_digits: usize, pos: char, neg: char) -> String {
    let a = v.abs();
    let mut deg = a.trunc();
    let mut min = ((a - deg) * 60.0 * 100_000.0).round() / 100_000.0;
    if min >= 60.0 {
        deg += 1.0;
        min -= 60.0;
    }
    let hemi = if v < 0.0 { neg } else { pos };
    format!("{:0w$}{:08.5},{hemi}", deg as u32, min, w = deg_digits)
}

/// An optional numeric field: empty, or a plain decimal (`-12.5`, `08`). Rust's own parsers also
/// take `+5`, `1e3`, `inf` and `NaN`, which no receiver sends and which must not reach an accuracy
/// or an altitude as a non-finite number.
fn opt<T: std::str::FromStr>(s: &str, which: &'static str) -> Result<Option<T>, SentenceError> {
    if s.is_empty() {
        return Ok(None);
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !(int.is_empty() && frac.is_empty())
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit());
    if !plain {
        return Err(SentenceError::field(which, s));
    }
    s.parse()
        .map(Some)
        .map_err(|_| SentenceError::field(which, s))
}

fn opt_time(s: &str) -> Result<Option<TimeOfDay>, SentenceError> {
    if s.is_empty() {
        Ok(None)
    } else {
        TimeOfDay::parse(s).map(Some)
    }
}

fn time_str(t: Option<TimeOfDay>) -> String {
    t.map_or(String::new(), |t| {
        format!(
            "{:02}{:02}{:02}.{:02}",
            t.hour,
            t.minute,
            t.second,
            t.millis / 10
        )
    })
}

/// GGA: fix data. `quality` 0 means no fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Gga {
    pub talker: String,
    pub time: Option<TimeOfDay>,
    /// Latitude, longitude in signed degrees.
    pub position: Option<(f64, f64)>,
    /// 0 no fix, 1 GPS, 2 DGPS, 4/5 RTK, 6 dead reckoning, …
    pub quality: u8,
    pub satellites: Option<u8>,
    pub hdop: Option<f64>,
    pub altitude_m: Option<f64>,
}

/// RMC: recommended minimum data. `valid` is status `A`; `V` means no fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Rmc {
    pub talker: String,
    pub time: Option<TimeOfDay>,
    pub valid: bool,
    pub position: Option<(f64, f64)>,
    pub speed_knots: Option<f64>,
    pub course_deg: Option<f64>,
    pub date: Option<Date>,
}

/// A checked sentence.
#[derive(Debug, Clone, PartialEq)]
pub enum Sentence {
    Gga(Gga),
    Rmc(Rmc),
    /// Any other (valid) sentence: `GSA`, `GSV`, `VTG`, proprietary `$P…`.
    Other {
        address: String,
    },
}

fn position(f: &[&str], at: usize) -> Result<Option<(f64, f64)>, SentenceError> {
    let lat = parse_coord(f[at], f[at + 1], 2, "latitude")?;
    let lon = parse_coord(f[at + 2], f[at + 3], 3, "longitude")?;
    Ok(lat.zip(lon))
}

/// Checks a line's framing and checksum and parses GGA and RMC; trailing CR/LF are ignored.
pub fn parse(line: &str) -> Result<Sentence, SentenceError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if !line.is_ascii() {
        return Err(SentenceError::NotAscii);
    }
    let body = line.strip_prefix('$').ok_or(SentenceError::NoDollar)?;
    let (body, sum) = body.rsplit_once('*').ok_or(SentenceError::NoChecksum)?;
    // Exactly two hex digits (`from_str_radix` alone would also take `+A`).
    let found = Some(sum)
        .filter(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| u8::from_str_radix(s, 16).ok())
        .ok_or_else(|| SentenceError::field("checksum", sum))?;
    let expected = checksum(body.as_bytes());
    if found != expected {
        return Err(SentenceError::BadChecksum { expected, found });
    }
    let f: Vec<&str> = body.split(',').collect();
    let address = f[0];
    if address.len() < 5 || address.starts_with('P') {
        return Ok(Sentence::Other {
            address: address.into(),
        });
    }
    let (talker, kind) = address.split_at(address.len() - 3);
    let need = |n: usize| {
        if f.len() < n {
            Err(SentenceError::TooFewFields {
                kind: kind.to_string(),
                got: f.len() - 1,
                need: n - 1,
            })
        } else {
            Ok(())
        }
    };
    match kind {
        "GGA" => {
            need(15)?;
            Ok(Sentence::Gga(Gga {
                talker: talker.into(),
                time: opt_time(f[1])?,
                position: position(&f, 2)?,
                quality: opt(f[6], "fix quality")?.unwrap_or(0),
                satellites: opt(f[7], "satellites")?,
                hdop: opt(f[8], "HDOP")?,
                altitude_m: opt(f[9], "altitude")?,
            }))
        }
        "RMC" => {
            need(12)?;
            Ok(Sentence::Rmc(Rmc {
                talker: talker.into(),
                time: opt_time(f[1])?,
                valid: f[2] == "A",
                position: position(&f, 3)?,
                speed_knots: opt(f[7], "speed")?,
                course_deg: opt(f[8], "course")?,
                date: if f[9].is_empty() {
                    None
                } else {
                    Some(Date::parse(f[9])?)
                },
            }))
        }
        _ => Ok(Sentence::Other {
            address: address.into(),
        }),
    }
}

fn pos_fields(p: Option<(f64, f64)>) -> String {
    match p {
        Some((lat, lon)) => format!(
            "{},{}",
            format_coord(lat, 2, 'N', 'S'),
            format_coord(lon, 3, 'E', 'W')
        ),
        None => ",,,".into(),
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or(String::new(), |v| format!("{v:.decimals$}"))
}

impl Gga {
    /// The framed sentence, CR LF included.
    pub fn to_sentence(&self) -> String {
        frame(&format!(
            "{}GGA,{},{},{},{},{},{},M,0.0,M,,",
            self.talker,
            time_str(self.time),
            pos_fields(self.position),
            self.quality,
            self.satellites.map_or(String::new(), |n| format!("{n:02}")),
            num(self.hdop, 1),
            num(self.altitude_m, 1),
        ))
    }
}

impl Rmc {
    /// The framed sentence, CR LF included.
    pub fn to_sentence(&self) -> String {
        frame(&format!(
            "{}RMC,{},{},{},{},{},{},,",
            self.talker,
            time_str(self.time),
            if self.valid { 'A' } else { 'V' },
            pos_fields(self.position),
            num(self.speed_knots, 1),
            num(self.course_deg, 1),
            self.date.map_or(String::new(), |d| format!(
                "{:02}{:02}{:02}",
                d.day,
                d.month,
                d.year.rem_euclid(100)
            )),
        ))
    }
}

/// Splits a byte stream into candidate sentences: each starts at `$` and ends at LF. Bytes outside
/// a sentence and over-long lines are dropped and counted.
#[derive(Debug, Default, Clone)]
pub struct LineReader {
    buf: Vec<u8>,
    in_line: bool,
    dropped: u64,
}

impl LineReader {
    pub fn new() -> Self {
        LineReader::default()
    }

    /// Bytes thrown away so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Takes bytes; returns the lines they complete (without CR LF; not yet checked).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            match b {
                b'$' => {
                    self.dropped += self.buf.len() as u64;
                    self.buf.clear();
                    self.buf.push(b);
                    self.in_line = true;
                }
                b'\n' | b'\r' if self.in_line => {
                    out.push(String::from_utf8_lossy(&self.buf).into_owned());
                    self.buf.clear();
                    self.in_line = false;
                }
                _ if self.in_line => {
                    self.buf.push(b);
                    if self.buf.len() > MAX_LINE {
                        self.dropped += self.buf.len() as u64;
                        self.buf.clear();
                        self.in_line = false;
                    }
                }
                // Line ends between sentences are not garbage.
                b'\n' | b'\r' => {}
                _ => self.dropped += 1,
            }
        }
        out
    }
}

//! A device model of an NMEA-0183 GPS receiver: once a second (faster in fast mode) it writes GGA,
//! GSA and RMC for a configured position, with no fix for the first epochs if asked, and faults on
//! request. Runs on a thread over any [`SerialLink`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::protocol::{civil_from_days, frame, Gga, Rmc, TimeOfDay};
use crate::transport::{pty_pair, LinkError, SerialLink};

/// Faults the model injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NmeaFault {
    /// Every `every`-th sentence has a wrong checksum.
    BadChecksum { every: usize },
    /// Before every `every`-th epoch, junk bytes and a sentence cut off without its checksum.
    Garbage { every: usize },
    /// The receiver writes nothing (unpowered antenna board, wrong port).
    Silent,
}

/// The junk written by [`NmeaFault::Garbage`].
pub const GARBAGE: &[u8] = b"\x00\xff\x13garbage\r\n$GPGGA,0123\r\n";

/// How the model behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct NmeaModelConfig {
    /// Signed degrees (south and west negative).
    pub lat: f64,
    pub lon: f64,
    pub altitude_m: f64,
    pub hdop: f64,
    pub satellites: u8,
    /// `GP` (GPS) or `GN` (multi-constellation).
    pub talker: String,
    /// Unix time of the first epoch.
    pub start_unix: i64,
    /// Time between epochs on the wire (the receiver's clock still steps by one second).
    pub period: Duration,
    /// Epochs reported with no fix before the first fix (cold start).
    pub no_fix_epochs: u32,
    /// Line speed used to pace the output.
    pub baud: u32,
    pub fast: bool,
    pub faults: Vec<NmeaFault>,
    /// Keep going when the other end goes away (a pty slave closed and reopened).
    pub survive_hangup: bool,
}

impl Default for NmeaModelConfig {
    fn default() -> Self {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        NmeaModelConfig {
            // Lasusua, Kolaka Utara, Southeast Sulawesi.
            lat: -3.1,
            lon: 121.1,
            altitude_m: 12.0,
            hdop: 1.2,
            satellites: 8,
            talker: "GP".into(),
            start_unix: now,
            period: Duration::from_secs(1),
            no_fix_epochs: 0,
            baud: 4_800,
            fast: false,
            faults: Vec::new(),
            survive_hangup: false,
        }
    }
}

impl NmeaModelConfig {
    /// Epochs 50 times a second, no pacing: for tests and `--fast`.
    pub fn fast(mut self) -> Self {
        self.fast = true;
        self.period = Duration::from_millis(20);
        self
    }
}

/// The sentences of epoch `n` (0-based), framed with CR LF and before any fault: GGA, GSA, RMC.
pub fn epoch_sentences(config: &NmeaModelConfig, n: u32) -> Vec<String> {
    let unix = config.start_unix + i64::from(n);
    let secs = unix.rem_euclid(86_400) as u32;
    let time = Some(TimeOfDay {
        hour: (secs / 3600) as u8,
        minute: (secs / 60 % 60) as u8,
        second: (secs % 60) as u8,
        millis: 0,
    });
    let date = Some(civil_from_days(unix.div_euclid(86_400)));
    let fix = n >= config.no_fix_epochs;
    let position = fix.then_some((config.lat, config.lon));
    let t = &config.talker;
    let gga = Gga {
        talker: t.clone(),
        time,
        position,
        quality: u8::from(fix),
        satellites: Some(if fix { config.satellites } else { 0 }),
        hdop: fix.then_some(config.hdop),
        altitude_m: fix.then_some(config.altitude_m),
    };
    let gsa = if fix {
        frame(&format!(
            "{t}GSA,A,3,02,05,12,15,18,24,25,29,,,,,{:.1},{:.1},{:.1}",
            config.hdop * 1.5,
            config.hdop,
            config.hdop * 1.1
        ))
    } else {
        frame(&format!("{t}GSA,A,1,,,,,,,,,,,,,,,"))
    };
    let rmc = Rmc {
        talker: t.clone(),
        time,
        valid: fix,
        position,
        speed_knots: fix.then_some(0.0),
        course_deg: None,
        date,
    };
    vec![gga.to_sentence(), gsa, rmc.to_sentence()]
}

/// A running model; stops (and closes its end of the link) when dropped.
#[derive(Debug)]
pub struct NmeaModel {
    stop: Arc<AtomicBool>,
    epochs: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl NmeaModel {
    /// Runs the model on `link` on a new thread.
    pub fn spawn<L: SerialLink + 'static>(link: L, config: NmeaModelConfig) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let epochs = Arc::new(AtomicUsize::new(0));
        let (s, e) = (stop.clone(), epochs.clone());
        let thread = std::thread::Builder::new()
            .name("nmea-model".into())
            .spawn(move || run(link, config, s, e))
            .expect("spawning the model thread");
        NmeaModel {
            stop,
            epochs,
            thread: Some(thread),
        }
    }

    /// Runs the model on the master of a new pty pair; returns it and the slave's path.
    pub fn on_pty(mut config: NmeaModelConfig) -> Result<(Self, PathBuf), LinkError> {
        config.survive_hangup = true;
        let (link, path) = pty_pair()?;
        Ok((NmeaModel::spawn(link, config), path))
    }

    /// Epochs written so far.
    pub fn epochs(&self) -> usize {
        self.epochs.load(Ordering::SeqCst)
    }

    /// Stops the model and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for NmeaModel {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Flips the checksum of a framed sentence.
fn corrupt(sentence: &str) -> String {
    let star = sentence.rfind('*').expect("framed");
    let sum = u8::from_str_radix(&sentence[star + 1..star + 3], 16).expect("framed");
    format!("{}*{:02X}\r\n", &sentence[..star], sum ^ 0x5A)
}

fn run<L: SerialLink>(
    mut link: L,
    config: NmeaModelConfig,
    stop: Arc<AtomicBool>,
    epochs: Arc<AtomicUsize>,
) {
    let silent = config.faults.contains(&NmeaFault::Silent);
    let mut due = Instant::now();
    let mut n: u32 = 0;
    let mut count: usize = 0;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now < due {
            std::thread::sleep((due - now).min(Duration::from_millis(20)));
            continue;
        }
        due += config.period;
        let mut out: Vec<u8> = Vec::new();
        for fault in &config.faults {
            if let NmeaFault::Garbage { every } = *fault {
                if (n as usize + 1).is_multiple_of(every.max(1)) {
                    out.extend_from_slice(GARBAGE);
                }
            }
        }
        for s in epoch_sentences(&config, n) {
            count += 1;
            let bad = config.faults.iter().any(
                |f| matches!(*f, NmeaFault::BadChecksum { every } if count.is_multiple_of(every.max(1))),
            );
            out.extend_from_slice(if bad { corrupt(&s) } else { s }.as_bytes());
        }
        n += 1;
        if silent {
            continue;
        }
        if !config.fast {
            // Pace the epoch at the line rate: 10 bits a byte.
            let line =
                Duration::from_secs_f64(out.len() as f64 * 10.0 / f64::from(config.baud.max(300)));
            std::thread::sleep(line.min(config.period));
        }
        match link.write_all(&out) {
            Ok(()) => {
                epochs.fetch_add(1, Ordering::SeqCst);
            }
            // Nobody reading (buffer full): the epoch is lost, as on a real line.
            Err(LinkError::Io(_)) | Err(LinkError::Timeout(_)) => {}
            Err(_) if config.survive_hangup => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return,
        }
    }
}

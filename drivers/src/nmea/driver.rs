//! The NMEA GPS driver: reads sentences from a serial line and waits for a fix.
//!
//! A fix needs a valid RMC (status `A`): it alone carries the date, so it gives the fix's time. The
//! GGA of the same second adds the accuracy: **HDOP × 5 m**, assuming a user range error of about
//! 5 m (1 σ) for a consumer single-frequency receiver; it is a rough figure, recorded, never
//! enforced. Without a matching GGA the fix has no accuracy.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::error::NmeaError;
use super::protocol::{parse, unix_time, Gga, LineReader, Rmc, Sentence, TimeOfDay};
use crate::transport::{LinkError, PortLink, SerialLink};
use crate::{CaptureControl, Device, DeviceError, DeviceInfo, Fix, LocationSource};

/// Metres of horizontal error per unit of HDOP (see the module docs).
pub const METRES_PER_HDOP: f64 = 5.0;

/// How long a valid RMC waits for its GGA before it is reported without an accuracy.
const GGA_GRACE: Duration = Duration::from_millis(1_200);

/// How often waiting looks at the cancel flag.
const POLL: Duration = Duration::from_millis(50);

/// Line settings of the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmeaConfig {
    /// 4800 (the NMEA-0183 standard rate) or 9600 (most modern receivers).
    pub baud: u32,
}

impl Default for NmeaConfig {
    fn default() -> Self {
        NmeaConfig { baud: 4_800 }
    }
}

/// Counters of what the reader has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NmeaStats {
    /// Checked sentences, of any type.
    pub sentences: u64,
    /// Lines that failed the checksum or the field syntax.
    pub rejected: u64,
    /// Bytes outside any sentence.
    pub garbage_bytes: u64,
}

/// An opened NMEA-0183 GPS receiver.
#[derive(Debug)]
pub struct NmeaGps<L: SerialLink> {
    link: L,
    port: String,
    config: NmeaConfig,
    info: DeviceInfo,
    reader: LineReader,
    stats: NmeaStats,
}

impl NmeaGps<PortLink> {
    /// Opens the tty at `path`.
    pub fn open(path: &Path, config: NmeaConfig) -> Result<Self, NmeaError> {
        let port = path.display().to_string();
        let link = PortLink::open(path, config.baud).map_err(|e| link_error(&port, e))?;
        NmeaGps::new(link, config)
    }
}

fn link_error(port: &str, e: LinkError) -> NmeaError {
    match e {
        LinkError::Disconnected => NmeaError::Disconnected { port: port.into() },
        source => NmeaError::Link {
            port: port.into(),
            source,
        },
    }
}

fn accuracy(gga: &Gga) -> Option<f64> {
    gga.hdop.map(|h| h * METRES_PER_HDOP)
}

fn same_second(a: Option<TimeOfDay>, b: Option<TimeOfDay>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.seconds() == b.seconds())
}

impl<L: SerialLink> NmeaGps<L> {
    /// Wraps a link to a receiver (a GPS needs no initialisation: it talks on its own).
    pub fn new(mut link: L, config: NmeaConfig) -> Result<Self, NmeaError> {
        let port = link.describe();
        link.set_baud(config.baud)
            .map_err(|e| link_error(&port, e))?;
        Ok(NmeaGps {
            link,
            port,
            config,
            info: DeviceInfo {
                driver: "nmea".into(),
                model: "NMEA-0183 GPS receiver".into(),
                serial: None,
                firmware: None,
            },
            reader: LineReader::new(),
            stats: NmeaStats::default(),
        })
    }

    /// What has been read so far.
    pub fn stats(&self) -> NmeaStats {
        NmeaStats {
            garbage_bytes: self.reader.dropped(),
            ..self.stats
        }
    }

    /// Reads sentences until one completes, or `deadline`.
    fn read_sentences(&mut self, deadline: Instant) -> Result<Vec<Sentence>, NmeaError> {
        let mut buf = [0u8; 256];
        let n = match self.link.read_some(&mut buf, deadline) {
            Ok(n) => n,
            Err(LinkError::Timeout(_)) => return Ok(Vec::new()),
            Err(e) => return Err(link_error(&self.port, e)),
        };
        let mut out = Vec::new();
        for line in self.reader.push(&buf[..n]) {
            match parse(&line) {
                Ok(s) => {
                    self.stats.sentences += 1;
                    out.push(s);
                }
                Err(e) => {
                    self.stats.rejected += 1;
                    tracing::debug!(port = %self.port, error = %e, "nmea: line rejected");
                }
            }
        }
        Ok(out)
    }

    /// Waits for a valid fix until `control.timeout`.
    pub fn wait_fix(&mut self, control: &CaptureControl) -> Result<Fix, NmeaError> {
        let begun = Instant::now();
        let deadline = begun + control.timeout;
        let accepted_before = self.stats.sentences;
        let rejected_before = self.stats.rejected;
        let mut last_gga: Option<Gga> = None;
        let mut pending: Option<(Rmc, Fix, Instant)> = None;
        let mut why = String::from("nothing usable yet");
        // Lines queued while nobody asked may be minutes old; a fix is taken from what comes now.
        self.link
            .clear_input()
            .map_err(|e| link_error(&self.port, e))?;
        self.reader = LineReader::new();
        loop {
            if control.cancel.load(Ordering::SeqCst) {
                return Err(NmeaError::Cancelled);
            }
            let now = Instant::now();
            if let Some((_, fix, since)) = pending {
                if now - since >= GGA_GRACE {
                    return Ok(fix);
                }
            }
            if now >= deadline {
                return Err(if self.stats.sentences == accepted_before {
                    NmeaError::NoData {
                        port: self.port.clone(),
                        waited: control.timeout,
                        baud: self.config.baud,
                        rejected: self.stats.rejected - rejected_before,
                    }
                } else {
                    NmeaError::NoFix {
                        waited: control.timeout,
                        why,
                    }
                });
            }
            for sentence in self.read_sentences((now + POLL).min(deadline))? {
                match sentence {
                    Sentence::Gga(gga) => {
                        if gga.quality == 0 {
                            why = "no fix (GGA quality 0)".into();
                        }
                        if let Some((rmc, mut fix, _)) = pending.take() {
                            if same_second(rmc.time, gga.time) && gga.quality > 0 {
                                fix.accuracy_m = accuracy(&gga);
                            }
                            return Ok(fix);
                        }
                        last_gga = Some(gga);
                    }
                    Sentence::Rmc(rmc) => {
                        if !rmc.valid {
                            why = "no fix (RMC status V)".into();
                            continue;
                        }
                        let (Some(date), Some(time), Some((lat, lon))) =
                            (rmc.date, rmc.time, rmc.position)
                        else {
                            why = "a fix without date, time or position (RMC)".into();
                            continue;
                        };
                        let mut fix = Fix {
                            unix_time: unix_time(date, time),
                            lat,
                            lon,
                            accuracy_m: None,
                        };
                        match &last_gga {
                            Some(gga) if same_second(gga.time, rmc.time) => {
                                if gga.quality > 0 {
                                    fix.accuracy_m = accuracy(gga);
                                }
                                return Ok(fix);
                            }
                            _ => pending = Some((rmc, fix, Instant::now())),
                        }
                    }
                    Sentence::Other { .. } => {}
                }
            }
        }
    }
}

impl<L: SerialLink> Device for NmeaGps<L> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
}

impl<L: SerialLink> LocationSource for NmeaGps<L> {
    fn fix(&mut self, control: &CaptureControl) -> Result<Fix, DeviceError> {
        Ok(self.wait_fix(control)?)
    }
}

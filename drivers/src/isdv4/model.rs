//! A device model of an ISDV4 pen digitizer: answers the queries, and after "start" plays
//! synthetic handwriting as pen packets at the pad's report rate, with faults on request. Runs on a
//! thread over any [`SerialLink`] (an in-memory pair, or the master of a pty).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::protocol::{
    PenCaps, PenSample, TouchCaps, CMD_QUERY, CMD_START, CMD_STOP, CMD_TOUCH_QUERY,
};
use crate::synth::{signature_trace, PAD_EXTENT_X, PAD_EXTENT_Y, PAD_MAX_PRESSURE};
use crate::transport::{pty_pair, LinkError, SerialLink};

/// Report rate of Wacom Penabled serial sensors: about 133 packets a second **(unverified: the
/// commonly quoted figure; the xf86 and kernel drivers do not depend on it)**.
pub const REPORT_HZ: f64 = 133.0;

/// What the model writes after "start".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handwriting {
    /// A name-like cursive scribble from [`signature_trace`].
    Signature { seed: u64, name: String },
    /// One straight stroke, as accepted from people who cannot sign.
    Line,
    /// A tap near the top-left corner, then one near the bottom-right (calibration).
    CornerTaps,
}

/// Faults the model injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isdv4Fault {
    /// Before every `every`-th pen packet, a few junk bytes (one of them with the sync bit).
    Garbage { every: usize },
    /// Every `every`-th pen packet is cut after 4 bytes.
    Truncate { every: usize },
    /// The pad goes away (the link is closed) after `after` pen packets.
    Unplug { after: usize },
    /// The pad ignores the pen and touch queries.
    NoReply,
}

/// The junk written by [`Isdv4Fault::Garbage`]: XON/XOFF and CR (which a non-raw line would eat or
/// change), DEL, and a stray sync byte that opens a packet the next real one cuts short.
pub const GARBAGE: [u8; 5] = [0x13, 0x0D, 0x7F, 0x85, 0x11];

/// How the model behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Isdv4ModelConfig {
    pub caps: PenCaps,
    /// Reply to the touch query; `None` answers like a pen-only pad (an empty reply).
    pub touch: Option<TouchCaps>,
    pub handwriting: Handwriting,
    /// Pen packets per second.
    pub report_hz: f64,
    /// Line speed used to pace the output (a pty does not).
    pub baud: u32,
    /// No pacing at all: packets as fast as the link takes them.
    pub fast: bool,
    /// Time from "start" to the pen coming down.
    pub lead_in: Duration,
    /// Sign again after this much quiet (for `jemput sim`); `None`: once per "start".
    pub repeat_after: Option<Duration>,
    pub faults: Vec<Isdv4Fault>,
    /// Keep going when the other end goes away (a pty slave closed and reopened).
    pub survive_hangup: bool,
}

impl Default for Isdv4ModelConfig {
    fn default() -> Self {
        Isdv4ModelConfig {
            // A TabletPC-sized sensor at 100 units/mm.
            caps: PenCaps {
                max_x: 26_312,
                max_y: 16_520,
                max_pressure: 1023,
                max_tilt_x: 0,
                max_tilt_y: 0,
                firmware: 0x0024,
            },
            touch: None,
            handwriting: Handwriting::Signature {
                seed: 1,
                name: "Siti Aminah".into(),
            },
            report_hz: REPORT_HZ,
            baud: 19_200,
            fast: false,
            lead_in: Duration::from_millis(1_000),
            repeat_after: None,
            faults: Vec::new(),
            survive_hangup: false,
        }
    }
}

impl Isdv4ModelConfig {
    /// No pacing and no lead-in: for tests and `--fast`.
    pub fn fast(mut self) -> Self {
        self.fast = true;
        self.lead_in = Duration::ZERO;
        self
    }

    fn interval(&self) -> Duration {
        let per_packet = Duration::from_secs_f64(1.0 / self.report_hz.max(1.0));
        let line = Duration::from_secs_f64(90.0 / f64::from(self.baud.max(300)));
        per_packet.max(line)
    }
}

/// The pen samples the model plays for `config`, in order: hover in, the strokes, hover out, and a
/// last out-of-proximity sample.
pub fn script(config: &Isdv4ModelConfig) -> Vec<PenSample> {
    let caps = config.caps;
    let hover = |x: u16, y: u16| PenSample {
        proximity: true,
        x,
        y,
        ..PenSample::default()
    };
    let down = |x: u16, y: u16, p: u16| PenSample {
        tip: true,
        pressure: p,
        ..hover(x, y)
    };
    let step_ms = 1000.0 / config.report_hz.max(1.0);
    let mut out = Vec::new();
    match &config.handwriting {
        Handwriting::Signature { seed, name } => {
            let trace = signature_trace(*seed, name);
            // Keep the synthetic pad's aspect ratio, centred on the sensor.
            let scale = (f64::from(caps.max_x) / f64::from(PAD_EXTENT_X))
                .min(f64::from(caps.max_y) / f64::from(PAD_EXTENT_Y));
            let ox = (f64::from(caps.max_x) - scale * f64::from(PAD_EXTENT_X)) / 2.0;
            let oy = (f64::from(caps.max_y) - scale * f64::from(PAD_EXTENT_Y)) / 2.0;
            let last_ms = trace.points.last().map_or(0, |p| p.t_ms);
            let mut k = 0.0;
            while k * step_ms <= f64::from(last_ms) {
                let t = k * step_ms;
                let p = trace
                    .points
                    .iter()
                    .rev()
                    .find(|p| f64::from(p.t_ms) <= t)
                    .expect("trace starts at 0 ms");
                let x = (ox + scale * f64::from(p.x)).round() as u16;
                let y = (oy + scale * f64::from(p.y)).round() as u16;
                let pressure = (u64::from(p.pressure) * u64::from(caps.max_pressure)
                    / u64::from(PAD_MAX_PRESSURE)) as u16;
                out.push(if p.touching {
                    down(x, y, pressure.max(1))
                } else {
                    hover(x, y)
                });
                k += 1.0;
            }
        }
        Handwriting::Line => {
            let n = (800.0 / step_ms).round() as usize;
            let (x0, x1) = (f64::from(caps.max_x) * 0.2, f64::from(caps.max_x) * 0.8);
            let y = f64::from(caps.max_y) * 0.6;
            for i in 0..n {
                let t = i as f64 / (n - 1) as f64;
                let p = (std::f64::consts::PI * t).sin().max(0.15) * f64::from(caps.max_pressure);
                out.push(down(
                    (x0 + (x1 - x0) * t).round() as u16,
                    (y + 40.0 * (6.0 * t).sin()).round() as u16,
                    (p * 0.8).round() as u16,
                ));
            }
        }
        Handwriting::CornerTaps => {
            let (ax, ay) = (caps.max_x / 20, caps.max_y / 20);
            let (bx, by) = (caps.max_x - ax, caps.max_y - ay);
            let taps = (100.0 / step_ms).round().max(2.0) as usize;
            let pause = (400.0 / step_ms).round() as usize;
            out.extend((0..taps).map(|_| down(ax, ay, caps.max_pressure / 2)));
            out.extend((0..pause).map(|i| {
                let t = i as f64 / pause as f64;
                let x = f64::from(ax) + f64::from(bx - ax) * t;
                let y = f64::from(ay) + f64::from(by - ay) * t;
                hover(x as u16, y as u16)
            }));
            out.extend((0..taps).map(|_| down(bx, by, caps.max_pressure / 2)));
        }
    }
    // The pen approaches before it touches and leaves after it lifts.
    if let (Some(&first), Some(&last)) = (out.first(), out.last()) {
        let mut lead: Vec<PenSample> = (0..5).map(|_| hover(first.x, first.y)).collect();
        lead.append(&mut out);
        out = lead;
        out.extend((0..5).map(|_| hover(last.x, last.y)));
        out.push(PenSample {
            x: last.x,
            y: last.y,
            ..PenSample::default()
        });
    }
    out
}

/// Indices into [`script`] of the packets a [`Isdv4Fault::Truncate`] fault cuts (lost to the host).
pub fn truncated_indices(config: &Isdv4ModelConfig, len: usize) -> Vec<usize> {
    let every = config.faults.iter().find_map(|f| match f {
        Isdv4Fault::Truncate { every } => Some((*every).max(1)),
        _ => None,
    });
    match every {
        Some(n) => (0..len).filter(|i| (i + 1) % n == 0).collect(),
        None => Vec::new(),
    }
}

/// A running model; stops (and closes its end of the link) when dropped.
#[derive(Debug)]
pub struct Isdv4Model {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Isdv4Model {
    /// Runs the model on `link` on a new thread.
    pub fn spawn<L: SerialLink + 'static>(link: L, config: Isdv4ModelConfig) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let (s, c) = (stop.clone(), sent.clone());
        let thread = std::thread::Builder::new()
            .name("isdv4-model".into())
            .spawn(move || Runner::new(link, config, s, c).run())
            .expect("spawning the model thread");
        Isdv4Model {
            stop,
            sent,
            thread: Some(thread),
        }
    }

    /// Runs the model on the master of a new pty pair; returns it and the slave's path for the
    /// driver. The model survives the slave being closed and reopened.
    pub fn on_pty(mut config: Isdv4ModelConfig) -> Result<(Self, PathBuf), LinkError> {
        config.survive_hangup = true;
        let (link, path) = pty_pair()?;
        Ok((Isdv4Model::spawn(link, config), path))
    }

    /// Pen packets written so far (whole or cut).
    pub fn packets_sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Whether the model thread has ended (after an unplug, or its link closed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
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

impl Drop for Isdv4Model {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Runner<L> {
    link: L,
    config: Isdv4ModelConfig,
    script: Vec<PenSample>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    /// Next script index and when it is due, while playing.
    playing: Option<(usize, Instant)>,
}

/// What the runner should do after a link error.
enum Next {
    Continue,
    Exit,
}

impl<L: SerialLink> Runner<L> {
    fn new(
        link: L,
        config: Isdv4ModelConfig,
        stop: Arc<AtomicBool>,
        sent: Arc<AtomicUsize>,
    ) -> Self {
        let script = script(&config);
        Runner {
            link,
            config,
            script,
            stop,
            sent,
            playing: None,
        }
    }

    fn run(mut self) {
        let mut buf = [0u8; 64];
        while !self.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            let wake = match self.playing {
                Some((_, due)) if due > now => due.min(now + Duration::from_millis(20)),
                Some(_) => now + Duration::from_millis(1),
                None => now + Duration::from_millis(20),
            };
            match self.link.read_some(&mut buf, wake) {
                Ok(n) => {
                    for &cmd in &buf[..n] {
                        if let Next::Exit = self.command(cmd) {
                            return;
                        }
                    }
                }
                Err(LinkError::Timeout(_)) => {}
                Err(e) => {
                    if let Next::Exit = self.hangup(e) {
                        return;
                    }
                }
            }
            if let Next::Exit = self.play() {
                return;
            }
        }
    }

    fn hangup(&mut self, e: LinkError) -> Next {
        if self.config.survive_hangup {
            // A pty master reads EIO while no one has the slave open: wait for the next user.
            std::thread::sleep(Duration::from_millis(20));
            Next::Continue
        } else {
            tracing::debug!(error = %e, "isdv4 model: link closed");
            Next::Exit
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Next {
        match self.link.write_all(bytes) {
            Ok(()) => Next::Continue,
            // Nobody reading: the bytes are lost, as on a real line.
            Err(LinkError::Io(_)) | Err(LinkError::Timeout(_)) => Next::Continue,
            Err(e) => self.hangup(e),
        }
    }

    fn command(&mut self, cmd: u8) -> Next {
        let no_reply = self.config.faults.contains(&Isdv4Fault::NoReply);
        match cmd {
            CMD_STOP => {
                self.playing = None;
                Next::Continue
            }
            CMD_START => {
                self.playing = Some((0, Instant::now() + self.config.lead_in));
                Next::Continue
            }
            CMD_QUERY if !no_reply => self.write(&self.config.caps.encode_reply()),
            CMD_TOUCH_QUERY if !no_reply => {
                let reply = self.config.touch.unwrap_or_default().encode_reply();
                self.write(&reply)
            }
            _ => Next::Continue,
        }
    }

    /// Writes the packets that are due.
    fn play(&mut self) -> Next {
        let burst = if self.config.fast { 32 } else { 1 };
        for _ in 0..burst {
            let Some((i, due)) = self.playing else {
                return Next::Continue;
            };
            if Instant::now() < due {
                return Next::Continue;
            }
            if i >= self.script.len() {
                self.playing = self
                    .config
                    .repeat_after
                    .map(|pause| (0, Instant::now() + pause));
                return Next::Continue;
            }
            if let Next::Exit = self.send_packet(i) {
                return Next::Exit;
            }
            let next_due = if self.config.fast {
                due
            } else {
                due + self.config.interval()
            };
            self.playing = Some((i + 1, next_due));
        }
        Next::Continue
    }

    fn send_packet(&mut self, i: usize) -> Next {
        let sent = self.sent.fetch_add(1, Ordering::SeqCst);
        let mut bytes = Vec::with_capacity(16);
        let mut cut = false;
        for fault in &self.config.faults {
            match *fault {
                Isdv4Fault::Unplug { after } if sent >= after => return Next::Exit,
                Isdv4Fault::Garbage { every } if (i + 1).is_multiple_of(every.max(1)) => {
                    bytes.extend_from_slice(&GARBAGE)
                }
                Isdv4Fault::Truncate { every } if (i + 1).is_multiple_of(every.max(1)) => {
                    cut = true
                }
                _ => {}
            }
        }
        let packet = self.script[i].encode();
        bytes.extend_from_slice(if cut { &packet[..4] } else { &packet });
        self.write(&bytes)
    }
}

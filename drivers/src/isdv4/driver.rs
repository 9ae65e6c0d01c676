//! The ISDV4 driver: the kernel's init sequence (stop, pen query, optional touch query, start) and
//! signature sessions that start at the first pen-down and end after a pen-up idle time, or that
//! wait for the two corner taps of a calibration.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::calibration::{PadCalibration, SIGNING_AREA};
use super::error::Isdv4Error;
use super::protocol::{
    DecodeStats, Decoder, Frame, PenCaps, PenSample, TouchCaps, CMD_QUERY, CMD_START, CMD_STOP,
    CMD_TOUCH_QUERY, CONTROL_LEN,
};
use crate::calibration::{DeviceCalibration, Prompt};
use crate::transport::{LinkError, PortLink, SerialLink};
use crate::SignaturePad;
use crate::{Calibration, CaptureControl, Device, DeviceError, DeviceInfo, PenPoint, PenTrace};

/// How often a waiting session looks at the cancel and finish flags.
const POLL: Duration = Duration::from_millis(20);

/// Timings and options of the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isdv4Config {
    /// 19 200 (WACf000–f007, FUJ*) or 38 400 (WACf008 and later).
    pub baud: u32,
    /// How long to wait for a query reply (the kernel waits 1 s).
    pub query_timeout: Duration,
    /// Pause after "stop" before querying (the kernel waits 250 ms).
    pub settle: Duration,
    /// Also send the touch query (pads with a finger sensor); no reply is not an error.
    pub touch_query: bool,
    /// A signature ends when the pen has been up this long.
    pub idle_end: Duration,
    /// A signature that has not ended after this long fails (a pen left lying on the pad).
    pub max_session: Duration,
}

impl Default for Isdv4Config {
    fn default() -> Self {
        Isdv4Config {
            baud: 19_200,
            query_timeout: Duration::from_secs(1),
            settle: Duration::from_millis(250),
            touch_query: false,
            idle_end: Duration::from_millis(1_500),
            max_session: Duration::from_secs(60),
        }
    }
}

/// An opened ISDV4 pen digitizer.
pub struct Isdv4<L: SerialLink> {
    link: L,
    port: String,
    config: Isdv4Config,
    info: DeviceInfo,
    caps: PenCaps,
    touch: Option<TouchCaps>,
    decoder: Decoder,
    calibration: Option<PadCalibration>,
    finish: Arc<AtomicBool>,
}

impl<L: SerialLink> std::fmt::Debug for Isdv4<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Isdv4")
            .field("port", &self.port)
            .field("caps", &self.caps)
            .field("touch", &self.touch)
            .finish_non_exhaustive()
    }
}

impl Isdv4<PortLink> {
    /// Opens the tty at `path` and initialises the pad.
    pub fn open(path: &Path, config: Isdv4Config) -> Result<Self, Isdv4Error> {
        let port = path.display().to_string();
        let link = PortLink::open(path, config.baud)
            .map_err(|e| Isdv4Error::link(port, "opening the port", e))?;
        Isdv4::new(link, config)
    }
}

/// What a session is waiting for.
#[derive(Debug, Clone, Copy)]
enum Goal {
    Signature,
    Taps(usize),
}

impl<L: SerialLink> Isdv4<L> {
    /// Initialises the pad on `link`: stop, pen query, optional touch query, start.
    pub fn new(mut link: L, config: Isdv4Config) -> Result<Self, Isdv4Error> {
        let port = link.describe();
        let fail = |during, e| Isdv4Error::link(port.clone(), during, e);
        link.set_baud(config.baud)
            .map_err(|e| fail("setting the baud rate", e))?;
        link.write_all(&[CMD_STOP])
            .map_err(|e| fail("stopping the pad", e))?;
        std::thread::sleep(config.settle);
        link.clear_input()
            .map_err(|e| fail("clearing the line", e))?;
        let mut pad = Isdv4 {
            link,
            port: port.clone(),
            info: DeviceInfo {
                driver: "isdv4".into(),
                model: "Wacom ISDV4 serial pen digitizer".into(),
                serial: None,
                firmware: None,
            },
            caps: PenCaps {
                max_x: 0,
                max_y: 0,
                max_pressure: 0,
                max_tilt_x: 0,
                max_tilt_y: 0,
                firmware: 0,
            },
            touch: None,
            decoder: Decoder::new(),
            calibration: None,
            finish: Arc::default(),
            config,
        };
        let reply = pad
            .query(CMD_QUERY, "pen query ('*')")?
            .ok_or_else(|| pad.no_reply("pen query ('*')"))?;
        let caps = PenCaps::parse_reply(&reply).map_err(|source| Isdv4Error::BadReply {
            port: port.clone(),
            query: "pen query ('*')",
            source,
        })?;
        if caps.max_x == 0 || caps.max_y == 0 || caps.max_pressure == 0 {
            return Err(Isdv4Error::BadCaps {
                port,
                what: format!(
                    "x 0…{}, y 0…{}, pressure 0…{}",
                    caps.max_x, caps.max_y, caps.max_pressure
                ),
            });
        }
        pad.caps = caps;
        pad.info.firmware = Some(caps.firmware_string());
        if pad.config.touch_query {
            if let Some(reply) = pad.query(CMD_TOUCH_QUERY, "touch query ('%')")? {
                let touch =
                    TouchCaps::parse_reply(&reply).map_err(|source| Isdv4Error::BadReply {
                        port: pad.port.clone(),
                        query: "touch query ('%')",
                        source,
                    })?;
                if touch.has_touch() {
                    pad.decoder.set_touch_len(touch.packet_len());
                    pad.touch = Some(touch);
                }
            }
        }
        pad.send(CMD_START, "starting the pad")?;
        tracing::debug!(port = %pad.port, caps = ?pad.caps, touch = ?pad.touch, "isdv4 pad ready");
        Ok(pad)
    }

    /// The ranges and firmware the pen query reported.
    pub fn caps(&self) -> PenCaps {
        self.caps
    }

    /// The touch sensor, if the touch query was sent and described one.
    pub fn touch(&self) -> Option<TouchCaps> {
        self.touch
    }

    /// Garbage and truncated packets the decoder has thrown away since opening.
    pub fn decode_stats(&self) -> DecodeStats {
        self.decoder.stats()
    }

    /// A flag that, once set, ends the running session and returns what was signed (the operator's
    /// "done" button). Cancelling instead discards it.
    pub fn finish_handle(&self) -> Arc<AtomicBool> {
        self.finish.clone()
    }

    /// Uses `cal` for later signatures; refuses one whose values and id disagree.
    pub fn set_calibration(&mut self, cal: Option<PadCalibration>) -> Result<(), Isdv4Error> {
        if let Some(c) = &cal {
            c.validate()?;
        }
        self.calibration = cal;
        Ok(())
    }

    /// The calibration in force.
    pub fn calibration(&self) -> Option<&PadCalibration> {
        self.calibration.as_ref()
    }

    fn no_reply(&self, query: &'static str) -> Isdv4Error {
        Isdv4Error::NoReply {
            port: self.port.clone(),
            query,
            baud: self.config.baud,
            waited: self.config.query_timeout,
        }
    }

    fn send(&mut self, cmd: u8, during: &'static str) -> Result<(), Isdv4Error> {
        self.link
            .write_all(&[cmd])
            .map_err(|e| Isdv4Error::link(self.port.clone(), during, e))
    }

    /// Sends a query and waits for a control packet; `None` if none came in time.
    fn query(
        &mut self,
        cmd: u8,
        what: &'static str,
    ) -> Result<Option<[u8; CONTROL_LEN]>, Isdv4Error> {
        self.send(cmd, what)?;
        let deadline = Instant::now() + self.config.query_timeout;
        while Instant::now() < deadline {
            for frame in self.read_frames(deadline, what)? {
                if let Frame::Control { bytes, .. } = frame {
                    return Ok(Some(bytes));
                }
            }
        }
        Ok(None)
    }

    /// Reads what arrives by `deadline` and returns the frames it completes (none on a timeout).
    fn read_frames(
        &mut self,
        deadline: Instant,
        during: &'static str,
    ) -> Result<Vec<Frame>, Isdv4Error> {
        let mut buf = [0u8; 512];
        match self.link.read_some(&mut buf, deadline) {
            Ok(n) => Ok(self.decoder.feed(&buf[..n])),
            Err(LinkError::Timeout(_)) => Ok(Vec::new()),
            Err(e) => Err(Isdv4Error::link(self.port.clone(), during, e)),
        }
    }

    /// Stops sampling, drops stale input, starts sampling again.
    fn restart(&mut self, during: &'static str) -> Result<(), Isdv4Error> {
        self.send(CMD_STOP, during)?;
        std::thread::sleep(self.config.settle.min(Duration::from_millis(50)));
        self.link
            .clear_input()
            .map_err(|e| Isdv4Error::link(self.port.clone(), during, e))?;
        self.decoder.reset();
        self.send(CMD_START, during)
    }

    /// Records one signature in device units: starts at the first pen-down, ends when the pen has
    /// been up for `idle_end`, or when the finish flag is set. `control.timeout` bounds the wait for
    /// the first pen-down; `t_ms` counts from it, by the host's clock at arrival.
    pub fn record(&mut self, control: &CaptureControl) -> Result<PenTrace, Isdv4Error> {
        self.record_live(control, &mut |_, _| {})
    }

    /// [`Isdv4::record`], telling `live` each sample as it is read (device units, the pad's
    /// extent beside it).
    pub fn record_live(
        &mut self,
        control: &CaptureControl,
        live: &mut dyn FnMut(&PenPoint, (u32, u32)),
    ) -> Result<PenTrace, Isdv4Error> {
        let points = self.session(control, Goal::Signature, live)?;
        Ok(PenTrace {
            extent_x: u32::from(self.caps.max_x),
            extent_y: u32::from(self.caps.max_y),
            max_pressure: u32::from(self.caps.max_pressure),
            points,
        })
    }

    /// Asks the operator for two corner taps (top-left, then bottom-right of the signing area) and
    /// returns the calibration mapping them onto an area of `area` units. Does not install it.
    pub fn calibrate(
        &mut self,
        control: &CaptureControl,
        area: (u32, u32),
    ) -> Result<PadCalibration, Isdv4Error> {
        let taps = self.session(control, Goal::Taps(2), &mut |_, _| {})?;
        PadCalibration::from_taps((taps[0].x, taps[0].y), (taps[1].x, taps[1].y), area)
    }

    fn session(
        &mut self,
        control: &CaptureControl,
        goal: Goal,
        live: &mut dyn FnMut(&PenPoint, (u32, u32)),
    ) -> Result<Vec<PenPoint>, Isdv4Error> {
        let extent = (u32::from(self.caps.max_x), u32::from(self.caps.max_y));
        self.restart("starting a signature")?;
        self.finish.store(false, Ordering::SeqCst);
        let begun = Instant::now();
        let first_deadline = begun + control.timeout;
        let mut points: Vec<PenPoint> = Vec::new();
        let mut taps: Vec<PenPoint> = Vec::new();
        let mut t0: Option<Instant> = None;
        let mut last_down = begun;
        let mut down = false;
        loop {
            if control.cancel.load(Ordering::SeqCst) {
                return Err(Isdv4Error::Cancelled);
            }
            let now = Instant::now();
            let waiting = match goal {
                Goal::Signature => t0.is_none(),
                Goal::Taps(n) if taps.len() >= n && !down => return Ok(taps),
                Goal::Taps(_) => true,
            };
            if waiting {
                if matches!(goal, Goal::Signature) && self.finish.load(Ordering::SeqCst) {
                    return Err(Isdv4Error::NoSignature(now - begun));
                }
                if now >= first_deadline {
                    return Err(match goal {
                        Goal::Signature => Isdv4Error::NoSignature(control.timeout),
                        Goal::Taps(_) => Isdv4Error::Calibration(format!(
                            "no tap on the {} corner within {:?}",
                            if taps.is_empty() {
                                "top-left"
                            } else {
                                "bottom-right"
                            },
                            control.timeout
                        )),
                    });
                }
            } else {
                let idle = !down && now - last_down >= self.config.idle_end;
                if idle || self.finish.load(Ordering::SeqCst) {
                    break;
                }
                if t0.is_some_and(|t| now - t > self.config.max_session) {
                    return Err(Isdv4Error::SessionTooLong(self.config.max_session));
                }
            }
            let frames = self.read_frames(now + POLL, "recording a signature")?;
            let at = Instant::now();
            for frame in frames {
                let Frame::Pen(s) = frame else { continue };
                if t0.is_none() {
                    if !s.tip {
                        continue;
                    }
                    t0 = Some(at);
                }
                let point = to_point(&s, at - t0.unwrap_or(at));
                if s.tip && !down {
                    taps.push(point);
                }
                if s.tip {
                    last_down = at;
                }
                down = s.tip;
                live(&point, extent);
                points.push(point);
            }
        }
        // Keep the lift that ends the last stroke, not the hovering after it.
        if let Some(last) = points.iter().rposition(|p| p.touching) {
            points.truncate((last + 2).min(points.len()));
        }
        Ok(points)
    }
}

fn to_point(s: &PenSample, since: Duration) -> PenPoint {
    PenPoint {
        x: u32::from(s.x),
        y: u32::from(s.y),
        pressure: if s.tip { u32::from(s.pressure) } else { 0 },
        t_ms: u32::try_from(since.as_millis()).unwrap_or(u32::MAX),
        touching: s.tip,
    }
}

impl<L: SerialLink> Drop for Isdv4<L> {
    fn drop(&mut self) {
        // Leave the pad idle; a gone pad cannot be told anything, which is fine.
        let _ = self.link.write_all(&[CMD_STOP]);
    }
}

impl<L: SerialLink> Device for Isdv4<L> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
}

impl<L: SerialLink> SignaturePad for Isdv4<L> {
    /// Records a signature; with a calibration in force, in signing-area units.
    fn record_signature(&mut self, control: &CaptureControl) -> Result<PenTrace, DeviceError> {
        self.record_signature_live(control, &mut |_, _| {})
    }

    /// Each sample goes to `live` as it is read, uncalibrated (device units); the trace handed
    /// over at the end is calibrated as [`SignaturePad::record_signature`]'s is.
    fn record_signature_live(
        &mut self,
        control: &CaptureControl,
        live: &mut dyn FnMut(&PenPoint, (u32, u32)),
    ) -> Result<PenTrace, DeviceError> {
        let trace = self.record_live(control, live)?;
        Ok(match &self.calibration {
            Some(cal) => cal.apply(&trace),
            None => trace,
        })
    }

    /// Takes a [`PadCalibration`] as `jemput calibrate` recorded it.
    fn apply_calibration(&mut self, data: &serde_json::Value) -> Result<String, DeviceError> {
        let cal: PadCalibration = serde_json::from_value(data.clone()).map_err(|e| {
            DeviceError::Protocol(format!("the pad calibration record is unreadable: {e}"))
        })?;
        let id = cal.id.clone();
        self.set_calibration(Some(cal))
            .map_err(|e| DeviceError::Protocol(e.to_string()))?;
        Ok(id)
    }

    /// Asks for the two corner taps and maps them onto the [`SIGNING_AREA`]: the record's data
    /// is the [`PadCalibration`], under its own id. Does not apply it.
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        prompt(Prompt::TapCorners);
        let cal =
            Isdv4::calibrate(self, control, SIGNING_AREA).map_err(DeviceError::calibration)?;
        let data = serde_json::to_value(&cal).map_err(DeviceError::calibration)?;
        Ok(DeviceCalibration {
            data,
            id: Some(cal.id),
        })
    }
}

impl<L: SerialLink> Calibration for Isdv4<L> {
    fn calibration_id(&self) -> Option<String> {
        self.calibration.as_ref().map(|c| c.id.clone())
    }
}

//! The ISDV4 / W8001 wire codec: host commands, the 9-byte pen packet, the 11-byte query replies,
//! and an incremental decoder that finds packet boundaries by the sync bit. Pure: bytes in, frames out;
//! shared by the driver and the device model.
//!
//! Layout (docs/devices.md §4): the first byte of every packet has bit 7 set and no later byte
//! does. In the first byte, bit 6 marks a control packet (a query reply, 11 bytes), bit 4 a touch
//! packet (5, 7 or 13 bytes by sensor), otherwise it is a pen packet (9 bytes):
//!
//! ```text
//! d0  1 · 0 · prox · 0 · 0 · eraser · side · tip
//! d1  x[15:9]     d2  x[8:2]     d3  y[15:9]     d4  y[8:2]
//! d5  pressure[6:0]
//! d6  0 · x[1:0] · y[1:0] · pressure[9:7]
//! d7  tilt x      d8  tilt y
//! ```

use super::error::CodecError;

/// Host command: stop sampling.
pub const CMD_STOP: u8 = b'0';
/// Host command: start sampling.
pub const CMD_START: u8 = b'1';
/// Host command: pen query (answered by an 11-byte control packet, data id 0).
pub const CMD_QUERY: u8 = b'*';
/// Host command: touch query (answered by an 11-byte control packet, data id 1, on touch models).
pub const CMD_TOUCH_QUERY: u8 = b'%';
/// Host command: touch panel reset.
pub const CMD_TOUCH_RESET: u8 = b'&';

/// Length of a pen packet.
pub const PEN_LEN: usize = 9;
/// Length of a control packet (query reply).
pub const CONTROL_LEN: usize = 11;

/// Bit 7 of the first byte of every packet.
pub const SYNC_BIT: u8 = 0x80;
/// Bit 6 of the first byte: a control packet (query reply).
pub const CONTROL_BIT: u8 = 0x40;
/// Bit 4 of the first byte: a touch packet.
pub const TOUCH_BIT: u8 = 0x10;
const PROXIMITY_BIT: u8 = 0x20;
const ERASER_BIT: u8 = 0x04;
const SIDE_BIT: u8 = 0x02;
const TIP_BIT: u8 = 0x01;

/// Largest 10-bit pressure.
pub const PRESSURE_MAX: u16 = 0x3FF;

/// One pen report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PenSample {
    /// The pen is near enough for the sensor to see it.
    pub proximity: bool,
    /// The tip (or the eraser end) presses on the surface: pen down.
    pub tip: bool,
    /// The side switch is pressed.
    pub side: bool,
    /// The eraser end is used (side switch 2 on some pens).
    pub eraser: bool,
    pub x: u16,
    pub y: u16,
    /// 10 bits, 0 … 1023.
    pub pressure: u16,
    /// 7 bits each.
    pub tilt_x: u8,
    pub tilt_y: u8,
}

/// Writes x, y and a 10-bit third value into bytes 1–6 of `out` in the pen layout.
fn put_xyp(out: &mut [u8], x: u16, y: u16, p: u16) {
    out[1] = (x >> 9) as u8 & 0x7F;
    out[2] = (x >> 2) as u8 & 0x7F;
    out[3] = (y >> 9) as u8 & 0x7F;
    out[4] = (y >> 2) as u8 & 0x7F;
    out[5] = p as u8 & 0x7F;
    out[6] = ((x & 3) as u8) << 5 | ((y & 3) as u8) << 3 | (p >> 7) as u8 & 0x07;
}

/// Reads x, y and the 10-bit third value from bytes 1–6 in the pen layout.
fn get_xyp(d: &[u8]) -> (u16, u16, u16) {
    let b = |i: usize| u16::from(d[i] & 0x7F);
    let x = b(1) << 9 | b(2) << 2 | (b(6) >> 5) & 3;
    let y = b(3) << 9 | b(4) << 2 | (b(6) >> 3) & 3;
    let p = b(5) | (b(6) & 7) << 7;
    (x, y, p)
}

/// Checks the sync rule: bit 7 set on the first byte only.
fn check_sync(d: &[u8]) -> Result<(), CodecError> {
    if d[0] & SYNC_BIT == 0 {
        return Err(CodecError::NoSync(d[0]));
    }
    match d[1..].iter().position(|b| b & SYNC_BIT != 0) {
        Some(i) => Err(CodecError::SyncInside { at: i + 1 }),
        None => Ok(()),
    }
}

impl PenSample {
    /// The 9 bytes a pad sends for this sample. Pressure is clamped to 10 bits, tilt to 7.
    pub fn encode(&self) -> [u8; PEN_LEN] {
        let mut out = [0u8; PEN_LEN];
        out[0] = SYNC_BIT
            | if self.proximity { PROXIMITY_BIT } else { 0 }
            | if self.eraser { ERASER_BIT } else { 0 }
            | if self.side { SIDE_BIT } else { 0 }
            | if self.tip { TIP_BIT } else { 0 };
        put_xyp(&mut out, self.x, self.y, self.pressure.min(PRESSURE_MAX));
        out[7] = self.tilt_x & 0x7F;
        out[8] = self.tilt_y & 0x7F;
        out
    }

    /// Decodes a pen packet; rejects a control or touch packet and broken sync bits.
    pub fn decode(d: &[u8; PEN_LEN]) -> Result<Self, CodecError> {
        check_sync(d)?;
        if d[0] & (CONTROL_BIT | TOUCH_BIT) != 0 {
            return Err(CodecError::NotPen(d[0]));
        }
        let (x, y, pressure) = get_xyp(d);
        Ok(PenSample {
            proximity: d[0] & PROXIMITY_BIT != 0,
            tip: d[0] & TIP_BIT != 0,
            side: d[0] & SIDE_BIT != 0,
            eraser: d[0] & ERASER_BIT != 0,
            x,
            y,
            pressure,
            tilt_x: d[7],
            tilt_y: d[8],
        })
    }
}

/// What the pen query (`*`) reports: the sensor's ranges and firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PenCaps {
    pub max_x: u16,
    pub max_y: u16,
    pub max_pressure: u16,
    pub max_tilt_x: u8,
    pub max_tilt_y: u8,
    /// 14 bits: `d9 << 7 | d10`.
    pub firmware: u16,
}

impl PenCaps {
    /// The firmware version as pads' tools print it (hexadecimal).
    pub fn firmware_string(&self) -> String {
        format!("0x{:04x}", self.firmware)
    }

    /// The 11-byte control packet answering a pen query (data id 0).
    pub fn encode_reply(&self) -> [u8; CONTROL_LEN] {
        let mut out = [0u8; CONTROL_LEN];
        out[0] = SYNC_BIT | CONTROL_BIT;
        put_xyp(
            &mut out,
            self.max_x,
            self.max_y,
            self.max_pressure.min(PRESSURE_MAX),
        );
        // Tilt maxima are swapped in the reply: y first.
        out[7] = self.max_tilt_y & 0x7F;
        out[8] = self.max_tilt_x & 0x7F;
        out[9] = (self.firmware >> 7) as u8 & 0x7F;
        out[10] = self.firmware as u8 & 0x7F;
        out
    }

    /// Parses a pen query reply.
    pub fn parse_reply(d: &[u8; CONTROL_LEN]) -> Result<Self, CodecError> {
        check_sync(d)?;
        if d[0] & CONTROL_BIT == 0 {
            return Err(CodecError::NotControl(d[0]));
        }
        let (max_x, max_y, max_pressure) = get_xyp(d);
        Ok(PenCaps {
            max_x,
            max_y,
            max_pressure,
            max_tilt_y: d[7],
            max_tilt_x: d[8],
            firmware: u16::from(d[9]) << 7 | u16::from(d[10]),
        })
    }
}

/// What the touch query (`%`) reports. `resolution == 0` means the device has no touch sensor (some
/// pen-only models answer the query with an empty reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TouchCaps {
    pub resolution: u8,
    pub sensor_id: u8,
    pub max_x: u16,
    pub max_y: u16,
    pub capacity_resolution: u8,
    pub firmware: u16,
}

impl TouchCaps {
    /// Whether the reply describes a touch sensor at all.
    pub fn has_touch(&self) -> bool {
        self.resolution != 0
    }

    /// Length of this sensor's touch packets: 5, 7 or 13 bytes.
    pub fn packet_len(&self) -> usize {
        match self.sensor_id {
            1 | 3 | 4 => 7,
            5 => 13,
            _ => 5,
        }
    }

    /// The 11-byte control packet answering a touch query (data id 1).
    pub fn encode_reply(&self) -> [u8; CONTROL_LEN] {
        let mut out = [0u8; CONTROL_LEN];
        out[0] = SYNC_BIT | CONTROL_BIT | 0x01;
        out[1] = self.resolution & 0x7F;
        out[2] = ((self.max_x & 3) as u8) << 5 | ((self.max_y & 3) as u8) << 3 | self.sensor_id & 7;
        out[3] = (self.max_x >> 9) as u8 & 0x7F;
        out[4] = (self.max_x >> 2) as u8 & 0x7F;
        out[5] = (self.max_y >> 9) as u8 & 0x7F;
        out[6] = (self.max_y >> 2) as u8 & 0x7F;
        out[7] = self.capacity_resolution & 0x7F;
        out[9] = (self.firmware >> 7) as u8 & 0x7F;
        out[10] = self.firmware as u8 & 0x7F;
        out
    }

    /// Parses a touch query reply.
    pub fn parse_reply(d: &[u8; CONTROL_LEN]) -> Result<Self, CodecError> {
        check_sync(d)?;
        if d[0] & CONTROL_BIT == 0 {
            return Err(CodecError::NotControl(d[0]));
        }
        let b = |i: usize| u16::from(d[i]);
        Ok(TouchCaps {
            resolution: d[1],
            sensor_id: d[2] & 7,
            max_x: b(3) << 9 | b(4) << 2 | (b(2) >> 5) & 3,
            max_y: b(5) << 9 | b(6) << 2 | (b(2) >> 3) & 3,
            capacity_resolution: d[7],
            firmware: b(9) << 7 | b(10),
        })
    }
}

/// A complete packet found by the [`Decoder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Pen(PenSample),
    /// A query reply; parse it with [`PenCaps::parse_reply`] or [`TouchCaps::parse_reply`] according
    /// to the query sent. `data_id` is 0 for the pen query, 1 for the touch query.
    Control {
        data_id: u8,
        bytes: [u8; CONTROL_LEN],
    },
    /// A finger touch packet (not used for signatures, but framed so it cannot desynchronise us).
    Touch(Vec<u8>),
}

/// Counters of what the decoder had to throw away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeStats {
    /// Bytes outside any packet (no sync bit where a packet should start).
    pub skipped_bytes: u64,
    /// Packets cut short by the next sync byte.
    pub truncated: u64,
}

/// Incremental packet framer: feed it bytes as they come, get whole frames. After garbage or a
/// truncated packet it resynchronises on the next byte with the sync bit.
#[derive(Debug, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    want: usize,
    touch_len: usize,
    stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder expecting 5-byte touch packets (the kernel's default before a touch query).
    pub fn new() -> Self {
        Decoder {
            buf: Vec::with_capacity(16),
            want: 0,
            touch_len: 5,
            stats: DecodeStats::default(),
        }
    }

    /// Sets the touch packet length learnt from the touch query.
    pub fn set_touch_len(&mut self, len: usize) {
        self.touch_len = len;
    }

    /// What has been thrown away so far.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Forgets a partial packet (after clearing the line).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.want = 0;
    }

    fn length_for(&self, first: u8) -> usize {
        if first & CONTROL_BIT != 0 {
            CONTROL_LEN
        } else if first & TOUCH_BIT != 0 {
            self.touch_len
        } else {
            PEN_LEN
        }
    }

    /// Takes one byte; returns a frame when it completes one.
    pub fn push(&mut self, byte: u8) -> Option<Frame> {
        if byte & SYNC_BIT != 0 {
            if !self.buf.is_empty() {
                self.stats.truncated += 1;
            }
            self.buf.clear();
            self.want = self.length_for(byte);
        } else if self.buf.is_empty() {
            self.stats.skipped_bytes += 1;
            return None;
        }
        self.buf.push(byte);
        if self.buf.len() < self.want {
            return None;
        }
        let frame = match self.buf.len() {
            CONTROL_LEN if self.buf[0] & CONTROL_BIT != 0 => {
                let mut bytes = [0u8; CONTROL_LEN];
                bytes.copy_from_slice(&self.buf);
                Frame::Control {
                    data_id: self.buf[0] & 0x3F,
                    bytes,
                }
            }
            PEN_LEN if self.buf[0] & (CONTROL_BIT | TOUCH_BIT) == 0 => {
                let mut bytes = [0u8; PEN_LEN];
                bytes.copy_from_slice(&self.buf);
                Frame::Pen(PenSample::decode(&bytes).expect("framed by the sync rule"))
            }
            _ => Frame::Touch(self.buf.clone()),
        };
        self.buf.clear();
        Some(frame)
    }

    /// Takes a run of bytes; returns the frames it completes, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Frame> {
        bytes.iter().filter_map(|&b| self.push(b)).collect()
    }
}

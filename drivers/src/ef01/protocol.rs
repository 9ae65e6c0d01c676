//! The EF01 wire format, pure: frames and their checksum, an incremental decoder that resynchronises
//! after garbage, instruction and confirmation codes, the ReadSysPara block, and the 4-bit image
//! packing. Bytes in, frames out; no I/O. Shared by the driver and the device model.
//!
//! Frame (docs/devices.md §1.1): `EF 01` · address u32 · PID u8 · LEN u16 · payload (LEN − 2 bytes) ·
//! SUM u16, where SUM = (PID + LEN_hi + LEN_lo + Σ payload) mod 2¹⁶. Big-endian throughout.

use std::fmt;

/// The two bytes every frame starts with.
pub const HEADER: [u8; 2] = [0xEF, 0x01];
/// Address modules answer to out of the factory.
pub const DEFAULT_ADDRESS: u32 = 0xFFFF_FFFF;
/// Password modules carry out of the factory.
pub const DEFAULT_PASSWORD: u32 = 0;
/// Header, address, PID and LEN: the bytes before the payload.
pub const FRAME_HEAD: usize = 9;
/// Bytes a frame adds around its payload (head and checksum).
pub const FRAME_OVERHEAD: usize = FRAME_HEAD + 2;
/// The largest payload the decoder accepts; anything longer is taken for garbage. Data packets
/// carry at most 256 bytes; the margin covers vendor extensions.
pub const MAX_PAYLOAD: usize = 512;

/// Packet identifier: what kind of frame this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pid {
    /// Host → module: an instruction and its parameters.
    Command,
    /// A data packet with more to follow.
    Data,
    /// Module → host: a confirmation code and return values.
    Ack,
    /// The last data packet of a transfer.
    EndData,
}

impl Pid {
    pub fn code(self) -> u8 {
        match self {
            Pid::Command => 0x01,
            Pid::Data => 0x02,
            Pid::Ack => 0x07,
            Pid::EndData => 0x08,
        }
    }

    pub fn from_code(code: u8) -> Option<Pid> {
        match code {
            0x01 => Some(Pid::Command),
            0x02 => Some(Pid::Data),
            0x07 => Some(Pid::Ack),
            0x08 => Some(Pid::EndData),
            _ => None,
        }
    }
}

/// One EF01 frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub address: u32,
    pub pid: Pid,
    pub payload: Vec<u8>,
}

/// The checksum of a frame with this PID and payload.
pub fn checksum(pid: Pid, payload: &[u8]) -> u16 {
    let len = (payload.len() + 2) as u16;
    let [hi, lo] = len.to_be_bytes();
    payload.iter().fold(
        u16::from(pid.code()) + u16::from(hi) + u16::from(lo),
        |s, &b| s.wrapping_add(u16::from(b)),
    )
}

impl Frame {
    /// A command frame: the instruction code followed by its parameters.
    pub fn command(address: u32, instruction: Instruction, params: &[u8]) -> Frame {
        let mut payload = Vec::with_capacity(1 + params.len());
        payload.push(instruction.code());
        payload.extend_from_slice(params);
        Frame {
            address,
            pid: Pid::Command,
            payload,
        }
    }

    /// An acknowledgement: a confirmation code followed by return values.
    pub fn ack(address: u32, code: u8, values: &[u8]) -> Frame {
        let mut payload = Vec::with_capacity(1 + values.len());
        payload.push(code);
        payload.extend_from_slice(values);
        Frame {
            address,
            pid: Pid::Ack,
            payload,
        }
    }

    /// A data packet; `last` marks the end of the transfer.
    pub fn data(address: u32, last: bool, data: &[u8]) -> Frame {
        Frame {
            address,
            pid: if last { Pid::EndData } else { Pid::Data },
            payload: data.to_vec(),
        }
    }

    /// Bytes on the wire for this frame.
    pub fn wire_len(&self) -> usize {
        self.payload.len() + FRAME_OVERHEAD
    }

    /// The frame as it goes on the wire.
    ///
    /// # Panics
    /// If the payload is longer than 65 533 bytes (LEN would overflow); no EF01 frame comes close.
    pub fn encode(&self) -> Vec<u8> {
        let len = u16::try_from(self.payload.len() + 2).expect("EF01 payload fits LEN");
        let mut out = Vec::with_capacity(self.wire_len());
        out.extend_from_slice(&HEADER);
        out.extend_from_slice(&self.address.to_be_bytes());
        out.push(self.pid.code());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&checksum(self.pid, &self.payload).to_be_bytes());
        out
    }

    /// For an ack, the confirmation code (first payload byte).
    pub fn confirmation(&self) -> Option<u8> {
        (self.pid == Pid::Ack).then(|| self.payload.first().copied())?
    }
}

/// A frame that arrived whole but damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The checksum did not match; the frame's bytes were dropped.
    Checksum {
        pid: Pid,
        expected: u16,
        received: u16,
        payload_len: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Checksum {
                pid,
                expected,
                received,
                payload_len,
            } => write!(
                f,
                "checksum mismatch in a {pid:?} frame of {payload_len} payload bytes \
                 (computed 0x{expected:04X}, received 0x{received:04X})"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// Turns a byte stream into frames. Bytes that cannot start a frame (anything before `EF 01`, a
/// header with an unknown PID or an impossible length) are skipped and counted, so the decoder
/// finds the next frame after line noise, a power-on handshake byte or a half-received frame.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    buf: Vec<u8>,
    skipped: usize,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet part of a returned frame (a frame in progress).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// How many bytes were skipped as garbage since the last call; resets the count.
    pub fn take_skipped(&mut self) -> usize {
        std::mem::take(&mut self.skipped)
    }

    /// Forgets buffered bytes (after a transfer was abandoned).
    pub fn reset(&mut self) {
        self.buf.clear();
    }

    /// The next complete frame, a damaged frame, or `None` until more bytes arrive.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        loop {
            // Find a header; keep a lone trailing 0xEF, it may be the start of one.
            let start = self.buf.windows(2).position(|w| w == HEADER);
            let drop = match start {
                Some(i) => i,
                None if self.buf.last() == Some(&HEADER[0]) => self.buf.len() - 1,
                None => self.buf.len(),
            };
            if drop > 0 {
                self.skipped += drop;
                self.buf.drain(..drop);
            }
            if self.buf.len() < FRAME_HEAD {
                return None;
            }
            let pid = Pid::from_code(self.buf[6]);
            let len = usize::from(u16::from_be_bytes([self.buf[7], self.buf[8]]));
            let pid = match pid {
                Some(pid) if (2..=MAX_PAYLOAD + 2).contains(&len) => pid,
                _ => {
                    // Not a frame after all: skip this header byte and look again.
                    self.skipped += 1;
                    self.buf.remove(0);
                    continue;
                }
            };
            let total = FRAME_HEAD + len;
            if self.buf.len() < total {
                return None;
            }
            let address = u32::from_be_bytes([self.buf[2], self.buf[3], self.buf[4], self.buf[5]]);
            let payload = self.buf[FRAME_HEAD..total - 2].to_vec();
            let received = u16::from_be_bytes([self.buf[total - 2], self.buf[total - 1]]);
            self.buf.drain(..total);
            let expected = checksum(pid, &payload);
            if expected != received {
                return Some(Err(FrameError::Checksum {
                    pid,
                    expected,
                    received,
                    payload_len: payload.len(),
                }));
            }
            return Some(Ok(Frame {
                address,
                pid,
                payload,
            }));
        }
    }
}

macro_rules! instructions {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        /// Instruction codes (docs/devices.md §1.2).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Instruction { $($(#[$doc])* $name,)* }

        impl Instruction {
            pub fn code(self) -> u8 {
                match self { $(Instruction::$name => $code,)* }
            }
            pub fn from_code(code: u8) -> Option<Instruction> {
                match code { $($code => Some(Instruction::$name),)* _ => None }
            }
            /// The name the datasheets use, for messages.
            pub fn name(self) -> &'static str {
                match self { $(Instruction::$name => stringify!($name),)* }
            }
        }
    };
}

instructions! {
    /// Capture a finger into the image buffer.
    GenImg = 0x01,
    /// Extract features from the image buffer into char buffer 1 or 2.
    Img2Tz = 0x02,
    /// Compare char buffers 1 and 2.
    Match = 0x03,
    /// Search the library for char buffer N.
    Search = 0x04,
    /// Combine char buffers 1 and 2 into a template.
    RegModel = 0x05,
    /// Store a char buffer at a library page.
    Store = 0x06,
    /// Load a library page into a char buffer.
    LoadChar = 0x07,
    /// Send a char buffer to the host.
    UpChar = 0x08,
    /// Receive a char buffer from the host.
    DownChar = 0x09,
    /// Send the image buffer to the host.
    UpImage = 0x0A,
    /// Receive the image buffer from the host (unverified on older modules).
    DownImage = 0x0B,
    /// Delete N templates from a page on.
    DeletChar = 0x0C,
    /// Delete every template.
    Empty = 0x0D,
    /// Write a system parameter register.
    SetSysPara = 0x0E,
    /// Read the system parameter block.
    ReadSysPara = 0x0F,
    /// Change the password.
    SetPwd = 0x12,
    /// Verify the password.
    VfyPwd = 0x13,
    /// A random number from the module.
    GetRandomCode = 0x14,
    /// Change the module address.
    SetAdder = 0x15,
    /// Search, faster (same parameters).
    HighSpeedSearch = 0x1B,
    /// Number of stored templates.
    TempleteNum = 0x1D,
    /// Which pages of an index page are used.
    ReadIndexTable = 0x1F,
    /// Ring LED (R50x).
    AuraLedConfig = 0x35,
    /// Sensor self-check (R50x).
    CheckSensor = 0x36,
    /// Soft reset (R50x).
    SoftRst = 0x3D,
    /// Handshake (R50x).
    HandShake = 0x40,
}

/// SetSysPara register numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// Baud rate as N (baud = 9600 × N, N = 1…12).
    Baud = 4,
    /// Security level 1–5.
    SecurityLevel = 5,
    /// Data packet size code 0–3.
    PacketSize = 6,
}

/// Data bytes per data packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketSize {
    B32,
    B64,
    B128,
    B256,
}

impl PacketSize {
    pub fn bytes(self) -> usize {
        32 << self.code()
    }
    /// The code ReadSysPara reports and SetSysPara register 6 takes.
    pub fn code(self) -> u8 {
        match self {
            PacketSize::B32 => 0,
            PacketSize::B64 => 1,
            PacketSize::B128 => 2,
            PacketSize::B256 => 3,
        }
    }
    pub fn from_code(code: u16) -> Option<PacketSize> {
        [
            PacketSize::B32,
            PacketSize::B64,
            PacketSize::B128,
            PacketSize::B256,
        ]
        .get(usize::from(code))
        .copied()
    }
    pub fn from_bytes(bytes: usize) -> Option<PacketSize> {
        match bytes {
            32 => Some(PacketSize::B32),
            64 => Some(PacketSize::B64),
            128 => Some(PacketSize::B128),
            256 => Some(PacketSize::B256),
            _ => None,
        }
    }
}

/// Confirmation codes (docs/devices.md §1.3): what the module says about the last instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Confirmation {
    Ok,
    ReceiveError,
    NoFinger,
    CaptureFailed,
    ImageTooDisorderly,
    TooFewFeatures,
    NoMatch,
    NotFound,
    CombineFailed,
    PageOutOfRange,
    TemplateInvalid,
    UploadTemplateFailed,
    CannotReceiveData,
    UploadImageFailed,
    DeleteFailed,
    ClearFailed,
    WrongPassword,
    NoValidImage,
    FlashWriteError,
    Undefined,
    InvalidRegister,
    BadRegisterConfig,
    WrongNotepadPage,
    PortFailure,
    AddressError,
    PasswordRequired,
    /// A code this table does not know.
    Other(u8),
}

const CODES: [(u8, Confirmation); 26] = [
    (0x00, Confirmation::Ok),
    (0x01, Confirmation::ReceiveError),
    (0x02, Confirmation::NoFinger),
    (0x03, Confirmation::CaptureFailed),
    (0x06, Confirmation::ImageTooDisorderly),
    (0x07, Confirmation::TooFewFeatures),
    (0x08, Confirmation::NoMatch),
    (0x09, Confirmation::NotFound),
    (0x0A, Confirmation::CombineFailed),
    (0x0B, Confirmation::PageOutOfRange),
    (0x0C, Confirmation::TemplateInvalid),
    (0x0D, Confirmation::UploadTemplateFailed),
    (0x0E, Confirmation::CannotReceiveData),
    (0x0F, Confirmation::UploadImageFailed),
    (0x10, Confirmation::DeleteFailed),
    (0x11, Confirmation::ClearFailed),
    (0x13, Confirmation::WrongPassword),
    (0x15, Confirmation::NoValidImage),
    (0x18, Confirmation::FlashWriteError),
    (0x19, Confirmation::Undefined),
    (0x1A, Confirmation::InvalidRegister),
    (0x1B, Confirmation::BadRegisterConfig),
    (0x1C, Confirmation::WrongNotepadPage),
    (0x1D, Confirmation::PortFailure),
    (0x20, Confirmation::AddressError),
    (0x21, Confirmation::PasswordRequired),
];

impl Confirmation {
    pub fn from_code(code: u8) -> Confirmation {
        CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(Confirmation::Other(code), |(_, v)| *v)
    }

    pub fn code(self) -> u8 {
        match self {
            Confirmation::Other(c) => c,
            known => CODES
                .iter()
                .find(|(_, v)| *v == known)
                .map(|(c, _)| *c)
                .expect("every named confirmation is in the table"),
        }
    }

    /// Every code the table names.
    pub fn known() -> impl Iterator<Item = Confirmation> {
        CODES.iter().map(|(_, v)| *v)
    }
}

/// The 16 bytes ReadSysPara returns after its confirmation code (docs/devices.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysParams {
    pub status: u16,
    pub system_id: u16,
    /// Templates the library holds.
    pub capacity: u16,
    /// 1 (most permissive) to 5 (strictest).
    pub security_level: u16,
    pub address: u32,
    /// 0 = 32, 1 = 64, 2 = 128, 3 = 256 data bytes per packet.
    pub packet_size_code: u16,
    /// Baud = 9600 × N.
    pub baud_n: u16,
}

/// Length of the ReadSysPara block.
pub const SYS_PARAMS_LEN: usize = 16;

impl SysParams {
    /// Parses the block; `None` if fewer than 16 bytes.
    pub fn parse(b: &[u8]) -> Option<SysParams> {
        if b.len() < SYS_PARAMS_LEN {
            return None;
        }
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        Some(SysParams {
            status: u16_at(0),
            system_id: u16_at(2),
            capacity: u16_at(4),
            security_level: u16_at(6),
            address: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            packet_size_code: u16_at(12),
            baud_n: u16_at(14),
        })
    }

    pub fn encode(&self) -> [u8; SYS_PARAMS_LEN] {
        let mut out = [0u8; SYS_PARAMS_LEN];
        out[0..2].copy_from_slice(&self.status.to_be_bytes());
        out[2..4].copy_from_slice(&self.system_id.to_be_bytes());
        out[4..6].copy_from_slice(&self.capacity.to_be_bytes());
        out[6..8].copy_from_slice(&self.security_level.to_be_bytes());
        out[8..12].copy_from_slice(&self.address.to_be_bytes());
        out[12..14].copy_from_slice(&self.packet_size_code.to_be_bytes());
        out[14..16].copy_from_slice(&self.baud_n.to_be_bytes());
        out
    }

    /// The data packet size, if the code is valid.
    pub fn packet_size(&self) -> Option<PacketSize> {
        PacketSize::from_code(self.packet_size_code)
    }

    /// The baud rate the module reports.
    pub fn baud(&self) -> u32 {
        9600 * u32::from(self.baud_n)
    }
}

/// Packs 8-bit grey pixels into the upload format: 4 bits per pixel, two per byte, high nibble
/// first (the left pixel). An odd trailing pixel gets a zero low nibble.
pub fn pack_4bit(pixels: &[u8]) -> Vec<u8> {
    pixels
        .chunks(2)
        .map(|p| (p[0] & 0xF0) | (p.get(1).copied().unwrap_or(0) >> 4))
        .collect()
}

/// Unpacks the 4-bit upload format into 8-bit grey: each nibble × 17, so 0x0 → 0 and 0xF → 255.
pub fn unpack_4bit(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|&b| [(b >> 4) * 17, (b & 0x0F) * 17])
        .collect()
}

/// What an 8-bit pixel becomes after a trip through the 4-bit format.
pub fn quantise_4bit(pixel: u8) -> u8 {
    (pixel >> 4) * 17
}

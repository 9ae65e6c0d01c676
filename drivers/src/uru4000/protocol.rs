//! The pure U.are.U 4000 codec (docs/devices.md §3): register access as vendor control requests, the
//! event packets of the interrupt endpoint, and the image transfer (a 64-byte header, then
//! 290 lines of 384 pixels). Bytes in, values out; nothing here touches a device.
//!
//! Written from the facts in docs/devices.md §3 only (libfprint's LGPL driver was not read).
//! **Unverified** on hardware: the byte order of the header's line count (read big-endian, the
//! convention docs/devices.md states for all its tables) and how the 15 block entries map onto lines
//! (read here as consecutive runs of lines, in order).

use std::fmt;

use crate::usb::ControlRequest;

/// `bRequest` of every register access.
pub const REQUEST_REGISTER: u8 = 0x04;
/// `bmRequestType` of a register write: host to device, vendor, device.
pub const REQUEST_TYPE_WRITE: u8 = 0x40;
/// `bmRequestType` of a register read: device to host, vendor, device.
pub const REQUEST_TYPE_READ: u8 = 0xC0;

/// Registers (`wValue` of the control request).
pub mod reg {
    /// Hardware status: bit 7 set once the scanner is powered up.
    pub const HWSTAT: u16 = 0x07;
    /// Scramble data index (the host writes the key number and 4 bytes here).
    pub const SCRAMBLE_DATA_INDEX: u16 = 0x33;
    /// Scramble data key (the host reads 4 bytes of key here).
    pub const SCRAMBLE_DATA_KEY: u16 = 0x34;
    /// The scanner's mode ([`super::Mode`]).
    pub const MODE: u16 = 0x4E;
    /// Device information.
    pub const DEVICE_INFO: u16 = 0xF0;
    /// Challenge response (16 bytes; Microsoft readers only).
    pub const CHALLENGE_RESPONSE: u16 = 0x2000;
    /// Challenge (16 bytes; Microsoft readers only).
    pub const CHALLENGE: u16 = 0x2010;
}

/// HWSTAT bit 7: powered up.
pub const HWSTAT_POWERED: u8 = 0x80;
/// HWSTAT bit 1: ready again after a stuck unit was reset (see the driver's power-up).
pub const HWSTAT_RESET_DONE: u8 = 0x02;

/// The control request that reads `len` bytes from register `first` on.
pub fn read_register(first: u16) -> ControlRequest {
    ControlRequest {
        request_type: REQUEST_TYPE_READ,
        request: REQUEST_REGISTER,
        value: first,
        index: 0,
    }
}

/// The control request that writes registers from `first` on (the data stage holds the values).
pub fn write_register(first: u16) -> ControlRequest {
    ControlRequest {
        request_type: REQUEST_TYPE_WRITE,
        request: REQUEST_REGISTER,
        value: first,
        index: 0,
    }
}

/// A register access a device model received, decoded from its setup packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterAccess {
    Read { first: u16 },
    Write { first: u16 },
}

/// Decodes a control request as a register access; `None` for anything else.
pub fn decode_register_access(r: &ControlRequest) -> Option<RegisterAccess> {
    if r.request != REQUEST_REGISTER || r.index != 0 {
        return None;
    }
    match r.request_type {
        REQUEST_TYPE_READ => Some(RegisterAccess::Read { first: r.value }),
        REQUEST_TYPE_WRITE => Some(RegisterAccess::Write { first: r.value }),
        _ => None,
    }
}

/// Values of the MODE register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Init,
    AwaitFingerOn,
    AwaitFingerOff,
    Capture,
    CaptureAux,
    Off,
    Ready,
}

impl Mode {
    /// The register value.
    pub fn value(self) -> u8 {
        match self {
            Mode::Init => 0x00,
            Mode::AwaitFingerOn => 0x10,
            Mode::AwaitFingerOff => 0x12,
            Mode::Capture => 0x20,
            Mode::CaptureAux => 0x30,
            Mode::Off => 0x70,
            Mode::Ready => 0x80,
        }
    }

    /// The mode a register value names, if any.
    pub fn from_value(v: u8) -> Option<Mode> {
        Some(match v {
            0x00 => Mode::Init,
            0x10 => Mode::AwaitFingerOn,
            0x12 => Mode::AwaitFingerOff,
            0x20 => Mode::Capture,
            0x30 => Mode::CaptureAux,
            0x70 => Mode::Off,
            0x80 => Mode::Ready,
            _ => return None,
        })
    }
}

/// Bytes of an event packet on the interrupt endpoint.
pub const EVENT_LEN: usize = 64;

/// An event from the interrupt endpoint: its type is the first two bytes, big-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// 0x56AA: the scanner powered on.
    PoweredOn,
    /// 0x0101: a finger is on the sensor.
    FingerOn,
    /// 0x0200: the finger left the sensor.
    FingerOff,
    /// 0x0800: the scanner reports a fault ("death").
    Fault,
    /// A type docs/devices.md does not list.
    Other(u16),
}

impl Event {
    /// The type code.
    pub fn code(self) -> u16 {
        match self {
            Event::PoweredOn => 0x56AA,
            Event::FingerOn => 0x0101,
            Event::FingerOff => 0x0200,
            Event::Fault => 0x0800,
            Event::Other(c) => c,
        }
    }

    fn from_code(c: u16) -> Event {
        match c {
            0x56AA => Event::PoweredOn,
            0x0101 => Event::FingerOn,
            0x0200 => Event::FingerOff,
            0x0800 => Event::Fault,
            other => Event::Other(other),
        }
    }

    /// The 64-byte packet the scanner sends (type, then zeros).
    pub fn encode(self) -> [u8; EVENT_LEN] {
        let mut p = [0u8; EVENT_LEN];
        p[..2].copy_from_slice(&self.code().to_be_bytes());
        p
    }

    /// Decodes an event packet. Only the type is interpreted; a packet too short to hold it is an
    /// error (the rest of the 64 bytes carries nothing jemput uses).
    pub fn decode(bytes: &[u8]) -> Result<Event, CodecError> {
        match bytes {
            [a, b, ..] => Ok(Event::from_code(u16::from_be_bytes([*a, *b]))),
            _ => Err(CodecError::Truncated {
                what: "an event packet",
                need: 2,
                have: bytes.len(),
            }),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Event::PoweredOn => "powered on",
            Event::FingerOn => "finger on",
            Event::FingerOff => "finger off",
            Event::Fault => "device fault",
            Event::Other(_) => "unknown event",
        };
        write!(f, "{name} ({:#06x})", self.code())
    }
}

/// Image width in pixels (bytes per line).
pub const IMAGE_WIDTH: usize = 384;
/// Image height in lines.
pub const IMAGE_HEIGHT: usize = 290;
/// Bytes of the image header.
pub const HEADER_LEN: usize = 64;
/// Bytes of a whole image transfer: header + 290 × 384 = 111 424.
pub const IMAGE_TRANSFER_LEN: usize = HEADER_LEN + IMAGE_WIDTH * IMAGE_HEIGHT;
/// Nominal resolution (docs/devices.md: ~512 dpi).
pub const IMAGE_PPI: u32 = 512;
/// Block entries in the header.
pub const BLOCKS: usize = 15;

/// Block flags.
pub mod block {
    /// The key changes at this block.
    pub const CHANGE_KEY: u8 = 0x80;
    /// The key is not stepped in this block.
    pub const NO_KEY_UPDATE: u8 = 0x04;
    /// The block's lines are scrambled.
    pub const ENCRYPTED: u8 = 0x02;
    /// The block is not present.
    pub const NOT_PRESENT: u8 = 0x01;
}

/// One block entry of the header: a run of lines and how they were sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Block {
    pub flags: u8,
    pub lines: u8,
}

impl Block {
    /// Whether the block's lines are scrambled.
    pub fn encrypted(self) -> bool {
        self.flags & block::ENCRYPTED != 0 && self.flags & block::NOT_PRESENT == 0
    }
}

/// The 64-byte header before the image lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageHeader {
    /// Lines the image holds.
    pub num_lines: u16,
    /// The key number for descrambling.
    pub key_number: u8,
    pub blocks: [Block; BLOCKS],
    /// Bytes docs/devices.md leaves unexplained, kept for logs and round trips: 0–3, 7–15, 46–63.
    pub unknown: [u8; 4 + 9 + 18],
}

impl Default for ImageHeader {
    fn default() -> Self {
        ImageHeader {
            num_lines: IMAGE_HEIGHT as u16,
            key_number: 0,
            blocks: [Block::default(); BLOCKS],
            unknown: [0; 31],
        }
    }
}

impl ImageHeader {
    /// A header for an unscrambled image of `lines` lines, the blocks covering them in runs of
    /// at most 255.
    pub fn plain(lines: u16) -> ImageHeader {
        let mut h = ImageHeader {
            num_lines: lines,
            ..ImageHeader::default()
        };
        let mut left = lines;
        for b in h.blocks.iter_mut() {
            if left == 0 {
                break;
            }
            let n = left.min(255);
            *b = Block {
                flags: 0,
                lines: n as u8,
            };
            left -= n;
        }
        h
    }

    /// Whether any block is scrambled.
    pub fn any_encrypted(&self) -> bool {
        self.blocks.iter().any(|b| b.encrypted())
    }

    /// Each block as (first line, line count, flags), in order, up to the image's lines; empty
    /// entries are skipped.
    pub fn runs(&self) -> Vec<(usize, usize, Block)> {
        let mut out = Vec::new();
        let mut line = 0usize;
        for b in self.blocks {
            if b.lines == 0 {
                continue;
            }
            let n = usize::from(b.lines).min(usize::from(self.num_lines).saturating_sub(line));
            if n == 0 {
                break;
            }
            out.push((line, n, b));
            line += n;
        }
        out
    }

    /// The 64 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.unknown[0..4]);
        out[4..6].copy_from_slice(&self.num_lines.to_be_bytes());
        out[6] = self.key_number;
        out[7..16].copy_from_slice(&self.unknown[4..13]);
        for (i, b) in self.blocks.iter().enumerate() {
            out[16 + 2 * i] = b.flags;
            out[17 + 2 * i] = b.lines;
        }
        out[46..64].copy_from_slice(&self.unknown[13..31]);
        out
    }

    /// Decodes the header from the start of an image transfer.
    pub fn decode(bytes: &[u8]) -> Result<ImageHeader, CodecError> {
        let b: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(CodecError::Truncated {
                what: "the image header",
                need: HEADER_LEN,
                have: bytes.len(),
            })?;
        let mut unknown = [0u8; 31];
        unknown[0..4].copy_from_slice(&b[0..4]);
        unknown[4..13].copy_from_slice(&b[7..16]);
        unknown[13..31].copy_from_slice(&b[46..64]);
        let mut blocks = [Block::default(); BLOCKS];
        for (i, blk) in blocks.iter_mut().enumerate() {
            *blk = Block {
                flags: b[16 + 2 * i],
                lines: b[17 + 2 * i],
            };
        }
        Ok(ImageHeader {
            num_lines: u16::from_be_bytes([b[4], b[5]]),
            key_number: b[6],
            blocks,
            unknown,
        })
    }
}

/// Why bytes from the scanner are not what the protocol allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("{what}: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("the image header announces {0} lines; the sensor has {IMAGE_HEIGHT}")]
    BadLineCount(u16),
    #[error("the image transfer is {0} bytes; a whole image is {IMAGE_TRANSFER_LEN}")]
    BadLength(usize),
}

/// An image transfer split into its header and its raw (possibly scrambled) lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawImage {
    pub header: ImageHeader,
    /// `IMAGE_HEIGHT` lines of `IMAGE_WIDTH` bytes, as sent.
    pub lines: Vec<u8>,
}

impl RawImage {
    /// Splits a whole image transfer (exactly [`IMAGE_TRANSFER_LEN`] bytes) and checks the header.
    pub fn decode(bytes: &[u8]) -> Result<RawImage, CodecError> {
        if bytes.len() < HEADER_LEN {
            return Err(CodecError::Truncated {
                what: "the image transfer",
                need: IMAGE_TRANSFER_LEN,
                have: bytes.len(),
            });
        }
        if bytes.len() != IMAGE_TRANSFER_LEN {
            return Err(CodecError::BadLength(bytes.len()));
        }
        let header = ImageHeader::decode(bytes)?;
        if header.num_lines == 0 || usize::from(header.num_lines) > IMAGE_HEIGHT {
            return Err(CodecError::BadLineCount(header.num_lines));
        }
        Ok(RawImage {
            header,
            lines: bytes[HEADER_LEN..].to_vec(),
        })
    }

    /// The transfer bytes: header, then the lines.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.lines.len());
        out.extend_from_slice(&self.header.encode());
        out.extend_from_slice(&self.lines);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_requests_are_vendor_requests_4_with_the_register_in_wvalue() {
        let r = read_register(reg::HWSTAT);
        assert_eq!(
            (r.request_type, r.request, r.value, r.index),
            (0xC0, 4, 7, 0)
        );
        assert!(r.is_in());
        let w = write_register(reg::MODE);
        assert_eq!(
            (w.request_type, w.request, w.value, w.index),
            (0x40, 4, 0x4E, 0)
        );
        assert!(!w.is_in());
        assert_eq!(
            decode_register_access(&w),
            Some(RegisterAccess::Write { first: 0x4E })
        );
        let class = ControlRequest {
            request_type: 0x21,
            ..w
        };
        assert_eq!(decode_register_access(&class), None);
    }

    #[test]
    fn event_types_are_the_first_two_bytes_big_endian() {
        assert_eq!(Event::decode(&[0x56, 0xAA]).unwrap(), Event::PoweredOn);
        assert_eq!(
            Event::decode(&Event::FingerOn.encode()).unwrap(),
            Event::FingerOn
        );
        assert_eq!(
            Event::decode(&[0x02, 0x00, 9, 9]).unwrap(),
            Event::FingerOff
        );
        assert_eq!(Event::decode(&[0x08, 0x00]).unwrap(), Event::Fault);
        assert_eq!(Event::decode(&[0x12, 0x34]).unwrap(), Event::Other(0x1234));
        assert!(Event::decode(&[0x01]).is_err());
        assert_eq!(Event::FingerOn.encode().len(), 64);
    }

    #[test]
    fn modes_round_trip_through_their_register_values() {
        for m in [
            Mode::Init,
            Mode::AwaitFingerOn,
            Mode::AwaitFingerOff,
            Mode::Capture,
            Mode::CaptureAux,
            Mode::Off,
            Mode::Ready,
        ] {
            assert_eq!(Mode::from_value(m.value()), Some(m));
        }
        assert_eq!(Mode::AwaitFingerOn.value(), 0x10);
        assert_eq!(Mode::from_value(0x11), None);
    }

    #[test]
    fn a_whole_transfer_is_111424_bytes_and_the_header_sits_at_the_documented_offsets() {
        assert_eq!(IMAGE_TRANSFER_LEN, 111_424);
        let mut h = ImageHeader::plain(290);
        h.key_number = 0x5A;
        h.blocks[3].flags = block::ENCRYPTED;
        let bytes = h.encode();
        assert_eq!(&bytes[4..6], &[0x01, 0x22], "num_lines 290 at offset 4");
        assert_eq!(bytes[6], 0x5A, "key number at offset 6");
        assert_eq!((bytes[16], bytes[17]), (0, 255), "first block entry at 16");
        assert_eq!((bytes[18], bytes[19]), (0, 35));
        assert_eq!(bytes[22], block::ENCRYPTED, "fourth block's flags at 22");
        assert_eq!(ImageHeader::decode(&bytes).unwrap(), h);
        assert_eq!(
            ImageHeader::plain(290).runs(),
            vec![
                (
                    0,
                    255,
                    Block {
                        flags: 0,
                        lines: 255
                    }
                ),
                (
                    255,
                    35,
                    Block {
                        flags: 0,
                        lines: 35
                    }
                )
            ]
        );
    }

    #[test]
    fn short_long_and_impossible_transfers_are_errors() {
        let good = RawImage {
            header: ImageHeader::plain(290),
            lines: vec![7; IMAGE_WIDTH * IMAGE_HEIGHT],
        }
        .encode();
        assert_eq!(RawImage::decode(&good).unwrap().lines.len(), 111_360);
        assert_eq!(
            RawImage::decode(&good[..10]),
            Err(CodecError::Truncated {
                what: "the image transfer",
                need: IMAGE_TRANSFER_LEN,
                have: 10
            })
        );
        assert_eq!(
            RawImage::decode(&good[..50_000]),
            Err(CodecError::BadLength(50_000))
        );
        let mut bad = good.clone();
        bad[4..6].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(RawImage::decode(&bad), Err(CodecError::BadLineCount(1000)));
    }
}

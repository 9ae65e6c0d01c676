//! The USB/IP wire format (Linux `Documentation/usb/usbip_protocol.rst`), pure: bytes in,
//! messages out, and back. Every integer is big-endian.
//!
//! A connection starts with one operation (`OP_REQ_DEVLIST` or `OP_REQ_IMPORT`, 8-byte header
//! `version · code · status`). After a successful import the same socket carries URB traffic:
//! 48-byte headers `command · seqnum · devid · direction · ep` + 28 command-specific bytes, with
//! the OUT data after a CMD_SUBMIT and the IN data after a RET_SUBMIT.

/// The protocol version every message carries (1.1.1).
pub const VERSION: u16 = 0x0111;
/// OP_REQ_DEVLIST.
pub const OP_REQ_DEVLIST: u16 = 0x8005;
/// OP_REP_DEVLIST.
pub const OP_REP_DEVLIST: u16 = 0x0005;
/// OP_REQ_IMPORT.
pub const OP_REQ_IMPORT: u16 = 0x8003;
/// OP_REP_IMPORT.
pub const OP_REP_IMPORT: u16 = 0x0003;
/// USBIP_CMD_SUBMIT.
pub const CMD_SUBMIT: u32 = 1;
/// USBIP_CMD_UNLINK.
pub const CMD_UNLINK: u32 = 2;
/// USBIP_RET_SUBMIT.
pub const RET_SUBMIT: u32 = 3;
/// USBIP_RET_UNLINK.
pub const RET_UNLINK: u32 = 4;
/// Size of an operation header.
pub const OP_HEADER_LEN: usize = 8;
/// Size of a bus id field.
pub const BUSID_LEN: usize = 32;
/// Size of a URB message header.
pub const URB_HEADER_LEN: usize = 48;
/// Size of the `usb_device` record of OP_REP_DEVLIST / OP_REP_IMPORT.
pub const DEVICE_RECORD_LEN: usize = 312;
/// `number_of_packets` of a transfer that is not isochronous.
pub const NOT_ISOCHRONOUS: u32 = 0xFFFF_FFFF;
/// The largest transfer buffer accepted (a bound on what a peer can make us allocate).
pub const MAX_TRANSFER: u32 = 16 << 20;

/// Negative errno values a RET_SUBMIT / RET_UNLINK status carries (Linux numbering).
pub mod status {
    /// -EPIPE: the endpoint stalled.
    pub const STALL: i32 = -32;
    /// -ECONNRESET: the URB was unlinked before it completed.
    pub const UNLINKED: i32 = -104;
    /// -ESHUTDOWN: the device is gone.
    pub const SHUTDOWN: i32 = -108;
    /// -EOVERFLOW: the device sent more than the buffer holds.
    pub const OVERFLOW: i32 = -75;
    /// -EPROTO: a protocol error on the bus.
    pub const PROTOCOL: i32 = -71;
    /// -EINVAL: a request this server does not carry (isochronous transfers).
    pub const INVALID: i32 = -22;
}

/// Why bytes are not a USB/IP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("USB/IP version {0:#06x}, expected 0x0111")]
    Version(u16),
    #[error("unknown USB/IP operation {0:#06x}")]
    UnknownOperation(u16),
    #[error("unknown USB/IP command {0}")]
    UnknownCommand(u32),
    #[error("a transfer of {0} bytes is larger than the {MAX_TRANSFER}-byte limit")]
    TooLong(u32),
    #[error("{0} isochronous packets: isochronous transfers are not carried")]
    Isochronous(u32),
    #[error("direction {0} is neither 0 (out) nor 1 (in)")]
    Direction(u32),
    #[error("a reply came for sequence number {0}, which was never submitted")]
    UnknownSeqnum(u32),
    #[error("bus id is longer than 31 bytes or not UTF-8")]
    BusId,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("four bytes"))
}

fn busid_field(busid: &str) -> Result<[u8; BUSID_LEN], CodecError> {
    let mut f = [0u8; BUSID_LEN];
    if busid.len() >= BUSID_LEN {
        return Err(CodecError::BusId);
    }
    f[..busid.len()].copy_from_slice(busid.as_bytes());
    Ok(f)
}

fn busid_from(field: &[u8]) -> Result<String, CodecError> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8(field[..end].to_vec()).map_err(|_| CodecError::BusId)
}

/// The exported device as OP_REP_DEVLIST and OP_REP_IMPORT describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// A sysfs-like path (informational).
    pub path: String,
    /// The bus id a client imports (`1-1`).
    pub busid: String,
    pub busnum: u32,
    pub devnum: u32,
    /// Linux `usb_device_speed` (2 full, 3 high).
    pub speed: u32,
    pub vendor_id: u16,
    pub product_id: u16,
    pub bcd_device: u16,
    pub device_class: [u8; 3],
    pub configuration_value: u8,
    pub num_configurations: u8,
    /// (class, subclass, protocol) of each interface; OP_REP_DEVLIST lists them.
    pub interfaces: Vec<[u8; 3]>,
}

impl DeviceRecord {
    /// The `devid` of URB headers and of the vhci `attach` file: `busnum << 16 | devnum`.
    pub fn devid(&self) -> u32 {
        (self.busnum << 16) | self.devnum
    }

    /// The 312-byte record (without the interface list).
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(DEVICE_RECORD_LEN);
        let mut path = [0u8; 256];
        let p = self.path.as_bytes();
        if p.len() >= path.len() {
            return Err(CodecError::BusId);
        }
        path[..p.len()].copy_from_slice(p);
        out.extend_from_slice(&path);
        out.extend_from_slice(&busid_field(&self.busid)?);
        for v in [self.busnum, self.devnum, self.speed] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        for v in [self.vendor_id, self.product_id, self.bcd_device] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.device_class);
        out.extend_from_slice(&[
            self.configuration_value,
            self.num_configurations,
            self.interfaces.len() as u8,
        ]);
        debug_assert_eq!(out.len(), DEVICE_RECORD_LEN);
        Ok(out)
    }

    /// Reads a 312-byte record; the interface list is left empty (its length is in
    /// [`DeviceRecord::declared_interfaces`]).
    pub fn decode(b: &[u8; DEVICE_RECORD_LEN]) -> Result<DeviceRecord, CodecError> {
        Ok(DeviceRecord {
            path: busid_from(&b[..256])?,
            busid: busid_from(&b[256..288])?,
            busnum: u32_at(b, 288),
            devnum: u32_at(b, 292),
            speed: u32_at(b, 296),
            vendor_id: u16_at(b, 300),
            product_id: u16_at(b, 302),
            bcd_device: u16_at(b, 304),
            device_class: [b[306], b[307], b[308]],
            configuration_value: b[309],
            num_configurations: b[310],
            interfaces: Vec::new(),
        })
    }

    /// `bNumInterfaces` of an encoded record.
    pub fn declared_interfaces(b: &[u8; DEVICE_RECORD_LEN]) -> u8 {
        b[311]
    }
}

/// The operation a client opens a connection with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpRequest {
    /// List the exported devices.
    DevList,
    /// Import the device with this bus id.
    Import { busid: String },
}

/// The bytes an operation request still needs: 0 after the 8-byte header of DEVLIST, 32 (the bus
/// id) after the header of IMPORT.
pub fn op_request_body_len(header: &[u8; OP_HEADER_LEN]) -> Result<usize, CodecError> {
    let version = u16_at(header, 0);
    if version != VERSION {
        return Err(CodecError::Version(version));
    }
    match u16_at(header, 2) {
        OP_REQ_DEVLIST => Ok(0),
        OP_REQ_IMPORT => Ok(BUSID_LEN),
        other => Err(CodecError::UnknownOperation(other)),
    }
}

impl OpRequest {
    /// The request on the wire.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = VERSION.to_be_bytes().to_vec();
        match self {
            OpRequest::DevList => {
                out.extend_from_slice(&OP_REQ_DEVLIST.to_be_bytes());
                out.extend_from_slice(&0u32.to_be_bytes());
            }
            OpRequest::Import { busid } => {
                out.extend_from_slice(&OP_REQ_IMPORT.to_be_bytes());
                out.extend_from_slice(&0u32.to_be_bytes());
                out.extend_from_slice(&busid_field(busid)?);
            }
        }
        Ok(out)
    }

    /// Reads a whole request: the 8-byte header and its body ([`op_request_body_len`]).
    pub fn decode(b: &[u8]) -> Result<Option<OpRequest>, CodecError> {
        let Some(header) = b.get(..OP_HEADER_LEN) else {
            return Ok(None);
        };
        let header: &[u8; OP_HEADER_LEN] = header.try_into().expect("eight bytes");
        let body = op_request_body_len(header)?;
        let Some(body) = b.get(OP_HEADER_LEN..OP_HEADER_LEN + body) else {
            return Ok(None);
        };
        Ok(Some(match u16_at(header, 2) {
            OP_REQ_DEVLIST => OpRequest::DevList,
            _ => OpRequest::Import {
                busid: busid_from(body)?,
            },
        }))
    }
}

/// OP_REP_DEVLIST: every exported device with its interfaces.
pub fn encode_devlist(devices: &[DeviceRecord]) -> Result<Vec<u8>, CodecError> {
    let mut out = VERSION.to_be_bytes().to_vec();
    out.extend_from_slice(&OP_REP_DEVLIST.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&(devices.len() as u32).to_be_bytes());
    for d in devices {
        out.extend_from_slice(&d.encode()?);
        for i in &d.interfaces {
            out.extend_from_slice(i);
            out.push(0);
        }
    }
    Ok(out)
}

/// OP_REP_IMPORT: the device record, or status 1 (no such device) and nothing else.
pub fn encode_import_reply(device: Option<&DeviceRecord>) -> Result<Vec<u8>, CodecError> {
    let mut out = VERSION.to_be_bytes().to_vec();
    out.extend_from_slice(&OP_REP_IMPORT.to_be_bytes());
    match device {
        Some(d) => {
            out.extend_from_slice(&0u32.to_be_bytes());
            out.extend_from_slice(&d.encode()?);
        }
        None => out.extend_from_slice(&1u32.to_be_bytes()),
    }
    Ok(out)
}

/// Reads an OP_REP_IMPORT header: `Ok(true)` when a device record follows.
pub fn decode_import_reply_header(b: &[u8; OP_HEADER_LEN]) -> Result<bool, CodecError> {
    let version = u16_at(b, 0);
    if version != VERSION {
        return Err(CodecError::Version(version));
    }
    match u16_at(b, 2) {
        OP_REP_IMPORT => Ok(u32_at(b, 4) == 0),
        other => Err(CodecError::UnknownOperation(other)),
    }
}

/// The fields every URB message starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrbHeader {
    pub seqnum: u32,
    pub devid: u32,
    /// IN (device to host).
    pub direction_in: bool,
    /// The endpoint number, without the direction bit.
    pub ep: u32,
}

/// USBIP_CMD_SUBMIT: one URB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    pub header: UrbHeader,
    pub transfer_flags: u32,
    /// Bytes the host sends (OUT) or can take (IN).
    pub transfer_buffer_length: u32,
    pub interval: u32,
    /// The setup packet (control transfers on endpoint 0; zeros otherwise).
    pub setup: [u8; 8],
    /// The OUT data (empty for IN).
    pub data: Vec<u8>,
}

/// A message from the client (the host whose USB stack imports the device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Submit(Submit),
    /// USBIP_CMD_UNLINK: cancel the URB `unlink_seqnum`.
    Unlink {
        header: UrbHeader,
        unlink_seqnum: u32,
    },
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// USBIP_RET_SUBMIT: the URB `seqnum` completed with `status` (0 or a negative errno);
    /// `actual_length` bytes were moved; `data` is the IN data (empty for OUT).
    Submit {
        seqnum: u32,
        status: i32,
        actual_length: u32,
        data: Vec<u8>,
    },
    /// USBIP_RET_UNLINK: the unlink `seqnum` was done with `status` (-ECONNRESET: the URB was
    /// pending and is cancelled; 0: it had already completed).
    Unlink { seqnum: u32, status: i32 },
}

fn put_header(out: &mut Vec<u8>, command: u32, h: &UrbHeader) {
    for v in [command, h.seqnum, h.devid, u32::from(h.direction_in), h.ep] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn take_header(b: &[u8]) -> Result<(u32, UrbHeader), CodecError> {
    let direction = u32_at(b, 12);
    if direction > 1 {
        return Err(CodecError::Direction(direction));
    }
    Ok((
        u32_at(b, 0),
        UrbHeader {
            seqnum: u32_at(b, 4),
            devid: u32_at(b, 8),
            direction_in: direction == 1,
            ep: u32_at(b, 16),
        },
    ))
}

impl Command {
    /// The message on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(URB_HEADER_LEN);
        match self {
            Command::Submit(s) => {
                put_header(&mut out, CMD_SUBMIT, &s.header);
                for v in [
                    s.transfer_flags,
                    s.transfer_buffer_length,
                    0,
                    NOT_ISOCHRONOUS,
                    s.interval,
                ] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                out.extend_from_slice(&s.setup);
                if !s.header.direction_in {
                    out.extend_from_slice(&s.data);
                }
            }
            Command::Unlink {
                header,
                unlink_seqnum,
            } => {
                put_header(&mut out, CMD_UNLINK, header);
                out.extend_from_slice(&unlink_seqnum.to_be_bytes());
                out.extend_from_slice(&[0; 24]);
            }
        }
        out
    }

    /// Reads one command from the front of `b`: `Ok(None)` when `b` does not hold all of it yet,
    /// else the command and how many bytes it took.
    pub fn decode(b: &[u8]) -> Result<Option<(Command, usize)>, CodecError> {
        if b.len() < URB_HEADER_LEN {
            return Ok(None);
        }
        let (command, header) = take_header(b)?;
        match command {
            CMD_SUBMIT => {
                let length = u32_at(b, 24);
                let packets = u32_at(b, 32);
                if packets != NOT_ISOCHRONOUS && packets != 0 {
                    return Err(CodecError::Isochronous(packets));
                }
                if length > MAX_TRANSFER {
                    return Err(CodecError::TooLong(length));
                }
                let data_len = if header.direction_in {
                    0
                } else {
                    length as usize
                };
                let Some(data) = b.get(URB_HEADER_LEN..URB_HEADER_LEN + data_len) else {
                    return Ok(None);
                };
                let submit = Submit {
                    header,
                    transfer_flags: u32_at(b, 20),
                    transfer_buffer_length: length,
                    interval: u32_at(b, 36),
                    setup: b[40..48].try_into().expect("eight bytes"),
                    data: data.to_vec(),
                };
                Ok(Some((Command::Submit(submit), URB_HEADER_LEN + data_len)))
            }
            CMD_UNLINK => Ok(Some((
                Command::Unlink {
                    header,
                    unlink_seqnum: u32_at(b, 20),
                },
                URB_HEADER_LEN,
            ))),
            other => Err(CodecError::UnknownCommand(other)),
        }
    }
}

impl Reply {
    /// The message on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(URB_HEADER_LEN);
        match self {
            Reply::Submit {
                seqnum,
                status,
                actual_length,
                data,
            } => {
                // The reply's devid, direction and ep are zero (the client matches by seqnum).
                let h = UrbHeader {
                    seqnum: *seqnum,
                    devid: 0,
                    direction_in: false,
                    ep: 0,
                };
                put_header(&mut out, RET_SUBMIT, &h);
                for v in [*status as u32, *actual_length, 0, NOT_ISOCHRONOUS, 0] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                out.extend_from_slice(&[0; 8]);
                out.extend_from_slice(data);
            }
            Reply::Unlink { seqnum, status } => {
                let h = UrbHeader {
                    seqnum: *seqnum,
                    devid: 0,
                    direction_in: false,
                    ep: 0,
                };
                put_header(&mut out, RET_UNLINK, &h);
                out.extend_from_slice(&(*status as u32).to_be_bytes());
                out.extend_from_slice(&[0; 24]);
            }
        }
        out
    }

    /// Reads one reply from the front of `b`. A RET_SUBMIT carries data only for an IN URB,
    /// which only the client knows: `is_in(seqnum)` answers it (`None`: never submitted).
    pub fn decode(
        b: &[u8],
        is_in: impl Fn(u32) -> Option<bool>,
    ) -> Result<Option<(Reply, usize)>, CodecError> {
        if b.len() < URB_HEADER_LEN {
            return Ok(None);
        }
        let (command, header) = take_header(b)?;
        match command {
            RET_SUBMIT => {
                let status = u32_at(b, 20) as i32;
                let actual_length = u32_at(b, 24);
                if actual_length > MAX_TRANSFER {
                    return Err(CodecError::TooLong(actual_length));
                }
                let dir_in =
                    is_in(header.seqnum).ok_or(CodecError::UnknownSeqnum(header.seqnum))?;
                let data_len = if dir_in { actual_length as usize } else { 0 };
                let Some(data) = b.get(URB_HEADER_LEN..URB_HEADER_LEN + data_len) else {
                    return Ok(None);
                };
                Ok(Some((
                    Reply::Submit {
                        seqnum: header.seqnum,
                        status,
                        actual_length,
                        data: data.to_vec(),
                    },
                    URB_HEADER_LEN + data_len,
                )))
            }
            RET_UNLINK => Ok(Some((
                Reply::Unlink {
                    seqnum: header.seqnum,
                    status: u32_at(b, 20) as i32,
                },
                URB_HEADER_LEN,
            ))),
            other => Err(CodecError::UnknownCommand(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn import_request_matches_the_documented_bytes() {
        let b = OpRequest::Import {
            busid: "1-1".into(),
        }
        .encode()
        .unwrap();
        let mut want = vec![0x01, 0x11, 0x80, 0x03, 0, 0, 0, 0, b'1', b'-', b'1'];
        want.resize(8 + 32, 0);
        assert_eq!(b, want);
        assert_eq!(
            OpRequest::decode(&b).unwrap(),
            Some(OpRequest::Import {
                busid: "1-1".into()
            })
        );
        assert_eq!(
            OpRequest::decode(&b[..20]).unwrap(),
            None,
            "needs the bus id"
        );
    }

    #[test]
    fn a_wrong_version_or_operation_is_an_error() {
        assert_eq!(
            OpRequest::decode(&[0x01, 0x06, 0x80, 0x05, 0, 0, 0, 0]),
            Err(CodecError::Version(0x0106))
        );
        assert_eq!(
            OpRequest::decode(&[0x01, 0x11, 0x80, 0x07, 0, 0, 0, 0]),
            Err(CodecError::UnknownOperation(0x8007))
        );
    }

    fn record() -> DeviceRecord {
        DeviceRecord {
            path: "/sys/devices/jemput/ptp".into(),
            busid: "1-1".into(),
            busnum: 1,
            devnum: 2,
            speed: 3,
            vendor_id: 0x1209,
            product_id: 0x0001,
            bcd_device: 0x0100,
            device_class: [0, 0, 0],
            configuration_value: 1,
            num_configurations: 1,
            interfaces: vec![[6, 1, 1]],
        }
    }

    #[test]
    fn import_reply_carries_the_312_byte_record_at_documented_offsets() {
        let b = encode_import_reply(Some(&record())).unwrap();
        assert_eq!(b.len(), 8 + 312);
        assert_eq!(&b[..8], &[0x01, 0x11, 0x00, 0x03, 0, 0, 0, 0]);
        let r = &b[8..];
        assert_eq!(&r[256..260], b"1-1\0");
        assert_eq!(&r[288..300], &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
        assert_eq!(&r[300..306], &[0x12, 0x09, 0x00, 0x01, 0x01, 0x00]);
        assert_eq!(&r[306..312], &[0, 0, 0, 1, 1, 1]);
        let decoded = DeviceRecord::decode(r.try_into().unwrap()).unwrap();
        assert_eq!(decoded.devid(), 0x0001_0002);
        assert_eq!(
            DeviceRecord {
                interfaces: vec![[6, 1, 1]],
                ..decoded
            },
            record()
        );
        let missing = encode_import_reply(None).unwrap();
        assert_eq!(missing, [0x01, 0x11, 0x00, 0x03, 0, 0, 0, 1]);
        assert_eq!(
            decode_import_reply_header(missing[..8].try_into().unwrap()),
            Ok(false)
        );
    }

    #[test]
    fn devlist_lists_interfaces_after_each_record() {
        let b = encode_devlist(&[record()]).unwrap();
        assert_eq!(&b[..12], &[0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(b.len(), 12 + 312 + 4);
        assert_eq!(&b[324..], &[6, 1, 1, 0]);
    }

    #[test]
    fn cmd_submit_of_a_get_descriptor_has_the_documented_layout() {
        let c = Command::Submit(Submit {
            header: UrbHeader {
                seqnum: 1,
                devid: 0x0001_0002,
                direction_in: true,
                ep: 0,
            },
            transfer_flags: 0x200,
            transfer_buffer_length: 18,
            interval: 0,
            setup: [0x80, 6, 0, 1, 0, 0, 18, 0],
            data: Vec::new(),
        });
        let b = c.encode();
        assert_eq!(b.len(), 48);
        assert_eq!(
            &b[..20],
            &[0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        assert_eq!(&b[20..28], &[0, 0, 2, 0, 0, 0, 0, 18]);
        assert_eq!(&b[40..], &[0x80, 6, 0, 1, 0, 0, 18, 0]);
        assert_eq!(Command::decode(&b).unwrap(), Some((c, 48)));
    }

    #[test]
    fn ret_submit_data_follows_only_for_in() {
        let r = Reply::Submit {
            seqnum: 7,
            status: status::STALL,
            actual_length: 0,
            data: Vec::new(),
        };
        let b = r.encode();
        assert_eq!(&b[..4], &[0, 0, 0, 3]);
        assert_eq!(
            &b[20..24],
            &[0xFF, 0xFF, 0xFF, 0xE0],
            "-32, two's complement"
        );
        assert_eq!(Reply::decode(&b, |_| Some(true)).unwrap(), Some((r, 48)));
        let out = Reply::Submit {
            seqnum: 8,
            status: 0,
            actual_length: 5,
            data: Vec::new(),
        };
        let b = out.encode();
        assert_eq!(b.len(), 48, "OUT completions carry no data");
        assert_eq!(Reply::decode(&b, |_| Some(false)).unwrap(), Some((out, 48)));
        assert_eq!(
            Reply::decode(&b, |_| None),
            Err(CodecError::UnknownSeqnum(8))
        );
    }

    #[test]
    fn isochronous_and_oversized_submits_are_refused() {
        let mut b = Command::Submit(Submit {
            header: UrbHeader {
                seqnum: 1,
                devid: 1,
                direction_in: true,
                ep: 1,
            },
            transfer_flags: 0,
            transfer_buffer_length: 64,
            interval: 0,
            setup: [0; 8],
            data: Vec::new(),
        })
        .encode();
        b[32..36].copy_from_slice(&4u32.to_be_bytes());
        assert_eq!(Command::decode(&b), Err(CodecError::Isochronous(4)));
        b[32..36].copy_from_slice(&NOT_ISOCHRONOUS.to_be_bytes());
        b[24..28].copy_from_slice(&(MAX_TRANSFER + 1).to_be_bytes());
        assert_eq!(
            Command::decode(&b),
            Err(CodecError::TooLong(MAX_TRANSFER + 1))
        );
    }

    fn any_header() -> impl Strategy<Value = UrbHeader> {
        (any::<u32>(), any::<u32>(), any::<bool>(), 0u32..16).prop_map(
            |(seqnum, devid, direction_in, ep)| UrbHeader {
                seqnum,
                devid,
                direction_in,
                ep,
            },
        )
    }

    fn any_command() -> impl Strategy<Value = Command> {
        let submit = (
            any_header(),
            any::<u32>(),
            any::<u32>(),
            any::<[u8; 8]>(),
            proptest::collection::vec(any::<u8>(), 0..600),
            0u32..2000,
        )
            .prop_map(|(header, flags, interval, setup, data, in_len)| {
                let length = if header.direction_in {
                    in_len
                } else {
                    data.len() as u32
                };
                Command::Submit(Submit {
                    header,
                    transfer_flags: flags,
                    transfer_buffer_length: length,
                    interval,
                    setup,
                    data: if header.direction_in {
                        Vec::new()
                    } else {
                        data
                    },
                })
            });
        let unlink =
            (any_header(), any::<u32>()).prop_map(|(header, unlink_seqnum)| Command::Unlink {
                header,
                unlink_seqnum,
            });
        prop_oneof![submit, unlink]
    }

    proptest! {
        #[test]
        fn commands_round_trip_and_a_prefix_is_incomplete(c in any_command()) {
            let b = c.encode();
            prop_assert_eq!(Command::decode(&b).unwrap(), Some((c.clone(), b.len())));
            prop_assert_eq!(Command::decode(&b[..b.len() - 1]).unwrap(), None);
            // A stream of two: the first decodes alone and reports its own length.
            let mut two = b.clone();
            two.extend_from_slice(&b);
            prop_assert_eq!(Command::decode(&two).unwrap(), Some((c, b.len())));
        }

        #[test]
        fn submit_replies_round_trip(seqnum: u32, status in -200i32..=0, dir_in: bool,
                                     data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let r = Reply::Submit {
                seqnum,
                status,
                actual_length: data.len() as u32,
                data: if dir_in { data.clone() } else { Vec::new() },
            };
            let b = r.encode();
            prop_assert_eq!(Reply::decode(&b, |_| Some(dir_in)).unwrap(), Some((r, b.len())));
        }

        #[test]
        fn arbitrary_bytes_decode_to_an_error_none_or_a_message_within_them(
            b in proptest::collection::vec(any::<u8>(), 0..200)
        ) {
            if let Ok(Some((_, n))) = Command::decode(&b) {
                prop_assert!((URB_HEADER_LEN..=b.len()).contains(&n));
            }
            if let Ok(Some((_, n))) = Reply::decode(&b, |_| Some(true)) {
                prop_assert!((URB_HEADER_LEN..=b.len()).contains(&n));
            }
            if let Ok(Some(OpRequest::Import { busid })) = OpRequest::decode(&b) {
                prop_assert!(busid.len() < BUSID_LEN);
            }
        }
    }
}

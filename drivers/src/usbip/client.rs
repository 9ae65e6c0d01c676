//! A small blocking USB/IP client: lists and imports a device, then submits URBs to it. It is a
//! [`UsbTransport`], so a real driver (the PTP camera's) can run over a USB/IP server in plain
//! `cargo test`; and [`import_socket`] gives the connected socket that the Linux vhci `attach`
//! file takes ([`super::vhci`]).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::protocol::{
    decode_import_reply_header, status, CodecError, Command, DeviceRecord, OpRequest, Reply,
    Submit, UrbHeader, DEVICE_RECORD_LEN, OP_HEADER_LEN,
};
use crate::usb::{clear_halt_request, ControlRequest, UsbError, UsbTransport};

/// Why a USB/IP client operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("USB/IP server {addr}: {source}; is `jemput sim ptp` (or another USB/IP server) running there?")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("USB/IP I/O: {0}")]
    Io(#[from] io::Error),
    #[error("USB/IP protocol: {0}")]
    Codec(#[from] CodecError),
    #[error("the server does not export bus id {busid} (or another client has imported it); list its devices")]
    NotExported { busid: String },
}

fn connect(addr: SocketAddr) -> Result<TcpStream, ClientError> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|source| ClientError::Connect { addr, source })?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// The devices `addr` exports (OP_REQ_DEVLIST), with their interfaces.
pub fn devlist(addr: SocketAddr) -> Result<Vec<DeviceRecord>, ClientError> {
    let mut s = connect(addr)?;
    s.write_all(&OpRequest::DevList.encode()?)?;
    let mut head = [0u8; OP_HEADER_LEN + 4];
    s.read_exact(&mut head)?;
    let count = u32::from_be_bytes(head[8..12].try_into().expect("four bytes"));
    let mut out = Vec::new();
    for _ in 0..count.min(64) {
        let mut rec = [0u8; DEVICE_RECORD_LEN];
        s.read_exact(&mut rec)?;
        let mut d = DeviceRecord::decode(&rec)?;
        for _ in 0..DeviceRecord::declared_interfaces(&rec) {
            let mut i = [0u8; 4];
            s.read_exact(&mut i)?;
            d.interfaces.push([i[0], i[1], i[2]]);
        }
        out.push(d);
    }
    Ok(out)
}

/// Connects to `addr` and imports `busid`: the socket, now carrying URBs, and the device record.
pub fn import_socket(
    addr: SocketAddr,
    busid: &str,
) -> Result<(TcpStream, DeviceRecord), ClientError> {
    let mut s = connect(addr)?;
    s.write_all(
        &OpRequest::Import {
            busid: busid.into(),
        }
        .encode()?,
    )?;
    let mut head = [0u8; OP_HEADER_LEN];
    s.read_exact(&mut head)?;
    if !decode_import_reply_header(&head)? {
        return Err(ClientError::NotExported {
            busid: busid.into(),
        });
    }
    let mut rec = [0u8; DEVICE_RECORD_LEN];
    s.read_exact(&mut rec)?;
    Ok((s, DeviceRecord::decode(&rec)?))
}

/// An imported device.
#[derive(Debug)]
pub struct UsbIpClient {
    stream: TcpStream,
    addr: SocketAddr,
    record: DeviceRecord,
    next_seqnum: u32,
    /// Submitted URBs not answered yet: seqnum → IN.
    inflight: HashMap<u32, bool>,
    arrived: HashMap<u32, Reply>,
    buf: Vec<u8>,
    claimed: Vec<u8>,
    closed: bool,
}

impl UsbIpClient {
    /// Imports `busid` from the server at `addr`.
    pub fn import(addr: SocketAddr, busid: &str) -> Result<Self, ClientError> {
        let (stream, record) = import_socket(addr, busid)?;
        Ok(UsbIpClient {
            stream,
            addr,
            record,
            next_seqnum: 1,
            inflight: HashMap::new(),
            arrived: HashMap::new(),
            buf: Vec::new(),
            claimed: Vec::new(),
            closed: false,
        })
    }

    /// The imported device's record.
    pub fn record(&self) -> &DeviceRecord {
        &self.record
    }

    /// Sends CMD_SUBMIT for endpoint address `ep` (bit 7: IN) and returns its seqnum; `length` is
    /// the IN buffer size (OUT: the data's length is used).
    pub fn submit(
        &mut self,
        ep: u8,
        setup: [u8; 8],
        data: &[u8],
        length: u32,
    ) -> Result<u32, ClientError> {
        let seqnum = self.take_seqnum();
        let dir_in = ep & 0x80 != 0;
        let c = Command::Submit(Submit {
            header: UrbHeader {
                seqnum,
                devid: self.record.devid(),
                direction_in: dir_in,
                ep: u32::from(ep & 0x0F),
            },
            transfer_flags: 0,
            transfer_buffer_length: if dir_in { length } else { data.len() as u32 },
            interval: 0,
            setup,
            data: if dir_in { Vec::new() } else { data.to_vec() },
        });
        self.stream.write_all(&c.encode())?;
        self.inflight.insert(seqnum, dir_in);
        Ok(seqnum)
    }

    /// Sends CMD_UNLINK for `target` and waits for the answer: the RET_UNLINK status, and the
    /// RET_SUBMIT of `target` if it completed before the unlink reached the server.
    pub fn unlink(&mut self, target: u32) -> Result<(i32, Option<Reply>), ClientError> {
        let seqnum = self.take_seqnum();
        let c = Command::Unlink {
            header: UrbHeader {
                seqnum,
                devid: self.record.devid(),
                direction_in: false,
                ep: 0,
            },
            unlink_seqnum: target,
        };
        self.stream.write_all(&c.encode())?;
        let reply = self
            .wait(seqnum, Duration::from_secs(10))?
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "no RET_UNLINK"))?;
        let completed = self.arrived.remove(&target);
        self.inflight.remove(&target);
        match reply {
            Reply::Unlink { status, .. } => Ok((status, completed)),
            Reply::Submit { .. } => Err(CodecError::UnknownSeqnum(seqnum).into()),
        }
    }

    /// Waits up to `timeout` for the reply to `seqnum`.
    pub fn wait(&mut self, seqnum: u32, timeout: Duration) -> Result<Option<Reply>, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.arrived.remove(&seqnum) {
                self.inflight.remove(&seqnum);
                return Ok(Some(r));
            }
            loop {
                let inflight = &self.inflight;
                match Reply::decode(&self.buf, |s| inflight.get(&s).copied().or(Some(false)))? {
                    Some((r, used)) => {
                        self.buf.drain(..used);
                        let s = match &r {
                            Reply::Submit { seqnum, .. } | Reply::Unlink { seqnum, .. } => *seqnum,
                        };
                        self.arrived.insert(s, r);
                    }
                    None => break,
                }
            }
            if self.arrived.contains_key(&seqnum) {
                continue;
            }
            if self.closed {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            self.stream
                .set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))))?;
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => self.closed = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn take_seqnum(&mut self) -> u32 {
        let s = self.next_seqnum;
        self.next_seqnum = self.next_seqnum.wrapping_add(1).max(1);
        s
    }

    /// One transfer to completion or `timeout` (then unlinked): the IN data.
    fn transfer(
        &mut self,
        ep: u8,
        setup: [u8; 8],
        data: &[u8],
        length: u32,
        timeout: Duration,
    ) -> Result<Vec<u8>, UsbError> {
        let io = |e: ClientError| match e {
            ClientError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                UsbError::Disconnected
            }
            ClientError::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ) =>
            {
                UsbError::Disconnected
            }
            other => UsbError::Io(other.to_string()),
        };
        let seqnum = self.submit(ep, setup, data, length).map_err(io)?;
        let reply = match self.wait(seqnum, timeout).map_err(io)? {
            Some(r) => r,
            None => match self.unlink(seqnum).map_err(io)? {
                (_, Some(r)) => r,
                (_, None) => return Err(UsbError::Timeout(timeout)),
            },
        };
        match reply {
            Reply::Submit {
                status: 0, data, ..
            } => Ok(data),
            Reply::Submit { status: s, .. } => Err(match s {
                status::STALL => UsbError::Stall { endpoint: ep },
                status::SHUTDOWN | -19 => UsbError::Disconnected,
                status::OVERFLOW => UsbError::Overflow,
                other => UsbError::Io(format!("URB failed with status {other}")),
            }),
            Reply::Unlink { .. } => Err(UsbError::Io("RET_UNLINK for a submit".into())),
        }
    }

    fn check_claimed(&self) -> Result<(), UsbError> {
        match self.claimed.is_empty() {
            true => Err(UsbError::NotClaimed(0)),
            false => Ok(()),
        }
    }
}

fn setup_bytes(r: &ControlRequest, length: usize) -> [u8; 8] {
    let v = r.value.to_le_bytes();
    let i = r.index.to_le_bytes();
    let l = (length.min(usize::from(u16::MAX)) as u16).to_le_bytes();
    [
        r.request_type,
        r.request,
        v[0],
        v[1],
        i[0],
        i[1],
        l[0],
        l[1],
    ]
}

impl UsbTransport for UsbIpClient {
    fn claim_interface(&mut self, number: u8) -> Result<(), UsbError> {
        if !self.claimed.contains(&number) {
            self.claimed.push(number);
        }
        Ok(())
    }

    fn release_interface(&mut self, number: u8) -> Result<(), UsbError> {
        self.claimed.retain(|&n| n != number);
        Ok(())
    }

    fn control_in(
        &mut self,
        request: ControlRequest,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        let data = self.transfer(
            0x80,
            setup_bytes(&request, buf.len()),
            &[],
            buf.len() as u32,
            timeout,
        )?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(n)
    }

    fn control_out(
        &mut self,
        request: ControlRequest,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.transfer(0x00, setup_bytes(&request, data.len()), data, 0, timeout)?;
        Ok(data.len())
    }

    fn bulk_out(&mut self, ep: u8, data: &[u8], timeout: Duration) -> Result<usize, UsbError> {
        self.check_claimed()?;
        self.transfer(ep & 0x7F, [0; 8], data, 0, timeout)?;
        Ok(data.len())
    }

    fn bulk_in(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, UsbError> {
        self.check_claimed()?;
        let data = self.transfer(ep | 0x80, [0; 8], &[], buf.len() as u32, timeout)?;
        if data.len() > buf.len() {
            return Err(UsbError::Overflow);
        }
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }

    fn interrupt_in(
        &mut self,
        ep: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.bulk_in(ep, buf, timeout)
    }

    fn clear_halt(&mut self, ep: u8) -> Result<(), UsbError> {
        self.control_out(clear_halt_request(ep), &[], Duration::from_secs(5))
            .map(drop)
    }

    fn describe(&self) -> String {
        format!(
            "usbip {} {} {:04x}:{:04x}",
            self.addr, self.record.busid, self.record.vendor_id, self.record.product_id
        )
    }
}

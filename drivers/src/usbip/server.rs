//! A USB/IP server exporting one device model: it answers the standard requests from the model's
//! [`UsbDescription`] and hands everything else to the model, holding IN URBs until the model
//! has data (a NAKing endpoint the host keeps polling), and cancelling them on CMD_UNLINK.
//!
//! A bulk or interrupt IN URB is filled as a host controller fills it: packet by packet (each at
//! most the endpoint's wMaxPacketSize, asked of the model one at a time), and completed only when
//! the transfer ends — on a short packet, a zero-length packet, or a full buffer (USB 2.0 §5.3.2,
//! "a transfer is complete when the endpoint … transfers a packet with a payload size less than
//! wMaxPacketSize or transfers a zero-length packet", or when the buffer is full). A NAK in the
//! middle keeps what came and waits. So a host that reads a whole PTP event with one 64-byte URB
//! gets the whole event, even from a model whose interrupt packets are 8 bytes; models end a
//! transfer that fills its last packet with a zero-length packet, as devices must.

use std::collections::{HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::protocol::{
    encode_devlist, encode_import_reply, op_request_body_len, status, Command, DeviceRecord,
    OpRequest, Reply, Submit, OP_HEADER_LEN,
};
use crate::usb::descriptor::descriptor_type;
use crate::usb::{ControlRequest, EndpointKind, UsbDescription, UsbDevice, UsbError};

/// The bus id the one exported device has.
pub const BUSID: &str = "1-1";

/// How often a held IN URB asks the model again.
const POLL: Duration = Duration::from_millis(1);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error(
        "cannot listen on {addr}: {source}; pick another address or port (port 0 takes a free one)"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("the device description cannot be exported: {0}")]
    Description(#[from] super::protocol::CodecError),
}

type Shared = Arc<Mutex<Box<dyn UsbDevice>>>;

/// A running USB/IP server; dropping it stops accepting, ends the sessions and joins the threads.
pub struct UsbIpServer {
    addr: SocketAddr,
    record: DeviceRecord,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for UsbIpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbIpServer")
            .field("addr", &self.addr)
            .field("busid", &self.record.busid)
            .finish_non_exhaustive()
    }
}

/// The USB/IP device record of a description, as bus 1 device 2 with bus id [`BUSID`].
pub fn device_record(d: &UsbDescription) -> DeviceRecord {
    DeviceRecord {
        path: "/sys/devices/platform/jemput/usb1/1-1".into(),
        busid: BUSID.into(),
        busnum: 1,
        devnum: 2,
        speed: d.speed as u32,
        vendor_id: d.vendor_id,
        product_id: d.product_id,
        bcd_device: d.bcd_device,
        device_class: d.device_class,
        // Not configured until the importing host sets it.
        configuration_value: 0,
        num_configurations: 1,
        interfaces: d
            .interfaces
            .iter()
            .map(|i| [i.class, i.subclass, i.protocol])
            .collect(),
    }
}

impl UsbIpServer {
    /// Listens on `addr` (use `127.0.0.1:0` for a free loopback port) and exports `device`.
    pub fn start(addr: SocketAddr, device: impl UsbDevice + 'static) -> Result<Self, ServerError> {
        Self::start_boxed(addr, Box::new(device))
    }

    /// As [`UsbIpServer::start`], for a model chosen at run time.
    pub fn start_boxed(addr: SocketAddr, device: Box<dyn UsbDevice>) -> Result<Self, ServerError> {
        let listener =
            TcpListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| ServerError::Bind { addr, source })?;
        let description = device.description();
        let record = device_record(&description);
        record.encode()?;
        let shared: Shared = Arc::new(Mutex::new(device));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            let record = record.clone();
            std::thread::Builder::new()
                .name("usbip-accept".into())
                .spawn(move || accept_loop(listener, shared, description, record, stop))
                .map_err(|source| ServerError::Bind { addr, source })?
        };
        Ok(UsbIpServer {
            addr: local,
            record,
            stop,
            thread: Some(thread),
        })
    }

    /// The address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The bus id to import.
    pub fn busid(&self) -> &str {
        &self.record.busid
    }

    /// The exported device's record.
    pub fn record(&self) -> &DeviceRecord {
        &self.record
    }
}

impl Drop for UsbIpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    device: Shared,
    description: UsbDescription,
    record: DeviceRecord,
    stop: Arc<AtomicBool>,
) {
    let imported = Arc::new(AtomicBool::new(false));
    let mut sessions: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "USB/IP connection");
                let ctx = Session {
                    device: device.clone(),
                    description: description.clone(),
                    record: record.clone(),
                    stop: stop.clone(),
                    imported: imported.clone(),
                };
                match std::thread::Builder::new()
                    .name("usbip-session".into())
                    .spawn(move || {
                        if let Err(e) = ctx.serve(stream) {
                            tracing::debug!(%peer, "USB/IP connection ended: {e}");
                        }
                    }) {
                    Ok(h) => sessions.push(h),
                    Err(e) => tracing::warn!("cannot start a USB/IP session thread: {e}"),
                }
                sessions.retain(|h| !h.is_finished());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                tracing::warn!("USB/IP accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    for s in sessions {
        let _ = s.join();
    }
}

struct Session {
    device: Shared,
    description: UsbDescription,
    record: DeviceRecord,
    stop: Arc<AtomicBool>,
    imported: Arc<AtomicBool>,
}

/// An IN URB whose transfer has not ended yet.
#[derive(Debug)]
struct Held {
    seqnum: u32,
    address: u8,
    kind: EndpointKind,
    length: usize,
    /// The endpoint's wMaxPacketSize (at least 1).
    max_packet: usize,
    /// The packets received so far.
    data: Vec<u8>,
}

impl Held {
    /// Asks the model for packets until the transfer ends (`Some`) or the endpoint NAKs (`None`,
    /// keeping what came).
    fn fill(&mut self, device: &mut dyn UsbDevice) -> Option<Result<Vec<u8>, UsbError>> {
        loop {
            let want = (self.length - self.data.len()).min(self.max_packet);
            let asked = match self.kind {
                EndpointKind::Bulk => device.bulk_in(self.address, want),
                EndpointKind::Interrupt => device.interrupt_in(self.address, want),
            };
            match asked {
                Ok(None) => return None,
                Ok(Some(packet)) if packet.len() > want => return Some(Err(UsbError::Overflow)),
                Ok(Some(packet)) => {
                    let short = packet.len() < self.max_packet;
                    self.data.extend_from_slice(&packet);
                    if short || self.data.len() >= self.length {
                        return Some(Ok(std::mem::take(&mut self.data)));
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// What the device did with a URB.
enum Outcome {
    Done(Reply),
    Held(Held),
    /// The device is gone: reply, then end the session.
    Gone(Reply),
}

fn error_status(e: &UsbError) -> i32 {
    match e {
        UsbError::Stall { .. } => status::STALL,
        UsbError::Disconnected => status::SHUTDOWN,
        UsbError::Overflow => status::OVERFLOW,
        _ => status::PROTOCOL,
    }
}

fn done(seqnum: u32, result: Result<Vec<u8>, UsbError>, dir_in: bool, out_len: usize) -> Outcome {
    match result {
        Ok(data) if dir_in => Outcome::Done(Reply::Submit {
            seqnum,
            status: 0,
            actual_length: data.len() as u32,
            data,
        }),
        Ok(_) => Outcome::Done(Reply::Submit {
            seqnum,
            status: 0,
            actual_length: out_len as u32,
            data: Vec::new(),
        }),
        Err(e) => {
            let reply = Reply::Submit {
                seqnum,
                status: error_status(&e),
                actual_length: 0,
                data: Vec::new(),
            };
            match e {
                UsbError::Disconnected => Outcome::Gone(reply),
                _ => Outcome::Done(reply),
            }
        }
    }
}

impl Session {
    fn serve(self, mut stream: TcpStream) -> io::Result<()> {
        stream.set_nonblocking(false)?;
        // No deadline for the request: QEMU's guestfwd connects when the VM starts and the guest
        // speaks once it has booted. Short read timeouts only let a stopping server notice.
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        let mut header = [0u8; OP_HEADER_LEN];
        self.read_full(&mut stream, &mut header)?;
        let body_len = op_request_body_len(&header)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let mut whole = header.to_vec();
        whole.resize(OP_HEADER_LEN + body_len, 0);
        self.read_full(&mut stream, &mut whole[OP_HEADER_LEN..])?;
        let request = OpRequest::decode(&whole)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            .expect("the whole request was read");
        let codec = |e| io::Error::new(io::ErrorKind::InvalidData, e);
        match request {
            OpRequest::DevList => stream
                .write_all(&encode_devlist(std::slice::from_ref(&self.record)).map_err(codec)?),
            OpRequest::Import { busid } => {
                let free = busid == self.record.busid
                    && self
                        .imported
                        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok();
                if !free {
                    tracing::info!(busid, "USB/IP import refused (unknown bus id or in use)");
                    return stream.write_all(&encode_import_reply(None).map_err(codec)?);
                }
                stream.write_all(&encode_import_reply(Some(&self.record)).map_err(codec)?)?;
                tracing::info!(busid, "USB/IP device imported");
                let result = self.urbs(stream);
                self.imported.store(false, Ordering::SeqCst);
                result
            }
        }
    }

    /// Fills `buf`, waiting as long as it takes unless the server stops.
    fn read_full(&self, stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
        let mut got = 0;
        while got < buf.len() {
            if self.stop.load(Ordering::SeqCst) {
                return Err(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "server stopping",
                ));
            }
            match stream.read(&mut buf[got..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => got += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The URB phase: a reader thread decodes commands; this thread runs them against the model,
    /// writes the replies and keeps asking for the data of held IN URBs.
    fn urbs(&self, stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(None)?;
        let mut writer = stream.try_clone()?;
        let (tx, rx) = mpsc::channel::<Command>();
        let reader = std::thread::Builder::new()
            .name("usbip-read".into())
            .spawn(move || read_commands(stream, tx))?;
        let mut held: VecDeque<Held> = VecDeque::new();
        let mut configuration = 0u8;
        let result = loop {
            if self.stop.load(Ordering::SeqCst) {
                break Ok(());
            }
            let wait = if held.is_empty() {
                Duration::from_millis(50)
            } else {
                POLL
            };
            let mut replies = Vec::new();
            let mut gone = false;
            match rx.recv_timeout(wait) {
                Ok(Command::Submit(s)) => {
                    match self.submit(&s, &mut configuration) {
                        Outcome::Done(r) => replies.push(r),
                        Outcome::Held(h) => held.push_back(h),
                        Outcome::Gone(r) => {
                            replies.push(r);
                            gone = true;
                        }
                    };
                }
                Ok(Command::Unlink {
                    header,
                    unlink_seqnum,
                }) => {
                    let was_held = held.iter().position(|h| h.seqnum == unlink_seqnum);
                    let status = match was_held {
                        Some(i) => {
                            held.remove(i);
                            status::UNLINKED
                        }
                        // Already answered: nothing to cancel.
                        None => 0,
                    };
                    replies.push(Reply::Unlink {
                        seqnum: header.seqnum,
                        status,
                    });
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break Ok(()),
            }
            if !gone {
                gone = self.poll_held(&mut held, &mut replies);
            }
            let mut wrote = Ok(());
            for r in replies {
                wrote = writer.write_all(&r.encode());
                if wrote.is_err() {
                    break;
                }
            }
            if let Err(e) = wrote {
                break Err(e);
            }
            if gone {
                tracing::info!("the device model went away; ending the USB/IP session");
                break Ok(());
            }
        };
        let _ = writer.shutdown(std::net::Shutdown::Both);
        let _ = reader.join();
        result
    }

    /// Asks the model for the data of each held URB, the oldest of each endpoint first; returns
    /// whether the device went away.
    fn poll_held(&self, held: &mut VecDeque<Held>, replies: &mut Vec<Reply>) -> bool {
        if held.is_empty() {
            return false;
        }
        let Ok(mut device) = self.device.lock() else {
            return true;
        };
        let mut waiting: HashSet<u8> = HashSet::new();
        let mut i = 0;
        while i < held.len() {
            let address = held[i].address;
            if waiting.contains(&address) {
                i += 1;
                continue;
            }
            let Some(result) = held[i].fill(&mut **device) else {
                waiting.insert(address);
                i += 1;
                continue;
            };
            let seqnum = held[i].seqnum;
            held.remove(i);
            match done(seqnum, result, true, 0) {
                Outcome::Done(r) => replies.push(r),
                Outcome::Gone(r) => {
                    replies.push(r);
                    return true;
                }
                Outcome::Held(_) => unreachable!("done() never holds"),
            }
        }
        false
    }

    fn submit(&self, s: &Submit, configuration: &mut u8) -> Outcome {
        let seqnum = s.header.seqnum;
        let dir_in = s.header.direction_in;
        let length = s.transfer_buffer_length as usize;
        if s.header.ep == 0 {
            let result = self.control(s, configuration).map(|mut d| {
                d.truncate(length);
                d
            });
            return done(seqnum, result, dir_in, s.data.len());
        }
        let address = (s.header.ep as u8 & 0x0F) | if dir_in { 0x80 } else { 0 };
        let Some((kind, max_packet)) = self
            .description
            .endpoint(address)
            .map(|e| (e.kind, usize::from(e.max_packet).max(1)))
        else {
            tracing::debug!(address, "URB for an endpoint the device does not have");
            return done(
                seqnum,
                Err(UsbError::Stall { endpoint: address }),
                dir_in,
                0,
            );
        };
        if dir_in {
            return Outcome::Held(Held {
                seqnum,
                address,
                kind,
                length,
                max_packet,
                data: Vec::new(),
            });
        }
        let result = match self.device.lock() {
            Ok(mut d) => d.bulk_out(address, &s.data).map(|()| Vec::new()),
            Err(_) => Err(UsbError::Disconnected),
        };
        done(seqnum, result, false, s.data.len())
    }

    /// A control transfer: standard requests from the description, the rest to the model.
    fn control(&self, s: &Submit, configuration: &mut u8) -> Result<Vec<u8>, UsbError> {
        let setup = s.setup;
        let request = ControlRequest {
            request_type: setup[0],
            request: setup[1],
            value: u16::from_le_bytes([setup[2], setup[3]]),
            index: u16::from_le_bytes([setup[4], setup[5]]),
        };
        let w_length = usize::from(u16::from_le_bytes([setup[6], setup[7]]));
        let stall = Err(UsbError::Stall { endpoint: 0 });
        let standard = request.request_type & 0x60 == 0;
        if standard {
            let d = &self.description;
            let recipient = request.request_type & 0x1F;
            match (request.is_in(), request.request) {
                // GET_STATUS: self-powered device; interfaces and endpoints report zero.
                (true, 0x00) => return Ok(vec![u8::from(recipient == 0), 0]),
                // CLEAR_FEATURE(ENDPOINT_HALT): the model keeps the halt state.
                (false, 0x01) if recipient == 2 => {
                    let mut dev = self.device.lock().map_err(|_| UsbError::Disconnected)?;
                    // A model that does not track halts has nothing to clear.
                    return match dev.control(&request, &[], 0) {
                        Ok(_) | Err(UsbError::Stall { .. }) => Ok(Vec::new()),
                        Err(e) => Err(e),
                    };
                }
                // CLEAR_FEATURE / SET_FEATURE on the device (remote wakeup): accepted.
                (false, 0x01 | 0x03) => return Ok(Vec::new()),
                // SET_ADDRESS (vhci answers it itself; harmless if it reaches us).
                (false, 0x05) => return Ok(Vec::new()),
                (true, 0x06) => {
                    let index = (request.value & 0xFF) as u8;
                    let desc = match (request.value >> 8) as u8 {
                        descriptor_type::DEVICE => Some(d.device_descriptor()),
                        descriptor_type::CONFIGURATION if index == 0 => {
                            Some(d.configuration_descriptor())
                        }
                        descriptor_type::STRING => d.string_descriptor(index),
                        descriptor_type::DEVICE_QUALIFIER => d.device_qualifier(),
                        _ => None,
                    };
                    return match desc {
                        Some(mut bytes) => {
                            bytes.truncate(w_length);
                            Ok(bytes)
                        }
                        None => stall,
                    };
                }
                (true, 0x08) => return Ok(vec![*configuration]),
                (false, 0x09) => {
                    return match request.value {
                        0 | 1 => {
                            *configuration = request.value as u8;
                            Ok(Vec::new())
                        }
                        _ => stall,
                    }
                }
                (true, 0x0A) => return Ok(vec![0]),
                // SET_INTERFACE: alternate setting 0 is the only one.
                (false, 0x0B) => {
                    return match request.value {
                        0 => Ok(Vec::new()),
                        _ => stall,
                    }
                }
                _ => return stall,
            }
        }
        let mut dev = self.device.lock().map_err(|_| UsbError::Disconnected)?;
        let max_in = if request.is_in() { w_length } else { 0 };
        dev.control(&request, &s.data, max_in)
    }
}

/// Reads and decodes commands until the peer closes the connection or sends garbage.
fn read_commands(mut stream: TcpStream, tx: mpsc::Sender<Command>) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        loop {
            match Command::decode(&buf) {
                Ok(Some((c, used))) => {
                    buf.drain(..used);
                    if tx.send(c).is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("bad USB/IP command, closing the connection: {e}");
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    return;
                }
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

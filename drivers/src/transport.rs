//! The small serial transport every serial driver is generic over: write, read with a deadline,
//! flush, baud. Production uses [`PortLink`] (`serialport` on a tty or pty); tests can use the
//! in-memory [`MemLink`] pair.
//!
//! OS errors are mapped on purpose: busy, permission denied, not found, disconnected (EIO/ENODEV/ENXIO,
//! or a zero-byte read after the other side hung up). After an unplug, reopen by selector, never by
//! the old path.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Why a link operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("the device was disconnected (unplugged, or the other end closed)")]
    Disconnected,
    #[error(
        "{0} is busy: another program has it open (close it, or stop ModemManager probing it)"
    )]
    Busy(PathBuf),
    #[error("permission denied opening {0}: add the operator to the `dialout` group or install jemput's udev rules")]
    PermissionDenied(PathBuf),
    #[error("{0} does not exist (unplugged, or a wrong path)")]
    NotFound(PathBuf),
    #[error("serial I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Maps an OS error from a tty to the link error a technician can act on.
pub fn map_io(path: &Path, e: io::Error) -> LinkError {
    match e.raw_os_error() {
        Some(16) => return LinkError::Busy(path.into()), // EBUSY
        Some(13) | Some(1) => return LinkError::PermissionDenied(path.into()), // EACCES, EPERM
        Some(2) => return LinkError::NotFound(path.into()), // ENOENT
        Some(5) | Some(19) | Some(6) => return LinkError::Disconnected, // EIO, ENODEV, ENXIO
        _ => {}
    }
    match e.kind() {
        io::ErrorKind::ResourceBusy => LinkError::Busy(path.into()),
        io::ErrorKind::PermissionDenied => LinkError::PermissionDenied(path.into()),
        io::ErrorKind::NotFound => LinkError::NotFound(path.into()),
        io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof => LinkError::Disconnected,
        _ => LinkError::Io(e),
    }
}

/// A byte link to a serial device.
pub trait SerialLink: Send {
    /// Writes all of `data`.
    fn write_all(&mut self, data: &[u8]) -> Result<(), LinkError>;
    /// Reads at least one byte into `buf`, waiting until `deadline`; `Timeout` if none came.
    fn read_some(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError>;
    /// Waits until written bytes have left.
    fn flush(&mut self) -> Result<(), LinkError>;
    /// Changes the line speed (a no-op where there is no line, e.g. in memory).
    fn set_baud(&mut self, baud: u32) -> Result<(), LinkError>;
    /// Drops whatever has been received and not read.
    fn clear_input(&mut self) -> Result<(), LinkError>;
    /// What to call the link in messages (a tty path, `memory`).
    fn describe(&self) -> String;

    /// Reads exactly `buf.len()` bytes by `deadline`.
    fn read_exact_by(&mut self, buf: &mut [u8], deadline: Instant) -> Result<(), LinkError> {
        let mut got = 0;
        while got < buf.len() {
            got += self.read_some(&mut buf[got..], deadline)?;
        }
        Ok(())
    }
}

/// A real serial port (tty, USB-serial adapter, or pty) through `serialport`. Modem lines are never
/// required: ptys have none.
pub struct PortLink {
    port: Box<dyn serialport::SerialPort>,
    path: PathBuf,
}

impl std::fmt::Debug for PortLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PortLink({})", self.path.display())
    }
}

fn map_serial(path: &Path, e: serialport::Error) -> LinkError {
    // serialport keeps an error kind and the errno's description: EBUSY (a port another program
    // holds with TIOCEXCL) arrives as `NoDevice`, EACCES and ENOENT as I/O kinds, EIO and ENXIO only
    // as descriptions.
    let d = e.to_string();
    match e.kind() {
        serialport::ErrorKind::NoDevice if path.exists() => LinkError::Busy(path.into()),
        serialport::ErrorKind::NoDevice => LinkError::NotFound(path.into()),
        serialport::ErrorKind::Io(io::ErrorKind::PermissionDenied) => {
            LinkError::PermissionDenied(path.into())
        }
        serialport::ErrorKind::Io(io::ErrorKind::NotFound) => LinkError::NotFound(path.into()),
        serialport::ErrorKind::Io(io::ErrorKind::ResourceBusy) => LinkError::Busy(path.into()),
        _ if d.contains("Input/output error") || d.contains("No such device") => {
            LinkError::Disconnected
        }
        serialport::ErrorKind::Io(kind) => LinkError::Io(io::Error::new(kind, d)),
        _ => LinkError::Io(io::Error::other(d)),
    }
}

impl PortLink {
    /// Opens `path` exclusively at `baud`, 8N1, no flow control.
    pub fn open(path: &Path, baud: u32) -> Result<Self, LinkError> {
        let port = serialport::new(path.to_string_lossy(), baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| map_serial(path, e))?;
        Ok(PortLink {
            port,
            path: path.into(),
        })
    }

    /// Wraps an already open port (e.g. one end of `serialport::TTYPort::pair()`).
    pub fn from_port(port: Box<dyn serialport::SerialPort>, name: &str) -> Self {
        PortLink {
            port,
            path: PathBuf::from(name),
        }
    }
}

impl SerialLink for PortLink {
    fn write_all(&mut self, mut data: &[u8]) -> Result<(), LinkError> {
        // The port timeout is whatever the last read left (possibly a millisecond), and a full
        // output buffer (a pty whose reader is slower than us) is normal: keep writing while the
        // other side makes progress, give up after a long stall.
        const STALL: Duration = Duration::from_secs(5);
        self.port
            .set_timeout(Duration::from_millis(100))
            .map_err(|e| map_serial(&self.path, e))?;
        let mut progress = Instant::now();
        while !data.is_empty() {
            match io::Write::write(&mut self.port, data) {
                Ok(0) => return Err(LinkError::Disconnected),
                Ok(n) => {
                    data = &data[n..];
                    progress = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if progress.elapsed() > STALL {
                        return Err(LinkError::Timeout(STALL));
                    }
                }
                Err(e) => return Err(map_io(&self.path, e)),
            }
        }
        Ok(())
    }

    fn read_some(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(LinkError::Timeout(Duration::ZERO));
            }
            let wait = (deadline - now).max(Duration::from_millis(1));
            self.port
                .set_timeout(wait)
                .map_err(|e| map_serial(&self.path, e))?;
            match io::Read::read(&mut self.port, buf) {
                Ok(0) => return Err(LinkError::Disconnected),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(map_io(&self.path, e)),
            }
        }
    }

    fn flush(&mut self) -> Result<(), LinkError> {
        io::Write::flush(&mut self.port).map_err(|e| map_io(&self.path, e))
    }

    fn set_baud(&mut self, baud: u32) -> Result<(), LinkError> {
        self.port
            .set_baud_rate(baud)
            .map_err(|e| map_serial(&self.path, e))
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        self.port
            .clear(serialport::ClearBuffer::Input)
            .map_err(|e| map_serial(&self.path, e))
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// A new pty pair for a serial device model: the master end as the model's link, and the slave's
/// path, which a driver (or any program) opens as it would the device's tty. Closing the slave
/// does not end the pair: hosts may close and reopen it.
pub fn pty_pair() -> Result<(PortLink, PathBuf), LinkError> {
    let (master, slave) =
        serialport::TTYPort::pair().map_err(|e| LinkError::Io(io::Error::other(e.to_string())))?;
    let path = serialport::SerialPort::name(&slave)
        .map(PathBuf::from)
        .ok_or_else(|| LinkError::Io(io::Error::other("the pty slave has no name")))?;
    drop(slave);
    Ok((PortLink::from_port(Box::new(master), "pty master"), path))
}

#[derive(Debug, Default)]
struct Pipe {
    buf: VecDeque<u8>,
    closed: bool,
}

type Shared = Arc<(Mutex<Pipe>, Condvar)>;

/// One end of an in-memory duplex link; dropping an end disconnects the other.
#[derive(Debug)]
pub struct MemLink {
    rx: Shared,
    tx: Shared,
}

impl MemLink {
    /// Two connected ends: what one writes, the other reads.
    pub fn pair() -> (MemLink, MemLink) {
        let a: Shared = Arc::default();
        let b: Shared = Arc::default();
        (
            MemLink {
                rx: a.clone(),
                tx: b.clone(),
            },
            MemLink { rx: b, tx: a },
        )
    }
}

impl Drop for MemLink {
    fn drop(&mut self) {
        for s in [&self.rx, &self.tx] {
            if let Ok(mut p) = s.0.lock() {
                p.closed = true;
            }
            s.1.notify_all();
        }
    }
}

impl SerialLink for MemLink {
    fn write_all(&mut self, data: &[u8]) -> Result<(), LinkError> {
        let mut p = self.tx.0.lock().expect("link lock");
        if p.closed {
            return Err(LinkError::Disconnected);
        }
        p.buf.extend(data);
        self.tx.1.notify_all();
        Ok(())
    }

    fn read_some(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        let mut p = self.rx.0.lock().expect("link lock");
        loop {
            if !p.buf.is_empty() {
                let n = buf.len().min(p.buf.len());
                for (slot, byte) in buf.iter_mut().zip(p.buf.drain(..n)) {
                    *slot = byte;
                }
                return Ok(n);
            }
            if p.closed {
                return Err(LinkError::Disconnected);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LinkError::Timeout(Duration::ZERO));
            }
            p = self
                .rx
                .1
                .wait_timeout(p, deadline - now)
                .expect("link lock")
                .0;
        }
    }

    fn flush(&mut self) -> Result<(), LinkError> {
        Ok(())
    }

    fn set_baud(&mut self, _baud: u32) -> Result<(), LinkError> {
        Ok(())
    }

    fn clear_input(&mut self) -> Result<(), LinkError> {
        self.rx.0.lock().expect("link lock").buf.clear();
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serialport::SerialPort;

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[test]
    fn memory_link_carries_bytes_both_ways_and_times_out() {
        let (mut a, mut b) = MemLink::pair();
        a.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        b.read_exact_by(&mut buf, soon(100)).unwrap();
        assert_eq!(&buf, b"ping");
        b.write_all(b"!").unwrap();
        let mut one = [0u8; 1];
        assert_eq!(a.read_some(&mut one, soon(100)).unwrap(), 1);
        assert!(matches!(
            a.read_some(&mut one, soon(20)),
            Err(LinkError::Timeout(_))
        ));
        drop(b);
        assert!(matches!(
            a.read_some(&mut one, soon(20)),
            Err(LinkError::Disconnected)
        ));
        assert!(matches!(a.write_all(b"x"), Err(LinkError::Disconnected)));
    }

    #[test]
    fn a_pty_pair_carries_bytes_through_portlink() {
        let (master, slave) = serialport::TTYPort::pair().expect("pty pair");
        let name = slave.name().unwrap();
        drop(slave);
        let mut host = PortLink::open(Path::new(&name), 57_600).unwrap();
        let mut dev = PortLink::from_port(Box::new(master), "pty-master");
        host.write_all(&[0xEF, 0x01]).unwrap();
        let mut buf = [0u8; 2];
        dev.read_exact_by(&mut buf, soon(500)).unwrap();
        assert_eq!(buf, [0xEF, 0x01]);
        dev.write_all(b"ok").unwrap();
        host.read_exact_by(&mut buf, soon(500)).unwrap();
        assert_eq!(&buf, b"ok");
        let mut one = [0u8; 1];
        assert!(matches!(
            host.read_some(&mut one, soon(30)),
            Err(LinkError::Timeout(_))
        ));
    }

    #[test]
    fn os_errors_map_to_what_a_technician_can_act_on() {
        let p = Path::new("/dev/ttyUSB9");
        assert!(matches!(
            map_io(p, io::Error::from_raw_os_error(16)),
            LinkError::Busy(_)
        ));
        assert!(matches!(
            map_io(p, io::Error::from_raw_os_error(13)),
            LinkError::PermissionDenied(_)
        ));
        assert!(matches!(
            map_io(p, io::Error::from_raw_os_error(5)),
            LinkError::Disconnected
        ));
        assert!(matches!(
            map_io(p, io::Error::from_raw_os_error(19)),
            LinkError::Disconnected
        ));
        let e = PortLink::open(Path::new("/dev/does-not-exist-jemput"), 9600).unwrap_err();
        assert!(matches!(e, LinkError::NotFound(_)), "{e}");
        assert!(e.to_string().contains("does not exist"));
    }
}

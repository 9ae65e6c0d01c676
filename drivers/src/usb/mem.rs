//! The in-memory USB transport: each transfer the driver makes is handed to a device model in the
//! same process. The model is passive (it answers when asked, like a USB device answering the
//! host's tokens); a transfer the model has nothing for yet is retried until its timeout, as a
//! host controller retries a NAKed endpoint.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{
    clear_halt_request, ControlRequest, UsbDescription, UsbDevice, UsbError, UsbTransport,
};

/// The device side of a USB link: what a device model implements to sit under [`MemUsb`].
pub trait UsbFunction: Send {
    /// A control transfer. For a request with a device-to-host data stage, return at most
    /// `max_in` bytes; for host-to-device, `data_out` is the data stage and the result is ignored.
    fn control(
        &mut self,
        request: &ControlRequest,
        data_out: &[u8],
        max_in: usize,
    ) -> Result<Vec<u8>, UsbError>;
    /// The host wrote `data` to bulk OUT endpoint `ep`.
    fn bulk_out(&mut self, ep: u8, data: &[u8]) -> Result<(), UsbError>;
    /// The host asks for up to `max_len` bytes from bulk IN endpoint `ep`; `None`: nothing to send
    /// yet (NAK). An empty vector is a zero-length packet.
    fn bulk_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError>;
    /// As [`UsbFunction::bulk_in`], for interrupt IN endpoint `ep`.
    fn interrupt_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError>;
    /// The host claims interface `number` (refuse with [`UsbError::Busy`] to play a device another
    /// program holds).
    fn claim(&mut self, number: u8) -> Result<(), UsbError> {
        let _ = number;
        Ok(())
    }
}

impl<T: UsbFunction + ?Sized> UsbFunction for Box<T> {
    fn control(
        &mut self,
        request: &ControlRequest,
        data_out: &[u8],
        max_in: usize,
    ) -> Result<Vec<u8>, UsbError> {
        (**self).control(request, data_out, max_in)
    }
    fn bulk_out(&mut self, ep: u8, data: &[u8]) -> Result<(), UsbError> {
        (**self).bulk_out(ep, data)
    }
    fn bulk_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        (**self).bulk_in(ep, max_len)
    }
    fn interrupt_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        (**self).interrupt_in(ep, max_len)
    }
    fn claim(&mut self, number: u8) -> Result<(), UsbError> {
        (**self).claim(number)
    }
}

/// Pulls the cable of a [`MemUsb`] device from a test: every later transfer fails with
/// [`UsbError::Disconnected`].
#[derive(Debug, Clone, Default)]
pub struct Unplug(Arc<AtomicBool>);

impl Unplug {
    /// Unplugs the device.
    pub fn pull(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether the device has been unplugged.
    pub fn is_pulled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A USB transport to a device model in this process.
pub struct MemUsb {
    function: Arc<Mutex<dyn UsbFunction>>,
    claimed: Vec<u8>,
    unplug: Unplug,
    /// How long to wait before asking a NAKing endpoint again.
    poll: Duration,
}

impl std::fmt::Debug for MemUsb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemUsb")
            .field("claimed", &self.claimed)
            .field("unplugged", &self.unplug.is_pulled())
            .finish_non_exhaustive()
    }
}

impl MemUsb {
    /// A transport to `function`.
    pub fn new(function: impl UsbFunction + 'static) -> Self {
        MemUsb::shared(Arc::new(Mutex::new(function)))
    }

    /// A transport to a `function` that other transports may share (see [`MemPlug`]).
    pub fn shared(function: Arc<Mutex<dyn UsbFunction>>) -> Self {
        MemUsb {
            function,
            claimed: Vec::new(),
            unplug: Unplug::default(),
            poll: Duration::from_millis(1),
        }
    }

    /// A handle that unplugs this device.
    pub fn unplug_handle(&self) -> Unplug {
        self.unplug.clone()
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&mut dyn UsbFunction) -> Result<R, UsbError>,
    ) -> Result<R, UsbError> {
        if self.unplug.is_pulled() {
            return Err(UsbError::Disconnected);
        }
        // A model that panicked is a device that stopped answering.
        let mut guard = self.function.lock().map_err(|_| UsbError::Disconnected)?;
        f(&mut *guard)
    }

    fn check_claimed(&self) -> Result<(), UsbError> {
        match self.claimed.first() {
            Some(_) => Ok(()),
            None => Err(UsbError::NotClaimed(0)),
        }
    }

    /// Asks `ask` until it has something or `timeout` passes.
    fn poll_in(
        &self,
        buf: &mut [u8],
        timeout: Duration,
        ask: impl Fn(&mut dyn UsbFunction, usize) -> Result<Option<Vec<u8>>, UsbError>,
    ) -> Result<usize, UsbError> {
        self.check_claimed()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(data) = self.with(|f| ask(f, buf.len()))? {
                if data.len() > buf.len() {
                    return Err(UsbError::Overflow);
                }
                buf[..data.len()].copy_from_slice(&data);
                return Ok(data.len());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(UsbError::Timeout(timeout));
            }
            std::thread::sleep(self.poll.min(deadline - now));
        }
    }
}

/// A USB device model plugged in to this process: each [`MemPlug::connect`] is a new in-memory
/// transport to the same model, as a driver finding the device on the bus again after a replug.
#[derive(Clone)]
pub struct MemPlug {
    device: Arc<Mutex<Box<dyn UsbDevice>>>,
    description: UsbDescription,
}

impl std::fmt::Debug for MemPlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemPlug")
            .field("vendor_id", &self.description.vendor_id)
            .field("product_id", &self.description.product_id)
            .finish_non_exhaustive()
    }
}

impl MemPlug {
    /// Plugs `device` in.
    pub fn new(device: Box<dyn UsbDevice>) -> Self {
        MemPlug {
            description: device.description(),
            device: Arc::new(Mutex::new(device)),
        }
    }

    /// What the device says it is (its descriptors), as read at plug-in.
    pub fn description(&self) -> &UsbDescription {
        &self.description
    }

    /// A new transport to the device.
    pub fn connect(&self) -> MemUsb {
        MemUsb::shared(self.device.clone())
    }
}

impl UsbTransport for MemUsb {
    fn claim_interface(&mut self, number: u8) -> Result<(), UsbError> {
        self.with(|f| f.claim(number))?;
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
        _timeout: Duration,
    ) -> Result<usize, UsbError> {
        let data = self.with(|f| f.control(&request, &[], buf.len()))?;
        if data.len() > buf.len() {
            return Err(UsbError::Overflow);
        }
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }

    fn control_out(
        &mut self,
        request: ControlRequest,
        data: &[u8],
        _timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.with(|f| f.control(&request, data, 0))?;
        Ok(data.len())
    }

    fn bulk_out(&mut self, ep: u8, data: &[u8], _timeout: Duration) -> Result<usize, UsbError> {
        self.check_claimed()?;
        self.with(|f| f.bulk_out(ep, data))?;
        Ok(data.len())
    }

    fn bulk_in(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, UsbError> {
        self.poll_in(buf, timeout, |f, max| f.bulk_in(ep, max))
    }

    fn interrupt_in(
        &mut self,
        ep: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.poll_in(buf, timeout, |f, max| f.interrupt_in(ep, max))
    }

    fn clear_halt(&mut self, ep: u8) -> Result<(), UsbError> {
        self.with(|f| f.control(&clear_halt_request(ep), &[], 0))
            .map(drop)
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echoes bulk OUT on bulk IN, one byte per interrupt poll, stalls endpoint 0x85.
    #[derive(Default)]
    struct Echo {
        pending: Vec<u8>,
    }

    impl UsbFunction for Echo {
        fn control(
            &mut self,
            request: &ControlRequest,
            _data_out: &[u8],
            max_in: usize,
        ) -> Result<Vec<u8>, UsbError> {
            Ok(vec![request.request; max_in.min(2)])
        }
        fn bulk_out(&mut self, _ep: u8, data: &[u8]) -> Result<(), UsbError> {
            self.pending.extend_from_slice(data);
            Ok(())
        }
        fn bulk_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
            if ep == 0x85 {
                return Err(UsbError::Stall { endpoint: ep });
            }
            if self.pending.is_empty() {
                return Ok(None);
            }
            let n = max_len.min(self.pending.len());
            Ok(Some(self.pending.drain(..n).collect()))
        }
        fn interrupt_in(&mut self, _ep: u8, _max: usize) -> Result<Option<Vec<u8>>, UsbError> {
            Ok(None)
        }
    }

    #[test]
    fn transfers_reach_the_model_and_its_answers_come_back() {
        let mut usb = MemUsb::new(Echo::default());
        let mut buf = [0u8; 8];
        assert_eq!(
            usb.bulk_in(0x81, &mut buf, Duration::from_millis(5)),
            Err(UsbError::NotClaimed(0)),
            "endpoint I/O needs a claimed interface"
        );
        usb.claim_interface(0).unwrap();
        usb.bulk_out(0x02, b"hello", Duration::from_millis(5))
            .unwrap();
        assert_eq!(usb.bulk_in(0x81, &mut buf[..3], Duration::ZERO).unwrap(), 3);
        assert_eq!(&buf[..3], b"hel");
        assert_eq!(usb.bulk_in(0x81, &mut buf, Duration::ZERO).unwrap(), 2);
        assert_eq!(&buf[..2], b"lo");
        let req = ControlRequest {
            request_type: 0xC0,
            request: 7,
            value: 0,
            index: 0,
        };
        assert_eq!(
            usb.control_in(req, &mut buf, Duration::ZERO).unwrap(),
            2,
            "control IN returns what the model answered"
        );
        assert_eq!(&buf[..2], &[7, 7]);
    }

    #[test]
    fn silence_times_out_stalls_and_unplugs_are_reported_as_such() {
        let mut usb = MemUsb::new(Echo::default());
        usb.claim_interface(0).unwrap();
        let mut buf = [0u8; 8];
        let begun = Instant::now();
        assert_eq!(
            usb.interrupt_in(0x83, &mut buf, Duration::from_millis(20)),
            Err(UsbError::Timeout(Duration::from_millis(20)))
        );
        assert!(begun.elapsed() >= Duration::from_millis(20));
        assert_eq!(
            usb.bulk_in(0x85, &mut buf, Duration::ZERO),
            Err(UsbError::Stall { endpoint: 0x85 })
        );
        usb.unplug_handle().pull();
        assert_eq!(
            usb.bulk_out(0x02, b"x", Duration::ZERO),
            Err(UsbError::Disconnected)
        );
        assert_eq!(usb.claim_interface(0), Err(UsbError::Disconnected));
    }
}

//! A U.are.U 4000B model: the reader's side of the same codec (registers, events, the image
//! transfer), showing synthetic fingerprints (never a real person's) and injecting faults on
//! request — no finger for N polls, a fault event, a short image transfer, an unplug
//! mid-transfer, a unit stuck at power-up, a scrambled image.
//!
//! [`UruHandle`] shares one model between transports, so a test (or a `sim:` device) can unplug
//! and replug it and the driver finds the same reader again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::ids;
use super::protocol::{
    block, decode_register_access, reg, Event, ImageHeader, Mode, RawImage, RegisterAccess,
    HWSTAT_POWERED, HWSTAT_RESET_DONE, IMAGE_HEIGHT, IMAGE_WIDTH,
};
use crate::synth;
use crate::usb::{
    ControlRequest, EndpointDescription, EndpointKind, InterfaceDescription, MemUsb,
    UsbDescription, UsbDevice, UsbError, UsbFunction, UsbSpeed,
};
use crate::FingerPosition;

/// A fault the model injects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UruFault {
    /// The next finger arrives only after this many interrupt polls (`u32::MAX`: never).
    NoFinger { polls: u32 },
    /// The next wait for a finger ends with a fault event (0x0800).
    FaultEvent,
    /// The next image transfer ends after this many bytes.
    ShortImage { bytes: usize },
    /// The reader is unplugged during the next image transfer.
    UnplugMidTransfer,
    /// HWSTAT reads 0x84 at power-up; bit 1 appears this many HWSTAT reads after the reset write.
    Stuck { reads: u32 },
    /// The next image is flagged scrambled (its lines XORed with a pattern).
    Scrambled,
}

/// How the model looks and behaves.
#[derive(Debug, Clone)]
pub struct UruModelConfig {
    pub vid: u16,
    pub pid: u16,
    pub serial: String,
    /// Whose fingers are scanned (synthetic people).
    pub person_seed: u64,
    /// The finger of the first capture; each capture takes the next finger.
    pub first_finger: FingerPosition,
    /// Interrupt polls in await-finger-on mode before the finger arrives.
    pub finger_after_polls: u32,
    pub faults: Vec<UruFault>,
}

impl Default for UruModelConfig {
    fn default() -> Self {
        UruModelConfig {
            vid: 0x05ba,
            pid: 0x000a,
            serial: "SIMURU0001".into(),
            person_seed: 1,
            first_finger: FingerPosition::new(2).expect("right index"),
            finger_after_polls: 3,
            faults: Vec::new(),
        }
    }
}

/// What the model was asked, in order, for tests to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UruOp {
    ReadRegister(u16),
    WriteRegister(u16, Vec<u8>),
    ImageRead,
}

/// The reader model (implements [`UsbFunction`]).
#[derive(Debug)]
pub struct UruModel {
    cfg: UruModelConfig,
    hwstat: u8,
    stuck_reads_left: Option<u32>,
    mode: Mode,
    events: VecDeque<Event>,
    polls: u32,
    /// Polls before the finger arrives in this wait (`u32::MAX`: never).
    finger_after: u32,
    finger_on: bool,
    image: Option<Vec<u8>>,
    /// What is left of an image a host reads in several bulk transfers (libusb and the kernel
    /// split large transfers into URBs).
    image_rest: Option<Vec<u8>>,
    captures: u64,
    unplugged: bool,
    log: Vec<UruOp>,
}

impl UruModel {
    pub fn new(cfg: UruModelConfig) -> Self {
        let stuck = cfg
            .faults
            .iter()
            .any(|f| matches!(f, UruFault::Stuck { .. }));
        UruModel {
            hwstat: if stuck { 0x84 } else { 0x00 },
            stuck_reads_left: None,
            mode: Mode::Init,
            events: VecDeque::new(),
            polls: 0,
            finger_after: cfg.finger_after_polls,
            finger_on: false,
            image: None,
            image_rest: None,
            captures: 0,
            unplugged: false,
            log: Vec::new(),
            cfg,
        }
    }

    /// The requests received so far.
    pub fn log(&self) -> &[UruOp] {
        &self.log
    }

    /// The current MODE.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Images sent so far.
    pub fn captures(&self) -> u64 {
        self.captures
    }

    /// Pulls the cable: every transfer fails until [`UruModel::replug`].
    pub fn unplug(&mut self) {
        self.unplugged = true;
    }

    /// Whether the cable is out.
    pub fn is_unplugged(&self) -> bool {
        self.unplugged
    }

    /// Plugs the reader back in: it comes back unpowered, as after any replug.
    pub fn replug(&mut self) {
        self.unplugged = false;
        self.hwstat = 0;
        self.stuck_reads_left = None;
        self.mode = Mode::Init;
        self.events.clear();
        self.polls = 0;
        self.finger_on = false;
        self.image = None;
        self.image_rest = None;
    }

    fn take_fault(&mut self, pick: impl Fn(&UruFault) -> bool) -> Option<UruFault> {
        let i = self.cfg.faults.iter().position(pick)?;
        Some(self.cfg.faults.remove(i))
    }

    fn check_plugged(&self) -> Result<(), UsbError> {
        match self.unplugged {
            true => Err(UsbError::Disconnected),
            false => Ok(()),
        }
    }

    fn powered(&self) -> bool {
        self.hwstat & HWSTAT_POWERED != 0 && !matches!(self.hwstat, 0x84 | 0x85)
    }

    fn read(&mut self, first: u16, max_in: usize) -> Result<Vec<u8>, UsbError> {
        match first {
            reg::HWSTAT => {
                if let Some(left) = self.stuck_reads_left.as_mut() {
                    if *left == 0 {
                        self.hwstat |= HWSTAT_RESET_DONE;
                        self.stuck_reads_left = None;
                    } else {
                        *left -= 1;
                    }
                }
                Ok(vec![self.hwstat; max_in.min(1)])
            }
            reg::MODE => Ok(vec![self.mode.value(); max_in.min(1)]),
            reg::SCRAMBLE_DATA_KEY => Ok(vec![0xA5; max_in.min(4)]),
            // Device info and the rest: the model has nothing to say.
            _ => Ok(vec![0; max_in]),
        }
    }

    fn write(&mut self, first: u16, data: &[u8]) -> Result<(), UsbError> {
        let Some(&v) = data.first() else {
            return Err(UsbError::Stall { endpoint: 0 });
        };
        match first {
            reg::HWSTAT if v & HWSTAT_POWERED == 0 => {
                // The reset of a stuck unit: bit 1 comes back after a few reads.
                if matches!(self.hwstat, 0x84 | 0x85) {
                    let reads = match self.take_fault(|f| matches!(f, UruFault::Stuck { .. })) {
                        Some(UruFault::Stuck { reads }) => reads,
                        _ => 0,
                    };
                    self.stuck_reads_left = Some(reads);
                }
                self.hwstat = v;
                Ok(())
            }
            reg::HWSTAT => {
                if self.stuck_reads_left.is_some() || matches!(self.hwstat, 0x84 | 0x85) {
                    // Still stuck: the write does nothing and no power-on event comes.
                    return Ok(());
                }
                self.hwstat = v;
                self.events.push_back(Event::PoweredOn);
                Ok(())
            }
            reg::MODE => {
                let mode = Mode::from_value(v).ok_or(UsbError::Stall { endpoint: 0 })?;
                if !self.powered() && mode != Mode::Off && mode != Mode::Init {
                    return Err(UsbError::Stall { endpoint: 0 });
                }
                self.set_mode(mode);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
        match mode {
            Mode::AwaitFingerOn => {
                self.polls = 0;
                self.finger_on = false;
                self.finger_after =
                    match self.take_fault(|f| matches!(f, UruFault::NoFinger { .. })) {
                        Some(UruFault::NoFinger { polls }) => polls,
                        _ => self.cfg.finger_after_polls,
                    };
                if self.take_fault(|f| *f == UruFault::FaultEvent).is_some() {
                    self.events.push_back(Event::Fault);
                }
            }
            Mode::Capture | Mode::CaptureAux if self.finger_on => {
                self.image = Some(self.render());
            }
            _ => {}
        }
    }

    /// The next image transfer: a synthetic finger cropped to the sensor's 384 × 290.
    fn render(&mut self) -> Vec<u8> {
        let finger = FingerPosition::new(
            ((u64::from(self.cfg.first_finger.code()) - 1 + self.captures) % 10 + 1) as u8,
        )
        .expect("1..=10");
        self.captures += 1;
        let img = synth::fingerprint(self.cfg.person_seed, finger, 0.85);
        let (w, h) = (img.width as usize, img.height as usize);
        let mut lines = vec![255u8; IMAGE_WIDTH * IMAGE_HEIGHT];
        // Centre crop (the 500 → 512 ppi difference, 2 %, is ignored).
        let x0 = w.saturating_sub(IMAGE_WIDTH) / 2;
        let y0 = h.saturating_sub(IMAGE_HEIGHT) / 2;
        for y in 0..IMAGE_HEIGHT.min(h) {
            for x in 0..IMAGE_WIDTH.min(w) {
                lines[y * IMAGE_WIDTH + x] = img.pixels[(y0 + y) * w + x0 + x];
            }
        }
        let mut header = ImageHeader::plain(IMAGE_HEIGHT as u16);
        if self.take_fault(|f| *f == UruFault::Scrambled).is_some() {
            header.key_number = 1;
            for b in header.blocks.iter_mut().filter(|b| b.lines > 0) {
                b.flags |= block::ENCRYPTED;
            }
            for (i, p) in lines.iter_mut().enumerate() {
                *p ^= (i as u8).wrapping_mul(0x9D) ^ 0x5A;
            }
        }
        RawImage { header, lines }.encode()
    }
}

impl UruModel {
    /// The first `max_len` bytes of `image` (all of it if it fits); the rest waits for the
    /// host's next bulk IN transfer, as a device streams one image across several URBs.
    fn deliver(&mut self, mut image: Vec<u8>, max_len: usize) -> Vec<u8> {
        if image.len() > max_len {
            self.image_rest = Some(image.split_off(max_len));
        } else {
            tracing::info!("U.are.U model: image read done");
        }
        image
    }
}

impl UsbDevice for UruModel {
    /// The reader's VID:PID and serial, one vendor-specific interface (0xFF/0xFF/0xFF) with the
    /// event endpoint 0x81 (interrupt IN, 64 bytes) and the image endpoint 0x82 (bulk IN). High
    /// speed (512-byte bulk packets) is an assumption: docs/devices.md does not give the reader's speed.
    fn description(&self) -> UsbDescription {
        UsbDescription {
            vendor_id: self.cfg.vid,
            product_id: self.cfg.pid,
            bcd_device: 0x0100,
            device_class: [0, 0, 0],
            manufacturer: "DigitalPersona (jemput model)".into(),
            product: ids::lookup(self.cfg.vid, self.cfg.pid)
                .map_or("U.are.U 4000B", |i| i.name)
                .into(),
            serial: self.cfg.serial.clone(),
            speed: UsbSpeed::High,
            interfaces: vec![InterfaceDescription {
                class: 0xFF,
                subclass: 0xFF,
                protocol: 0xFF,
                name: None,
                endpoints: vec![
                    EndpointDescription {
                        address: ids::EP_INTERRUPT,
                        kind: EndpointKind::Interrupt,
                        max_packet: 64,
                        interval: 1,
                    },
                    EndpointDescription {
                        address: ids::EP_IMAGE,
                        kind: EndpointKind::Bulk,
                        max_packet: 512,
                        interval: 0,
                    },
                ],
            }],
        }
    }
}

impl UsbFunction for UruModel {
    fn control(
        &mut self,
        request: &ControlRequest,
        data_out: &[u8],
        max_in: usize,
    ) -> Result<Vec<u8>, UsbError> {
        self.check_plugged()?;
        match decode_register_access(request) {
            Some(RegisterAccess::Read { first }) => {
                self.log.push(UruOp::ReadRegister(first));
                self.read(first, max_in)
            }
            Some(RegisterAccess::Write { first }) => {
                self.log
                    .push(UruOp::WriteRegister(first, data_out.to_vec()));
                self.write(first, data_out).map(|()| Vec::new())
            }
            // CLEAR_FEATURE(ENDPOINT_HALT)
            None if (request.request_type, request.request) == (0x02, 0x01) => Ok(Vec::new()),
            None => Err(UsbError::Stall { endpoint: 0 }),
        }
    }

    fn bulk_out(&mut self, ep: u8, _data: &[u8]) -> Result<(), UsbError> {
        self.check_plugged()?;
        Err(UsbError::Stall { endpoint: ep })
    }

    fn bulk_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        self.check_plugged()?;
        if ep != ids::EP_IMAGE {
            return Err(UsbError::Stall { endpoint: ep });
        }
        if let Some(rest) = self.image_rest.take() {
            return Ok(Some(self.deliver(rest, max_len)));
        }
        let Some(mut image) = self.image.take() else {
            return Ok(None);
        };
        self.log.push(UruOp::ImageRead);
        if self
            .take_fault(|f| *f == UruFault::UnplugMidTransfer)
            .is_some()
        {
            self.unplugged = true;
            return Err(UsbError::Disconnected);
        }
        if let Some(UruFault::ShortImage { bytes }) =
            self.take_fault(|f| matches!(f, UruFault::ShortImage { .. }))
        {
            image.truncate(bytes);
        }
        tracing::info!(bytes = image.len(), "U.are.U model: image read started");
        Ok(Some(self.deliver(image, max_len)))
    }

    fn interrupt_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        self.check_plugged()?;
        if ep != ids::EP_INTERRUPT {
            return Err(UsbError::Stall { endpoint: ep });
        }
        if self.events.is_empty() {
            match self.mode {
                Mode::AwaitFingerOn if !self.finger_on => {
                    self.polls = self.polls.saturating_add(1);
                    if self.finger_after != u32::MAX && self.polls > self.finger_after {
                        self.finger_on = true;
                        self.events.push_back(Event::FingerOn);
                    }
                }
                Mode::AwaitFingerOff if self.finger_on => {
                    self.finger_on = false;
                    self.events.push_back(Event::FingerOff);
                }
                _ => {}
            }
        }
        Ok(self.events.pop_front().map(|e| {
            let p = e.encode();
            p[..max_len.min(p.len())].to_vec()
        }))
    }
}

/// A model shared between transports: each [`UruHandle::transport`] is a new connection to the
/// same reader, as a replugged device is the same device on a new bus address.
#[derive(Debug, Clone)]
pub struct UruHandle(Arc<Mutex<UruModel>>);

struct Shared(Arc<Mutex<UruModel>>);

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut UruModel) -> Result<R, UsbError>) -> Result<R, UsbError> {
        let mut m = self.0.lock().map_err(|_| UsbError::Disconnected)?;
        f(&mut m)
    }
}

impl UsbFunction for Shared {
    fn control(
        &mut self,
        request: &ControlRequest,
        data_out: &[u8],
        max_in: usize,
    ) -> Result<Vec<u8>, UsbError> {
        self.with(|m| m.control(request, data_out, max_in))
    }
    fn bulk_out(&mut self, ep: u8, data: &[u8]) -> Result<(), UsbError> {
        self.with(|m| m.bulk_out(ep, data))
    }
    fn bulk_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        self.with(|m| m.bulk_in(ep, max_len))
    }
    fn interrupt_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        self.with(|m| m.interrupt_in(ep, max_len))
    }
    fn claim(&mut self, _number: u8) -> Result<(), UsbError> {
        self.with(|m| m.check_plugged())
    }
}

impl UruHandle {
    /// A new model.
    pub fn new(cfg: UruModelConfig) -> Self {
        UruHandle(Arc::new(Mutex::new(UruModel::new(cfg))))
    }

    /// A new connection to the reader, as finding it on the bus: `NotFound` while unplugged.
    pub fn transport(&self) -> Result<MemUsb, UsbError> {
        if self.with(|m| m.is_unplugged()) {
            return Err(UsbError::NotFound("the U.are.U model (unplugged)".into()));
        }
        Ok(MemUsb::new(Shared(self.0.clone())))
    }

    /// Runs `f` on the model (a poisoned lock is recovered: the model's state stays usable).
    pub fn with<R>(&self, f: impl FnOnce(&mut UruModel) -> R) -> R {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut m)
    }

    /// Pulls the cable.
    pub fn unplug(&self) {
        self.with(UruModel::unplug)
    }

    /// Plugs the reader back in.
    pub fn replug(&self) {
        self.with(UruModel::replug)
    }

    /// Adds a fault for the next operation it applies to.
    pub fn inject(&self, fault: UruFault) {
        self.with(|m| m.cfg.faults.push(fault))
    }
}

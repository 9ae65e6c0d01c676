//! The module's side of the protocol: one instruction at a time, with its buffers, template
//! library, settings (persisted and active), finger arrival, paced output and armed faults.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{
    degrade, finger_for_capture, sensor_image, Fault, ModelOptions, Shared, TEMPLATE_LEN,
    UNKNOWN_INSTRUCTION,
};
use crate::ef01::protocol::{
    self, Confirmation, Decoder, Frame, Instruction, PacketSize, Pid, SysParams,
};
use crate::transport::{LinkError, SerialLink};

/// The buffers and the library, keyed by whose finger a template came from.
type Template = Vec<u8>;

/// How late a write may start and still continue the previous one's schedule (see `send`).
const CATCH_UP: Duration = Duration::from_millis(2);

enum Flow {
    Continue,
    Unplug,
}

pub(super) struct Module<L> {
    link: L,
    opts: ModelOptions,
    shared: Arc<Shared>,
    decoder: Decoder,
    address: u32,
    password: u32,
    verified: bool,
    active_baud: u32,
    persisted_baud_n: u16,
    packet: PacketSize,
    security_level: u8,
    polls: u32,
    waiting_since: Option<Instant>,
    image: Option<Vec<u8>>,
    image_identity: Option<(u64, u8)>,
    char_buf: [Option<Template>; 2],
    library: BTreeMap<u16, Template>,
    random: u64,
    line_free: Instant,
    /// The finger due on the sensor, and how many placements of it were made so far.
    finger: crate::FingerPosition,
    placements: u32,
}

impl<L: SerialLink> Module<L> {
    pub(super) fn new(link: L, opts: ModelOptions, shared: Arc<Shared>) -> Self {
        Module {
            link,
            decoder: Decoder::new(),
            address: opts.address,
            password: opts.password,
            verified: opts.password == protocol::DEFAULT_PASSWORD,
            active_baud: opts.baud,
            persisted_baud_n: (opts.baud / 9600) as u16,
            packet: opts.packet_size,
            security_level: opts.security_level,
            polls: 0,
            waiting_since: None,
            image: None,
            image_identity: None,
            char_buf: [None, None],
            library: BTreeMap::new(),
            random: opts.person_seed ^ 0x9E37_79B9_7F4A_7C15,
            line_free: Instant::now(),
            finger: first_unskipped(&opts, opts.first_finger),
            placements: 0,
            opts,
            shared,
        }
    }

    pub(super) fn run(mut self) {
        if self.opts.module.handshake_byte {
            let _ = self.send(&[0x55]);
        }
        let mut buf = [0u8; 512];
        while !self.shared.stop.load(Ordering::Relaxed) {
            self.check_power_cycle();
            match self
                .link
                .read_some(&mut buf, Instant::now() + Duration::from_millis(50))
            {
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(LinkError::Timeout(_)) => continue,
                Err(_) => {
                    // Nobody on the other end (a pty slave closed, EIO/hang-up): wait for a host
                    // to open it again.
                    self.decoder.reset();
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            }
            while let Some(next) = self.decoder.next_frame() {
                let flow = match next {
                    Ok(frame) if frame.pid == Pid::Command => {
                        // The reply cannot start before the command has arrived.
                        self.line_free = self.line_free.max(Instant::now());
                        self.handle(frame)
                    }
                    Ok(_) => Ok(Flow::Continue), // data outside a download: ignored
                    Err(_) => self
                        .reply(Confirmation::ReceiveError.code(), &[])
                        .map(|_| Flow::Continue),
                };
                match flow {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Unplug) => {
                        self.shared
                            .control
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .unplugged = true;
                        return; // drops the link: the host sees a disconnect
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "model could not reply; host gone?");
                        self.decoder.reset();
                    }
                }
            }
        }
    }

    fn check_power_cycle(&mut self) {
        let mut c = self
            .shared
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if std::mem::take(&mut c.power_cycle) {
            drop(c);
            self.active_baud = 9600 * u32::from(self.persisted_baud_n);
            let _ = self.link.set_baud(self.active_baud);
            self.verified = self.password == protocol::DEFAULT_PASSWORD;
            self.image = None;
            self.image_identity = None;
            self.char_buf = [None, None];
            self.polls = 0;
            self.waiting_since = None;
            if self.opts.module.handshake_byte {
                let _ = self.send(&[0x55]);
            }
        }
    }

    /// Removes and returns the first armed fault `pick` selects.
    fn take_fault<T>(&self, pick: impl Fn(&Fault) -> Option<T>) -> Option<T> {
        let mut c = self
            .shared
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let i = c.faults.iter().position(|f| pick(f).is_some())?;
        pick(&c.faults.remove(i))
    }

    /// Writes bytes, paced at the active line rate when pacing is on: each write lands when its
    /// last byte would have left the module's UART.
    ///
    /// Back-to-back writes (the packets of an upload) keep one schedule: a write that starts a
    /// little after the line fell free (the sleep overshot, the write took time) still follows on
    /// at the line rate, as a UART fed from its FIFO does, instead of adding that lateness as a
    /// gap on the line each time. Only a line idle for longer than [`CATCH_UP`] starts afresh, and
    /// every reply starts no earlier than its command arrived.
    fn send(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        if self.opts.pacing {
            let on_wire =
                Duration::from_secs_f64(bytes.len() as f64 * 10.0 / f64::from(self.active_baud));
            let now = Instant::now();
            let start = if now > self.line_free + CATCH_UP {
                now
            } else {
                self.line_free
            };
            self.line_free = start + on_wire;
            if let Some(wait) = self.line_free.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        self.link.write_all(bytes)
    }

    fn reply(&mut self, code: u8, values: &[u8]) -> Result<(), LinkError> {
        let mut out = self
            .take_fault(|f| match f {
                Fault::Garbage(g) => Some(g.clone()),
                _ => None,
            })
            .unwrap_or_default();
        out.extend(Frame::ack(self.address, code, values).encode());
        self.send(&out)
    }

    fn handle(&mut self, frame: Frame) -> Result<Flow, LinkError> {
        if frame.address != self.address {
            return Ok(Flow::Continue); // not for this module: real modules stay silent
        }
        let Some((&code, params)) = frame.payload.split_first() else {
            self.reply(Confirmation::ReceiveError.code(), &[])?;
            return Ok(Flow::Continue);
        };
        if self
            .take_fault(|f| {
                matches!(f, Fault::Mute { instruction } if *instruction == code).then_some(())
            })
            .is_some()
        {
            return Ok(Flow::Continue);
        }
        if let Some(nack) = self.take_fault(|f| match f {
            Fault::Nack {
                instruction,
                code: cc,
            } if *instruction == code => Some(*cc),
            _ => None,
        }) {
            self.reply(nack, &[])?;
            return Ok(Flow::Continue);
        }
        let instruction = Instruction::from_code(code);
        if !self.verified && instruction != Some(Instruction::VfyPwd) {
            self.reply(Confirmation::PasswordRequired.code(), &[])?;
            return Ok(Flow::Continue);
        }
        let p = |i: usize| params.get(i).copied().unwrap_or(0);
        let p16 = |i: usize| u16::from_be_bytes([p(i), p(i + 1)]);
        let p32 = |i: usize| u32::from_be_bytes([p(i), p(i + 1), p(i + 2), p(i + 3)]);
        let ok = Confirmation::Ok.code();
        let r50x = self.opts.module.handshake_byte;
        match instruction {
            Some(Instruction::VfyPwd) => {
                let forced = self
                    .take_fault(|f| matches!(f, Fault::WrongPassword).then_some(()))
                    .is_some();
                self.verified = !forced && p32(0) == self.password;
                let cc = if self.verified {
                    ok
                } else {
                    Confirmation::WrongPassword.code()
                };
                self.reply(cc, &[])?;
            }
            Some(Instruction::ReadSysPara) => {
                let values = self.sys_params().encode();
                self.reply(ok, &values)?;
            }
            Some(Instruction::SetSysPara) => {
                let cc = self.set_register(p(0), p(1));
                self.reply(cc, &[])?;
            }
            Some(Instruction::GenImg) => self.gen_img()?,
            Some(Instruction::UpImage) => match self.image.clone() {
                Some(img) => {
                    self.reply(ok, &[])?;
                    return self.send_data(&img);
                }
                None => self.reply(Confirmation::NoValidImage.code(), &[])?,
            },
            Some(Instruction::DownImage) => {
                self.reply(ok, &[])?;
                if let Some(data) = self.receive_data()? {
                    self.image_identity = Some((fnv(&data), 0));
                    self.image = Some(data);
                }
            }
            Some(Instruction::Img2Tz) => {
                let cc = match (self.image_identity, usize::from(p(0))) {
                    (_, b) if !(1..=2).contains(&b) => Confirmation::InvalidRegister.code(),
                    (None, _) => Confirmation::NoValidImage.code(),
                    (Some(_), _) if self.opts.quality < 0.1 => Confirmation::TooFewFeatures.code(),
                    (Some(id), b) => {
                        self.char_buf[b - 1] = Some(template(id));
                        ok
                    }
                };
                self.reply(cc, &[])?;
            }
            Some(Instruction::Match) => {
                let same = matches!(&self.char_buf, [Some(a), Some(b)] if same_finger(a, b));
                let (cc, score) = if same {
                    (ok, 150u16)
                } else {
                    (Confirmation::NoMatch.code(), 0)
                };
                self.reply(cc, &score.to_be_bytes())?;
            }
            Some(Instruction::RegModel) => {
                let cc = match &self.char_buf {
                    [Some(a), Some(b)] if same_finger(a, b) => {
                        self.char_buf[1] = self.char_buf[0].clone();
                        ok
                    }
                    _ => Confirmation::CombineFailed.code(),
                };
                self.reply(cc, &[])?;
            }
            Some(Instruction::Store) => {
                let cc = match (self.buffer(p(0)), p16(1)) {
                    (_, page) if page >= self.opts.module.capacity => {
                        Confirmation::PageOutOfRange.code()
                    }
                    (Some(Some(t)), page) => {
                        self.library.insert(page, t);
                        ok
                    }
                    _ => Confirmation::TemplateInvalid.code(),
                };
                self.reply(cc, &[])?;
            }
            Some(Instruction::LoadChar) => {
                let page = p16(1);
                let cc = match (usize::from(p(0)), self.library.get(&page).cloned()) {
                    _ if page >= self.opts.module.capacity => Confirmation::PageOutOfRange.code(),
                    (b @ 1..=2, Some(t)) => {
                        self.char_buf[b - 1] = Some(t);
                        ok
                    }
                    _ => Confirmation::TemplateInvalid.code(),
                };
                self.reply(cc, &[])?;
            }
            Some(Instruction::UpChar) => match self.buffer(p(0)) {
                Some(Some(t)) => {
                    self.reply(ok, &[])?;
                    return self.send_data(&t);
                }
                _ => self.reply(Confirmation::UploadTemplateFailed.code(), &[])?,
            },
            Some(Instruction::DownChar) => {
                let b = usize::from(p(0));
                if (1..=2).contains(&b) {
                    self.reply(ok, &[])?;
                    if let Some(data) = self.receive_data()? {
                        self.char_buf[b - 1] = Some(data);
                    }
                } else {
                    self.reply(Confirmation::CannotReceiveData.code(), &[])?;
                }
            }
            Some(Instruction::Search | Instruction::HighSpeedSearch) => {
                let (start, count) = (p16(1), p16(3));
                let found = self.buffer(p(0)).flatten().and_then(|probe| {
                    self.library
                        .range(start..start.saturating_add(count))
                        .find(|(_, t)| same_finger(t, &probe))
                        .map(|(page, _)| *page)
                });
                match found {
                    Some(page) => {
                        let mut v = page.to_be_bytes().to_vec();
                        v.extend(150u16.to_be_bytes());
                        self.reply(ok, &v)?;
                    }
                    None => self.reply(Confirmation::NotFound.code(), &[0, 0, 0, 0])?,
                }
            }
            Some(Instruction::DeletChar) => {
                let (page, n) = (u32::from(p16(0)), u32::from(p16(2)));
                let cc = if page + n > u32::from(self.opts.module.capacity) {
                    Confirmation::DeleteFailed.code()
                } else {
                    let end = (page + n) as u16;
                    self.library.retain(|k, _| !(page as u16..end).contains(k));
                    ok
                };
                self.reply(cc, &[])?;
            }
            Some(Instruction::Empty) => {
                self.library.clear();
                self.reply(ok, &[])?;
            }
            Some(Instruction::TempleteNum) => {
                let n = self.library.len() as u16;
                self.reply(ok, &n.to_be_bytes())?;
            }
            Some(Instruction::ReadIndexTable) => {
                // Bit i of byte j: page 256 × index + 8j + i is used (unverified bit order).
                let base = u16::from(p(0)) * 256;
                let mut table = [0u8; 32];
                for page in self
                    .library
                    .keys()
                    .filter(|k| (base..base + 256).contains(k))
                {
                    let i = usize::from(page - base);
                    table[i / 8] |= 1 << (i % 8);
                }
                self.reply(ok, &table)?;
            }
            Some(Instruction::SetPwd) => {
                self.password = p32(0);
                self.reply(ok, &[])?;
            }
            Some(Instruction::SetAdder) => {
                self.address = p32(0);
                self.reply(ok, &[])?; // the reply already carries the new address
            }
            Some(Instruction::GetRandomCode) => {
                self.random ^= self.random << 13;
                self.random ^= self.random >> 7;
                self.random ^= self.random << 17;
                let v = (self.random as u32).to_be_bytes();
                self.reply(ok, &v)?;
            }
            Some(Instruction::AuraLedConfig) if self.opts.module.aura_led => self.reply(ok, &[])?,
            Some(Instruction::CheckSensor | Instruction::SoftRst | Instruction::HandShake)
                if r50x =>
            {
                self.reply(ok, &[])?
            }
            _ => self.reply(UNKNOWN_INSTRUCTION, &[])?,
        }
        Ok(Flow::Continue)
    }

    fn sys_params(&self) -> SysParams {
        SysParams {
            status: if self.image.is_some() { 1 << 3 } else { 0 },
            system_id: 0,
            capacity: self.opts.module.capacity,
            security_level: self.security_level.into(),
            address: self.address,
            packet_size_code: self.packet.code().into(),
            baud_n: self.persisted_baud_n,
        }
    }

    /// SetSysPara: every register is stored at once; security level and packet size are also
    /// active at once, the baud rate only after a power cycle.
    fn set_register(&mut self, reg: u8, value: u8) -> u8 {
        let bad = Confirmation::BadRegisterConfig.code();
        match reg {
            4 if (1..=12).contains(&value) => self.persisted_baud_n = value.into(),
            5 if (1..=5).contains(&value) => self.security_level = value,
            6 => match PacketSize::from_code(value.into()) {
                Some(size) => self.packet = size,
                None => return bad,
            },
            4 | 5 => return bad,
            _ => return Confirmation::InvalidRegister.code(),
        }
        Confirmation::Ok.code()
    }

    fn buffer(&self, id: u8) -> Option<Option<Template>> {
        match id {
            1 | 2 => Some(self.char_buf[usize::from(id) - 1].clone()),
            _ => None,
        }
    }

    fn gen_img(&mut self) -> Result<(), LinkError> {
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        if self.opts.absent_fingers.contains(&self.finger) {
            // The resident cannot place this finger: the sensor stays empty, then they move on.
            if since.elapsed() >= self.opts.absent_for {
                self.next_finger();
                self.waiting_since = Some(Instant::now());
            }
            return self.reply(Confirmation::NoFinger.code(), &[]);
        }
        if self.polls < self.opts.finger_after_polls || since.elapsed() < self.opts.finger_after {
            self.polls += 1;
            return self.reply(Confirmation::NoFinger.code(), &[]);
        }
        // A finger is down: capture it; it leaves again right after.
        self.polls = 0;
        self.waiting_since = None;
        self.shared
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .captures += 1;
        let finger = self.finger;
        let poor = self
            .opts
            .poor_prints
            .iter()
            .find(|p| p.finger == finger)
            .and_then(|p| p.placements.get(self.placements as usize).copied());
        let mut img = sensor_image(
            self.opts.module,
            self.opts.person_seed,
            finger,
            self.opts.quality,
        );
        self.placements += 1;
        match poor {
            Some(kind) => {
                degrade(&mut img, kind);
                if self.placements >= self.opts.placements_per_finger.max(1) {
                    self.next_finger();
                }
            }
            None => self.next_finger(),
        }
        self.image = Some(match self.opts.module.bits_per_pixel {
            4 => protocol::pack_4bit(&img.pixels),
            _ => img.pixels,
        });
        self.image_identity = Some((self.opts.person_seed, finger.code()));
        self.reply(Confirmation::Ok.code(), &[])
    }

    /// The resident moves on to the next finger position (after 10 comes 1), past skipped ones.
    fn next_finger(&mut self) {
        self.finger = first_unskipped(&self.opts, finger_for_capture(self.finger, 1));
        self.placements = 0;
    }

    /// Sends `data` as data packets of the active size, with any armed transfer fault.
    fn send_data(&mut self, data: &[u8]) -> Result<Flow, LinkError> {
        let size = self.packet.bytes();
        let count = data.len().div_ceil(size).max(1);
        let at = |p: usize| p.min(count - 1);
        let corrupt = self.take_fault(|f| match f {
            Fault::ChecksumError { packet } => Some(at(*packet)),
            _ => None,
        });
        let truncate = self.take_fault(|f| match f {
            Fault::TruncatedPacket { packet } => Some(at(*packet)),
            _ => None,
        });
        let unplug = self.take_fault(|f| match f {
            Fault::UnplugMidTransfer { packet } => Some(at(*packet)),
            _ => None,
        });
        for (i, chunk) in data.chunks(size).enumerate() {
            if unplug == Some(i) {
                return Ok(Flow::Unplug);
            }
            let mut bytes = Frame::data(self.address, i + 1 == count, chunk).encode();
            if corrupt == Some(i) {
                let last = bytes.len() - 1;
                bytes[last] ^= 0x5A;
            }
            if truncate == Some(i) {
                bytes.truncate(bytes.len() / 2);
                self.send(&bytes)?;
                return Ok(Flow::Continue);
            }
            self.send(&bytes)?;
        }
        Ok(Flow::Continue)
    }

    /// Receives data packets from the host until the last one; `None` if they stop coming.
    fn receive_data(&mut self) -> Result<Option<Vec<u8>>, LinkError> {
        let mut data = Vec::new();
        let mut buf = [0u8; 512];
        let mut deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match self.decoder.next_frame() {
                Some(Ok(f)) if matches!(f.pid, Pid::Data | Pid::EndData) => {
                    data.extend_from_slice(&f.payload);
                    if f.pid == Pid::EndData {
                        return Ok(Some(data));
                    }
                    deadline = Instant::now() + Duration::from_secs(2);
                    continue;
                }
                Some(_) => return Ok(None),
                None => {}
            }
            match self.link.read_some(&mut buf, deadline) {
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(LinkError::Timeout(_)) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

/// A template: a tag, whose finger it is, and padding to the char-file size.
/// `from` or the first finger after it that is not skipped (`from` itself when all are).
fn first_unskipped(opts: &ModelOptions, from: crate::FingerPosition) -> crate::FingerPosition {
    (0..10)
        .map(|n| finger_for_capture(from, n))
        .find(|f| !opts.skipped_fingers.contains(f))
        .unwrap_or(from)
}

fn template((seed, finger): (u64, u8)) -> Template {
    let mut t = vec![0u8; TEMPLATE_LEN];
    t[0..2].copy_from_slice(b"JT");
    t[2..10].copy_from_slice(&seed.to_be_bytes());
    t[10] = finger;
    t
}

fn same_finger(a: &[u8], b: &[u8]) -> bool {
    a.len() >= 11 && b.len() >= 11 && a[..11] == b[..11]
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

//! The EF01 device model: plays a module's side of the protocol on any [`SerialLink`] (an
//! in-memory link, or the master end of a pty for independent host software), on its own thread.
//! It paces its output at the line rate, serves synthetic fingerprints, keeps a small template
//! library, and injects faults on request.

mod module;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::ids::{self, ModuleModel};
use super::protocol::{self, PacketSize};
use crate::transport::{pty_pair, LinkError, SerialLink};
use crate::{synth, FingerImage, FingerPosition};

/// The code the model answers an instruction it does not know with (a "receive error"; what each
/// real module answers is unverified).
pub const UNKNOWN_INSTRUCTION: u8 = 0x01;
/// Bytes in a template (char file) the model keeps; ZFM-20 sheets give 512.
pub const TEMPLATE_LEN: usize = 512;

/// A fault the model injects once, when its trigger comes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The next data transfer sends data packet `packet` (0-based; clamped to the last) with a
    /// wrong checksum.
    ChecksumError { packet: usize },
    /// The next data transfer sends only the first half of data packet `packet`, then falls silent
    /// for the rest of the transfer.
    TruncatedPacket { packet: usize },
    /// The next data transfer stops before data packet `packet` and the module is unplugged: the
    /// link closes and the model thread ends.
    UnplugMidTransfer { packet: usize },
    /// The next `instruction` (code) is answered with confirmation code `code`, and not carried out.
    Nack { instruction: u8, code: u8 },
    /// The next `instruction` (code) gets no reply at all.
    Mute { instruction: u8 },
    /// The next VfyPwd is answered "wrong password" whatever was sent.
    WrongPassword,
    /// These bytes go on the wire just before the next reply.
    Garbage(Vec<u8>),
}

/// How a poor placement of a finger comes out on the sensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Degradation {
    /// A light touch or a dry finger: ridges barely darker than the platen.
    LowContrast,
    /// Only the finger tip touches: a small patch of ridges in an empty window.
    PartialContact,
}

/// The resident places `finger` poorly at first: placement *i* (0-based) comes out as
/// `placements[i]`; the placements after those give good prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoorPrint {
    pub finger: FingerPosition,
    pub placements: Vec<Degradation>,
}

impl PoorPrint {
    /// The first `n` placements of `finger` all come out as `kind`.
    pub fn repeated(finger: FingerPosition, n: usize, kind: Degradation) -> PoorPrint {
        PoorPrint {
            finger,
            placements: vec![kind; n],
        }
    }
}

/// How the model behaves.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    pub module: &'static ModuleModel,
    pub address: u32,
    pub password: u32,
    /// Line speed at power-on; also what ReadSysPara reports (as N = baud / 9600).
    pub baud: u32,
    /// Pace output at the line rate (10 bits per byte). Off = as fast as the link takes it.
    pub pacing: bool,
    pub packet_size: PacketSize,
    pub security_level: u8,
    /// GenImg polls answered "no finger" before a finger arrives (each placement) …
    pub finger_after_polls: u32,
    /// … and the time since the first of those polls, both of which must have passed.
    pub finger_after: Duration,
    /// Whose fingers the sensor sees.
    pub person_seed: u64,
    /// The finger of the first capture; each further capture moves on to the next position.
    pub first_finger: FingerPosition,
    /// Synthetic image quality, 0.0–1.0.
    pub quality: f32,
    /// Fingers the resident places poorly at first (degraded prints), so that a host's capture
    /// policy retries or forces them.
    pub poor_prints: Vec<PoorPrint>,
    /// Fingers the resident cannot place (missing, bandaged): while one is due the sensor stays
    /// empty (GenImg answers "no finger") for `absent_for`, then the resident moves on to the next.
    pub absent_fingers: Vec<FingerPosition>,
    /// How long an absent finger keeps the sensor empty (from the first poll for it).
    pub absent_for: Duration,
    /// Fingers the operator does not ask for (already recorded as exceptions, e.g. amputated):
    /// the resident skips them and places the next one.
    pub skipped_fingers: Vec<FingerPosition>,
    /// Placements of one finger the resident makes while its prints come out poor before moving
    /// on to the next finger (match it to the host's attempt limit; a good print always moves on).
    pub placements_per_finger: u32,
    /// Faults armed at start (more can be added through the handle).
    pub faults: Vec<Fault>,
}

impl Default for ModelOptions {
    /// A factory-fresh R30x-class module at real speed; the finger arrives after ~3 s of polls.
    fn default() -> Self {
        ModelOptions {
            module: ids::default_module(),
            address: protocol::DEFAULT_ADDRESS,
            password: protocol::DEFAULT_PASSWORD,
            baud: 57_600,
            pacing: true,
            packet_size: PacketSize::B128,
            security_level: 3,
            finger_after_polls: 3,
            finger_after: Duration::from_secs(3),
            person_seed: 1,
            first_finger: FingerPosition::new(2).expect("right index"),
            quality: 0.8,
            poor_prints: Vec::new(),
            absent_fingers: Vec::new(),
            absent_for: Duration::from_secs(30),
            skipped_fingers: Vec::new(),
            placements_per_finger: 3,
            faults: Vec::new(),
        }
    }
}

impl ModelOptions {
    /// No pacing, and the finger arrives at the third poll: for tests.
    pub fn fast() -> Self {
        ModelOptions {
            pacing: false,
            finger_after_polls: 2,
            finger_after: Duration::ZERO,
            ..ModelOptions::default()
        }
    }
}

/// The finger the model shows at capture number `n` (0-based).
pub fn finger_for_capture(first: FingerPosition, n: u32) -> FingerPosition {
    let code = (u32::from(first.code()) - 1 + n) % 10 + 1;
    FingerPosition::new(code as u8).expect("1–10")
}

/// What the sensor sees, in 8 bits: the synthetic fingerprint centred on the sensor window (a
/// crop at the same resolution; white where the window is larger).
pub fn sensor_image(
    module: &ModuleModel,
    person_seed: u64,
    finger: FingerPosition,
    quality: f32,
) -> FingerImage {
    let src = synth::fingerprint(person_seed, finger, quality);
    let (w, h) = (module.width as i64, module.height as i64);
    let (dx, dy) = ((src.width as i64 - w) / 2, (src.height as i64 - h) / 2);
    let mut pixels = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = (x + dx, y + dy);
            let inside =
                (0..src.width as i64).contains(&sx) && (0..src.height as i64).contains(&sy);
            pixels.push(if inside {
                src.pixels[(sy * src.width as i64 + sx) as usize]
            } else {
                255
            });
        }
    }
    FingerImage {
        width: module.width,
        height: module.height,
        ppi: module.ppi,
        pixels,
    }
}

/// Grey level of the empty platen in [`degrade`]d images.
const PLATEN: f32 = 250.0;

/// A poor placement of `img`: the ridges faded towards the platen (low contrast), or only a small
/// patch around the centre in contact (partial contact).
pub fn degrade(img: &mut FingerImage, kind: Degradation) {
    let (w, h) = (img.width as f32, img.height as f32);
    match kind {
        Degradation::LowContrast => img.pixels.iter_mut().for_each(|p| {
            *p = (PLATEN + (f32::from(*p) - PLATEN) * 0.08)
                .round()
                .clamp(0.0, 255.0) as u8;
        }),
        Degradation::PartialContact => {
            let (cx, cy, r) = (w / 2.0, h * 0.7, w.min(h) * 0.16);
            for (i, p) in img.pixels.iter_mut().enumerate() {
                let (x, y) = (
                    (i % img.width as usize) as f32,
                    (i / img.width as usize) as f32,
                );
                if (x - cx).powi(2) + (y - cy).powi(2) > r * r {
                    *p = PLATEN as u8;
                }
            }
        }
    }
}

/// What a host receives for [`sensor_image`] after the module's 4-bit upload.
pub fn uploaded_image(
    module: &ModuleModel,
    person_seed: u64,
    finger: FingerPosition,
    quality: f32,
) -> FingerImage {
    let mut img = sensor_image(module, person_seed, finger, quality);
    if module.bits_per_pixel == 4 {
        img.pixels
            .iter_mut()
            .for_each(|p| *p = protocol::quantise_4bit(*p));
    }
    img
}

#[derive(Debug, Default)]
struct Control {
    faults: Vec<Fault>,
    captures: u32,
    power_cycle: bool,
    unplugged: bool,
}

#[derive(Debug, Default)]
struct Shared {
    control: Mutex<Control>,
    stop: AtomicBool,
}

/// Controls a running model; dropping it stops the model.
#[derive(Debug)]
pub struct ModelHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl ModelHandle {
    /// Arms another fault.
    pub fn inject(&self, fault: Fault) {
        self.control().faults.push(fault);
    }

    /// Disarms every pending fault.
    pub fn clear_faults(&self) {
        self.control().faults.clear();
    }

    /// Faults armed and not yet triggered.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.control().faults.clone()
    }

    /// Fingers captured so far (successful GenImg).
    pub fn captures(&self) -> u32 {
        self.control().captures
    }

    /// Whether an unplug fault has closed the link.
    pub fn is_unplugged(&self) -> bool {
        self.control().unplugged
    }

    /// Power-cycles the module: persisted settings (the baud rate) become active, buffers clear.
    pub fn power_cycle(&self) {
        self.control().power_cycle = true;
    }

    /// Stops the model and waits for its thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.shared
            .control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ModelHandle {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The device model.
#[derive(Debug)]
pub struct Ef01Model;

impl Ef01Model {
    /// Runs the model on `link` in a new thread.
    pub fn spawn<L: SerialLink + 'static>(link: L, options: ModelOptions) -> ModelHandle {
        let shared = Arc::new(Shared::default());
        shared.control.lock().expect("fresh lock").faults = options.faults.clone();
        let module = module::Module::new(link, options, shared.clone());
        let thread = std::thread::Builder::new()
            .name("ef01-model".into())
            .spawn(move || module.run())
            .expect("spawning the model thread");
        ModelHandle {
            shared,
            thread: Some(thread),
        }
    }

    /// Runs the model on the master of a new pty pair; returns the slave's path for host software.
    /// The model survives hosts closing and reopening the slave.
    pub fn spawn_on_pty(options: ModelOptions) -> Result<(ModelHandle, PathBuf), LinkError> {
        let (link, path) = pty_pair()?;
        Ok((Self::spawn(link, options), path))
    }
}

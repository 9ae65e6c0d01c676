//! The U.are.U 4000 driver over any [`UsbTransport`]: power-up through HWSTAT, mode changes
//! through the MODE register, the finger-on event on the interrupt endpoint, then one bulk read
//! of the whole image (docs/devices.md §3). [`replugging`] wraps it to find the reader again by its
//! selector after an unplug.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::descramble::{Descrambler, Identity};
use super::error::UruError;
use super::ids;
use super::protocol::{
    self, reg, Event, ImageHeader, Mode, RawImage, EVENT_LEN, HWSTAT_POWERED, HWSTAT_RESET_DONE,
    IMAGE_PPI, IMAGE_TRANSFER_LEN, IMAGE_WIDTH,
};
use crate::replug::Replugging;
use crate::usb::{UsbError, UsbTransport};
use crate::{
    CaptureControl, Device, DeviceError, DeviceInfo, FingerImage, FingerprintScanner,
    TransferProgress,
};

/// How the driver waits.
#[derive(Debug, Clone)]
pub struct UruConfig {
    /// Timeout of each control and bulk transfer (docs/devices.md: 5 s).
    pub timeout: Duration,
    /// How long to wait for the power-on event, and for a stuck unit to reset.
    pub power_up: Duration,
    /// How long each interrupt read waits before the driver checks for cancel and deadline.
    pub poll: Duration,
}

impl Default for UruConfig {
    fn default() -> Self {
        UruConfig {
            timeout: Duration::from_secs(5),
            power_up: Duration::from_secs(3),
            poll: Duration::from_millis(100),
        }
    }
}

/// A U.are.U 4000/4000B reader, opened and powered up.
pub struct Uru4000<T: UsbTransport> {
    usb: T,
    config: UruConfig,
    info: DeviceInfo,
    descrambler: Box<dyn Descrambler>,
    progress: Option<TransferProgress>,
}

impl<T: UsbTransport> std::fmt::Debug for Uru4000<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uru4000")
            .field("usb", &self.usb.describe())
            .field("info", &self.info)
            .field("descrambler", &self.descrambler.name())
            .finish_non_exhaustive()
    }
}

/// The `DeviceInfo` of a reader with this USB id and serial.
pub fn device_info(vid: u16, pid: u16, serial: Option<String>) -> DeviceInfo {
    DeviceInfo {
        driver: "uru4000".into(),
        model: ids::lookup(vid, pid)
            .map(|i| i.name.to_string())
            .unwrap_or_else(|| format!("U.are.U-class reader {vid:04x}:{pid:04x}")),
        serial,
        firmware: None,
    }
}

impl<T: UsbTransport> Uru4000<T> {
    /// Claims the interface and powers the scanner up.
    pub fn open(usb: T, info: DeviceInfo, config: UruConfig) -> Result<Self, UruError> {
        let mut d = Uru4000 {
            usb,
            config,
            info,
            descrambler: Box::new(Identity),
            progress: None,
        };
        d.usb
            .claim_interface(ids::INTERFACE)
            .map_err(|e| UruError::usb("claiming the reader's interface", e))?;
        d.power_up()?;
        Ok(d)
    }

    /// Installs a descrambler (only [`Identity`] exists: see [`Descrambler`]).
    pub fn set_descrambler(&mut self, d: Box<dyn Descrambler>) {
        self.descrambler = d;
    }

    /// The transport, e.g. for a test to inspect.
    pub fn transport(&self) -> &T {
        &self.usb
    }

    /// Reads `len` bytes of registers from `first` on.
    pub fn read_registers(&mut self, first: u16, len: usize) -> Result<Vec<u8>, UruError> {
        let mut buf = vec![0u8; len];
        let n = self
            .usb
            .control_in(
                protocol::read_register(first),
                &mut buf,
                self.config.timeout,
            )
            .map_err(|e| UruError::usb(format!("reading register {first:#04x}"), e))?;
        if n != len {
            return Err(UruError::Codec {
                during: format!("reading register {first:#04x}"),
                source: protocol::CodecError::Truncated {
                    what: "a register read",
                    need: len,
                    have: n,
                },
            });
        }
        Ok(buf)
    }

    /// Writes `values` to the registers from `first` on.
    pub fn write_registers(&mut self, first: u16, values: &[u8]) -> Result<(), UruError> {
        self.usb
            .control_out(protocol::write_register(first), values, self.config.timeout)
            .map_err(|e| UruError::usb(format!("writing register {first:#04x}"), e))
            .map(drop)
    }

    /// HWSTAT.
    pub fn hwstat(&mut self) -> Result<u8, UruError> {
        Ok(self.read_registers(reg::HWSTAT, 1)?[0])
    }

    /// Sets the MODE register.
    pub fn set_mode(&mut self, mode: Mode) -> Result<(), UruError> {
        self.write_registers(reg::MODE, &[mode.value()])
    }

    /// Powers the scanner up: when HWSTAT bit 7 is clear, sets it and waits for the power-on
    /// event. A unit stuck at 0x84/0x85 first gets its low nibble written back and is polled until
    /// bit 1 is set.
    fn power_up(&mut self) -> Result<(), UruError> {
        let begun = Instant::now();
        let mut hw = self.hwstat()?;
        if matches!(hw, 0x84 | 0x85) {
            tracing::info!(hwstat = hw, "the reader is stuck; resetting it");
            self.write_registers(reg::HWSTAT, &[hw & 0x0F])?;
            loop {
                hw = self.hwstat()?;
                if hw & HWSTAT_RESET_DONE != 0 {
                    break;
                }
                if begun.elapsed() >= self.config.power_up {
                    return Err(UruError::PowerUp {
                        hwstat: hw,
                        after: self.config.power_up,
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if hw & HWSTAT_POWERED != 0 {
            return Ok(());
        }
        self.write_registers(reg::HWSTAT, &[hw | HWSTAT_POWERED])?;
        let deadline = begun + self.config.power_up;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let hwstat = self.hwstat().unwrap_or(hw);
                return Err(UruError::PowerUp {
                    hwstat,
                    after: self.config.power_up,
                });
            }
            match self.read_event(left.min(self.config.poll), "power-up")? {
                Some(Event::PoweredOn) => return Ok(()),
                Some(Event::Fault) => {
                    return Err(UruError::DeviceFault {
                        during: "power-up".into(),
                    })
                }
                Some(other) => tracing::debug!(%other, "event before power-on; ignored"),
                None => {}
            }
        }
    }

    /// One event from the interrupt endpoint, waiting up to `wait`.
    fn read_event(&mut self, wait: Duration, during: &str) -> Result<Option<Event>, UruError> {
        let mut buf = [0u8; EVENT_LEN];
        match self.usb.interrupt_in(ids::EP_INTERRUPT, &mut buf, wait) {
            // A zero-length packet carries no event. It is also how a poll that timed out in a
            // usbmon recording comes back when umockdev replays it (status -ENOENT, which libusb
            // reports as complete with no bytes when it did not cancel the transfer itself).
            Ok(0) => Ok(None),
            Ok(n) => Event::decode(&buf[..n])
                .map(Some)
                .map_err(|source| UruError::Codec {
                    during: during.into(),
                    source,
                }),
            Err(UsbError::Timeout(_)) => Ok(None),
            Err(e) => Err(UruError::usb(during, e)),
        }
    }

    /// Waits for a finger on the sensor (MODE = await finger on, then the finger-on event).
    fn await_finger(&mut self, control: &CaptureControl) -> Result<(), UruError> {
        self.set_mode(Mode::AwaitFingerOn)?;
        let deadline = Instant::now() + control.timeout;
        loop {
            if control.cancel.load(Ordering::SeqCst) {
                self.idle();
                return Err(UruError::Cancelled);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.idle();
                return Err(UruError::NoFinger(control.timeout));
            }
            match self.read_event(left.min(self.config.poll), "waiting for a finger")? {
                Some(Event::FingerOn) => return Ok(()),
                Some(Event::Fault) => {
                    return Err(UruError::DeviceFault {
                        during: "waiting for a finger".into(),
                    })
                }
                // A finger-off left over from the last capture, or a late power-on.
                Some(other) => tracing::debug!(%other, "event while waiting for a finger"),
                None => {}
            }
        }
    }

    /// Leaves the scanner powered but not waiting for a finger (errors are only logged: this runs
    /// on the way out of a failed or cancelled capture).
    fn idle(&mut self) {
        if let Err(e) = self.set_mode(Mode::Init) {
            tracing::debug!(%e, "setting the reader idle");
        }
    }

    /// Reads one image transfer (MODE = capture, then one bulk read of 111 424 bytes).
    fn read_image(&mut self) -> Result<Vec<u8>, UruError> {
        self.set_mode(Mode::Capture)?;
        let mut buf = vec![0u8; IMAGE_TRANSFER_LEN];
        if let Some(p) = self.progress.as_mut() {
            p(0, IMAGE_TRANSFER_LEN);
        }
        let n = self
            .usb
            .bulk_in(ids::EP_IMAGE, &mut buf, self.config.timeout)
            .map_err(|e| UruError::usb("the image transfer", e))?;
        if let Some(p) = self.progress.as_mut() {
            p(n, IMAGE_TRANSFER_LEN);
        }
        if n < IMAGE_TRANSFER_LEN {
            return Err(UruError::ShortImage {
                got: n,
                want: IMAGE_TRANSFER_LEN,
            });
        }
        Ok(buf)
    }

    /// The scramble key for `key_number`, as docs/devices.md §3 describes the exchange (the key number
    /// and 4 bytes written to 0x33, 4 bytes read from 0x34). **Unverified**: what the 4 bytes after
    /// the key number hold (zeros here). Used only by a descrambler that can descramble.
    fn scramble_key(&mut self, key_number: u8) -> Result<u32, UruError> {
        self.write_registers(reg::SCRAMBLE_DATA_INDEX, &[key_number, 0, 0, 0, 0])?;
        let k = self.read_registers(reg::SCRAMBLE_DATA_KEY, 4)?;
        Ok(u32::from_be_bytes([k[0], k[1], k[2], k[3]]))
    }

    /// Turns an image transfer into pixels, descrambling where the header says so.
    fn decode(&mut self, bytes: &[u8]) -> Result<FingerImage, UruError> {
        let RawImage { header, mut lines } =
            RawImage::decode(bytes).map_err(|source| UruError::Codec {
                during: "the image header".into(),
                source,
            })?;
        if header.any_encrypted() {
            self.descramble(&header, &mut lines)?;
        }
        let height = usize::from(header.num_lines);
        lines.truncate(height * IMAGE_WIDTH);
        Ok(FingerImage {
            width: IMAGE_WIDTH as u32,
            height: height as u32,
            ppi: IMAGE_PPI,
            pixels: lines,
        })
    }

    fn descramble(&mut self, header: &ImageHeader, lines: &mut [u8]) -> Result<(), UruError> {
        let scrambled = header.blocks.iter().filter(|b| b.encrypted()).count();
        if !self.descrambler.can_descramble() {
            return Err(UruError::Scrambled { blocks: scrambled });
        }
        let mut key = self.scramble_key(header.key_number)?;
        for (first, count, block) in header.runs() {
            if block.encrypted() {
                let span = &mut lines[first * IMAGE_WIDTH..(first + count) * IMAGE_WIDTH];
                key = self.descrambler.descramble(key, block, span);
            }
        }
        Ok(())
    }

    /// Waits for a finger and reads its image.
    pub fn capture(&mut self, control: &CaptureControl) -> Result<FingerImage, UruError> {
        self.await_finger(control)?;
        let bytes = self.read_image()?;
        // Ask for the finger to lift before the next capture; a failure here costs nothing.
        if let Err(e) = self.set_mode(Mode::AwaitFingerOff) {
            if e.is_disconnect() {
                return Err(e);
            }
            tracing::debug!(%e, "asking the reader to wait for the finger to lift");
        }
        self.decode(&bytes)
    }
}

impl<T: UsbTransport> Drop for Uru4000<T> {
    fn drop(&mut self) {
        // Leave the reader switched off and give the interface back.
        self.config.timeout = self.config.timeout.min(Duration::from_millis(500));
        if let Err(e) = self.set_mode(Mode::Off) {
            tracing::debug!(%e, "switching the reader off on drop");
        }
        let _ = self.usb.release_interface(ids::INTERFACE);
    }
}

impl<T: UsbTransport> Device for Uru4000<T> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
}

impl<T: UsbTransport> FingerprintScanner for Uru4000<T> {
    fn capture_finger(&mut self, control: &CaptureControl) -> Result<FingerImage, DeviceError> {
        Ok(self.capture(control)?)
    }
    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        self.progress = progress;
    }
}

/// The reader behind `connect`, opened (and powered up) now, and found again through `connect` —
/// by its selector, never by the old bus address — at the first capture after an unplug
/// ([`Replugging`]).
pub fn replugging<T: UsbTransport + 'static>(
    mut connect: impl FnMut() -> Result<T, UsbError> + Send + 'static,
    info: DeviceInfo,
    config: UruConfig,
) -> Result<Replugging<Uru4000<T>>, UruError> {
    let usb = connect().map_err(|e| UruError::usb("opening the reader", e))?;
    let reader = Uru4000::open(usb, info.clone(), config.clone())?;
    Ok(Replugging::new(
        reader,
        Box::new(move || {
            let usb = connect().map_err(|e| match e {
                UsbError::NotFound(_) | UsbError::Disconnected => DeviceError::Disconnected,
                e => UruError::usb("opening the reader again", e).into(),
            })?;
            Ok(Uru4000::open(usb, info.clone(), config.clone())?)
        }),
    ))
}

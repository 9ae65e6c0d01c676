//! The EF01 driver: a state machine over any [`SerialLink`]. Probe (VfyPwd, ReadSysPara), capture
//! (GenImg polls, UpImage with checked data packets and bounded retries), settings, ring LED.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::error::Ef01Error;
use super::ids::{self, ModuleModel};
use super::protocol::{
    self, Decoder, Frame, Instruction, PacketSize, Pid, Register, SysParams, FRAME_OVERHEAD,
};
use crate::calibration::{DeviceCalibration, Prompt};
use crate::transport::{LinkError, SerialLink};
use crate::{
    Calibration, CaptureControl, Device, DeviceError, DeviceInfo, FingerImage, FingerprintScanner,
};

/// How to talk to a module. [`Ef01Config::default`] fits a factory-fresh ZFM-20/R30x/AS608 at
/// 57 600 baud.
#[derive(Debug, Clone)]
pub struct Ef01Config {
    pub address: u32,
    pub password: u32,
    /// The module model: sensor geometry and optional features (ReadSysPara does not tell).
    pub module: &'static ModuleModel,
    /// The speed the link was opened at; timeouts scale with it.
    pub line_baud: u32,
    /// Pause between GenImg polls while no finger is on the sensor.
    pub poll_interval: Duration,
    /// How many times an image transfer is tried when packets arrive damaged or cut short.
    pub transfer_attempts: u32,
    /// Slack on every reply for the module's own work (on top of the time on the wire).
    pub processing: Duration,
}

impl Default for Ef01Config {
    fn default() -> Self {
        Ef01Config {
            address: protocol::DEFAULT_ADDRESS,
            password: protocol::DEFAULT_PASSWORD,
            module: ids::default_module(),
            line_baud: 57_600,
            poll_interval: Duration::from_millis(150),
            transfer_attempts: 3,
            processing: Duration::from_millis(500),
        }
    }
}

/// Ring LED pattern (AuraLedConfig `ctrl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedMode {
    Breathing = 1,
    Flashing = 2,
    On = 3,
    Off = 4,
    GradualOn = 5,
    GradualOff = 6,
}

/// Ring LED colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedColour {
    Red = 1,
    Blue = 2,
    Purple = 3,
}

/// One AuraLedConfig setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuraLed {
    pub mode: LedMode,
    /// 0 fastest … 255 slowest (breathing and flashing).
    pub speed: u8,
    pub colour: LedColour,
    /// Number of cycles; 0 = endless.
    pub count: u8,
}

impl AuraLed {
    pub fn off() -> AuraLed {
        AuraLed {
            mode: LedMode::Off,
            speed: 0,
            colour: LedColour::Blue,
            count: 0,
        }
    }
}

/// Called during an image transfer with (bytes received, bytes expected).
pub type Progress = Box<dyn FnMut(usize, usize) + Send>;

/// An opened EF01 module.
pub struct Ef01<L: SerialLink> {
    link: L,
    config: Ef01Config,
    params: SysParams,
    info: DeviceInfo,
    decoder: Decoder,
    progress: Option<Progress>,
    led_lit: bool,
    /// Set when a transfer was abandoned: the module may keep sending until about then.
    busy_until: Option<Instant>,
}

impl<L: SerialLink> std::fmt::Debug for Ef01<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ef01")
            .field("link", &self.link.describe())
            .field("module", &self.config.module.name)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl<L: SerialLink> Ef01<L> {
    /// Opens a module with the default configuration at `address` with `password`: verifies the
    /// password, then reads the system parameters.
    pub fn open(link: L, address: u32, password: u32) -> Result<Self, Ef01Error> {
        Self::open_with(
            link,
            Ef01Config {
                address,
                password,
                ..Ef01Config::default()
            },
        )
    }

    /// Opens a module with an explicit configuration.
    pub fn open_with(link: L, config: Ef01Config) -> Result<Self, Ef01Error> {
        let info = DeviceInfo {
            driver: "ef01".into(),
            model: config.module.name.into(),
            serial: None,
            firmware: None,
        };
        let mut dev = Ef01 {
            link,
            params: SysParams {
                status: 0,
                system_id: 0,
                capacity: 0,
                security_level: 0,
                address: config.address,
                packet_size_code: PacketSize::B128.code().into(),
                baud_n: 0,
            },
            config,
            info,
            decoder: Decoder::new(),
            progress: None,
            led_lit: false,
            busy_until: None,
        };
        dev.verify_password()?;
        dev.params = dev.read_sys_params()?;
        tracing::debug!(link = %dev.link.describe(), params = ?dev.params, "EF01 module opened");
        Ok(dev)
    }

    pub fn config(&self) -> &Ef01Config {
        &self.config
    }

    /// The system parameters as last read (at open and after every setting).
    pub fn sys_params(&self) -> &SysParams {
        &self.params
    }

    pub fn module(&self) -> &'static ModuleModel {
        self.config.module
    }

    /// Reports image transfer progress as (bytes received, bytes expected).
    pub fn set_progress(&mut self, progress: impl FnMut(usize, usize) + Send + 'static) {
        self.progress = Some(Box::new(progress));
    }

    pub fn clear_progress(&mut self) {
        self.progress = None;
    }

    /// VfyPwd with the configured password.
    pub fn verify_password(&mut self) -> Result<(), Ef01Error> {
        let pwd = self.config.password.to_be_bytes();
        self.ack_values(Instruction::VfyPwd, &pwd, 0).map(drop)
    }

    /// ReadSysPara.
    pub fn read_sys_params(&mut self) -> Result<SysParams, Ef01Error> {
        let values = self.ack_values(Instruction::ReadSysPara, &[], protocol::SYS_PARAMS_LEN)?;
        SysParams::parse(&values).ok_or(Ef01Error::UnexpectedReply {
            command: "ReadSysPara",
            detail: format!("{} bytes of parameters, 16 expected", values.len()),
        })
    }

    /// One GenImg: `true` if a finger was captured into the image buffer, `false` if none is there.
    pub fn gen_img(&mut self) -> Result<bool, Ef01Error> {
        match self.ack_values(Instruction::GenImg, &[], 0) {
            Ok(_) => Ok(true),
            Err(Ef01Error::Device {
                code: protocol::Confirmation::NoFinger,
                ..
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits for a finger (GenImg polls until `control.timeout`, watching `control.cancel`), then
    /// uploads the image.
    pub fn capture(&mut self, control: &CaptureControl) -> Result<FingerImage, Ef01Error> {
        let deadline = Instant::now() + control.timeout;
        let cancelled = || control.cancel.load(Ordering::Relaxed);
        let mut polls = 0u32;
        loop {
            if cancelled() {
                return Err(Ef01Error::Cancelled);
            }
            polls += 1;
            if self.gen_img()? {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Ef01Error::NoFinger {
                    waited: control.timeout,
                });
            }
            let wake = (now + self.config.poll_interval).min(deadline);
            while let Some(left) = wake.checked_duration_since(Instant::now()) {
                if cancelled() {
                    return Err(Ef01Error::Cancelled);
                }
                std::thread::sleep(left.min(Duration::from_millis(20)));
            }
        }
        tracing::debug!(polls, "finger on the sensor");
        self.upload_image(Some(&control.cancel))
    }

    /// UpImage: the image buffer as 8-bit grey. Damaged or cut-short packets retry the whole
    /// transfer up to `transfer_attempts` times.
    pub fn upload_image(&mut self, cancel: Option<&AtomicBool>) -> Result<FingerImage, Ef01Error> {
        let attempts = self.config.transfer_attempts.max(1);
        let mut last = None;
        for attempt in 1..=attempts {
            match self.upload_once(cancel) {
                Ok(img) => return Ok(img),
                Err(e) if e.is_transient() => {
                    tracing::warn!(attempt, error = %e, "image transfer failed, retrying");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(Ef01Error::TransferFailed {
            command: "UpImage",
            attempts,
            last: Box::new(last.expect("at least one attempt ran")),
        })
    }

    /// Number of templates stored (TempleteNum).
    pub fn template_count(&mut self) -> Result<u16, Ef01Error> {
        let v = self.ack_values(Instruction::TempleteNum, &[], 2)?;
        v.get(..2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(Ef01Error::UnexpectedReply {
                command: "TempleteNum",
                detail: "no count in the reply".into(),
            })
    }

    /// Sets the data packet size. The module stores it and uses it from the next transfer on.
    pub fn set_packet_size(&mut self, size: PacketSize) -> Result<(), Ef01Error> {
        self.set_register(Register::PacketSize, size.code())
    }

    /// Sets the matching security level, 1 (most permissive) to 5 (strictest). Stored and active at
    /// once.
    pub fn set_security_level(&mut self, level: u8) -> Result<(), Ef01Error> {
        if !(1..=5).contains(&level) {
            return Err(Ef01Error::InvalidSetting(format!(
                "security level {level} is not 1–5"
            )));
        }
        self.set_register(Register::SecurityLevel, level)
    }

    /// Sets the baud rate (9600 × N, N = 1…12).
    ///
    /// **Persisted, not active:** the module stores the new rate, and ReadSysPara reports it at
    /// once, but its UART keeps the old speed until it is power-cycled (docs/devices.md §1.6). Keep
    /// talking at the old speed; after the power cycle, open the port at the new one.
    pub fn set_baud(&mut self, baud: u32) -> Result<(), Ef01Error> {
        let n = baud / 9600;
        if !baud.is_multiple_of(9600) || !(1..=12).contains(&n) {
            return Err(Ef01Error::InvalidSetting(format!(
                "baud {baud} is not 9600 × N for N = 1…12"
            )));
        }
        self.set_register(Register::Baud, n as u8)
    }

    /// Drives the ring LED (AuraLedConfig, R50x modules); `NotSupported` on modules without one.
    pub fn set_led(&mut self, led: AuraLed) -> Result<(), Ef01Error> {
        if !self.config.module.aura_led {
            return Err(Ef01Error::NotSupported("LED control (AuraLedConfig)"));
        }
        let params = [led.mode as u8, led.speed, led.colour as u8, led.count];
        self.ack_values(Instruction::AuraLedConfig, &params, 0)?;
        self.led_lit = !matches!(led.mode, LedMode::Off | LedMode::GradualOff);
        Ok(())
    }

    /// Sends any instruction and returns the return values of an OK reply.
    pub fn command(
        &mut self,
        instruction: Instruction,
        params: &[u8],
    ) -> Result<Vec<u8>, Ef01Error> {
        self.ack_values(instruction, params, 32)
    }

    fn set_register(&mut self, reg: Register, value: u8) -> Result<(), Ef01Error> {
        self.ack_values(Instruction::SetSysPara, &[reg as u8, value], 0)?;
        self.params = self.read_sys_params()?;
        Ok(())
    }

    /// The slower of the line speed and the speed the module reports, for timeouts.
    fn timing_baud(&self) -> u32 {
        match self.params.baud() {
            0 => self.config.line_baud,
            reported => reported.min(self.config.line_baud),
        }
        .max(1200)
    }

    fn wire_time(&self, bytes: usize) -> Duration {
        Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(self.timing_baud()))
    }

    fn packet_size(&self) -> usize {
        self.params.packet_size().map_or(128, PacketSize::bytes)
    }

    fn ack_values(
        &mut self,
        instruction: Instruction,
        params: &[u8],
        reply_values: usize,
    ) -> Result<Vec<u8>, Ef01Error> {
        let command = instruction.name();
        let frame = self.transact(instruction, params, reply_values)?;
        match frame.payload.split_first() {
            Some((0, values)) => Ok(values.to_vec()),
            Some((&code, _)) => Err(Ef01Error::from_code(command, code)),
            None => Err(Ef01Error::UnexpectedReply {
                command,
                detail: "an acknowledgement without a confirmation code".into(),
            }),
        }
    }

    /// Sends a command and waits for its acknowledgement, skipping stray data packets.
    fn transact(
        &mut self,
        instruction: Instruction,
        params: &[u8],
        reply_values: usize,
    ) -> Result<Frame, Ef01Error> {
        let command = instruction.name();
        self.settle();
        let frame = Frame::command(self.config.address, instruction, params).encode();
        self.link
            .write_all(&frame)
            .map_err(|e| Ef01Error::link(command, e, Duration::ZERO))?;
        let extra = if instruction == Instruction::GenImg {
            Duration::from_secs(1) // the sensor exposes and checks the image first
        } else {
            Duration::ZERO
        };
        let waited = self.config.processing
            + extra
            + self.wire_time(frame.len() + FRAME_OVERHEAD + 1 + reply_values) * 2;
        let deadline = Instant::now() + waited;
        loop {
            let reply = self.read_frame(command, deadline, waited)?;
            if reply.pid == Pid::Ack {
                return Ok(reply);
            }
            tracing::debug!(pid = ?reply.pid, command, "skipping a stray packet");
        }
    }

    fn read_frame(
        &mut self,
        command: &'static str,
        deadline: Instant,
        waited: Duration,
    ) -> Result<Frame, Ef01Error> {
        let mut buf = [0u8; 512];
        loop {
            if let Some(next) = self.decoder.next_frame() {
                let skipped = self.decoder.take_skipped();
                if skipped > 0 {
                    tracing::debug!(skipped, command, "skipped garbage before a frame");
                }
                return next.map_err(|e| Ef01Error::Checksum {
                    command,
                    detail: e.to_string(),
                });
            }
            match self.link.read_some(&mut buf, deadline) {
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(LinkError::Timeout(_)) if self.decoder.pending() > 0 => {
                    return Err(Ef01Error::Truncated {
                        command,
                        received: self.decoder.pending(),
                    })
                }
                Err(e) => return Err(Ef01Error::link(command, e, waited)),
            }
        }
    }

    /// After an abandoned transfer: reads and drops what the module still sends, until the line
    /// has been quiet for a few packet times (or the transfer would have ended), then forgets it.
    fn settle(&mut self) {
        if let Some(until) = self.busy_until.take() {
            let quiet = self
                .wire_time(4 * (self.packet_size() + FRAME_OVERHEAD))
                .max(Duration::from_millis(50));
            let bound = until.max(Instant::now()) + Duration::from_secs(1);
            let mut buf = [0u8; 512];
            while Instant::now() < bound {
                match self
                    .link
                    .read_some(&mut buf, (Instant::now() + quiet).min(bound))
                {
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
        }
        self.decoder.reset();
        let _ = self.link.clear_input();
    }

    fn upload_once(&mut self, cancel: Option<&AtomicBool>) -> Result<FingerImage, Ef01Error> {
        self.ack_values(Instruction::UpImage, &[], 0)?;
        let expected = self.config.module.image_bytes();
        let packet_wire = self.packet_size() + FRAME_OVERHEAD;
        let packets = expected.div_ceil(self.packet_size());
        let per_packet = self.config.processing + self.wire_time(packet_wire) * 3;
        let budget = Duration::from_secs(2) + self.wire_time(packets * packet_wire) * 2;
        let transfer_end = Instant::now() + budget;
        let result = self.receive_image(cancel, expected, per_packet, (transfer_end, budget));
        if result.is_err() {
            self.busy_until = Some(transfer_end);
        }
        let data = result?;
        self.image_from(data)
    }

    fn receive_image(
        &mut self,
        cancel: Option<&AtomicBool>,
        expected: usize,
        per_packet: Duration,
        (transfer_end, budget): (Instant, Duration),
    ) -> Result<Vec<u8>, Ef01Error> {
        let command = "UpImage";
        let mut data = Vec::with_capacity(expected);
        if let Some(progress) = self.progress.as_mut() {
            progress(0, expected);
        }
        loop {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Ef01Error::Cancelled);
            }
            let now = Instant::now();
            if now >= transfer_end {
                return Err(Ef01Error::Timeout {
                    command,
                    waited: budget,
                });
            }
            let deadline = (now + per_packet).min(transfer_end);
            let frame = self.read_frame(command, deadline, per_packet)?;
            match frame.pid {
                Pid::Data | Pid::EndData => data.extend_from_slice(&frame.payload),
                other => {
                    return Err(Ef01Error::UnexpectedReply {
                        command,
                        detail: format!("a {other:?} frame in the middle of the image"),
                    })
                }
            }
            if let Some(progress) = self.progress.as_mut() {
                progress(data.len(), expected.max(data.len()));
            }
            if frame.pid == Pid::EndData {
                return Ok(data);
            }
        }
    }

    /// Sizes the image from the byte count: the configured module first, then any known one.
    fn image_from(&self, data: Vec<u8>) -> Result<FingerImage, Ef01Error> {
        let configured = self.config.module;
        let module = std::iter::once(configured)
            .chain(ids::MODULES.iter())
            .find(|m| m.image_bytes() == data.len())
            .ok_or(Ef01Error::ImageSize {
                bytes: data.len(),
                expected: configured.image_bytes(),
                model: configured.name,
            })?;
        let pixels = match module.bits_per_pixel {
            4 => protocol::unpack_4bit(&data),
            _ => data,
        };
        Ok(FingerImage {
            width: module.width,
            height: module.height,
            ppi: module.ppi,
            pixels,
        })
    }
}

impl<L: SerialLink> Drop for Ef01<L> {
    /// Leaves the module idle: a lit ring LED is switched off. (The image buffer needs no reset;
    /// an abandoned transfer simply ends on the module's side.)
    fn drop(&mut self) {
        if self.led_lit {
            self.config.processing = self.config.processing.min(Duration::from_millis(300));
            if let Err(e) = self.set_led(AuraLed::off()) {
                tracing::debug!(error = %e, "could not switch the LED off on close");
            }
        }
    }
}

impl<L: SerialLink> Device for Ef01<L> {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
}

impl<L: SerialLink> FingerprintScanner for Ef01<L> {
    fn capture_finger(&mut self, control: &CaptureControl) -> Result<FingerImage, DeviceError> {
        self.capture(control).map_err(DeviceError::from)
    }

    fn set_transfer_progress(&mut self, progress: Option<crate::TransferProgress>) {
        self.progress = progress;
    }

    /// Sets the packet size and security level jemput captures with and takes a blank-sensor
    /// baseline ([`Ef01::calibrate`]); the record's data is what it found and left on the
    /// module, and it asks the operator nothing.
    fn calibrate(
        &mut self,
        control: &CaptureControl,
        prompt: &mut dyn FnMut(Prompt),
    ) -> Result<DeviceCalibration, DeviceError> {
        let _ = prompt;
        let cal = Ef01::calibrate(self, control).map_err(DeviceError::calibration)?;
        let data = serde_json::to_value(&cal).map_err(DeviceError::calibration)?;
        Ok(DeviceCalibration { data, id: None })
    }
}

impl<L: SerialLink> Calibration for Ef01<L> {}

//! A PTP still camera model: the camera's side of the same codec, with one storage (a memory
//! card), DeviceInfo, device properties (white balance, exposure program, exposure bias, ISO),
//! synthetic face photos on a coloured background (never a real person), and faults on request —
//! busy, store full, a transfer the camera cancels, an unplug mid-transfer, a body without
//! InitiateCapture, a body without properties.
//!
//! It plugs in under the driver through [`crate::usb::MemUsb`] (see [`PtpModel::transport`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::dataset::{encode_u32_array, DeviceInfo, ObjectInfo, Reader, StorageInfo, Writer};
use super::driver::PtpEndpoints;
use super::props::{self, DevicePropDesc, PropForm, PropValue};
use super::protocol::{
    class, data, decode_header, ContainerType, EventCode, FormatCode, OperationCode,
    ParamContainer, ResponseCode, HEADER_LEN,
};
use crate::synth;
use crate::usb::{
    ControlRequest, EndpointDescription, EndpointKind, InterfaceDescription, MemUsb,
    UsbDescription, UsbDevice, UsbError, UsbFunction, UsbSpeed,
};

/// The one storage of the model.
pub const STORAGE_ID: u32 = 0x0001_0001;

/// A fault the model injects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PtpFault {
    /// InitiateCapture answers DeviceBusy this many times before it works.
    Busy { times: u32 },
    /// The memory card is full: InitiateCapture answers StoreFull.
    StoreFull,
    /// The camera cancels the next GetObject after `after` bytes of data: it stalls the bulk IN
    /// pipe, reports TransactionCancelled in Get Device Status and posts CancelTransaction.
    CancelTransfer { after: usize },
    /// The camera is unplugged during the next GetObject after `after` bytes of data.
    UnplugMidTransfer { after: usize },
    /// The first `times` photos come out nearly black (a lens cap, a room without light); the
    /// next ones are normal. For the face checks and the retry policy.
    Underexposed { times: u32 },
    /// A body that captures only through vendor operations: no InitiateCapture in DeviceInfo,
    /// these vendor operation codes instead.
    NoInitiateCapture {
        vendor_extension: u32,
        vendor_ops: Vec<u16>,
    },
    /// A body that exposes no device properties (exposure, white balance are set on the camera).
    NoProperties,
    /// The next capture's ObjectAdded event loses its tail: only its first interrupt packet is
    /// sent, and CaptureComplete follows 400 ms later. This is what a USB/IP client sees when it
    /// cancels an interrupt read (its poll timed out) just as the server answers it with the rest
    /// of the event: the kernel drops the answer of an unlinked URB.
    LoseObjectAddedTail,
}

/// How the model looks and behaves.
#[derive(Debug, Clone)]
pub struct PtpModelConfig {
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub version: String,
    /// Which synthetic person is photographed first (the next capture takes the next one).
    pub person_seed: u64,
    /// The backdrop the photo is taken against (KTP-el uses red or blue).
    pub background: [u8; 3],
    /// JPEG quality 1–100.
    pub quality: u8,
    /// Time from InitiateCapture to the ObjectAdded event (focus, exposure, writing the card).
    pub capture_delay: Duration,
    /// wMaxPacketSize of the interrupt endpoint (events arrive in pieces this big).
    pub interrupt_packet: usize,
    /// wMaxPacketSize of the bulk endpoints.
    pub bulk_packet: usize,
    /// Card size in bytes.
    pub card_capacity: u64,
    pub faults: Vec<PtpFault>,
}

impl Default for PtpModelConfig {
    fn default() -> Self {
        PtpModelConfig {
            manufacturer: "jemput".into(),
            model: "Simulated PTP camera".into(),
            serial: "SIMPTP0001".into(),
            version: "1.0".into(),
            person_seed: 1,
            background: [200, 30, 40],
            quality: 90,
            capture_delay: Duration::from_millis(300),
            interrupt_packet: 8,
            bulk_packet: 512,
            card_capacity: 8 << 30,
            faults: Vec::new(),
        }
    }
}

impl PtpModelConfig {
    /// No capture delay: for tests and `--fast`.
    pub fn fast(mut self) -> Self {
        self.capture_delay = Duration::ZERO;
        self
    }
}

/// What the model was asked, in order, for tests to check.
#[derive(Debug, Clone, Default)]
pub struct ModelLog(Arc<Mutex<Vec<OperationCode>>>);

impl ModelLog {
    /// The operations received so far.
    pub fn operations(&self) -> Vec<OperationCode> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
    fn push(&self, op: OperationCode) {
        if let Ok(mut v) = self.0.lock() {
            v.push(op);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Stall,
    Unplug,
}

#[derive(Debug)]
struct InTransfer {
    data: Vec<u8>,
    pos: usize,
    /// Where the transfer breaks off, counted in bytes of the whole container.
    stop: Option<(usize, Stop)>,
}

/// The camera model (implements [`UsbFunction`]).
#[derive(Debug)]
pub struct PtpModel {
    cfg: PtpModelConfig,
    info: DeviceInfo,
    session: Option<u32>,
    objects: BTreeMap<u32, (ObjectInfo, Vec<u8>)>,
    next_handle: u32,
    captures: u64,
    busy_left: u32,
    out_buf: Vec<u8>,
    bulk_in: VecDeque<InTransfer>,
    halted: bool,
    events: VecDeque<(Instant, Vec<u8>)>,
    event_out: Vec<u8>,
    /// The event just sent filled its last interrupt packet: a zero-length packet ends it.
    event_zlp: bool,
    unplugged: bool,
    log: ModelLog,
    /// Device properties: exposure and white balance.
    props: BTreeMap<u16, DevicePropDesc>,
    /// A SetDevicePropValue waiting for its data phase: (property, transaction).
    pending_set: Option<(u16, u32)>,
}

/// The properties of the model: white balance, exposure program, exposure bias and ISO.
fn model_properties() -> BTreeMap<u16, DevicePropDesc> {
    let int = PropValue::Int;
    let e = |v: &[i128]| PropForm::Enumeration(v.iter().copied().map(PropValue::Int).collect());
    [
        DevicePropDesc {
            code: props::code::WHITE_BALANCE,
            data_type: props::data_type::UINT16,
            writable: true,
            factory_default: int(2),
            current: int(2),
            form: e(&[2, 4, 5, 6, 7]),
        },
        DevicePropDesc {
            code: props::code::EXPOSURE_PROGRAM_MODE,
            data_type: props::data_type::UINT16,
            writable: true,
            factory_default: int(2),
            current: int(2),
            form: e(&[1, 2, 3, 4]),
        },
        DevicePropDesc {
            code: props::code::EXPOSURE_BIAS_COMPENSATION,
            data_type: props::data_type::INT16,
            writable: true,
            factory_default: int(0),
            current: int(0),
            form: PropForm::Range {
                min: int(-3000),
                max: int(3000),
                step: int(500),
            },
        },
        DevicePropDesc {
            code: props::code::EXPOSURE_INDEX,
            data_type: props::data_type::UINT16,
            writable: true,
            factory_default: int(200),
            current: int(200),
            form: e(&[100, 200, 400, 800, 1600]),
        },
    ]
    .into_iter()
    .map(|d| (d.code, d))
    .collect()
}

/// Operations the model implements.
const OPERATIONS: &[OperationCode] = &[
    OperationCode::GET_DEVICE_INFO,
    OperationCode::OPEN_SESSION,
    OperationCode::CLOSE_SESSION,
    OperationCode::GET_STORAGE_IDS,
    OperationCode::GET_STORAGE_INFO,
    OperationCode::GET_NUM_OBJECTS,
    OperationCode::GET_OBJECT_HANDLES,
    OperationCode::GET_OBJECT_INFO,
    OperationCode::GET_OBJECT,
    OperationCode::DELETE_OBJECT,
    OperationCode::INITIATE_CAPTURE,
    OperationCode::GET_DEVICE_PROP_DESC,
    OperationCode::GET_DEVICE_PROP_VALUE,
    OperationCode::SET_DEVICE_PROP_VALUE,
];

impl PtpModel {
    pub fn new(cfg: PtpModelConfig) -> Self {
        let mut ops: Vec<u16> = OPERATIONS.iter().map(|o| o.0).collect();
        let mut vendor_extension_id = 0;
        for f in &cfg.faults {
            if let PtpFault::NoInitiateCapture {
                vendor_extension,
                vendor_ops,
            } = f
            {
                ops.retain(|&o| o != OperationCode::INITIATE_CAPTURE.0);
                ops.extend(vendor_ops);
                vendor_extension_id = *vendor_extension;
            }
        }
        let props = if cfg.faults.contains(&PtpFault::NoProperties) {
            BTreeMap::new()
        } else {
            model_properties()
        };
        let info = DeviceInfo {
            standard_version: 100,
            vendor_extension_id,
            vendor_extension_version: 0,
            vendor_extension_desc: String::new(),
            functional_mode: 0,
            operations_supported: ops,
            events_supported: [
                EventCode::CANCEL_TRANSACTION,
                EventCode::OBJECT_ADDED,
                EventCode::STORE_FULL,
                EventCode::CAPTURE_COMPLETE,
            ]
            .iter()
            .map(|e| e.0)
            .collect(),
            device_properties_supported: props.keys().copied().collect(),
            capture_formats: vec![FormatCode::EXIF_JPEG.0],
            image_formats: vec![FormatCode::EXIF_JPEG.0, FormatCode::ASSOCIATION.0],
            manufacturer: cfg.manufacturer.clone(),
            model: cfg.model.clone(),
            device_version: cfg.version.clone(),
            serial_number: cfg.serial.clone(),
        };
        let busy_left = cfg
            .faults
            .iter()
            .map(|f| match f {
                PtpFault::Busy { times } => *times,
                _ => 0,
            })
            .sum();
        PtpModel {
            cfg,
            info,
            session: None,
            objects: BTreeMap::new(),
            next_handle: 1,
            captures: 0,
            busy_left,
            out_buf: Vec::new(),
            bulk_in: VecDeque::new(),
            halted: false,
            events: VecDeque::new(),
            event_out: Vec::new(),
            event_zlp: false,
            unplugged: false,
            log: ModelLog::default(),
            props,
            pending_set: None,
        }
    }

    /// The current value of device property `code`, if the model has it.
    pub fn property(&self, code: u16) -> Option<&PropValue> {
        self.props.get(&code).map(|d| &d.current)
    }

    /// The data phase of a SetDevicePropValue: checks the value against the property's type and
    /// allowed values, and answers.
    fn set_property(&mut self, code: u16, tid: u32, payload: &[u8]) {
        let Some(desc) = self.props.get_mut(&code) else {
            return self.respond(ResponseCode::DEVICE_PROP_NOT_SUPPORTED, tid, &[]);
        };
        let mut r = Reader::new(payload, "DevicePropValue");
        let value = props::read_value(&mut r, desc.data_type).and_then(|v| r.finish().map(|()| v));
        let code = match value {
            Err(_) => ResponseCode::INVALID_DEVICE_PROP_FORMAT,
            Ok(_) if !desc.writable => ResponseCode::ACCESS_DENIED,
            Ok(v) if !desc.allows(&v) => ResponseCode::INVALID_DEVICE_PROP_VALUE,
            Ok(v) => {
                desc.current = v;
                ResponseCode::OK
            }
        };
        self.respond(code, tid, &[]);
    }

    /// The model behind an in-memory USB transport, with the log of what it was asked and the
    /// endpoints the driver should use.
    pub fn transport(cfg: PtpModelConfig) -> (MemUsb, ModelLog, PtpEndpoints) {
        let ep = PtpEndpoints {
            max_packet: cfg.bulk_packet,
            ..PtpEndpoints::default()
        };
        let model = PtpModel::new(cfg);
        let log = model.log.clone();
        (MemUsb::new(model), log, ep)
    }

    /// Photos on the card.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }

    fn used(&self) -> u64 {
        self.objects.values().map(|(_, d)| d.len() as u64).sum()
    }

    fn respond(&mut self, code: ResponseCode, tid: u32, params: &[u32]) {
        let bytes = ParamContainer {
            kind: ContainerType::Response,
            code: code.0,
            transaction_id: tid,
            params: params.to_vec(),
        }
        .encode()
        .expect("responses carry at most five parameters");
        self.queue(bytes, None);
    }

    fn queue(&mut self, data: Vec<u8>, stop: Option<(usize, Stop)>) {
        self.bulk_in.push_back(InTransfer { data, pos: 0, stop });
    }

    fn send_data(&mut self, op: OperationCode, tid: u32, payload: &[u8]) {
        let d = data(op.0, tid, payload).expect("model datasets are small");
        self.queue(d, None);
        self.respond(ResponseCode::OK, tid, &[]);
    }

    fn event(&mut self, at: Instant, code: EventCode, tid: u32, params: &[u32]) {
        let bytes = ParamContainer {
            kind: ContainerType::Event,
            code: code.0,
            transaction_id: tid,
            params: params.to_vec(),
        }
        .encode()
        .expect("events carry at most three parameters");
        self.events.push_back((at, bytes));
    }

    fn take_fault(&mut self, pick: impl Fn(&PtpFault) -> bool) -> Option<PtpFault> {
        let i = self.cfg.faults.iter().position(pick)?;
        Some(self.cfg.faults.remove(i))
    }

    fn has_fault(&self, pick: impl Fn(&PtpFault) -> bool) -> bool {
        self.cfg.faults.iter().any(pick)
    }

    fn storage_info(&self) -> StorageInfo {
        let free = self.cfg.card_capacity.saturating_sub(self.used());
        StorageInfo {
            storage_type: 4,
            filesystem_type: 3,
            access_capability: 0,
            max_capacity: self.cfg.card_capacity,
            free_space_bytes: free,
            free_space_images: (free / 60_000).min(u64::from(u32::MAX - 1)) as u32,
            description: "SD".into(),
            volume_label: "JEMPUT".into(),
        }
    }

    fn command(&mut self, c: ParamContainer) {
        let op = OperationCode(c.code);
        let tid = c.transaction_id;
        self.log.push(op);
        if op != OperationCode::GET_DEVICE_INFO
            && op != OperationCode::OPEN_SESSION
            && self.session.is_none()
        {
            return self.respond(ResponseCode::SESSION_NOT_OPEN, tid, &[]);
        }
        match op {
            OperationCode::GET_DEVICE_INFO => {
                let d = self.info.encode().expect("model strings are short");
                self.send_data(op, tid, &d);
            }
            OperationCode::OPEN_SESSION => match (c.param(0), self.session) {
                (0, _) => self.respond(ResponseCode::INVALID_PARAMETER, tid, &[]),
                (_, Some(open)) => self.respond(ResponseCode::SESSION_ALREADY_OPEN, tid, &[open]),
                (id, None) => {
                    self.session = Some(id);
                    self.respond(ResponseCode::OK, tid, &[]);
                }
            },
            OperationCode::CLOSE_SESSION => {
                self.session = None;
                self.respond(ResponseCode::OK, tid, &[]);
            }
            OperationCode::GET_STORAGE_IDS => {
                self.send_data(op, tid, &encode_u32_array(&[STORAGE_ID]))
            }
            OperationCode::GET_STORAGE_INFO if c.param(0) == STORAGE_ID => {
                let d = self.storage_info().encode().expect("short strings");
                self.send_data(op, tid, &d);
            }
            OperationCode::GET_NUM_OBJECTS => {
                let n = self.objects.len() as u32;
                self.respond(ResponseCode::OK, tid, &[n]);
            }
            OperationCode::GET_OBJECT_HANDLES if matches!(c.param(0), 0xFFFF_FFFF | STORAGE_ID) => {
                let handles: Vec<u32> = self.objects.keys().copied().collect();
                self.send_data(op, tid, &encode_u32_array(&handles));
            }
            OperationCode::GET_STORAGE_INFO | OperationCode::GET_OBJECT_HANDLES => {
                self.respond(ResponseCode::INVALID_STORAGE_ID, tid, &[])
            }
            OperationCode::GET_OBJECT_INFO => match self.objects.get(&c.param(0)) {
                Some((info, _)) => {
                    let d = info.encode().expect("short strings");
                    self.send_data(op, tid, &d);
                }
                None => self.respond(ResponseCode::INVALID_OBJECT_HANDLE, tid, &[]),
            },
            OperationCode::GET_OBJECT => self.get_object(c.param(0), tid),
            OperationCode::DELETE_OBJECT => {
                let h = c.param(0);
                if h == 0xFFFF_FFFF {
                    self.objects.clear();
                    self.respond(ResponseCode::OK, tid, &[]);
                } else if self.objects.remove(&h).is_some() {
                    self.respond(ResponseCode::OK, tid, &[]);
                } else {
                    self.respond(ResponseCode::INVALID_OBJECT_HANDLE, tid, &[]);
                }
            }
            OperationCode::INITIATE_CAPTURE if self.info.supports(op) => {
                // Logged with its time: tests/vm/run.sh measures InitiateCapture → photo sent.
                tracing::info!(tid, "PTP model: InitiateCapture received");
                self.initiate_capture(c.param(0), c.param(1), tid)
            }
            OperationCode::GET_DEVICE_PROP_DESC | OperationCode::GET_DEVICE_PROP_VALUE => {
                let Some(desc) = u16::try_from(c.param(0))
                    .ok()
                    .and_then(|p| self.props.get(&p))
                else {
                    return self.respond(ResponseCode::DEVICE_PROP_NOT_SUPPORTED, tid, &[]);
                };
                let d = if op == OperationCode::GET_DEVICE_PROP_DESC {
                    desc.encode()
                } else {
                    let mut w = Writer(Vec::new());
                    props::write_value(&mut w, desc.data_type, &desc.current).map(|()| w.0)
                }
                .expect("the model's own values fit their types");
                self.send_data(op, tid, &d);
            }
            OperationCode::SET_DEVICE_PROP_VALUE => match u16::try_from(c.param(0)) {
                // The value follows in a data container.
                Ok(p) => self.pending_set = Some((p, tid)),
                Err(_) => self.respond(ResponseCode::DEVICE_PROP_NOT_SUPPORTED, tid, &[]),
            },
            _ => self.respond(ResponseCode::OPERATION_NOT_SUPPORTED, tid, &[]),
        }
    }

    fn get_object(&mut self, handle: u32, tid: u32) {
        let Some((_, bytes)) = self.objects.get(&handle) else {
            return self.respond(ResponseCode::INVALID_OBJECT_HANDLE, tid, &[]);
        };
        let container = data(OperationCode::GET_OBJECT.0, tid, bytes).expect("photos are small");
        let fault = self.take_fault(|f| {
            matches!(
                f,
                PtpFault::CancelTransfer { .. } | PtpFault::UnplugMidTransfer { .. }
            )
        });
        let stop = match fault {
            Some(PtpFault::CancelTransfer { after }) => Some((12 + after, Stop::Stall)),
            Some(PtpFault::UnplugMidTransfer { after }) => Some((12 + after, Stop::Unplug)),
            _ => None,
        };
        self.queue(container, stop);
        self.respond(ResponseCode::OK, tid, &[]);
    }

    fn initiate_capture(&mut self, storage: u32, format: u32, tid: u32) {
        if !matches!(storage, 0 | STORAGE_ID) {
            return self.respond(ResponseCode::INVALID_STORAGE_ID, tid, &[]);
        }
        if !matches!(format, 0 | 0x3801) {
            return self.respond(ResponseCode::INVALID_OBJECT_FORMAT_CODE, tid, &[]);
        }
        if self.busy_left > 0 {
            self.busy_left -= 1;
            return self.respond(ResponseCode::DEVICE_BUSY, tid, &[]);
        }
        if self.has_fault(|f| matches!(f, PtpFault::StoreFull)) {
            return self.respond(ResponseCode::STORE_FULL, tid, &[]);
        }
        let seed = self.cfg.person_seed.wrapping_add(self.captures);
        let mut img = synth::face(seed, self.cfg.background);
        let dark = self.cfg.faults.iter().any(
            |f| matches!(f, PtpFault::Underexposed { times } if self.captures < u64::from(*times)),
        );
        if dark {
            img.pixels_mut()
                .for_each(|p| p.0 = p.0.map(|v| (u16::from(v) / 25) as u8));
        }
        let jpeg = synth::jpeg_rgb(&img, self.cfg.quality);
        if self.used() + jpeg.len() as u64 > self.cfg.card_capacity {
            return self.respond(ResponseCode::STORE_FULL, tid, &[]);
        }
        self.captures += 1;
        let handle = self.next_handle;
        self.next_handle += 1;
        let info = ObjectInfo {
            storage_id: STORAGE_ID,
            format: FormatCode::EXIF_JPEG.0,
            protection: 0,
            compressed_size: jpeg.len() as u32,
            thumb_format: FormatCode::EXIF_JPEG.0,
            thumb_size: 0,
            thumb_width: 0,
            thumb_height: 0,
            image_width: img.width(),
            image_height: img.height(),
            bit_depth: 24,
            parent: 0,
            association_type: 0,
            association_desc: 0,
            sequence_number: 0,
            filename: format!("IMG_{handle:04}.JPG"),
            capture_date: "20250101T090000".into(),
            modification_date: "20250101T090000".into(),
            keywords: String::new(),
        };
        self.objects.insert(handle, (info, jpeg));
        self.respond(ResponseCode::OK, tid, &[]);
        let at = Instant::now() + self.cfg.capture_delay;
        self.event(at, EventCode::OBJECT_ADDED, tid, &[handle]);
        let complete_at = match self.take_fault(|f| matches!(f, PtpFault::LoseObjectAddedTail)) {
            Some(_) => {
                let (_, added) = self.events.back_mut().expect("just queued");
                added.truncate(self.cfg.interrupt_packet.clamp(1, HEADER_LEN - 1));
                at + Duration::from_millis(400)
            }
            None => at,
        };
        self.event(complete_at, EventCode::CAPTURE_COMPLETE, tid, &[tid]);
    }

    fn check_plugged(&self) -> Result<(), UsbError> {
        match self.unplugged {
            true => Err(UsbError::Disconnected),
            false => Ok(()),
        }
    }
}

impl UsbDevice for PtpModel {
    /// A still image capture interface (class 6/1/1) with bulk IN 0x81, bulk OUT 0x02 and
    /// interrupt IN 0x83, high speed for 512-byte bulk packets (full speed otherwise), under the
    /// pid.codes test VID:PID.
    fn description(&self) -> UsbDescription {
        let bulk = self.cfg.bulk_packet.min(1024) as u16;
        let bulk_endpoint = |address| EndpointDescription {
            address,
            kind: EndpointKind::Bulk,
            max_packet: bulk,
            interval: 0,
        };
        UsbDescription {
            vendor_id: super::ids::SIM_VENDOR_ID,
            product_id: super::ids::SIM_PRODUCT_ID,
            bcd_device: 0x0100,
            device_class: [0, 0, 0],
            manufacturer: self.cfg.manufacturer.clone(),
            product: self.cfg.model.clone(),
            serial: self.cfg.serial.clone(),
            speed: if bulk >= 512 {
                UsbSpeed::High
            } else {
                UsbSpeed::Full
            },
            interfaces: vec![InterfaceDescription {
                class: super::ids::INTERFACE_CLASS,
                subclass: super::ids::INTERFACE_SUBCLASS,
                protocol: super::ids::INTERFACE_PROTOCOL,
                name: Some("PTP".into()),
                endpoints: vec![
                    bulk_endpoint(0x81),
                    bulk_endpoint(0x02),
                    EndpointDescription {
                        address: 0x83,
                        kind: EndpointKind::Interrupt,
                        max_packet: self.cfg.interrupt_packet.min(1024) as u16,
                        interval: 4,
                    },
                ],
            }],
        }
    }
}

impl UsbFunction for PtpModel {
    fn control(
        &mut self,
        request: &ControlRequest,
        data_out: &[u8],
        _max_in: usize,
    ) -> Result<Vec<u8>, UsbError> {
        self.check_plugged()?;
        match (request.request_type, request.request) {
            (class::IN, class::GET_DEVICE_STATUS) => {
                let mut out = Vec::new();
                if self.halted {
                    out.extend_from_slice(&8u16.to_le_bytes());
                    out.extend_from_slice(&ResponseCode::TRANSACTION_CANCELLED.0.to_le_bytes());
                    out.extend_from_slice(&0x81u32.to_le_bytes());
                } else {
                    out.extend_from_slice(&4u16.to_le_bytes());
                    out.extend_from_slice(&ResponseCode::OK.0.to_le_bytes());
                }
                Ok(out)
            }
            (class::OUT, class::CANCEL) if data_out.len() == 6 => {
                self.bulk_in.clear();
                self.out_buf.clear();
                Ok(Vec::new())
            }
            (class::OUT, class::DEVICE_RESET) => {
                self.bulk_in.clear();
                self.out_buf.clear();
                self.session = None;
                Ok(Vec::new())
            }
            // CLEAR_FEATURE(ENDPOINT_HALT)
            (0x02, 0x01) => {
                self.halted = false;
                Ok(Vec::new())
            }
            _ => Err(UsbError::Stall { endpoint: 0 }),
        }
    }

    fn bulk_out(&mut self, ep: u8, bytes: &[u8]) -> Result<(), UsbError> {
        self.check_plugged()?;
        if ep != 0x02 || self.halted {
            return Err(UsbError::Stall { endpoint: ep });
        }
        self.out_buf.extend_from_slice(bytes);
        while self.out_buf.len() >= 12 {
            let h = match decode_header(&self.out_buf) {
                Ok(h) => h,
                // Garbage on the pipe: a real camera stalls it.
                Err(_) => {
                    self.out_buf.clear();
                    self.halted = true;
                    return Err(UsbError::Stall { endpoint: ep });
                }
            };
            if self.out_buf.len() < h.length as usize {
                break;
            }
            let rest = self.out_buf.split_off(h.length as usize);
            let container = std::mem::replace(&mut self.out_buf, rest);
            if h.kind == ContainerType::Command {
                if let Ok(c) = ParamContainer::decode(&container) {
                    self.command(c);
                }
            } else if h.kind == ContainerType::Data {
                // Only SetDevicePropValue takes data; data for nothing pending is dropped.
                if let Some((prop, tid)) = self.pending_set.take() {
                    self.set_property(prop, tid, &container[12..]);
                }
            }
        }
        Ok(())
    }

    fn bulk_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        self.check_plugged()?;
        if ep != 0x81 || self.halted {
            return Err(UsbError::Stall { endpoint: ep });
        }
        let packet = self.cfg.bulk_packet;
        let Some(t) = self.bulk_in.front_mut() else {
            return Ok(None);
        };
        if t.data.is_empty() {
            // A zero-length packet ending the previous transfer.
            self.bulk_in.pop_front();
            return Ok(Some(Vec::new()));
        }
        if let Some((at, how)) = t.stop {
            if t.pos >= at {
                match how {
                    Stop::Unplug => {
                        self.unplugged = true;
                        return Err(UsbError::Disconnected);
                    }
                    Stop::Stall => {
                        let tid = u32::from_le_bytes(t.data[8..12].try_into().expect("header"));
                        self.halted = true;
                        self.bulk_in.clear();
                        self.event(Instant::now(), EventCode::CANCEL_TRANSACTION, tid, &[]);
                        return Err(UsbError::Stall { endpoint: ep });
                    }
                }
            }
        }
        let end = t.stop.map_or(t.data.len(), |(at, _)| at.min(t.data.len()));
        let n = max_len.min(end - t.pos);
        let chunk = t.data[t.pos..t.pos + n].to_vec();
        t.pos += n;
        if t.pos == t.data.len() {
            let whole = t.data.len();
            let is_photo = whole > 12
                && t.data[4] == ContainerType::Data as u8
                && u16::from_le_bytes([t.data[6], t.data[7]]) == OperationCode::GET_OBJECT.0;
            if is_photo {
                tracing::info!(bytes = whole - 12, "PTP model: GetObject data sent");
            }
            self.bulk_in.pop_front();
            if whole % packet == 0 {
                // The transfer filled its last packet: a zero-length packet ends it.
                self.bulk_in.push_front(InTransfer {
                    data: Vec::new(),
                    pos: 0,
                    stop: None,
                });
            }
        }
        Ok(Some(chunk))
    }

    fn interrupt_in(&mut self, ep: u8, max_len: usize) -> Result<Option<Vec<u8>>, UsbError> {
        self.check_plugged()?;
        if ep != 0x83 {
            return Err(UsbError::Stall { endpoint: ep });
        }
        if self.event_out.is_empty() {
            if std::mem::take(&mut self.event_zlp) {
                return Ok(Some(Vec::new()));
            }
            match self.events.front() {
                Some((at, _)) if *at <= Instant::now() => {
                    self.event_out = self.events.pop_front().expect("front exists").1;
                }
                _ => return Ok(None),
            }
        }
        let packet = self.cfg.interrupt_packet.max(1);
        let n = max_len.min(packet).min(self.event_out.len());
        let chunk: Vec<u8> = self.event_out.drain(..n).collect();
        // An event that ends exactly on a packet boundary is ended by a zero-length packet, so a
        // host reading it with one larger URB sees where it ends (USB 2.0 §5.3.2).
        self.event_zlp = self.event_out.is_empty() && n == packet;
        Ok(Some(chunk))
    }
}

//! The PTP camera driver: transactions over the bulk pipe (command → optional data → response),
//! events on the interrupt endpoint, and the capture flow of docs/devices.md §5: GetDeviceInfo →
//! OpenSession → InitiateCapture → ObjectAdded / CaptureComplete → GetObjectInfo → GetObject →
//! DeleteObject → CloseSession (on drop).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::dataset::{decode_u32_array, DeviceInfo, ObjectInfo, Reader, StorageInfo, Writer};
use super::error::PtpError;
use super::props::{read_value, write_value, DevicePropDesc, PropValue};
use super::protocol::{
    class, command, data, decode_header, ContainerType, EventCode, FormatCode, OperationCode,
    ParamContainer, ResponseCode, HEADER_LEN,
};
use crate::calibration::{CameraCalibration, CameraSettings};
use crate::usb::{ControlRequest, UsbError, UsbTransport};
use crate::{Camera, CaptureControl, Device, DeviceError, Photo, TransferProgress};

/// Where the PTP interface and its endpoints are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtpEndpoints {
    pub interface: u8,
    pub bulk_in: u8,
    pub bulk_out: u8,
    pub interrupt_in: u8,
    /// wMaxPacketSize of the bulk endpoints (512 at high speed).
    pub max_packet: usize,
}

impl Default for PtpEndpoints {
    /// Interface 0 with 0x81 bulk IN, 0x02 bulk OUT, 0x83 interrupt IN, as on most cameras.
    fn default() -> Self {
        PtpEndpoints {
            interface: 0,
            bulk_in: 0x81,
            bulk_out: 0x02,
            interrupt_in: 0x83,
            max_packet: 512,
        }
    }
}

/// How the driver waits and what it does with a photo once downloaded.
#[derive(Debug, Clone)]
pub struct PtpConfig {
    /// Timeout of each USB transfer.
    pub timeout: Duration,
    /// How often InitiateCapture is retried while the camera answers DeviceBusy.
    pub busy_retries: u32,
    /// The pause before each retry.
    pub busy_wait: Duration,
    /// How long to wait for the photo after InitiateCapture (bounded by the capture's timeout).
    pub capture_timeout: Duration,
    /// Bytes asked for by each bulk read (a multiple of the packet size).
    pub chunk: usize,
    /// Delete the photo from the camera's card once it is safely downloaded (the kit keeps no
    /// biometrics outside its encrypted drafts and packets).
    pub delete_after_download: bool,
}

impl Default for PtpConfig {
    fn default() -> Self {
        PtpConfig {
            timeout: Duration::from_secs(5),
            busy_retries: 5,
            busy_wait: Duration::from_millis(300),
            capture_timeout: Duration::from_secs(20),
            chunk: 64 * 1024,
            delete_after_download: true,
        }
    }
}

/// How a transaction ended: the response and, for operations with a data phase from the camera,
/// the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: ResponseCode,
    pub params: Vec<u32>,
    pub data: Option<Vec<u8>>,
}

/// An event from the interrupt endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub code: EventCode,
    pub transaction_id: u32,
    pub params: Vec<u32>,
}

/// What a vendor capture hook may do with an open session.
pub trait PtpSession {
    /// The camera's DeviceInfo.
    fn device_info(&self) -> &DeviceInfo;
    /// Runs one transaction (any operation, vendor ones included), returning the camera's response
    /// whatever its code.
    fn transaction(
        &mut self,
        op: OperationCode,
        params: &[u32],
        data_out: Option<&[u8]>,
    ) -> Result<Reply, PtpError>;
    /// The next event, waiting up to `wait`; `None` if none came.
    fn next_event(&mut self, wait: Duration) -> Result<Option<Event>, PtpError>;
}

/// A vendor-operation hook for bodies that capture another way than InitiateCapture (Canon EOS
/// RemoteRelease, Nikon InitiateCaptureRecInSdram, …). None ships yet: the hook is the place for
/// them.
pub trait VendorCapture: Send {
    /// What to call it in logs.
    fn name(&self) -> &str;
    /// Triggers a capture and returns the handle of the new photo.
    fn capture(
        &mut self,
        session: &mut dyn PtpSession,
        control: &CaptureControl,
    ) -> Result<u32, PtpError>;
}

/// A PTP still camera, opened with a session.
pub struct PtpCamera<T: UsbTransport> {
    usb: T,
    ep: PtpEndpoints,
    config: PtpConfig,
    info: DeviceInfo,
    device: crate::DeviceInfo,
    next_tid: u32,
    session_open: bool,
    hook: Option<Box<dyn VendorCapture>>,
    progress: Option<TransferProgress>,
    cancel: Option<Arc<AtomicBool>>,
    events: VecDeque<Event>,
    event_buf: Vec<u8>,
}

impl<T: UsbTransport> std::fmt::Debug for PtpCamera<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PtpCamera")
            .field("usb", &self.usb.describe())
            .field("device", &self.device)
            .field("session_open", &self.session_open)
            .finish_non_exhaustive()
    }
}

/// The session id jemput opens (any non-zero value will do).
const SESSION_ID: u32 = 1;

impl<T: UsbTransport> PtpCamera<T> {
    /// Claims the interface, reads DeviceInfo and opens a session.
    pub fn open(usb: T, ep: PtpEndpoints, config: PtpConfig) -> Result<Self, PtpError> {
        let mut cam = PtpCamera {
            usb,
            ep,
            config,
            info: DeviceInfo::default(),
            device: crate::DeviceInfo {
                driver: "ptp".into(),
                model: String::new(),
                serial: None,
                firmware: None,
            },
            next_tid: 0,
            session_open: false,
            hook: None,
            progress: None,
            cancel: None,
            events: VecDeque::new(),
            event_buf: Vec::new(),
        };
        cam.usb
            .claim_interface(ep.interface)
            .map_err(|e| PtpError::usb("claiming the camera's PTP interface", e))?;
        let reply = cam.transaction(OperationCode::GET_DEVICE_INFO, &[], None)?;
        let info_bytes = ok_data(OperationCode::GET_DEVICE_INFO, reply)?;
        cam.info = DeviceInfo::decode(&info_bytes).map_err(|source| PtpError::Codec {
            during: "GetDeviceInfo".into(),
            source,
        })?;
        cam.device.model = format!("{} {}", cam.info.manufacturer, cam.info.model)
            .trim()
            .to_string();
        cam.device.serial = Some(cam.info.serial_number.clone()).filter(|s| !s.is_empty());
        cam.device.firmware = Some(cam.info.device_version.clone()).filter(|s| !s.is_empty());
        cam.open_session()?;
        Ok(cam)
    }

    fn open_session(&mut self) -> Result<(), PtpError> {
        for attempt in 0..2 {
            // OpenSession is transaction 0 of the session it opens.
            self.next_tid = 0;
            let reply = self.transaction(OperationCode::OPEN_SESSION, &[SESSION_ID], None)?;
            match reply.code {
                ResponseCode::OK => {
                    self.session_open = true;
                    return Ok(());
                }
                // Left open by a program that died: close it and open ours.
                ResponseCode::SESSION_ALREADY_OPEN if attempt == 0 => {
                    tracing::info!("the camera has a session open already; closing it");
                    let _ = self.transaction(OperationCode::CLOSE_SESSION, &[], None);
                }
                code => {
                    return Err(PtpError::Response {
                        op: OperationCode::OPEN_SESSION,
                        code,
                    })
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// The camera's DeviceInfo.
    pub fn ptp_info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Installs a vendor capture hook, used when the camera lacks InitiateCapture.
    pub fn set_vendor_capture(&mut self, hook: Box<dyn VendorCapture>) {
        self.hook = Some(hook);
    }

    /// Reports GetObject progress to `progress` (bytes received, bytes expected).
    pub fn set_progress(&mut self, progress: Option<TransferProgress>) {
        self.progress = progress;
    }

    /// The transport, e.g. for a test to inspect.
    pub fn transport(&self) -> &T {
        &self.usb
    }

    fn tid(&mut self) -> u32 {
        let t = self.next_tid;
        self.next_tid = self.next_tid.wrapping_add(1);
        if self.next_tid == 0 || self.next_tid == u32::MAX {
            self.next_tid = 1;
        }
        t
    }

    fn send(&mut self, bytes: &[u8], during: &str) -> Result<(), PtpError> {
        let n = self
            .usb
            .bulk_out(self.ep.bulk_out, bytes, self.config.timeout)
            .map_err(|e| PtpError::usb(during, e))?;
        if n != bytes.len() {
            return Err(PtpError::Protocol {
                during: during.into(),
                what: format!("the camera took {n} of {} bytes", bytes.len()),
            });
        }
        if bytes.len().is_multiple_of(self.ep.max_packet.max(1)) {
            // A transfer that fills its last packet ends with a zero-length packet.
            self.usb
                .bulk_out(self.ep.bulk_out, &[], self.config.timeout)
                .map_err(|e| PtpError::usb(during, e))?;
        }
        Ok(())
    }

    /// One bulk IN transfer, skipping zero-length packets left over from the previous phase.
    fn read_first(&mut self, buf: &mut [u8], during: &str) -> Result<usize, PtpError> {
        for _ in 0..4 {
            match self.usb.bulk_in(self.ep.bulk_in, buf, self.config.timeout) {
                Ok(0) => continue,
                Ok(n) => return Ok(n),
                Err(UsbError::Stall { .. }) => return Err(self.recover_stall(during)),
                Err(e) => return Err(PtpError::usb(during, e)),
            }
        }
        Err(PtpError::Protocol {
            during: during.into(),
            what: "only zero-length packets where a container was due".into(),
        })
    }

    /// After a stall: asks the device why (Get Device Status), clears the halts, and says what
    /// happened.
    fn recover_stall(&mut self, during: &str) -> PtpError {
        let status = self.device_status();
        for ep in [self.ep.bulk_in, self.ep.bulk_out] {
            if let Err(e) = self.usb.clear_halt(ep) {
                return PtpError::usb(format!("{during} (clearing a halt)"), e);
            }
        }
        match status {
            Ok(ResponseCode::TRANSACTION_CANCELLED) => PtpError::TransferCancelled {
                status: ResponseCode::TRANSACTION_CANCELLED,
            },
            Ok(code) if code != ResponseCode::OK => PtpError::Protocol {
                during: during.into(),
                what: format!(
                    "the camera stalled the pipe and reports {code}: {}; {}",
                    super::explain(code).0,
                    super::explain(code).1
                ),
            },
            Ok(_) => PtpError::Protocol {
                during: during.into(),
                what: "the camera stalled the pipe but reports no error".into(),
            },
            Err(e) => e,
        }
    }

    /// The class request Get Device Status: the camera's current response code.
    pub fn device_status(&mut self) -> Result<ResponseCode, PtpError> {
        let mut buf = [0u8; 32];
        let n = self
            .usb
            .control_in(
                ControlRequest {
                    request_type: class::IN,
                    request: class::GET_DEVICE_STATUS,
                    value: 0,
                    index: u16::from(self.ep.interface),
                },
                &mut buf,
                self.config.timeout,
            )
            .map_err(|e| PtpError::usb("Get Device Status", e))?;
        if n < 4 {
            return Err(PtpError::Protocol {
                during: "Get Device Status".into(),
                what: format!("{n} bytes, need at least 4"),
            });
        }
        Ok(ResponseCode(u16::from_le_bytes([buf[2], buf[3]])))
    }

    /// Asks the camera to cancel transaction `tid` (class request Cancel) and waits until it
    /// reports itself ready again.
    fn cancel_transaction(&mut self, tid: u32) -> Result<(), PtpError> {
        let mut body = Vec::with_capacity(6);
        body.extend_from_slice(&EventCode::CANCEL_TRANSACTION.0.to_le_bytes());
        body.extend_from_slice(&tid.to_le_bytes());
        self.usb
            .control_out(
                ControlRequest {
                    request_type: class::OUT,
                    request: class::CANCEL,
                    value: 0,
                    index: u16::from(self.ep.interface),
                },
                &body,
                self.config.timeout,
            )
            .map_err(|e| PtpError::usb("Cancel Request", e))?;
        let deadline = Instant::now() + self.config.timeout;
        while self.device_status()? == ResponseCode::DEVICE_BUSY {
            if Instant::now() >= deadline {
                return Err(PtpError::Timeout {
                    during: "waiting for the camera to cancel".into(),
                    after: self.config.timeout,
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    fn run(
        &mut self,
        op: OperationCode,
        params: &[u32],
        data_out: Option<&[u8]>,
    ) -> Result<Reply, PtpError> {
        let during = op.to_string();
        let tid = self.tid();
        let cmd = command(op, tid, params).map_err(|source| PtpError::Codec {
            during: during.clone(),
            source,
        })?;
        self.send(&cmd, &during)?;
        if let Some(payload) = data_out {
            let d = data(op.0, tid, payload).map_err(|source| PtpError::Codec {
                during: during.clone(),
                source,
            })?;
            self.send(&d, &during)?;
        }
        let mut buf = vec![0u8; self.config.chunk.max(self.ep.max_packet)];
        let n = self.read_first(&mut buf, &during)?;
        let header = decode_header(&buf[..n]).map_err(|source| PtpError::Codec {
            during: during.clone(),
            source,
        })?;
        let mut data_in = None;
        let response_bytes = match header.kind {
            ContainerType::Data => {
                self.check_tid(&during, tid, header.transaction_id)?;
                data_in =
                    Some(self.read_data(&mut buf, n, header.length as usize, tid, &during)?);
                let n = self.read_first(&mut buf, &during)?;
                buf[..n].to_vec()
            }
            _ => buf[..n].to_vec(),
        };
        let response =
            ParamContainer::decode(&response_bytes).map_err(|source| PtpError::Codec {
                during: during.clone(),
                source,
            })?;
        if response.kind != ContainerType::Response {
            return Err(PtpError::Protocol {
                during,
                what: format!("a {} container where the response was due", response.kind),
            });
        }
        self.check_tid(&during, tid, response.transaction_id)?;
        Ok(Reply {
            code: ResponseCode(response.code),
            params: response.params,
            data: data_in,
        })
    }

    fn check_tid(&self, during: &str, sent: u32, got: u32) -> Result<(), PtpError> {
        if sent == got {
            return Ok(());
        }
        Err(PtpError::Protocol {
            during: during.into(),
            what: format!("the camera answered transaction {got}, not {sent}"),
        })
    }

    /// The rest of a data phase whose first transfer (`first` bytes) is in `buf`.
    fn read_data(
        &mut self,
        buf: &mut [u8],
        first: usize,
        length: usize,
        tid: u32,
        during: &str,
    ) -> Result<Vec<u8>, PtpError> {
        let total = length - HEADER_LEN;
        // Never trust the length for an allocation: grow as bytes arrive.
        let mut out = Vec::with_capacity(total.min(64 << 20));
        out.extend_from_slice(&buf[HEADER_LEN..first.min(length)]);
        if first > length {
            return Err(PtpError::Protocol {
                during: during.into(),
                what: format!("a data container of {length} bytes came with {first}"),
            });
        }
        let mut progress = self.progress.take();
        let result = (|| {
            while out.len() < total {
                if let Some(p) = progress.as_mut() {
                    p(out.len(), total);
                }
                if self.cancelled() {
                    self.cancel_transaction(tid)?;
                    return Err(PtpError::Cancelled);
                }
                let want = buf
                    .len()
                    .min(round_up(total - out.len(), self.ep.max_packet));
                let n =
                    match self
                        .usb
                        .bulk_in(self.ep.bulk_in, &mut buf[..want], self.config.timeout)
                    {
                        Ok(n) => n,
                        Err(UsbError::Stall { .. }) => return Err(self.recover_stall(during)),
                        Err(e) => return Err(PtpError::usb(during, e)),
                    };
                if n == 0 {
                    return Err(PtpError::Protocol {
                        during: during.into(),
                        what: format!("the data phase ended after {} of {total} bytes", out.len()),
                    });
                }
                if out.len() + n > total {
                    return Err(PtpError::Protocol {
                        during: during.into(),
                        what: format!("{} bytes where {total} were announced", out.len() + n),
                    });
                }
                out.extend_from_slice(&buf[..n]);
            }
            if let Some(p) = progress.as_mut() {
                p(total, total);
            }
            Ok(out)
        })();
        self.progress = progress;
        result
    }

    fn expect_ok(&mut self, op: OperationCode, params: &[u32]) -> Result<Reply, PtpError> {
        let reply = self.run(op, params, None)?;
        if reply.code != ResponseCode::OK {
            return Err(PtpError::Response {
                op,
                code: reply.code,
            });
        }
        Ok(reply)
    }

    fn ok_dataset(&mut self, op: OperationCode, params: &[u32]) -> Result<Vec<u8>, PtpError> {
        let reply = self.run(op, params, None)?;
        ok_data(op, reply)
    }

    /// GetStorageIDs.
    pub fn storage_ids(&mut self) -> Result<Vec<u32>, PtpError> {
        let d = self.ok_dataset(OperationCode::GET_STORAGE_IDS, &[])?;
        decode_u32_array(&d, "StorageIDs").map_err(|source| codec("GetStorageIDs", source))
    }

    /// GetStorageInfo.
    pub fn storage_info(&mut self, storage: u32) -> Result<StorageInfo, PtpError> {
        let d = self.ok_dataset(OperationCode::GET_STORAGE_INFO, &[storage])?;
        StorageInfo::decode(&d).map_err(|source| codec("GetStorageInfo", source))
    }

    /// GetObjectHandles of every object on every storage.
    pub fn object_handles(&mut self) -> Result<Vec<u32>, PtpError> {
        let d = self.ok_dataset(OperationCode::GET_OBJECT_HANDLES, &[0xFFFF_FFFF, 0, 0])?;
        decode_u32_array(&d, "ObjectHandles").map_err(|source| codec("GetObjectHandles", source))
    }

    /// GetObjectInfo.
    pub fn object_info(&mut self, handle: u32) -> Result<ObjectInfo, PtpError> {
        let d = self.ok_dataset(OperationCode::GET_OBJECT_INFO, &[handle])?;
        ObjectInfo::decode(&d).map_err(|source| codec("GetObjectInfo", source))
    }

    /// GetObject: the whole object, read in as many bulk transfers as it takes.
    pub fn object(&mut self, handle: u32) -> Result<Vec<u8>, PtpError> {
        self.ok_dataset(OperationCode::GET_OBJECT, &[handle])
    }

    /// DeleteObject.
    pub fn delete_object(&mut self, handle: u32) -> Result<(), PtpError> {
        self.expect_ok(OperationCode::DELETE_OBJECT, &[handle, 0])
            .map(drop)
    }

    /// Whether the camera lists device property `code` in its DeviceInfo.
    pub fn has_property(&self, code: u16) -> bool {
        self.info.device_properties_supported.contains(&code)
    }

    /// GetDevicePropDesc: the property's type, current and default value, and allowed values.
    pub fn property_desc(&mut self, code: u16) -> Result<DevicePropDesc, PtpError> {
        let d = self.ok_dataset(OperationCode::GET_DEVICE_PROP_DESC, &[u32::from(code)])?;
        DevicePropDesc::decode(&d).map_err(|source| codec("GetDevicePropDesc", source))
    }

    /// GetDevicePropValue of a property of data type `data_type`.
    pub fn property_value(&mut self, code: u16, data_type: u16) -> Result<PropValue, PtpError> {
        let d = self.ok_dataset(OperationCode::GET_DEVICE_PROP_VALUE, &[u32::from(code)])?;
        let mut r = Reader::new(&d, "DevicePropValue");
        let v = read_value(&mut r, data_type)
            .and_then(|v| r.finish().map(|()| v))
            .map_err(|source| codec("GetDevicePropValue", source))?;
        Ok(v)
    }

    /// SetDevicePropValue (the value goes in the data phase, encoded as `data_type`).
    pub fn set_property(
        &mut self,
        code: u16,
        data_type: u16,
        value: &PropValue,
    ) -> Result<(), PtpError> {
        let mut w = Writer(Vec::new());
        write_value(&mut w, data_type, value)
            .map_err(|source| codec("SetDevicePropValue", source))?;
        let op = OperationCode::SET_DEVICE_PROP_VALUE;
        let reply = self.run(op, &[u32::from(code)], Some(&w.0))?;
        match reply.code {
            ResponseCode::OK => Ok(()),
            code => Err(PtpError::Response { op, code }),
        }
    }

    /// InitiateCapture on the default storage in the default format, retried while the camera is
    /// busy; returns the transaction id the CaptureComplete event will carry.
    pub fn initiate_capture(&mut self) -> Result<u32, PtpError> {
        let mut tries = 0;
        loop {
            let tid = self.next_tid;
            let reply = self.run(OperationCode::INITIATE_CAPTURE, &[0, 0], None)?;
            match reply.code {
                ResponseCode::OK => return Ok(tid),
                ResponseCode::DEVICE_BUSY if tries < self.config.busy_retries => {
                    tries += 1;
                    tracing::debug!(tries, "the camera is busy; retrying InitiateCapture");
                    std::thread::sleep(self.config.busy_wait);
                }
                code => {
                    return Err(PtpError::Response {
                        op: OperationCode::INITIATE_CAPTURE,
                        code,
                    })
                }
            }
        }
    }

    fn read_event(&mut self, wait: Duration) -> Result<Option<Event>, PtpError> {
        if let Some(e) = self.events.pop_front() {
            return Ok(Some(e));
        }
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 64];
        loop {
            if self.event_buf.len() >= HEADER_LEN {
                let h = decode_header(&self.event_buf).map_err(|s| codec("an event", s))?;
                if self.event_buf.len() >= h.length as usize {
                    let rest = self.event_buf.split_off(h.length as usize);
                    let bytes = std::mem::replace(&mut self.event_buf, rest);
                    let c = ParamContainer::decode(&bytes).map_err(|s| codec("an event", s))?;
                    if c.kind != ContainerType::Event {
                        return Err(PtpError::Protocol {
                            during: "reading events".into(),
                            what: format!("a {} container on the interrupt endpoint", c.kind),
                        });
                    }
                    return Ok(Some(Event {
                        code: EventCode(c.code),
                        transaction_id: c.transaction_id,
                        params: c.params,
                    }));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            match self.usb.interrupt_in(self.ep.interrupt_in, &mut buf, left) {
                Ok(n) => self.event_buf.extend_from_slice(&buf[..n]),
                Err(UsbError::Timeout(_)) => {
                    // A camera sends the pieces of one event back to back, so a read that times
                    // out in the middle of one means its tail was lost (over USB/IP, a read
                    // cancelled just as the answer came): drop the start, or it would be glued to
                    // the next event and read as nonsense (a made-up object handle).
                    if !self.event_buf.is_empty() {
                        tracing::warn!(
                            bytes = self.event_buf.len(),
                            "dropped the start of a camera event whose end never came"
                        );
                        self.event_buf.clear();
                    }
                    return Ok(None);
                }
                Err(e) => return Err(PtpError::usb("reading events", e)),
            }
        }
    }

    /// Takes a photo and downloads it: InitiateCapture (or the vendor hook), the events, the
    /// object's info and the object. Returns the JPEG bytes and the object's info.
    pub fn capture_jpeg(
        &mut self,
        control: &CaptureControl,
    ) -> Result<(Vec<u8>, ObjectInfo), PtpError> {
        self.cancel = Some(control.cancel.clone());
        let result = self.capture_inner(control);
        self.cancel = None;
        result
    }

    fn capture_inner(
        &mut self,
        control: &CaptureControl,
    ) -> Result<(Vec<u8>, ObjectInfo), PtpError> {
        let wait = control.timeout.min(self.config.capture_timeout);
        let handles = if self.info.supports(OperationCode::INITIATE_CAPTURE) {
            let capture_tid = self.initiate_capture()?;
            self.wait_for_photo(capture_tid, wait)?
        } else if let Some(mut hook) = self.hook.take() {
            tracing::info!(hook = hook.name(), "capturing through the vendor hook");
            let r = hook.capture(self, control);
            self.hook = Some(hook);
            vec![r?]
        } else {
            return Err(PtpError::NoCapture {
                model: self.device.model.clone(),
                vendor: self.info.vendor_extension_id,
                vendor_operations: self.info.vendor_operations(),
            });
        };
        // RAW+JPEG bodies add two objects: take the JPEG.
        let mut seen = Vec::new();
        for h in handles {
            let info = self.object_info(h)?;
            if matches!(
                FormatCode(info.format),
                FormatCode::EXIF_JPEG | FormatCode::JFIF
            ) {
                let jpeg = self.object(h)?;
                check_jpeg(&jpeg, &info)?;
                if self.config.delete_after_download {
                    if let Err(e) = self.delete_object(h) {
                        tracing::warn!(handle = h, %e, "the photo is downloaded but stays on the camera's card");
                    }
                }
                return Ok((jpeg, info));
            }
            seen.push(FormatCode(info.format).to_string());
        }
        Err(PtpError::NotJpeg(seen.join(", ")))
    }

    fn wait_for_photo(&mut self, capture_tid: u32, wait: Duration) -> Result<Vec<u32>, PtpError> {
        let deadline = Instant::now() + wait;
        let mut handles = Vec::new();
        loop {
            if self.cancelled() {
                return Err(PtpError::Cancelled);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Some cameras never send CaptureComplete: the photo is there, use it.
                return match handles.is_empty() {
                    true => Err(PtpError::NoPhoto(wait)),
                    false => Ok(handles),
                };
            }
            let Some(ev) = self.read_event(left.min(Duration::from_millis(100)))? else {
                continue;
            };
            tracing::debug!(code = %ev.code, params = ?ev.params, "camera event");
            match ev.code {
                EventCode::OBJECT_ADDED => handles.push(ev.params.first().copied().unwrap_or(0)),
                // A CaptureComplete of an earlier capture is stale: ignore it.
                EventCode::CAPTURE_COMPLETE
                    if ev.params.first().is_some_and(|&t| t != capture_tid) => {}
                EventCode::CAPTURE_COMPLETE if !handles.is_empty() => return Ok(handles),
                // The capture completed but its ObjectAdded was lost: the newest object on the
                // card is the photo (cameras number objects upwards).
                EventCode::CAPTURE_COMPLETE => return self.newest_object(wait),
                EventCode::STORE_FULL => {
                    return Err(PtpError::Response {
                        op: OperationCode::INITIATE_CAPTURE,
                        code: ResponseCode::STORE_FULL,
                    })
                }
                EventCode::CANCEL_TRANSACTION if ev.transaction_id == capture_tid => {
                    return Err(PtpError::TransferCancelled {
                        status: ResponseCode::TRANSACTION_CANCELLED,
                    })
                }
                EventCode::DEVICE_RESET => {
                    return Err(PtpError::Disconnected {
                        during: "the capture (the camera reset itself)".into(),
                    })
                }
                _ => {}
            }
        }
    }

    /// After a CaptureComplete whose ObjectAdded never arrived: the highest object handle on the
    /// camera, which is the newest photo on cameras that number objects upwards.
    fn newest_object(&mut self, wait: Duration) -> Result<Vec<u32>, PtpError> {
        let newest = self.object_handles()?.into_iter().max();
        match newest {
            Some(h) => {
                tracing::warn!(
                    handle = h,
                    "the camera reported the capture complete but its ObjectAdded event was lost; taking the newest object on the card"
                );
                Ok(vec![h])
            }
            None => Err(PtpError::NoPhoto(wait)),
        }
    }

    /// Closes the session (also done on drop).
    pub fn close(&mut self) -> Result<(), PtpError> {
        if !self.session_open {
            return Ok(());
        }
        self.session_open = false;
        self.expect_ok(OperationCode::CLOSE_SESSION, &[]).map(drop)
    }
}

fn round_up(n: usize, packet: usize) -> usize {
    let p = packet.max(1);
    n.div_ceil(p) * p
}

fn codec(during: &str, source: super::protocol::CodecError) -> PtpError {
    PtpError::Codec {
        during: during.into(),
        source,
    }
}

fn ok_data(op: OperationCode, reply: Reply) -> Result<Vec<u8>, PtpError> {
    match (reply.code, reply.data) {
        (ResponseCode::OK, Some(d)) => Ok(d),
        (ResponseCode::OK, None) => Err(PtpError::Protocol {
            during: op.to_string(),
            what: "an OK response without the data phase".into(),
        }),
        (code, _) => Err(PtpError::Response { op, code }),
    }
}

fn check_jpeg(jpeg: &[u8], info: &ObjectInfo) -> Result<(), PtpError> {
    if info.compressed_size != u32::MAX && jpeg.len() != info.compressed_size as usize {
        return Err(PtpError::Protocol {
            during: "GetObject".into(),
            what: format!(
                "{} bytes where ObjectInfo announced {}",
                jpeg.len(),
                info.compressed_size
            ),
        });
    }
    if !(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9])) {
        return Err(PtpError::NotJpeg(
            "the bytes lack the JPEG start and end markers".into(),
        ));
    }
    Ok(())
}

impl<T: UsbTransport> PtpSession for PtpCamera<T> {
    fn device_info(&self) -> &DeviceInfo {
        &self.info
    }
    fn transaction(
        &mut self,
        op: OperationCode,
        params: &[u32],
        data_out: Option<&[u8]>,
    ) -> Result<Reply, PtpError> {
        self.run(op, params, data_out)
    }
    fn next_event(&mut self, wait: Duration) -> Result<Option<Event>, PtpError> {
        self.read_event(wait)
    }
}

impl<T: UsbTransport> Drop for PtpCamera<T> {
    fn drop(&mut self) {
        // Leave the camera idle: end the session, give the interface back.
        self.config.timeout = self.config.timeout.min(Duration::from_millis(500));
        if let Err(e) = self.close() {
            tracing::debug!(%e, "closing the PTP session on drop");
        }
        let _ = self.usb.release_interface(self.ep.interface);
    }
}

impl<T: UsbTransport> Device for PtpCamera<T> {
    fn info(&self) -> &crate::DeviceInfo {
        &self.device
    }
}

impl<T: UsbTransport> Camera for PtpCamera<T> {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError> {
        let (jpeg, info) = self.capture_jpeg(control)?;
        Ok(Photo {
            jpeg,
            width: info.image_width,
            height: info.image_height,
        })
    }

    fn set_transfer_progress(&mut self, progress: Option<TransferProgress>) {
        self.progress = progress;
    }

    /// Sets and reads back the exposure and white balance properties
    /// ([`PtpCamera::calibrate_properties`]).
    fn calibrate(
        &mut self,
        settings: &CameraSettings,
        control: &CaptureControl,
    ) -> Result<CameraCalibration, DeviceError> {
        let _ = control;
        self.calibrate_properties(settings)
            .map_err(DeviceError::calibration)
    }
}

//! The small USB transport every USB driver is generic over: control, bulk and interrupt transfers
//! with timeouts, claiming and releasing an interface, clearing a halted endpoint.
//!
//! Production uses [`RusbLink`] (libusb-1.0 through `rusb`); tests and `sim:` selectors use
//! [`MemUsb`], which hands each transfer to a device model implementing [`UsbFunction`] in the same
//! process, so the real driver code runs in plain `cargo test`.
//!
//! Errors are typed so a driver can act on them ([`UsbError`]): a timeout, a stalled endpoint, a
//! device that went away (unplugged mid-transfer), access denied (udev rules), busy (another program
//! or a kernel driver holds the interface). After an unplug, reopen by selector.

pub mod descriptor;
mod list;
mod mem;
mod rusb_link;

use std::time::Duration;

use crate::DeviceError;

pub use descriptor::{
    EndpointDescription, EndpointKind, InterfaceDescription, UsbDescription, UsbDevice, UsbSpeed,
};
pub use list::{access_of, list_devices, outcome_of_error, OpenOutcome, UsbDeviceEntry};
pub use mem::{MemPlug, MemUsb, Unplug, UsbFunction};
pub use rusb_link::{find_interface, list_interfaces, FoundInterface, RusbLink};

/// The 8-byte setup packet of a control transfer, without `wLength` (the buffer gives it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlRequest {
    /// `bmRequestType`: direction (bit 7, 1 = device to host), type (bits 6–5: 0 standard,
    /// 1 class, 2 vendor) and recipient (bits 4–0: 0 device, 1 interface, 2 endpoint).
    pub request_type: u8,
    /// `bRequest`.
    pub request: u8,
    /// `wValue`.
    pub value: u16,
    /// `wIndex` (an interface or endpoint number for those recipients).
    pub index: u16,
}

impl ControlRequest {
    /// Whether the data stage goes from the device to the host.
    pub fn is_in(&self) -> bool {
        self.request_type & 0x80 != 0
    }
}

/// Standard request CLEAR_FEATURE(ENDPOINT_HALT) for endpoint `ep` (USB 2.0 §9.4.1).
pub fn clear_halt_request(ep: u8) -> ControlRequest {
    ControlRequest {
        request_type: 0x02,
        request: 0x01,
        value: 0,
        index: u16::from(ep),
    }
}

/// Why a USB operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsbError {
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    #[error("the device stalled endpoint {endpoint:#04x} (it refused or cancelled the transfer)")]
    Stall { endpoint: u8 },
    #[error("the device was disconnected (unplugged, or it reset itself)")]
    Disconnected,
    #[error("permission denied opening {0}: install jemput's udev rules (uaccess) and replug the device")]
    AccessDenied(String),
    #[error("{0} is busy: another program (gphoto2, a file manager's camera import, gvfs) or a kernel driver holds it; close that program and retry")]
    Busy(String),
    #[error("{0} was not found (unplugged, or a wrong selector); check the cable, and `lsusb`")]
    NotFound(String),
    #[error("the device sent more data than the transfer asked for")]
    Overflow,
    #[error("interface {0} is not claimed")]
    NotClaimed(u8),
    #[error("USB I/O error: {0}")]
    Io(String),
}

impl UsbError {
    /// What a capture reports for this error when a driver's transfer met it, where the operator
    /// acts on it the same way whatever the driver: permission denied (the udev rules), busy
    /// (another program holds the device), disconnected (replug it). `None`: the driver's own
    /// error describes it.
    pub fn device_error(&self) -> Option<DeviceError> {
        match self {
            UsbError::AccessDenied(_) => Some(DeviceError::PermissionDenied),
            UsbError::Busy(_) => Some(DeviceError::Busy),
            UsbError::Disconnected => Some(DeviceError::Disconnected),
            _ => None,
        }
    }

    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use crate::fault::Fault;
        match self {
            UsbError::Timeout(_)
            | UsbError::Stall { .. }
            | UsbError::Overflow
            | UsbError::NotClaimed(_)
            | UsbError::Io(_) => Fault::DeviceFault,
            UsbError::Disconnected | UsbError::NotFound(_) => Fault::Unplugged,
            UsbError::AccessDenied(_) => Fault::NoPermission,
            UsbError::Busy(_) => Fault::Busy { holder: None },
        }
    }
}

/// A USB device as a driver sees it. Timeouts apply to each transfer; a timed-out transfer is
/// cancelled (no bytes of it are delivered later).
pub trait UsbTransport: Send {
    /// Claims interface `number` for this process (detaching a kernel driver where the OS needs it).
    fn claim_interface(&mut self, number: u8) -> Result<(), UsbError>;
    /// Gives interface `number` back.
    fn release_interface(&mut self, number: u8) -> Result<(), UsbError>;
    /// A control transfer with a data stage from the device; returns the bytes read into `buf`.
    fn control_in(
        &mut self,
        request: ControlRequest,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError>;
    /// A control transfer with an optional data stage to the device; returns the bytes written.
    fn control_out(
        &mut self,
        request: ControlRequest,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError>;
    /// Writes `data` to bulk OUT endpoint `ep` (address with bit 7 clear).
    fn bulk_out(&mut self, ep: u8, data: &[u8], timeout: Duration) -> Result<usize, UsbError>;
    /// Reads one bulk IN transfer from `ep` (address with bit 7 set) into `buf`. A transfer ends with
    /// a short packet or when `buf` is full; zero bytes is a zero-length packet.
    fn bulk_in(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, UsbError>;
    /// Reads one interrupt IN transfer from `ep` into `buf`.
    fn interrupt_in(
        &mut self,
        ep: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError>;
    /// Clears a halt (stall) on endpoint `ep`.
    fn clear_halt(&mut self, ep: u8) -> Result<(), UsbError>;
    /// What to call the device in messages (`usb 1-2 04a9:31bc`, `memory`).
    fn describe(&self) -> String;
}

impl<T: UsbTransport + ?Sized> UsbTransport for Box<T> {
    fn claim_interface(&mut self, number: u8) -> Result<(), UsbError> {
        (**self).claim_interface(number)
    }
    fn release_interface(&mut self, number: u8) -> Result<(), UsbError> {
        (**self).release_interface(number)
    }
    fn control_in(
        &mut self,
        request: ControlRequest,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        (**self).control_in(request, buf, timeout)
    }
    fn control_out(
        &mut self,
        request: ControlRequest,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        (**self).control_out(request, data, timeout)
    }
    fn bulk_out(&mut self, ep: u8, data: &[u8], timeout: Duration) -> Result<usize, UsbError> {
        (**self).bulk_out(ep, data, timeout)
    }
    fn bulk_in(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, UsbError> {
        (**self).bulk_in(ep, buf, timeout)
    }
    fn interrupt_in(
        &mut self,
        ep: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        (**self).interrupt_in(ep, buf, timeout)
    }
    fn clear_halt(&mut self, ep: u8) -> Result<(), UsbError> {
        (**self).clear_halt(ep)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

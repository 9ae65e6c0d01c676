//! The production USB transport: libusb-1.0 through `rusb`, and finding devices by interface class
//! (PTP cameras are class 6 / 1 / 1 whatever their vendor) with their access status.

use std::time::Duration;

use rusb::{Direction, TransferType, UsbContext};

use super::{ControlRequest, UsbError, UsbTransport};
use crate::discover::Access;

/// Maps a libusb error to what a driver or a technician can act on.
pub fn map_rusb(e: rusb::Error, what: &str) -> UsbError {
    match e {
        rusb::Error::Timeout => UsbError::Timeout(Duration::ZERO),
        rusb::Error::Pipe => UsbError::Stall { endpoint: 0 },
        rusb::Error::NoDevice => UsbError::Disconnected,
        rusb::Error::Access => UsbError::AccessDenied(what.into()),
        rusb::Error::Busy => UsbError::Busy(what.into()),
        rusb::Error::NotFound => UsbError::NotFound(what.into()),
        rusb::Error::Overflow => UsbError::Overflow,
        other => UsbError::Io(format!("{what}: {other}")),
    }
}

/// An interface of a USB device on this machine, with the endpoints a PTP-style driver needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundInterface {
    pub bus: u8,
    pub address: u8,
    /// The sysfs port path, e.g. `1-2.3`, for `usb:` selectors.
    pub port_path: String,
    pub vid: u16,
    pub pid: u16,
    pub serial: Option<String>,
    pub product: Option<String>,
    pub interface: u8,
    pub bulk_in: u8,
    pub bulk_out: u8,
    pub interrupt_in: Option<u8>,
    /// wMaxPacketSize of the bulk IN endpoint.
    pub max_packet: u16,
    /// Whether this user can open the device.
    pub access: Access,
}

fn port_path(device: &rusb::Device<rusb::Context>) -> String {
    let ports = device.port_numbers().unwrap_or_default();
    let tail: Vec<String> = ports.iter().map(u8::to_string).collect();
    format!("{}-{}", device.bus_number(), tail.join("."))
}

/// Every interface of class/subclass/protocol on this machine (first configuration, alternate
/// setting 0). Each device is opened briefly to read its serial number and learn its access status.
pub fn list_interfaces(
    class: u8,
    subclass: u8,
    protocol: u8,
) -> Result<Vec<FoundInterface>, UsbError> {
    let context = rusb::Context::new().map_err(|e| map_rusb(e, "libusb"))?;
    let devices = context.devices().map_err(|e| map_rusb(e, "libusb"))?;
    let mut found = Vec::new();
    for device in devices.iter() {
        let Ok(desc) = device.device_descriptor() else {
            continue;
        };
        let Ok(config) = device.active_config_descriptor() else {
            continue;
        };
        for interface in config.interfaces() {
            let Some(alt) = interface.descriptors().next() else {
                continue;
            };
            if (alt.class_code(), alt.sub_class_code(), alt.protocol_code())
                != (class, subclass, protocol)
            {
                continue;
            }
            let mut bulk_in = None;
            let mut bulk_out = None;
            let mut interrupt_in = None;
            let mut max_packet = 512;
            for ep in alt.endpoint_descriptors() {
                match (ep.transfer_type(), ep.direction()) {
                    (TransferType::Bulk, Direction::In) => {
                        bulk_in = Some(ep.address());
                        max_packet = ep.max_packet_size();
                    }
                    (TransferType::Bulk, Direction::Out) => bulk_out = Some(ep.address()),
                    (TransferType::Interrupt, Direction::In) => interrupt_in = Some(ep.address()),
                    _ => {}
                }
            }
            let (Some(bulk_in), Some(bulk_out)) = (bulk_in, bulk_out) else {
                continue;
            };
            let path = port_path(&device);
            let (access, serial, product) = match device.open() {
                Ok(h) => (
                    Access::Accessible,
                    h.read_serial_number_string_ascii(&desc).ok(),
                    h.read_product_string_ascii(&desc).ok(),
                ),
                Err(rusb::Error::Access) => (
                    Access::PermissionDenied {
                        fix: "install jemput's udev rules (udev/) and replug the camera".into(),
                    },
                    None,
                    None,
                ),
                Err(rusb::Error::Busy) => (Access::Busy { held_by: None }, None, None),
                Err(e) => (
                    Access::Unavailable {
                        reason: e.to_string(),
                    },
                    None,
                    None,
                ),
            };
            found.push(FoundInterface {
                bus: device.bus_number(),
                address: device.address(),
                port_path: path,
                vid: desc.vendor_id(),
                pid: desc.product_id(),
                serial,
                product,
                interface: alt.interface_number(),
                bulk_in,
                bulk_out,
                interrupt_in,
                max_packet,
                access,
            });
        }
    }
    Ok(found)
}

/// The one interface among `found` that `vid:pid[:serial]` or a port path names.
pub fn find_interface<'a>(
    found: &'a [FoundInterface],
    vid_pid: Option<(u16, u16, Option<&str>)>,
    port: Option<&str>,
) -> Vec<&'a FoundInterface> {
    found
        .iter()
        .filter(|f| {
            vid_pid.is_none_or(|(v, p, s)| {
                f.vid == v && f.pid == p && s.is_none_or(|s| f.serial.as_deref() == Some(s))
            }) && port.is_none_or(|p| f.port_path == p)
        })
        .collect()
}

/// A USB device opened through libusb.
pub struct RusbLink {
    handle: rusb::DeviceHandle<rusb::Context>,
    name: String,
    claimed: Vec<u8>,
}

impl std::fmt::Debug for RusbLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RusbLink({})", self.name)
    }
}

impl RusbLink {
    /// Opens the device at `bus`/`address` (as found by [`list_interfaces`]).
    pub fn open(found: &FoundInterface) -> Result<Self, UsbError> {
        let name = format!(
            "usb {} {:04x}:{:04x}",
            found.port_path, found.vid, found.pid
        );
        Self::open_at(found.bus, found.address, name)
    }

    /// Opens the device at `bus`/`address`, calling it `name` in messages.
    pub fn open_at(bus: u8, address: u8, name: String) -> Result<Self, UsbError> {
        let context = rusb::Context::new().map_err(|e| map_rusb(e, "libusb"))?;
        let devices = context.devices().map_err(|e| map_rusb(e, &name))?;
        let device = devices
            .iter()
            .find(|d| d.bus_number() == bus && d.address() == address)
            .ok_or_else(|| UsbError::NotFound(name.clone()))?;
        let handle = device.open().map_err(|e| map_rusb(e, &name))?;
        // Linux: let libusb unbind a kernel driver for the claimed interface and rebind it on
        // release. Not available everywhere, and not needed where it is not.
        let _ = handle.set_auto_detach_kernel_driver(true);
        Ok(RusbLink {
            handle,
            name,
            claimed: Vec::new(),
        })
    }

    fn map(&self, e: rusb::Error, ep: u8, timeout: Duration) -> UsbError {
        match map_rusb(e, &self.name) {
            UsbError::Timeout(_) => UsbError::Timeout(timeout),
            UsbError::Stall { .. } => UsbError::Stall { endpoint: ep },
            other => other,
        }
    }
}

impl Drop for RusbLink {
    fn drop(&mut self) {
        for n in std::mem::take(&mut self.claimed) {
            let _ = self.handle.release_interface(n);
        }
    }
}

impl UsbTransport for RusbLink {
    fn claim_interface(&mut self, number: u8) -> Result<(), UsbError> {
        match self.handle.claim_interface(number) {
            Ok(()) => {}
            // With auto-detach on, libusb first tries usbfs's disconnect-and-claim, then the
            // get-driver and disconnect ioctls, and gives up with "other" when the usbfs behind
            // the node implements none of them (ENOTTY): umockdev's pcap replay is one such. A
            // plain claim is then the right thing; a kernel driver still bound makes it fail as
            // busy, which says what is wrong.
            Err(rusb::Error::Other) => {
                tracing::debug!(
                    interface = number,
                    "detaching a kernel driver failed; claiming without detaching"
                );
                let _ = self.handle.set_auto_detach_kernel_driver(false);
                self.handle
                    .claim_interface(number)
                    .map_err(|e| map_rusb(e, &self.name))?;
            }
            Err(e) => return Err(map_rusb(e, &self.name)),
        }
        self.claimed.push(number);
        Ok(())
    }

    fn release_interface(&mut self, number: u8) -> Result<(), UsbError> {
        self.claimed.retain(|&n| n != number);
        self.handle
            .release_interface(number)
            .map_err(|e| map_rusb(e, &self.name))
    }

    fn control_in(
        &mut self,
        r: ControlRequest,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.handle
            .read_control(r.request_type, r.request, r.value, r.index, buf, timeout)
            .map_err(|e| self.map(e, 0, timeout))
    }

    fn control_out(
        &mut self,
        r: ControlRequest,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.handle
            .write_control(r.request_type, r.request, r.value, r.index, data, timeout)
            .map_err(|e| self.map(e, 0, timeout))
    }

    fn bulk_out(&mut self, ep: u8, data: &[u8], timeout: Duration) -> Result<usize, UsbError> {
        self.handle
            .write_bulk(ep, data, timeout)
            .map_err(|e| self.map(e, ep, timeout))
    }

    fn bulk_in(&mut self, ep: u8, buf: &mut [u8], timeout: Duration) -> Result<usize, UsbError> {
        self.handle
            .read_bulk(ep, buf, timeout)
            .map_err(|e| self.map(e, ep, timeout))
    }

    fn interrupt_in(
        &mut self,
        ep: u8,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize, UsbError> {
        self.handle
            .read_interrupt(ep, buf, timeout)
            .map_err(|e| self.map(e, ep, timeout))
    }

    fn clear_halt(&mut self, ep: u8) -> Result<(), UsbError> {
        self.handle
            .clear_halt(ep)
            .map_err(|e| self.map(e, ep, Duration::ZERO))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn libusb_errors_map_to_what_a_technician_can_act_on() {
        assert_eq!(map_rusb(rusb::Error::NoDevice, "x"), UsbError::Disconnected);
        assert!(matches!(
            map_rusb(rusb::Error::Access, "cam"),
            UsbError::AccessDenied(w) if w == "cam"
        ));
        assert!(matches!(
            map_rusb(rusb::Error::Busy, "cam"),
            UsbError::Busy(_)
        ));
        assert!(matches!(
            map_rusb(rusb::Error::Pipe, "cam"),
            UsbError::Stall { .. }
        ));
        assert!(matches!(
            map_rusb(rusb::Error::Timeout, "cam"),
            UsbError::Timeout(_)
        ));
        let msg = map_rusb(rusb::Error::Access, "usb 1-2 04a9:31bc").to_string();
        assert!(msg.contains("udev rules"), "{msg}");
    }

    #[test]
    fn listing_usb_interfaces_works_without_any_camera_attached() {
        // On a machine without a USB bus (a CI container) libusb may fail to initialise; that must
        // be an error value, not a panic. Where it works, nothing listed is malformed.
        match list_interfaces(6, 1, 1) {
            Ok(found) => {
                for f in found {
                    assert!(f.bulk_in & 0x80 != 0 && f.bulk_out & 0x80 == 0, "{f:?}");
                }
            }
            Err(e) => assert_no_usb_stack(&e),
        }
    }

    /// A libusb that failed to start is only acceptable on a machine without a USB bus, and says
    /// it was libusb.
    pub(crate) fn assert_no_usb_stack(e: &UsbError) {
        assert!(
            !std::path::Path::new("/dev/bus/usb").exists(),
            "libusb failed although this machine has /dev/bus/usb: {e}"
        );
        assert!(e.to_string().contains("libusb"), "{e}");
    }
}

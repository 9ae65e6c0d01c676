//! How a device model describes itself on the bus: the device descriptor, one configuration with
//! its interfaces and endpoints, and the strings (USB 2.0 §9.6). A transport that puts a model on
//! a real host's USB stack (the USB/IP server, [`crate::usbip`]) answers the standard
//! GET_DESCRIPTOR requests from this description; the model itself only sees class and vendor
//! requests.

use super::UsbFunction;

/// Descriptor type codes (USB 2.0 table 9-5).
pub mod descriptor_type {
    pub const DEVICE: u8 = 1;
    pub const CONFIGURATION: u8 = 2;
    pub const STRING: u8 = 3;
    pub const INTERFACE: u8 = 4;
    pub const ENDPOINT: u8 = 5;
    pub const DEVICE_QUALIFIER: u8 = 6;
    pub const OTHER_SPEED_CONFIGURATION: u8 = 7;
}

/// The speed a device runs at, numbered as Linux's `enum usb_device_speed` (which USB/IP and the
/// vhci `attach` file use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbSpeed {
    /// 1.5 Mbit/s.
    Low = 1,
    /// 12 Mbit/s (bulk packets up to 64 bytes).
    Full = 2,
    /// 480 Mbit/s (bulk packets of 512 bytes).
    High = 3,
}

/// The transfer type of an endpoint (`bmAttributes` bits 1–0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    Bulk,
    Interrupt,
}

/// One endpoint of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDescription {
    /// `bEndpointAddress`: the number, with bit 7 set for IN.
    pub address: u8,
    pub kind: EndpointKind,
    /// `wMaxPacketSize`.
    pub max_packet: u16,
    /// `bInterval` (polling interval of an interrupt endpoint; 0 for bulk).
    pub interval: u8,
}

/// One interface (alternate setting 0) of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDescription {
    pub class: u8,
    pub subclass: u8,
    pub protocol: u8,
    /// The interface's string, if any.
    pub name: Option<String>,
    pub endpoints: Vec<EndpointDescription>,
}

/// Everything the host learns from a device's standard descriptors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbDescription {
    pub vendor_id: u16,
    pub product_id: u16,
    /// `bcdDevice`, the device's release number.
    pub bcd_device: u16,
    /// `bDeviceClass`, `bDeviceSubClass`, `bDeviceProtocol` (0 = per interface).
    pub device_class: [u8; 3],
    pub manufacturer: String,
    pub product: String,
    pub serial: String,
    pub speed: UsbSpeed,
    /// The interfaces of the one configuration, numbered from 0.
    pub interfaces: Vec<InterfaceDescription>,
}

/// A device model that can say what it is: what a USB/IP server needs to export it.
pub trait UsbDevice: UsbFunction {
    /// The model's descriptors.
    fn description(&self) -> UsbDescription;
}

/// The value of `bConfigurationValue` of the one configuration.
pub const CONFIGURATION_VALUE: u8 = 1;

impl UsbDescription {
    /// `bMaxPacketSize0` of the default control pipe.
    pub fn ep0_max_packet(&self) -> u8 {
        match self.speed {
            UsbSpeed::Low => 8,
            UsbSpeed::Full | UsbSpeed::High => 64,
        }
    }

    /// The kind of the endpoint at `address` (bit 7 set for IN), if the description has it.
    pub fn endpoint(&self, address: u8) -> Option<&EndpointDescription> {
        self.interfaces
            .iter()
            .flat_map(|i| i.endpoints.iter())
            .find(|e| e.address == address)
    }

    /// The strings in index order (index 1 first); interface names follow the three device
    /// strings.
    pub fn strings(&self) -> Vec<&str> {
        let mut s = vec![
            self.manufacturer.as_str(),
            self.product.as_str(),
            self.serial.as_str(),
        ];
        s.extend(self.interfaces.iter().filter_map(|i| i.name.as_deref()));
        s
    }

    /// The 18-byte device descriptor.
    pub fn device_descriptor(&self) -> Vec<u8> {
        let mut d = vec![18, descriptor_type::DEVICE];
        d.extend_from_slice(&0x0200u16.to_le_bytes());
        d.extend_from_slice(&self.device_class);
        d.push(self.ep0_max_packet());
        d.extend_from_slice(&self.vendor_id.to_le_bytes());
        d.extend_from_slice(&self.product_id.to_le_bytes());
        d.extend_from_slice(&self.bcd_device.to_le_bytes());
        d.extend_from_slice(&[1, 2, 3, 1]);
        d
    }

    /// The 10-byte device qualifier: what the device would look like at the other speed. Only a
    /// high-speed device has one; a full-speed device stalls the request.
    pub fn device_qualifier(&self) -> Option<Vec<u8>> {
        if self.speed != UsbSpeed::High {
            return None;
        }
        let mut d = vec![10, descriptor_type::DEVICE_QUALIFIER];
        d.extend_from_slice(&0x0200u16.to_le_bytes());
        d.extend_from_slice(&self.device_class);
        d.extend_from_slice(&[64, 1, 0]);
        Some(d)
    }

    /// The configuration descriptor followed by its interface and endpoint descriptors
    /// (`wTotalLength` bytes).
    pub fn configuration_descriptor(&self) -> Vec<u8> {
        let mut body = Vec::new();
        let mut string_index = 4u8;
        for (n, i) in self.interfaces.iter().enumerate() {
            let name_index = match i.name {
                Some(_) => {
                    string_index += 1;
                    string_index - 1
                }
                None => 0,
            };
            body.extend_from_slice(&[
                9,
                descriptor_type::INTERFACE,
                n as u8,
                0,
                i.endpoints.len() as u8,
                i.class,
                i.subclass,
                i.protocol,
                name_index,
            ]);
            for e in &i.endpoints {
                body.extend_from_slice(&[7, descriptor_type::ENDPOINT, e.address]);
                body.push(match e.kind {
                    EndpointKind::Bulk => 2,
                    EndpointKind::Interrupt => 3,
                });
                body.extend_from_slice(&e.max_packet.to_le_bytes());
                body.push(e.interval);
            }
        }
        let total = (9 + body.len()) as u16;
        let mut d = vec![9, descriptor_type::CONFIGURATION];
        d.extend_from_slice(&total.to_le_bytes());
        // Self-powered, 100 mA from the bus.
        d.extend_from_slice(&[
            self.interfaces.len() as u8,
            CONFIGURATION_VALUE,
            0,
            0xC0,
            50,
        ]);
        d.extend_from_slice(&body);
        d
    }

    /// String descriptor `index` (0: the language list, US English); `None` for an index the
    /// device does not have.
    pub fn string_descriptor(&self, index: u8) -> Option<Vec<u8>> {
        if index == 0 {
            return Some(vec![4, descriptor_type::STRING, 0x09, 0x04]);
        }
        let s = self.strings().get(usize::from(index) - 1).copied()?;
        // bLength is one byte: at most 126 UTF-16 units fit.
        let units: Vec<u16> = s.encode_utf16().take(126).collect();
        let mut d = vec![(2 + 2 * units.len()) as u8, descriptor_type::STRING];
        for u in units {
            d.extend_from_slice(&u.to_le_bytes());
        }
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera() -> UsbDescription {
        UsbDescription {
            vendor_id: 0x1209,
            product_id: 0x0001,
            bcd_device: 0x0100,
            device_class: [0, 0, 0],
            manufacturer: "jemput".into(),
            product: "Cam".into(),
            serial: "S1".into(),
            speed: UsbSpeed::High,
            interfaces: vec![InterfaceDescription {
                class: 6,
                subclass: 1,
                protocol: 1,
                name: Some("PTP".into()),
                endpoints: vec![
                    EndpointDescription {
                        address: 0x81,
                        kind: EndpointKind::Bulk,
                        max_packet: 512,
                        interval: 0,
                    },
                    EndpointDescription {
                        address: 0x83,
                        kind: EndpointKind::Interrupt,
                        max_packet: 8,
                        interval: 9,
                    },
                ],
            }],
        }
    }

    #[test]
    fn device_descriptor_bytes_follow_usb_2_table_9_8() {
        assert_eq!(
            camera().device_descriptor(),
            [18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x09, 0x12, 0x01, 0x00, 0x00, 0x01, 1, 2, 3, 1]
        );
    }

    #[test]
    fn configuration_carries_interface_and_endpoints_with_the_total_length() {
        let c = camera().configuration_descriptor();
        assert_eq!(c.len(), 9 + 9 + 7 + 7);
        assert_eq!(&c[..9], &[9, 2, 32, 0, 1, 1, 0, 0xC0, 50]);
        assert_eq!(&c[9..18], &[9, 4, 0, 0, 2, 6, 1, 1, 4]);
        assert_eq!(&c[18..25], &[7, 5, 0x81, 2, 0x00, 0x02, 0]);
        assert_eq!(&c[25..32], &[7, 5, 0x83, 3, 8, 0, 9]);
    }

    #[test]
    fn strings_are_utf16le_and_unknown_indexes_are_none() {
        let d = camera();
        assert_eq!(d.string_descriptor(0).unwrap(), [4, 3, 9, 4]);
        assert_eq!(d.string_descriptor(3).unwrap(), [6, 3, b'S', 0, b'1', 0]);
        assert_eq!(
            d.string_descriptor(4).unwrap(),
            [8, 3, b'P', 0, b'T', 0, b'P', 0]
        );
        assert_eq!(d.string_descriptor(5), None);
    }

    #[test]
    fn only_a_high_speed_device_has_a_qualifier() {
        let mut d = camera();
        assert_eq!(d.device_qualifier().unwrap().len(), 10);
        d.speed = UsbSpeed::Full;
        assert_eq!(d.device_qualifier(), None);
    }
}

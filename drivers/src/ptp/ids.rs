//! How PTP cameras are recognised: by interface class, whatever their vendor (USB Still Image
//! Capture class, docs/devices.md §5). udev rules match the class too.

/// bInterfaceClass of a still image capture interface.
pub const INTERFACE_CLASS: u8 = 0x06;
/// bInterfaceSubClass of a still image capture interface.
pub const INTERFACE_SUBCLASS: u8 = 0x01;
/// bInterfaceProtocol of PTP.
pub const INTERFACE_PROTOCOL: u8 = 0x01;

/// The vendor ID the camera model shows on a bus (USB/IP): pid.codes, the open-source USB vendor.
pub const SIM_VENDOR_ID: u16 = 0x1209;
/// The product ID of the camera model: pid.codes' test PID (never a real camera's).
pub const SIM_PRODUCT_ID: u16 = 0x0001;

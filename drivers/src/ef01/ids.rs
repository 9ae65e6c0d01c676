//! What EF01 modules look like to the host, as data: the USB-serial bridges they sit behind (for
//! discovery and the generated udev rules) and the module models with their sensor geometry and
//! optional features. One line per entry, sorted.

/// A USB-serial bridge chip EF01 modules are wired to (the module itself only speaks TTL UART).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbBridge {
    pub vid: u16,
    pub pid: u16,
    /// Chip family, for listings.
    pub chip: &'static str,
    /// The Linux kernel driver that binds it.
    pub kernel_driver: &'static str,
}

/// USB-serial bridges, sorted by VID:PID.
#[rustfmt::skip]
pub const USB_BRIDGES: &[UsbBridge] = &[
    UsbBridge { vid: 0x0403, pid: 0x6001, chip: "FTDI FT232R/FT232BM", kernel_driver: "ftdi_sio" }, // the classic FTDI cable
    UsbBridge { vid: 0x067b, pid: 0x2303, chip: "Prolific PL2303", kernel_driver: "pl2303" },        // cheap "USB-TTL" cables
    UsbBridge { vid: 0x10c4, pid: 0xea60, chip: "Silicon Labs CP210x", kernel_driver: "cp210x" },    // CP2102/CP2104 boards
    UsbBridge { vid: 0x1a86, pid: 0x7523, chip: "WCH CH340/CH341", kernel_driver: "ch341" },         // most bundled adapters
];

/// Looks a bridge up by VID:PID.
pub fn bridge(vid: u16, pid: u16) -> Option<&'static UsbBridge> {
    USB_BRIDGES.iter().find(|b| b.vid == vid && b.pid == pid)
}

/// An EF01 module model: what the driver cannot learn from ReadSysPara.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleModel {
    /// Short name, as `DeviceInfo::model` reports it.
    pub name: &'static str,
    /// Image width and height in pixels, as UpImage sends them.
    pub width: u32,
    pub height: u32,
    /// Bits per pixel in the upload (4: two pixels per byte, high nibble first).
    pub bits_per_pixel: u8,
    /// Nominal sensor resolution (unverified for every model: ~500 dpi).
    pub ppi: u32,
    /// Template library size the module reports.
    pub capacity: u16,
    /// Whether AuraLedConfig (0x35) drives a ring LED.
    pub aura_led: bool,
    /// Whether the module sends one `0x55` byte after power-on.
    pub handshake_byte: bool,
    /// Whether the geometry is confirmed by more than one source (docs/devices.md §1.5).
    pub geometry_verified: bool,
}

impl ModuleModel {
    /// Bytes UpImage sends for one image.
    pub fn image_bytes(&self) -> usize {
        (self.width * self.height) as usize * usize::from(self.bits_per_pixel) / 8
    }
}

/// Module models, sorted by name.
#[rustfmt::skip]
pub const MODULES: &[ModuleModel] = &[
    ModuleModel { name: "AS608",  width: 256, height: 288, bits_per_pixel: 4, ppi: 500, capacity: 300, aura_led: false, handshake_byte: false, geometry_verified: true },  // Synochip, ZFM-20 protocol
    ModuleModel { name: "R30x",   width: 256, height: 288, bits_per_pixel: 4, ppi: 500, capacity: 200, aura_led: false, handshake_byte: false, geometry_verified: true },  // Grow R305/R307; capacity as in the real reply of docs/devices.md §1.4
    ModuleModel { name: "R50x",   width: 192, height: 192, bits_per_pixel: 4, ppi: 500, capacity: 200, aura_led: true,  handshake_byte: true,  geometry_verified: false }, // Grow R502/R503 with ring LED; geometry from one R503 sheet
    ModuleModel { name: "ZFM-20", width: 256, height: 288, bits_per_pixel: 4, ppi: 500, capacity: 162, aura_led: false, handshake_byte: false, geometry_verified: true },  // ZhianTec, the original
];

/// Looks a module model up by name (case-insensitive).
pub fn module(name: &str) -> Option<&'static ModuleModel> {
    MODULES.iter().find(|m| m.name.eq_ignore_ascii_case(name))
}

/// The model to assume when nothing says otherwise: the 256 × 288 sensor of ZFM-20, R30x and AS608.
pub fn default_module() -> &'static ModuleModel {
    &MODULES[1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        let ids: Vec<_> = USB_BRIDGES.iter().map(|b| (b.vid, b.pid)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:04x?}");
        let names: Vec<_> = MODULES.iter().map(|m| m.name).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }

    #[test]
    fn the_usual_bridges_and_the_default_module_are_known() {
        for (vid, pid) in [
            (0x10c4, 0xea60),
            (0x1a86, 0x7523),
            (0x0403, 0x6001),
            (0x067b, 0x2303),
        ] {
            assert!(bridge(vid, pid).is_some(), "{vid:04x}:{pid:04x}");
        }
        let m = default_module();
        assert_eq!((m.name, m.width, m.height), ("R30x", 256, 288));
        assert_eq!(m.image_bytes(), 36_864);
        assert_eq!(module("zfm-20").map(|m| m.image_bytes()), Some(36_864));
    }
}

//! Which serial ports may carry an ISDV4 pen: the PNP ids of built-in Wacom serial digitizers and
//! the USB-serial bridges that stand-alone pads sit behind. Data for discovery and the udev rules.

/// A serial pen digitizer known by its ACPI/PNP id (as in `/sys/bus/pnp/devices/*/id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PnpId {
    pub id: &'static str,
    /// Line speed the digitizer runs at.
    pub baud: u32,
    pub name: &'static str,
}

/// A USB-serial bridge a pad may sit behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbSerialId {
    pub vid: u16,
    pub pid: u16,
    pub name: &'static str,
}

/// Wacom serial digitizers (TabletPC "Penabled"), sorted by id. Baud: 19 200 up to WACf007 and on
/// Fujitsu ids, 38 400 from WACf008 (xf86-input-wacom's isdv4 tools and the kernel's PNP table).
#[rustfmt::skip]
pub const PNP_IDS: &[PnpId] = &[
    PnpId { id: "FUJ02e5", baud: 19_200, name: "Fujitsu Wacom Penabled (pen)" },           // Fujitsu Lifebook/Stylistic
    PnpId { id: "FUJ02e6", baud: 19_200, name: "Fujitsu Wacom Penabled (pen)" },           // Fujitsu Lifebook/Stylistic
    PnpId { id: "FUJ02e7", baud: 19_200, name: "Fujitsu Wacom Penabled (pen + touch)" },   // Fujitsu T-series
    PnpId { id: "FUJ02e9", baud: 19_200, name: "Fujitsu Wacom Penabled (pen + touch)" },   // Fujitsu T-series
    PnpId { id: "WACf004", baud: 19_200, name: "Wacom Serial Penabled" },                  // early TabletPCs
    PnpId { id: "WACf005", baud: 19_200, name: "Wacom Serial Penabled" },                  // early TabletPCs
    PnpId { id: "WACf006", baud: 19_200, name: "Wacom Serial Penabled" },                  // early TabletPCs
    PnpId { id: "WACf007", baud: 19_200, name: "Wacom Serial Penabled" },                  // early TabletPCs
    PnpId { id: "WACf008", baud: 38_400, name: "Wacom Serial Penabled (pen + touch)" },    // first 38 400 baud model
    PnpId { id: "WACf009", baud: 38_400, name: "Wacom Serial Penabled (pen + touch)" },    // pen + 1FG touch
    PnpId { id: "WACf00a", baud: 38_400, name: "Wacom Serial Penabled (pen + touch)" },    // pen + touch
    PnpId { id: "WACf00b", baud: 38_400, name: "Wacom Serial Penabled (pen + touch)" },    // pen + touch
    PnpId { id: "WACf00c", baud: 38_400, name: "Wacom Serial Penabled (pen + touch)" },    // ThinkPad X200/X201 Tablet
    PnpId { id: "WACf00d", baud: 38_400, name: "Wacom Serial Penabled (pen + touch)" },    // pen + touch
    PnpId { id: "WACf00e", baud: 38_400, name: "Wacom Serial Penabled 2FG" },              // pen + two-finger touch
    PnpId { id: "WACf010", baud: 38_400, name: "Wacom Serial Penabled (pen + touch)" },    // pen + touch
];

/// USB-serial bridges found in stand-alone serial pen pads and their cables, sorted by VID:PID.
#[rustfmt::skip]
pub const USB_SERIAL_IDS: &[UsbSerialId] = &[
    UsbSerialId { vid: 0x0403, pid: 0x6001, name: "FTDI FT232R" },          // ftdi_sio
    UsbSerialId { vid: 0x0403, pid: 0x6015, name: "FTDI FT231X" },          // ftdi_sio
    UsbSerialId { vid: 0x067b, pid: 0x2303, name: "Prolific PL2303" },      // pl2303
    UsbSerialId { vid: 0x10c4, pid: 0xea60, name: "Silicon Labs CP210x" },  // cp210x
    UsbSerialId { vid: 0x1a86, pid: 0x5523, name: "WCH CH341" },            // ch341
    UsbSerialId { vid: 0x1a86, pid: 0x7523, name: "WCH CH340" },            // ch341
];

/// The baud rate a PNP id runs at, if the id is known (case-insensitive, as firmware tables vary).
pub fn baud_for_pnp(id: &str) -> Option<u32> {
    PNP_IDS
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(id))
        .map(|p| p.baud)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_tables_are_sorted_and_unique() {
        for w in PNP_IDS.windows(2) {
            assert!(
                w[0].id.to_ascii_lowercase() < w[1].id.to_ascii_lowercase(),
                "{w:?}"
            );
        }
        for w in USB_SERIAL_IDS.windows(2) {
            assert!((w[0].vid, w[0].pid) < (w[1].vid, w[1].pid), "{w:?}");
        }
    }

    #[test]
    fn pnp_ids_give_the_documented_baud_rates() {
        assert_eq!(baud_for_pnp("WACf004"), Some(19_200));
        assert_eq!(baud_for_pnp("wacf007"), Some(19_200));
        assert_eq!(baud_for_pnp("WACF008"), Some(38_400));
        assert_eq!(baud_for_pnp("WACf00c"), Some(38_400));
        assert_eq!(baud_for_pnp("FUJ02e5"), Some(19_200));
        assert_eq!(baud_for_pnp("PNP0501"), None);
    }
}

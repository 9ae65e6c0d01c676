//! USB ids of GPS receivers that speak NMEA-0183 over a serial port, and of the USB-serial bridges
//! inside receivers and pucks. Data for discovery and the udev rules.

/// A USB device that presents a GPS receiver as a tty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpsUsbId {
    pub vid: u16,
    pub pid: u16,
    pub name: &'static str,
    /// NMEA baud rate the receiver starts at (CDC-ACM receivers ignore it).
    pub baud: u32,
}

/// Sorted by VID:PID.
#[rustfmt::skip]
pub const USB_IDS: &[GpsUsbId] = &[
    GpsUsbId { vid: 0x0403, pid: 0x6001, name: "FTDI FT232R (GPS modules)", baud: 9_600 },      // ftdi_sio
    GpsUsbId { vid: 0x067b, pid: 0x2303, name: "Prolific PL2303 (GlobalSat BU-353 and pucks)", baud: 4_800 }, // pl2303
    GpsUsbId { vid: 0x10c4, pid: 0xea60, name: "Silicon Labs CP210x (GPS modules)", baud: 9_600 }, // cp210x
    GpsUsbId { vid: 0x1546, pid: 0x01a5, name: "u-blox 5 GPS receiver", baud: 9_600 },          // cdc_acm
    GpsUsbId { vid: 0x1546, pid: 0x01a6, name: "u-blox 6 GPS receiver", baud: 9_600 },          // cdc_acm
    GpsUsbId { vid: 0x1546, pid: 0x01a7, name: "u-blox 7 GNSS receiver", baud: 9_600 },         // cdc_acm
    GpsUsbId { vid: 0x1546, pid: 0x01a8, name: "u-blox 8 GNSS receiver", baud: 9_600 },         // cdc_acm
    GpsUsbId { vid: 0x1a86, pid: 0x7523, name: "WCH CH340 (GPS modules)", baud: 9_600 },        // ch341
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_table_is_sorted_unique_and_at_nmea_rates() {
        for w in USB_IDS.windows(2) {
            assert!((w[0].vid, w[0].pid) < (w[1].vid, w[1].pid), "{w:?}");
        }
        assert!(USB_IDS.iter().all(|i| [4_800, 9_600].contains(&i.baud)));
    }
}

//! Which USB devices the U.are.U driver drives, as data (docs/devices.md §3): one commented line per
//! device, sorted by VID:PID. The generated udev rules and `jemput devices` read this table.

/// One U.are.U 4000-class reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UruId {
    pub vid: u16,
    pub pid: u16,
    /// What to call it in listings and `DeviceInfo::model`.
    pub name: &'static str,
}

/// DigitalPersona readers that need no challenge/response (the Microsoft `045e:…` members of the
/// family need an AES handshake jemput does not implement, so they are not listed).
#[rustfmt::skip]
pub const USB_IDS: &[UruId] = &[
    UruId { vid: 0x05ba, pid: 0x0007, name: "DigitalPersona U.are.U 4000" },                 // standalone reader
    UruId { vid: 0x05ba, pid: 0x0008, name: "DigitalPersona U.are.U 4000 (keyboard)" },      // built into a keyboard
    UruId { vid: 0x05ba, pid: 0x000a, name: "DigitalPersona U.are.U 4000B / 4500" },         // 4500 reported with this id (unverified)
];

/// Looks a reader up by VID:PID.
pub fn lookup(vid: u16, pid: u16) -> Option<&'static UruId> {
    USB_IDS.iter().find(|i| i.vid == vid && i.pid == pid)
}

/// The interrupt IN endpoint the events arrive on.
pub const EP_INTERRUPT: u8 = 0x81;
/// The bulk IN endpoint the image arrives on.
pub const EP_IMAGE: u8 = 0x82;
/// The interface the driver claims.
pub const INTERFACE: u8 = 0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_finds_the_4000b() {
        assert!(USB_IDS
            .windows(2)
            .all(|w| (w[0].vid, w[0].pid) < (w[1].vid, w[1].pid)));
        assert_eq!(
            lookup(0x05ba, 0x000a).map(|i| i.name),
            Some("DigitalPersona U.are.U 4000B / 4500")
        );
        assert_eq!(lookup(0x045e, 0x00bb), None);
    }
}

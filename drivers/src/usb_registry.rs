//! USB devices in the driver registry: U.are.U readers (by VID:PID, [`uru4000::ids`]) and PTP
//! cameras (by interface class 06/01/01, whatever their vendor) listed with their access status
//! for `jemput devices`, and opened by selector — `sim:uru4000` and `sim:ptp` start the device
//! models in-process on the in-memory USB transport.
//!
//! The listing is a pure function of the USB devices found ([`usb_found`]) so it is tested with
//! fakes; libusb supplies the real list ([`list_usb`]).

use std::path::PathBuf;

use crate::discover::UsbIdentity;
use crate::registry::{
    with_selectors, Capabilities, Capability, DriverCandidate, FoundDevice, Identified, OpenError,
    OpenOptions, OpenedDevice, SimModel,
};
use crate::usb::{self, UsbDeviceEntry};
use crate::{ptp, uru4000, Selector};

/// The models `sim:` starts on the in-memory USB transport.
pub const SIM_MODELS: &[&str] = &[uru4000::SIM_NAME, ptp::SIM_NAME];

const PTP_CLASS: (u8, u8, u8) = (
    ptp::ids::INTERFACE_CLASS,
    ptp::ids::INTERFACE_SUBCLASS,
    ptp::ids::INTERFACE_PROTOCOL,
);

/// The drivers that may talk to a USB device with this id and these interfaces.
pub fn usb_candidates(vid: u16, pid: u16, interfaces: &[(u8, u8, u8)]) -> Vec<DriverCandidate> {
    let mut out = Vec::new();
    if let Some(id) = uru4000::ids::lookup(vid, pid) {
        out.push(DriverCandidate {
            driver: "uru4000".into(),
            capability: Capability::Fingerprint,
            matched: id.name.into(),
        });
    }
    if interfaces.contains(&PTP_CLASS) {
        out.push(DriverCandidate {
            driver: "ptp".into(),
            capability: Capability::Camera,
            matched: "still image interface 06/01/01 (PTP)".into(),
        });
    }
    out
}

/// The USB devices some driver takes, as listing entries with their selectors: VID:PID:SERIAL
/// when the serial is unique, else `usb:<port path>`.
pub fn usb_found(entries: &[UsbDeviceEntry]) -> Vec<FoundDevice> {
    let found = entries
        .iter()
        .filter_map(|e| {
            let drivers = usb_candidates(e.vid, e.pid, &e.interfaces);
            if drivers.is_empty() {
                return None;
            }
            Some(FoundDevice {
                path: e.devnode.clone(),
                usb: Some(UsbIdentity {
                    vid: format!("{:04x}", e.vid),
                    pid: format!("{:04x}", e.pid),
                    serial: e.serial.clone(),
                    manufacturer: e.manufacturer.clone(),
                    product: e.product.clone(),
                }),
                usb_port: Some(e.port_path.clone()),
                pnp_ids: Vec::new(),
                drivers,
                selector: String::new(),
                access: e.access.clone(),
                v4l2: None,
            })
        })
        .collect();
    with_selectors(found)
}

/// The U.are.U readers and PTP cameras on this machine (none when libusb cannot start here).
pub fn list_usb() -> Vec<FoundDevice> {
    match usb::list_devices(|vid, pid, ifs| !usb_candidates(vid, pid, ifs).is_empty()) {
        Ok(entries) => usb_found(&entries),
        Err(e) => {
            tracing::debug!(%e, "no USB listing");
            Vec::new()
        }
    }
}

/// Which USB driver a selector names, if any: a `sim:` model, a U.are.U id, or a listed camera.
fn usb_driver_for(selector: &Selector) -> Option<&'static str> {
    match selector {
        Selector::Sim { model, .. } => SIM_MODELS
            .iter()
            .copied()
            .find(|m| m.eq_ignore_ascii_case(model)),
        Selector::UsbId { vid, pid, .. } if uru4000::ids::lookup(*vid, *pid).is_some() => {
            Some("uru4000")
        }
        Selector::UsbId { .. } | Selector::UsbPort(_) => {
            let found = list_usb();
            found
                .iter()
                .filter(|d| match selector {
                    Selector::UsbId { vid, pid, .. } => d.usb.as_ref().is_some_and(|u| {
                        u.vid == format!("{vid:04x}") && u.pid == format!("{pid:04x}")
                    }),
                    Selector::UsbPort(p) => d.usb_port.as_deref() == Some(p.as_str()),
                    _ => false,
                })
                .find_map(|d| d.drivers.first().map(|c| c.driver.as_str()))
                .and_then(|name| ["uru4000", "ptp"].into_iter().find(|n| *n == name))
        }
        Selector::Tty(_) | Selector::V4l2(_) => None,
    }
}

/// Opens `selector` when it names a USB device (`Ok(None)`: not a USB selector, try the serial
/// ports). A `--driver` hint names a serial driver: it sends real USB ids to the serial path and
/// is refused for the USB models.
pub fn open(selector: &Selector, options: &OpenOptions) -> Result<Option<OpenedDevice>, OpenError> {
    let Some(driver) = usb_driver_for(selector) else {
        return Ok(None);
    };
    let is_sim = matches!(selector, Selector::Sim { .. });
    if let Some(hint) = options
        .driver
        .as_ref()
        .filter(|h| !h.eq_ignore_ascii_case(driver))
    {
        if !is_sim {
            return Ok(None);
        }
        return Err(OpenError::SimDriverMismatch {
            model: driver.into(),
            model_driver: driver,
            hint: hint.clone(),
        });
    }
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| OpenError::Driver {
        driver,
        path: PathBuf::from(selector.to_string()),
        source: e,
    };
    let (device, sim) = match driver {
        "uru4000" => {
            let (reader, handle) = uru4000::open(selector, uru4000::UruConfig::default())
                .map_err(|e| fail(Box::new(e)))?;
            let sim = handle.map(|h| SimModel::in_memory("uru4000", "uru4000", Box::new(h)));
            (Capabilities::Fingerprint(reader), sim)
        }
        _ => {
            let cam =
                ptp::open(selector, ptp::PtpConfig::default()).map_err(|e| fail(Box::new(e)))?;
            let sim = is_sim.then(|| {
                SimModel::in_memory(
                    "ptp",
                    "ptp", // The camera model lives inside the opened camera's in-memory transport.
                    Box::new("in the camera's transport"),
                )
            });
            (Capabilities::Camera(cam), sim)
        }
    };
    let path = match &sim {
        Some(s) => s.path.clone(),
        None => PathBuf::from(selector.to_string()),
    };
    let identified = if is_sim {
        Identified::Sim
    } else {
        Identified::IdTable
    };
    Ok(Some(OpenedDevice::usb(device, path, identified, sim)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Access;

    fn entry(
        vid: u16,
        pid: u16,
        serial: Option<&str>,
        port: &str,
        ifs: &[(u8, u8, u8)],
    ) -> UsbDeviceEntry {
        UsbDeviceEntry {
            bus: 1,
            address: 2,
            port_path: port.into(),
            vid,
            pid,
            serial: serial.map(Into::into),
            manufacturer: None,
            product: None,
            interfaces: ifs.to_vec(),
            devnode: PathBuf::from(format!("/dev/bus/usb/001/{}", port.len())),
            access: Access::Accessible,
        }
    }

    #[test]
    fn readers_by_id_and_cameras_by_class_are_listed_and_nothing_else() {
        let list = usb_found(&[
            entry(0x05ba, 0x000a, Some("UR1"), "1-1", &[(0xff, 0xff, 0xff)]),
            entry(0x04a9, 0x31bc, None, "1-2", &[(6, 1, 1)]),
            entry(0x046d, 0xc52b, None, "1-3", &[(3, 1, 1)]), // a keyboard receiver
        ]);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].drivers[0].driver, "uru4000");
        assert_eq!(list[0].drivers[0].capability, Capability::Fingerprint);
        assert_eq!(list[0].selector, "05ba:000a:UR1");
        assert_eq!(list[1].drivers[0].driver, "ptp");
        assert_eq!(list[1].drivers[0].capability, Capability::Camera);
        assert_eq!(
            list[1].selector, "usb:1-2",
            "no serial: the port path names it"
        );
        assert!(list[1].path.starts_with("/dev/bus/usb"));
    }

    #[test]
    fn two_readers_with_the_same_serial_are_named_by_port_and_access_is_kept() {
        let mut a = entry(0x05ba, 0x0007, Some("X"), "2-1", &[]);
        a.access = Access::PermissionDenied {
            fix: "install jemput's udev rules".into(),
        };
        let b = entry(0x05ba, 0x0007, Some("X"), "2-2", &[]);
        let list = usb_found(&[a, b]);
        let sels: Vec<_> = list.iter().map(|d| d.selector.as_str()).collect();
        assert_eq!(sels, ["usb:2-1", "usb:2-2"]);
        assert!(matches!(list[0].access, Access::PermissionDenied { .. }));
    }

    #[test]
    fn sim_selectors_and_reader_ids_name_their_usb_driver_and_ttys_do_not() {
        let d = |s: &str| usb_driver_for(&s.parse().unwrap());
        assert_eq!(d("sim:uru4000"), Some("uru4000"));
        assert_eq!(d("sim:ptp:2"), Some("ptp"));
        assert_eq!(d("05ba:000a"), Some("uru4000"));
        assert_eq!(d("sim:ef01"), None);
        assert_eq!(d("/dev/ttyUSB0"), None);
    }
}

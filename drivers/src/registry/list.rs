//! Listing what the drivers find: every device each transport shows — serial ports, USB devices
//! (libusb), V4L2 nodes — with the drivers whose factories recognise it, its access status and
//! the shortest selector that names it alone; and resolving a `VID:PID[:SERIAL]` or `usb:<port>`
//! selector against such a list (exactly one must match: nothing is guessed).
//!
//! The USB and V4L2 parts are pure functions of what was found ([`usb_found`], [`video_found`]),
//! so they are tested with fakes.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::factories;
use crate::discover::{self, Access, UsbIdentity};
use crate::error::{Candidate, OpenError};
use crate::factory::{Seen, Transport};
use crate::usb::{self, UsbDeviceEntry};
use crate::v4l2::list::{self as video, SysfsNode};
use crate::v4l2::V4l2Node;
use crate::{Capability, Selector};

/// A driver that may talk to a port, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DriverCandidate {
    pub driver: String,
    pub capability: Capability,
    /// The ID table entry that matched (a bridge chip, a receiver, a PNP digitizer).
    pub matched: String,
}

/// A serial port, what may be behind it, and whether this user can open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FoundDevice {
    /// The tty, e.g. `/dev/ttyUSB0`.
    pub path: PathBuf,
    /// Present for USB-serial adapters.
    pub usb: Option<UsbIdentity>,
    /// The USB port path (`1-2.3`) for `usb:` selectors.
    pub usb_port: Option<String>,
    /// ACPI/PNP ids of a built-in port (TabletPC digitizers).
    pub pnp_ids: Vec<String>,
    /// Drivers whose ID tables list this port; several when a bridge chip is shared.
    pub drivers: Vec<DriverCandidate>,
    /// A selector naming this port alone: VID:PID:SERIAL when the serial is unique here, else
    /// `usb:<port path>`, else the tty path.
    pub selector: String,
    pub access: Access,
    /// For a V4L2 node (`v4l2:` selectors): its name, driver, capabilities and formats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v4l2: Option<V4l2Node>,
}

/// Whether a device as `seen` is on `transport`.
fn carries(transport: Transport, seen: &Seen<'_>) -> bool {
    matches!(
        (transport, seen),
        (Transport::Serial { .. }, Seen::SerialPort { .. })
            | (Transport::Usb, Seen::Usb { .. })
            | (Transport::V4l2, Seen::VideoNode { .. })
    )
}

/// The drivers whose factories recognise a device, in the registry's order.
pub(crate) fn candidates(seen: &Seen<'_>) -> Vec<DriverCandidate> {
    factories()
        .iter()
        .filter(|f| carries(f.transport(), seen))
        .filter_map(|f| {
            let r = f.recognise(seen)?;
            Some(DriverCandidate {
                driver: f.name().into(),
                capability: f.capability(),
                matched: r.matched,
            })
        })
        .collect()
}

/// How a listed serial port looks to the factories.
pub(crate) fn seen_port(d: &FoundDevice) -> Seen<'_> {
    let usb = d.usb.as_ref().and_then(|u| {
        Some((
            u16::from_str_radix(&u.vid, 16).ok()?,
            u16::from_str_radix(&u.pid, 16).ok()?,
        ))
    });
    Seen::SerialPort {
        usb,
        pnp_ids: &d.pnp_ids,
    }
}

/// Every serial port the OS reports, without opening any, with candidate drivers (access not
/// checked: `Access::Accessible` is a placeholder here).
pub(crate) fn serial_ports() -> Vec<FoundDevice> {
    let ports: Vec<FoundDevice> = discover::port_identities()
        .into_iter()
        .map(|p| {
            let (usb, usb_port) = match p.usb {
                Some(u) => (Some(u.identity), Some(u.port_path)),
                None => (None, None),
            };
            let mut d = FoundDevice {
                usb_port,
                pnp_ids: p.pnp_ids,
                drivers: Vec::new(),
                selector: String::new(),
                path: p.devnode,
                usb,
                access: Access::Accessible,
                v4l2: None,
            };
            d.drivers = candidates(&seen_port(&d));
            d
        })
        .collect();
    with_selectors(ports)
}

/// Fills in each device's shortest unambiguous selector.
pub fn with_selectors(mut ports: Vec<FoundDevice>) -> Vec<FoundDevice> {
    let key = |d: &FoundDevice| {
        d.usb
            .as_ref()
            .and_then(|u| Some(format!("{}:{}:{}", u.vid, u.pid, u.serial.as_deref()?)))
    };
    let keys: Vec<_> = ports.iter().map(key).collect();
    let ports_seen: Vec<_> = ports.iter().map(|d| d.usb_port.clone()).collect();
    for (i, d) in ports.iter_mut().enumerate() {
        let serial_unique = keys[i]
            .as_ref()
            .is_some_and(|k| keys.iter().filter(|o| o.as_ref() == Some(k)).count() == 1);
        let port_unique = d
            .usb_port
            .as_ref()
            .is_some_and(|p| ports_seen.iter().filter(|o| o.as_ref() == Some(p)).count() == 1);
        d.selector = match (&keys[i], &d.usb_port) {
            (Some(k), _) if serial_unique => k.clone(),
            (_, Some(p)) if port_unique => format!("usb:{p}"),
            _ => d.path.display().to_string(),
        };
    }
    ports
}

/// The USB devices some driver's factory recognises, as listing entries with their selectors:
/// VID:PID:SERIAL when the serial is unique, else `usb:<port path>`.
pub fn usb_found(entries: &[UsbDeviceEntry]) -> Vec<FoundDevice> {
    let found = entries
        .iter()
        .filter_map(|e| {
            let drivers = candidates(&Seen::Usb {
                vid: e.vid,
                pid: e.pid,
                interfaces: &e.interfaces,
            });
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

/// The USB devices on this machine some driver takes (none when libusb cannot start here).
pub fn list_usb() -> Vec<FoundDevice> {
    let wanted = |vid, pid, interfaces: &[(u8, u8, u8)]| {
        !candidates(&Seen::Usb {
            vid,
            pid,
            interfaces,
        })
        .is_empty()
    };
    match usb::list_devices(wanted) {
        Ok(entries) => usb_found(&entries),
        Err(e) => {
            tracing::debug!(%e, "no USB listing");
            Vec::new()
        }
    }
}

/// A listing entry for a probed V4L2 node, or `None` when no driver's factory recognises it (a
/// node that does not capture video).
pub fn video_found(node: &SysfsNode, v: V4l2Node, access: Access) -> Option<FoundDevice> {
    let drivers = candidates(&Seen::VideoNode {
        capture: v.capture,
        card: v.card.as_deref(),
        driver: v.driver.as_deref(),
    });
    if drivers.is_empty() {
        return None;
    }
    Some(FoundDevice {
        path: node.dev.clone(),
        usb: None,
        usb_port: node.usb_port.clone(),
        pnp_ids: Vec::new(),
        drivers,
        selector: format!("v4l2:{}", node.dev.display()),
        access,
        v4l2: Some(v),
    })
}

/// The V4L2 video capture nodes on this machine, each opened briefly.
pub fn list_video() -> Vec<FoundDevice> {
    video::sysfs_nodes(Path::new("/sys/class/video4linux"), Path::new("/dev"))
        .iter()
        .filter_map(|n| {
            let (v, access) = video::probe(n);
            video_found(n, v, access)
        })
        .collect()
}

/// Whether some driver's devices are on `transport`: no need to list it otherwise.
fn used(transport: Transport) -> bool {
    factories().iter().any(|f| f.transport() == transport)
}

/// Everything the drivers may talk to, with access status: every serial port (each opened
/// briefly; ports no ID table names have no candidate drivers), then the USB devices and the
/// V4L2 video capture nodes some driver recognises. `jemput devices --all` prints this.
pub fn list_all() -> Vec<FoundDevice> {
    let mut out: Vec<FoundDevice> = serial_ports()
        .into_iter()
        .map(|mut d| {
            d.access = discover::check_access(&d.path);
            d
        })
        .collect();
    if used(Transport::Usb) {
        out.extend(list_usb());
    }
    if used(Transport::V4l2) {
        out.extend(list_video());
    }
    out
}

/// What the drivers find: the devices of [`list_all`] some driver's factory recognises.
pub fn list() -> Vec<FoundDevice> {
    list_all()
        .into_iter()
        .filter(|d| !d.drivers.is_empty())
        .collect()
}

/// The serial ports of [`list`]: those a serial driver's ID table names (for procedures that
/// only serial devices have, such as `jemput calibrate`'s).
pub fn list_serial() -> Vec<FoundDevice> {
    list()
        .into_iter()
        .filter(|d| {
            d.drivers.iter().any(|c| {
                super::factory(&c.driver)
                    .is_some_and(|f| matches!(f.transport(), Transport::Serial { .. }))
            })
        })
        .collect()
}

/// The one device among `found` that `selector` (`VID:PID[:SERIAL]` or `usb:<port>`) names.
/// Tty paths, V4L2 nodes and `sim:` need no discovery and are refused here.
pub fn resolve<'a>(
    selector: &Selector,
    found: &'a [FoundDevice],
) -> Result<&'a FoundDevice, OpenError> {
    let (matches, looked_for): (Vec<&FoundDevice>, String) = match selector {
        Selector::UsbId { vid, pid, serial } => {
            let (v, p) = (format!("{vid:04x}"), format!("{pid:04x}"));
            let m = found
                .iter()
                .filter(|d| {
                    d.usb.as_ref().is_some_and(|u| {
                        u.vid == v
                            && u.pid == p
                            && serial.as_ref().is_none_or(|s| u.serial.as_ref() == Some(s))
                    })
                })
                .collect();
            let what = match serial {
                Some(s) => format!("a serial port with USB id {v}:{p} and serial {s}"),
                None => format!("a serial port with USB id {v}:{p}"),
            };
            (m, what)
        }
        Selector::UsbPort(port) => (
            found
                .iter()
                .filter(|d| d.usb_port.as_deref() == Some(port.as_str()))
                .collect(),
            format!("a serial port on USB port {port}"),
        ),
        Selector::Tty(_) | Selector::V4l2(_) | Selector::Sim { .. } => {
            return Err(OpenError::NotFound {
                selector: selector.to_string(),
                looked_for: "a USB device (tty paths and sim: are opened directly)".into(),
            })
        }
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(OpenError::NotFound {
            selector: selector.to_string(),
            looked_for,
        }),
        many => Err(OpenError::Ambiguous {
            selector: selector.to_string(),
            candidates: many
                .iter()
                .map(|d| Candidate {
                    path: d.path.clone(),
                    usb_port: d.usb_port.clone(),
                    serial: d.usb.as_ref().and_then(|u| u.serial.clone()),
                })
                .collect(),
        }),
    }
}

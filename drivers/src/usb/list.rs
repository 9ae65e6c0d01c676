//! Every USB device on this machine with its interface classes and whether this user can use it,
//! for `jemput devices` and for opening USB readers by VID:PID. The access status comes from a
//! pure mapping ([`access_of`]) so it can be tested without a USB stack.

use std::path::PathBuf;

use rusb::UsbContext;

use super::rusb_link::map_rusb;
use super::UsbError;
use crate::discover::Access;

/// A USB device as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbDeviceEntry {
    pub bus: u8,
    pub address: u8,
    /// The sysfs port path, e.g. `1-2.3`, for `usb:` selectors.
    pub port_path: String,
    pub vid: u16,
    pub pid: u16,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    /// (class, subclass, protocol) of each interface of the active configuration (alternate
    /// setting 0).
    pub interfaces: Vec<(u8, u8, u8)>,
    /// The device node, `/dev/bus/usb/BBB/DDD`.
    pub devnode: PathBuf,
    pub access: Access,
}

/// What opening a device for listing showed, independent of libusb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    Opened {
        /// The kernel driver bound to an interface jemput needs, if any (`usbfs` aside).
        kernel_driver: Option<String>,
    },
    PermissionDenied,
    Busy,
    Failed(String),
}

/// The access status of a device from how opening it went and who else has its node open.
/// Another process holding the node (fprintd, gvfs, gphoto2) is "busy" even though libusb could
/// open it: claiming the interface would fail or disturb that program.
pub fn access_of(outcome: &OpenOutcome, held_by: Option<String>) -> Access {
    match outcome {
        OpenOutcome::PermissionDenied => Access::PermissionDenied {
            fix: "install jemput's udev rules (udev/60-jemput.rules) and replug the device".into(),
        },
        OpenOutcome::Busy => Access::Busy { held_by },
        OpenOutcome::Opened {
            kernel_driver: Some(k),
        } => Access::Busy {
            held_by: Some(match held_by {
                Some(p) => format!("{p} (kernel driver {k} bound)"),
                None => format!("kernel driver {k}"),
            }),
        },
        OpenOutcome::Opened {
            kernel_driver: None,
        } => match held_by {
            Some(p) => Access::Busy { held_by: Some(p) },
            None => Access::Accessible,
        },
        OpenOutcome::Failed(reason) => Access::Unavailable {
            reason: reason.clone(),
        },
    }
}

/// How an open error of libusb maps to an outcome.
pub fn outcome_of_error(e: rusb::Error) -> OpenOutcome {
    match e {
        rusb::Error::Access => OpenOutcome::PermissionDenied,
        rusb::Error::Busy => OpenOutcome::Busy,
        other => OpenOutcome::Failed(other.to_string()),
    }
}

fn port_path(device: &rusb::Device<rusb::Context>) -> String {
    let ports = device.port_numbers().unwrap_or_default();
    let tail: Vec<String> = ports.iter().map(u8::to_string).collect();
    format!("{}-{}", device.bus_number(), tail.join("."))
}

/// The name of the kernel driver bound to interface `n` of the device at `port_path`, from sysfs.
fn sysfs_driver(port_path: &str, n: u8) -> Option<String> {
    let link = std::fs::read_link(format!("/sys/bus/usb/devices/{port_path}:1.{n}/driver")).ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// Every USB device whose VID:PID or interface class `wanted` accepts, opened briefly for its
/// strings and access status. `wanted` sees (vid, pid, interfaces) before anything is opened.
pub fn list_devices(
    wanted: impl Fn(u16, u16, &[(u8, u8, u8)]) -> bool,
) -> Result<Vec<UsbDeviceEntry>, UsbError> {
    let context = rusb::Context::new().map_err(|e| map_rusb(e, "libusb"))?;
    let devices = context.devices().map_err(|e| map_rusb(e, "libusb"))?;
    let mut out = Vec::new();
    for device in devices.iter() {
        let Ok(desc) = device.device_descriptor() else {
            continue;
        };
        let interfaces: Vec<(u8, u8, u8)> = device
            .active_config_descriptor()
            .map(|c| {
                c.interfaces()
                    .filter_map(|i| i.descriptors().next())
                    .map(|a| (a.class_code(), a.sub_class_code(), a.protocol_code()))
                    .collect()
            })
            .unwrap_or_default();
        if !wanted(desc.vendor_id(), desc.product_id(), &interfaces) {
            continue;
        }
        let port_path = port_path(&device);
        let devnode = PathBuf::from(format!(
            "/dev/bus/usb/{:03}/{:03}",
            device.bus_number(),
            device.address()
        ));
        let (outcome, serial, manufacturer, product) = match device.open() {
            Ok(h) => {
                let kernel_driver = (0..interfaces.len() as u8)
                    .find(|&n| h.kernel_driver_active(n).unwrap_or(false))
                    .map(|n| sysfs_driver(&port_path, n).unwrap_or_else(|| "unknown".into()));
                (
                    OpenOutcome::Opened { kernel_driver },
                    h.read_serial_number_string_ascii(&desc).ok(),
                    h.read_manufacturer_string_ascii(&desc).ok(),
                    h.read_product_string_ascii(&desc).ok(),
                )
            }
            Err(e) => (outcome_of_error(e), None, None, None),
        };
        let access = access_of(&outcome, crate::discover::holder_of(&devnode));
        out.push(UsbDeviceEntry {
            bus: device.bus_number(),
            address: device.address(),
            port_path,
            vid: desc.vendor_id(),
            pid: desc.product_id(),
            serial,
            manufacturer,
            product,
            interfaces,
            devnode,
            access,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_maps_each_open_outcome_to_what_a_technician_can_act_on() {
        let ok = OpenOutcome::Opened {
            kernel_driver: None,
        };
        assert_eq!(access_of(&ok, None), Access::Accessible);
        match access_of(&OpenOutcome::PermissionDenied, None) {
            Access::PermissionDenied { fix } => {
                assert!(
                    fix.contains("udev rules") && fix.contains("replug"),
                    "{fix}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            access_of(&ok, Some("fprintd (pid 812)".into())),
            Access::Busy {
                held_by: Some("fprintd (pid 812)".into())
            },
            "another program holding the node makes it busy even when libusb opens it"
        );
        assert_eq!(
            access_of(&OpenOutcome::Busy, None),
            Access::Busy { held_by: None }
        );
        assert_eq!(
            access_of(
                &OpenOutcome::Opened {
                    kernel_driver: Some("usb-storage".into())
                },
                None
            ),
            Access::Busy {
                held_by: Some("kernel driver usb-storage".into())
            }
        );
        assert_eq!(
            access_of(&OpenOutcome::Failed("I/O error".into()), None),
            Access::Unavailable {
                reason: "I/O error".into()
            }
        );
    }

    #[test]
    fn libusb_open_errors_become_outcomes() {
        assert_eq!(
            outcome_of_error(rusb::Error::Access),
            OpenOutcome::PermissionDenied
        );
        assert_eq!(outcome_of_error(rusb::Error::Busy), OpenOutcome::Busy);
        assert!(matches!(
            outcome_of_error(rusb::Error::NoDevice),
            OpenOutcome::Failed(_)
        ));
    }

    #[test]
    fn listing_works_or_fails_cleanly_without_a_usb_stack() {
        // Either outcome is checked: a listing where the machine has a USB bus, a clear error
        // value (not a panic) where it has none, as in a CI container. A recorded device is
        // listed through this code under umockdev in tests/devices_cli.rs.
        match list_devices(|_, _, _| true) {
            Ok(found) => {
                for d in found {
                    assert!(d.devnode.starts_with("/dev/bus/usb"), "{d:?}");
                }
            }
            Err(e) => crate::usb::rusb_link::tests::assert_no_usb_stack(&e),
        }
    }
}

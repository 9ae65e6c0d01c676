//! Serial ports and their USB identities read from sysfs, with no libudev.
//!
//! `jemput devices`, the registry's `VID:PID[:SERIAL]` and `usb:<port>` selectors, replug and the
//! doctor need, for every serial port, the USB device behind it (vendor and product id, serial
//! number, manufacturer and product strings, the port path, the interface number). The kernel
//! publishes all of it in sysfs, so it is read here directly rather than through libudev, which
//! would need `libudev-dev` and pkg-config at build time and `libudev.so.1` at run time.
//!
//! # The sysfs layout relied on, and where it is documented
//!
//! * **`/sys/class/tty/<name>`** is a link to the tty's device directory under `/sys/devices/`
//!   (sysfs-rules: "classification by subsystem": `/sys/class` holds symlinks to the unified
//!   `/sys/devices` tree). A tty with a parent device (a UART, a USB-serial adapter, a CDC-ACM
//!   function) also has a `device` link; virtual ttys (`tty0`, `console`, `ptmx`) live under
//!   `/sys/devices/virtual/` and have none, and ptys are not in `/sys/class/tty` at all.
//! * **`uevent`** in a device directory holds `KEY=value` lines; `DEVNAME` is the node's name
//!   under `/dev` (Linux `Documentation/ABI/testing/sysfs-uevent` and the kernel's
//!   `drivers/base/core.c`, which adds `DEVNAME` for devices with a node).
//! * **Walking up**: a parent device is found by walking up the resolved directory until a
//!   directory whose **`subsystem`** link ends in the wanted subsystem, never by a fixed number of
//!   `../` (Linux `Documentation/admin-guide/sysfs-rules.rst`, "Position of devices along device
//!   chain can change" and "subsystem … retrieved by reading the subsystem-link and using only
//!   the last element of the target path"; the same for **`driver`**).
//! * **USB devices and interfaces** are both in subsystem `usb`. A device directory is named
//!   `<bus>-<port>[.<port>…]` (`1-2.3`: bus 1, port 3 of the hub on port 2, the name `usb:`
//!   selectors take) and has `idVendor`, `idProduct` (4 hex digits), and `manufacturer`,
//!   `product` and `serial` when the device has those string descriptors (absent otherwise); an
//!   interface directory is named `<device>:<config>.<interface>` (`1-2.3:1.0`) and has
//!   `bInterfaceNumber` (2 hex digits). Sources: Linux `drivers/usb/core/sysfs.c` (the attribute
//!   files and their formats), `Documentation/ABI/stable/sysfs-bus-usb` and
//!   `Documentation/ABI/testing/sysfs-bus-usb` (`/sys/bus/usb/devices/<busnum>-<port[.port]>…:
//!   <config num>-<interface num>/…`), and *Linux Device Drivers*, 3rd ed., ch. 13, "USB and
//!   Sysfs" (`root_hub-hub_port:config.interface`).
//! * **Where a serial port hangs**: a USB-serial adapter's tty (`ttyUSB0`, driver `ftdi_sio`,
//!   `cp210x`, `ch341`, `pl2303`…) sits under a `usb-serial` device (`ttyUSB0`) under the USB
//!   interface: `…/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0`; a CDC-ACM tty (`ttyACM0`) sits directly under
//!   the interface: `…/1-3/1-3:1.0/tty/ttyACM0`. A built-in UART (`ttyS0`) sits under a platform,
//!   PNP or PCI device, on kernels since 6.5 with a `serial-base` port device in between
//!   (`…/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0`), and has no USB ancestor.
//! * **PNP ids**: a PNP device (subsystem `pnp`) has an `id` file, one id a line (`PNP0501`,
//!   `WACf004`; Linux `drivers/pnp/interface.c`).
//!
//! What libudev added and this reader does not: udev's `ID_SERIAL_SHORT` replaces whitespace and
//! unusual characters in the serial number with `_`, and falls back to the hardware database for
//! a manufacturer or product a device does not report. Here the serial number is the device's own
//! (trimmed), and a missing string stays missing.
//!
//! Every function takes the sysfs root (and `/dev`), so tests run on a fake tree in a temp dir.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

/// The USB identity of a USB-serial adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UsbIdentity {
    /// Vendor id, 4 lowercase hex digits.
    pub vid: String,
    /// Product id, 4 lowercase hex digits.
    pub pid: String,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
}

/// One serial port as sysfs shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtyPort {
    /// The kernel name, e.g. `ttyUSB0`.
    pub name: String,
    /// The device node, e.g. `/dev/ttyUSB0` (`DEVNAME` from `uevent`, under the dev root).
    pub devnode: PathBuf,
    /// The driver of the tty's parent device (`ftdi_sio`, `cdc_acm`, `serial8250`, `port`).
    pub driver: Option<String>,
    /// The USB device the port belongs to, when it is on USB.
    pub usb: Option<UsbTty>,
    /// The ids of the PNP device the port belongs to (a built-in port), else empty.
    pub pnp_ids: Vec<String>,
}

/// The USB side of a serial port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbTty {
    pub identity: UsbIdentity,
    /// The USB device's port path (`1-2.3`), its sysfs name.
    pub port_path: String,
    /// `bInterfaceNumber` of the interface the tty belongs to (several on a dual-port adapter).
    pub interface: Option<u8>,
}

/// Every serial port under `<sys>/class/tty`: each tty with a parent device (a `device` link) or
/// a Bluetooth `rfcomm` tty, whose node exists under `dev`, sorted by name. Virtual consoles and
/// other parentless ttys are left out, as libudev-based listings leave them out.
pub fn tty_ports(sys: &Path, dev: &Path) -> Vec<TtyPort> {
    let Ok(entries) = std::fs::read_dir(sys.join("class/tty")) else {
        return Vec::new();
    };
    let mut ports: Vec<TtyPort> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let class_dir = e.path();
            if !class_dir.join("device").exists() && !name.starts_with("rfcomm") {
                return None;
            }
            let port = tty_port(sys, dev, &name)?;
            port.devnode.exists().then_some(port)
        })
        .collect();
    ports.sort_by(|a, b| a.name.cmp(&b.name));
    ports
}

/// What sysfs says of the tty `name` (`ttyUSB0`), whether or not its node exists; `None` when
/// sysfs has no such tty.
pub fn tty_port(sys: &Path, dev: &Path, name: &str) -> Option<TtyPort> {
    let class_dir = sys.join("class/tty").join(name);
    let dir = device_dir(&class_dir)?;
    let devnode = dev.join(uevent_value(&dir, "DEVNAME").unwrap_or_else(|| name.to_string()));
    let driver =
        ancestor(&dir, |d| d.join("subsystem").exists()).and_then(|p| link_name(&p.join("driver")));
    let usb = usb_of(&dir);
    let pnp_ids = ancestor(&dir, |d| subsystem(d).as_deref() == Some("pnp"))
        .map(|d| pnp_ids(&d))
        .unwrap_or_default();
    Some(TtyPort {
        name: name.to_string(),
        devnode,
        driver,
        usb,
        pnp_ids,
    })
}

/// The tty's real device directory: the class entry resolved, or its parent's through the
/// `device` link when the entry does not resolve into `devices/` (sysfs-rules: the one valid use
/// of that link), with the tty's own name appended.
fn device_dir(class_dir: &Path) -> Option<PathBuf> {
    let resolved = std::fs::canonicalize(class_dir).ok()?;
    if resolved.components().any(|c| c.as_os_str() == "devices") {
        return Some(resolved);
    }
    let parent = std::fs::canonicalize(class_dir.join("device")).ok()?;
    Some(parent.join(class_dir.file_name()?))
}

/// The USB identity of the device a tty's directory belongs to: the nearest ancestor in subsystem
/// `usb` with `idVendor` is the USB device, the nearest with `bInterfaceNumber` its interface.
fn usb_of(dir: &Path) -> Option<UsbTty> {
    let is_usb = |d: &Path| subsystem(d).as_deref() == Some("usb");
    let device = ancestor(dir, |d| is_usb(d) && d.join("idVendor").exists())?;
    let vid = hex_attr(&device, "idVendor").and_then(|v| u16::from_str_radix(&v, 16).ok())?;
    let pid = hex_attr(&device, "idProduct").and_then(|v| u16::from_str_radix(&v, 16).ok())?;
    let interface = ancestor(dir, |d| is_usb(d) && d.join("bInterfaceNumber").exists())
        .filter(|i| i.starts_with(&device))
        .and_then(|i| hex_attr(&i, "bInterfaceNumber"))
        .and_then(|n| u8::from_str_radix(&n, 16).ok());
    Some(UsbTty {
        identity: UsbIdentity {
            vid: format!("{vid:04x}"),
            pid: format!("{pid:04x}"),
            serial: attr(&device, "serial"),
            manufacturer: attr(&device, "manufacturer"),
            product: attr(&device, "product"),
        },
        port_path: device.file_name()?.to_str()?.to_string(),
        interface,
    })
}

/// The nearest of `dir`'s ancestors (not `dir` itself) for which `wanted` holds, stopping at the
/// top of the device tree (a directory with no `subsystem` link ends nothing: bridges like
/// `usb1`'s parent PCI device have one, and plain directories are skipped over).
fn ancestor(dir: &Path, wanted: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let mut at = dir.parent();
    while let Some(d) = at {
        if d.file_name().is_none_or(|n| n == "devices") {
            return None;
        }
        if wanted(d) {
            return Some(d.to_path_buf());
        }
        at = d.parent();
    }
    None
}

/// The last element of the `subsystem` link of a device directory.
fn subsystem(dir: &Path) -> Option<String> {
    link_name(&dir.join("subsystem"))
}

/// The last element of a link's target (`driver`, `subsystem`).
fn link_name(link: &Path) -> Option<String> {
    let target = std::fs::read_link(link).ok()?;
    Some(target.file_name()?.to_string_lossy().into_owned())
}

/// An attribute's text, trimmed; `None` when the file is missing, unreadable or empty.
fn attr(dir: &Path, name: &str) -> Option<String> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// A hex attribute (`idVendor`, `bInterfaceNumber`): its text if it is all hex digits.
fn hex_attr(dir: &Path, name: &str) -> Option<String> {
    attr(dir, name).filter(|v| v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A `KEY=value` line of a device's `uevent` file.
fn uevent_value(dir: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("uevent")).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k == key && !v.is_empty()).then(|| v.to_string())
    })
}

/// The ids in a PNP device's `id` file, one a line.
fn pnp_ids(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("id"))
        .map(|s| {
            s.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A fake sysfs and /dev in a temp dir, built the way the kernel lays them out.
    struct FakeSys {
        _tmp: tempfile::TempDir,
        sys: PathBuf,
        dev: PathBuf,
    }

    impl FakeSys {
        fn new() -> Self {
            let tmp = tempfile::tempdir().unwrap();
            let sys = tmp.path().join("sys");
            let dev = tmp.path().join("dev");
            for d in [
                "class/tty",
                "bus/usb",
                "bus/usb-serial",
                "bus/pnp",
                "bus/platform",
                "bus/serial-base",
                "bus/pci",
                "bus/usb/drivers/ftdi_sio",
                "bus/usb/drivers/cdc_acm",
                "bus/usb-serial/drivers/ftdi_sio",
                "bus/serial-base/drivers/port",
                "bus/pnp/drivers/serial",
            ] {
                std::fs::create_dir_all(sys.join(d)).unwrap();
            }
            std::fs::create_dir_all(&dev).unwrap();
            FakeSys {
                _tmp: tmp,
                sys,
                dev,
            }
        }

        /// A device directory under `devices/` in `subsystem`, with attribute files.
        fn device(&self, path: &str, subsystem: &str, attrs: &[(&str, &str)]) -> PathBuf {
            let dir = self.sys.join("devices").join(path);
            std::fs::create_dir_all(&dir).unwrap();
            let class_or_bus = if subsystem == "tty" {
                "class/tty".to_string()
            } else {
                format!("bus/{subsystem}")
            };
            symlink(self.sys.join(class_or_bus), dir.join("subsystem")).unwrap();
            for (name, value) in attrs {
                std::fs::write(dir.join(name), value).unwrap();
            }
            dir
        }

        fn driver(&self, dir: &Path, bus: &str, driver: &str) {
            symlink(
                self.sys.join("bus").join(bus).join("drivers").join(driver),
                dir.join("driver"),
            )
            .unwrap();
        }

        /// The tty `name` under `parent` (a path under `devices/`), its class link, its `device`
        /// link to `parent`, and its node under /dev.
        fn tty(&self, parent: &str, name: &str) {
            let dir = self.device(
                &format!("{parent}/tty/{name}"),
                "tty",
                &[("uevent", &format!("MAJOR=188\nMINOR=0\nDEVNAME={name}\n"))],
            );
            symlink(self.sys.join("devices").join(parent), dir.join("device")).unwrap();
            symlink(&dir, self.sys.join("class/tty").join(name)).unwrap();
            std::fs::write(self.dev.join(name), "").unwrap();
        }

        /// A USB device `port` (e.g. `1-2`) on the xHCI controller, with its attributes.
        fn usb_device(&self, port: &str, attrs: &[(&str, &str)]) -> String {
            if !self.sys.join("devices/pci0000:00").exists() {
                self.device("pci0000:00/0000:00:14.0", "pci", &[]);
                self.device(
                    "pci0000:00/0000:00:14.0/usb1",
                    "usb",
                    &[("idVendor", "1d6b\n"), ("idProduct", "0003\n")],
                );
            }
            let path = format!("pci0000:00/0000:00:14.0/usb1/{port}");
            self.device(&path, "usb", attrs);
            path
        }
    }

    fn ftdi_attrs() -> Vec<(&'static str, &'static str)> {
        vec![
            ("idVendor", "0403\n"),
            ("idProduct", "6001\n"),
            ("serial", "A6008isP\n"),
            ("manufacturer", "FTDI\n"),
            ("product", "FT232R USB UART\n"),
            ("busnum", "1\n"),
            ("devpath", "2\n"),
        ]
    }

    #[test]
    fn a_ttyusb_under_a_usb_serial_interface_has_the_usb_devices_identity() {
        let fake = FakeSys::new();
        let device = fake.usb_device("1-2", &ftdi_attrs());
        let interface = format!("{device}/1-2:1.0");
        let iface_dir = fake.device(&interface, "usb", &[("bInterfaceNumber", "00\n")]);
        fake.driver(&iface_dir, "usb", "ftdi_sio");
        let serial_dev = fake.device(&format!("{interface}/ttyUSB0"), "usb-serial", &[]);
        fake.driver(&serial_dev, "usb-serial", "ftdi_sio");
        fake.tty(&format!("{interface}/ttyUSB0"), "ttyUSB0");

        let ports = tty_ports(&fake.sys, &fake.dev);
        assert_eq!(
            ports,
            vec![TtyPort {
                name: "ttyUSB0".into(),
                devnode: fake.dev.join("ttyUSB0"),
                driver: Some("ftdi_sio".into()),
                usb: Some(UsbTty {
                    identity: UsbIdentity {
                        vid: "0403".into(),
                        pid: "6001".into(),
                        serial: Some("A6008isP".into()),
                        manufacturer: Some("FTDI".into()),
                        product: Some("FT232R USB UART".into()),
                    },
                    port_path: "1-2".into(),
                    interface: Some(0),
                }),
                pnp_ids: vec![],
            }]
        );
    }

    #[test]
    fn a_ttyacm_under_a_cdc_acm_interface_behind_a_hub_has_its_port_path_and_interface() {
        let fake = FakeSys::new();
        // A hub on port 3, the device on the hub's port 4: `1-3.4`; the data tty on interface 2
        // (a composite device whose first interfaces are something else).
        fake.usb_device("1-3", &[("idVendor", "05e3\n"), ("idProduct", "0610\n")]);
        let device = fake.device(
            "pci0000:00/0000:00:14.0/usb1/1-3/1-3.4",
            "usb",
            &[
                ("idVendor", "2341\n"),
                ("idProduct", "8036\n"),
                ("manufacturer", "Arduino LLC\n"),
                ("product", "Arduino Leonardo\n"),
            ],
        );
        let iface = device.join("1-3.4:1.2");
        std::fs::create_dir_all(&iface).unwrap();
        symlink(fake.sys.join("bus/usb"), iface.join("subsystem")).unwrap();
        std::fs::write(iface.join("bInterfaceNumber"), "02\n").unwrap();
        fake.driver(&iface, "usb", "cdc_acm");
        fake.tty(
            "pci0000:00/0000:00:14.0/usb1/1-3/1-3.4/1-3.4:1.2",
            "ttyACM0",
        );

        let port = tty_port(&fake.sys, &fake.dev, "ttyACM0").unwrap();
        assert_eq!(port.driver.as_deref(), Some("cdc_acm"));
        let usb = port.usb.expect("a USB identity");
        assert_eq!(
            usb.port_path, "1-3.4",
            "the device's own port, not the hub's"
        );
        assert_eq!(usb.interface, Some(2));
        assert_eq!(
            usb.identity,
            UsbIdentity {
                vid: "2341".into(),
                pid: "8036".into(),
                serial: None,
                manufacturer: Some("Arduino LLC".into()),
                product: Some("Arduino Leonardo".into()),
            }
        );
    }

    #[test]
    fn a_built_in_uart_has_no_usb_identity_and_its_pnp_ids_come_from_the_pnp_ancestor() {
        let fake = FakeSys::new();
        // A kernel with serial-base port devices between the PNP device and the tty (6.5+).
        fake.device("pnp0/00:00", "pnp", &[("id", "PNP0501\n")]);
        fake.device("pnp0/00:00/00:00:0", "serial-base", &[]);
        let port_dev = fake.device("pnp0/00:00/00:00:0/00:00:0.0", "serial-base", &[]);
        fake.driver(&port_dev, "serial-base", "port");
        fake.tty("pnp0/00:00/00:00:0/00:00:0.0", "ttyS0");
        // A TabletPC digitizer on an older kernel: the tty straight under the PNP device.
        let pen = fake.device("pnp0/00:05", "pnp", &[("id", "WACf004\nPNP0501\n")]);
        fake.driver(&pen, "pnp", "serial");
        fake.tty("pnp0/00:05", "ttyS4");

        let ports = tty_ports(&fake.sys, &fake.dev);
        let names: Vec<_> = ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ttyS0", "ttyS4"]);
        assert_eq!(ports[0].usb, None);
        assert_eq!(ports[0].driver.as_deref(), Some("port"));
        assert_eq!(ports[0].pnp_ids, ["PNP0501"]);
        assert_eq!(ports[1].usb, None);
        assert_eq!(ports[1].driver.as_deref(), Some("serial"));
        assert_eq!(ports[1].pnp_ids, ["WACf004", "PNP0501"]);
    }

    #[test]
    fn missing_string_attributes_are_none_and_a_device_without_ids_is_not_usb() {
        let fake = FakeSys::new();
        // No serial, an empty manufacturer, no product: the ids alone.
        let device = fake.usb_device(
            "1-5",
            &[
                ("idVendor", "1A86\n"),
                ("idProduct", "7523\n"),
                ("manufacturer", "\n"),
            ],
        );
        let iface = format!("{device}/1-5:1.0");
        fake.device(&iface, "usb", &[("bInterfaceNumber", "00\n")]);
        fake.device(&format!("{iface}/ttyUSB1"), "usb-serial", &[]);
        fake.tty(&format!("{iface}/ttyUSB1"), "ttyUSB1");
        // A USB device whose idProduct is missing (a device going away mid-read): no identity.
        let broken = fake.usb_device("1-6", &[("idVendor", "0403\n")]);
        let iface = format!("{broken}/1-6:1.0");
        fake.device(&iface, "usb", &[("bInterfaceNumber", "zz\n")]);
        fake.device(&format!("{iface}/ttyUSB2"), "usb-serial", &[]);
        fake.tty(&format!("{iface}/ttyUSB2"), "ttyUSB2");

        let ports = tty_ports(&fake.sys, &fake.dev);
        assert_eq!(ports.len(), 2);
        let ch340 = ports[0].usb.as_ref().expect("identified by its ids alone");
        assert_eq!(
            ch340.identity.vid, "1a86",
            "lowercase, as selectors print it"
        );
        assert_eq!(ch340.identity.pid, "7523");
        assert_eq!(ch340.identity.serial, None);
        assert_eq!(ch340.identity.manufacturer, None);
        assert_eq!(ch340.identity.product, None);
        assert_eq!(ch340.interface, Some(0));
        assert_eq!(ports[1].name, "ttyUSB2");
        assert_eq!(ports[1].usb, None);
    }

    #[test]
    fn virtual_ttys_nodes_missing_from_dev_and_unknown_names_are_left_out() {
        let fake = FakeSys::new();
        // tty0: a virtual console, no parent device.
        let vt = fake.device(
            "virtual/tty/tty0",
            "tty",
            &[("uevent", "MAJOR=4\nMINOR=0\nDEVNAME=tty0\n")],
        );
        symlink(&vt, fake.sys.join("class/tty/tty0")).unwrap();
        std::fs::write(fake.dev.join("tty0"), "").unwrap();
        // ttyS1: a UART sysfs knows but whose node is not in this /dev.
        fake.device("platform/serial8250", "platform", &[]);
        fake.tty("platform/serial8250", "ttyS1");
        std::fs::remove_file(fake.dev.join("ttyS1")).unwrap();

        assert_eq!(tty_ports(&fake.sys, &fake.dev), vec![]);
        assert!(tty_port(&fake.sys, &fake.dev, "ttyUSB9").is_none());
        assert!(tty_ports(&fake.sys.join("nothing"), &fake.dev).is_empty());
    }

    #[test]
    fn the_node_is_named_by_devname() {
        let fake = FakeSys::new();
        fake.device("platform/soc-uart", "platform", &[]);
        fake.tty("platform/soc-uart", "ttyAMA0");
        let dir = fake.sys.join("devices/platform/soc-uart/tty/ttyAMA0");
        std::fs::write(
            dir.join("uevent"),
            "MAJOR=204\nMINOR=64\nDEVNAME=serial/ama0\n",
        )
        .unwrap();
        std::fs::create_dir_all(fake.dev.join("serial")).unwrap();
        std::fs::write(fake.dev.join("serial/ama0"), "").unwrap();
        let ports = tty_ports(&fake.sys, &fake.dev);
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0].devnode, fake.dev.join("serial/ama0"));
    }
}

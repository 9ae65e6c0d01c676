//! Finding serial devices: every port the OS knows, with its USB identity and whether this user
//! can open it — and if not, why and what to do.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use crate::transport::{LinkError, PortLink};
pub use crate::tty_sysfs::UsbIdentity;
use crate::tty_sysfs::{self, TtyPort};

/// Whether a device can be opened by this user now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Access {
    Accessible,
    PermissionDenied {
        /// What to do about it.
        fix: String,
    },
    Busy {
        /// The process holding it, when it can be seen (`/proc/<pid>/fd`).
        held_by: Option<String>,
    },
    /// Any other failure to open, with the OS message.
    Unavailable {
        reason: String,
    },
}

/// One serial port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SerialPortInfo {
    /// The tty path, e.g. `/dev/ttyUSB0`.
    pub path: PathBuf,
    /// Present for USB-serial adapters.
    pub usb: Option<UsbIdentity>,
    pub access: Access,
}

/// Every serial port the OS reports, with access checked by opening it briefly.
pub fn serial_ports() -> Vec<SerialPortInfo> {
    port_identities()
        .into_iter()
        .map(|p| {
            let access = check_access(&p.devnode);
            SerialPortInfo {
                path: p.devnode,
                usb: p.usb.map(|u| u.identity),
                access,
            }
        })
        .collect()
}

/// Every serial port the OS reports with its USB identity, USB port path and PNP ids, read from
/// sysfs ([`tty_sysfs`]), without opening any of them (for resolving a selector: opening a port
/// can reset the board behind it) — except a `serial8250` placeholder port, which is opened to
/// see whether a UART is there at all (a legacy PC has 4 to 32 of them, mostly empty).
pub fn port_identities() -> Vec<TtyPort> {
    tty_sysfs::tty_ports(Path::new("/sys"), Path::new("/dev"))
        .into_iter()
        .filter(|p| {
            p.driver.as_deref() != Some("serial8250") || PortLink::open(&p.devnode, 9600).is_ok()
        })
        .collect()
}

/// The USB port in a sysfs device path: the last component shaped like `1-2.3` (bus, then the
/// port chain), as in `/sys/devices/pci0000:00/…/usb1/1-2/1-2.3/1-2.3:1.0/ttyUSB0`.
pub fn usb_port_in_sysfs_path(device: &Path) -> Option<String> {
    device.components().rev().find_map(|c| {
        let s = c.as_os_str().to_str()?;
        let (bus, ports) = s.split_once('-')?;
        let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        (digits(bus) && ports.split('.').all(digits)).then(|| s.to_string())
    })
}

/// Opens `path` briefly to see whether this user can use it.
pub fn check_access(path: &Path) -> Access {
    match PortLink::open(path, 9600) {
        Ok(_) => Access::Accessible,
        Err(LinkError::PermissionDenied(_)) => Access::PermissionDenied {
            fix: permission_fix(path),
        },
        Err(LinkError::Busy(_)) => Access::Busy {
            held_by: holder_of(path),
        },
        Err(e) => Access::Unavailable {
            reason: e.to_string(),
        },
    }
}

/// What to do when a tty is not accessible: the group that owns it, or jemput's udev rules.
pub fn permission_fix(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let group = std::fs::metadata(path)
        .ok()
        .and_then(|m| group_name(m.gid()));
    match group {
        Some(g) => format!(
            "add the operator to the `{g}` group (`sudo usermod -aG {g} $USER`, then log in again), \
             or install jemput's udev rules (udev/) for seat access"
        ),
        None => "install jemput's udev rules (udev/) or add the operator to the `dialout` group".into(),
    }
}

pub(crate) fn group_name(gid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _ = f.next();
        (f.next()?.parse::<u32>().ok()? == gid).then(|| name.to_string())
    })
}

/// The process (`name (pid N)`) that has `path` open, found through `/proc/<pid>/fd`.
pub fn holder_of(path: &Path) -> Option<String> {
    let target = std::fs::canonicalize(path).ok()?;
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).ok().as_deref() == Some(target.as_path()) {
                let name = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                return Some(format!("{} (pid {pid})", name.trim()));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serialport::SerialPort;

    #[test]
    fn an_open_pty_is_busy_and_the_holder_is_named_when_visible() {
        let (_master, slave) = serialport::TTYPort::pair().unwrap();
        let name = slave.name().unwrap();
        drop(slave);
        let held = PortLink::open(Path::new(&name), 9600).unwrap();
        // serialport opens ports exclusively: a second open is refused as busy.
        match check_access(Path::new(&name)) {
            Access::Busy { held_by } => {
                // We hold it ourselves, and holder_of skips our own pid.
                assert_eq!(held_by, None);
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        assert_eq!(check_access(Path::new(&name)), Access::Accessible);
    }

    #[test]
    fn a_missing_port_is_unavailable_with_the_reason() {
        match check_access(Path::new("/dev/ttyUSB-jemput-none")) {
            Access::Unavailable { reason } => {
                assert!(reason.contains("does not exist"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_usb_port_is_read_from_the_sysfs_device_path() {
        let usb =
            Path::new("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2.3/1-2.3:1.0/ttyUSB0");
        assert_eq!(usb_port_in_sysfs_path(usb).as_deref(), Some("1-2.3"));
        let acm = Path::new("/sys/devices/pci0000:00/0000:00:14.0/usb3/3-1/3-1:1.0");
        assert_eq!(usb_port_in_sysfs_path(acm).as_deref(), Some("3-1"));
        let builtin = Path::new("/sys/devices/pnp0/00:05/tty/ttyS4");
        assert_eq!(usb_port_in_sysfs_path(builtin), None);
    }

    #[test]
    fn the_permission_fix_names_the_owning_group() {
        // /dev/null is owned by root's group on every Linux; the fix names a group or the rules.
        let fix = permission_fix(Path::new("/dev/null"));
        assert!(fix.contains("group") || fix.contains("udev"), "{fix}");
    }
}

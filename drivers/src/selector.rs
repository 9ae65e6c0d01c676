//! How a technician names a device on the command line.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A device selector: `VID:PID[:SERIAL]`, a USB port path (`usb:1-2.3`), a tty path (`/dev/ttyUSB0`),
/// `v4l2:/dev/videoN` (or a bare `/dev/videoN`, `/dev/v4l/…`) for a V4L2 camera, or
/// `sim:<model>[:<n>]` for a device model started in-process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    UsbId {
        vid: u16,
        pid: u16,
        serial: Option<String>,
    },
    /// USB bus-port path as in sysfs, e.g. `1-2.3`.
    UsbPort(String),
    Tty(PathBuf),
    /// A V4L2 video node (UVC webcam), e.g. `/dev/video0`.
    V4l2(PathBuf),
    Sim {
        model: String,
        index: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a device selector: {input:?} ({why}); use VID:PID[:SERIAL], usb:<port path>, a /dev path, v4l2:/dev/videoN, or sim:<model>[:<n>]")]
pub struct SelectorError {
    pub input: String,
    pub why: &'static str,
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| SelectorError {
            input: s.to_string(),
            why,
        };
        if let Some(rest) = s.strip_prefix("sim:") {
            let (model, index) = match rest.split_once(':') {
                Some((m, n)) => (m, n.parse().map_err(|_| err("index is not a number"))?),
                None => (rest, 0),
            };
            if model.is_empty() {
                return Err(err("empty model name"));
            }
            return Ok(Selector::Sim {
                model: model.to_string(),
                index,
            });
        }
        if let Some(port) = s.strip_prefix("usb:") {
            let ok = !port.is_empty()
                && port
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '.');
            return if ok {
                Ok(Selector::UsbPort(port.to_string()))
            } else {
                Err(err("a USB port path looks like 1-2.3"))
            };
        }
        if let Some(node) = s.strip_prefix("v4l2:") {
            return if node.starts_with('/') {
                Ok(Selector::V4l2(PathBuf::from(node)))
            } else {
                Err(err("a V4L2 node is a path, e.g. v4l2:/dev/video0"))
            };
        }
        if s.starts_with('/') {
            let path = PathBuf::from(s);
            if crate::v4l2::is_video_path(&path) {
                return Ok(Selector::V4l2(path));
            }
            return Ok(Selector::Tty(path));
        }
        let mut parts = s.splitn(3, ':');
        let (Some(v), Some(p)) = (parts.next(), parts.next()) else {
            return Err(err("unrecognised form"));
        };
        let hex16 = |x: &str| {
            if x.len() == 4 {
                u16::from_str_radix(x, 16).ok()
            } else {
                None
            }
        };
        let (Some(vid), Some(pid)) = (hex16(v), hex16(p)) else {
            return Err(err("VID and PID are 4 hex digits each"));
        };
        let serial = parts.next().map(str::to_string);
        if serial.as_deref() == Some("") {
            return Err(err("empty serial"));
        }
        Ok(Selector::UsbId { vid, pid, serial })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::UsbId { vid, pid, serial } => {
                write!(f, "{vid:04x}:{pid:04x}")?;
                if let Some(s) = serial {
                    write!(f, ":{s}")?;
                }
                Ok(())
            }
            Selector::UsbPort(p) => write!(f, "usb:{p}"),
            Selector::Tty(p) => write!(f, "{}", p.display()),
            Selector::V4l2(p) => write!(f, "v4l2:{}", p.display()),
            Selector::Sim { model, index } => write!(f, "sim:{model}:{index}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_round_trips() {
        for (input, shown) in [
            ("05ba:000a", "05ba:000a"),
            ("05BA:000A:ABC123", "05ba:000a:ABC123"),
            ("usb:1-2.3", "usb:1-2.3"),
            ("/dev/ttyUSB0", "/dev/ttyUSB0"),
            ("sim:ef01", "sim:ef01:0"),
            ("sim:ef01:2", "sim:ef01:2"),
            ("v4l2:/dev/video0", "v4l2:/dev/video0"),
            ("/dev/video2", "v4l2:/dev/video2"),
            (
                "/dev/v4l/by-id/usb-cam-index0",
                "v4l2:/dev/v4l/by-id/usb-cam-index0",
            ),
        ] {
            let sel: Selector = input.parse().unwrap();
            assert_eq!(sel.to_string(), shown);
            assert_eq!(shown.parse::<Selector>().unwrap(), sel);
        }
    }

    #[test]
    fn rejects_malformed_selectors_with_reason() {
        for bad in [
            "",
            "5ba:a",
            "zzzz:0001",
            "usb:",
            "usb:abc",
            "sim:",
            "sim:x:y",
            "05ba:000a:",
            "v4l2:video0",
        ] {
            let e = bad.parse::<Selector>().unwrap_err();
            assert_eq!(e.input, bad);
            assert!(e.to_string().contains("VID:PID"), "{e}");
        }
    }
}

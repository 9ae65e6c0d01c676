//! V4L2 nodes for `jemput devices`: every `/sys/class/video4linux/video*` node, opened briefly
//! (V4L2 allows several opens; nothing streams) for its capabilities and formats, with its
//! access status. The registry lists those the V4L2 factory recognises (not a UVC camera's
//! metadata node); a node this user cannot open is listed with the reason.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use super::driver::{self, NodeCaps};
use super::error::V4l2Error;
use super::format::FormatInfo;
use crate::discover::{self, Access};

/// What `jemput devices` shows of a V4L2 node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct V4l2Node {
    /// The node's name in sysfs, e.g. `vivid-000-vid-cap` or the webcam's product name.
    pub name: String,
    /// The kernel driver (`uvcvideo`, `vivid`), when known.
    pub driver: Option<String>,
    /// The card name QUERYCAP reports (when the node could be opened).
    pub card: Option<String>,
    /// Where the device sits (`usb-0000:00:14.0-2`, `platform:vivid-000`).
    pub bus_info: Option<String>,
    /// Whether it is a streaming video capture node (`None`: it could not be opened).
    pub capture: Option<bool>,
    /// The node's capabilities in words.
    pub capabilities: Option<String>,
    /// Its capture formats with their frame sizes, in the driver's order.
    pub formats: Vec<FormatInfo>,
}

/// One node as found in sysfs, before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysfsNode {
    pub dev: PathBuf,
    pub name: String,
    pub driver: Option<String>,
    pub usb_port: Option<String>,
}

/// The `video*` nodes under a `video4linux` class directory, sorted by number.
pub fn sysfs_nodes(class_dir: &Path, dev_dir: &Path) -> Vec<SysfsNode> {
    let Ok(entries) = std::fs::read_dir(class_dir) else {
        return Vec::new();
    };
    let mut nodes: Vec<(u32, SysfsNode)> = entries
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let n: u32 = file.strip_prefix("video")?.parse().ok()?;
            let dir = e.path();
            let name = std::fs::read_to_string(dir.join("name"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            let driver = std::fs::read_link(dir.join("device/driver"))
                .ok()
                .and_then(|l| l.file_name().map(|f| f.to_string_lossy().into_owned()));
            let usb_port = std::fs::canonicalize(dir.join("device"))
                .ok()
                .and_then(|d| discover::usb_port_in_sysfs_path(&d));
            Some((
                n,
                SysfsNode {
                    dev: dev_dir.join(&file),
                    name,
                    driver,
                    usb_port,
                },
            ))
        })
        .collect();
    nodes.sort_by_key(|(n, _)| *n);
    nodes.into_iter().map(|(_, n)| n).collect()
}

/// Opens a node briefly: its capabilities, formats and whether this user can use it.
pub fn probe(node: &SysfsNode) -> (V4l2Node, Access) {
    let mut out = V4l2Node {
        name: node.name.clone(),
        driver: node.driver.clone(),
        card: None,
        bus_info: None,
        capture: None,
        capabilities: None,
        formats: Vec::new(),
    };
    let fd = match driver::open_node(&node.dev) {
        Ok(fd) => fd,
        Err(e) => return (out, access_of(e)),
    };
    let caps: NodeCaps = match driver::query_caps(&fd, &node.dev) {
        Ok(c) => c,
        Err(e) => return (out, access_of(e)),
    };
    let capture = driver::check_caps(&node.dev, &caps).is_ok();
    out.driver = out.driver.or(Some(caps.driver.clone()));
    out.card = Some(caps.card.clone());
    out.bus_info = Some(caps.bus_info.clone());
    out.capture = Some(capture);
    out.capabilities = Some(caps.describe());
    if capture {
        match driver::enum_formats(&fd, &node.dev) {
            Ok(f) => out.formats = f,
            Err(e) => return (out, access_of(e)),
        }
    }
    let access = if capture && driver::queue_busy(&fd) {
        Access::Busy {
            held_by: discover::holder_of(&node.dev),
        }
    } else {
        Access::Accessible
    };
    (out, access)
}

fn access_of(e: V4l2Error) -> Access {
    match e {
        V4l2Error::PermissionDenied { fix, .. } => Access::PermissionDenied { fix },
        V4l2Error::Busy { held_by, .. } => Access::Busy { held_by },
        other => Access::Unavailable {
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_nodes_are_read_in_number_order_with_name_and_driver() {
        let tmp = tempfile::tempdir().unwrap();
        let class = tmp.path().join("class");
        for (n, name) in [(10, "meta"), (2, "HD Webcam"), (0, "vivid-000-vid-cap")] {
            let d = class.join(format!("video{n}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("name"), format!("{name}\n")).unwrap();
        }
        let drv = tmp.path().join("drivers/vivid");
        std::fs::create_dir_all(&drv).unwrap();
        let dev0 = tmp.path().join("devices/vivid.0");
        std::fs::create_dir_all(&dev0).unwrap();
        std::os::unix::fs::symlink(&drv, dev0.join("driver")).unwrap();
        std::os::unix::fs::symlink(&dev0, class.join("video0/device")).unwrap();
        std::fs::create_dir_all(class.join("v4l-subdev0")).unwrap();
        let nodes = sysfs_nodes(&class, Path::new("/dev"));
        let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["vivid-000-vid-cap", "HD Webcam", "meta"]);
        assert_eq!(nodes[0].dev, Path::new("/dev/video0"));
        assert_eq!(nodes[0].driver.as_deref(), Some("vivid"));
        assert_eq!(nodes[1].driver, None);
    }

    #[test]
    fn a_missing_class_directory_lists_nothing() {
        assert!(sysfs_nodes(Path::new("/nonexistent/video4linux"), Path::new("/dev")).is_empty());
    }
}

//! UVC webcams and other V4L2 video capture devices: the kernel (`uvcvideo`) does the USB part,
//! jemput speaks V4L2 to `/dev/videoN` (docs/devices.md §6). Selectors `v4l2:/dev/videoN` or a bare
//! `/dev/videoN` (also `/dev/v4l/by-id/…`).
//!
//! * `sys`: the ioctls and the kernel's structures — the only unsafe code of this driver.
//! * [`format`](mod@format) (pure): formats and sizes, and the choice: MJPEG if offered, else YUYV, at the
//!   largest size within [`V4l2Config::max_size`].
//! * [`convert`] (pure): MJPEG frame checks, YUYV → RGB, JPEG encoding.
//! * [`V4l2Camera`] (`driver.rs`): QUERYCAP (a streaming single-planar capture node, else a clear
//!   error), ENUM_FMT/ENUM_FRAMESIZES, S_FMT, mmap streaming, preview frames and a still.
//! * [`list`]: the nodes for `jemput devices`, with access status.
//! * [`factory`]: how the registry recognises a node and opens it by its `v4l2:` selector.
//!
//! **Why not the `v4l` crate** (which the project first planned to use): v4l 0.14.0 builds here (~14 s with
//! bindgen), but its `Capabilities` takes the whole device's `capabilities` rather than the
//! node's `device_caps` (so a UVC camera's metadata node passes as a capture node), it unwraps
//! the driver's strings as UTF-8 (a device with a non-UTF-8 card name panics the kit), and its
//! mmap stream panics in `Drop` when `VIDIOC_STREAMOFF` fails with anything but ENODEV. The
//! dozen ioctls jemput needs are small and stable UAPI, so they are written here with
//! `#[repr(C)]` copies of the structures, checked against the kernel headers in the tests.
//!
//! **Not done yet:** multi-planar capture nodes (refused with a clear error), formats other
//! than MJPEG and YUYV (NV12, RGB…), MJPEG frames without Huffman tables (some UVC cameras
//! leave out the DHT segment; such frames are passed on as the camera sent them, and decoders
//! that do not supply the default tables will reject them), camera controls (exposure, white
//! balance) and the USB identity (VID:PID) of UVC nodes in the listing.

pub mod convert;
mod driver;
mod error;
pub mod factory;
pub mod format;
pub mod list;
mod sys;

use std::path::Path;

pub use crate::{FrameMeta, PreviewStats};
pub use driver::{check_caps, Negotiated, NodeCaps, V4l2Camera, V4l2Config};
pub use error::{permission_fix, V4l2Error};
pub use factory::V4l2Factory;
pub use format::{FormatInfo, FourCc, FrameSizes, Size};
pub use list::V4l2Node;

use crate::Selector;

/// The node a selector names, when it names a V4L2 node.
pub fn node_path(selector: &Selector) -> Option<&Path> {
    match selector {
        Selector::V4l2(p) => Some(p),
        _ => None,
    }
}

/// Whether a path looks like a V4L2 video node (`/dev/videoN`, `/dev/v4l/…`).
pub fn is_video_path(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.starts_with("/dev/v4l/")
        || s.strip_prefix("/dev/video")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Opens the V4L2 camera `path` names.
pub fn open(path: &Path, config: V4l2Config) -> Result<V4l2Camera, V4l2Error> {
    V4l2Camera::open(path, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_paths_are_recognised_and_ttys_are_not() {
        for p in [
            "/dev/video0",
            "/dev/video12",
            "/dev/v4l/by-id/usb-cam-video-index0",
        ] {
            assert!(is_video_path(Path::new(p)), "{p}");
        }
        for p in ["/dev/ttyUSB0", "/dev/video", "/dev/videox", "/tmp/video0"] {
            assert!(!is_video_path(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn opening_a_missing_node_says_to_plug_the_camera_in() {
        let e = open(Path::new("/dev/video-jemput-none"), V4l2Config::default()).unwrap_err();
        assert!(matches!(e, V4l2Error::NotFound { .. }), "{e}");
        assert!(e.to_string().contains("jemput devices"), "{e}");
    }

    #[test]
    fn a_node_that_is_not_video_is_refused_with_a_clear_error() {
        // /dev/null answers VIDIOC_QUERYCAP with ENOTTY: not a V4L2 device at all.
        let e = open(Path::new("/dev/null"), V4l2Config::default()).unwrap_err();
        assert!(matches!(e, V4l2Error::NotV4l2 { .. }), "{e}");
        assert!(e.to_string().contains("not a V4L2 device"), "{e}");
    }

    #[test]
    fn capability_checks_refuse_metadata_and_read_only_nodes() {
        let caps = |device_caps| NodeCaps {
            driver: "uvcvideo".into(),
            card: "HD Webcam".into(),
            bus_info: "usb-1".into(),
            version: "6.1.0".into(),
            device_caps,
        };
        let p = Path::new("/dev/video1");
        let e = check_caps(p, &caps(0x0080_0000 | 0x0400_0000)).unwrap_err();
        assert!(matches!(e, V4l2Error::NotCapture { .. }));
        assert!(e.to_string().contains("metadata capture"), "{e}");
        let e = check_caps(p, &caps(0x0000_0001 | 0x0100_0000)).unwrap_err();
        assert!(matches!(e, V4l2Error::NoStreaming { .. }), "{e}");
        check_caps(p, &caps(0x0000_0001 | 0x0400_0000)).unwrap();
    }
}

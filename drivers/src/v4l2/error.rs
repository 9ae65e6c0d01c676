//! What goes wrong with a V4L2 camera, each with what to do next.

use std::path::PathBuf;
use std::time::Duration;

use super::convert::FrameError;
use super::format::ChoiceError;
use crate::DeviceError;

/// Why a V4L2 camera could not be opened or did not deliver a still.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum V4l2Error {
    #[error("{path} does not exist: plug the webcam in (or check the cable and hub); `jemput devices` lists the cameras, and /dev/v4l/by-id/ names one that keeps its name across replugs")]
    NotFound { path: PathBuf },
    #[error("permission denied opening {path}: {fix}")]
    PermissionDenied { path: PathBuf, fix: String },
    #[error("{path} is busy: {} is using the camera; close it (a video call, a camera app, another jemput) and retry", held_by.as_deref().unwrap_or("another program"))]
    Busy {
        path: PathBuf,
        held_by: Option<String>,
    },
    #[error("{path} ({card}) is not a video capture device (it offers: {offers}); a UVC webcam has several /dev/video nodes, pick the one `jemput devices` lists as a camera")]
    NotCapture {
        path: PathBuf,
        card: String,
        offers: String,
    },
    #[error("{path} is not a V4L2 device (it does not answer VIDIOC_QUERYCAP); name a /dev/videoN node from `jemput devices`")]
    NotV4l2 { path: PathBuf },
    #[error("{path} ({card}) captures only through read(), not streaming buffers; jemput needs a streaming (mmap) capture device")]
    NoStreaming { path: PathBuf, card: String },
    #[error("{path}: {source}")]
    NoFormat {
        path: PathBuf,
        #[source]
        source: ChoiceError,
    },
    #[error("{path} did not accept {wanted}: it set {got} instead")]
    FormatRefused {
        path: PathBuf,
        wanted: String,
        got: String,
    },
    #[error("{path} sent no frame within {waited:?} (after {frames} frames); check that nothing covers the lens and that the camera is not stalled (replug it)")]
    Timeout {
        path: PathBuf,
        waited: Duration,
        frames: u64,
    },
    #[error("the camera on {path} was disconnected; plug it back in and retry")]
    Disconnected { path: PathBuf },
    #[error("the frame from {path} is unusable: {source}")]
    Frame {
        path: PathBuf,
        #[source]
        source: FrameError,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("{what} on {path} failed: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl V4l2Error {
    /// Maps an OS error from `what` (an ioctl or `open`) on `path` to the error a user can act
    /// on: EBUSY → busy (naming the holder when /proc shows it), EACCES/EPERM → permission
    /// denied, ENOENT → not found, ENODEV/ENXIO/EIO → disconnected.
    pub fn from_os(path: &std::path::Path, what: &'static str, source: std::io::Error) -> Self {
        let path = path.to_path_buf();
        match source.raw_os_error() {
            Some(libc::EBUSY) => V4l2Error::Busy {
                held_by: crate::discover::holder_of(&path),
                path,
            },
            Some(libc::EACCES | libc::EPERM) => V4l2Error::PermissionDenied {
                fix: permission_fix(&path),
                path,
            },
            Some(libc::ENOENT) => V4l2Error::NotFound { path },
            Some(libc::ENODEV | libc::ENXIO | libc::EIO) => V4l2Error::Disconnected { path },
            _ => V4l2Error::Io { path, what, source },
        }
    }
}

/// The fix for a video node this user cannot open: the group that owns it (`video` on Debian).
pub fn permission_fix(path: &std::path::Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let group = std::fs::metadata(path)
        .ok()
        .and_then(|m| crate::discover::group_name(m.gid()))
        .filter(|g| g != "root")
        .unwrap_or_else(|| "video".into());
    format!(
        "add the operator to the `{group}` group (`sudo usermod -aG {group} $USER`, then log in again)"
    )
}

impl From<V4l2Error> for DeviceError {
    fn from(e: V4l2Error) -> Self {
        match e {
            V4l2Error::Busy { .. } => DeviceError::Busy,
            V4l2Error::PermissionDenied { .. } => DeviceError::PermissionDenied,
            V4l2Error::Disconnected { .. } | V4l2Error::NotFound { .. } => {
                DeviceError::Disconnected
            }
            V4l2Error::Timeout { waited, .. } => DeviceError::Timeout(waited, "a video frame"),
            V4l2Error::Cancelled => DeviceError::Cancelled,
            other => crate::fault::unusable(other.fault(), other.to_string()),
        }
    }
}

impl V4l2Error {
    /// What the operator has to do about it (see [`crate::fault::Fault`]).
    pub fn fault(&self) -> crate::fault::Fault {
        use crate::fault::{Awaited, Fault};
        match self {
            V4l2Error::NotFound { .. } | V4l2Error::Disconnected { .. } => Fault::Unplugged,
            V4l2Error::PermissionDenied { .. } => Fault::NoPermission,
            V4l2Error::Busy { held_by, .. } => Fault::Busy {
                holder: held_by.clone(),
            },
            V4l2Error::NotCapture { .. }
            | V4l2Error::NotV4l2 { .. }
            | V4l2Error::NoStreaming { .. }
            | V4l2Error::NoFormat { .. }
            | V4l2Error::FormatRefused { .. } => Fault::WrongDevice,
            V4l2Error::Timeout { .. } => Fault::Timeout(Awaited::Photo),
            V4l2Error::Frame { .. } => Fault::BadData,
            V4l2Error::Cancelled => Fault::Cancelled,
            V4l2Error::Io { source, .. } => crate::fault::io_fault(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::path::Path;

    #[test]
    fn os_errors_map_to_what_the_operator_can_do() {
        let p = Path::new("/dev/video7");
        let os = io::Error::from_raw_os_error;
        assert!(matches!(
            V4l2Error::from_os(p, "VIDIOC_REQBUFS", os(libc::EBUSY)),
            V4l2Error::Busy { .. }
        ));
        let e = V4l2Error::from_os(p, "open", os(libc::EACCES));
        assert!(e.to_string().contains("usermod -aG"), "{e}");
        assert!(matches!(
            V4l2Error::from_os(p, "open", os(libc::ENOENT)),
            V4l2Error::NotFound { .. }
        ));
        assert!(matches!(
            V4l2Error::from_os(p, "VIDIOC_DQBUF", os(libc::ENODEV)),
            V4l2Error::Disconnected { .. }
        ));
        let e = V4l2Error::from_os(p, "VIDIOC_S_FMT", os(libc::EINVAL));
        assert!(
            e.to_string().starts_with("VIDIOC_S_FMT on /dev/video7"),
            "{e}"
        );
    }

    #[test]
    fn the_capture_trait_sees_busy_timeout_and_disconnect_as_such() {
        let p = PathBuf::from("/dev/video0");
        let busy = V4l2Error::Busy {
            path: p.clone(),
            held_by: Some("cheese (pid 42)".into()),
        };
        assert!(busy.to_string().contains("cheese (pid 42)"));
        assert!(matches!(DeviceError::from(busy), DeviceError::Busy));
        let t = V4l2Error::Timeout {
            path: p.clone(),
            waited: Duration::from_secs(2),
            frames: 0,
        };
        assert!(matches!(DeviceError::from(t), DeviceError::Timeout(..)));
        assert!(matches!(
            DeviceError::from(V4l2Error::Disconnected { path: p }),
            DeviceError::Disconnected
        ));
    }
}

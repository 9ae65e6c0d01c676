//! The V4L2 ioctls jemput uses, with the kernel's structures as `#[repr(C)]` copies of
//! `<linux/videodev2.h>` (UAPI, stable). The only unsafe code of the V4L2 driver lives here:
//! `ioctl`, `mmap`/`munmap` and `poll` on one open file descriptor.
//!
//! Sizes and request numbers are those of 64-bit Linux with the generic ioctl encoding (x86-64,
//! arm64, riscv64); the tests check them against values printed by a C program compiled with the
//! kernel headers (`sizeof`, `VIDIOC_*`).

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::time::Duration;

/// `V4L2_BUF_TYPE_VIDEO_CAPTURE`.
pub const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
/// `V4L2_MEMORY_MMAP`.
pub const MEMORY_MMAP: u32 = 1;
/// `V4L2_FIELD_ANY`.
pub const FIELD_ANY: u32 = 0;
/// `V4L2_CAP_VIDEO_CAPTURE`.
pub const CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
/// `V4L2_CAP_VIDEO_CAPTURE_MPLANE`.
pub const CAP_VIDEO_CAPTURE_MPLANE: u32 = 0x0000_1000;
/// `V4L2_CAP_META_CAPTURE`.
pub const CAP_META_CAPTURE: u32 = 0x0080_0000;
/// `V4L2_CAP_STREAMING`.
pub const CAP_STREAMING: u32 = 0x0400_0000;
/// `V4L2_CAP_DEVICE_CAPS`: `device_caps` is filled in (kernel ≥ 3.3).
pub const CAP_DEVICE_CAPS: u32 = 0x8000_0000;
/// `V4L2_FMT_FLAG_COMPRESSED`.
pub const FMT_FLAG_COMPRESSED: u32 = 0x0001;
/// `V4L2_FRMSIZE_TYPE_DISCRETE`, `_CONTINUOUS`, `_STEPWISE`.
pub const FRMSIZE_TYPE_DISCRETE: u32 = 1;
pub const FRMSIZE_TYPE_CONTINUOUS: u32 = 2;
pub const FRMSIZE_TYPE_STEPWISE: u32 = 3;

const IOC_WRITE: u64 = 1;
const IOC_READ: u64 = 2;

/// `_IOC(dir, 'V', nr, size)` in the generic encoding.
const fn vidioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | ((b'V' as u64) << 8) | nr
}

/// `struct v4l2_capability`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Capability {
    pub driver: [u8; 16],
    pub card: [u8; 32],
    pub bus_info: [u8; 32],
    pub version: u32,
    pub capabilities: u32,
    pub device_caps: u32,
    pub reserved: [u32; 3],
}

/// `struct v4l2_fmtdesc`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FmtDesc {
    pub index: u32,
    pub type_: u32,
    pub flags: u32,
    pub description: [u8; 32],
    pub pixelformat: u32,
    pub mbus_code: u32,
    pub reserved: [u32; 3],
}

/// `struct v4l2_frmsizeenum` (the union as six words: discrete uses the first two).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FrmSizeEnum {
    pub index: u32,
    pub pixel_format: u32,
    pub type_: u32,
    /// discrete: width, height; stepwise: min_width, max_width, step_width, min_height,
    /// max_height, step_height.
    pub sizes: [u32; 6],
    pub reserved: [u32; 2],
}

/// `struct v4l2_pix_format` (single-planar).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PixFormat {
    pub width: u32,
    pub height: u32,
    pub pixelformat: u32,
    pub field: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
    pub colorspace: u32,
    pub priv_: u32,
    pub flags: u32,
    pub ycbcr_enc: u32,
    pub quantization: u32,
    pub xfer_func: u32,
}

/// The 200-byte union of `struct v4l2_format`, pointer-aligned as in C (it holds
/// `struct v4l2_window`, which has pointers).
#[repr(C)]
#[derive(Clone, Copy)]
pub union FormatUnion {
    pub pix: PixFormat,
    pub raw: [u8; 200],
    _align: *mut c_void,
}

/// `struct v4l2_format`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Format {
    pub type_: u32,
    pub fmt: FormatUnion,
}

/// `struct v4l2_requestbuffers`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestBuffers {
    pub count: u32,
    pub type_: u32,
    pub memory: u32,
    pub capabilities: u32,
    pub flags: u8,
    pub reserved: [u8; 3],
}

/// `struct v4l2_timecode`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Timecode {
    pub type_: u32,
    pub flags: u32,
    pub frames: u8,
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    pub userbits: [u8; 4],
}

/// The `m` union of `struct v4l2_buffer`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union BufferM {
    pub offset: u32,
    pub userptr: libc::c_ulong,
    _planes: *mut c_void,
    pub fd: i32,
}

/// `struct v4l2_buffer`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Buffer {
    pub index: u32,
    pub type_: u32,
    pub bytesused: u32,
    pub flags: u32,
    pub field: u32,
    pub timestamp: libc::timeval,
    pub timecode: Timecode,
    pub sequence: u32,
    pub memory: u32,
    pub m: BufferM,
    pub length: u32,
    pub reserved2: u32,
    pub request_fd: i32,
}

impl Buffer {
    /// A capture buffer description for `index` (mmap memory).
    pub fn capture(index: u32) -> Self {
        // SAFETY: all-zero bytes are a valid value of this plain C struct (integers, a
        // timeval and a union of integers and a pointer).
        let mut b: Buffer = unsafe { std::mem::zeroed() };
        b.index = index;
        b.type_ = BUF_TYPE_VIDEO_CAPTURE;
        b.memory = MEMORY_MMAP;
        b
    }

    /// The mmap offset the driver gave this buffer (after QUERYBUF).
    pub fn offset(&self) -> u32 {
        // SAFETY: for MEMORY_MMAP buffers the kernel fills `offset`; every bit pattern is a
        // valid u32.
        unsafe { self.m.offset }
    }
}

pub const VIDIOC_QUERYCAP: u64 = vidioc(IOC_READ, 0, std::mem::size_of::<Capability>());
pub const VIDIOC_ENUM_FMT: u64 = vidioc(IOC_READ | IOC_WRITE, 2, std::mem::size_of::<FmtDesc>());
pub const VIDIOC_G_FMT: u64 = vidioc(IOC_READ | IOC_WRITE, 4, std::mem::size_of::<Format>());
pub const VIDIOC_S_FMT: u64 = vidioc(IOC_READ | IOC_WRITE, 5, std::mem::size_of::<Format>());
pub const VIDIOC_REQBUFS: u64 = vidioc(
    IOC_READ | IOC_WRITE,
    8,
    std::mem::size_of::<RequestBuffers>(),
);
pub const VIDIOC_QUERYBUF: u64 = vidioc(IOC_READ | IOC_WRITE, 9, std::mem::size_of::<Buffer>());
pub const VIDIOC_QBUF: u64 = vidioc(IOC_READ | IOC_WRITE, 15, std::mem::size_of::<Buffer>());
pub const VIDIOC_DQBUF: u64 = vidioc(IOC_READ | IOC_WRITE, 17, std::mem::size_of::<Buffer>());
pub const VIDIOC_STREAMON: u64 = vidioc(IOC_WRITE, 18, std::mem::size_of::<i32>());
pub const VIDIOC_STREAMOFF: u64 = vidioc(IOC_WRITE, 19, std::mem::size_of::<i32>());
pub const VIDIOC_ENUM_FRAMESIZES: u64 =
    vidioc(IOC_READ | IOC_WRITE, 74, std::mem::size_of::<FrmSizeEnum>());

/// The 200 bytes of a format's union.
pub fn format_raw(f: &Format) -> [u8; 200] {
    // SAFETY: every member of the union is plain bytes/integers (the pointer member only
    // aligns it); reading it as bytes is valid whatever the driver wrote.
    unsafe { f.fmt.raw }
}

/// A zeroed value of one of the structures above.
pub fn zeroed<T: Zeroable>() -> T {
    // SAFETY: `Zeroable` is only implemented for the plain C structs of this module, for which
    // all-zero bytes are valid.
    unsafe { std::mem::zeroed() }
}

/// Marks the structures for which all-zero bytes are a valid value.
pub trait Zeroable: Copy {}
impl Zeroable for Capability {}
impl Zeroable for FmtDesc {}
impl Zeroable for FrmSizeEnum {}
impl Zeroable for Format {}
impl Zeroable for RequestBuffers {}
impl Zeroable for Buffer {}
impl Zeroable for i32 {}

/// An open V4L2 node.
#[derive(Debug)]
pub struct Fd {
    file: File,
}

impl Fd {
    /// Opens `path` read-write and non-blocking (DQBUF then never blocks; [`Fd::wait_readable`]
    /// waits with a timeout).
    pub fn open(path: &Path) -> io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Fd { file })
    }

    fn raw(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Runs `request` on `arg`, retrying on EINTR. `request` must be one of the `VIDIOC_*`
    /// constants whose size matches `T` (they are built from `size_of::<T>()` above).
    pub fn ioctl<T: Zeroable>(&self, request: u64, arg: &mut T) -> io::Result<()> {
        loop {
            // SAFETY: `arg` is a live, exclusively borrowed `#[repr(C)]` value of the size the
            // request encodes; the kernel reads and writes only within it.
            let rc = unsafe { libc::ioctl(self.raw(), request as _, arg as *mut T as *mut c_void) };
            if rc != -1 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Waits until a buffer can be dequeued; `Ok(false)` on timeout.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.raw(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        loop {
            // SAFETY: one valid pollfd, count 1.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            match rc {
                -1 => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
                0 => return Ok(false),
                _ if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
                    && pfd.revents & libc::POLLIN == 0 =>
                {
                    return Err(io::Error::from_raw_os_error(libc::ENODEV));
                }
                _ => return Ok(true),
            }
        }
    }

    /// Maps buffer `buf` (after QUERYBUF) read-only.
    pub fn map(&self, buf: &Buffer) -> io::Result<Mapping> {
        let len = buf.length as usize;
        if len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the driver gave a buffer of length 0",
            ));
        }
        // SAFETY: a fresh shared read-only mapping of the driver's buffer at the offset it
        // gave; no Rust object aliases it, and `Mapping` unmaps it exactly once.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                self.raw(),
                buf.offset() as libc::off_t,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { ptr, len })
    }
}

/// One buffer mapped from the driver; unmapped on drop (before the `Fd` closes: the stream
/// keeps them in that order).
#[derive(Debug)]
pub struct Mapping {
    ptr: *mut c_void,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value alone; it is only read through `&self`.
unsafe impl Send for Mapping {}

impl Mapping {
    /// The first `used` bytes (clamped to the mapping's length).
    pub fn bytes(&self, used: usize) -> &[u8] {
        let n = used.min(self.len);
        // SAFETY: `ptr` maps `len` readable bytes for the life of `self`; `n <= len`. The
        // driver writes a buffer only while it is queued, and the stream hands out a buffer's
        // bytes only between DQBUF and the next QBUF of it.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, n) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned; unmapped once, here.
        let rc = unsafe { libc::munmap(self.ptr, self.len) };
        if rc != 0 {
            tracing::warn!(err = %io::Error::last_os_error(), "munmap of a V4L2 buffer failed");
        }
    }
}

/// A NUL-padded C string field as text (invalid UTF-8 replaced, never a panic).
pub fn c_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Printed by a C program with `#include <linux/videodev2.h>` (linux-libc-dev 6.1, x86-64).
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    #[test]
    fn structure_sizes_and_request_numbers_match_the_kernel_headers() {
        use std::mem::{offset_of, size_of};
        assert_eq!(size_of::<Capability>(), 104);
        assert_eq!(size_of::<FmtDesc>(), 64);
        assert_eq!(size_of::<FrmSizeEnum>(), 44);
        assert_eq!(size_of::<Format>(), 208);
        assert_eq!(offset_of!(Format, fmt), 8);
        assert_eq!(size_of::<PixFormat>(), 48);
        assert_eq!(size_of::<RequestBuffers>(), 20);
        assert_eq!(size_of::<Buffer>(), 88);
        assert_eq!(offset_of!(Buffer, timestamp), 24);
        assert_eq!(offset_of!(Buffer, sequence), 56);
        assert_eq!(offset_of!(Buffer, memory), 60);
        assert_eq!(offset_of!(Buffer, m), 64);
        assert_eq!(offset_of!(Buffer, length), 72);
        assert_eq!(offset_of!(Buffer, request_fd), 80);
        assert_eq!(offset_of!(FrmSizeEnum, sizes), 12);
        for (got, want) in [
            (VIDIOC_QUERYCAP, 0x8068_5600),
            (VIDIOC_ENUM_FMT, 0xc040_5602),
            (VIDIOC_G_FMT, 0xc0d0_5604),
            (VIDIOC_S_FMT, 0xc0d0_5605),
            (VIDIOC_REQBUFS, 0xc014_5608),
            (VIDIOC_QUERYBUF, 0xc058_5609),
            (VIDIOC_QBUF, 0xc058_560f),
            (VIDIOC_DQBUF, 0xc058_5611),
            (VIDIOC_STREAMON, 0x4004_5612),
            (VIDIOC_STREAMOFF, 0x4004_5613),
            (VIDIOC_ENUM_FRAMESIZES, 0xc02c_564a),
        ] {
            assert_eq!(got, want, "{got:#x} != {want:#x}");
        }
    }

    #[test]
    fn c_text_stops_at_nul_and_survives_bad_utf8() {
        assert_eq!(c_text(b"vivid\0\0\0garbage"), "vivid");
        assert_eq!(c_text(b"cam\xff\xfe\0"), "cam\u{fffd}\u{fffd}");
        assert_eq!(c_text(b"no-nul"), "no-nul");
    }

    #[test]
    fn opening_a_missing_node_reports_not_found() {
        let e = Fd::open(Path::new("/dev/video-jemput-none")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}

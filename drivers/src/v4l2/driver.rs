//! The V4L2 capture driver: open a node, check it is a streaming video capture device, list its
//! formats and sizes, negotiate one ([`super::format::choose`]), stream through mmap buffers, and
//! give preview frames and a JPEG still.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::convert::{self, FrameError};
use super::error::V4l2Error;
use super::format::{self, FormatInfo, FourCc, FrameSizes};
use super::sys::{self, Fd};
use crate::{
    Camera, CaptureControl, Device, DeviceError, DeviceInfo, FrameMeta, Photo, PreviewStats, Size,
};

/// How the driver captures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4l2Config {
    /// The largest frame size to negotiate (the largest size within it is taken).
    pub max_size: Size,
    /// Frames to let pass before the still (webcams adjust exposure over the first frames).
    pub warmup_frames: u32,
    /// Streaming buffers to ask for.
    pub buffers: u32,
    /// Quality of the JPEG encoded from YUYV frames.
    pub jpeg_quality: u8,
    /// Broken MJPEG frames to skip before a still fails.
    pub bad_frames_allowed: u32,
}

impl Default for V4l2Config {
    fn default() -> Self {
        V4l2Config {
            max_size: Size {
                width: 1920,
                height: 1080,
            },
            warmup_frames: 5,
            buffers: 4,
            jpeg_quality: 92,
            bad_frames_allowed: 3,
        }
    }
}

/// What `VIDIOC_QUERYCAP` says of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCaps {
    pub driver: String,
    pub card: String,
    pub bus_info: String,
    /// Kernel driver version, `major.minor.patch`.
    pub version: String,
    /// The node's own capabilities (`device_caps`, else the device's).
    pub device_caps: u32,
}

impl NodeCaps {
    /// Whether the node captures single-planar video.
    pub fn is_capture(&self) -> bool {
        self.device_caps & sys::CAP_VIDEO_CAPTURE != 0
    }

    /// Whether the node streams buffers (mmap/userptr/dmabuf).
    pub fn is_streaming(&self) -> bool {
        self.device_caps & sys::CAP_STREAMING != 0
    }

    /// The capabilities as words, for messages and listings.
    pub fn describe(&self) -> String {
        const NAMES: &[(u32, &str)] = &[
            (sys::CAP_VIDEO_CAPTURE, "video capture"),
            (sys::CAP_VIDEO_CAPTURE_MPLANE, "multi-planar video capture"),
            (0x0000_0002, "video output"),
            (0x0000_8000, "memory-to-memory"),
            (0x0004_0000, "radio"),
            (0x0010_0000, "SDR capture"),
            (sys::CAP_META_CAPTURE, "metadata capture"),
            (0x1000_0000, "touch"),
            (sys::CAP_STREAMING, "streaming"),
        ];
        let words: Vec<&str> = NAMES
            .iter()
            .filter(|(bit, _)| self.device_caps & bit != 0)
            .map(|(_, n)| *n)
            .collect();
        if words.is_empty() {
            format!("capabilities {:#010x}", self.device_caps)
        } else {
            words.join(", ")
        }
    }
}

/// The format the node was set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub fourcc: FourCc,
    pub size: Size,
    /// Bytes a line (YUYV).
    pub stride: usize,
}

/// An opened V4L2 capture node.
#[derive(Debug)]
pub struct V4l2Camera {
    path: PathBuf,
    fd: Fd,
    caps: NodeCaps,
    info: DeviceInfo,
    formats: Vec<FormatInfo>,
    negotiated: Negotiated,
    config: V4l2Config,
}

/// Opens a node for queries only (no format is set): for listings.
pub(crate) fn open_node(path: &Path) -> Result<Fd, V4l2Error> {
    Fd::open(path).map_err(|e| V4l2Error::from_os(path, "open", e))
}

/// `VIDIOC_QUERYCAP`.
pub(crate) fn query_caps(fd: &Fd, path: &Path) -> Result<NodeCaps, V4l2Error> {
    let mut c: sys::Capability = sys::zeroed();
    fd.ioctl(sys::VIDIOC_QUERYCAP, &mut c).map_err(|e| {
        if e.raw_os_error() == Some(libc::ENOTTY) {
            V4l2Error::NotV4l2 {
                path: path.to_path_buf(),
            }
        } else {
            V4l2Error::from_os(path, "VIDIOC_QUERYCAP", e)
        }
    })?;
    let device_caps = if c.capabilities & sys::CAP_DEVICE_CAPS != 0 {
        c.device_caps
    } else {
        c.capabilities
    };
    Ok(NodeCaps {
        driver: sys::c_text(&c.driver),
        card: sys::c_text(&c.card),
        bus_info: sys::c_text(&c.bus_info),
        version: format!(
            "{}.{}.{}",
            (c.version >> 16) & 0xff,
            (c.version >> 8) & 0xff,
            c.version & 0xff
        ),
        device_caps,
    })
}

/// `VIDIOC_ENUM_FMT` and `VIDIOC_ENUM_FRAMESIZES` for single-planar capture.
pub(crate) fn enum_formats(fd: &Fd, path: &Path) -> Result<Vec<FormatInfo>, V4l2Error> {
    let mut out = Vec::new();
    // A driver lists a few dozen formats at most; the bound stops a broken one looping.
    for index in 0..256 {
        let mut d: sys::FmtDesc = sys::zeroed();
        d.index = index;
        d.type_ = sys::BUF_TYPE_VIDEO_CAPTURE;
        match fd.ioctl(sys::VIDIOC_ENUM_FMT, &mut d) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => break,
            Err(e) => return Err(V4l2Error::from_os(path, "VIDIOC_ENUM_FMT", e)),
        }
        let code = FourCc(d.pixelformat);
        out.push(FormatInfo {
            fourcc: code.to_string(),
            description: sys::c_text(&d.description),
            compressed: d.flags & sys::FMT_FLAG_COMPRESSED != 0,
            sizes: enum_sizes(fd, path, code)?,
            code: code.0,
        });
    }
    Ok(out)
}

fn enum_sizes(fd: &Fd, path: &Path, code: FourCc) -> Result<FrameSizes, V4l2Error> {
    let mut sizes = Vec::new();
    for index in 0..1024 {
        let mut f: sys::FrmSizeEnum = sys::zeroed();
        f.index = index;
        f.pixel_format = code.0;
        match fd.ioctl(sys::VIDIOC_ENUM_FRAMESIZES, &mut f) {
            Ok(()) => {}
            // EINVAL past the end; ENOTTY when the driver does not enumerate sizes.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOTTY)) => break,
            Err(e) => return Err(V4l2Error::from_os(path, "VIDIOC_ENUM_FRAMESIZES", e)),
        }
        let s = f.sizes;
        match f.type_ {
            sys::FRMSIZE_TYPE_DISCRETE => sizes.push(Size {
                width: s[0],
                height: s[1],
            }),
            sys::FRMSIZE_TYPE_CONTINUOUS | sys::FRMSIZE_TYPE_STEPWISE if index == 0 => {
                let continuous = f.type_ == sys::FRMSIZE_TYPE_CONTINUOUS;
                return Ok(FrameSizes::Stepwise {
                    min: Size {
                        width: s[0],
                        height: s[3],
                    },
                    max: Size {
                        width: s[1],
                        height: s[4],
                    },
                    step: if continuous {
                        Size {
                            width: 1,
                            height: 1,
                        }
                    } else {
                        Size {
                            width: s[2],
                            height: s[5],
                        }
                    },
                });
            }
            _ => break,
        }
    }
    Ok(if sizes.is_empty() {
        FrameSizes::Unknown
    } else {
        FrameSizes::Discrete { sizes }
    })
}

/// Whether another program is streaming from the node: `VIDIOC_REQBUFS` with no buffers is
/// refused with EBUSY when another open file owns the buffer queue.
pub(crate) fn queue_busy(fd: &Fd) -> bool {
    let mut r: sys::RequestBuffers = sys::zeroed();
    r.type_ = sys::BUF_TYPE_VIDEO_CAPTURE;
    r.memory = sys::MEMORY_MMAP;
    matches!(fd.ioctl(sys::VIDIOC_REQBUFS, &mut r), Err(e) if e.raw_os_error() == Some(libc::EBUSY))
}

/// Checks what QUERYCAP said: a single-planar, streaming video capture node.
pub fn check_caps(path: &Path, caps: &NodeCaps) -> Result<(), V4l2Error> {
    if !caps.is_capture() {
        return Err(V4l2Error::NotCapture {
            path: path.to_path_buf(),
            card: caps.card.clone(),
            offers: caps.describe(),
        });
    }
    if !caps.is_streaming() {
        return Err(V4l2Error::NoStreaming {
            path: path.to_path_buf(),
            card: caps.card.clone(),
        });
    }
    Ok(())
}

impl V4l2Camera {
    /// Opens the node at `path`, checks it, and sets the format `config` leads to.
    pub fn open(path: &Path, config: V4l2Config) -> Result<Self, V4l2Error> {
        let fd = open_node(path)?;
        let caps = query_caps(&fd, path)?;
        check_caps(path, &caps)?;
        let formats = enum_formats(&fd, path)?;
        let choice =
            format::choose(&formats, config.max_size).map_err(|source| V4l2Error::NoFormat {
                path: path.to_path_buf(),
                source,
            })?;
        let negotiated = set_format(&fd, path, choice)?;
        tracing::debug!(path = %path.display(), fourcc = %negotiated.fourcc, size = %negotiated.size, "V4L2 format set");
        let info = DeviceInfo {
            driver: "v4l2".into(),
            model: caps.card.clone(),
            serial: None,
            firmware: Some(format!("{} {}", caps.driver, caps.version)),
        };
        Ok(V4l2Camera {
            path: path.to_path_buf(),
            fd,
            caps,
            info,
            formats,
            negotiated,
            config,
        })
    }

    /// What QUERYCAP said.
    pub fn caps(&self) -> &NodeCaps {
        &self.caps
    }

    /// Every format the node offers.
    pub fn formats(&self) -> &[FormatInfo] {
        &self.formats
    }

    /// The format in force.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// The node's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Streams `frames` frames, calling `on_frame` for each, and returns the rate.
    pub fn preview(
        &mut self,
        frames: u64,
        control: &CaptureControl,
        mut on_frame: impl FnMut(&FrameMeta),
    ) -> Result<PreviewStats, V4l2Error> {
        let begun = Instant::now();
        let mut stream = Stream::start(&self.fd, &self.path, self.config.buffers)?;
        let (mut first, mut last) = (None, None);
        for _ in 0..frames {
            let (meta, _) = stream.next(control)?;
            first.get_or_insert(meta.timestamp);
            last = Some(meta.timestamp);
            on_frame(&meta);
        }
        let elapsed = begun.elapsed();
        let got = stream.count;
        let fps = match (first, last) {
            (Some(a), Some(b)) if b > a && got > 1 => (got - 1) as f64 / (b - a).as_secs_f64(),
            _ if !elapsed.is_zero() => got as f64 / elapsed.as_secs_f64(),
            _ => 0.0,
        };
        Ok(PreviewStats {
            frames: got,
            elapsed,
            fps,
        })
    }

    /// Takes a still: streams, lets the warm-up frames pass, and makes the next good frame a
    /// JPEG (MJPEG as sent; YUYV converted and encoded).
    pub fn still(&mut self, control: &CaptureControl) -> Result<Photo, V4l2Error> {
        let n = self.negotiated;
        let (warmup, allowed, quality) = (
            self.config.warmup_frames,
            self.config.bad_frames_allowed,
            self.config.jpeg_quality,
        );
        let path = self.path.clone();
        let mut stream = Stream::start(&self.fd, &self.path, self.config.buffers)?;
        for _ in 0..warmup {
            stream.next(control)?;
        }
        let mut bad = 0;
        loop {
            let (_, bytes) = stream.next(control)?;
            match frame_photo(n, quality, bytes) {
                Ok(photo) => return Ok(photo),
                Err(e @ FrameError::Encode(_)) => return Err(V4l2Error::Frame { path, source: e }),
                Err(e) if bad >= allowed => return Err(V4l2Error::Frame { path, source: e }),
                Err(e) => {
                    bad += 1;
                    tracing::warn!(%e, "skipping a broken frame");
                }
            }
        }
    }
}

impl V4l2Camera {
    /// Live frames for a preview shown elsewhere (an SBI `STREAM`): streams, and gives `each` a
    /// JPEG of a frame at most every `interval` (MJPEG as sent, YUYV converted and encoded) until
    /// `each` returns `false` or `control` is cancelled. The frames in between, and any frame
    /// with a newer one already waiting (queued while `each` ran), are queued again unconverted,
    /// so the frame given is the freshest. A broken frame is skipped. Returns the frames given.
    pub fn live(
        &mut self,
        interval: Duration,
        control: &CaptureControl,
        mut each: impl FnMut(Photo) -> bool,
    ) -> Result<u64, V4l2Error> {
        let (n, quality) = (self.negotiated, self.config.jpeg_quality);
        let path = self.path.clone();
        let mut stream = Stream::start(&self.fd, &self.path, self.config.buffers)?;
        let (mut given, mut last) = (0u64, None::<Instant>);
        loop {
            let bytes = match stream.next(control) {
                Ok((_, bytes)) => bytes,
                Err(V4l2Error::Cancelled) => return Ok(given),
                Err(e) => return Err(e),
            };
            // A newer frame is waiting already (queued while `each` ran): this one is stale.
            if self.fd.wait_readable(Duration::ZERO).unwrap_or(false) {
                continue;
            }
            // A camera faster than the preview: the frames in between are let pass.
            if last.is_some_and(|t| t.elapsed() < interval) {
                continue;
            }
            match frame_photo(n, quality, bytes) {
                Ok(photo) => {
                    given += 1;
                    last = Some(Instant::now());
                    if !each(photo) {
                        return Ok(given);
                    }
                }
                Err(e @ FrameError::Encode(_)) => return Err(V4l2Error::Frame { path, source: e }),
                Err(e) => tracing::debug!(%e, "skipping a broken preview frame"),
            }
        }
    }
}

/// A frame as a JPEG photo: an MJPEG frame checked and kept as sent, a YUYV frame converted and
/// encoded at `quality`.
fn frame_photo(n: Negotiated, quality: u8, bytes: &[u8]) -> Result<Photo, FrameError> {
    if n.fourcc.is_jpeg() {
        convert::check_mjpeg(bytes).map(|(jpeg, width, height)| Photo {
            jpeg: jpeg.to_vec(),
            width,
            height,
        })
    } else {
        convert::yuyv_to_rgb(bytes, n.size.width, n.size.height, n.stride).and_then(|rgb| {
            Ok(Photo {
                jpeg: convert::encode_jpeg(&rgb, n.size.width, n.size.height, quality)?,
                width: n.size.width,
                height: n.size.height,
            })
        })
    }
}

fn set_format(fd: &Fd, path: &Path, choice: format::Choice) -> Result<Negotiated, V4l2Error> {
    let mut f: sys::Format = sys::zeroed();
    f.type_ = sys::BUF_TYPE_VIDEO_CAPTURE;
    fd.ioctl(sys::VIDIOC_G_FMT, &mut f)
        .map_err(|e| V4l2Error::from_os(path, "VIDIOC_G_FMT", e))?;
    let mut pix = read_pix(&f);
    pix.pixelformat = choice.fourcc.0;
    if let Some(s) = choice.size {
        pix.width = s.width;
        pix.height = s.height;
    }
    pix.field = sys::FIELD_ANY;
    pix.bytesperline = 0;
    pix.sizeimage = 0;
    write_pix(&mut f, pix);
    fd.ioctl(sys::VIDIOC_S_FMT, &mut f)
        .map_err(|e| V4l2Error::from_os(path, "VIDIOC_S_FMT", e))?;
    let got = read_pix(&f);
    if got.pixelformat != choice.fourcc.0 {
        return Err(V4l2Error::FormatRefused {
            path: path.to_path_buf(),
            wanted: choice.fourcc.to_string(),
            got: FourCc(got.pixelformat).to_string(),
        });
    }
    let size = Size {
        width: got.width,
        height: got.height,
    };
    if size.pixels() == 0 {
        return Err(V4l2Error::FormatRefused {
            path: path.to_path_buf(),
            wanted: format!("{} {}", choice.fourcc, size),
            got: "a 0-pixel frame".into(),
        });
    }
    let stride = match got.bytesperline as usize {
        0 => got.width as usize * 2,
        n => n,
    };
    Ok(Negotiated {
        fourcc: choice.fourcc,
        size,
        stride,
    })
}

fn read_pix(f: &sys::Format) -> sys::PixFormat {
    // The union's first 48 bytes are the pix format for VIDEO_CAPTURE; read them as words.
    let raw = raw_of(f);
    let w =
        |i: usize| u32::from_ne_bytes([raw[i * 4], raw[i * 4 + 1], raw[i * 4 + 2], raw[i * 4 + 3]]);
    sys::PixFormat {
        width: w(0),
        height: w(1),
        pixelformat: w(2),
        field: w(3),
        bytesperline: w(4),
        sizeimage: w(5),
        colorspace: w(6),
        priv_: w(7),
        flags: w(8),
        ycbcr_enc: w(9),
        quantization: w(10),
        xfer_func: w(11),
    }
}

fn write_pix(f: &mut sys::Format, p: sys::PixFormat) {
    let words = [
        p.width,
        p.height,
        p.pixelformat,
        p.field,
        p.bytesperline,
        p.sizeimage,
        p.colorspace,
        p.priv_,
        p.flags,
        p.ycbcr_enc,
        p.quantization,
        p.xfer_func,
    ];
    let mut raw = raw_of(f);
    for (i, w) in words.iter().enumerate() {
        raw[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
    }
    f.fmt = sys::FormatUnion { raw };
}

fn raw_of(f: &sys::Format) -> [u8; 200] {
    sys::format_raw(f)
}

/// A running mmap stream; stops streaming, unmaps and frees the buffers on drop.
struct Stream<'a> {
    fd: &'a Fd,
    path: &'a Path,
    maps: Vec<sys::Mapping>,
    /// The buffer handed out last, queued again before the next dequeue.
    held: Option<u32>,
    count: u64,
    streaming: bool,
}

impl<'a> Stream<'a> {
    fn start(fd: &'a Fd, path: &'a Path, buffers: u32) -> Result<Self, V4l2Error> {
        let os = |what| move |e| V4l2Error::from_os(path, what, e);
        let mut r: sys::RequestBuffers = sys::zeroed();
        r.count = buffers.max(2);
        r.type_ = sys::BUF_TYPE_VIDEO_CAPTURE;
        r.memory = sys::MEMORY_MMAP;
        fd.ioctl(sys::VIDIOC_REQBUFS, &mut r)
            .map_err(os("VIDIOC_REQBUFS"))?;
        let mut stream = Stream {
            fd,
            path,
            maps: Vec::new(),
            held: None,
            count: 0,
            streaming: false,
        };
        if r.count == 0 {
            return Err(V4l2Error::Io {
                path: path.to_path_buf(),
                what: "VIDIOC_REQBUFS",
                source: std::io::Error::other("the driver granted no buffers"),
            });
        }
        for i in 0..r.count {
            let mut b = sys::Buffer::capture(i);
            fd.ioctl(sys::VIDIOC_QUERYBUF, &mut b)
                .map_err(os("VIDIOC_QUERYBUF"))?;
            stream.maps.push(fd.map(&b).map_err(os("mmap"))?);
        }
        for i in 0..r.count {
            let mut b = sys::Buffer::capture(i);
            fd.ioctl(sys::VIDIOC_QBUF, &mut b)
                .map_err(os("VIDIOC_QBUF"))?;
        }
        let mut t = sys::BUF_TYPE_VIDEO_CAPTURE as i32;
        fd.ioctl(sys::VIDIOC_STREAMON, &mut t)
            .map_err(os("VIDIOC_STREAMON"))?;
        stream.streaming = true;
        Ok(stream)
    }

    /// The next frame: its metadata and bytes (valid until the next call).
    fn next(&mut self, control: &CaptureControl) -> Result<(FrameMeta, &[u8]), V4l2Error> {
        let path = self.path;
        let os = |what| move |e| V4l2Error::from_os(path, what, e);
        if let Some(i) = self.held.take() {
            let mut b = sys::Buffer::capture(i);
            self.fd
                .ioctl(sys::VIDIOC_QBUF, &mut b)
                .map_err(os("VIDIOC_QBUF"))?;
        }
        let deadline = Instant::now() + control.timeout;
        let mut b = sys::Buffer::capture(0);
        loop {
            if control.cancel.load(Ordering::Relaxed) {
                return Err(V4l2Error::Cancelled);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(V4l2Error::Timeout {
                    path: self.path.to_path_buf(),
                    waited: control.timeout,
                    frames: self.count,
                });
            }
            // Wake at least every 100 ms to see a cancel.
            let ready = self
                .fd
                .wait_readable(left.min(Duration::from_millis(100)))
                .map_err(os("poll"))?;
            if !ready {
                continue;
            }
            match self.fd.ioctl(sys::VIDIOC_DQBUF, &mut b) {
                Ok(()) => break,
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
                Err(e) => return Err(V4l2Error::from_os(self.path, "VIDIOC_DQBUF", e)),
            }
        }
        let Some(map) = self.maps.get(b.index as usize) else {
            return Err(V4l2Error::Io {
                path: self.path.to_path_buf(),
                what: "VIDIOC_DQBUF",
                source: std::io::Error::other(format!(
                    "the driver returned buffer {} of {}",
                    b.index,
                    self.maps.len()
                )),
            });
        };
        self.held = Some(b.index);
        self.count += 1;
        let used = b.bytesused as usize;
        let meta = FrameMeta {
            count: self.count,
            sequence: b.sequence,
            timestamp: Duration::from_secs(b.timestamp.tv_sec.max(0) as u64)
                + Duration::from_micros(b.timestamp.tv_usec.clamp(0, 999_999) as u64),
            bytes: used,
        };
        Ok((meta, map.bytes(used)))
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        if self.streaming {
            let mut t = sys::BUF_TYPE_VIDEO_CAPTURE as i32;
            if let Err(e) = self.fd.ioctl(sys::VIDIOC_STREAMOFF, &mut t) {
                tracing::warn!(%e, path = %self.path.display(), "VIDIOC_STREAMOFF failed");
            }
        }
        // Unmap before freeing: the driver refuses to free mapped buffers.
        self.maps.clear();
        let mut r: sys::RequestBuffers = sys::zeroed();
        r.type_ = sys::BUF_TYPE_VIDEO_CAPTURE;
        r.memory = sys::MEMORY_MMAP;
        if let Err(e) = self.fd.ioctl(sys::VIDIOC_REQBUFS, &mut r) {
            tracing::debug!(%e, path = %self.path.display(), "freeing the V4L2 buffers failed");
        }
    }
}

impl Device for V4l2Camera {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
}

impl Camera for V4l2Camera {
    fn capture_photo(&mut self, control: &CaptureControl) -> Result<Photo, DeviceError> {
        self.still(control).map_err(DeviceError::from)
    }

    fn stream_format(&self) -> Option<String> {
        Some(format!(
            "{} {}",
            self.negotiated.fourcc, self.negotiated.size
        ))
    }

    fn preview(
        &mut self,
        frames: u64,
        control: &CaptureControl,
        each: &mut dyn FnMut(&FrameMeta),
    ) -> Result<PreviewStats, DeviceError> {
        V4l2Camera::preview(self, frames, control, each).map_err(DeviceError::from)
    }

    fn live_jpeg(
        &mut self,
        interval: Duration,
        control: &CaptureControl,
        each: &mut dyn FnMut(Photo) -> bool,
    ) -> Result<u64, DeviceError> {
        self.live(interval, control, each)
            .map_err(DeviceError::from)
    }
}

//! Big-endian fields in and out (ISO/IEC 19794-1:2011: every multi-byte field is big-endian),
//! with every read bounded by the bytes there.

use super::{CaptureDevice, CaptureTime, IsoError, QualityBlock};

/// Reads fields from `data`, reporting offsets from `base` (the slice's place in the record).
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], base: usize) -> Self {
        Reader { data, pos: 0, base }
    }

    /// The offset of the next byte in the whole record.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], IsoError> {
        let available = self.remaining();
        if n > available {
            return Err(IsoError::Truncated {
                field,
                offset: self.offset(),
                needed: n,
                available,
            });
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The rest of the slice.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.data[self.pos..];
        self.pos = self.data.len();
        out
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, IsoError> {
        Ok(self.take(1, field)?[0])
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, IsoError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, field: &'static str) -> Result<u32, IsoError> {
        let b = self.take(3, field)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, IsoError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn capture_time(&mut self) -> Result<CaptureTime, IsoError> {
        const F: &str = "capture date and time";
        Ok(CaptureTime {
            year: self.u16(F)?,
            month: self.u8(F)?,
            day: self.u8(F)?,
            hour: self.u8(F)?,
            minute: self.u8(F)?,
            second: self.u8(F)?,
            millisecond: self.u16(F)?,
        })
    }

    pub fn capture_device(&mut self) -> Result<CaptureDevice, IsoError> {
        Ok(CaptureDevice {
            technology: self.u8("capture device technology identifier")?,
            vendor: self.u16("capture device vendor identifier")?,
            device_type: self.u16("capture device type identifier")?,
        })
    }

    pub fn quality_blocks(&mut self) -> Result<Vec<QualityBlock>, IsoError> {
        let n = self.u8("number of quality blocks")?;
        // Allocation bounded by the bytes there, not by the count.
        let mut out = Vec::with_capacity(usize::from(n).min(self.remaining() / 5));
        for _ in 0..n {
            out.push(QualityBlock {
                score: self.u8("quality block")?,
                algorithm_vendor: self.u16("quality block")?,
                algorithm: self.u16("quality block")?,
            });
        }
        Ok(out)
    }
}

/// Appends fields to a record being written.
#[derive(Default)]
pub(super) struct Writer {
    pub out: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub fn u24(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    pub fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }
    /// Overwrites the 4-byte length field at `at`.
    pub fn patch_u32(&mut self, at: usize, v: u32) {
        self.out[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    pub fn capture_time(&mut self, t: &CaptureTime) {
        self.u16(t.year);
        self.u8(t.month);
        self.u8(t.day);
        self.u8(t.hour);
        self.u8(t.minute);
        self.u8(t.second);
        self.u16(t.millisecond);
    }

    pub fn capture_device(&mut self, d: &CaptureDevice) {
        self.u8(d.technology);
        self.u16(d.vendor);
        self.u16(d.device_type);
    }

    pub fn quality_blocks(&mut self, q: &[QualityBlock]) -> Result<(), IsoError> {
        self.u8(count_u8("number of quality blocks", q.len())?);
        for b in q {
            self.u8(b.score);
            self.u16(b.algorithm_vendor);
            self.u16(b.algorithm);
        }
        Ok(())
    }
}

pub(super) fn count_u8(field: &'static str, n: usize) -> Result<u8, IsoError> {
    u8::try_from(n).map_err(|_| too_large(field, n, u8::MAX.into()))
}

pub(super) fn count_u16(field: &'static str, n: usize) -> Result<u16, IsoError> {
    u16::try_from(n).map_err(|_| too_large(field, n, u16::MAX.into()))
}

pub(super) fn length_u32(field: &'static str, n: usize) -> Result<u32, IsoError> {
    u32::try_from(n).map_err(|_| too_large(field, n, u32::MAX.into()))
}

fn too_large(field: &'static str, n: usize, max: u64) -> IsoError {
    IsoError::TooLarge {
        field,
        value: n as u64,
        max,
    }
}

/// The part of ISO/IEC 19794 a record belongs to, as its general header names it.
pub(super) struct Part {
    /// For messages: "ISO/IEC 19794-4 finger image".
    pub standard: &'static str,
    /// The edition read and written, for messages: "ISO/IEC 19794-4:2011".
    pub edition: &'static str,
    /// The format identifier, NUL-terminated: `FIR\0`.
    pub format_id: &'static [u8; 4],
    /// The version number of that edition, NUL-terminated: `020\0`.
    pub version: &'static [u8; 4],
    /// Both as messages show them: `FIR\\0` and `020`.
    pub shown_id: &'static str,
    pub shown_version: &'static str,
}

impl Part {
    fn shown(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes)
            .trim_end_matches('\0')
            .to_string()
    }

    /// Reads the general header's fields common to every part (19794-1:2011 §7): the format
    /// identifier, the version, the record length (which must be the whole of `data`) and the
    /// number of representations (at least one), which it returns. The part's own header fields
    /// follow.
    pub fn read_header(&self, r: &mut Reader, data: &[u8]) -> Result<u16, IsoError> {
        let not_a_record = |found: &[u8]| IsoError::NotARecord {
            standard: self.standard,
            expected: self.shown_id,
            found: found.to_vec(),
        };
        let magic = r
            .take(4, "format identifier")
            .map_err(|_| not_a_record(data))?;
        if magic != self.format_id {
            return Err(not_a_record(magic));
        }
        let version = r.take(4, "version number")?;
        if version != self.version {
            return Err(IsoError::UnsupportedVersion {
                standard: self.standard,
                edition: self.edition,
                supported: self.shown_version,
                found: Self::shown(version),
            });
        }
        let total = r.u32("record length")?;
        if u64::from(total) != data.len() as u64 {
            return Err(IsoError::LengthMismatch {
                field: "record length",
                declared: total.into(),
                actual: data.len() as u64,
            });
        }
        let count = r.u16("number of representations")?;
        if count == 0 {
            return Err(IsoError::InvalidValue {
                field: "number of representations",
                value: 0,
                hint: " (a record holds at least one)",
            });
        }
        Ok(count)
    }

    /// Writes what [`Part::read_header`] reads, the record length left 0 for
    /// [`finish_record`] to fill in.
    pub fn write_header(&self, w: &mut Writer, count: usize) -> Result<(), IsoError> {
        w.bytes(self.format_id);
        w.bytes(self.version);
        w.u32(0);
        w.u16(count_u16("number of representations", count)?);
        Ok(())
    }
}

/// Reads the `count` representations after the general header: each a 4-byte length that counts
/// itself, then the body `read` reads. A body too short for its fields names the representation;
/// nothing may follow the last one. `min_len` is the smallest representation (to bound the
/// memory a lying count can reserve).
pub(super) fn read_representations<T>(
    r: &mut Reader,
    count: u16,
    min_len: usize,
    mut read: impl FnMut(&mut Reader) -> Result<T, IsoError>,
) -> Result<Vec<T>, IsoError> {
    let mut out = Vec::with_capacity(usize::from(count).min(r.remaining() / min_len));
    for index in 1..=count {
        let start = r.offset();
        let length = r.u32("representation length")?;
        let body_len = (length as usize)
            .checked_sub(4)
            .ok_or(IsoError::InvalidValue {
                field: "representation length",
                value: length.into(),
                hint: " (it counts its own 4 bytes, so it is at least 4)",
            })?;
        let body = r.take(body_len, "representation")?;
        let item = read(&mut Reader::new(body, start + 4)).map_err(|e| match e {
            IsoError::Truncated { field, .. } => IsoError::RepresentationTooShort {
                index,
                length,
                field,
            },
            e => e,
        })?;
        out.push(item);
    }
    if r.remaining() != 0 {
        return Err(IsoError::TrailingBytes {
            after: "the representations the header counts",
            count: r.remaining(),
        });
    }
    Ok(out)
}

/// Fills in the record length (bytes 8–11) once everything is written.
pub(super) fn finish_record(mut w: Writer) -> Result<Vec<u8>, IsoError> {
    let total = length_u32("record length", w.out.len())?;
    w.patch_u32(8, total);
    Ok(w.out)
}

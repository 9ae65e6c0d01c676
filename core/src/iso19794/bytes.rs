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

//! PTP datasets — DeviceInfo, StorageInfo, ObjectInfo — with PTP strings (u8 count of UCS-2
//! units including the NUL, then UCS-2LE) and arrays (u32 count, then elements). Decoding never
//! trusts a count: an array or string longer than the bytes left is an error, not an allocation.

use super::protocol::{CodecError, OperationCode};

/// Reads little-endian PTP values from a dataset.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, naming the dataset `what` in errors.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { bytes, what }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if self.bytes.len() < n {
            return Err(CodecError::Truncated {
                what: self.what,
                need: n,
                have: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, CodecError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2")))
    }
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }

    /// A PTP string; a trailing NUL is dropped, an unpaired surrogate is an error.
    pub fn string(&mut self, field: &'static str) -> Result<String, CodecError> {
        let count = self.u8()? as usize;
        let raw = self.take(count * 2)?;
        let mut units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        if units.last() == Some(&0) {
            units.pop();
        }
        String::from_utf16(&units).map_err(|_| CodecError::BadString { field })
    }

    fn count(&mut self, field: &'static str, size: usize) -> Result<usize, CodecError> {
        let count = self.u32()?;
        if (count as usize).saturating_mul(size) > self.bytes.len() {
            return Err(CodecError::BadArray {
                field,
                count,
                left: self.bytes.len(),
            });
        }
        Ok(count as usize)
    }

    /// An array of u16.
    pub fn array_u16(&mut self, field: &'static str) -> Result<Vec<u16>, CodecError> {
        let n = self.count(field, 2)?;
        (0..n).map(|_| self.u16()).collect()
    }

    /// An array of u32.
    pub fn array_u32(&mut self, field: &'static str) -> Result<Vec<u32>, CodecError> {
        let n = self.count(field, 4)?;
        (0..n).map(|_| self.u32()).collect()
    }

    /// Bytes not read yet.
    pub fn left(&self) -> usize {
        self.bytes.len()
    }

    /// Errors unless every byte was read.
    pub fn finish(self) -> Result<(), CodecError> {
        match self.bytes.len() {
            0 => Ok(()),
            extra => Err(CodecError::TrailingBytes {
                what: self.what,
                extra,
            }),
        }
    }
}

/// Writes little-endian PTP values.
#[derive(Debug, Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A PTP string: empty as a single 0, else the UTF-16 units and a NUL (254 units at most).
    pub fn string(&mut self, field: &'static str, s: &str) -> Result<(), CodecError> {
        if s.is_empty() {
            self.u8(0);
            return Ok(());
        }
        let units: Vec<u16> = s.encode_utf16().collect();
        if units.len() > 254 {
            return Err(CodecError::StringTooLong {
                field,
                len: units.len(),
            });
        }
        self.u8(units.len() as u8 + 1);
        for u in units.iter().chain(std::iter::once(&0)) {
            self.u16(*u);
        }
        Ok(())
    }

    pub fn array_u16(&mut self, v: &[u16]) {
        self.u32(v.len() as u32);
        v.iter().for_each(|x| self.u16(*x));
    }

    pub fn array_u32(&mut self, v: &[u32]) {
        self.u32(v.len() as u32);
        v.iter().for_each(|x| self.u32(*x));
    }
}

/// What a camera says about itself (GetDeviceInfo).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    /// PTP version × 100 (100 = 1.00).
    pub standard_version: u16,
    /// Whose vendor extension the camera speaks (see [`vendor_name`]); 0 none.
    pub vendor_extension_id: u32,
    pub vendor_extension_version: u16,
    pub vendor_extension_desc: String,
    pub functional_mode: u16,
    pub operations_supported: Vec<u16>,
    pub events_supported: Vec<u16>,
    pub device_properties_supported: Vec<u16>,
    pub capture_formats: Vec<u16>,
    pub image_formats: Vec<u16>,
    pub manufacturer: String,
    pub model: String,
    pub device_version: String,
    pub serial_number: String,
}

impl DeviceInfo {
    /// Whether the camera lists operation `op`.
    pub fn supports(&self, op: OperationCode) -> bool {
        self.operations_supported.contains(&op.0)
    }

    /// The vendor operations it lists (0x9000–0x9FFF).
    pub fn vendor_operations(&self) -> Vec<OperationCode> {
        self.operations_supported
            .iter()
            .map(|&c| OperationCode(c))
            .filter(|c| c.is_vendor())
            .collect()
    }

    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut w = Writer::default();
        w.u16(self.standard_version);
        w.u32(self.vendor_extension_id);
        w.u16(self.vendor_extension_version);
        w.string("VendorExtensionDesc", &self.vendor_extension_desc)?;
        w.u16(self.functional_mode);
        w.array_u16(&self.operations_supported);
        w.array_u16(&self.events_supported);
        w.array_u16(&self.device_properties_supported);
        w.array_u16(&self.capture_formats);
        w.array_u16(&self.image_formats);
        w.string("Manufacturer", &self.manufacturer)?;
        w.string("Model", &self.model)?;
        w.string("DeviceVersion", &self.device_version)?;
        w.string("SerialNumber", &self.serial_number)?;
        Ok(w.0)
    }

    /// Decodes a DeviceInfo dataset. Bytes after it are tolerated (newer PTP versions append).
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes, "DeviceInfo");
        Ok(DeviceInfo {
            standard_version: r.u16()?,
            vendor_extension_id: r.u32()?,
            vendor_extension_version: r.u16()?,
            vendor_extension_desc: r.string("VendorExtensionDesc")?,
            functional_mode: r.u16()?,
            operations_supported: r.array_u16("OperationsSupported")?,
            events_supported: r.array_u16("EventsSupported")?,
            device_properties_supported: r.array_u16("DevicePropertiesSupported")?,
            capture_formats: r.array_u16("CaptureFormats")?,
            image_formats: r.array_u16("ImageFormats")?,
            manufacturer: r.string("Manufacturer")?,
            model: r.string("Model")?,
            device_version: r.string("DeviceVersion")?,
            serial_number: r.string("SerialNumber")?,
        })
    }
}

/// The vendor behind a DeviceInfo VendorExtensionID, for messages (the PTP vendor id list).
pub fn vendor_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0x01 => "Eastman Kodak",
        0x02 => "Seiko Epson",
        0x03 => "Agilent",
        0x04 => "Polaroid",
        0x05 => "Agfa-Gevaert",
        0x06 => "Microsoft",
        0x07 => "Equinox",
        0x08 => "ViewQuest",
        0x09 => "STMicroelectronics",
        0x0A => "Nikon",
        0x0B => "Canon",
        0x0C => "FotoNation",
        0x0D => "Pentax",
        0x0E => "Fuji",
        0x11 => "Sony",
        0x1A => "Samsung",
        0x1C => "Panasonic",
        _ => return None,
    })
}

/// A storage (memory card, internal memory) of the camera (GetStorageInfo).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageInfo {
    /// 1 fixed ROM, 2 removable ROM, 3 fixed RAM, 4 removable RAM.
    pub storage_type: u16,
    /// 1 generic flat, 2 generic hierarchical, 3 DCF.
    pub filesystem_type: u16,
    /// 0 read-write, 1 read-only without deletion, 2 read-only with deletion.
    pub access_capability: u16,
    pub max_capacity: u64,
    pub free_space_bytes: u64,
    /// Photos that still fit, or 0xFFFFFFFF when the camera does not say.
    pub free_space_images: u32,
    pub description: String,
    pub volume_label: String,
}

impl StorageInfo {
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut w = Writer::default();
        w.u16(self.storage_type);
        w.u16(self.filesystem_type);
        w.u16(self.access_capability);
        w.u64(self.max_capacity);
        w.u64(self.free_space_bytes);
        w.u32(self.free_space_images);
        w.string("StorageDescription", &self.description)?;
        w.string("VolumeLabel", &self.volume_label)?;
        Ok(w.0)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes, "StorageInfo");
        Ok(StorageInfo {
            storage_type: r.u16()?,
            filesystem_type: r.u16()?,
            access_capability: r.u16()?,
            max_capacity: r.u64()?,
            free_space_bytes: r.u64()?,
            free_space_images: r.u32()?,
            description: r.string("StorageDescription")?,
            volume_label: r.string("VolumeLabel")?,
        })
    }
}

/// What the camera says about one object (a photo, a folder): GetObjectInfo.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectInfo {
    pub storage_id: u32,
    /// A [`super::FormatCode`] value (0x3801 EXIF/JPEG for photos).
    pub format: u16,
    pub protection: u16,
    /// Size of the object in bytes (what GetObject delivers).
    pub compressed_size: u32,
    pub thumb_format: u16,
    pub thumb_size: u32,
    pub thumb_width: u32,
    pub thumb_height: u32,
    pub image_width: u32,
    pub image_height: u32,
    pub bit_depth: u32,
    pub parent: u32,
    pub association_type: u16,
    pub association_desc: u32,
    pub sequence_number: u32,
    pub filename: String,
    /// `YYYYMMDDThhmmss[.s][Z|±hhmm]`, as the camera writes it.
    pub capture_date: String,
    pub modification_date: String,
    pub keywords: String,
}

impl ObjectInfo {
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut w = Writer::default();
        w.u32(self.storage_id);
        w.u16(self.format);
        w.u16(self.protection);
        w.u32(self.compressed_size);
        w.u16(self.thumb_format);
        w.u32(self.thumb_size);
        w.u32(self.thumb_width);
        w.u32(self.thumb_height);
        w.u32(self.image_width);
        w.u32(self.image_height);
        w.u32(self.bit_depth);
        w.u32(self.parent);
        w.u16(self.association_type);
        w.u32(self.association_desc);
        w.u32(self.sequence_number);
        w.string("Filename", &self.filename)?;
        w.string("CaptureDate", &self.capture_date)?;
        w.string("ModificationDate", &self.modification_date)?;
        w.string("Keywords", &self.keywords)?;
        Ok(w.0)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes, "ObjectInfo");
        Ok(ObjectInfo {
            storage_id: r.u32()?,
            format: r.u16()?,
            protection: r.u16()?,
            compressed_size: r.u32()?,
            thumb_format: r.u16()?,
            thumb_size: r.u32()?,
            thumb_width: r.u32()?,
            thumb_height: r.u32()?,
            image_width: r.u32()?,
            image_height: r.u32()?,
            bit_depth: r.u32()?,
            parent: r.u32()?,
            association_type: r.u16()?,
            association_desc: r.u32()?,
            sequence_number: r.u32()?,
            filename: r.string("Filename")?,
            capture_date: r.string("CaptureDate")?,
            modification_date: r.string("ModificationDate")?,
            keywords: r.string("Keywords")?,
        })
    }
}

/// Decodes a dataset that is one array of u32 (GetStorageIDs, GetObjectHandles).
pub fn decode_u32_array(bytes: &[u8], what: &'static str) -> Result<Vec<u32>, CodecError> {
    let mut r = Reader::new(bytes, what);
    let v = r.array_u32(what)?;
    r.finish()?;
    Ok(v)
}

/// Encodes a dataset that is one array of u32.
pub fn encode_u32_array(v: &[u32]) -> Vec<u8> {
    let mut w = Writer::default();
    w.array_u32(v);
    w.0
}

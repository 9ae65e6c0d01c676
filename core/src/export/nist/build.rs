//! Building a transaction from an opened packet: Type-1, Type-2 (profile), one Type-14 per finger
//! (captured, or amputated/bandaged), Type-10 for the face, Type-8 for the signature.
//!
//! The mapping is documented field by field in docs/export-nist.md.

use schemars::JsonSchema;
use serde::Serialize;

use super::profile::{clean, date, gmt, visit_value, Profile};
use super::record::{Field, Record, Transaction, Type8};
use crate::packet::Contents;
use crate::visit::{Capture, ExceptionReason, FingerPosition, Slot};

/// ANSI/NIST-ITL 1-2011 Update 2015 (edition 3).
pub const VERSION: &str = "0502";
/// WSQ bit rate used when a PNG finger is compressed at export time (the FBI's 15:1 setting).
pub const WSQ_BITRATE: f32 = 0.75;
/// IDC of the Type-2 record, which every image record names in its T2C field (xx.992).
pub const TYPE2_IDC: u32 = 0;

/// Why a packet could not be exported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("the packet has no file {0:?} although its manifest names it")]
    MissingFile(String),
    #[error("{file}: {message}")]
    Image { file: String, message: String },
    #[error("too many records for one transaction (IDC above 255)")]
    TooManyRecords,
    #[error("the signature image is larger than a Type-8 record holds")]
    TooLarge,
    /// The writer produced bytes its own reader refuses: a bug in jemput, reported instead of
    /// writing a broken file.
    #[error("internal error, please report it: {0}")]
    Internal(String),
}

/// What an export wrote, for the CLI and the JSON output.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExportSummary {
    /// 1.009 TCN (the packet id).
    pub tcn: String,
    /// Record counts by type, in file order (`1`, `2`, `14`, ...).
    pub records: Vec<u32>,
    /// Finger positions written with an image.
    pub fingers: Vec<u8>,
    /// Finger positions written as amputated (XX) or bandaged (UP) without an image.
    pub fingers_missing: Vec<u8>,
    /// Fingers PNG-encoded in the packet and WSQ-compressed at export.
    pub fingers_compressed: Vec<u8>,
    /// Fingers whose Type-14 image is the device's original (its ISO/IEC 19794-4 record's
    /// image, as the device coded it), with `--fingers original`.
    #[serde(default)]
    pub fingers_original: Vec<u8>,
    pub face: bool,
    pub signature: bool,
    /// Things the reader of the file should know (e.g. exceptions only in Type-2).
    pub notes: Vec<String>,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// Export-time choices that are not part of the profile.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub profile: Profile,
    /// The moment of export (1.005 DAT and 1.014 GMT).
    pub now: jiff::Timestamp,
    /// Where the finger images come from.
    pub fingers: FingerSource,
}

/// Where a finger's Type-14 image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FingerSource {
    /// The packet's finger file: its WSQ, or its PNG compressed to WSQ at export.
    #[default]
    Packet,
    /// The device's original ISO/IEC 19794-4 record, where the capture keeps one beside its WSQ
    /// (an SBI scanner's `finger-NN.iso19794-4`): its image as the device coded it (WSQ, JPEG
    /// 2000, PNG or uncompressed 8-bit), without decoding or compressing again. A finger with
    /// no original, or one whose coding a Type-14 does not take here, gets the packet's file
    /// and a note saying so.
    Original,
}

/// A finger image ready for a Type-14: its bytes, 14.011 CGA, size, resolutions, bit depth.
struct FingerData {
    image: Vec<u8>,
    cga: &'static str,
    width: u32,
    height: u32,
    /// Image resolution (14.009/010), pixels per inch.
    ppi: u32,
    /// Scanning resolution (14.016/017), pixels per inch.
    scan_ppi: u32,
    bpx: u8,
}

/// The 14.011 CGA label (ANSI/NIST-ITL 1-2011 Update 2015, Table 15) for an ISO/IEC 19794-4
/// image coding, when a Type-14 can carry the bytes as they are: WSQ as `WSQ20`, JPEG 2000 as
/// `JP2` (lossy) or `JP2L` (lossless), PNG as `PNG`, uncompressed 8-bit samples as `NONE`. Lossy
/// JPEG (`JPEGB`) and bit-packed samples below 8 bits are not carried: the standard's guidance
/// for friction ridge images names WSQ and JPEG 2000, and a `NONE` image is 8 bits a pixel here.
fn cga_of(format: crate::iso19794::ImageFormat, bit_depth: u8) -> Option<&'static str> {
    use crate::iso19794::ImageFormat as F;
    match format {
        F::Wsq => Some("WSQ20"),
        F::Jpeg2000 => Some("JP2"),
        F::Jpeg2000Lossless => Some("JP2L"),
        F::Png => Some("PNG"),
        F::Raw if bit_depth == 8 => Some("NONE"),
        F::Raw | F::RawPacked | F::Jpeg => None,
    }
}

/// The device's original image of finger `pos`, from the capture's ISO/IEC 19794-4 record, or
/// why there is none to use (a note for the summary).
fn original_finger(c: &Contents, pos: FingerPosition, cap: &Capture) -> Result<FingerData, String> {
    use crate::iso19794::{read_finger_record, ScaleUnits};
    let name = cap
        .extra_files
        .iter()
        .find(|f| f.ends_with(".iso19794-4"))
        .ok_or("no original ISO/IEC 19794-4 record in the packet")?;
    let bytes = file(c, name).map_err(|e| e.to_string())?;
    let record = read_finger_record(bytes).map_err(|e| format!("{name}: {e}"))?;
    let image = match record.images.as_slice() {
        [one] => one,
        many => many
            .iter()
            .find(|i| i.position.finger() == Some(pos))
            .ok_or_else(|| format!("{name} holds no image of finger {}", pos.code()))?,
    };
    let cga = cga_of(image.format, image.bit_depth).ok_or_else(|| {
        format!(
            "{name} holds a {} image of {} bits a pixel, which this export does not put in a Type-14",
            image.format.name(),
            image.bit_depth
        )
    })?;
    let scan_ppi = match image.scale_units {
        ScaleUnits::PixelsPerInch => u32::from(image.scan_rate.0),
        ScaleUnits::PixelsPerCentimetre => (u32::from(image.scan_rate.0) * 254 + 50) / 100,
    };
    Ok(FingerData {
        image: image.image.clone(),
        cga,
        width: u32::from(image.width),
        height: u32::from(image.height),
        ppi: image.ppi(),
        scan_ppi,
        bpx: image.bit_depth,
    })
}

fn file<'a>(c: &'a Contents, name: &str) -> Result<&'a [u8], ExportError> {
    c.files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .ok_or_else(|| ExportError::MissingFile(name.into()))
}

fn image_err(file: &str, message: impl ToString) -> ExportError {
    ExportError::Image {
        file: file.into(),
        message: message.to_string(),
    }
}

/// Builds the transaction for an opened packet.
pub fn build(
    c: &Contents,
    opts: &ExportOptions,
) -> Result<(Transaction, ExportSummary), ExportError> {
    let p = &opts.profile;
    let visit = &c.manifest.visit;
    let mut summary = ExportSummary {
        tcn: c.manifest.packet_id.clone(),
        records: Vec::new(),
        fingers: Vec::new(),
        fingers_missing: Vec::new(),
        fingers_compressed: Vec::new(),
        fingers_original: Vec::new(),
        face: false,
        signature: false,
        notes: Vec::new(),
        bytes: 0,
    };

    // Type-2 first (its IDC is the one the image records cross-reference).
    let mut t2 = vec![Field::text(2, TYPE2_IDC.to_string())];
    let mut mapped: Vec<_> = p.type2.iter().collect();
    mapped.sort_by_key(|f| f.field);
    for f in mapped {
        let sub = match (&f.value, &f.literal) {
            (Some(v), _) => visit_value(*v, visit, &c.manifest.kit_id, &c.manifest.packet_id),
            (None, Some(l)) => Some(vec![vec![clean(l)]]),
            (None, None) => None,
        };
        if let Some(sub) = sub {
            t2.push(Field::items(f.field, &sub));
        }
    }
    let mut records = vec![Record::Tagged {
        record_type: 2,
        fields: t2,
    }];
    let mut next_idc = 1u32;
    let mut take_idc = || {
        let i = next_idc;
        next_idc += 1;
        (i <= 255).then_some(i).ok_or(ExportError::TooManyRecords)
    };

    for (pos, slot) in &visit.captures.fingers {
        match slot {
            Slot::Captured(cap) => {
                let idc = take_idc()?;
                records.push(finger_record(c, opts, *pos, cap, idc, &mut summary)?);
                summary.fingers.push(pos.code());
            }
            Slot::Exception(e) => {
                let code = match e.reason {
                    ExceptionReason::Amputated => "XX",
                    ExceptionReason::BandagedOrInjured => "UP",
                    _ => {
                        summary.notes.push(format!(
                            "finger {} has exception {:?}: no Type-14 (only in the Type-2 exceptions)",
                            pos.code(),
                            e.reason.label_id()
                        ));
                        continue;
                    }
                };
                let idc = take_idc()?;
                records.push(Record::Tagged {
                    record_type: 14,
                    fields: vec![
                        Field::text(2, idc.to_string()),
                        Field::text(3, "0"),
                        Field::text(4, p.ori.clone()),
                        Field::text(5, date(e.noted_at)),
                        Field::text(13, pos.code().to_string()),
                        Field::items(18, &[vec![pos.code().to_string(), code.into()]]),
                        Field::text(992, TYPE2_IDC.to_string()),
                    ],
                });
                summary.fingers_missing.push(pos.code());
            }
        }
    }

    if let Some(Slot::Captured(cap)) = &visit.captures.face {
        let idc = take_idc()?;
        records.push(face_record(c, p, cap, idc)?);
        summary.face = true;
    }
    if let Some(Slot::Captured(cap)) = &visit.captures.signature {
        let idc = take_idc()?;
        records.push(signature_record(c, cap, idc)?);
        summary.signature = true;
    }

    let mut t1 = vec![
        Field::text(2, VERSION),
        Field::text(4, p.tot.clone()),
        Field::text(5, date(opts.now)),
        Field::text(7, p.dai.clone()),
        Field::text(8, p.ori.clone()),
        Field::text(9, c.manifest.packet_id.clone()),
        Field::text(11, p.nsr.clone()),
        Field::text(12, p.ntr.clone()),
        Field::text(14, gmt(opts.now)),
    ];
    let non_ascii = records.iter().any(|r| match r {
        Record::Tagged { fields, .. } => fields
            .iter()
            .any(|f| f.number != 999 && !f.value.is_ascii()),
        Record::Type8(_) => false,
    });
    if non_ascii {
        // 1.015 DCS: character set index 3 = UTF-8.
        t1.push(Field::items(15, &[vec!["3".into(), "UTF-8".into()]]));
    }
    records.insert(
        0,
        Record::Tagged {
            record_type: 1,
            fields: t1,
        },
    );
    summary.records = records.iter().map(Record::record_type).collect();
    Ok((Transaction { records }, summary))
}

fn finger_record(
    c: &Contents,
    opts: &ExportOptions,
    pos: FingerPosition,
    cap: &Capture,
    idc: u32,
    summary: &mut ExportSummary,
) -> Result<Record, ExportError> {
    let p = &opts.profile;
    let data = match opts.fingers {
        FingerSource::Original => match original_finger(c, pos, cap) {
            Ok(d) => {
                summary.fingers_original.push(pos.code());
                d
            }
            Err(why) => {
                summary.notes.push(format!(
                    "finger {}: {why}; the packet's {} is used",
                    pos.code(),
                    cap.file
                ));
                packet_finger(c, pos, cap, summary)?
            }
        },
        FingerSource::Packet => packet_finger(c, pos, cap, summary)?,
    };
    let FingerData {
        image,
        cga,
        width,
        height,
        ppi,
        scan_ppi,
        bpx,
    } = data;
    let fgp = pos.code().to_string();
    let mut fields = vec![
        Field::text(2, idc.to_string()),
        Field::text(3, "0"),
        Field::text(4, p.ori.clone()),
        Field::text(5, date(cap.captured_at)),
        Field::text(6, width.to_string()),
        Field::text(7, height.to_string()),
        Field::text(8, "1"),
        Field::text(9, ppi.to_string()),
        Field::text(10, ppi.to_string()),
        Field::text(11, cga),
        Field::text(12, bpx.to_string()),
        Field::text(13, fgp.clone()),
        Field::text(16, scan_ppi.to_string()),
        Field::text(17, scan_ppi.to_string()),
    ];
    if let Some(q) = &cap.quality {
        fields.push(Field::text(
            20,
            clean(&format!("quality algorithm {}", q.algorithm)),
        ));
        if let Some(code) = p.quality_products.get(&q.algorithm) {
            fields.push(Field::items(
                24,
                &[vec![
                    fgp,
                    q.score.min(100).to_string(),
                    p.quality_vendor_id.to_uppercase(),
                    code.to_string(),
                ]],
            ));
        } else {
            summary.notes.push(format!(
                "finger {}: quality algorithm {:?} has no product code in the profile; no 14.024",
                pos.code(),
                q.algorithm
            ));
        }
    }
    fields.push(Field::text(992, TYPE2_IDC.to_string()));
    fields.push(Field::binary(999, image));
    Ok(Record::Tagged {
        record_type: 14,
        fields,
    })
}

/// The packet's finger file as a Type-14 image: its WSQ as it is, or its PNG compressed to WSQ.
fn packet_finger(
    c: &Contents,
    pos: FingerPosition,
    cap: &Capture,
    summary: &mut ExportSummary,
) -> Result<FingerData, ExportError> {
    let bytes = file(c, &cap.file)?;
    let (wsq, width, height, ppi) = if bytes.starts_with(&[0xFF, 0xA0]) {
        let d = jemput_wsq::decode(bytes).map_err(|e| image_err(&cap.file, e))?;
        let ppi = d.image.ppi.or(cap.ppi).unwrap_or(500);
        (bytes.to_vec(), d.image.width, d.image.height, ppi)
    } else if cap.media_type == "image/png" || bytes.starts_with(b"\x89PNG") {
        let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .map_err(|e| image_err(&cap.file, e))?
            .to_luma8();
        let ppi = cap.ppi.unwrap_or(500);
        let (w, h) = img.dimensions();
        let wsq = jemput_wsq::encode(
            &jemput_wsq::Image {
                width: w,
                height: h,
                ppi: Some(ppi),
                pixels: img.into_raw(),
            },
            &jemput_wsq::EncodeOptions {
                bitrate: WSQ_BITRATE,
                ppi: Some(ppi),
                restart_interval: None,
            },
        )
        .map_err(|e| image_err(&cap.file, e))?;
        summary.fingers_compressed.push(pos.code());
        (wsq, w, h, ppi)
    } else {
        return Err(image_err(
            &cap.file,
            format!(
                "finger image of type {:?} (only WSQ or PNG can go in a Type-14)",
                cap.media_type
            ),
        ));
    };
    Ok(FingerData {
        image: wsq,
        cga: "WSQ20",
        width,
        height,
        ppi,
        scan_ppi: ppi,
        bpx: 8,
    })
}

fn face_record(c: &Contents, p: &Profile, cap: &Capture, idc: u32) -> Result<Record, ExportError> {
    let bytes = file(c, &cap.file)?;
    let format = image::guess_format(bytes).map_err(|e| image_err(&cap.file, e))?;
    let cga = match format {
        image::ImageFormat::Jpeg => "JPEGB",
        image::ImageFormat::Png => "PNG",
        other => {
            return Err(image_err(
                &cap.file,
                format!("face image format {other:?} cannot go in a Type-10"),
            ))
        }
    };
    let img =
        image::load_from_memory_with_format(bytes, format).map_err(|e| image_err(&cap.file, e))?;
    // ANSI/NIST-ITL 1-2011 §4.5: sRGB is the preferred colour space for compressed images;
    // `YCC` is the legacy label (read as device-dependent RGB) and `SYCC` is for JPEG 2000. The
    // cameras' and jemput's own JPEGs are sRGB (JFIF's YCbCr is only how JPEG stores them).
    let csp = if img.color().has_color() {
        "SRGB"
    } else {
        "GRAY"
    };
    Ok(Record::Tagged {
        record_type: 10,
        fields: vec![
            Field::text(2, idc.to_string()),
            Field::text(3, "FACE"),
            Field::text(4, p.ori.clone()),
            Field::text(5, date(cap.captured_at)),
            Field::text(6, img.width().to_string()),
            Field::text(7, img.height().to_string()),
            // No physical scale: SLC 0 with the pixel aspect ratio 1:1.
            Field::text(8, "0"),
            Field::text(9, "1"),
            Field::text(10, "1"),
            Field::text(11, cga),
            Field::text(12, csp),
            Field::text(13, p.face_sap.clone()),
            Field::text(992, TYPE2_IDC.to_string()),
            Field::binary(999, bytes.to_vec()),
        ],
    })
}

/// Type-8, scanned and uncompressed (SRT 0): the rendered signature thresholded to one bit per
/// pixel, packed eight pixels to a byte, most significant bit first, 1 = ink, rows padded to a byte.
fn signature_record(c: &Contents, cap: &Capture, idc: u32) -> Result<Record, ExportError> {
    let bytes = file(c, &cap.file)?;
    let img = image::load_from_memory(bytes)
        .map_err(|e| image_err(&cap.file, e))?
        .to_luma8();
    let (w, h) = img.dimensions();
    let (hll, vll) = match (u16::try_from(w), u16::try_from(h)) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return Err(ExportError::TooLarge),
    };
    let data = pack_binary(&img);
    Ok(Record::Type8(Type8 {
        idc: idc as u8,
        sig: 0,
        srt: 0,
        isr: 0,
        hll,
        vll,
        data,
    }))
}

/// Packs a grey image to 1 bit per pixel (grey < 128 → 1), rows padded to whole bytes.
pub fn pack_binary(img: &image::GrayImage) -> Vec<u8> {
    let (w, h) = img.dimensions();
    let row = (w as usize).div_ceil(8);
    let mut out = vec![0u8; row * h as usize];
    for (x, y, px) in img.enumerate_pixels() {
        if px.0[0] < 128 {
            out[y as usize * row + x as usize / 8] |= 0x80 >> (x % 8);
        }
    }
    out
}

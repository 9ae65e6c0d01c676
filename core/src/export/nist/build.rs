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
                records.push(finger_record(c, p, *pos, cap, idc, &mut summary)?);
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
    p: &Profile,
    pos: FingerPosition,
    cap: &Capture,
    idc: u32,
    summary: &mut ExportSummary,
) -> Result<Record, ExportError> {
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
        Field::text(11, "WSQ20"),
        Field::text(12, "8"),
        Field::text(13, fgp.clone()),
        Field::text(16, ppi.to_string()),
        Field::text(17, ppi.to_string()),
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
    fields.push(Field::binary(999, wsq));
    Ok(Record::Tagged {
        record_type: 14,
        fields,
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

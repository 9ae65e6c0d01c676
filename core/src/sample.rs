//! Complete synthetic visits for the demo, the tests and trainers: never data from a real person.
//!
//! The visit's structure (resident, NIK, consent, place, every slot) is built here; the pixels and
//! pen samples come from a [`Generator`]. The kit's generator is the device models' synthetic one
//! (`jemput_kit::visit::sample`); [`Plain`] gives flat images and a straight stroke, for tests of
//! formats that never look at the pixels.

use std::collections::BTreeMap;

use image::{GrayImage, ImageEncoder, RgbImage};
use jiff::Timestamp;
use uuid::Uuid;

use crate::imaging::face::{BackgroundRule, FaceContext};
use crate::imaging::finger::{encode_wsq, wsq_file_name};
use crate::imaging::quality::{FingerQuality, JemputFq};
use crate::imaging::signature::{
    self, PenPoint, PenTrace, RenderOptions, SignatureKind, SignatureTrace,
};
use crate::packet::PacketFile;
use crate::visit::*;

/// Where a synthetic visit's biometrics come from. Every method is a pure function of its
/// arguments.
pub trait Generator {
    /// A head and shoulders photo on a `background` backdrop, for the face slot.
    fn face(&self, seed: u64, background: [u8; 3]) -> RgbImage;
    /// An 8-bit finger image and its resolution (ppi); `quality` 0.0–1.0 is a knob of the
    /// generator (the recorded score is `jemput-fq/1`'s).
    fn fingerprint(&self, seed: u64, finger: FingerPosition, quality: f32) -> (GrayImage, u32);
    /// A pen trace of `name` written on a pad.
    fn signature(&self, seed: u64, name: &str) -> PenTrace;
    /// A photo of a document titled `title`.
    fn document(&self, seed: u64, title: &str) -> RgbImage;
}

/// Flat images and one straight pen stroke: complete, valid files, cheap to make, that no face
/// check or quality measure would pass. For tests of packets, stores and exports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Generator for Plain {
    fn face(&self, _seed: u64, background: [u8; 3]) -> RgbImage {
        RgbImage::from_pixel(48, 64, image::Rgb(background))
    }
    fn fingerprint(&self, seed: u64, finger: FingerPosition, _quality: f32) -> (GrayImage, u32) {
        let shade = (seed as u8).wrapping_mul(31).wrapping_add(finger.code());
        (GrayImage::from_pixel(64, 80, image::Luma([shade])), 500)
    }
    fn signature(&self, _seed: u64, _name: &str) -> PenTrace {
        PenTrace {
            extent_x: 10_000,
            extent_y: 3_000,
            max_pressure: 1023,
            points: (0..20)
                .map(|i| PenPoint {
                    x: 1_000 + i * 400,
                    y: 1_500,
                    pressure: 600,
                    t_ms: i * 10,
                    touching: true,
                })
                .collect(),
        }
    }
    fn document(&self, seed: u64, _title: &str) -> RgbImage {
        RgbImage::from_pixel(120, 90, image::Rgb([250, 250, (seed % 200) as u8]))
    }
}

/// Encodes an RGB image as a baseline JPEG file at `quality` (1–100).
fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding an RGB image into memory cannot fail");
    out
}

/// Choices for a synthetic visit.
#[derive(Debug, Clone)]
pub struct SampleOptions {
    pub category: Category,
    pub operator: String,
    /// Fingers to record as exceptions instead of captures.
    pub finger_exceptions: Vec<(FingerPosition, ExceptionReason, Permanence)>,
    /// Record the signature as an exception (unable to sign) instead of a trace.
    pub signature_exception: bool,
    /// Fingerprint quality knob of the generator, 0.0–1.0 (the recorded score is `jemput-fq/1`'s).
    pub quality: f32,
    /// WSQ bit rate of the fingers.
    pub wsq_bitrate: f32,
    pub documents: usize,
    /// Leave the face, fingers and signature empty: they are taken from devices (the kit's visit
    /// engine).
    pub biometrics_from_devices: bool,
    /// What the synthetic resident wrote on the pad.
    pub signature_kind: SignatureKind,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            category: Category::Umum,
            operator: "op-demo".into(),
            finger_exceptions: Vec::new(),
            signature_exception: false,
            quality: 0.9,
            wsq_bitrate: crate::visit::policy::WSQ_BITRATE,
            documents: 0,
            biometrics_from_devices: false,
            signature_kind: SignatureKind::Signature,
        }
    }
}

fn synthetic_device(model: &str) -> DeviceRecord {
    DeviceRecord {
        driver: "synthetic".into(),
        model: model.into(),
        serial: None,
        firmware: Some(env!("CARGO_PKG_VERSION").into()),
    }
}

/// A synthetic NIK consistent with the given sex and birth date (region 74 08 01: Kolaka Utara).
pub fn synthetic_nik(seed: u64, sex: Sex, birth: jiff::civil::Date) -> String {
    let day = birth.day() as u64 + if sex == Sex::Female { 40 } else { 0 };
    format!(
        "740801{day:02}{:02}{:02}{:04}",
        birth.month(),
        birth.year().rem_euclid(100),
        seed % 9999 + 1
    )
}

/// Builds a complete synthetic visit and its files with `generator`, deterministic in `seed`
/// (except times and ids).
pub fn synthetic_visit(
    generator: &dyn Generator,
    seed: u64,
    opts: &SampleOptions,
) -> (Visit, Vec<PacketFile>) {
    let now = Timestamp::now();
    let sex = if seed.is_multiple_of(2) {
        Sex::Female
    } else {
        Sex::Male
    };
    let year = 1940 + (seed % 60) as i16;
    let birth = jiff::civil::Date::new(year, (seed % 12) as i8 + 1, (seed % 28) as i8 + 1)
        .expect("valid date");
    let mut files = Vec::new();
    let mut captures = Captures::default();
    let capture = |file: &str, model: &str, w: u32, h: u32, ppi: Option<u32>| Capture {
        file: file.into(),
        media_type: crate::packet::manifest::media_type_for(file).into(),
        extra_files: Vec::new(),
        captured_at: now,
        device: synthetic_device(model),
        calibration_id: None,
        device_quality: None,
        quality: None,
        retries: 0,
        forced: false,
        width: Some(w),
        height: Some(h),
        ppi,
        face_checks: None,
        signature_kind: None,
    };

    if opts.category.records_biometrics() {
        if !opts.biometrics_from_devices {
            // The backdrop the default colour rule asks for (docs/field.md §1).
            let ctx = FaceContext {
                birth_year: Some(year),
                foreigner: false,
            };
            let bg = BackgroundRule::default()
                .expected(&ctx)
                .map_or([200, 30, 40], |(c, _)| c);
            let face = generator.face(seed, bg);
            files.push(PacketFile {
                name: "face.jpg".into(),
                bytes: jpeg(&face, 90),
            });
            captures.face = Some(Slot::Captured(capture(
                "face.jpg",
                "synthetic-camera",
                face.width(),
                face.height(),
                None,
            )));
        }

        let mut fingers = BTreeMap::new();
        let synthetic_fingers = if opts.biometrics_from_devices {
            Vec::new()
        } else {
            FingerPosition::all().collect()
        };
        for pos in synthetic_fingers {
            if let Some((_, reason, perm)) =
                opts.finger_exceptions.iter().find(|(p, _, _)| *p == pos)
            {
                fingers.insert(
                    pos,
                    Slot::Exception(Exception {
                        reason: reason.clone(),
                        permanence: *perm,
                        proof_file: None,
                        noted_at: now,
                    }),
                );
                continue;
            }
            let (img, ppi) = generator.fingerprint(seed, pos, opts.quality);
            // Scored on the uncompressed image, then stored as WSQ like a captured finger.
            let score = JemputFq.score(&img).score;
            let name = wsq_file_name(pos);
            let (width, height) = img.dimensions();
            files.push(PacketFile {
                name: name.clone(),
                bytes: encode_wsq(width, height, ppi, img.into_raw(), opts.wsq_bitrate)
                    .expect("a synthetic print encodes to WSQ"),
            });
            let mut c = capture(&name, "synthetic-scanner", width, height, Some(ppi));
            c.quality = Some(Quality {
                score,
                algorithm: JemputFq.algorithm_id().into(),
            });
            fingers.insert(pos, Slot::Captured(c));
        }
        captures.fingers = fingers;

        captures.signature = if opts.biometrics_from_devices {
            None
        } else {
            Some(if opts.signature_exception {
                Slot::Exception(Exception {
                    reason: ExceptionReason::UnableToSign,
                    permanence: Permanence::Permanent,
                    proof_file: None,
                    noted_at: now,
                })
            } else {
                let trace = SignatureTrace::new(
                    generator.signature(seed, "warga"),
                    opts.signature_kind,
                    Some(synthetic_device("synthetic-pad")),
                    None,
                );
                let img = signature::render(&trace, &RenderOptions::default());
                files.push(PacketFile {
                    name: "signature.png".into(),
                    bytes: signature::png(&img),
                });
                files.push(PacketFile {
                    name: "signature-trace.json".into(),
                    bytes: trace.to_json(),
                });
                let mut c = capture(
                    "signature.png",
                    "synthetic-pad",
                    img.width(),
                    img.height(),
                    None,
                );
                c.extra_files = vec!["signature-trace.json".into()];
                c.signature_kind = Some(opts.signature_kind);
                c.quality = Some(Quality {
                    score: signature::quality(&trace.pen_trace()).score,
                    algorithm: signature::SIGNATURE_QUALITY_ID.into(),
                });
                Slot::Captured(c)
            })
        };
    }
    let docs = if opts.category == Category::Dokumen {
        opts.documents.max(1)
    } else {
        opts.documents
    };
    for i in 0..docs {
        let img = generator.document(seed.wrapping_add(i as u64), "dokumen");
        let name = format!("document-{}.jpg", i + 1);
        files.push(PacketFile {
            name: name.clone(),
            bytes: jpeg(&img, 80),
        });
        captures.documents.push(capture(
            &name,
            "synthetic-camera",
            img.width(),
            img.height(),
            None,
        ));
    }

    let visit = Visit {
        id: Uuid::new_v4(),
        resident: Resident {
            reference: ResidentRef::Nik(synthetic_nik(seed, sex, birth)),
            name: Some(format!("Warga Contoh {seed}")),
            sex: Some(sex),
            birth_date: Some(birth),
            foreigner: false,
        },
        category: opts.category,
        operator: Operator {
            id: opts.operator.clone(),
            name: None,
        },
        consent: Some(Consent {
            given: true,
            given_by: if opts.category == Category::Odgj {
                ConsentBy::Guardian("Keluarga (wali)".into())
            } else {
                ConsentBy::Resident
            },
            at: now,
        }),
        place: Place {
            description: format!("Desa Contoh, rumah {}", seed % 100),
            location: Some(GeoPoint {
                lat: -3.1 - (seed % 100) as f64 * 0.001,
                lon: 121.1 + (seed % 100) as f64 * 0.001,
                accuracy_m: Some(15.0),
            }),
        },
        started_at: now,
        captures,
        confirmed_warnings: Vec::new(),
    };
    (visit, files)
}

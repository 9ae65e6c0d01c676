//! Complete synthetic visits for the demo, the tests and trainers: every capture from the built-in
//! generators, never from a real person.

use std::collections::BTreeMap;

use jiff::Timestamp;
use uuid::Uuid;

use super::model::*;
use super::synth;
use crate::imaging::face::{BackgroundRule, FaceContext};
use crate::imaging::quality::{FingerQuality, JemputFq};
use crate::imaging::signature::{self, RenderOptions, SignatureKind, SignatureTrace};
use crate::packet::PacketFile;

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
    /// Leave the face, fingers and signature empty: they are taken from devices
    /// ([`super::capture::capture_with_devices`]).
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
            wsq_bitrate: super::policy::WSQ_BITRATE,
            documents: 0,
            biometrics_from_devices: false,
            signature_kind: SignatureKind::Signature,
        }
    }
}

fn synthetic_device(model: &str) -> DeviceInfo {
    DeviceInfo {
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

/// Builds a complete synthetic visit and its files, deterministic in `seed` (except times and ids).
pub fn synthetic_visit(seed: u64, opts: &SampleOptions) -> (Visit, Vec<PacketFile>) {
    let now = Timestamp::now();
    let sex = if seed % 2 == 0 {
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
            // The backdrop the default colour rule asks for (reference/field.md §2).
            let ctx = FaceContext {
                birth_year: Some(year),
                foreigner: false,
            };
            let bg = BackgroundRule::default()
                .expected(&ctx)
                .map_or([200, 30, 40], |(c, _)| c);
            let face = synth::face(seed, bg);
            files.push(PacketFile {
                name: "face.jpg".into(),
                bytes: synth::jpeg_rgb(&face, 90),
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
            let img = synth::fingerprint(seed, pos, opts.quality);
            // Scored on the uncompressed image, then stored as WSQ like a captured finger.
            let score = image::GrayImage::from_raw(img.width, img.height, img.pixels.clone())
                .map(|g| JemputFq.score(&g).score)
                .unwrap_or(0);
            let name = super::fingers::wsq_file_name(pos);
            files.push(PacketFile {
                name: name.clone(),
                bytes: super::fingers::encode_wsq(&img, opts.wsq_bitrate)
                    .expect("a synthetic print encodes to WSQ"),
            });
            let mut c = capture(
                &name,
                "synthetic-scanner",
                img.width,
                img.height,
                Some(img.ppi),
            );
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
                    synth::signature_trace(seed, "warga"),
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
        let img = synth::document(seed.wrapping_add(i as u64), "dokumen");
        let name = format!("document-{}.jpg", i + 1);
        files.push(PacketFile {
            name: name.clone(),
            bytes: synth::jpeg_rgb(&img, 80),
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

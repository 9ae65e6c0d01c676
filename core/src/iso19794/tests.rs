//! The records against bytes computed by hand from the layout in `docs/iso19794.md` §2 and §3,
//! round trips, and every length and count made inconsistent.

use super::*;
use crate::finger::FingerPosition;

const TIME: CaptureTime = CaptureTime {
    year: 2026,
    month: 12,
    day: 7,
    hour: 3,
    minute: 4,
    second: 5,
    millisecond: 678,
};

/// One right index finger, "WSQ" (three stand-in bytes), 500 ppi, 3 × 2, one quality block.
fn small_finger() -> FingerRecord {
    let mut image = FingerImage::new(
        FingerCode::from(FingerPosition::new(2).unwrap()),
        ImageFormat::Wsq,
        3,
        2,
        500,
        vec![0xAA, 0xBB, 0xCC],
    );
    image.capture_time = TIME;
    image.device = CaptureDevice {
        technology: 14,
        vendor: 0x1234,
        device_type: 0x5678,
    };
    image.quality = vec![QualityBlock {
        score: 80,
        algorithm_vendor: 0x000F,
        algorithm: 0x0001,
    }];
    FingerRecord::new(vec![image])
}

#[rustfmt::skip]
const SMALL_FINGER: [u8; 65] = [
    // general header (16 bytes)
    0x46, 0x49, 0x52, 0x00,             // "FIR\0"
    0x30, 0x32, 0x30, 0x00,             // "020\0"
    0x00, 0x00, 0x00, 65,               // record length
    0x00, 0x01,                         // one representation
    0x00,                               // certification flag
    0x01,                               // one finger position
    // representation
    0x00, 0x00, 0x00, 49,               // representation length
    0x07, 0xEA, 12, 7, 3, 4, 5, 0x02, 0xA6, // 2026-12-07 03:04:05.678
    14,                                 // technology: capacitive
    0x12, 0x34,                         // vendor
    0x56, 0x78,                         // device type
    1, 80, 0x00, 0x0F, 0x00, 0x01,      // one quality block
    2,                                  // right index
    1,                                  // representation number
    1,                                  // pixels per inch
    0x01, 0xF4, 0x01, 0xF4,             // scan 500 × 500
    0x01, 0xF4, 0x01, 0xF4,             // image 500 × 500
    8,                                  // bit depth
    2,                                  // WSQ
    0,                                  // live-scan plain
    0x00, 0x03, 0x00, 0x02,             // 3 × 2
    0x00, 0x00, 0x00, 0x03,             // image data length
    0xAA, 0xBB, 0xCC,
];

/// One full frontal face, "JPEG 2000 lossless" (four stand-in bytes), 4 × 5, one landmark.
fn small_face() -> FaceRecord {
    let mut image = FaceImage::new(ImageFormat::Jpeg2000Lossless, 4, 5, vec![1, 2, 3, 4]);
    image.capture_time = TIME;
    image.facial = FacialInformation {
        gender: 2,
        eye_colour: 3,
        hair_colour: 2,
        subject_height: 0,
        properties: 0x000003,
        expression: 1,
        pose_angle: [0; 3],
        pose_uncertainty: [0; 3],
    };
    image.landmarks = vec![LandmarkPoint {
        point_type: 1,
        code: 1,
        x: 2,
        y: 3,
        z: 0,
    }];
    image.spatial_sampling_level = 5;
    FaceRecord::new(vec![image])
}

#[rustfmt::skip]
const SMALL_FACE: [u8; 80] = [
    // general header (17 bytes)
    0x46, 0x41, 0x43, 0x00,             // "FAC\0"
    0x30, 0x33, 0x30, 0x00,             // "030\0"
    0x00, 0x00, 0x00, 80,               // record length
    0x00, 0x01,                         // one representation
    0x00,                               // certification flag
    0x00, 0x00,                         // temporal semantics
    // representation
    0x00, 0x00, 0x00, 63,               // representation length
    0x07, 0xEA, 12, 7, 3, 4, 5, 0x02, 0xA6, // 2026-12-07 03:04:05.678
    2,                                  // digital still camera
    0x00, 0x00, 0x00, 0x00,             // vendor, device type
    0,                                  // no quality block
    // facial information (17 bytes)
    0x00, 0x01,                         // one landmark point
    2, 3, 2, 0,                         // gender, eye, hair, height
    0x00, 0x00, 0x03,                   // property mask
    0x00, 0x01,                         // expression
    0, 0, 0, 0, 0, 0,                   // pose angles and uncertainties
    // landmark point
    1, 1, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00,
    // image information (11 bytes)
    1,                                  // full frontal
    2,                                  // JPEG 2000 lossless
    0x00, 0x04, 0x00, 0x05,             // 4 × 5
    5,                                  // 480–610 ppi
    0x00, 0x00,                         // post-acquisition processing
    0,                                  // cross reference
    1,                                  // 24-bit RGB
    0x00, 0x00, 0x00, 0x04,             // image data length
    1, 2, 3, 4,
];

#[test]
fn a_finger_record_is_written_byte_for_byte_as_the_layout_says() {
    assert_eq!(write_finger_record(&small_finger()).unwrap(), SMALL_FINGER);
}

#[test]
fn a_finger_record_reads_field_by_field() {
    let r = read_finger_record(&SMALL_FINGER).unwrap();
    assert_eq!(r, small_finger());
    let i = &r.images[0];
    assert_eq!(i.position.finger().map(|p| p.code()), Some(2));
    assert_eq!(i.format, ImageFormat::Wsq);
    assert_eq!((i.width, i.height, i.ppi()), (3, 2, 500));
    assert_eq!(i.quality_score(), Some(80));
    assert_eq!(i.image, [0xAA, 0xBB, 0xCC]);
}

#[test]
fn a_face_record_is_written_byte_for_byte_as_the_layout_says() {
    assert_eq!(write_face_record(&small_face()).unwrap(), SMALL_FACE);
}

#[test]
fn a_face_record_reads_field_by_field() {
    let r = read_face_record(&SMALL_FACE).unwrap();
    assert_eq!(r, small_face());
    let i = &r.images[0];
    assert_eq!(i.format, ImageFormat::Jpeg2000Lossless);
    assert_eq!((i.width, i.height), (4, 5));
    assert_eq!(i.landmarks[0].y, 3);
    assert_eq!(i.quality_score(), None);
}

#[test]
fn slap_codes_name_their_fingers() {
    let codes =
        |c: FingerCode| -> Vec<u8> { c.slap_fingers().unwrap().iter().map(|p| p.code()).collect() };
    assert_eq!(FingerCode::RIGHT_FOUR.code(), 13);
    assert_eq!(codes(FingerCode::RIGHT_FOUR), [2, 3, 4, 5]);
    assert_eq!(FingerCode::LEFT_FOUR.code(), 14);
    assert_eq!(codes(FingerCode::LEFT_FOUR), [7, 8, 9, 10]);
    assert_eq!(FingerCode::TWO_THUMBS.code(), 15);
    assert_eq!(codes(FingerCode::TWO_THUMBS), [1, 6]);
    assert_eq!(FingerCode::new(2).unwrap().slap_fingers(), None);
    for undefined in [11, 12, 16, 19, 37, 39, 51, 255] {
        assert_eq!(FingerCode::new(undefined), None, "{undefined}");
    }
}

/// A record of several representations, with everything optional present.
fn full_finger() -> FingerRecord {
    let mut images = Vec::new();
    for (n, code) in [13u8, 7, 8, 9, 10].into_iter().enumerate() {
        let mut i = FingerImage::new(
            FingerCode::new(code).unwrap(),
            ImageFormat::Jpeg2000Lossless,
            400 + n as u16,
            500,
            500,
            (0..=255u8).cycle().skip(n).take(1000 + n).collect(),
        );
        i.representation_number = n as u8 + 1;
        i.capture_time = TIME;
        i.scale_units = ScaleUnits::PixelsPerCentimetre;
        i.image_rate = (197, 197);
        i.quality = vec![
            QualityBlock {
                score: 55,
                algorithm_vendor: 1,
                algorithm: 2,
            },
            QualityBlock {
                score: 255,
                algorithm_vendor: 3,
                algorithm: 4,
            },
        ];
        i.certifications = vec![CertificationBlock {
            authority: 0x0101,
            scheme: 1,
        }];
        // One comment block: code 3, length 4 + 5.
        i.extended_data = vec![0x00, 0x03, 0x00, 0x09, b'h', b'e', b'l', b'l', b'o'];
        images.push(i);
    }
    FingerRecord {
        certification_flag: true,
        images,
    }
}

#[test]
fn finger_records_round_trip_with_every_optional_part() {
    let record = full_finger();
    let bytes = write_finger_record(&record).unwrap();
    assert_eq!(
        &bytes[12..16],
        [0, 5, 1, 5],
        "5 representations, certified, 5 positions"
    );
    let back = read_finger_record(&bytes).unwrap();
    assert_eq!(back, record);
    assert_eq!(back.images[0].ppi(), 500, "197 px/cm is 500 ppi");
    assert_eq!(back.images[1].quality_score(), Some(55));
    assert_eq!(write_finger_record(&back).unwrap(), bytes);
}

#[test]
fn a_certification_block_sets_the_flag_when_writing() {
    let mut record = small_finger();
    record.images[0].certifications = vec![CertificationBlock {
        authority: 1,
        scheme: 2,
    }];
    let bytes = write_finger_record(&record).unwrap();
    assert_eq!(bytes[14], 1);
    let back = read_finger_record(&bytes).unwrap();
    assert!(back.certification_flag);
    assert_eq!(
        back.images[0].certifications,
        record.images[0].certifications
    );
}

fn full_face() -> FaceRecord {
    let mut a = small_face().images.remove(0);
    a.quality = vec![QualityBlock {
        score: 90,
        algorithm_vendor: 7,
        algorithm: 8,
    }];
    a.format = ImageFormat::Jpeg;
    a.image = vec![0xFF, 0xD8, 0xFF, 0xD9];
    let mut b = a.clone();
    b.face_image_type = 0x81;
    b.format = ImageFormat::Png;
    b.three_d_data = vec![9; 20];
    b.landmarks.push(LandmarkPoint {
        point_type: 2,
        code: 3,
        x: 400,
        y: 500,
        z: 6,
    });
    FaceRecord {
        temporal_semantics: 1,
        images: vec![a, b],
    }
}

#[test]
fn face_records_round_trip_with_every_optional_part() {
    let record = full_face();
    let bytes = write_face_record(&record).unwrap();
    let back = read_face_record(&bytes).unwrap();
    assert_eq!(back, record);
    assert_eq!(write_face_record(&back).unwrap(), bytes);
}

#[test]
fn the_face_writer_refuses_what_a_face_record_cannot_hold() {
    let mut r = small_face();
    r.images[0].format = ImageFormat::Wsq;
    assert!(matches!(write_face_record(&r), Err(IsoError::Unsupported(m)) if m.contains("wsq")));
    let mut r = small_face();
    r.images[0].three_d_data = vec![1];
    assert!(matches!(
        write_face_record(&r),
        Err(IsoError::Unsupported(_))
    ));
    let mut r = small_face();
    r.images[0].facial.properties = 0x100_0000;
    assert!(matches!(
        write_face_record(&r),
        Err(IsoError::TooLarge { .. })
    ));
}

#[test]
fn the_writers_refuse_counts_too_large_for_their_fields() {
    let mut r = small_finger();
    r.images[0].quality = vec![
        QualityBlock {
            score: 1,
            algorithm_vendor: 0,
            algorithm: 0
        };
        256
    ];
    assert!(matches!(
        write_finger_record(&r),
        Err(IsoError::TooLarge {
            field: "number of quality blocks",
            value: 256,
            max: 255
        })
    ));
    let mut r = small_finger();
    r.images[0].extended_data = vec![0, 3, 0, 2];
    assert!(matches!(
        write_finger_record(&r),
        Err(IsoError::InvalidValue {
            field: "extended data block length",
            ..
        })
    ));
}

fn set_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[test]
fn every_finger_length_and_count_out_of_step_is_an_error() {
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = SMALL_FINGER.to_vec();
        f(&mut b);
        read_finger_record(&b)
    };
    // Record length, one off either way.
    for total in [64, 66] {
        assert_eq!(
            with(&|b| set_u32(b, 8, total)),
            Err(IsoError::LengthMismatch {
                field: "record length",
                declared: total.into(),
                actual: 65
            })
        );
    }
    // Number of representations: none, or one more than there is.
    assert!(matches!(
        with(&|b| b[13] = 0),
        Err(IsoError::InvalidValue {
            field: "number of representations",
            ..
        })
    ));
    assert!(matches!(
        with(&|b| b[13] = 2),
        Err(IsoError::Truncated {
            field: "representation length",
            offset: 65,
            ..
        })
    ));
    // Representation length: past the record, short of its image, below its own size.
    assert!(matches!(
        with(&|b| set_u32(b, 16, 50)),
        Err(IsoError::Truncated {
            field: "representation",
            ..
        })
    ));
    assert_eq!(
        with(&|b| set_u32(b, 16, 48)),
        Err(IsoError::RepresentationTooShort {
            index: 1,
            length: 48,
            field: "image data"
        })
    );
    assert!(matches!(
        with(&|b| set_u32(b, 16, 3)),
        Err(IsoError::InvalidValue {
            field: "representation length",
            ..
        })
    ));
    // Image data length, one off either way: too long runs out, too short leaves a stray byte
    // that is not an extended data block.
    assert_eq!(
        with(&|b| set_u32(b, 58, 4)),
        Err(IsoError::RepresentationTooShort {
            index: 1,
            length: 49,
            field: "image data"
        })
    );
    assert_eq!(
        with(&|b| set_u32(b, 58, 2)),
        Err(IsoError::RepresentationTooShort {
            index: 1,
            length: 49,
            field: "extended data block identification code"
        })
    );
    // More quality blocks than there are: the fields after them run out.
    assert!(matches!(
        with(&|b| b[34] = 9),
        Err(IsoError::RepresentationTooShort { .. })
    ));
    // The certification flag set with no certification count there: every field shifts by one
    // and the image data length no longer fits.
    assert!(with(&|b| b[14] = 1).is_err());
    assert!(matches!(
        with(&|b| b[14] = 2),
        Err(IsoError::InvalidValue {
            field: "certification flag",
            value: 2,
            ..
        })
    ));
    // Coded fields outside their tables.
    assert!(matches!(
        with(&|b| b[40] = 11),
        Err(IsoError::InvalidValue {
            field: "finger position",
            value: 11,
            ..
        })
    ));
    assert!(matches!(
        with(&|b| b[42] = 3),
        Err(IsoError::InvalidValue {
            field: "scale units",
            ..
        })
    ));
    assert!(matches!(
        with(&|b| b[52] = 7),
        Err(IsoError::InvalidValue {
            field: "image compression algorithm",
            ..
        })
    ));
    // Another version, another format, base64 text.
    assert!(matches!(
        with(&|b| b[4..8].copy_from_slice(b"010\0")),
        Err(IsoError::UnsupportedVersion { found, .. }) if found == "010"
    ));
    assert!(matches!(
        read_finger_record(&SMALL_FACE),
        Err(IsoError::NotARecord { .. })
    ));
    assert!(matches!(
        read_finger_record(b"RklSADAyMAAA"),
        Err(IsoError::NotARecord { .. })
    ));
    // Extra bytes after the record.
    let mut longer = SMALL_FINGER.to_vec();
    longer.push(0);
    set_u32(&mut longer, 8, 66);
    assert_eq!(
        read_finger_record(&longer),
        Err(IsoError::TrailingBytes {
            after: "the representations the header counts",
            count: 1
        })
    );
}

#[test]
fn every_face_length_and_count_out_of_step_is_an_error() {
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = SMALL_FACE.to_vec();
        f(&mut b);
        read_face_record(&b)
    };
    for total in [79, 81] {
        assert_eq!(
            with(&|b| set_u32(b, 8, total)),
            Err(IsoError::LengthMismatch {
                field: "record length",
                declared: total.into(),
                actual: 80
            })
        );
    }
    assert!(matches!(
        with(&|b| b[13] = 0),
        Err(IsoError::InvalidValue {
            field: "number of representations",
            ..
        })
    ));
    assert!(matches!(
        with(&|b| b[13] = 2),
        Err(IsoError::Truncated {
            field: "representation length",
            offset: 80,
            ..
        })
    ));
    assert!(matches!(
        with(&|b| set_u32(b, 17, 64)),
        Err(IsoError::Truncated {
            field: "representation",
            ..
        })
    ));
    assert_eq!(
        with(&|b| set_u32(b, 17, 62)),
        Err(IsoError::RepresentationTooShort {
            index: 1,
            length: 62,
            field: "image data"
        })
    );
    // Image data length, at 72 (17 + 4 + 9 + 5 + 1 + 17 + 8 + 11).
    assert_eq!(
        with(&|b| set_u32(b, 72, 5)),
        Err(IsoError::RepresentationTooShort {
            index: 1,
            length: 63,
            field: "image data"
        })
    );
    assert_eq!(
        with(&|b| set_u32(b, 72, 3)),
        Err(IsoError::TrailingBytes {
            after: "the image data of a 2D representation",
            count: 1
        })
    );
    // One landmark point more than there is.
    assert!(matches!(
        with(&|b| b[37] = 2),
        Err(IsoError::RepresentationTooShort { .. })
    ));
    // A quality block count (byte 35) with no blocks: the fields after it shift by five and the
    // image data length read from the image information no longer fits.
    assert!(matches!(
        with(&|b| b[35] = 1),
        Err(IsoError::RepresentationTooShort { .. })
    ));
    assert!(matches!(
        with(&|b| b[14] = 1),
        Err(IsoError::InvalidValue {
            field: "certification flag",
            ..
        })
    ));
    assert!(matches!(
        with(&|b| b[61] = 4),
        Err(IsoError::InvalidValue {
            field: "face image type",
            ..
        })
    ));
    assert!(matches!(
        with(&|b| b[62] = 4),
        Err(IsoError::InvalidValue {
            field: "image data type",
            ..
        })
    ));
    assert!(matches!(
        with(&|b| b[4..8].copy_from_slice(b"020\0")),
        Err(IsoError::UnsupportedVersion { .. })
    ));
    assert!(matches!(
        read_face_record(&SMALL_FINGER),
        Err(IsoError::NotARecord { .. })
    ));
}

#[test]
fn every_cut_of_a_record_is_an_error_not_a_panic() {
    for bytes in [
        write_finger_record(&full_finger()).unwrap(),
        SMALL_FINGER.to_vec(),
    ] {
        for n in 0..bytes.len() {
            assert!(read_finger_record(&bytes[..n]).is_err(), "cut at {n}");
        }
    }
    for bytes in [
        write_face_record(&full_face()).unwrap(),
        SMALL_FACE.to_vec(),
    ] {
        for n in 0..bytes.len() {
            assert!(read_face_record(&bytes[..n]).is_err(), "cut at {n}");
        }
    }
}

#[test]
fn error_messages_say_what_is_wrong() {
    let mut b = SMALL_FINGER.to_vec();
    set_u32(&mut b, 16, 48);
    assert_eq!(
        read_finger_record(&b).unwrap_err().to_string(),
        "representation 1 says it is 48 bytes long, which ends inside its image data"
    );
    assert_eq!(
        read_finger_record(&SMALL_FINGER[..40])
            .unwrap_err()
            .to_string(),
        "the record length says 65 bytes, but 40 bytes are there"
    );
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_read_to_a_record_or_an_error(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read_finger_record(&data);
            let _ = read_face_record(&data);
        }

        #[test]
        fn any_change_to_a_valid_record_reads_to_a_record_or_an_error(
            at in 0usize..80, value in any::<u8>(), finger in any::<bool>()
        ) {
            if finger {
                let mut b = write_finger_record(&full_finger()).unwrap();
                let at = at % b.len();
                b[at] = value;
                if let Ok(r) = read_finger_record(&b) {
                    // Whatever reads writes back to the same bytes, but for the number of distinct
                    // positions (byte 15), which the writer counts itself: a changed position can
                    // make two representations share one (found: byte 49, 6 → 7).
                    let mut positions: Vec<u8> = r.images.iter().map(|i| i.position.code()).collect();
                    positions.sort_unstable();
                    positions.dedup();
                    b[15] = positions.len() as u8;
                    prop_assert_eq!(write_finger_record(&r).unwrap(), b);
                }
            } else {
                let mut b = SMALL_FACE.to_vec();
                b[at % 80] = value;
                if let Ok(r) = read_face_record(&b) {
                    prop_assert_eq!(write_face_record(&r).unwrap(), b);
                }
            }
        }
    }
}

#[test]
fn image_format_codes_round_trip_and_face_refuses_finger_only_formats() {
    for code in 0..=255u8 {
        if let Some(f) = ImageFormat::from_finger_code(code) {
            assert_eq!(f.finger_code(), code);
        } else {
            assert!(code > 6, "finger code {code} should be defined");
        }
        if let Some(f) = ImageFormat::from_face_code(code) {
            assert_eq!(f.face_code(), Some(code));
        } else {
            assert!(code > 3, "face code {code} should be defined");
        }
    }
    assert_eq!(ImageFormat::Wsq.face_code(), None);
    assert_eq!(ImageFormat::Raw.face_code(), None);
    assert_eq!(ImageFormat::Jpeg2000Lossless.finger_code(), 5);
    assert_eq!(ImageFormat::Jpeg2000Lossless.face_code(), Some(2));
}

#[test]
fn capture_time_of_an_instant_is_its_utc_fields() {
    let t: jiff::Timestamp = "2026-12-07T03:04:05.678+07:00".parse().unwrap();
    assert_eq!(
        CaptureTime::from_timestamp(t),
        CaptureTime {
            year: 2026,
            month: 12,
            day: 6,
            hour: 20,
            minute: 4,
            second: 5,
            millisecond: 678
        }
    );
}

/// The fuzz seeds (`fuzz/seeds/iso_*`) were written with Python's `struct` from the layout, not by
/// this writer: they read, and write back to the same bytes.
#[test]
fn the_fuzz_seeds_read_and_write_back() {
    for seed in [
        &include_bytes!("../../../fuzz/seeds/iso_finger_record/one-finger.fir")[..],
        &include_bytes!("../../../fuzz/seeds/iso_finger_record/slap-certified.fir")[..],
    ] {
        let r = read_finger_record(seed).unwrap();
        assert_eq!(write_finger_record(&r).unwrap(), seed);
    }
    let slap = read_finger_record(include_bytes!(
        "../../../fuzz/seeds/iso_finger_record/slap-certified.fir"
    ))
    .unwrap();
    let codes: Vec<u8> = slap.images.iter().map(|i| i.position.code()).collect();
    assert_eq!(codes, [7, 8, 9, 10]);
    assert_eq!(slap.images[3].extended_data, b"\x00\x03\x00\x06hi");
    assert_eq!(
        read_finger_record(include_bytes!(
            "../../../fuzz/seeds/iso_finger_record/one-finger.fir"
        ))
        .unwrap(),
        small_finger()
    );
    for seed in [
        &include_bytes!("../../../fuzz/seeds/iso_face_record/one-face.fac")[..],
        &include_bytes!("../../../fuzz/seeds/iso_face_record/two-faces-3d.fac")[..],
    ] {
        let r = read_face_record(seed).unwrap();
        assert_eq!(write_face_record(&r).unwrap(), seed);
    }
}

/// JPEG 2000 files encoded by OpenJPEG (C) through Python Pillow 13 from synthetic patterns
/// (`testdata/`: concentric rings, colour ramps; never a person), with the same pixels as PNG.
mod images {
    use super::*;

    fn png(bytes: &[u8]) -> image::DynamicImage {
        image::load_from_memory_with_format(bytes, image::ImageFormat::Png).unwrap()
    }

    fn finger_with(format: ImageFormat, data: &[u8], w: u16, h: u16) -> FingerImage {
        let record = FingerRecord::new(vec![FingerImage::new(
            FingerCode::from(FingerPosition::new(7).unwrap()),
            format,
            w,
            h,
            500,
            data.to_vec(),
        )]);
        // Through the record's bytes, as an SBI device would send it.
        read_finger_record(&write_finger_record(&record).unwrap())
            .unwrap()
            .images
            .remove(0)
    }

    #[test]
    fn a_lossless_jpeg2000_finger_decodes_to_its_exact_pixels() {
        let want = png(include_bytes!("testdata/ridges.png")).to_luma8();
        let f = finger_with(
            ImageFormat::Jpeg2000Lossless,
            include_bytes!("testdata/ridges-lossless.j2k"),
            96,
            120,
        );
        assert_eq!(f.grey_pixels().unwrap(), want);
    }

    /// A lossy file decodes to what OpenJPEG (through Pillow) decodes it to
    /// (`testdata/ridges-lossy-by-pillow.png`), and not to the original pixels.
    #[test]
    fn a_lossy_jpeg2000_finger_decodes_as_openjpeg_decodes_it() {
        let original = png(include_bytes!("testdata/ridges.png")).to_luma8();
        let by_openjpeg = png(include_bytes!("testdata/ridges-lossy-by-pillow.png")).to_luma8();
        let got = finger_with(
            ImageFormat::Jpeg2000,
            include_bytes!("testdata/ridges-lossy.j2k"),
            96,
            120,
        )
        .grey_pixels()
        .unwrap();
        let max_difference = got
            .as_raw()
            .iter()
            .zip(by_openjpeg.as_raw())
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(max_difference <= 1, "differs by up to {max_difference}");
        assert_ne!(got, original, "a 20:1 lossy file is not exact");
    }

    #[test]
    fn a_lossless_jp2_face_decodes_to_its_exact_pixels() {
        let want = png(include_bytes!("testdata/colours.png")).to_rgb8();
        let face = FaceImage::new(
            ImageFormat::Jpeg2000Lossless,
            64,
            80,
            include_bytes!("testdata/colours-lossless.jp2").to_vec(),
        );
        let back =
            read_face_record(&write_face_record(&FaceRecord::new(vec![face])).unwrap()).unwrap();
        assert_eq!(back.images[0].rgb_pixels().unwrap(), want);
    }

    #[test]
    fn a_finger_in_any_format_becomes_a_wsq_of_the_same_size() {
        let want = png(include_bytes!("testdata/ridges.png")).to_luma8();
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageLuma8(want.clone())
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        for (format, data) in [
            (ImageFormat::Raw, want.as_raw().clone()),
            (
                ImageFormat::Png,
                include_bytes!("testdata/ridges.png").to_vec(),
            ),
            (ImageFormat::Jpeg, jpeg),
            (
                ImageFormat::Jpeg2000Lossless,
                include_bytes!("testdata/ridges-lossless.j2k").to_vec(),
            ),
        ] {
            let f = finger_with(format, &data, 96, 120);
            let wsq = f.to_wsq(0.75).unwrap();
            let d = jemput_wsq::decode(&wsq).unwrap();
            assert_eq!((d.image.width, d.image.height), (96, 120), "{format:?}");
            assert_eq!(d.image.ppi, Some(500));
            // A WSQ record is kept as it is.
            let again = finger_with(ImageFormat::Wsq, &wsq, 96, 120);
            assert_eq!(again.to_wsq(0.75).unwrap(), wsq);
        }
    }

    #[test]
    fn an_image_that_is_not_the_size_its_header_says_is_refused() {
        let j2k = include_bytes!("testdata/ridges-lossless.j2k");
        let f = finger_with(ImageFormat::Jpeg2000Lossless, j2k, 96, 121);
        assert!(matches!(
            f.grey_pixels(),
            Err(IsoError::Image { message, .. }) if message.contains("96 × 120") && message.contains("96 × 121")
        ));
        let f = finger_with(
            ImageFormat::Png,
            include_bytes!("testdata/ridges.png"),
            95,
            120,
        );
        assert!(matches!(f.grey_pixels(), Err(IsoError::Image { .. })));
        let f = finger_with(ImageFormat::Raw, &[0; 10], 96, 120);
        assert!(matches!(f.grey_pixels(), Err(IsoError::Image { .. })));
        let f = finger_with(ImageFormat::Raw, &[], 0, 120);
        assert!(matches!(f.grey_pixels(), Err(IsoError::Image { .. })));
        let f = finger_with(ImageFormat::Wsq, b"not wsq", 96, 120);
        assert!(matches!(
            f.grey_pixels(),
            Err(IsoError::Image { format: "wsq", .. })
        ));
    }

    #[test]
    fn every_cut_of_a_jpeg2000_image_is_an_error_not_a_panic() {
        let j2k = include_bytes!("testdata/ridges-lossless.j2k");
        for n in (0..j2k.len()).step_by(97) {
            let f = finger_with(ImageFormat::Jpeg2000Lossless, &j2k[..n], 96, 120);
            // openjp2 may decode a truncated codestream to a partial image; it must not panic,
            // and whatever it returns has the header's size.
            if let Ok(img) = f.grey_pixels() {
                assert_eq!(img.dimensions(), (96, 120));
            }
        }
    }
}

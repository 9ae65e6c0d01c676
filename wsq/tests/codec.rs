//! The codec on its own: round trips, the file layout it writes, restart markers, comments, and
//! malformed input (always an error, never a panic or a huge allocation).

mod common;

use common::*;
use jemput_wsq::{decode, encode, encode_with, EncodeOptions, Error, FilterPair, Image};

fn segments(data: &[u8]) -> Vec<(u8, usize, usize)> {
    // (marker, offset, segment length) for every marker segment outside the coded data.
    let mut out = Vec::new();
    let mut p = 2;
    while p + 1 < data.len() {
        let m = data[p + 1];
        if m == 0xA1 {
            out.push((m, p, 0));
            break;
        }
        let len = u16::from_be_bytes([data[p + 2], data[p + 3]]) as usize;
        out.push((m, p, len));
        p += 2 + len;
        if m == 0xA3 {
            while !(data[p] == 0xFF && data[p + 1] != 0 && !(0xB0..=0xB7).contains(&data[p + 1])) {
                p += 1;
            }
        }
    }
    out
}

#[test]
fn round_trip_quality_and_size_follow_the_bit_rate() {
    let image = synthetic_print(301, 347, 5);
    let low = encode(&image, &EncodeOptions::default()).unwrap();
    let high = encode(
        &image,
        &EncodeOptions {
            bitrate: 2.25,
            ..EncodeOptions::default()
        },
    )
    .unwrap();
    let (dl, dh) = (decode(&low).unwrap(), decode(&high).unwrap());
    let (pl, ph) = (
        psnr(&image.pixels, &dl.image.pixels),
        psnr(&image.pixels, &dh.image.pixels),
    );
    let ratio = image.pixels.len() as f64 / low.len() as f64;
    assert!((10.0..=20.0).contains(&ratio), "0.75 bpp gave {ratio:.1}:1");
    assert!(high.len() > 2 * low.len());
    assert!(
        pl > 30.0 && ph > pl + 2.0,
        "PSNR {pl:.2} dB at 0.75, {ph:.2} dB at 2.25"
    );
}

#[test]
fn files_carry_nist_com_and_the_reference_segment_order() {
    let image = synthetic_print(120, 97, 1);
    let data = encode(
        &image,
        &EncodeOptions {
            ppi: Some(1000),
            ..EncodeOptions::default()
        },
    )
    .unwrap();
    let order: Vec<u8> = segments(&data).iter().map(|s| s.0).collect();
    // COM, DTT, DQT, SOF, DHT, SOB, DHT, SOB, SOB, EOI — as NBIS writes them.
    assert_eq!(
        order,
        [0xA8, 0xA4, 0xA5, 0xA2, 0xA6, 0xA3, 0xA6, 0xA3, 0xA3, 0xA1]
    );
    let d = decode(&data).unwrap();
    let com = String::from_utf8(d.comments[0].clone()).unwrap();
    assert!(
        com.starts_with("NIST_COM 9\nPIX_WIDTH 120\nPIX_HEIGHT 97\n"),
        "{com}"
    );
    assert!(com.contains("\nPPI 1000\n") && com.contains("WSQ_BITRATE 0.750000"));
    assert_eq!(d.image.ppi, Some(1000));
    assert_eq!(d.frame.encoder, 2);
}

#[test]
fn restart_markers_change_nothing_in_the_decoded_image() {
    let image = synthetic_print(200, 233, 2);
    let plain = encode(&image, &EncodeOptions::default()).unwrap();
    let with = encode(
        &image,
        &EncodeOptions {
            restart_interval: Some(37),
            ..EncodeOptions::default()
        },
    )
    .unwrap();
    assert!(with.len() > plain.len());
    let (a, b) = (decode(&plain).unwrap(), decode(&with).unwrap());
    assert_eq!(b.restart_interval, Some(37));
    assert!(b.restarts > 10, "{} restart markers decoded", b.restarts);
    assert_eq!(a.image.pixels, b.image.pixels);
}

#[test]
fn comments_anywhere_before_a_block_are_kept_and_skipped() {
    let image = synthetic_print(150, 111, 3);
    let data = encode(&image, &EncodeOptions::default()).unwrap();
    // Put a comment just before the second DHT (between blocks 1 and 2).
    let second_dht = segments(&data)
        .iter()
        .filter(|s| s.0 == 0xA6)
        .nth(1)
        .unwrap()
        .1;
    let mut edited = data[..second_dht].to_vec();
    let text = b"operator note: synthetic";
    edited.extend([0xFF, 0xA8]);
    edited.extend(((text.len() + 2) as u16).to_be_bytes());
    edited.extend(text);
    edited.extend(&data[second_dht..]);
    let (a, b) = (decode(&data).unwrap(), decode(&edited).unwrap());
    assert_eq!(a.image.pixels, b.image.pixels);
    assert_eq!(b.comments.len(), 2);
    assert_eq!(b.comments[1], text);
}

#[test]
fn blank_and_tiny_images_encode_and_decode() {
    let blank = Image {
        width: 91,
        height: 67,
        ppi: None,
        pixels: vec![173; 91 * 67],
    };
    let d = decode(&encode(&blank, &EncodeOptions::default()).unwrap()).unwrap();
    assert!(d.image.pixels.iter().all(|&p| p == 173));
    assert_eq!(d.image.ppi, None, "PPI -1 reads back as unknown");
    for (w, h) in [(1, 1), (2, 3), (17, 5), (5, 40)] {
        let img = synthetic_print(w, h, 7);
        let back = decode(&encode(&img, &EncodeOptions::default()).unwrap()).unwrap();
        assert_eq!((back.image.width, back.image.height), (w, h));
    }
}

#[test]
fn bad_encoder_input_is_an_error() {
    let img = synthetic_print(40, 30, 1);
    for rate in [0.0, -1.0, f32::NAN, 9.0] {
        let o = EncodeOptions {
            bitrate: rate,
            ..EncodeOptions::default()
        };
        assert!(matches!(encode(&img, &o), Err(Error::BadInput(_))));
    }
    let short = Image {
        pixels: vec![0; 10],
        ..img
    };
    assert!(matches!(
        encode(&short, &EncodeOptions::default()),
        Err(Error::BadInput(_))
    ));
}

#[test]
fn every_truncation_is_an_error() {
    let data = encode(&synthetic_print(90, 70, 4), &EncodeOptions::default()).unwrap();
    for cut in 0..data.len() {
        assert!(decode(&data[..cut]).is_err(), "cut at {cut} decoded");
    }
}

#[test]
fn damaged_files_never_panic() {
    let data = encode(&synthetic_print(90, 70, 6), &EncodeOptions::default()).unwrap();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let mut d = data.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % d.len() as u64) as usize;
            d[i] = next() as u8;
        }
        let _ = decode(&d);
    }
}

#[test]
fn declared_sizes_are_checked_before_allocating() {
    let data = encode(&synthetic_print(64, 48, 8), &EncodeOptions::default()).unwrap();
    let sof = segments(&data).iter().find(|s| s.0 == 0xA2).unwrap().1;
    let mut big = data.clone();
    // 65535 × 65535 declared by a file of a few kilobytes.
    big[sof + 6..sof + 10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert!(matches!(decode(&big), Err(Error::TooLarge { .. })));
    let mut zero = data.clone();
    zero[sof + 6..sof + 8].copy_from_slice(&[0, 0]);
    assert!(matches!(decode(&zero), Err(Error::Invalid { .. })));
}

/// `data` with its DTT segment's body replaced by `body`.
fn with_dtt(data: &[u8], body: &[u8]) -> Vec<u8> {
    let (_, at, len) = *segments(data).iter().find(|s| s.0 == 0xA4).unwrap();
    let mut d = data[..at].to_vec();
    d.extend([0xFF, 0xA4]);
    d.extend(((body.len() + 2) as u16).to_be_bytes());
    d.extend(body);
    d.extend(&data[at + 2 + len..]);
    d
}

/// A DTT body: the two lengths, then each transmitted tap as sign, exponent 9, value × 10⁹.
fn dtt_body(lo_len: u8, hi_len: u8, taps: &[f64]) -> Vec<u8> {
    let mut b = vec![lo_len, hi_len];
    for &t in taps {
        b.push(u8::from(t < 0.0));
        b.push(9);
        b.extend(((t.abs() * 1e9).round() as u32).to_be_bytes());
    }
    b
}

#[test]
fn even_length_filters_round_trip_at_a_high_bit_rate() {
    let image = synthetic_print(301, 347, 12);
    for pair in [FilterPair::two_six(), FilterPair::six_two()] {
        let (lo, hi) = pair.lengths();
        let options = EncodeOptions {
            bitrate: 2.25,
            ..EncodeOptions::default()
        };
        let data = encode_with(&image, &options, &pair).unwrap();
        let (_, at, len) = *segments(&data).iter().find(|s| s.0 == 0xA4).unwrap();
        assert_eq!(&data[at + 4..at + 6], &[lo as u8, hi as u8]);
        // Two lengths, then 6 bytes for each of the lo/2 + hi/2 transmitted taps.
        assert_eq!(len, 2 + 2 + 6 * (lo / 2 + hi / 2));
        let back = decode(&data).unwrap();
        let p = psnr(&image.pixels, &back.image.pixels);
        println!(
            "{lo}/{hi} at 2.25 bpp: {} bytes, PSNR {p:.2} dB",
            data.len()
        );
        // The 9/7 pair gives about 40 dB here; the quantiser's weights are tuned for it.
        assert!(p > 33.0, "{lo}/{hi}: PSNR {p:.2} dB at 2.25 bpp");
        // The quality follows the bit rate here too.
        let low = decode(&encode_with(&image, &EncodeOptions::default(), &pair).unwrap()).unwrap();
        let pl = psnr(&image.pixels, &low.image.pixels);
        assert!(
            pl > 25.0 && p > pl + 2.0,
            "{lo}/{hi}: {pl:.2} dB at 0.75, {p:.2} at 2.25"
        );
    }
}

#[test]
fn an_even_filter_table_written_by_hand_decodes_like_the_encoders_own() {
    // The same 2/6 pair, written with other exponents, decodes to the same pixels (±1 for the
    // rounding of the taps): the decoder reads the filters from the table, it does not assume them.
    let image = synthetic_print(120, 150, 13);
    let data = encode_with(&image, &EncodeOptions::default(), &FilterPair::two_six()).unwrap();
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let edited = with_dtt(&data, &dtt_body(2, 6, &[s, s, -s / 8.0, -s / 8.0]));
    let (a, b) = (decode(&data).unwrap(), decode(&edited).unwrap());
    assert!(a
        .image
        .pixels
        .iter()
        .zip(&b.image.pixels)
        .all(|(x, y)| x.abs_diff(*y) <= 1));
    // And the 9/7 table of an ordinary file swapped for the 2/6 one changes the image: the table is
    // really used.
    let spec = encode(&image, &EncodeOptions::default()).unwrap();
    let swapped = decode(&with_dtt(
        &spec,
        &dtt_body(2, 6, &[s, s, -s / 8.0, -s / 8.0]),
    ))
    .unwrap();
    let ok = decode(&spec).unwrap();
    assert!(psnr(&ok.image.pixels, &swapped.image.pixels) < 30.0);
}

#[test]
fn malformed_transform_tables_are_errors() {
    let data = encode(&synthetic_print(64, 48, 9), &EncodeOptions::default()).unwrap();
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let cases: [(&str, Vec<u8>, &str); 7] = [
        ("zero low-pass", dtt_body(0, 6, &[s, s, s]), "outside 1–31"),
        ("zero high-pass", dtt_body(2, 0, &[s]), "outside 1–31"),
        ("odd/even", dtt_body(9, 6, &[s; 8]), "one odd and one even"),
        ("even/odd", dtt_body(2, 7, &[s; 5]), "one odd and one even"),
        ("absurd", dtt_body(200, 200, &[s; 200]), "outside 1–31"),
        ("too few taps", dtt_body(2, 6, &[s, s]), "truncated"),
        ("too many taps", dtt_body(2, 6, &[s; 5]), "left over"),
    ];
    for (what, body, expect) in cases {
        let err = decode(&with_dtt(&data, &body)).unwrap_err();
        assert!(
            err.to_string().contains(expect),
            "{what}: {err} (expected {expect:?})"
        );
    }
    let mut bad_sign = dtt_body(2, 6, &[s, s, -s / 8.0, -s / 8.0]);
    bad_sign[2 + 6] = 2; // the sign byte of the first high-pass tap
    let err = decode(&with_dtt(&data, &bad_sign)).unwrap_err();
    assert!(err.to_string().contains("sign byte 2"), "{err}");
}

#[test]
fn bad_filter_pairs_are_refused_before_encoding() {
    assert!(FilterPair::new(2, 6, vec![0.7], vec![0.7, -0.1, -0.1]).is_ok());
    assert!(FilterPair::new(2, 7, vec![0.7], vec![0.7; 4]).is_err());
    assert!(FilterPair::new(2, 6, vec![f64::INFINITY], vec![0.7; 3]).is_err());
}

#[test]
fn not_wsq_and_unknown_markers_are_errors() {
    assert!(matches!(decode(b"\x89PNG\r\n"), Err(Error::NotWsq)));
    assert!(matches!(decode(b""), Err(Error::NotWsq)));
    assert!(matches!(
        decode(&[0xFF, 0xA0, 0xFF, 0xC0, 0, 2]),
        Err(Error::UnexpectedMarker { marker: 0xC0, .. })
    ));
    assert!(
        decode(&[0xFF, 0xA0, 0xFF, 0xA1]).is_err(),
        "no frame at all"
    );
}

#[test]
fn fuzz_regression_decoded_image_re_encodes() {
    // A damaged NBIS file found by the wsq_decoder fuzz target: it decodes, and re-encoding the
    // result overflowed a quantisation index.
    let data = include_bytes!("fuzz-encode-overflow.wsq");
    let d = decode(data).unwrap();
    let again = encode(&d.image, &EncodeOptions::default()).unwrap();
    let back = decode(&again).unwrap();
    assert_eq!(
        (back.image.width, back.image.height),
        (d.image.width, d.image.height)
    );
}

#[test]
fn tables_redefined_after_coded_data_are_refused() {
    let data = encode(&synthetic_print(80, 66, 11), &EncodeOptions::default()).unwrap();
    let segs = segments(&data);
    let dqt = segs.iter().find(|s| s.0 == 0xA5).unwrap();
    let second_dht = segs.iter().filter(|s| s.0 == 0xA6).nth(1).unwrap().1;
    // Copy the DQT segment in between block 1 and block 2.
    let mut d = data[..second_dht].to_vec();
    d.extend(&data[dqt.1..dqt.1 + 2 + dqt.2]);
    d.extend(&data[second_dht..]);
    let err = decode(&d).unwrap_err();
    assert!(err.to_string().contains("after coded data began"), "{err}");
}

//! `jemput imaging wsq encode|decode` end to end: a synthetic print as PNG to WSQ and back.

mod common;

use common::*;
use predicates::prelude::*;

fn synthetic_png(path: &std::path::Path, w: u32, h: u32) -> image::GrayImage {
    let f =
        jemput_drivers::synth::fingerprint(7, jemput_drivers::FingerPosition::new(2).unwrap(), 0.9);
    // Crop to a size that is no multiple of 8.
    let full = image::GrayImage::from_raw(f.width, f.height, f.pixels).unwrap();
    let img = image::imageops::crop_imm(&full, 3, 5, w, h).to_image();
    img.save(path).unwrap();
    img
}

#[test]
fn encode_then_decode_gives_the_image_back_at_the_same_size() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("finger.png");
    let wsq = dir.path().join("finger.wsq");
    let back = dir.path().join("back.png");
    let original = synthetic_png(&png, 251, 283);
    jemput()
        .args(["imaging", "wsq", "encode"])
        .arg(&png)
        .arg(&wsq)
        .args(["--bitrate", "2.25", "--ppi", "500"])
        .assert()
        .success()
        .stdout(predicate::str::contains("251 × 283 px, 500 ppi"));
    let bytes = std::fs::read(&wsq).unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xA0]);
    jemput()
        .args(["imaging", "wsq", "decode"])
        .arg(&wsq)
        .arg(&back)
        .assert()
        .success()
        .stdout(predicate::str::contains("251 × 283 px, 500 ppi"));
    let decoded = image::open(&back).unwrap().to_luma8();
    assert_eq!(decoded.dimensions(), (251, 283));
    let mse = original
        .as_raw()
        .iter()
        .zip(decoded.as_raw())
        .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
        .sum::<f64>()
        / original.as_raw().len() as f64;
    let psnr = 10.0 * (255.0f64.powi(2) / mse).log10();
    assert!(psnr > 30.0, "PSNR {psnr:.1} dB at 2.25 bpp");
}

#[test]
fn a_file_that_is_not_wsq_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("finger.png");
    let out = dir.path().join("out.png");
    synthetic_png(&png, 64, 80);
    jemput()
        .args(["imaging", "wsq", "decode"])
        .arg(&png)
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a readable WSQ file"))
        .stderr(predicate::str::contains("SOI marker"));
    assert!(!out.exists());
    jemput()
        .args(["imaging", "wsq", "encode"])
        .arg(&png)
        .arg(dir.path().join("x.wsq"))
        .args(["--bitrate", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("bit rate"));
}

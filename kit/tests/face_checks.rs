//! The face photo checks (`jemput_core::imaging::face`) on synthetic faces from the device
//! models' generator (`jemput_drivers::synth`): each check passes on a good photo and fails on a
//! photo made to fail it. They live with the kit because the generator is the drivers' and the
//! shared formats never compile a device crate.

use image::{imageops, RgbImage};
use jemput_core::imaging::face::*;
use jemput_drivers::synth;

const RED: [u8; 3] = [200, 30, 40];
const BLUE: [u8; 3] = [30, 70, 200];
/// Born in an odd year: the red backdrop.
const ODD: FaceContext = FaceContext {
    birth_year: Some(1981),
    foreigner: false,
};

/// A synthetic face on `bg`, through a JPEG round trip as a camera would deliver it.
fn face(seed: u64, bg: [u8; 3]) -> RgbImage {
    let jpeg = synth::jpeg_rgb(&synth::face(seed, bg), 90);
    image::load_from_memory(&jpeg).unwrap().to_rgb8()
}

fn report(img: RgbImage, ctx: &FaceContext) -> FaceReport {
    FaceChecker::new(&FaceSettings::default()).run(&FacePhoto::new(img), ctx)
}

fn result<'a>(r: &'a FaceReport, check: &str) -> &'a CheckResult {
    r.checks
        .iter()
        .find(|c| c.check == check)
        .unwrap_or_else(|| panic!("no {check} in {:?}", r.checks))
}

/// Every check except `check` passes, and `check` fails.
fn fails_only(r: &FaceReport, check: &str) {
    let failed: Vec<_> = r
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.check.as_str())
        .collect();
    assert!(failed.contains(&check), "{check} passed: {:#?}", r.checks);
    assert!(!r.passed);
}

#[test]
fn good_synthetic_faces_pass_every_check() {
    for seed in 0..12 {
        let r = report(face(seed, RED), &ODD);
        assert!(r.passed, "seed {seed}: {:#?}", r.checks);
        assert_eq!(r.checks.len(), 8, "{:#?}", r.checks);
        assert_eq!(r.algorithms, [FACE_CHECKS_ID]);
        let even = report(
            face(seed, BLUE),
            &FaceContext {
                birth_year: Some(1990),
                foreigner: false,
            },
        );
        assert!(even.passed, "seed {seed}: {:#?}", even.checks);
    }
}

#[test]
fn a_dark_photo_fails_on_clipped_shadows() {
    let mut img = face(3, RED);
    img.pixels_mut()
        .for_each(|p| p.0 = p.0.map(|v| (f32::from(v) * 0.05) as u8));
    let r = report(img, &ODD);
    fails_only(&r, "shadows_clipped");
    let c = result(&r, "shadows_clipped");
    assert!(c.value > 0.5, "{c:?}");
    assert_eq!(c.threshold, 0.05);
    assert!(c.message_en.contains("too dark"), "{c:?}");
    assert!(result(&r, "highlights_clipped").passed);
}

#[test]
fn a_blown_out_photo_fails_on_clipped_highlights() {
    let mut img = face(4, RED);
    img.pixels_mut()
        .for_each(|p| p.0 = p.0.map(|v| (u16::from(v) * 4 + 170).min(255) as u8));
    let r = report(img, &ODD);
    fails_only(&r, "highlights_clipped");
    assert!(result(&r, "highlights_clipped").value > 0.3);
    assert!(result(&r, "shadows_clipped").passed);
}

#[test]
fn a_blurred_photo_fails_on_sharpness_only() {
    let sharp = face(5, RED);
    let blurred = imageops::blur(&sharp, 4.0);
    let (a, b) = (report(sharp, &ODD), report(blurred, &ODD));
    let (s, t) = (result(&a, "sharpness"), result(&b, "sharpness"));
    assert!(s.passed, "{s:?}");
    assert!(t.value < s.value / 4.0, "{} vs {}", t.value, s.value);
    fails_only(&b, "sharpness");
    assert_eq!(b.checks.iter().filter(|c| !c.passed).count(), 1, "{b:#?}");
}

#[test]
fn a_cluttered_background_fails_on_uniformity() {
    let mut img = face(6, RED);
    // Shelves and objects behind the resident: blocks of other colours along the top and sides.
    for (i, (x, y)) in [(0, 0), (120, 10), (300, 0), (420, 40), (0, 120), (440, 200)]
        .into_iter()
        .enumerate()
    {
        let c = [[240, 240, 230], [40, 120, 60], [90, 60, 30]][i % 3];
        for yy in y..(y + 60).min(img.height()) {
            for xx in x..(x + 60).min(img.width()) {
                img.put_pixel(xx, yy, image::Rgb(c));
            }
        }
    }
    let r = report(img, &ODD);
    fails_only(&r, "background_uniform");
    assert!(result(&r, "background_uniform").value > 12.0);
    assert!(result(&r, "sharpness").passed);
}

#[test]
fn the_wrong_backdrop_colour_fails_and_the_rule_is_off_without_a_birth_year() {
    // Blue behind someone born in an odd year.
    let r = report(face(7, BLUE), &ODD);
    fails_only(&r, "background_colour");
    let c = result(&r, "background_colour");
    assert!(c.value > 100.0, "{c:?}");
    assert!(c.message_id.contains("merah"), "{c:?}");
    // A foreigner needs orange, whatever the year.
    let f = report(
        face(7, [240, 130, 30]),
        &FaceContext {
            birth_year: Some(1981),
            foreigner: true,
        },
    );
    assert!(f.passed, "{:#?}", f.checks);
    // No birth year: no colour check at all.
    let none = report(face(7, BLUE), &FaceContext::default());
    assert!(none.passed);
    assert!(none.checks.iter().all(|c| c.check != "background_colour"));
    // And the mapping is a setting: blue for odd years passes when configured so.
    let mut s = FaceSettings::default();
    s.background.odd_year = BLUE;
    let r = FaceChecker::new(&s).run(&FacePhoto::new(face(7, BLUE)), &ODD);
    assert!(r.passed, "{:#?}", r.checks);
}

#[test]
fn a_small_photo_fails_on_size_and_a_square_one_on_aspect() {
    let small = imageops::resize(&face(8, RED), 240, 320, imageops::FilterType::Triangle);
    let r = report(small, &ODD);
    fails_only(&r, "width");
    fails_only(&r, "height");
    assert_eq!(
        (result(&r, "width").value, result(&r, "width").threshold),
        (240.0, 400.0)
    );
    assert!(result(&r, "aspect_ratio").passed);

    let square = imageops::crop_imm(&face(8, RED), 0, 80, 480, 480).to_image();
    let r = report(square, &ODD);
    let c = result(&r, "aspect_ratio");
    assert!(!c.passed && (c.value - 0.25).abs() < 1e-9, "{c:?}");
}

#[test]
fn a_plugged_in_check_runs_after_the_built_in_ones() {
    struct NoDetector;
    impl FaceCheck for NoDetector {
        fn algorithm_id(&self) -> &str {
            "test-detector/0"
        }
        fn check(&self, _: &FacePhoto, _: &FaceContext) -> Vec<CheckResult> {
            vec![CheckResult::measure(
                "faces_found",
                0.0,
                1.0,
                Bound::AtLeast,
                "faces",
                ("Wajah", "Face"),
                ("Wajah tidak terlihat", "No face seen"),
            )]
        }
    }
    let r = FaceChecker::new(&FaceSettings::default())
        .with(Box::new(NoDetector))
        .run(&FacePhoto::new(face(1, RED)), &ODD);
    assert_eq!(r.algorithms, [FACE_CHECKS_ID, "test-detector/0"]);
    assert_eq!(r.checks.last().unwrap().check, "faces_found");
    assert!(!r.passed);
}

#[test]
fn stored_jpeg_has_the_configured_size_and_never_grows() {
    let store = JpegSettings {
        width: 240,
        height: 320,
        quality: 80,
    };
    let (bytes, w, h) = encode_for_storage(&face(2, RED), &store).unwrap();
    assert_eq!((w, h), (240, 320));
    let back = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((back.width(), back.height()), (240, 320));
    // A wide 600 × 400 frame is cropped to 3 × 4 about its centre, then not scaled up.
    let wide = RgbImage::from_pixel(600, 400, image::Rgb(RED));
    let (_, w, h) = encode_for_storage(&wide, &JpegSettings::default()).unwrap();
    assert_eq!((w, h), (300, 400));
    // Lower quality, fewer bytes.
    let low = JpegSettings {
        quality: 30,
        ..store
    };
    assert!(encode_for_storage(&face(2, RED), &low).unwrap().0.len() < bytes.len());
}

#[test]
fn the_quality_score_falls_as_a_photo_is_blurred_more() {
    let photo = FacePhoto::new(face(1, [200, 30, 40]));
    let checker = FaceChecker::new(&FaceSettings::default());
    let ctx = ODD;
    let mut prev = checker.run(&photo, &ctx).quality_score();
    assert!(prev >= 50, "the sharp photo passes: {prev}");
    for sigma in [1.0, 2.0, 4.0, 8.0] {
        let blurred = FacePhoto::new(imageops::blur(&photo.rgb, sigma));
        let q = checker.run(&blurred, &ctx).quality_score();
        assert!(q <= prev, "blur {sigma}: {q} > {prev}");
        prev = q;
    }
    assert!(prev < 50, "heavily blurred fails: {prev}");
}

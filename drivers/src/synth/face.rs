//! Synthetic portraits: a cartoon head and shoulders, never a real person, for the KTP-el photo slot.

use image::{Rgb, RgbImage};

use super::paint::{bezier, capsule, ellipse, ellipse_distance, fill, polyline, rect};
use super::{derive_seed, Rng};

/// Width of a synthetic portrait in pixels.
pub const FACE_WIDTH: u32 = 480;
/// Height of a synthetic portrait in pixels.
pub const FACE_HEIGHT: u32 = 640;

/// Skin tones to mix between, light to dark.
const SKIN: [[f32; 3]; 5] = [
    [236.0, 198.0, 168.0],
    [222.0, 172.0, 135.0],
    [198.0, 140.0, 100.0],
    [165.0, 110.0, 75.0],
    [125.0, 82.0, 55.0],
];

fn rgb(c: [f32; 3]) -> Rgb<u8> {
    Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8))
}

fn scaled(c: [f32; 3], k: f32) -> [f32; 3] {
    c.map(|v| v * k)
}

/// A face-like picture (not a person): head with skin tone, hair or a headscarf, ears, eyes, eyebrows,
/// nose, mouth, neck and shoulders, on a uniform `background`, [`FACE_WIDTH`] × [`FACE_HEIGHT`]
/// (portrait). Proportions, colours and features vary with `person_seed`; the head keeps clear of the
/// edges, so the corners show the background.
pub fn face(person_seed: u64, background: [u8; 3]) -> RgbImage {
    let mut rng = Rng::new(derive_seed(person_seed, "face", &[]));
    let mut img = RgbImage::from_pixel(FACE_WIDTH, FACE_HEIGHT, Rgb(background));

    let tone = rng.range(0.0, (SKIN.len() - 1) as f32);
    let (i, t) = (tone as usize, tone.fract());
    let skin: [f32; 3] = std::array::from_fn(|c| SKIN[i][c] + (SKIN[i + 1][c] - SKIN[i][c]) * t);
    let hair = if rng.chance(0.15) {
        let g = rng.range(140.0, 190.0); // grey
        [g, g, g * 1.02]
    } else {
        let d = rng.range(18.0, 55.0);
        [d * 1.25, d, d * 0.8]
    };
    let clothes = [
        rng.range(20.0, 240.0),
        rng.range(20.0, 240.0),
        rng.range(20.0, 240.0),
    ];
    let scarf = rng.chance(0.35).then(|| {
        [
            rng.range(40.0, 230.0),
            rng.range(40.0, 230.0),
            rng.range(40.0, 230.0),
        ]
    });

    let (cx, cy) = (
        240.0 + rng.range(-10.0, 10.0),
        285.0 + rng.range(-12.0, 12.0),
    );
    let (a, b) = (rng.range(100.0, 120.0), rng.range(135.0, 158.0));
    let jaw = rng.range(0.85, 1.0); // narrower chin

    // Behind the head: long hair or the back of the scarf.
    if let Some(s) = scarf {
        ellipse(
            &mut img,
            (cx, cy - 5.0),
            (a * 1.32, b * 1.2),
            0.0,
            rgb(s),
            1.0,
        );
    } else if rng.chance(0.4) {
        let long = rng.range(1.1, 1.5);
        ellipse(
            &mut img,
            (cx, cy + 0.3 * b),
            (a * 1.2, b * long),
            0.0,
            rgb(hair),
            1.0,
        );
    }

    // Shoulders and clothes with a V neckline; a scarf drapes over them.
    let neck_top = cy + 0.55 * b;
    let shoulder_y = cy + b + 60.0;
    rect(
        &mut img,
        (cx - 0.42 * a, neck_top, cx + 0.42 * a, shoulder_y + 40.0),
        20.0,
        rgb(scaled(skin, 0.86)),
        1.0,
    );
    // Narrow enough that the bottom corners stay background.
    let (sa, sb) = (rng.range(190.0, 220.0), rng.range(150.0, 190.0));
    let v_top = shoulder_y - 20.0;
    let v_depth = rng.range(50.0, 110.0);
    // Skin showing in the neckline.
    let half = v_depth / 1.6 + 4.0;
    rect(
        &mut img,
        (
            cx - half,
            shoulder_y + 20.0,
            cx + half,
            v_top + v_depth + 4.0,
        ),
        4.0,
        rgb(scaled(skin, 0.86)),
        1.0,
    );
    let c = rgb(clothes);
    fill(
        &mut img,
        (cx - sa, shoulder_y, cx + sa, FACE_HEIGHT as f32),
        c,
        1.0,
        |x, y| {
            let body = ellipse_distance(x - cx, y - (shoulder_y + sb), sa, sb);
            let v = ((v_top + 1.6 * (x - cx).abs() - y) / 1.9).max(y - (v_top + v_depth));
            body.max(-v)
        },
    );
    if let Some(s) = scarf {
        ellipse(
            &mut img,
            (cx, shoulder_y + 10.0),
            (a * 1.45, 95.0),
            0.0,
            rgb(s),
            1.0,
        );
        ellipse(&mut img, (cx, cy), (a * 1.3, b * 1.17), 0.0, rgb(s), 1.0);
    }

    // Ears, unless covered.
    if scarf.is_none() {
        for side in [-1.0, 1.0] {
            let ear = (cx + side * a * 0.97, cy + 0.02 * b);
            ellipse(
                &mut img,
                ear,
                (15.0, 27.0),
                side * 0.15,
                rgb(scaled(skin, 0.9)),
                1.0,
            );
        }
    }

    shaded_head(&mut img, (cx, cy), (a, b), jaw, skin);

    // Hair over the forehead, or the scarf's front edge.
    let hairline = cy - b * rng.range(0.45, 0.6);
    let part = rng.range(-0.4, 0.4) * a;
    if let Some(s) = scarf {
        let s = rgb(scaled(s, 0.95));
        fill(&mut img, (cx - a, cy - b, cx + a, cy), s, 1.0, |x, y| {
            let band = ellipse_distance(x - cx, y - cy, a * 1.02, b * 1.04);
            band.max(y - (hairline + 0.18 * b + 0.0006 * (x - cx).powi(2)))
        });
    } else {
        let bulk = rng.range(1.04, 1.14);
        fill(
            &mut img,
            (cx - a * 1.2, cy - b * 1.2, cx + a * 1.2, cy + 0.2 * b),
            rgb(hair),
            1.0,
            |x, y| {
                let cap = ellipse_distance(x - cx, y - (cy - 0.04 * b), a * bulk, b * bulk);
                let dx = x - cx - part;
                let line = hairline + 0.0025 * dx * dx - 0.25 * (x - cx).abs();
                cap.max(y - line.max(hairline - 25.0))
            },
        );
    }

    // Eyes: white, iris, pupil, a glint, and the upper lid.
    let eye_y = cy - rng.range(0.02, 0.1) * b;
    let eye_dx = rng.range(0.34, 0.42) * a;
    let iris = [
        rng.range(40.0, 90.0),
        rng.range(25.0, 55.0),
        rng.range(15.0, 35.0),
    ];
    let eye_w = rng.range(0.15, 0.19) * a;
    for side in [-1.0, 1.0] {
        let ex = cx + side * eye_dx;
        ellipse(
            &mut img,
            (ex, eye_y),
            (eye_w, eye_w * 0.5),
            0.0,
            Rgb([245, 243, 238]),
            1.0,
        );
        let r = eye_w * 0.45;
        ellipse(&mut img, (ex, eye_y), (r, r), 0.0, rgb(iris), 1.0);
        ellipse(
            &mut img,
            (ex, eye_y),
            (r * 0.45, r * 0.45),
            0.0,
            Rgb([15, 12, 10]),
            1.0,
        );
        ellipse(
            &mut img,
            (ex + r * 0.3, eye_y - r * 0.35),
            (2.5, 2.5),
            0.0,
            Rgb([255; 3]),
            0.9,
        );
        let lid = bezier(
            (ex - eye_w * 1.05, eye_y + 1.0),
            (ex, eye_y - eye_w * 0.75),
            (ex + eye_w * 1.05, eye_y + 1.0),
            12,
        );
        polyline(&mut img, &lid, 1.8, rgb(scaled(skin, 0.35)));
        // Eyebrow, in the hair colour (dark when the hair is grey).
        let brow_colour = if hair[0] > 120.0 {
            scaled(hair, 0.6)
        } else {
            hair
        };
        let by = eye_y - eye_w * rng.range(1.0, 1.3);
        let brow = bezier(
            (ex - side * eye_w * 1.1, by + 4.0),
            (ex - side * eye_w * 0.1, by - 9.0),
            (ex + side * eye_w * 1.2, by + 2.0),
            12,
        );
        polyline(&mut img, &brow, rng.range(3.0, 5.0), rgb(brow_colour));
    }

    // Nose: a shadowed bridge line, a soft tip and two nostrils.
    let nose_y = cy + rng.range(0.25, 0.33) * b;
    let nose_w = rng.range(0.16, 0.22) * a;
    let shadow = rgb(scaled(skin, 0.78));
    let bridge = bezier(
        (cx - 0.08 * a, eye_y + 10.0),
        (cx - 0.02 * a, nose_y - 20.0),
        (cx - nose_w * 0.5, nose_y + 2.0),
        10,
    );
    polyline(&mut img, &bridge, 1.6, shadow);
    ellipse(
        &mut img,
        (cx, nose_y),
        (nose_w * 0.6, nose_w * 0.4),
        0.0,
        shadow,
        0.3,
    );
    for side in [-1.0, 1.0] {
        let nostril = (cx + side * nose_w * 0.45, nose_y + nose_w * 0.2);
        ellipse(
            &mut img,
            nostril,
            (5.0, 3.0),
            side * 0.3,
            rgb(scaled(skin, 0.45)),
            1.0,
        );
    }

    // Mouth: two lips and the line between them, with a slight smile.
    let mouth_y = cy + rng.range(0.52, 0.6) * b;
    let mouth_w = rng.range(0.26, 0.34) * a;
    let lip = [skin[0] * 0.8 + 20.0, skin[1] * 0.6, skin[2] * 0.62];
    ellipse(
        &mut img,
        (cx, mouth_y - 4.0),
        (mouth_w, 7.0),
        0.0,
        rgb(lip),
        1.0,
    );
    ellipse(
        &mut img,
        (cx, mouth_y + 5.0),
        (mouth_w * 0.85, 9.0),
        0.0,
        rgb(scaled(lip, 1.08)),
        1.0,
    );
    let smile = rng.range(0.0, 8.0);
    let line = bezier(
        (cx - mouth_w, mouth_y - smile * 0.4),
        (cx, mouth_y + smile),
        (cx + mouth_w, mouth_y - smile * 0.4),
        14,
    );
    polyline(&mut img, &line, 1.5, rgb(scaled(lip, 0.5)));

    // Some wear glasses.
    if rng.chance(0.2) {
        let frame = Rgb([30, 30, 35]);
        for side in [-1.0, 1.0] {
            let ex = cx + side * eye_dx;
            let (ra, rb) = (eye_w * 1.55, eye_w * 1.15);
            fill(
                &mut img,
                (
                    ex - ra - 3.0,
                    eye_y - rb - 3.0,
                    ex + ra + 3.0,
                    eye_y + rb + 3.0,
                ),
                frame,
                1.0,
                |x, y| ellipse_distance(x - ex, y - eye_y, ra, rb).abs() - 1.8,
            );
        }
        let gap = eye_dx - eye_w * 1.55;
        capsule(
            &mut img,
            (cx - gap, eye_y - 3.0),
            (cx + gap, eye_y - 3.0),
            1.8,
            frame,
            1.0,
        );
    }

    // Camera grain on the subject (the backdrop stays exactly the colour asked for).
    let mut grain = Rng::new(rng.next_u64());
    for p in img.pixels_mut() {
        if p.0 != background {
            let n = 2.5 * grain.normal();
            *p = Rgb(p
                .0
                .map(|c| (f32::from(c) + n).round().clamp(0.0, 255.0) as u8));
        }
    }
    img
}

/// The face: an egg shape (narrower towards the chin), lit from the front so it darkens towards its edge.
fn shaded_head(
    img: &mut RgbImage,
    (cx, cy): (f32, f32),
    (a, b): (f32, f32),
    jaw: f32,
    skin: [f32; 3],
) {
    let x0 = (cx - a - 2.0).max(0.0) as u32;
    let x1 = ((cx + a + 2.0) as u32).min(img.width());
    let y0 = (cy - b - 2.0).max(0.0) as u32;
    let y1 = ((cy + b + 2.0) as u32).min(img.height());
    for y in y0..y1 {
        for x in x0..x1 {
            let (u, v) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            // Below the eyes the face narrows towards the jaw.
            let width = if v > 0.0 {
                a * (1.0 - (1.0 - jaw) * v / b)
            } else {
                a
            };
            let d = ellipse_distance(u, v, width, b);
            let cover = (0.5 - d).clamp(0.0, 1.0);
            if cover <= 0.0 {
                continue;
            }
            let k = (u / width).powi(2) + (v / b).powi(2);
            let light = 1.04 - 0.2 * k * k;
            let p = img.get_pixel_mut(x, y);
            for (old, tone) in p.0.iter_mut().zip(skin) {
                let want = (tone * light).clamp(0.0, 255.0);
                *old = (f32::from(*old) + (want - f32::from(*old)) * cover).round() as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::testutil::save_sample;

    const RED: [u8; 3] = [200, 30, 40];

    #[test]
    fn is_a_480_by_640_portrait() {
        let img = face(3, RED);
        assert_eq!((img.width(), img.height()), (480, 640));
    }

    #[test]
    fn corners_show_the_background_and_the_centre_does_not() {
        for seed in 0..20 {
            let img = face(seed, RED);
            for (x0, y0) in [(0, 0), (472, 0), (0, 632), (472, 632)] {
                for y in y0..y0 + 8 {
                    for x in x0..x0 + 8 {
                        assert_eq!(img.get_pixel(x, y).0, RED, "seed {seed} at ({x}, {y})");
                    }
                }
            }
            let centre = (190..290)
                .flat_map(|y| (190..290).map(move |x| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y).0 == RED)
                .count();
            assert_eq!(
                centre, 0,
                "seed {seed}: background showing in the middle of the face"
            );
        }
    }

    #[test]
    fn same_seed_gives_the_same_picture_and_another_seed_another() {
        assert_eq!(face(5, RED), face(5, RED));
        let (a, b) = (face(5, RED), face(6, RED));
        let differ = a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count();
        assert!(
            differ * 10 > a.pixels().len(),
            "only {differ} pixels differ"
        );
    }

    #[test]
    fn background_colour_is_the_one_asked_for() {
        let blue = [20, 70, 180];
        assert_eq!(face(1, blue).get_pixel(0, 0).0, blue);
    }

    #[test]
    fn writes_samples_to_look_at() {
        let mut sheet = RgbImage::new(4 * FACE_WIDTH / 2, 2 * FACE_HEIGHT / 2);
        for n in 0..8u32 {
            let bg = if n % 2 == 0 {
                [200, 30, 40]
            } else {
                [20, 70, 180]
            };
            let img = face(u64::from(n), bg);
            if n == 0 {
                save_sample("face.png", &png_rgb(&img));
            }
            let (ox, oy) = ((n % 4) * FACE_WIDTH / 2, (n / 4) * FACE_HEIGHT / 2);
            for y in 0..FACE_HEIGHT / 2 {
                for x in 0..FACE_WIDTH / 2 {
                    sheet.put_pixel(ox + x, oy + y, *img.get_pixel(2 * x, 2 * y));
                }
            }
        }
        save_sample("faces.png", &png_rgb(&sheet));
    }

    fn png_rgb(img: &RgbImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }
}

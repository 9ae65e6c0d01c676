//! Synthetic document photos: a made-up form (title bar, fields, a table, a stamp and a signature)
//! photographed lying slightly askew on a table.

use image::{Rgb, RgbImage};

use super::paint::{ellipse, rect, ring};
use super::{derive_seed, render_signature, signature_trace, Rng, ValueNoise};

/// Width of a synthetic document photo in pixels.
pub const DOCUMENT_WIDTH: u32 = 800;
/// Height of a synthetic document photo in pixels.
pub const DOCUMENT_HEIGHT: u32 = 600;

/// The paper, landscape A4 proportions (as a Kartu Keluarga), in pixels of the photo.
const PAPER_W: u32 = 700;
const PAPER_H: u32 = 495;

/// A synthetic photo of a form, [`DOCUMENT_WIDTH`] × [`DOCUMENT_HEIGHT`] RGB: a title bar, labelled
/// fields on ruled lines, a table, a round stamp and a signature, all as blocks and lines rather than
/// legible text. `title` only seeds the layout, together with `seed`.
pub fn document(seed: u64, title: &str) -> RgbImage {
    let mut rng = Rng::new(derive_seed(seed, "document", title.as_bytes()));
    let paper = form(&mut rng);

    // Place the paper: a little rotated and off-centre.
    let angle = rng.range(-0.05, 0.05);
    let (s, c) = angle.sin_cos();
    let centre = (
        DOCUMENT_WIDTH as f32 / 2.0 + rng.range(-15.0, 15.0),
        DOCUMENT_HEIGHT as f32 / 2.0 + rng.range(-12.0, 12.0),
    );
    let wood = [
        rng.range(120.0, 170.0),
        rng.range(85.0, 115.0),
        rng.range(50.0, 75.0),
    ];
    let grain = ValueNoise::new(&mut rng, DOCUMENT_WIDTH, DOCUMENT_HEIGHT * 6, 14.0);
    let light = (rng.range(0.2, 0.8), rng.range(0.2, 0.8));
    let mut noise = Rng::new(rng.next_u64());

    let (hw, hh) = (PAPER_W as f32 / 2.0, PAPER_H as f32 / 2.0);
    let mut out = RgbImage::new(DOCUMENT_WIDTH, DOCUMENT_HEIGHT);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (fx, fy) = (x as f32 + 0.5 - centre.0, y as f32 + 0.5 - centre.1);
        // Paper coordinates of this photo pixel.
        let (u, v) = (fx * c + fy * s + hw, -fx * s + fy * c + hh);
        let inside = (u.min(PAPER_W as f32 - u)).min(v.min(PAPER_H as f32 - v));
        let table = {
            let g = grain.at(x as f32, y as f32 * 6.0);
            // The paper's shadow falls down and to the right.
            let (su, sv) = (u - 4.0, v - 6.0);
            let shade = (su.min(PAPER_W as f32 - su)).min(sv.min(PAPER_H as f32 - sv));
            let shadow = 1.0 - 0.35 * (shade.min(0.0) / 6.0).exp();
            wood.map(|w| w * (0.85 + 0.3 * g) * shadow)
        };
        let colour = if inside > -0.5 {
            let p = bilinear(&paper, u - 0.5, v - 0.5);
            let a = (inside + 0.5).clamp(0.0, 1.0);
            std::array::from_fn(|i| table[i] + (p[i] - table[i]) * a)
        } else {
            table
        };
        // Uneven room light, a warm cast and a little sensor noise.
        let (lx, ly) = (
            x as f32 / DOCUMENT_WIDTH as f32 - light.0,
            y as f32 / DOCUMENT_HEIGHT as f32 - light.1,
        );
        let lit = 1.02 - 0.3 * (lx * lx + ly * ly);
        let grainy = 2.0 * noise.normal();
        let warm = [1.0, 0.97, 0.9];
        *px = Rgb(std::array::from_fn(|i| {
            (colour[i] * lit * warm[i] + grainy)
                .round()
                .clamp(0.0, 255.0) as u8
        }));
    }
    out
}

/// The form itself, upright, at the size it appears in the photo.
fn form(rng: &mut Rng) -> RgbImage {
    let mut img = RgbImage::from_pixel(PAPER_W, PAPER_H, Rgb([250, 249, 243]));
    let (w, h) = (PAPER_W as f32, PAPER_H as f32);
    let ink = Rgb([40, 40, 45]);
    let faint = Rgb([150, 150, 155]);
    let accent = [Rgb([25, 55, 120]), Rgb([20, 90, 60]), Rgb([120, 30, 35])][rng.below(3) as usize];

    // Title bar with a centred title.
    rect(&mut img, (20.0, 18.0, w - 20.0, 58.0), 3.0, accent, 1.0);
    words(
        &mut img,
        rng,
        (w / 2.0 - 150.0, 30.0),
        300.0,
        16.0,
        Rgb([245, 245, 245]),
        true,
    );
    words(&mut img, rng, (w / 2.0 - 90.0, 68.0), 180.0, 9.0, ink, true);

    // Labelled fields on ruled lines, in two columns.
    let fields = 3 + rng.below(3);
    for col in 0..2 {
        let x0 = 30.0 + col as f32 * (w / 2.0);
        for row in 0..fields {
            let y = 100.0 + row as f32 * 26.0;
            let label_w = rng.range(60.0, 100.0);
            words(&mut img, rng, (x0, y), label_w, 8.0, ink, false);
            rect(
                &mut img,
                (x0 + 110.0, y + 13.0, x0 + w / 2.0 - 50.0, y + 14.0),
                0.0,
                faint,
                1.0,
            );
            let value_w = rng.range(60.0, w / 2.0 - 170.0);
            words(
                &mut img,
                rng,
                (x0 + 115.0, y - 1.0),
                value_w,
                9.0,
                Rgb([30, 45, 110]),
                false,
            );
        }
    }

    // A table: header row, grid, short entries.
    let top = 110.0 + fields as f32 * 26.0;
    let rows = 4 + rng.below(3);
    let cols = 5 + rng.below(3);
    let row_h = 20.0;
    let (left, right) = (30.0, w - 30.0);
    let bottom = top + row_h * (rows + 1) as f32;
    rect(
        &mut img,
        (left, top, right, top + row_h),
        0.0,
        Rgb([225, 228, 235]),
        1.0,
    );
    for r in 0..=rows + 1 {
        let y = top + r as f32 * row_h;
        rect(&mut img, (left, y, right, y + 1.0), 0.0, ink, 1.0);
    }
    let widths: Vec<f32> = (0..cols).map(|_| rng.range(0.6, 1.6)).collect();
    let total: f32 = widths.iter().sum();
    let mut edges = vec![left];
    for w in &widths {
        edges.push(edges[edges.len() - 1] + (right - left) * w / total);
    }
    for &x in &edges {
        rect(&mut img, (x, top, x + 1.0, bottom + 1.0), 0.0, ink, 1.0);
    }
    for r in 0..=rows {
        for pair in edges.windows(2) {
            let span = pair[1] - pair[0] - 12.0;
            let fill = rng.range(0.3, 0.9) * span;
            let y = top + r as f32 * row_h + 6.0;
            words(&mut img, rng, (pair[0] + 6.0, y), fill, 7.0, ink, r == 0);
        }
    }

    // Place, date and the official's name on the right; a stamp and a signature over them.
    let sx = w - 190.0;
    let sy = (bottom + 25.0).min(h - 110.0);
    words(&mut img, rng, (sx, sy), 140.0, 8.0, ink, false);
    words(&mut img, rng, (sx, sy + 80.0), 120.0, 8.0, ink, true);
    let stamp = Rgb([90, 60, 150]);
    let (cx, cy) = (sx + rng.range(20.0, 50.0), sy + 45.0);
    ring(&mut img, (cx, cy), 36.0, 3.0, stamp, 0.7);
    ring(&mut img, (cx, cy), 26.0, 1.5, stamp, 0.7);
    ellipse(&mut img, (cx, cy), (8.0, 8.0), 0.0, stamp, 0.6);
    let trace = signature_trace(rng.next_u64(), "");
    let sig = render_signature(&trace, 150, 45);
    for (x, y, p) in sig.enumerate_pixels() {
        let a = 1.0 - f32::from(p.0[0]) / 255.0;
        let (px, py) = (sx as u32 + x, sy as u32 + 20 + y);
        if a > 0.0 && px < PAPER_W && py < PAPER_H {
            super::paint::blend(img.get_pixel_mut(px, py), &Rgb([20, 30, 90]), a);
        }
    }
    img
}

/// A line of "text": word-sized blocks of height `size` from `origin` across about `width` pixels.
fn words(
    img: &mut RgbImage,
    rng: &mut Rng,
    origin: (f32, f32),
    width: f32,
    size: f32,
    colour: Rgb<u8>,
    bold: bool,
) {
    let mut x = origin.0;
    let end = origin.0 + width;
    let opacity = if bold { 0.95 } else { 0.75 };
    while x < end - size {
        let word = (rng.range(2.0, 8.0) * size * 0.6).min(end - x);
        let (y0, y1) = (origin.1 + size * 0.15, origin.1 + size);
        rect(img, (x, y0, x + word, y1), size * 0.2, colour, opacity);
        x += word + size * 0.6;
    }
}

/// The colour of `img` at a fractional pixel position (clamped to the edges).
fn bilinear(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let x = x.clamp(0.0, (img.width() - 1) as f32);
    let y = y.clamp(0.0, (img.height() - 1) as f32);
    let (x0, y0) = (x as u32, y as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (tx, ty) = (x - x0 as f32, y - y0 as f32);
    let at = |x, y, i| f32::from(img.get_pixel(x, y).0[i]);
    std::array::from_fn(|i| {
        let top = at(x0, y0, i) + (at(x1, y0, i) - at(x0, y0, i)) * tx;
        let bottom = at(x0, y1, i) + (at(x1, y1, i) - at(x0, y1, i)) * tx;
        top + (bottom - top) * ty
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::testutil::save_sample;

    #[test]
    fn is_an_800_by_600_photo_of_light_paper_with_dark_marks() {
        let img = document(1, "Kartu Keluarga");
        assert_eq!((img.width(), img.height()), (800, 600));
        let luma = |p: &Rgb<u8>| p.0.iter().map(|&c| u32::from(c)).sum::<u32>() / 3;
        let middle: Vec<u32> = (150..450)
            .flat_map(|y| (200..600).map(move |x| (x, y)))
            .map(|(x, y)| luma(img.get_pixel(x, y)))
            .collect();
        let light = middle.iter().filter(|&&l| l > 180).count();
        let dark = middle.iter().filter(|&&l| l < 110).count();
        assert!(
            light * 2 > middle.len(),
            "paper: {light} of {}",
            middle.len()
        );
        assert!(
            dark * 100 > middle.len(),
            "marks: {dark} of {}",
            middle.len()
        );
    }

    #[test]
    fn same_seed_and_title_give_the_same_photo_and_another_title_another() {
        let a = document(4, "Surat Keterangan Lahir");
        assert_eq!(a, document(4, "Surat Keterangan Lahir"));
        let b = document(4, "Surat Rujukan");
        let differ = a.pixels().zip(b.pixels()).filter(|(p, q)| p != q).count();
        assert!(differ * 5 > a.pixels().len(), "only {differ} pixels differ");
    }

    #[test]
    fn writes_samples_to_look_at() {
        let img = document(1, "Kartu Keluarga");
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        save_sample("document.png", &png.into_inner());
    }
}

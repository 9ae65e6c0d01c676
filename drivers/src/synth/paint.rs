//! A few anti-aliased shapes for the cartoon generators, drawn from signed distances.
//!
//! Each shape is a signed-distance function (negative inside, in pixels); a pixel is covered by
//! `0.5 − distance`, clamped to `[0, 1]`, which gives a one-pixel soft edge without supersampling.

use image::{ImageBuffer, Pixel};

/// Blends `colour` over every pixel of `img` inside the shape `sd`, at `opacity`, visiting only the
/// pixels of the bounding box `(x0, y0, x1, y1)`.
pub(crate) fn fill<P: Pixel<Subpixel = u8>>(
    img: &mut ImageBuffer<P, Vec<u8>>,
    bbox: (f32, f32, f32, f32),
    colour: P,
    opacity: f32,
    sd: impl Fn(f32, f32) -> f32,
) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let x0 = (bbox.0 - 1.0).floor().clamp(0.0, w) as u32;
    let y0 = (bbox.1 - 1.0).floor().clamp(0.0, h) as u32;
    let x1 = (bbox.2 + 2.0).ceil().clamp(0.0, w) as u32;
    let y1 = (bbox.3 + 2.0).ceil().clamp(0.0, h) as u32;
    for y in y0..y1 {
        for x in x0..x1 {
            let cover = (0.5 - sd(x as f32 + 0.5, y as f32 + 0.5)).clamp(0.0, 1.0) * opacity;
            if cover > 0.0 {
                blend(img.get_pixel_mut(x, y), &colour, cover);
            }
        }
    }
}

/// Moves `p` towards `c` by `a` (0 = unchanged, 1 = `c`).
pub(crate) fn blend<P: Pixel<Subpixel = u8>>(p: &mut P, c: &P, a: f32) {
    p.apply2(c, |old, new| {
        (f32::from(old) + (f32::from(new) - f32::from(old)) * a).round() as u8
    });
}

/// An ellipse centred on `(cx, cy)` with semi-axes `a` (along `angle`) and `b`.
pub(crate) fn ellipse<P: Pixel<Subpixel = u8>>(
    img: &mut ImageBuffer<P, Vec<u8>>,
    (cx, cy): (f32, f32),
    (a, b): (f32, f32),
    angle: f32,
    colour: P,
    opacity: f32,
) {
    let r = a.max(b);
    let (s, c) = angle.sin_cos();
    fill(
        img,
        (cx - r, cy - r, cx + r, cy + r),
        colour,
        opacity,
        |x, y| {
            let (dx, dy) = (x - cx, y - cy);
            ellipse_distance(dx * c + dy * s, -dx * s + dy * c, a, b)
        },
    );
}

/// Approximate signed distance from `(u, v)` to the ellipse `(u/a)² + (v/b)² = 1`: the implicit
/// function divided by its gradient, exact on the axes and close enough elsewhere for a soft edge.
pub(crate) fn ellipse_distance(u: f32, v: f32, a: f32, b: f32) -> f32 {
    let k = ((u / a).powi(2) + (v / b).powi(2)).sqrt();
    if k < 1e-6 {
        return -a.min(b);
    }
    let grad = ((u / (a * a)).powi(2) + (v / (b * b)).powi(2)).sqrt() / k;
    (k - 1.0) / grad
}

/// A segment from `p` to `q` with round ends, `radius` wide on each side.
pub(crate) fn capsule<P: Pixel<Subpixel = u8>>(
    img: &mut ImageBuffer<P, Vec<u8>>,
    p: (f32, f32),
    q: (f32, f32),
    radius: f32,
    colour: P,
    opacity: f32,
) {
    let bbox = (
        p.0.min(q.0) - radius,
        p.1.min(q.1) - radius,
        p.0.max(q.0) + radius,
        p.1.max(q.1) + radius,
    );
    fill(img, bbox, colour, opacity, |x, y| {
        segment_distance((x, y), p, q) - radius
    });
}

/// Distance from `pt` to the segment `p`–`q`.
pub(crate) fn segment_distance(pt: (f32, f32), p: (f32, f32), q: (f32, f32)) -> f32 {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((pt.0 - p.0) * dx + (pt.1 - p.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((pt.0 - p.0 - t * dx).powi(2) + (pt.1 - p.1 - t * dy).powi(2)).sqrt()
}

/// A polyline of capsules through `points` (a thick curve).
pub(crate) fn polyline<P: Pixel<Subpixel = u8>>(
    img: &mut ImageBuffer<P, Vec<u8>>,
    points: &[(f32, f32)],
    radius: f32,
    colour: P,
) {
    for pair in points.windows(2) {
        capsule(img, pair[0], pair[1], radius, colour, 1.0);
    }
}

/// Points of the quadratic Bézier curve `p0`, `c`, `p1`, `n + 1` of them.
pub(crate) fn bezier(p0: (f32, f32), c: (f32, f32), p1: (f32, f32), n: usize) -> Vec<(f32, f32)> {
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            let (u, w) = ((1.0 - t) * (1.0 - t), t * t);
            let m = 2.0 * t * (1.0 - t);
            (u * p0.0 + m * c.0 + w * p1.0, u * p0.1 + m * c.1 + w * p1.1)
        })
        .collect()
}

/// An axis-aligned rectangle with corners rounded by `round`.
pub(crate) fn rect<P: Pixel<Subpixel = u8>>(
    img: &mut ImageBuffer<P, Vec<u8>>,
    (x0, y0, x1, y1): (f32, f32, f32, f32),
    round: f32,
    colour: P,
    opacity: f32,
) {
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let (hx, hy) = ((x1 - x0) / 2.0 - round, (y1 - y0) / 2.0 - round);
    fill(img, (x0, y0, x1, y1), colour, opacity, |x, y| {
        let qx = (x - cx).abs() - hx;
        let qy = (y - cy).abs() - hy;
        let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
        outside + qx.max(qy).min(0.0) - round
    });
}

/// A circular ring of radius `r` (to the middle of the band) and band width `width`.
pub(crate) fn ring<P: Pixel<Subpixel = u8>>(
    img: &mut ImageBuffer<P, Vec<u8>>,
    (cx, cy): (f32, f32),
    r: f32,
    width: f32,
    colour: P,
    opacity: f32,
) {
    let o = r + width;
    fill(
        img,
        (cx - o, cy - o, cx + o, cy + o),
        colour,
        opacity,
        |x, y| (((x - cx).powi(2) + (y - cy).powi(2)).sqrt() - r).abs() - width / 2.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb, RgbImage};

    #[test]
    fn an_ellipse_covers_its_inside_and_leaves_its_outside() {
        let mut img = RgbImage::from_pixel(100, 60, Rgb([255, 255, 255]));
        ellipse(
            &mut img,
            (50.0, 30.0),
            (40.5, 20.0),
            0.0,
            Rgb([0, 0, 0]),
            1.0,
        );
        assert_eq!(img.get_pixel(50, 30).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(85, 30).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(50, 5).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(5, 5).0, [255, 255, 255]);
        // The edge is soft: a pixel on it is part-covered.
        let edge = img.get_pixel(90, 30).0[0];
        assert!(edge > 0 && edge < 255, "{edge}");
    }

    #[test]
    fn a_capsule_is_as_wide_as_its_radius() {
        let mut img = image::GrayImage::from_pixel(50, 50, Luma([255]));
        capsule(&mut img, (10.0, 25.0), (40.0, 25.0), 3.0, Luma([0]), 1.0);
        assert_eq!(img.get_pixel(25, 25).0, [0]);
        assert_eq!(img.get_pixel(25, 23).0, [0]);
        assert_eq!(img.get_pixel(25, 29).0, [255]);
        assert_eq!(img.get_pixel(45, 25).0, [255]);
    }
}

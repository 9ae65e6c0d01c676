//! Test images shared by the round-trip and oracle tests: noise and a fingerprint-like pattern.

#![allow(dead_code)]

/// A deterministic xorshift stream of bytes.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u8
        })
        .collect()
}

/// Ridges of an 8–10 px period inside an elliptic fingertip on a light background, with noise.
pub fn print_like(width: usize, height: usize, seed: u64) -> Vec<u8> {
    let n = noise(width * height, seed);
    let (cx, cy) = (width as f64 * 0.5, height as f64 * 0.45);
    let mut out = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = (x as f64 - cx, (y as f64 - cy) * 0.8);
            let r = (dx * dx + dy * dy).sqrt();
            let phase = r / 9.0 * std::f64::consts::TAU + 0.5 * (x as f64 / 31.0).sin();
            let ex = dx / (0.46 * width as f64);
            let ey = (y as f64 - height as f64 * 0.5) / (0.47 * height as f64);
            let inside = (1.0 - (ex * ex + ey * ey).powi(3)).clamp(0.0, 1.0);
            let jitter = f64::from(n[y * width + x] % 9) - 4.0;
            let g = 205.0 - inside * (85.0 + 70.0 * phase.sin()) + jitter;
            out.push(g.round().clamp(0.0, 255.0) as u8);
        }
    }
    out
}

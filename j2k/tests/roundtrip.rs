//! Round trips through an independent decoder: `jpeg2k` over `openjp2` (the pure-Rust port of
//! OpenJPEG that jemput's ISO/IEC 19794 reader uses) must give back exactly the pixels encoded,
//! for every size from 1 × 1 up, for noise (the worst case for the coder), flat images, and a
//! fingerprint-like pattern.

use jemput_j2k::{encode, Colour, Container};

mod common;

use common::{noise, print_like};

fn decode(bytes: &[u8]) -> (u32, u32, jpeg2k::ImagePixelData) {
    let img = jpeg2k::Image::from_bytes(bytes).expect("the decoder takes the stream");
    let (w, h) = (img.width(), img.height());
    (w, h, img.get_pixels(None).expect("pixels").data)
}

fn round_trip(width: usize, height: usize, colour: Colour, pixels: &[u8]) -> usize {
    for container in [Container::Codestream, Container::Jp2] {
        let bytes = encode(width as u32, height as u32, colour, pixels, container).unwrap();
        let (w, h, data) = decode(&bytes);
        assert_eq!((w as usize, h as usize), (width, height));
        let back = match (colour, data) {
            (Colour::Grey, jpeg2k::ImagePixelData::L8(v)) => v,
            (Colour::Rgb, jpeg2k::ImagePixelData::Rgb8(v)) => v,
            (c, other) => panic!("{c:?} decoded as {:?}", std::mem::discriminant(&other)),
        };
        if back != pixels {
            let first = back.iter().zip(pixels).position(|(a, b)| a != b);
            panic!("{width}×{height} {colour:?} {container:?}: pixels differ, first at {first:?}");
        }
        if container == Container::Codestream {
            return bytes.len();
        }
    }
    unreachable!()
}

#[test]
fn noise_of_every_small_size_comes_back_exactly() {
    for h in 1..=9 {
        for w in 1..=9 {
            round_trip(w, h, Colour::Grey, &noise(w * h, (w * 31 + h) as u64));
        }
    }
    for (w, h) in [
        (1, 200),
        (200, 1),
        (2, 131),
        (63, 65),
        (64, 64),
        (65, 63),
        (129, 67),
    ] {
        round_trip(w, h, Colour::Grey, &noise(w * h, (w + h) as u64));
    }
}

#[test]
fn rgb_noise_comes_back_exactly() {
    for (w, h) in [(1, 1), (1, 5), (3, 2), (17, 33), (64, 64), (97, 130)] {
        round_trip(w, h, Colour::Rgb, &noise(w * h * 3, (w * h) as u64));
    }
}

#[test]
fn flat_and_extreme_images_come_back_exactly() {
    for v in [0u8, 1, 127, 128, 255] {
        for (w, h) in [(1, 1), (7, 5), (70, 90)] {
            round_trip(w, h, Colour::Grey, &vec![v; w * h]);
            round_trip(w, h, Colour::Rgb, &vec![v; w * h * 3]);
        }
    }
    // A checkerboard of 0 and 255: the largest high-pass coefficients 8-bit samples can make.
    let (w, h) = (150, 99);
    let board: Vec<u8> = (0..w * h)
        .map(|i| if (i % w + i / w) % 2 == 0 { 0 } else { 255 })
        .collect();
    round_trip(w, h, Colour::Grey, &board);
    // Stripes, to drive the low-pass band to its extremes.
    let stripes: Vec<u8> = (0..w * h)
        .map(|i| if (i % w / 3) % 2 == 0 { 0 } else { 255 })
        .collect();
    round_trip(w, h, Colour::Grey, &stripes);
    let rgb: Vec<u8> = (0..w * h * 3)
        .map(|i| if (i / 3 % w + i % 3) % 2 == 0 { 0 } else { 255 })
        .collect();
    round_trip(w, h, Colour::Rgb, &rgb);
}

#[test]
fn a_500_ppi_finger_comes_back_exactly_and_compresses() {
    let (w, h) = (400, 500);
    let pixels = print_like(w, h, 7);
    let size = round_trip(w, h, Colour::Grey, &pixels);
    let ratio = (w * h) as f64 / size as f64;
    println!("{w}×{h} synthetic print: {size} bytes, {ratio:.2}:1");
    assert!(
        size < w * h,
        "{size} bytes is no compression of {} raw",
        w * h
    );
}

#[test]
fn a_slap_sized_image_comes_back_exactly() {
    let (w, h) = (1600, 1500);
    let pixels = print_like(w, h, 3);
    let size = round_trip(w, h, Colour::Grey, &pixels);
    println!(
        "{w}×{h} slap-sized print: {size} bytes, {:.2}:1",
        (w * h) as f64 / size as f64
    );
    assert!(size < w * h);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any small image, of any content, grey or RGB, comes back exactly.
    #[test]
    fn any_small_image_comes_back_exactly(
        w in 1usize..48,
        h in 1usize..48,
        rgb in proptest::bool::ANY,
        seed in proptest::num::u64::ANY,
        levels in 0u8..=255,
    ) {
        let colour = if rgb { Colour::Rgb } else { Colour::Grey };
        let n = w * h * if rgb { 3 } else { 1 };
        // Noise squeezed into a narrower range at random, so some images are smooth.
        let pixels: Vec<u8> = noise(n, seed).iter().map(|&v| (u16::from(v) * u16::from(levels) / 255) as u8).collect();
        round_trip(w, h, colour, &pixels);
    }
}

//! Fuzzes the WSQ decoder with arbitrary bytes.
//!
//! Invariants beyond "never panics": a decoded image has the size of its frame header and at least
//! one pixel, the decoder never allocates for more than `MAX_PIXELS`, and a decoded image encodes
//! again to a file that decodes to the same size.
#![no_main]

use jemput_wsq::{decode, encode, EncodeOptions, MAX_PIXELS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(d) = decode(data) else {
        return;
    };
    let (w, h) = (d.image.width as usize, d.image.height as usize);
    assert_eq!((w, h), (d.frame.width as usize, d.frame.height as usize));
    assert!(w * h > 0 && w * h <= MAX_PIXELS);
    assert_eq!(d.image.pixels.len(), w * h);
    if w * h <= 1 << 16 {
        let again = encode(&d.image, &EncodeOptions::default()).expect("a decoded image re-encodes");
        let back = decode(&again).expect("our own file decodes");
        assert_eq!((back.image.width, back.image.height), (d.image.width, d.image.height));
    }
});

//! Fuzzes the U.are.U codec: image transfers (header, line count, length) and event packets, as
//! a reader could send them.
//!
//! Invariants: nothing panics; a decoded header encodes back to its 64 bytes; a decoded image has
//! 290 lines of 384 bytes and a line count in 1..=290; its block runs stay inside the image.
#![no_main]

use jemput_drivers::uru4000::protocol::{
    Event, ImageHeader, RawImage, HEADER_LEN, IMAGE_HEIGHT, IMAGE_TRANSFER_LEN, IMAGE_WIDTH,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = Event::decode(data) {
        assert_eq!(e.code(), u16::from_be_bytes([data[0], data[1]]));
    }
    if let Ok(h) = ImageHeader::decode(data) {
        assert_eq!(&h.encode()[..], &data[..HEADER_LEN]);
    }
    let _ = RawImage::decode(data);
    // The same bytes as a whole-size transfer, so the header checks are reached.
    let mut full = data.to_vec();
    full.resize(IMAGE_TRANSFER_LEN, 0);
    if let Ok(img) = RawImage::decode(&full) {
        assert_eq!(img.lines.len(), IMAGE_WIDTH * IMAGE_HEIGHT);
        let n = usize::from(img.header.num_lines);
        assert!((1..=IMAGE_HEIGHT).contains(&n));
        for (first, count, _) in img.header.runs() {
            assert!(first + count <= n);
        }
    }
});

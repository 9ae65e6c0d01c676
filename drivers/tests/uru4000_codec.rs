//! The U.are.U codec: header and event round trips for any values, and garbage from the reader
//! that must be an error, never a panic.

use jemput_drivers::uru4000::protocol::{
    Event, ImageHeader, RawImage, HEADER_LEN, IMAGE_HEIGHT, IMAGE_TRANSFER_LEN, IMAGE_WIDTH,
};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_header_round_trips(bytes in proptest::collection::vec(any::<u8>(), HEADER_LEN)) {
        let h = ImageHeader::decode(&bytes).unwrap();
        prop_assert_eq!(h.encode().to_vec(), bytes);
        // The runs never reach past the image's lines.
        let lines: usize = h.runs().iter().map(|r| r.1).sum();
        prop_assert!(lines <= usize::from(h.num_lines));
    }

    #[test]
    fn any_event_packet_decodes_to_its_type(bytes in proptest::collection::vec(any::<u8>(), 2..64)) {
        let e = Event::decode(&bytes).unwrap();
        prop_assert_eq!(e.code(), u16::from_be_bytes([bytes[0], bytes[1]]));
    }

    #[test]
    fn garbage_image_transfers_are_errors_or_well_formed(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        extra in 0usize..3,
    ) {
        // Short garbage, and full-size garbage with any header.
        let _ = RawImage::decode(&bytes);
        let mut full = bytes.clone();
        full.resize(IMAGE_TRANSFER_LEN + extra, 0x11);
        match RawImage::decode(&full) {
            Ok(img) => {
                prop_assert_eq!(extra, 0);
                prop_assert_eq!(img.lines.len(), IMAGE_WIDTH * IMAGE_HEIGHT);
                prop_assert!(img.header.num_lines >= 1 && usize::from(img.header.num_lines) <= IMAGE_HEIGHT);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn an_empty_event_packet_is_an_error() {
    assert!(Event::decode(&[]).is_err());
}

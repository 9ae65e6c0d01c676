//! Fuzzes the ISDV4 packet framer and the query reply parsers with an arbitrary byte stream.
//!
//! Invariants: a pen packet and a query reply round-trip through their encoders (up to the bits
//! the format leaves unused), the framer gives the same frames however the stream is split, and
//! every frame has the length its first byte announces.
#![no_main]

use jemput_drivers::isdv4::protocol::{
    Decoder, Frame, PenCaps, PenSample, TouchCaps, CONTROL_LEN, PEN_LEN, SYNC_BIT,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&config, data)) = input.split_first() else {
        return;
    };
    // The touch packet length comes from a touch query reply: 5, 7 or 13 bytes.
    let touch_len = TouchCaps {
        sensor_id: config & 7,
        ..TouchCaps::default()
    }
    .packet_len();

    let mut decoder = Decoder::new();
    decoder.set_touch_len(touch_len);
    let frames = decoder.feed(data);

    let mut split = Decoder::new();
    split.set_touch_len(touch_len);
    let cut = usize::from(config >> 3).min(data.len());
    let mut again = split.feed(&data[..cut]);
    again.extend(split.feed(&data[cut..]));
    assert_eq!(again, frames, "splitting the stream changed the frames");
    assert_eq!(split.stats(), decoder.stats());

    for frame in &frames {
        match frame {
            Frame::Pen(sample) => {
                let wire = sample.encode();
                assert_eq!(PenSample::decode(&wire), Ok(*sample));
                // Bit 3 of the first byte is unused; everything else comes back as sent.
                let found = data
                    .windows(PEN_LEN)
                    .any(|w| w[0] & !0x08 == wire[0] && w[1..] == wire[1..]);
                assert!(
                    found,
                    "pen packet re-encodes to bytes not on the line: {sample:?}"
                );
            }
            Frame::Control { data_id, bytes } => {
                assert_eq!(bytes[0] & 0xC0, 0xC0);
                assert_eq!(*data_id, bytes[0] & 0x3F);
                assert!(bytes[1..].iter().all(|b| b & SYNC_BIT == 0));
                check_replies(bytes);
            }
            Frame::Touch(bytes) => {
                assert_eq!(bytes.len(), touch_len);
                assert_ne!(bytes[0] & SYNC_BIT, 0);
                assert!(bytes[1..].iter().all(|b| b & SYNC_BIT == 0));
            }
        }
    }

    // The parsers also take any 11 bytes, framed or not.
    for chunk in data.chunks_exact(CONTROL_LEN) {
        check_replies(chunk.try_into().unwrap());
    }
    for chunk in data.chunks_exact(PEN_LEN) {
        if let Ok(sample) = PenSample::decode(chunk.try_into().unwrap()) {
            assert_eq!(PenSample::decode(&sample.encode()), Ok(sample));
        }
    }
});

/// A reply that parses encodes back to the same bytes, but for the data id in byte 0 (and the
/// unused byte 8 of a touch reply).
fn check_replies(bytes: &[u8; CONTROL_LEN]) {
    if let Ok(caps) = PenCaps::parse_reply(bytes) {
        let mut expected = *bytes;
        expected[0] = 0xC0;
        assert_eq!(caps.encode_reply(), expected, "{caps:?}");
        assert_eq!(PenCaps::parse_reply(&caps.encode_reply()), Ok(caps));
        let _ = caps.firmware_string();
    }
    if let Ok(caps) = TouchCaps::parse_reply(bytes) {
        let mut expected = *bytes;
        expected[0] = 0xC1;
        expected[8] = 0;
        assert_eq!(caps.encode_reply(), expected, "{caps:?}");
        assert_eq!(TouchCaps::parse_reply(&caps.encode_reply()), Ok(caps));
        assert!([5, 7, 13].contains(&caps.packet_len()));
    }
}

//! Fuzzes the EF01 frame decoder (and the ReadSysPara block parser) with an arbitrary byte stream
//! delivered in arbitrary chunks, as a serial line would.
//!
//! Invariants: every byte is accounted for (skipped as garbage, part of a returned frame, damaged
//! or whole, or still pending); a whole frame re-encodes to the bytes it came from; how the stream
//! is split into reads does not change what comes out.
#![no_main]

use jemput_drivers::ef01::protocol::{
    Decoder, Frame, FrameError, Pid, SysParams, FRAME_OVERHEAD, MAX_PAYLOAD, SYS_PARAMS_LEN,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
enum Out {
    Frame(Frame),
    Damaged(FrameError),
}

/// Decodes `data` pushed in chunks of the sizes `chunks` cycles through.
fn decode(data: &[u8], chunks: &[u8]) -> (Vec<Out>, usize, usize) {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut rest = data;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = usize::from(*sizes.next().unwrap_or(&255)).clamp(1, rest.len());
        decoder.push(&rest[..n]);
        rest = &rest[n..];
        while let Some(next) = decoder.next_frame() {
            out.push(match next {
                Ok(frame) => Out::Frame(frame),
                Err(e) => Out::Damaged(e),
            });
        }
        skipped += decoder.take_skipped();
    }
    (out, skipped, decoder.pending())
}

fuzz_target!(|input: &[u8]| {
    // The first bytes choose the read sizes, the rest is the line.
    let (chunks, data) = input.split_at(input.len().min(4));
    let (out, skipped, pending) = decode(data, chunks);

    let mut accounted = skipped + pending;
    for o in &out {
        match o {
            Out::Frame(frame) => {
                let wire = frame.encode();
                assert_eq!(wire.len(), frame.wire_len());
                assert!(
                    data.windows(wire.len()).any(|w| w == wire.as_slice()),
                    "a decoded frame re-encodes to bytes that were not on the line: {frame:?}"
                );
                accounted += wire.len();
                if frame.pid == Pid::Ack {
                    if let Some(values) = frame.payload.get(1..) {
                        if let Some(params) = SysParams::parse(values) {
                            assert_eq!(params.encode()[..], values[..SYS_PARAMS_LEN]);
                            assert_eq!(SysParams::parse(&params.encode()), Some(params));
                            let _ = (params.packet_size(), params.baud());
                        } else {
                            assert!(values.len() < SYS_PARAMS_LEN);
                        }
                    }
                }
            }
            Out::Damaged(FrameError::Checksum {
                pid,
                expected,
                received,
                payload_len,
            }) => {
                assert_ne!(expected, received);
                assert!(
                    *payload_len <= MAX_PAYLOAD,
                    "{pid:?} frame of {payload_len} bytes"
                );
                accounted += payload_len + FRAME_OVERHEAD;
            }
        }
    }
    assert_eq!(accounted, data.len(), "bytes lost or counted twice");
    assert!(pending < FRAME_OVERHEAD + MAX_PAYLOAD);

    // Well-formed frames back to back (payloads cut from the input) come out exactly as sent,
    // with nothing skipped, however the line is split.
    let mut sent = Vec::new();
    let mut wire = Vec::new();
    for (i, piece) in data
        .chunks(usize::from(chunks.first().copied().unwrap_or(7)).max(1))
        .enumerate()
    {
        let pids = [Pid::Command, Pid::Data, Pid::Ack, Pid::EndData];
        let frame = Frame {
            address: u32::from(piece[0]) * 0x0101_0101,
            pid: pids[i % 4],
            payload: piece.to_vec(),
        };
        wire.extend(frame.encode());
        sent.push(Out::Frame(frame));
    }
    let (got, got_skipped, got_pending) = decode(&wire, chunks);
    assert_eq!((got_skipped, got_pending), (0, 0));
    assert_eq!(got, sent, "well-formed frames did not come back as sent");

    // How the line is split into reads changes nothing.
    for sizes in [&[255][..], &[1][..]] {
        let (again, again_skipped, again_pending) = decode(data, sizes);
        assert_eq!(again, out, "reads of {sizes:?} bytes decode differently");
        assert_eq!((again_skipped, again_pending), (skipped, pending));
    }
});

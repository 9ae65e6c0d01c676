//! The U.are.U driver's descrambler plug-in path, which the shipped [`Identity`] never takes: a
//! descrambler that can descramble is asked for each scrambled block, in order, with the key the
//! driver read from the reader (register 0x33 written with the key number, 0x34 read) and then
//! with the key it returned; the image comes out as the unscrambled capture of the same finger.
//!
//! The test descrambler knows the reader model's own scrambling (an XOR pattern over the line
//! bytes), not real firmware's: that keystream is still unverified (`descramble.rs`).

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jemput_drivers::uru4000::protocol::{reg, Block, IMAGE_WIDTH};
use jemput_drivers::uru4000::{
    device_info, Descrambler, Identity, Uru4000, UruConfig, UruFault, UruHandle, UruModelConfig,
    UruOp,
};
use jemput_drivers::CaptureControl;

fn control() -> CaptureControl {
    CaptureControl {
        timeout: Duration::from_millis(2000),
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

fn reader(cfg: UruModelConfig) -> (Uru4000<jemput_drivers::usb::MemUsb>, UruHandle) {
    let info = device_info(cfg.vid, cfg.pid, Some(cfg.serial.clone()));
    let handle = UruHandle::new(cfg);
    let config = UruConfig {
        timeout: Duration::from_millis(500),
        power_up: Duration::from_millis(500),
        poll: Duration::from_millis(10),
    };
    let d = Uru4000::open(handle.transport().unwrap(), info, config).unwrap();
    (d, handle)
}

/// One call the driver made: the key it passed, the block's flags and line count, the bytes.
type Call = (u32, u8, u8, usize);

/// Undoes the model's scrambling, which XORs byte `i` of the image lines with
/// `i·0x9D ⊕ 0x5A` (mod 256); keeps its place across blocks and records every call.
#[derive(Debug)]
struct ModelPattern {
    at: usize,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Descrambler for ModelPattern {
    fn name(&self) -> &str {
        "the reader model's XOR pattern (test only)"
    }
    fn can_descramble(&self) -> bool {
        true
    }
    fn descramble(&mut self, key: u32, block: Block, lines: &mut [u8]) -> u32 {
        self.calls
            .lock()
            .unwrap()
            .push((key, block.flags, block.lines, lines.len()));
        for (j, p) in lines.iter_mut().enumerate() {
            *p ^= ((self.at + j) as u8).wrapping_mul(0x9D) ^ 0x5A;
        }
        self.at += lines.len();
        key.wrapping_add(1)
    }
}

#[test]
fn a_descrambler_that_can_is_called_per_scrambled_block_with_the_readers_key() {
    // The same person and finger, once unscrambled (the reference), once scrambled.
    let (mut plain_reader, _) = reader(UruModelConfig::default());
    let plain = plain_reader.capture(&control()).unwrap();

    let (mut d, h) = reader(UruModelConfig {
        faults: vec![UruFault::Scrambled],
        ..UruModelConfig::default()
    });
    let calls = Arc::new(Mutex::new(Vec::new()));
    d.set_descrambler(Box::new(ModelPattern {
        at: 0,
        calls: calls.clone(),
    }));
    let image = d.capture(&control()).unwrap();
    assert_eq!((image.width, image.height), (plain.width, plain.height));
    assert!(
        image.pixels == plain.pixels,
        "the descrambled image differs from the unscrambled capture in {} pixels",
        image
            .pixels
            .iter()
            .zip(&plain.pixels)
            .filter(|(a, b)| a != b)
            .count()
    );

    // The key exchange: key number 1 and four zero bytes written to 0x33, four bytes read from
    // 0x34 (the model answers 0xA5 each).
    let index_writes: Vec<Vec<u8>> = h.with(|m| {
        m.log()
            .iter()
            .filter_map(|op| match op {
                UruOp::WriteRegister(r, v) if *r == reg::SCRAMBLE_DATA_INDEX => Some(v.clone()),
                _ => None,
            })
            .collect()
    });
    assert_eq!(index_writes, vec![vec![1, 0, 0, 0, 0]]);

    // Both scrambled blocks, in order: the reader's key first, then what the descrambler gave.
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].0, 0xA5A5_A5A5);
    assert_eq!(calls[1].0, 0xA5A5_A5A6);
    let lines: usize = calls.iter().map(|c| usize::from(c.2)).sum();
    assert_eq!(lines, image.height as usize);
    for &(_, flags, n, bytes) in &calls {
        assert_ne!(flags & 0x02, 0, "only scrambled blocks are handed over");
        assert_eq!(bytes, usize::from(n) * IMAGE_WIDTH);
    }
}

#[test]
fn the_identity_descrambler_leaves_plain_images_alone_and_never_asks_for_a_key() {
    let (mut d, h) = reader(UruModelConfig::default());
    d.set_descrambler(Box::new(Identity));
    d.capture(&control()).unwrap();
    let asked = h.with(|m| {
        m.log()
            .iter()
            .any(|op| matches!(op, UruOp::WriteRegister(r, _) if *r == reg::SCRAMBLE_DATA_INDEX))
    });
    assert!(!asked, "a plain image needs no key");
}

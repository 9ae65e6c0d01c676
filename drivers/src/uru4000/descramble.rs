//! Descrambling image lines. Some U.are.U firmware XORs image blocks with a keystream from a
//! 32-bit LFSR keyed through registers 0x33/0x34 (docs/devices.md §3); the exact bit order is
//! **unverified**, so jemput ships only [`Identity`], which passes unscrambled images through and
//! refuses scrambled ones with a clear error. A keystream confirmed against a recorded capture
//! plugs in here as another [`Descrambler`] (the driver reads the key from the reader for it).

use super::protocol::Block;

/// Turns the lines of one scrambled block back into pixels.
pub trait Descrambler: Send + std::fmt::Debug {
    /// What to call it in logs.
    fn name(&self) -> &str;
    /// Whether it can descramble at all; when not, the driver refuses scrambled images before
    /// asking the reader for a key.
    fn can_descramble(&self) -> bool;
    /// Descrambles `lines` (the bytes of one block) in place with `key`, returning the key for
    /// the next block. Called only for blocks flagged encrypted.
    fn descramble(&mut self, key: u32, block: Block, lines: &mut [u8]) -> u32;
}

/// The only descrambler jemput has: none. Unscrambled images need nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl Descrambler for Identity {
    fn name(&self) -> &str {
        "identity (unscrambled images only)"
    }
    fn can_descramble(&self) -> bool {
        false
    }
    fn descramble(&mut self, key: u32, _block: Block, _lines: &mut [u8]) -> u32 {
        key
    }
}

//! How much to send at once and how long to wait between attempts.
//!
//! **Chunk size.** A `PATCH` carries one chunk. The first is 64 KiB (a second of a 2G link's
//! 64 kbit/s is 8 KiB, so the first chunk takes ~8 s there and well under one on anything better).
//! After a full chunk confirmed in under [`FAST`] the size doubles, up to 1 MiB; after one that
//! took longer than [`SLOW`] it halves; after a cut (no answer) it halves too, down to 16 KiB. So a
//! fast link soon sends 1 MiB per request, and a link that drops every few minutes loses at most
//! one small chunk per cut (bytes the server kept from a cut chunk are not re-sent either: the
//! next `HEAD` tells where to go on).
//!
//! **Back-off.** Between attempts at one packet the kit waits as [`Backoff`] says
//! (`jemput_core::backoff`, shared with the hub's webhook deliveries).

use std::time::Duration;

pub use jemput_core::backoff::Backoff;

/// The first chunk of every packet.
pub const INITIAL_CHUNK: usize = 64 * 1024;
/// The largest chunk.
pub const MAX_CHUNK: usize = 1024 * 1024;
/// The smallest chunk, after cuts or slow requests.
pub const MIN_CHUNK: usize = 16 * 1024;
/// A full chunk confirmed faster than this grows the next one.
pub const FAST: Duration = Duration::from_secs(2);
/// A chunk that took longer than this shrinks the next one.
pub const SLOW: Duration = Duration::from_secs(10);

/// The smallest chunk tried after a server refused chunks as too large (`413` to a `PATCH`)
/// without saying its limit; a server refusing even this is not a tus server a kit can use.
pub const FLOOR_CHUNK: usize = 1024;

/// Chooses chunk sizes from how the link behaves, within the server's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizer {
    current: usize,
    /// The largest body the server takes (advertised, or learnt from a `413`).
    cap: usize,
}

impl Default for ChunkSizer {
    fn default() -> Self {
        ChunkSizer {
            current: INITIAL_CHUNK,
            cap: MAX_CHUNK,
        }
    }
}

impl ChunkSizer {
    /// The size of the next chunk: never over the server's limit.
    pub fn size(&self) -> usize {
        self.current.min(self.cap)
    }

    /// The server advertised that it reads at most `max` bytes per `PATCH`.
    pub fn limit(&mut self, max: u64) {
        let max = usize::try_from(max).unwrap_or(usize::MAX).max(1);
        self.cap = self.cap.min(max);
    }

    /// The server refused a chunk of `sent` bytes with `413`, saying its limit (`max`) or not.
    /// Lowers the cap to the limit, or to half of what was sent; `false` when nothing smaller is
    /// worth trying (half of `sent` would be below [`FLOOR_CHUNK`]).
    pub fn refused(&mut self, sent: usize, max: Option<u64>) -> bool {
        let before = self.size();
        match max {
            Some(m) if m > 0 && m < sent as u64 => self.limit(m),
            // No limit said, or one the refused chunk kept (a proxy before the server refused
            // it): halve.
            _ if sent / 2 >= FLOOR_CHUNK => self.cap = self.cap.min(sent / 2),
            _ => return false,
        }
        self.current = self.current.min(self.cap);
        self.size() < before
    }

    /// A chunk of `len` bytes was confirmed after `took`.
    pub fn confirmed(&mut self, len: usize, took: Duration) {
        if len >= self.current && took < FAST {
            self.current = (self.current * 2).min(MAX_CHUNK);
        } else if took > SLOW {
            self.shrink();
        }
    }

    /// The connection was cut or timed out during a chunk.
    pub fn cut(&mut self) {
        self.shrink();
    }

    fn shrink(&mut self) {
        self.current = (self.current / 2).max(MIN_CHUNK.min(self.cap));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_grow_from_64_kib_to_1_mib_on_a_fast_link() {
        let mut c = ChunkSizer::default();
        let mut sizes = vec![c.size()];
        for _ in 0..6 {
            c.confirmed(c.size(), Duration::from_millis(100));
            sizes.push(c.size());
        }
        let kib: Vec<usize> = sizes.iter().map(|s| s / 1024).collect();
        assert_eq!(kib, [64, 128, 256, 512, 1024, 1024, 1024]);
    }

    #[test]
    fn a_short_last_chunk_or_a_middling_time_keeps_the_size() {
        let mut c = ChunkSizer::default();
        c.confirmed(1000, Duration::from_millis(10));
        assert_eq!(c.size(), INITIAL_CHUNK);
        c.confirmed(INITIAL_CHUNK, Duration::from_secs(5));
        assert_eq!(c.size(), INITIAL_CHUNK);
    }

    #[test]
    fn cuts_and_slow_chunks_halve_the_size_down_to_16_kib() {
        let mut c = ChunkSizer::default();
        c.cut();
        assert_eq!(c.size(), 32 * 1024);
        c.confirmed(c.size(), Duration::from_secs(11));
        assert_eq!(c.size(), MIN_CHUNK);
        c.cut();
        assert_eq!(c.size(), MIN_CHUNK);
    }

    #[test]
    fn an_advertised_limit_caps_every_chunk_and_a_413_shrinks_below_it() {
        let mut c = ChunkSizer::default();
        c.limit(20_000);
        assert_eq!(c.size(), 20_000);
        for _ in 0..5 {
            c.confirmed(c.size(), Duration::from_millis(10));
        }
        assert_eq!(c.size(), 20_000, "growth stays under the server's limit");
        // A proxy refusing 20 000 without saying its limit: halve until it passes.
        assert!(c.refused(20_000, None));
        assert_eq!(c.size(), 10_000);
        // The server says 4 096: take exactly that.
        assert!(c.refused(10_000, Some(4096)));
        assert_eq!(c.size(), 4096);
        // Refused at the advertised limit (a proxy in front limits more): halve again.
        assert!(c.refused(4096, Some(4096)));
        assert_eq!(c.size(), 2048);
        // Nothing below the floor is tried.
        assert!(!c.refused(2047, None));
        assert_eq!(c.size(), 2048);
        let mut d = ChunkSizer::default();
        assert!(!d.refused(FLOOR_CHUNK, None));
        assert_eq!(d.size(), INITIAL_CHUNK);
    }
}

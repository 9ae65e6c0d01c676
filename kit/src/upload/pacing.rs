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
//! **Learning from cuts.** The hub discards a cut chunk whole (every chunk is checksummed), so a
//! cut costs what had crossed of the chunk it hit. Halving alone does not stop a link that dies
//! every few seconds from costing half its bytes: the next fast chunk doubles the size again and
//! is cut again. So the sizer remembers how many bytes the link carried between recent cuts
//! ([`ChunkSizer::cut`] keeps a running estimate) and never grows a chunk past a
//! [`RUN_SHARE`]th of it; a cut chunk then costs on average an eighth of what the link carries
//! between cuts. The ceiling rises again as the link carries more without a cut (the bytes since
//! the last cut count too), so a link that got better is soon used at full size again. The
//! uploader keeps one sizer for the whole drain: what one packet learnt of the link, the next
//! starts from.
//!
//! **Back-off.** Between attempts at one packet the kit waits as [`Backoff`] says
//! (`jemput_core::backoff`, shared with the hub's webhook deliveries).
//!
//! **A busy hub.** A `429` or `503` with `Retry-After` (the hub's connection caps, a kit's limit
//! of open uploads) says when asking again is worth it (RFC 9110 §10.2.3: a number of seconds or
//! an HTTP date). The kit does not ask sooner: the drain stops there, and the agent waits that
//! long before its next round — at most [`MAX_RETRY_AFTER`], so a wrong header cannot park a kit
//! for a day. [`retry_after`] reads the header.

use std::time::Duration;

pub use jemput_core::backoff::Backoff;

/// The longest `Retry-After` the kit honours; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// The wait a `Retry-After` value asks for at `now` (seconds, or an HTTP date), at most
/// [`MAX_RETRY_AFTER`]; `None` when the value is neither.
pub fn retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only; more than u64 holds is "very long", which the bound cuts anyway.
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
        let secs = at.as_second().saturating_sub(now.as_second()).max(0);
        Duration::from_secs(secs.unsigned_abs())
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

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

/// A chunk is at most this fraction (1/`RUN_SHARE`) of what the link carried between recent cuts.
pub const RUN_SHARE: u64 = 4;

/// The smallest chunk tried after a server refused chunks as too large (`413` to a `PATCH`)
/// without saying its limit; a server refusing even this is not a tus server a kit can use.
pub const FLOOR_CHUNK: usize = 1024;

/// Chooses chunk sizes from how the link behaves, within the server's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSizer {
    current: usize,
    /// The largest body the server takes (advertised, or learnt from a `413`).
    cap: usize,
    /// Bytes confirmed since the last cut (since the start before the first).
    run: u64,
    /// What the link carried between recent cuts (a running mean); `None` before the first cut.
    between_cuts: Option<u64>,
}

impl Default for ChunkSizer {
    fn default() -> Self {
        ChunkSizer {
            current: INITIAL_CHUNK,
            cap: MAX_CHUNK,
            run: 0,
            between_cuts: None,
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

    /// The largest chunk the cuts seen so far allow: a [`RUN_SHARE`]th of what the link carried
    /// between cuts, or since the last one if that is more; [`MAX_CHUNK`] before any cut.
    pub fn ceiling(&self) -> usize {
        match self.between_cuts {
            None => MAX_CHUNK,
            Some(between) => {
                let share = between.max(self.run) / RUN_SHARE;
                usize::try_from(share)
                    .unwrap_or(MAX_CHUNK)
                    .clamp(MIN_CHUNK, MAX_CHUNK)
            }
        }
    }

    /// A chunk of `len` bytes was confirmed after `took`.
    pub fn confirmed(&mut self, len: usize, took: Duration) {
        self.run = self.run.saturating_add(len as u64);
        if len >= self.current && took < FAST {
            self.current = (self.current * 2).min(MAX_CHUNK).min(self.ceiling());
        } else if took > SLOW {
            self.shrink();
        }
    }

    /// The connection was cut or timed out during a chunk.
    pub fn cut(&mut self) {
        self.between_cuts = Some(match self.between_cuts {
            None => self.run,
            Some(before) => before / 2 + self.run / 2,
        });
        self.run = 0;
        self.shrink();
    }

    fn shrink(&mut self) {
        self.current = (self.current / 2)
            .min(self.ceiling())
            .max(MIN_CHUNK.min(self.cap));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_an_http_date_and_is_bounded() {
        let now: jiff::Timestamp = "2026-12-06T20:00:00Z".parse().unwrap();
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            retry_after("Sun, 06 Dec 2026 20:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        // A date already past: ask again now.
        assert_eq!(
            retry_after("Sun, 06 Dec 2026 19:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-5", "1.5", "soon", "120 s"] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
    }

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
        // Three chunks of 8 s each (neither fast nor slow) cross before the first cut.
        for _ in 0..3 {
            c.confirmed(c.size(), Duration::from_secs(8));
        }
        c.cut();
        assert_eq!(c.size(), 32 * 1024);
        c.confirmed(c.size(), Duration::from_secs(11));
        assert_eq!(c.size(), MIN_CHUNK);
        c.cut();
        assert_eq!(c.size(), MIN_CHUNK);
    }

    /// A link that is reset after about 90 kB (a cut every ~2 s at 40 kB/s, as seen through a
    /// cutting proxy): the chunks must settle well below what the link carries between cuts
    /// instead of doubling back into the next cut. Before the sizer learnt from cuts, a 64 KiB
    /// chunk confirmed in 1.6 s grew to 128 KiB and every other chunk was cut.
    #[test]
    fn a_link_cut_every_90_kb_settles_on_chunks_a_quarter_of_that_and_wastes_little() {
        let mut c = ChunkSizer::default();
        let link = 40_000.0; // bytes per second
        let (mut useful, mut sent) = (0u64, 0u64);
        for _cut in 0..40 {
            // One connection: chunks go through until 90 000 bytes have crossed it.
            let mut left = 90_000u64;
            loop {
                let n = c.size() as u64;
                if n > left {
                    sent += left;
                    c.cut();
                    break;
                }
                left -= n;
                sent += n;
                useful += n;
                c.confirmed(n as usize, Duration::from_secs_f64(n as f64 / link));
            }
        }
        let share = useful as f64 / sent as f64;
        assert!(share >= 0.8, "useful share {share:.3}");
        assert!(c.size() <= 90_000 / RUN_SHARE as usize, "{}", c.size());
    }

    #[test]
    fn a_cut_before_anything_crossed_drops_to_the_smallest_chunk() {
        let mut c = ChunkSizer::default();
        c.cut();
        assert_eq!(c.size(), MIN_CHUNK);
    }

    #[test]
    fn the_ceiling_rises_again_as_the_link_carries_more_without_a_cut() {
        let mut c = ChunkSizer::default();
        for _ in 0..3 {
            c.confirmed(c.size(), Duration::from_millis(100));
        }
        c.cut();
        assert_eq!(c.ceiling(), (64 + 128 + 256) * 1024 / 4);
        // Then a good link: 8 MB without a cut lifts the ceiling back to 1 MiB.
        let mut carried = 0;
        while carried < 8_000_000 {
            let n = c.size();
            c.confirmed(n, Duration::from_millis(100));
            carried += n;
        }
        assert_eq!(c.ceiling(), MAX_CHUNK);
        assert_eq!(c.size(), MAX_CHUNK);
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

//! Exponential back-off with jitter, as both ends retry: the kit between attempts at one packet,
//! the hub between webhook deliveries. The wait is `base · 2^n` (capped at `max`), with full
//! jitter in the upper half, so many kits coming back into coverage at once do not retry in step.

use std::time::Duration;

use rand::Rng;

/// Exponential back-off with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (0 for the first retry): a random time between half
    /// of and the whole of `min(max, base · 2^retry)`.
    pub fn delay(&self, retry: u32) -> Duration {
        let full = self
            .base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.max);
        let half = full / 2;
        let nanos = u64::try_from((full - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_with_jitter_in_the_upper_half_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let d0 = b.delay(0);
            assert!((50..=100).contains(&d0.as_millis()), "{d0:?}");
            let d2 = b.delay(2);
            assert!((200..=400).contains(&d2.as_millis()), "{d2:?}");
            let d9 = b.delay(9);
            assert!((500..=1000).contains(&d9.as_millis()), "{d9:?}");
            assert!(b.delay(u32::MAX) <= b.max);
        }
        let spread: std::collections::HashSet<_> = (0..20).map(|_| b.delay(3)).collect();
        assert!(spread.len() > 1, "jitter varies the wait");
    }
}

//! Every request body arrives against a clock ([`PacedBody`]): it may stall for at most
//! `idle_timeout_secs`, and after that grace it must average at least `min_body_rate` bytes a
//! second, so a body of `L` bytes is cut if it has not arrived `idle_timeout_secs + L /
//! min_body_rate` seconds after it began. A client that trickles bytes therefore cannot hold a
//! connection (and a file descriptor) for ever; what a handler does with a cut body is its own
//! business (`PATCH` keeps what arrived, enrollment answers `408`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The pace every request body must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pace {
    /// Longest stall, and the grace before the minimum rate counts.
    pub(crate) idle: Duration,
    /// Bytes per second a body must average after the grace.
    pub(crate) min_rate: u64,
}

impl Pace {
    pub(crate) fn of(config: &crate::HubConfig) -> Pace {
        Pace {
            idle: Duration::from_secs(config.idle_timeout_secs.max(1)),
            min_rate: config.min_body_rate.max(1),
        }
    }
}

/// Why a body was cut.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TooSlow {
    /// No byte for the whole idle timeout.
    #[error("no bytes for {secs} s")]
    Stalled { secs: u64 },
    /// Bytes came, but too few.
    #[error(
        "the body came too slowly: {received} bytes in {secs} s, under the hub's minimum of {min_rate} bytes/s (min_body_rate) after the first {grace} s"
    )]
    Slow {
        received: u64,
        secs: u64,
        min_rate: u64,
        grace: u64,
    },
}

/// Whether `e` is (or was caused by) a body cut for its pace.
pub(crate) fn too_slow<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a TooSlow> {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<TooSlow>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// A request body cut with [`TooSlow`] when it falls behind its [`Pace`].
pub(crate) struct PacedBody {
    inner: Body,
    pace: Pace,
    start: Instant,
    last: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    cut: bool,
}

impl PacedBody {
    pub(crate) fn new(inner: Body, pace: Pace) -> PacedBody {
        let now = Instant::now();
        PacedBody {
            inner,
            pace,
            start: now,
            last: now,
            received: 0,
            timer: Box::pin(tokio::time::sleep_until(now + pace.idle)),
            cut: false,
        }
    }

    /// When the body must have sent `received` bytes by the minimum rate: the grace, then
    /// `received / min_rate` seconds. `None` when that is beyond any clock.
    fn rate_deadline(&self) -> Option<Instant> {
        let secs = self.received as f64 / self.pace.min_rate as f64;
        let d = Duration::try_from_secs_f64(secs).ok()?;
        self.start.checked_add(self.pace.idle)?.checked_add(d)
    }

    fn check(&self, now: Instant) -> Result<(), TooSlow> {
        if now.duration_since(self.last) >= self.pace.idle {
            return Err(TooSlow::Stalled {
                secs: self.pace.idle.as_secs(),
            });
        }
        if self.rate_deadline().is_some_and(|d| now > d) {
            return Err(TooSlow::Slow {
                received: self.received,
                secs: now.duration_since(self.start).as_secs(),
                min_rate: self.pace.min_rate,
                grace: self.pace.idle.as_secs(),
            });
        }
        Ok(())
    }

    /// The next moment [`PacedBody::check`] may fail.
    fn next_deadline(&self) -> Instant {
        let idle = self.last + self.pace.idle;
        match self.rate_deadline() {
            // A hair past the deadline, so that the check then sees it passed.
            Some(d) => idle.min(d + Duration::from_millis(1)),
            None => idle,
        }
    }
}

impl HttpBody for PacedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.cut {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    if !data.is_empty() {
                        this.received = this.received.saturating_add(data.len() as u64);
                        this.last = Instant::now();
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => loop {
                if let Err(e) = this.check(Instant::now()) {
                    this.cut = true;
                    return Poll::Ready(Some(Err(axum::Error::new(e))));
                }
                let at = this.next_deadline();
                this.timer.as_mut().reset(at);
                if this.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.cut || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Puts a request's body on the clock (the router's outermost layer).
pub(crate) async fn pace_request(pace: Pace, req: Request) -> Request {
    req.map(|b| Body::new(PacedBody::new(b, pace)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body whose bytes come from a channel.
    struct Chan(tokio::sync::mpsc::Receiver<Bytes>);

    impl HttpBody for Chan {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
        }
    }

    /// A body of `n` single bytes, one every `every`.
    fn trickle(n: usize, every: Duration) -> Body {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            for _ in 0..n {
                tokio::time::sleep(every).await;
                if tx.send(Bytes::from_static(b"x")).await.is_err() {
                    return;
                }
            }
        });
        Body::new(Chan(rx))
    }

    /// Reads the paced body to its end: the bytes read, or the error that cut it.
    async fn read(body: Body, pace: Pace) -> (u64, Option<TooSlow>, Duration) {
        let started = std::time::Instant::now();
        let mut b = PacedBody::new(body, pace);
        let mut n = 0;
        loop {
            match std::future::poll_fn(|cx| Pin::new(&mut b).poll_frame(cx)).await {
                None => return (n, None, started.elapsed()),
                Some(Ok(f)) => n += f.into_data().map(|d| d.len() as u64).unwrap_or(0),
                Some(Err(e)) => {
                    let e: Box<dyn std::error::Error + Send + Sync> = e.into_inner();
                    return (n, too_slow(e.as_ref()).cloned(), started.elapsed());
                }
            }
        }
    }

    const PACE: Pace = Pace {
        idle: Duration::from_millis(300),
        min_rate: 100,
    };

    #[tokio::test]
    async fn a_body_that_sends_nothing_is_cut_after_the_idle_timeout() {
        let (n, why, took) = read(trickle(1, Duration::from_secs(30)), PACE).await;
        assert_eq!(n, 0);
        assert!(matches!(why, Some(TooSlow::Stalled { .. })), "{why:?}");
        assert!(
            took >= PACE.idle && took < Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn a_trickle_under_the_minimum_rate_is_cut_though_it_never_stalls() {
        // 20 bytes/s against a minimum of 100 after 0.3 s: cut at about 0.3 / (1 - 20/100) s.
        let (n, why, took) = read(trickle(1000, Duration::from_millis(50)), PACE).await;
        match why {
            Some(TooSlow::Slow { received, .. }) => assert_eq!(received, n),
            other => panic!("{other:?} after {n} bytes"),
        }
        assert!(
            took >= Duration::from_millis(350) && took < Duration::from_secs(2),
            "{took:?}"
        );
        assert!((5..=12).contains(&n), "{n} bytes");
    }

    #[tokio::test]
    async fn a_body_at_the_pace_arrives_whole() {
        let (n, why, _) = read(trickle(120, Duration::from_millis(4)), PACE).await;
        assert_eq!((n, why), (120, None));
    }

    #[test]
    fn the_cut_says_why_in_words() {
        let e = TooSlow::Slow {
            received: 4,
            secs: 61,
            min_rate: 1024,
            grace: 60,
        };
        assert_eq!(
            e.to_string(),
            "the body came too slowly: 4 bytes in 61 s, under the hub's minimum of 1024 bytes/s (min_body_rate) after the first 60 s"
        );
        let wrapped = axum::Error::new(e.clone());
        assert_eq!(too_slow(&wrapped), Some(&e));
    }
}

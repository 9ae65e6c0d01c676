//! Connection caps: how many connections the hub serves at once, in all (`max_connections`) and
//! from one peer address (`max_connections_per_peer`). A connection over a cap is answered as soon
//! as its request head is in — `503 Service Unavailable` over the global cap, `429 Too Many
//! Requests` over the per-peer cap, both with `Retry-After` — and closed, so a flood of slow clients can neither exhaust the hub's
//! file descriptors nor crowd out other peers. Each served connection holds a [`ConnPermit`] inside
//! its stream ([`Limited`]); closing the stream gives the slot back.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 10;
/// File descriptors kept for everything but connections (database, packet files, webhooks).
pub const FD_RESERVE: usize = 64;
/// Refusals being written at once; past this a connection over a cap is closed unanswered.
const MAX_REFUSING: usize = 64;
/// How long answering a refusal (for TLS with its handshake) may take in all.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a refused client's request head is waited for before the answer is sent anyway.
const REFUSAL_HEAD_WAIT: Duration = Duration::from_secs(2);
/// How much of a refused client's request head is read before answering.
const MAX_REFUSED_HEAD: usize = 64 * 1024;
/// How long the request bytes of a refused client are read and dropped before closing, so that
/// closing does not reset the connection before the client has read the answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Why a connection was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The hub serves `max` connections already.
    Busy { max: usize },
    /// This peer address holds `max` connections already.
    Peer { peer: IpAddr, max: usize },
}

impl Refusal {
    /// The whole HTTP/1.1 answer: status, `Retry-After`, `Connection: close`, a one-line reason.
    pub(crate) fn response(&self) -> Vec<u8> {
        let (status, body) = match self {
            Refusal::Busy { max } => (
                "503 Service Unavailable",
                format!(
                    "the hub is serving its limit of {max} connections (max_connections); retry in {RETRY_AFTER_SECS} s"
                ),
            ),
            Refusal::Peer { peer, max } => (
                "429 Too Many Requests",
                format!(
                    "{peer} holds the hub's limit of {max} connections per address (max_connections_per_peer); close some, or retry in {RETRY_AFTER_SECS} s"
                ),
            ),
        };
        format!(
            "HTTP/1.1 {status}\r\nRetry-After: {RETRY_AFTER_SECS}\r\nConnection: close\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}\n",
            body.len() + 1
        )
        .into_bytes()
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
    last_warning: Option<Instant>,
}

/// The connection counts of one server.
#[derive(Debug)]
pub(crate) struct ConnLimiter {
    max_total: usize,
    max_per_peer: usize,
    counts: Mutex<Counts>,
    refusing: AtomicUsize,
    max_refusing: usize,
}

impl ConnLimiter {
    #[cfg(test)]
    pub(crate) fn new(max_total: usize, max_per_peer: usize) -> Arc<ConnLimiter> {
        ConnLimiter::with_refusals(max_total, max_per_peer, MAX_REFUSING)
    }

    fn with_refusals(max_total: usize, max_per_peer: usize, max_refusing: usize) -> Arc<Self> {
        Arc::new(ConnLimiter {
            max_total: max_total.max(1),
            max_per_peer: max_per_peer.max(1),
            counts: Mutex::default(),
            refusing: AtomicUsize::new(0),
            max_refusing,
        })
    }

    /// The limiter for a hub's config: its caps, with the connections served and the refusals
    /// being answered together kept within what the process's open-files limit leaves after
    /// [`FD_RESERVE`] (the global cap lowered, with a warning saying so).
    pub(crate) fn for_config(config: &crate::HubConfig) -> Arc<ConnLimiter> {
        let (max, refusing) = fit_to_fds(config.max_connections, open_files_limit());
        if max < config.max_connections {
            tracing::warn!(
                "max_connections is {} but this process may open only {} files; serving at most {max} connections (raise `ulimit -n` for more)",
                config.max_connections,
                open_files_limit().unwrap_or(0)
            );
        }
        ConnLimiter::with_refusals(max, config.max_connections_per_peer, refusing)
    }

    /// Takes a slot for a connection from `peer`, or says why not.
    pub(crate) fn try_acquire(self: &Arc<Self>, peer: IpAddr) -> Result<ConnPermit, Refusal> {
        let peer = peer.to_canonical();
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let refusal = if c.total >= self.max_total {
            Some(Refusal::Busy {
                max: self.max_total,
            })
        } else if c.per_peer.get(&peer).copied().unwrap_or(0) >= self.max_per_peer {
            Some(Refusal::Peer {
                peer,
                max: self.max_per_peer,
            })
        } else {
            None
        };
        if let Some(r) = refusal {
            // One line a minute at most: a flood must not fill the log as well.
            if c.last_warning
                .is_none_or(|t| t.elapsed() > Duration::from_secs(60))
            {
                c.last_warning = Some(Instant::now());
                tracing::warn!("refusing connections: {r:?} (logged once a minute)");
            }
            return Err(r);
        }
        c.total += 1;
        *c.per_peer.entry(peer).or_default() += 1;
        Ok(ConnPermit {
            limiter: self.clone(),
            peer,
        })
    }

    /// Connections served now (for tests and logs).
    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Answers a refused connection with `refusal` in a task of its own, unless too many are
    /// being answered already (then it is closed at once). `prepare` turns the TCP stream into the
    /// stream to answer on (the TLS handshake, for HTTPS).
    pub(crate) fn refuse<S, F, Fut>(self: &Arc<Self>, tcp: TcpStream, refusal: Refusal, prepare: F)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = io::Result<S>> + Send,
    {
        if self.refusing.fetch_add(1, Ordering::SeqCst) >= self.max_refusing {
            self.refusing.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let answered = tokio::time::timeout(REFUSAL_TIMEOUT, async {
                let mut io = prepare(tcp).await?;
                // An HTTP client takes an answer that comes before it has sent its request for a
                // broken connection: read the request head first (as far as it comes in time).
                let _ = tokio::time::timeout(REFUSAL_HEAD_WAIT, read_head(&mut io)).await;
                io.write_all(&refusal.response()).await?;
                io.flush().await?;
                io.shutdown().await?;
                let mut sink = [0u8; 4096];
                let linger = tokio::time::sleep(REFUSAL_LINGER);
                tokio::pin!(linger);
                loop {
                    tokio::select! {
                        n = io.read(&mut sink) => if n.unwrap_or(0) == 0 { break },
                        () = &mut linger => break,
                    }
                }
                io::Result::Ok(())
            })
            .await;
            if let Ok(Err(e)) = answered {
                tracing::debug!("answering a refused connection failed: {e}");
            }
            me.refusing.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Reads until the end of a request head (an empty line), the connection's end, or
/// [`MAX_REFUSED_HEAD`] bytes.
async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> io::Result<()> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 2048];
    while seen.len() < MAX_REFUSED_HEAD {
        let n = io.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if seen.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    Ok(())
}

/// A connection's slot; given back when dropped.
#[derive(Debug)]
pub(crate) struct ConnPermit {
    limiter: Arc<ConnLimiter>,
    peer: IpAddr,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut c = self
            .limiter
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.per_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                c.per_peer.remove(&self.peer);
            }
        }
    }
}

/// A served connection's stream with its slot: the slot is given back when the stream is dropped.
#[derive(Debug)]
pub struct Limited<T> {
    io: T,
    _permit: ConnPermit,
}

impl<T> Limited<T> {
    pub(crate) fn new(io: T, permit: ConnPermit) -> Limited<T> {
        Limited {
            io,
            _permit: permit,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Limited<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Limited<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A plain TCP listener that hands out only connections within the caps; the others are answered
/// `503`/`429` and closed.
#[derive(Debug)]
pub(crate) struct LimitedListener {
    inner: TcpListener,
    limiter: Arc<ConnLimiter>,
}

impl LimitedListener {
    pub(crate) fn new(inner: TcpListener, limiter: Arc<ConnLimiter>) -> LimitedListener {
        LimitedListener { inner, limiter }
    }
}

/// Accepts the next TCP connection; waits out errors such as running out of file descriptors.
pub(crate) async fn accept_tcp(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(c) => return c,
            Err(e) => {
                tracing::warn!("accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = Limited<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, peer) = accept_tcp(&self.inner).await;
            match self.limiter.try_acquire(peer.ip()) {
                Ok(permit) => return (Limited::new(tcp, permit), peer),
                Err(r) => self.limiter.refuse(tcp, r, |t| async move { Ok(t) }),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// The global cap and the refusal budget for `max_connections` under an open-files limit of
/// `fds`: after [`FD_RESERVE`], a quarter of the room (at most [`MAX_REFUSING`]) for refusals and
/// the rest (at least 8) for connections.
fn fit_to_fds(max_connections: usize, fds: Option<u64>) -> (usize, usize) {
    let Some(fds) = fds else {
        return (max_connections, MAX_REFUSING);
    };
    let room = usize::try_from(fds.saturating_sub(FD_RESERVE as u64)).unwrap_or(usize::MAX);
    let refusing = (room / 4).clamp(1, MAX_REFUSING);
    let conns = room.saturating_sub(refusing).max(8);
    (max_connections.min(conns), refusing)
}

/// The soft limit on open files of this process (`/proc/self/limits`), when it can be read.
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&text)
}

fn parse_open_files_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_in_all_and_per_peer_and_given_back_on_drop() {
        let l = ConnLimiter::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = l.try_acquire(a).unwrap();
        // An IPv4-mapped IPv6 address is the same peer.
        let a2 = l.try_acquire("::ffff:10.0.0.1".parse().unwrap()).unwrap();
        assert_eq!(
            l.try_acquire(a).unwrap_err(),
            Refusal::Peer { peer: a, max: 2 }
        );
        let b1 = l.try_acquire(b).unwrap();
        assert_eq!(
            l.try_acquire("10.0.0.3".parse().unwrap()).unwrap_err(),
            Refusal::Busy { max: 3 }
        );
        assert_eq!(l.open(), 3);
        drop(a1);
        let a3 = l.try_acquire(a).unwrap();
        drop((a2, a3, b1));
        assert_eq!(l.open(), 0);
        assert!(l.counts.lock().unwrap().per_peer.is_empty());
    }

    #[test]
    fn a_refusal_is_a_complete_http_answer_with_retry_after() {
        let r = String::from_utf8(Refusal::Busy { max: 7 }.response()).unwrap();
        assert!(r.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{r}");
        assert!(r.contains("\r\nRetry-After: 10\r\n"), "{r}");
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("Content-Length: {}", body.len())),
            "{r}"
        );
        let peer = "10.1.2.3".parse().unwrap();
        let r = String::from_utf8(Refusal::Peer { peer, max: 4 }.response()).unwrap();
        assert!(r.starts_with("HTTP/1.1 429 Too Many Requests\r\n"), "{r}");
        assert!(r.contains("10.1.2.3 holds the hub's limit of 4"), "{r}");
    }

    #[test]
    fn connections_and_refusals_together_fit_in_the_open_files_limit() {
        // The hub: 128 descriptors. 64 kept, 16 for refusals, 48 for connections.
        assert_eq!(fit_to_fds(256, Some(128)), (48, 16));
        assert_eq!(fit_to_fds(256, Some(1024)), (256, 64));
        assert_eq!(fit_to_fds(20, Some(1024)), (20, 64));
        assert_eq!(fit_to_fds(256, None), (256, 64));
        assert_eq!(fit_to_fds(256, Some(10)), (8, 1));
    }

    #[test]
    fn the_open_files_limit_is_read_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             127431               127431               processes \n\
                    Max open files            128                  524288               files     \n";
        assert_eq!(parse_open_files_limit(text), Some(128));
        assert_eq!(parse_open_files_limit("nothing"), None);
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files_limit(unlimited), None);
    }
}

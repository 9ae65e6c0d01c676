//! A shaping proxy for loopback tests: one simulated link between a kit and a server, with a rate
//! limit (shared by every connection over it, both directions counted separately), one-way
//! latency, and connection cuts at chosen or random offsets of the PATCH body bytes that crossed
//! it. It reads each request's head to know where PATCH bodies are, and logs every PATCH: its
//! `Upload-Offset`, the length it announced, the body bytes forwarded, and whether it was cut.
//!
//! A cut forwards exactly the bytes before the cut point, then closes both connections.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Where the link cuts connections.
#[derive(Debug, Clone)]
pub enum Cuts {
    /// Never.
    Never,
    /// After exactly these numbers of PATCH body bytes crossed the link (ascending).
    At(Vec<u64>),
    /// At random distances, uniform in `mean / 2 ..= 3 * mean / 2` PATCH body bytes.
    Random { mean: u64, seed: u64 },
    /// Each PATCH is cut with probability `per_mille / 1000`, at a random point of its body.
    Share { per_mille: u32, seed: u64 },
}

/// How the link behaves.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Bytes per second in each direction (`None`: as fast as loopback).
    pub rate: Option<u64>,
    /// Added one-way delay.
    pub latency: Duration,
    pub cuts: Cuts,
}

impl Shape {
    /// A link of `kbit` kilobits per second (1000 bits), `latency_ms` one way.
    pub fn kbit(kbit: u64, latency_ms: u64, cuts: Cuts) -> Shape {
        Shape {
            rate: Some(kbit * 1000 / 8),
            latency: Duration::from_millis(latency_ms),
            cuts,
        }
    }
}

/// One PATCH as it crossed the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub offset: u64,
    pub declared: u64,
    pub forwarded: u64,
    pub cut: bool,
}

/// What crossed the link.
#[derive(Debug, Default)]
pub struct LinkLog {
    pub patches: Vec<Patch>,
    /// PATCH body bytes forwarded, in total.
    pub body_bytes: u64,
    /// Every byte forwarded kit → server (heads and bodies).
    pub up_bytes: u64,
    pub connections: u64,
    /// When a cut happened, as PATCH body bytes before it.
    pub cuts_at: Vec<u64>,
    next_cuts: VecDeque<u64>,
    rng: Option<(rand::rngs::StdRng, u64)>,
    share: Option<(rand::rngs::StdRng, u32)>,
}

impl LinkLog {
    /// Body bytes sent beyond `payload` (what the server needed): the cost of the cuts.
    pub fn resent(&self, payload: u64) -> u64 {
        self.body_bytes.saturating_sub(payload)
    }

    fn next_cut(&mut self) -> Option<u64> {
        if self.next_cuts.is_empty() {
            if let Some((rng, mean)) = self.rng.as_mut() {
                let last = self
                    .cuts_at
                    .last()
                    .copied()
                    .unwrap_or(0)
                    .max(self.body_bytes);
                let d = rng.gen_range(*mean / 2..=*mean * 3 / 2);
                self.next_cuts.push_back(last + d.max(1));
            }
        }
        self.next_cuts.front().copied()
    }
}

/// A running proxy.
pub struct Link {
    pub port: u16,
    pub log: Arc<Mutex<LinkLog>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A token bucket of one direction of the link, shared by its connections.
struct Pace {
    rate: Option<u64>,
    start: Instant,
    sent: u64,
}

impl Pace {
    /// Accounts for `n` bytes; returns when they may leave.
    fn take(&mut self, n: usize) -> Instant {
        self.sent += n as u64;
        match self.rate {
            Some(r) => self.start + Duration::from_secs_f64(self.sent as f64 / r as f64),
            None => Instant::now(),
        }
    }
}

struct Shared {
    shape: Shape,
    log: Arc<Mutex<LinkLog>>,
    up: Mutex<Pace>,
    down: Mutex<Pace>,
}

/// Starts a proxy on a loopback port that forwards to `127.0.0.1:upstream` through the link.
pub async fn start(upstream: u16, shape: Shape) -> Link {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut log = LinkLog::default();
    match &shape.cuts {
        Cuts::Never => {}
        Cuts::At(v) => log.next_cuts = v.iter().copied().collect(),
        Cuts::Random { mean, seed } => {
            log.rng = Some((rand::rngs::StdRng::seed_from_u64(*seed), (*mean).max(2)))
        }
        Cuts::Share { per_mille, seed } => {
            log.share = Some((rand::rngs::StdRng::seed_from_u64(*seed), *per_mille))
        }
    }
    let log = Arc::new(Mutex::new(log));
    let pace = |rate| {
        Mutex::new(Pace {
            rate,
            start: Instant::now(),
            sent: 0,
        })
    };
    let shared = Arc::new(Shared {
        up: pace(shape.rate),
        down: pace(shape.rate),
        shape,
        log: log.clone(),
    });
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                continue;
            };
            shared.log.lock().unwrap().connections += 1;
            tokio::spawn(connection(shared.clone(), client, server));
        }
    });
    Link { port, log, task }
}

/// A piece of bytes on its way, or the end of a direction.
enum Piece {
    Bytes(Vec<u8>, Instant),
    /// The sender closed its side.
    Eof,
    /// Close everything once the bytes before this are written.
    Cut,
}

async fn connection(sh: Arc<Shared>, client: TcpStream, server: TcpStream) {
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let (up_tx, up_rx) = mpsc::unbounded_channel();
    let (down_tx, down_rx) = mpsc::unbounded_channel();
    // Whichever side fails or cuts first ends the others: all four halves are dropped together.
    let _ = tokio::try_join!(
        read_requests(&sh, BufReader::new(cr), up_tx),
        deliver(up_rx, sw),
        read_plain(&sh, sr, down_tx),
        deliver(down_rx, cw),
    );
}

/// Delivers pieces at their time; `Err` ends the connection.
async fn deliver(mut rx: mpsc::UnboundedReceiver<Piece>, mut to: OwnedWriteHalf) -> Result<(), ()> {
    while let Some(p) = rx.recv().await {
        match p {
            Piece::Bytes(b, at) => {
                tokio::time::sleep_until(at.into()).await;
                to.write_all(&b).await.map_err(|_| ())?;
            }
            Piece::Eof => {
                let _ = to.shutdown().await;
                return Ok(());
            }
            Piece::Cut => {
                let _ = to.flush().await;
                // Give the peer a moment to take the bytes before the reset.
                tokio::time::sleep(Duration::from_millis(20)).await;
                return Err(());
            }
        }
    }
    Err(())
}

/// Size of one paced piece: about 1/50 s of the link, so pacing is smooth.
fn piece_size(sh: &Shared) -> usize {
    sh.shape
        .rate
        .map(|r| (r / 50).clamp(64, 16 * 1024) as usize)
        .unwrap_or(64 * 1024)
}

async fn send(
    sh: &Shared,
    pace: &Mutex<Pace>,
    tx: &mpsc::UnboundedSender<Piece>,
    bytes: Vec<u8>,
) -> Result<(), ()> {
    let leave = pace.lock().unwrap().take(bytes.len());
    // The reader waits for the link (backpressure), the writer adds the latency.
    tokio::time::sleep_until(leave.into()).await;
    tx.send(Piece::Bytes(bytes, Instant::now() + sh.shape.latency))
        .map_err(|_| ())
}

/// Server → kit: paced bytes, no parsing.
async fn read_plain(
    sh: &Shared,
    mut from: OwnedReadHalf,
    tx: mpsc::UnboundedSender<Piece>,
) -> Result<(), ()> {
    let mut buf = vec![0u8; piece_size(sh)];
    loop {
        let n = from.read(&mut buf).await.map_err(|_| ())?;
        if n == 0 {
            let _ = tx.send(Piece::Eof);
            return Ok(());
        }
        send(sh, &sh.down, &tx, buf[..n].to_vec()).await?;
    }
}

/// Kit → server: request heads whole, bodies in paced pieces, PATCH bodies counted and cut.
async fn read_requests(
    sh: &Shared,
    mut from: BufReader<OwnedReadHalf>,
    tx: mpsc::UnboundedSender<Piece>,
) -> Result<(), ()> {
    let piece = piece_size(sh);
    let mut buf = vec![0u8; piece];
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            if from.read_until(b'\n', &mut line).await.map_err(|_| ())? == 0 {
                let _ = tx.send(Piece::Eof);
                return Ok(());
            }
            head.extend_from_slice(&line);
            if line == b"\r\n" {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let is_patch = text.starts_with("patch ");
        let declared = value("content-length").unwrap_or(0);
        let mut patch = Patch {
            offset: value("upload-offset").unwrap_or(0),
            declared,
            forwarded: 0,
            cut: false,
        };
        {
            let mut log = sh.log.lock().unwrap();
            log.up_bytes += head.len() as u64;
            let body_bytes = log.body_bytes;
            let cut_inside = match log.share.as_mut() {
                Some((rng, per_mille)) if is_patch && declared > 1 => {
                    (rng.gen_range(0..1000) < *per_mille).then(|| rng.gen_range(1..declared))
                }
                _ => None,
            };
            if let Some(d) = cut_inside {
                // Other connections may have cuts pending: keep them in order.
                let at = body_bytes + d;
                let pos = log.next_cuts.partition_point(|&c| c <= at);
                log.next_cuts.insert(pos, at);
            }
        }
        send(sh, &sh.up, &tx, head).await?;
        let mut remaining = declared;
        while remaining > 0 {
            let mut want = remaining.min(piece as u64);
            if is_patch {
                let mut log = sh.log.lock().unwrap();
                if let Some(cut) = log.next_cut() {
                    let before = cut.saturating_sub(log.body_bytes);
                    if before == 0 {
                        log.next_cuts.pop_front();
                        let at = log.body_bytes;
                        log.cuts_at.push(at);
                        patch.cut = true;
                        log.patches.push(patch);
                        drop(log);
                        // The writer ends the connection once the bytes before the cut are out.
                        let _ = tx.send(Piece::Cut);
                        return Ok(());
                    }
                    want = want.min(before);
                }
            }
            let n = from.read(&mut buf[..want as usize]).await.map_err(|_| ())?;
            if n == 0 {
                let _ = tx.send(Piece::Eof);
                return Ok(());
            }
            remaining -= n as u64;
            {
                let mut log = sh.log.lock().unwrap();
                log.up_bytes += n as u64;
                if is_patch {
                    log.body_bytes += n as u64;
                    patch.forwarded += n as u64;
                }
            }
            send(sh, &sh.up, &tx, buf[..n].to_vec()).await?;
        }
        if is_patch {
            sh.log.lock().unwrap().patches.push(patch);
        }
    }
}

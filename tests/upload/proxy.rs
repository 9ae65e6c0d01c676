//! A cutting proxy: forwards TCP to a server, reads each request's head to log PATCH offsets and
//! body bytes, and cuts the connection once after a given number of PATCH body bytes.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchSeen {
    pub offset: u64,
    pub forwarded: u64,
    pub cut: bool,
}

#[derive(Default)]
pub struct ProxyLog {
    pub patches: Vec<PatchSeen>,
    pub body_bytes: u64,
    pub cut_after: Option<u64>,
}

pub async fn start_proxy(upstream: u16, cut_after: u64) -> (u16, Arc<Mutex<ProxyLog>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(ProxyLog {
        cut_after: Some(cut_after),
        ..Default::default()
    }));
    let shared = log.clone();
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let log = shared.clone();
            tokio::spawn(async move {
                let server = tokio::net::TcpStream::connect(("127.0.0.1", upstream))
                    .await
                    .unwrap();
                let (cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let back = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                });
                let _ = forward_requests(BufReaderT::new(cr), &mut sw, &log).await;
                back.abort();
            });
        }
    });
    (port, log)
}

type BufReaderT = tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>;

/// Copies requests from the client to the server; returns when either side closes or on the cut.
async fn forward_requests(
    mut from: BufReaderT,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    log: &Mutex<ProxyLog>,
) -> std::io::Result<()> {
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            if from.read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            head.extend_from_slice(&line);
            if line == b"\r\n" {
                break;
            }
        }
        let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let header = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let is_patch = text.starts_with("patch ");
        let mut remaining = header("content-length").unwrap_or(0);
        let offset = header("upload-offset").unwrap_or(0);
        to.write_all(&head).await?;
        let mut seen = PatchSeen {
            offset,
            forwarded: 0,
            cut: false,
        };
        let mut buf = vec![0u8; 8192];
        while remaining > 0 {
            let mut want = remaining.min(buf.len() as u64);
            if is_patch {
                let l = log.lock().unwrap();
                if let Some(cut) = l.cut_after {
                    want = want.min(cut.saturating_sub(l.body_bytes));
                }
            }
            if want == 0 {
                // The cut: drop both connections mid-body.
                seen.cut = true;
                let mut l = log.lock().unwrap();
                l.cut_after = None;
                l.patches.push(seen);
                return Ok(());
            }
            let n = from.read(&mut buf[..want as usize]).await?;
            if n == 0 {
                return Ok(());
            }
            to.write_all(&buf[..n]).await?;
            remaining -= n as u64;
            if is_patch {
                seen.forwarded += n as u64;
                log.lock().unwrap().body_bytes += n as u64;
            }
        }
        if is_patch {
            log.lock().unwrap().patches.push(seen);
        }
    }
}

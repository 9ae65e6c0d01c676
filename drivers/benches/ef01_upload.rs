//! EF01 image upload wall time against the line-rate minimum, through the real driver on the slave
//! of a pty and the paced device model on its master.
//!
//! The line-rate minimum is what the module must send for one UpImage at 10 bits per byte (8N1):
//! the acknowledgement and every data packet, each with its header, address, PID, length, payload
//! and checksum. The host's 12-byte command goes the other way before it and is not counted, so
//! the ratio slightly overstates our overhead. The bytes the driver actually read are counted on
//! the link and must equal the computed figure.
//!
//! Run: `cargo bench -p jemput-drivers --bench ef01_upload` (about 90 s; `-- --runs N` for more or
//! fewer uploads per setting, 3 by default). Figures go in BENCHMARKS.md.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jemput_drivers::ef01::protocol::{Frame, PacketSize, DEFAULT_ADDRESS, FRAME_OVERHEAD};
use jemput_drivers::ef01::{Ef01, Ef01Config, Ef01Model, ModelOptions};
use jemput_drivers::{LinkError, PortLink, SerialLink};

/// A link that counts the bytes it reads.
struct Counting {
    inner: PortLink,
    read: Arc<AtomicUsize>,
}

impl SerialLink for Counting {
    fn write_all(&mut self, data: &[u8]) -> Result<(), LinkError> {
        self.inner.write_all(data)
    }
    fn read_some(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, LinkError> {
        let n = self.inner.read_some(buf, deadline)?;
        self.read.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), LinkError> {
        self.inner.flush()
    }
    fn set_baud(&mut self, baud: u32) -> Result<(), LinkError> {
        self.inner.set_baud(baud)
    }
    fn clear_input(&mut self) -> Result<(), LinkError> {
        self.inner.clear_input()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// One upload, timed.
struct Run {
    /// From sending UpImage to the last data packet decoded.
    wall: Duration,
    /// From the acknowledgement to the last data packet (the progress callback's span).
    data_phase: Duration,
    /// Bytes the driver read during the upload.
    read: usize,
}

/// Bytes the module sends for one UpImage of `image_bytes` in packets of `packet` bytes.
fn wire_bytes(image_bytes: usize, packet: usize) -> usize {
    let ack = Frame::ack(DEFAULT_ADDRESS, 0, &[]).wire_len();
    let full = image_bytes / packet;
    let rest = image_bytes % packet;
    ack + full * (packet + FRAME_OVERHEAD) + usize::from(rest > 0) * (rest + FRAME_OVERHEAD)
}

fn upload(baud: u32, packet: PacketSize, runs: usize) -> (usize, Vec<Run>) {
    let (model, path) = Ef01Model::spawn_on_pty(ModelOptions {
        baud,
        packet_size: packet,
        finger_after_polls: 0,
        finger_after: Duration::ZERO,
        ..ModelOptions::default()
    })
    .expect("a pty for the model");
    let read = Arc::new(AtomicUsize::new(0));
    let link = Counting {
        inner: PortLink::open(&path, baud).expect("opening the pty slave"),
        read: read.clone(),
    };
    let mut scanner = Ef01::open_with(
        link,
        Ef01Config {
            line_baud: baud,
            ..Ef01Config::default()
        },
    )
    .expect("the model answers the probe");
    assert_eq!(scanner.sys_params().packet_size(), Some(packet));
    let image_bytes = scanner.module().image_bytes();

    let span: Arc<Mutex<(Option<Instant>, Option<Instant>)>> = Arc::default();
    let progress = span.clone();
    scanner.set_progress(move |done, total| {
        let now = Instant::now();
        let mut s = progress.lock().unwrap();
        if done == 0 {
            *s = (Some(now), None);
        } else if done == total {
            s.1 = Some(now);
        }
    });

    let mut out = Vec::new();
    for _ in 0..runs {
        while !scanner.gen_img().expect("GenImg") {}
        let before = read.load(Ordering::Relaxed);
        let start = Instant::now();
        let image = scanner.upload_image(None).expect("UpImage");
        let wall = start.elapsed();
        assert_eq!(image.pixels.len(), (image.width * image.height) as usize);
        let (first, last) = *span.lock().unwrap();
        out.push(Run {
            wall,
            data_phase: last.unwrap() - first.unwrap(),
            read: read.load(Ordering::Relaxed) - before,
        });
    }
    drop(scanner);
    model.stop();
    (image_bytes, out)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(3usize);

    println!("EF01 image upload over a pty: real driver, paced model, {runs} uploads per row");
    println!();
    println!("| baud | packet | bytes on the wire | line-rate minimum | wall time, median (min–max) | ratio | data phase / its minimum |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for baud in [57_600u32, 115_200] {
        for packet in [PacketSize::B128, PacketSize::B256] {
            let (image_bytes, mut results) = upload(baud, packet, runs);
            let wire = wire_bytes(image_bytes, packet.bytes());
            for r in &results {
                assert_eq!(
                    r.read, wire,
                    "bytes read differ from the computed wire bytes"
                );
            }
            let minimum = Duration::from_secs_f64(wire as f64 * 10.0 / f64::from(baud));
            let ack = Frame::ack(DEFAULT_ADDRESS, 0, &[]).wire_len();
            let data_minimum =
                Duration::from_secs_f64((wire - ack) as f64 * 10.0 / f64::from(baud));
            results.sort_by_key(|r| r.wall);
            let median = &results[results.len() / 2];
            let data_median = {
                let mut d: Vec<_> = results.iter().map(|r| r.data_phase).collect();
                d.sort();
                d[d.len() / 2]
            };
            println!(
                "| {baud} | {} | {wire} | {:.3} s | {:.3} s ({:.3}–{:.3}) | {:.4}× | {:.4}× |",
                packet.bytes(),
                minimum.as_secs_f64(),
                median.wall.as_secs_f64(),
                results[0].wall.as_secs_f64(),
                results[results.len() - 1].wall.as_secs_f64(),
                median.wall.as_secs_f64() / minimum.as_secs_f64(),
                data_median.as_secs_f64() / data_minimum.as_secs_f64(),
            );
        }
    }
}

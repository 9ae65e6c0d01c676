//! Not a timed test: the measurement behind BENCHMARKS.md's "Operator station: a visit on the
//! device models". Run by hand:
//!
//! ```sh
//! cargo test -p jemput-station --test visit_timing -- --ignored --nocapture
//! ```
//!
//! A whole visit over HTTP (consent, face, ten fingers, signature) on the fast models — the
//! server time of each page and each capture, p50 and p95, and each step page's HTML size — and
//! once more on the models at device speed, step by step.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{csrf_of, get, login, post, start_with, Running};
use jemput_station::devices::{Devices, SimDevices};

/// A POST that may wait for a device for minutes.
fn slow_post(addr: SocketAddr, path: &str, cookie: &str, body: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    String::from_utf8_lossy(&raw)
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

struct Run {
    pages: Vec<(String, Duration, usize)>,
    captures: Vec<(String, Duration)>,
    total: Duration,
}

fn visit(realtime: bool) -> Run {
    let r: Running = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(SimDevices::new(realtime))))
    });
    let cookie = login(&r);
    let host = r.addr.to_string();
    let csrf = csrf_of(&get(r.addr, "/unlock", &host, Some(&cookie)).body);
    let form = |s: &str| format!("csrf={csrf}&{s}");
    post(
        r.addr,
        "/unlock",
        &cookie,
        "",
        &form("passphrase=kata+sandi+uji"),
    );
    let a = post(
        r.addr,
        "/visit/new",
        &cookie,
        "",
        &form("nik=7408014512500001&sex=female&birth_date=1950-12-05&category=lansia"),
    );
    let consent = a.header("location").unwrap();
    let started = Instant::now();
    let a = post(
        r.addr,
        &consent,
        &cookie,
        "",
        &form("decision=given&by=resident"),
    );
    let face = a.header("location").unwrap();
    let id = face.split('/').nth(2).unwrap().to_string();
    let steps = std::iter::once("face".to_string())
        .chain((1..=10).map(|c| format!("finger-{c:02}")))
        .chain(std::iter::once("signature".to_string()));
    let mut run = Run {
        pages: Vec::new(),
        captures: Vec::new(),
        total: Duration::ZERO,
    };
    for step in steps {
        let path = format!("/visit/{id}/step/{step}");
        let t = Instant::now();
        let page = get(r.addr, &path, &host, Some(&cookie));
        run.pages.push((step.clone(), t.elapsed(), page.body.len()));
        let t = Instant::now();
        let status = slow_post(r.addr, &format!("{path}/capture"), &cookie, &form(""));
        assert_eq!(status, 303, "{step}");
        run.captures.push((step, t.elapsed()));
    }
    run.total = started.elapsed();
    run
}

fn pct(mut d: Vec<Duration>, p: usize) -> Duration {
    d.sort();
    d[(d.len() - 1) * p / 100]
}

#[test]
#[ignore = "a measurement, run by hand (see the file's documentation)"]
fn a_visit_on_the_device_models() {
    let fast = visit(false);
    let pages: Vec<Duration> = fast.pages.iter().map(|p| p.1).collect();
    let caps: Vec<Duration> = fast.captures.iter().map(|c| c.1).collect();
    println!(
        "fast models: step page p50 {:?} p95 {:?} (the first opens the devices); capture p50 {:?} p95 {:?}; whole visit {:?}",
        pct(pages.clone(), 50),
        pct(pages, 95),
        pct(caps.clone(), 50),
        pct(caps, 95),
        fast.total
    );
    println!(
        "step page HTML bytes: {:?}",
        fast.pages.iter().map(|p| (&p.0, p.2)).collect::<Vec<_>>()
    );
    let real = visit(true);
    let device: Duration = real.captures.iter().map(|c| c.1).sum();
    println!(
        "device speed: whole visit {:?}, of it in captures {:?}; steps {:?}",
        real.total, device, real.captures
    );
}

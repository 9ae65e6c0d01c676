//! What the station's HTTP tests share: a kit and a station serving it on loopback, raw HTTP
//! requests written as a browser would send them, and the session a token URL starts.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use age::secrecy::SecretString;
use jemput_kit::home::{InitOptions, KitHome};
use jemput_station::{Options, Station};

pub const PASS: &str = "kata sandi uji";

pub struct Running {
    pub addr: SocketAddr,
    pub url: String,
    pub home: std::path::PathBuf,
    /// The office's keys, for a station made by [`start_with_office`].
    pub office: std::path::PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn start() -> Running {
    start_locking_after(Duration::from_secs(600))
}

/// A station that locks itself after `lock_after` without activity.
pub fn start_locking_after(lock_after: Duration) -> Running {
    start_full(lock_after, false, |s| s)
}

/// A station over a kit that seals to an office: the office's keys are in `<dir>/office`
/// (`Running::office`).
pub fn start_with_office() -> Running {
    start_full(Duration::from_secs(600), true, |s| s)
}

/// A station made ready by `f` before it serves (e.g. given devices).
pub fn start_with(lock_after: Duration, f: impl FnOnce(Station) -> Station) -> Running {
    start_full(lock_after, false, f)
}

fn start_full(lock_after: Duration, office: bool, f: impl FnOnce(Station) -> Station) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let office_dir = dir.path().join("office");
    let office_recipients = if office {
        vec![
            jemput_core::keys::office::keygen(&office_dir)
                .unwrap()
                .recipient,
        ]
    } else {
        Vec::new()
    };
    let home = KitHome::init(
        &dir.path().join("kit"),
        InitOptions {
            office_recipients,
            hub_key: None,
            operator: Some("op-uji".into()),
            passphrase: SecretString::from(PASS.to_string()),
            work_factor: 10,
        },
    )
    .unwrap();
    let station = Station::bind(Options {
        home: home.root.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        lock_after,
        training: None,
    })
    .unwrap();
    let station = f(station);
    let url = station.url();
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(station.serve(async move {
                let _ = rx.await;
            }))
            .unwrap();
    });
    Running {
        addr,
        url,
        home: home.root.clone(),
        office: office_dir,
        stop: Some(tx),
        thread: Some(thread),
        _dir: dir,
    }
}

pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// One request, as written, on a new connection.
pub fn send(addr: SocketAddr, request: &str) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

pub fn get(addr: SocketAddr, path: &str, host: &str, cookie: Option<&str>) -> Answer {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    send(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie}Connection: close\r\n\r\n"),
    )
}

pub fn post(addr: SocketAddr, path: &str, cookie: &str, extra: &str, body: &str) -> Answer {
    send(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n{extra}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Opens the printed URL: the session cookie (`name=value`).
pub fn login(r: &Running) -> String {
    let path_and_query = &r.url[r.url.find("/?").unwrap()..];
    let a = get(r.addr, path_and_query, &r.addr.to_string(), None);
    assert_eq!(a.status, 303, "{}", a.head);
    assert_eq!(a.header("location").as_deref(), Some("/"));
    let set = a.header("set-cookie").expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let token = r.url.split("token=").nth(1).unwrap();
    assert!(!cookie.contains(token), "the cookie is not the URL's token");
    cookie
}

pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 64].to_string()
}

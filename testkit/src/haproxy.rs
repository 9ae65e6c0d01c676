//! HAProxy (Debian's `haproxy` package) as a load balancer in front of several `jemput hub serve`
//! processes on loopback, for the scale-out hub's failure tests.
//!
//! The test writes the proxy's `defaults`, `frontend` and `backend` sections; this module adds a
//! `global` section of its own (a stats socket in the test's directory, a connection limit), checks
//! the whole file with `haproxy -c`, runs `haproxy -db -f FILE` in the foreground (`-db`: no
//! daemon, so the process is the test's child and dies with it) and waits until the frontend
//! listens. [`Haproxy::stat`] reads `show stat` from the stats socket (HAProxy's management guide,
//! "Unix Socket commands"): the state of each backend server as the health checks see it and how
//! many sessions each has served, without a client program such as socat. The process is killed
//! when the [`Haproxy`] is dropped.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a machine gets it.
pub const INSTALL: &str = "apt-get install haproxy";

/// Whether `haproxy` is on `PATH`; when it is not, [`crate::missing`] says so (the caller
/// returns).
#[track_caller]
pub fn available() -> bool {
    crate::program("haproxy", INSTALL)
}

/// A free TCP port on loopback (bound and released: another process may take it first, which a
/// test sees as a failure to start).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running HAProxy.
#[derive(Debug)]
pub struct Haproxy {
    child: Option<Child>,
    socket: PathBuf,
    log: PathBuf,
    /// The frontend's port on 127.0.0.1.
    pub port: u16,
}

impl Haproxy {
    /// Writes `<dir>/haproxy.cfg` (a `global` section of this module's, then `sections`), checks
    /// it, starts HAProxy and waits until it accepts connections on 127.0.0.1:`port`, which
    /// `sections` must bind. Panics with HAProxy's output when the file is refused or the
    /// process exits.
    pub fn start(dir: &Path, sections: &str, port: u16) -> Haproxy {
        let config = dir.join("haproxy.cfg");
        let socket = dir.join("haproxy.sock");
        let log = dir.join("haproxy.log");
        let text = format!(
            "global\n    \
                 maxconn 4000\n    \
                 stats socket {} mode 600 level admin\n\n{sections}",
            socket.display()
        );
        std::fs::write(&config, text).expect("write haproxy.cfg");
        let check = Command::new("haproxy")
            .arg("-c")
            .arg("-f")
            .arg(&config)
            .output()
            .expect("run haproxy -c");
        assert!(
            check.status.success(),
            "haproxy refuses {}: {}{}",
            config.display(),
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let out = std::fs::File::create(&log).expect("create haproxy.log");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone the log handle"))
            .stderr(out)
            .spawn()
            .expect("start haproxy");
        let mut h = Haproxy {
            child: Some(child),
            socket,
            log,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() || !h.socket.exists() {
            if let Some(Ok(Some(status))) = h.child.as_mut().map(|c| c.try_wait()) {
                panic!("haproxy exited ({status}): {}", h.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "haproxy did not listen on {port} within 20 s: {}",
                h.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        h
    }

    /// What HAProxy wrote to its standard output and error.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process still runs.
    /// HAProxy's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Sends one command to the stats socket and returns the answer.
    pub fn command(&self, command: &str) -> String {
        // The socket may still be coming up just after the start (a busy machine): wait a little.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut s = loop {
            match UnixStream::connect(&self.socket) {
                Ok(s) => break s,
                Err(e) if std::time::Instant::now() >= deadline => {
                    panic!("connect to {}: {e}", self.socket.display())
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        };
        s.write_all(format!("{command}\n").as_bytes())
            .expect("write to the stats socket");
        let mut answer = String::new();
        s.read_to_string(&mut answer)
            .expect("read the stats socket's answer");
        answer
    }

    /// `show stat`: one map per proxy and server, from the CSV's column names (`pxname`,
    /// `svname`, `status`, `stot`, …) to the values.
    pub fn stat(&self) -> Vec<BTreeMap<String, String>> {
        let csv = self.command("show stat");
        let mut lines = csv.lines();
        let Some(head) = lines.next().and_then(|l| l.strip_prefix("# ")) else {
            panic!("show stat answered without its header line: {csv:?}");
        };
        let names: Vec<&str> = head.split(',').collect();
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                names
                    .iter()
                    .zip(l.split(','))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }

    /// The servers of `backend` (not its `BACKEND` line): name → (status, total sessions).
    pub fn servers(&self, backend: &str) -> BTreeMap<String, (String, u64)> {
        self.stat()
            .into_iter()
            .filter(|r| {
                r.get("pxname").map(String::as_str) == Some(backend)
                    && !matches!(
                        r.get("svname").map(String::as_str),
                        Some("BACKEND") | Some("FRONTEND")
                    )
            })
            .map(|r| {
                let total = r.get("stot").and_then(|v| v.parse().ok()).unwrap_or(0);
                (
                    r.get("svname").cloned().unwrap_or_default(),
                    (r.get("status").cloned().unwrap_or_default(), total),
                )
            })
            .collect()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend that answers every request `200` with a body naming it.
    fn tiny_server(name: &'static str) -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}",
                    name.len()
                );
            }
        });
        port
    }

    fn get(port: u16) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn round_robin_over_two_servers_and_a_dead_one_is_marked_down() {
        if !available() {
            return;
        }
        let dir = tempfile_dir();
        let (a, b, dead) = (tiny_server("a"), tiny_server("b"), free_port());
        let port = free_port();
        let h = Haproxy::start(
            &dir,
            &format!(
                "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\n\
                 backend b\n    balance roundrobin\n    default-server check inter 100ms fall 1 rise 1\n    \
                 server a 127.0.0.1:{a}\n    server b 127.0.0.1:{b}\n    server dead 127.0.0.1:{dead}\n"
            ),
            port,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = h.servers("b");
            if s["dead"].0.starts_with("DOWN") && s["a"].0 == "UP" && s["b"].0 == "UP" {
                break;
            }
            assert!(Instant::now() < deadline, "{s:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let bodies: Vec<String> = (0..4)
            .map(|_| get(port).rsplit("\r\n").next().unwrap().to_string())
            .collect();
        assert_eq!(bodies.iter().filter(|b| *b == "a").count(), 2, "{bodies:?}");
        assert_eq!(bodies.iter().filter(|b| *b == "b").count(), 2, "{bodies:?}");
        let s = h.servers("b");
        assert_eq!((s["a"].1, s["b"].1, s["dead"].1), (2, 2, 0), "{s:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "jemput-haproxy-test-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

//! `jemput -v sbi serve --sim` as the binary tests run it: started on a free port, where it
//! listens and its CA read from its JSON line, its log kept to check what each capture asked of
//! the device.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A running `jemput -v sbi serve --sim`, stopped with SIGTERM when dropped; its log (stderr)
/// is kept, one line per capture asked of it among others.
pub struct Service {
    child: Child,
    pub port: u16,
    pub ca_cert: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl Service {
    pub fn start() -> Service {
        Service::start_with(&[])
    }

    /// [`Service::start`] with more arguments (`--sim-poor-finger 2`).
    pub fn start_with(more: &[&str]) -> Service {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
            .args(["-v", "sbi", "serve", "--sim", "--json", "--port", "0"])
            .args(more)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        {
            let (stderr, log) = (child.stderr.take().unwrap(), log.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("sbi serve: {line}");
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Service {
            child,
            port: v["port"].as_u64().unwrap() as u16,
            ca_cert: PathBuf::from(v["ca_cert"].as_str().unwrap()),
            log,
        }
    }

    /// The RCAPTURE lines of the service's log so far, once no new one came for half a second
    /// (the service logs a capture before it answers, and its log is read by another thread).
    pub fn captures(&self) -> Vec<String> {
        let read = || -> Vec<String> {
            let log = self.log.lock().unwrap();
            log.iter()
                .filter(|l| l.contains("RCAPTURE"))
                .cloned()
                .collect()
        };
        let mut seen = read();
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            let now = read();
            if now.len() == seen.len() {
                return now;
            }
            seen = now;
        }
    }

    pub fn ports(&self) -> String {
        format!("{0}-{0}", self.port)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

//! jemput's own SBI device service run as a technician runs it: `jemput -v sbi serve ARGS` in the
//! background (`--sim` for the simulated slap scanner and camera, `--device SELECTOR` for one of
//! the kit's own scanners or cameras), over real HTTP on loopback.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A running `jemput -v sbi serve ARGS --json --port 0`, stopped with SIGTERM when dropped. Its
/// log (stderr) is echoed to the test's stderr and kept, one line per capture asked of it among
/// others.
pub struct SbiService {
    child: Child,
    pub port: u16,
    /// The CA its answers are signed under (a throw-away one without `--keys`).
    pub ca_cert: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
}

impl SbiService {
    /// Starts the service with `args` and waits until it listens.
    pub fn start(args: &[&str]) -> SbiService {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("jemput"))
            .args(["-v", "sbi", "serve", "--json", "--port", "0"])
            .args(args)
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
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{e}: {line:?} (the service's stderr is above)"));
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        SbiService {
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

    /// `JEMPUT_SBI_PORTS` for a scan of this service's port alone.
    pub fn ports(&self) -> String {
        format!("{0}-{0}", self.port)
    }
}

impl Drop for SbiService {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }
}

/// Makes the kit home at `home` trust the device-provider CA `ca` (`jemput sbi trust add`).
pub fn kit_trusting(home: &Path, ca: &Path) {
    super::run(home, &["sbi", "trust", "add", ca.to_str().unwrap()]).success();
}

impl SbiService {
    /// The lines of the service's log holding `needle`, once there are `n` of them (waiting up to
    /// `wait`; fewer after that).
    pub fn log_lines(&self, needle: &str, n: usize, wait: std::time::Duration) -> Vec<String> {
        let begun = std::time::Instant::now();
        loop {
            let got: Vec<String> = {
                let log = self.log.lock().unwrap();
                log.iter().filter(|l| l.contains(needle)).cloned().collect()
            };
            if got.len() >= n || begun.elapsed() >= wait {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

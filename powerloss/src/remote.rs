//! The test's side: a [`Disk`](crate::Disk) served by `jemput-powerloss-server` in a process of its
//! own, so that the test process is only a client of the mount.
//!
//! If that process stops answering (a command unanswered for [`RemoteDisk::COMMAND_TIMEOUT`], or
//! the disk still in use after its watchdog's deadline), the client aborts the FUSE connection
//! (`/sys/fs/fuse/connections/N/abort`) and kills the server with SIGKILL — closing `/dev/fuse`
//! aborts the connection too — so every request still waiting on the mount fails (ENOTCONN or
//! EIO) instead of hanging, and detaches the mount (`umount -l`). A test can then fail, never
//! hang.

use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::server::{detach, tear_words};
use crate::Tear;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Inner {
    child: Mutex<Child>,
    stdin: Mutex<Option<ChildStdin>>,
    replies: Mutex<Receiver<String>>,
    /// Where the disk is mounted now and its FUSE connection's number, for the abort and the
    /// lazy unmount after a kill.
    mounted_at: Mutex<Option<(PathBuf, Option<u32>)>>,
    /// Set once the server has been killed: every later command fails at once.
    dead: Mutex<Option<String>>,
}

impl Inner {
    /// Kills the server and detaches its mount; `why` is what every later command reports.
    fn kill(&self, why: &str) {
        // Held to the end: a command after the kill waits until the mount is gone.
        let mut dead = lock(&self.dead);
        if dead.is_some() {
            return;
        }
        *dead = Some(why.to_string());
        let mounted = lock(&self.mounted_at).take();
        // Abort the connection first: that ends every request waiting on the mount even if the
        // server cannot die at once (a thread of it in uninterruptible sleep keeps /dev/fuse open).
        if let Some((_, Some(conn))) = &mounted {
            let _ = std::fs::write(format!("/sys/fs/fuse/connections/{conn}/abort"), "1");
        }
        let mut child = lock(&self.child);
        let _ = child.kill();
        if let Some((at, _)) = &mounted {
            detach(at);
        }
        // Reap it, but never wait for ever on a process the kernel holds.
        for _ in 0..250 {
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn command(&self, line: &str) -> io::Result<String> {
        if let Some(why) = lock(&self.dead).clone() {
            return Err(io::Error::other(format!(
                "power-loss server is gone ({why})"
            )));
        }
        let sent = match lock(&self.stdin).as_mut() {
            Some(w) => writeln!(w, "{line}").and_then(|()| w.flush()),
            None => Err(io::Error::other("power-loss server's input is closed")),
        };
        if let Err(e) = sent {
            self.kill(&format!("sending {line:?}: {e}"));
            return Err(e);
        }
        match lock(&self.replies).recv_timeout(RemoteDisk::COMMAND_TIMEOUT) {
            Ok(answer) => match answer.strip_prefix("err ") {
                Some(e) => Err(io::Error::other(format!("{line}: {e}"))),
                None => Ok(answer),
            },
            Err(RecvTimeoutError::Timeout) => {
                let why = format!(
                    "{line:?} unanswered for {} s",
                    RemoteDisk::COMMAND_TIMEOUT.as_secs()
                );
                self.kill(&why);
                Err(io::Error::new(io::ErrorKind::TimedOut, why))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let why = format!("it ended before answering {line:?}");
                self.kill(&why);
                Err(io::Error::other(why))
            }
        }
    }
}

/// The FUSE connection number (the device minor, the name under `/sys/fs/fuse/connections/`) of
/// the newest mount at `at`, from `/proc/self/mountinfo` (read without touching the mount).
fn connection_of(at: &Path) -> Option<u32> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let want = at.to_str()?;
    info.lines().rev().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let point = f.get(4)?.replace("\\040", " ").replace("\\011", "\t");
        let (_, fstype) = l.split_once(" - ")?;
        if point != want || !fstype.starts_with("fuse") {
            return None;
        }
        f.get(2)?.split_once(':')?.1.parse().ok()
    })
}

/// A power-loss disk served by a process of its own; the methods of [`Disk`](crate::Disk).
///
/// The disk lives in the server process across mounts: a cut and a remount show its durable
/// state. Dropping the last handle ends the server (unmounting) or kills it if it does not end.
pub struct RemoteDisk {
    inner: Arc<Inner>,
    watchdog: Option<Sender<Duration>>,
}

impl std::fmt::Debug for RemoteDisk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteDisk")
            .field("server", &lock(&self.inner.child).id())
            .finish()
    }
}

impl RemoteDisk {
    /// How long one command may go unanswered before the server is killed.
    pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

    /// Starts `server` (the `jemput-powerloss-server` binary) with an empty disk. After
    /// `deadline` the watchdog kills it and detaches its mount whatever the test is doing, so a
    /// test stuck on the mount fails instead of hanging.
    pub fn start(server: &Path, deadline: Duration) -> io::Result<RemoteDisk> {
        let mut child = Command::new(server)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", server.display())))?;
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let (tx, rx) = mpsc::channel();
        if let Some(out) = stdout {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let inner = Arc::new(Inner {
            child: Mutex::new(child),
            stdin: Mutex::new(stdin),
            replies: Mutex::new(rx),
            mounted_at: Mutex::new(None),
            dead: Mutex::new(None),
        });
        let (stop, rearm) = mpsc::channel::<Duration>();
        {
            let inner = inner.clone();
            std::thread::spawn(move || {
                let mut left = deadline;
                // A new deadline counts from when it arrives; the disk's drop ends the watchdog.
                loop {
                    match rearm.recv_timeout(left) {
                        Ok(next) => left = next,
                        Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => break,
                    }
                }
                eprintln!(
                    "power-loss watchdog: the disk outlived its {} s deadline; killing its \
                     server and detaching its mount",
                    left.as_secs()
                );
                inner.kill(&format!("watchdog: {} s deadline", left.as_secs()));
            });
        }
        let disk = RemoteDisk {
            inner,
            watchdog: Some(stop),
        };
        // The first answer proves the server runs the protocol.
        disk.inner.command("ops?")?;
        Ok(disk)
    }

    /// Mounts the disk at `at` (an existing empty directory); a disk that was cut comes back
    /// with its durable state.
    pub fn mount(&self, at: &Path) -> io::Result<RemoteMounted> {
        let at = std::path::absolute(at)?;
        let text = at
            .to_str()
            .filter(|s| !s.contains('\n'))
            .ok_or_else(|| io::Error::other(format!("{at:?}: not a path the protocol carries")))?;
        self.inner.command(&format!("mount {text}"))?;
        *lock(&self.inner.mounted_at) = Some((at.clone(), connection_of(&at)));
        Ok(RemoteMounted {
            inner: Some(self.inner.clone()),
            at,
        })
    }

    fn must(&self, line: &str) -> String {
        self.inner
            .command(line)
            .unwrap_or_else(|e| panic!("power-loss server: {e}"))
    }

    /// Cuts the power now: everything not synced is gone, the disk answers EIO until remounted.
    pub fn cut(&self, tear: Tear) {
        self.must(&format!("cut {}", tear_words(tear)));
    }

    /// Arms a cut at the `ops`-th changing operation from now; 0 disarms.
    pub fn cut_after(&self, ops: u64, tear: Tear) {
        self.must(&format!("cut-after {ops} {}", tear_words(tear)));
    }

    /// Whether the power has been cut since the last mount.
    pub fn is_cut(&self) -> bool {
        self.must("cut?") == "cut yes"
    }

    /// Changing operations seen since the disk was made.
    pub fn ops(&self) -> u64 {
        let a = self.must("ops?");
        a.strip_prefix("ops ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("power-loss server: odd answer {a:?} to ops?"))
    }

    /// Makes everything durable, as `sync` followed by a clean shutdown would.
    pub fn sync_all(&self) {
        self.must("sync-all");
    }

    /// Sets the watchdog's deadline anew, counting from now.
    pub fn set_deadline(&self, deadline: Duration) {
        if let Some(w) = &self.watchdog {
            let _ = w.send(deadline);
        }
    }

    /// The server's process id.
    pub fn server_pid(&self) -> u32 {
        lock(&self.inner.child).id()
    }

    /// Kills the server now (SIGKILL) and detaches the mount, as the watchdog does.
    pub fn kill(&self) {
        self.inner.kill("killed by the test");
    }
}

impl Drop for RemoteDisk {
    fn drop(&mut self) {
        // Stop the watchdog, then let the server unmount and end; kill it if it does not.
        drop(self.watchdog.take());
        if lock(&self.inner.dead).is_some() {
            return;
        }
        if let Err(e) = self.inner.command("quit") {
            // The server could not unmount (a process still holds files there): detach the
            // mount rather than leave it behind.
            if let Some((at, _)) = lock(&self.inner.mounted_at).take() {
                eprintln!("power-loss disk: {e}; detaching {}", at.display());
                detach(&at);
            }
        }
        drop(lock(&self.inner.stdin).take());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match lock(&self.inner.child).try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    self.inner.kill("did not end after quit");
                    break;
                }
            }
        }
        lock(&self.inner.mounted_at).take();
    }
}

/// A mounted [`RemoteDisk`]; unmounts on [`RemoteMounted::unmount`] or when dropped.
pub struct RemoteMounted {
    inner: Option<Arc<Inner>>,
    at: PathBuf,
}

impl std::fmt::Debug for RemoteMounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteMounted")
            .field("at", &self.at)
            .finish()
    }
}

impl RemoteMounted {
    /// Where the disk is mounted.
    pub fn path(&self) -> &Path {
        &self.at
    }

    /// Unmounts (the server keeps the disk for the next mount).
    pub fn unmount(mut self) -> io::Result<()> {
        match self.inner.take() {
            Some(inner) => {
                inner.command("unmount")?;
                lock(&inner.mounted_at).take();
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Drop for RemoteMounted {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if let Err(e) = inner.command("unmount") {
                // Still in use, or the server is gone: never leave the mount behind.
                eprintln!("power-loss disk: {e}; detaching {}", self.at.display());
                detach(&self.at);
            }
            lock(&inner.mounted_at).take();
        }
    }
}

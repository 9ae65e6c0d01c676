//! A private PostgreSQL server for one test: `initdb` into a directory of its own, listening only
//! on a Unix socket in that directory (`-k DIR`, `listen_addresses=''`: no TCP port to collide
//! with another test or a machine's own server), with `fsync=off` because a test's data need not
//! survive a power cut. The server is stopped and its directory removed when the [`Postgres`] is
//! dropped.
//!
//! Each server's cluster is a copy of one template cluster (`initdb`, the database `jemput`
//! created, stopped cleanly), made once and kept under the system's temporary directory for every
//! later test process ([`template`]): copying its 40 MB takes a tenth of a second, where `initdb`
//! and `createdb` take one to two seconds per test on two busy cores. A copy is a cluster of its
//! own, as fresh as one `initdb` would make; should the template not be there or not be made, the
//! server is made the long way.
//!
//! `initdb` refuses to run as root, and CI runs as root: there every server program runs as the
//! unprivileged `nobody` (through `setpriv`), and the directory is handed to that user. The role
//! `jemput` is the cluster's superuser and the socket trusts local connections, so a client of
//! any Unix user connects as `jemput` without a password.
//!
//! Debian's `postgresql` package provides the programs (`/usr/lib/postgresql/<major>/bin`); the
//! peer check [`postgres`] skips the test visibly when they are missing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// How a machine gets the server.
pub const INSTALL: &str = "apt-get install postgresql";

/// The role the tests connect as (the cluster's superuser).
pub const ROLE: &str = "jemput";

/// The unprivileged user the server runs as when the tests run as root.
const NOBODY: u32 = 65534;

/// A running private PostgreSQL server.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    as_nobody: bool,
    stopped: bool,
}

/// The directory of the newest installed PostgreSQL's programs (`initdb`, `pg_ctl`, `postgres`).
pub fn find_bin() -> Option<PathBuf> {
    if crate::hidden("postgres") {
        return None;
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// Starts a private server with a database named `jemput`, or reports the missing peer through
/// [`crate::missing`] (a visible skip, or a failure under `JEMPUT_REQUIRE_PEERS=1`) and returns
/// `None`. A server that is installed but does not start is a failure.
#[track_caller]
pub fn postgres() -> Option<Postgres> {
    let Some(bin) = find_bin() else {
        crate::missing("PostgreSQL (/usr/lib/postgresql/*/bin/initdb)", INSTALL);
        return None;
    };
    Some(Postgres::start(bin).unwrap_or_else(|e| panic!("a private PostgreSQL: {e}")))
}

impl Postgres {
    /// Makes a cluster in a new directory under the system's temporary directory (a copy of the
    /// [`template`], or made by `initdb` when there is none) and starts it.
    pub fn start(bin: PathBuf) -> Result<Postgres, String> {
        let mut pg = Postgres::unstarted(bin, "")?;
        if let Ok(template) = template(&pg.bin, pg.as_nobody) {
            let copied = pg.run_exe(
                "cp".as_ref(),
                &[
                    "-a".as_ref(),
                    template.join("data").as_os_str(),
                    pg.data_dir().as_os_str(),
                ],
            );
            if copied.is_ok() {
                pg.start_server()?;
                pg.stopped = false;
                return Ok(pg);
            }
            let _ = std::fs::remove_dir_all(pg.data_dir());
        }
        pg.init()?;
        Ok(pg)
    }

    /// A new, empty, private directory for a server (`jemput-pg[-KIND]-<pid>-<n>`), handed to
    /// `nobody` when this process is root.
    fn unstarted(bin: PathBuf, kind: &str) -> Result<Postgres, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let as_nobody = is_root();
        let dir = std::env::temp_dir().join(format!(
            "jemput-pg{kind}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
        if as_nobody {
            std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY))
                .map_err(|e| format!("chown {} to nobody: {e}", dir.display()))?;
        }
        Ok(Postgres {
            bin,
            dir,
            as_nobody,
            stopped: true,
        })
    }

    /// `initdb`, start, and the database `jemput`: the long way.
    fn init(&mut self) -> Result<(), String> {
        let pg = self;
        let data = pg.data_dir();
        pg.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                ROLE.as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        pg.start_server()?;
        pg.stopped = false;
        pg.run(
            "createdb",
            &[
                "-h".as_ref(),
                pg.dir.as_os_str(),
                "-U".as_ref(),
                ROLE.as_ref(),
                "jemput".as_ref(),
            ],
        )?;
        Ok(())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The server's main process (the first line of its data directory's `postmaster.pid`), or
    /// `None` while it is stopped. Its backends are its children.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// The directory holding the server's socket (`host=` of a connection string).
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// A connection URL for the database `jemput` as the role `jemput`, over the socket.
    pub fn url(&self) -> String {
        self.url_of("jemput")
    }

    /// A connection URL for the database `db` (see [`Postgres::create_database`]).
    pub fn url_of(&self, db: &str) -> String {
        format!("postgresql://{ROLE}@/{db}?host={}", self.dir.display())
    }

    /// Creates another database on this server and returns its URL.
    pub fn create_database(&self, db: &str) -> Result<String, String> {
        self.run(
            "createdb",
            &[
                "-h".as_ref(),
                self.dir.as_os_str(),
                "-U".as_ref(),
                ROLE.as_ref(),
                db.as_ref(),
            ],
        )?;
        Ok(self.url_of(db))
    }

    /// Runs one SQL statement with `psql` on the database `jemput` and returns what it printed
    /// (unaligned, tuples only): an oracle that is not the hub's own client.
    pub fn psql(&self, sql: &str) -> Result<String, String> {
        let out = self.run(
            "psql",
            &[
                "-h".as_ref(),
                self.dir.as_os_str(),
                "-U".as_ref(),
                ROLE.as_ref(),
                "-d".as_ref(),
                "jemput".as_ref(),
                "-X".as_ref(),
                "-A".as_ref(),
                "-t".as_ref(),
                "-v".as_ref(),
                "ON_ERROR_STOP=1".as_ref(),
                "-c".as_ref(),
                sql.as_ref(),
            ],
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    /// Stops the server cleanly (`fast`: open sessions are ended, everything is written).
    pub fn stop(&mut self) -> Result<(), String> {
        self.stop_with("fast")
    }

    /// Stops the server at once, as a crash would (`immediate`): recovered from its log on the
    /// next start. Committed transactions survive (the server's own files stay in the OS's
    /// cache; only `fsync` is off).
    pub fn crash(&mut self) -> Result<(), String> {
        self.stop_with("immediate")
    }

    fn stop_with(&mut self, mode: &str) -> Result<(), String> {
        if self.stopped {
            return Ok(());
        }
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                mode.as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )?;
        self.stopped = true;
        Ok(())
    }

    /// Crashes the server ([`Postgres::crash`]) and starts it again on the same directory.
    pub fn restart(&mut self) -> Result<(), String> {
        self.crash()?;
        self.start_again()
    }

    /// Starts the server again on the same directory and socket after [`Postgres::stop`] or
    /// [`Postgres::crash`] (nothing to do while it runs).
    pub fn start_again(&mut self) -> Result<(), String> {
        if !self.stopped {
            return Ok(());
        }
        self.start_server()?;
        self.stopped = false;
        Ok(())
    }

    fn start_server(&self) -> Result<(), String> {
        let data = self.data_dir();
        let log = self.dir.join("server.log");
        let options = format!(
            "-k {} -c listen_addresses= -c fsync=off -c full_page_writes=off -c max_connections=200",
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\nserver log:\n{log}")
        })?;
        Ok(())
    }

    /// Runs one of the server's programs, as `nobody` when this process is root.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<Output, String> {
        let exe = self.bin.join(program);
        self.run_exe(&exe, args)
    }

    /// Runs `exe` (a path, or a program on `PATH`) as [`Postgres::run`] does.
    fn run_exe(&self, exe: &Path, args: &[&std::ffi::OsStr]) -> Result<Output, String> {
        let program = exe.file_name().unwrap_or_default().to_string_lossy();
        let mut cmd = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(exe);
            c
        } else {
            Command::new(exe)
        };
        // The server's programs look for files in the home directory; nobody's does not exist.
        cmd.args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env_remove("PGPASSWORD")
            .env_remove("PGHOST")
            .env_remove("PGDATABASE")
            .env_remove("PGUSER");
        let out = cmd
            .output()
            .map_err(|e| format!("run {}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{program} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Err(e) = self.crash() {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("stopping the test's PostgreSQL: {e}\n").as_bytes(),
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The template cluster every [`Postgres::start`] copies: `<temp dir>/jemput-pg-template-…`, named
/// after the programs that made it (their directory names the major version, whose on-disk format
/// every server of that version reads) and the user that owns it, with a version of its own for
/// when what goes into it changes. The first process to need it makes it in a directory of its
/// own and renames that into place, so a process finding it sees it whole; a process that loses
/// the race to another throws its own away. Made at most once per process (`Err` is remembered).
fn template(bin: &Path, as_nobody: bool) -> Result<PathBuf, String> {
    static MADE: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let owner = if as_nobody {
            "nobody".to_string()
        } else {
            std::os::unix::fs::MetadataExt::uid(
                &std::fs::metadata("/proc/self").map_err(|e| format!("/proc/self: {e}"))?,
            )
            .to_string()
        };
        let programs: String = bin
            .to_string_lossy()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let at = std::env::temp_dir().join(format!("jemput-pg-template-1-{owner}{programs}"));
        if at.join("data").join("PG_VERSION").is_file() {
            return Ok(at);
        }
        let mut new = Postgres::unstarted(bin.to_path_buf(), "-template")?;
        new.init()?;
        new.stop()?;
        // Only the cluster is copied: its socket and log stay behind.
        let _ = std::fs::remove_file(new.dir.join("server.log"));
        match std::fs::rename(&new.dir, &at) {
            Ok(()) => Ok(at),
            // Another process put its own there first: as good as this one (dropped, removed).
            Err(_) if at.join("data").join("PG_VERSION").is_file() => Ok(at),
            Err(e) => Err(format!(
                "rename {} to {}: {e}",
                new.dir.display(),
                at.display()
            )),
        }
    })
    .clone()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_server_answers_on_its_socket_and_is_gone_after_drop() {
        let Some(pg) = postgres() else { return };
        assert_eq!(pg.psql("SELECT 40 + 2").unwrap(), "42");
        assert!(pg.socket_dir().join(".s.PGSQL.5432").exists());
        assert_eq!(pg.psql("SHOW listen_addresses").unwrap(), "");
        assert_eq!(pg.psql("SHOW fsync").unwrap(), "off");
        let url = pg.create_database("other").unwrap();
        assert!(url.ends_with(&format!("/other?host={}", pg.socket_dir().display())));
        assert_eq!(
            pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'other'")
                .unwrap(),
            "1"
        );
        let dir = pg.socket_dir().to_path_buf();
        drop(pg);
        assert!(!dir.exists(), "{} is left behind", dir.display());
    }

    #[test]
    fn servers_copied_from_the_template_are_clusters_of_their_own() {
        let (Some(a), Some(b)) = (postgres(), postgres()) else {
            return;
        };
        assert!(template(&a.bin, a.as_nobody).is_ok());
        a.psql("CREATE TABLE only_in_a (x int)").unwrap();
        assert!(b.psql("SELECT * FROM only_in_a").is_err());
        // Nothing a server did is in the template the next one copies.
        let c = postgres().unwrap();
        assert!(c.psql("SELECT * FROM only_in_a").is_err());
        assert_eq!(c.psql("SELECT current_database()").unwrap(), "jemput");
    }

    #[test]
    fn a_restarted_server_keeps_its_data() {
        let Some(mut pg) = postgres() else { return };
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (7)")
            .unwrap();
        pg.restart().unwrap();
        assert_eq!(pg.psql("SELECT x FROM t").unwrap(), "7");
        // Stopped cleanly, it refuses connections until it is started again.
        pg.stop().unwrap();
        assert!(pg.psql("SELECT 1").is_err());
        pg.start_again().unwrap();
        assert_eq!(pg.psql("SELECT x FROM t").unwrap(), "7");
    }
}

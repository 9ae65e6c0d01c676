//! A test-only filesystem that loses power: every write stays in memory until it is synced, and
//! [`Disk::cut`] drops everything not yet synced, as a power cut does to a real disk.
//!
//! `kill -9` keeps the kernel's page cache, so it cannot show a missing or misplaced fsync. This
//! crate can. It mounts an in-memory filesystem with FUSE (the `fuser` crate, its pure-Rust mount:
//! no libfuse is linked; as root it calls mount(2) on `/dev/fuse` directly) and keeps two states of
//! everything:
//!
//! * a **file**'s data, size and mode: the *pending* state every read sees, and the *durable* state
//!   that `fsync` or `fdatasync` on that file makes equal to the pending one;
//! * a **directory**'s entries (create, mkdir, rename, unlink, rmdir, link): pending until that
//!   *directory* is fsynced (`fsync` on a descriptor of the directory), then durable.
//!
//! A cut ([`Disk::cut`], or [`Disk::cut_after`] a number of changing operations) throws every
//! pending state away; optionally ([`Tear::Prefix`]) the last write not yet synced is torn: a
//! prefix of it reaches the disk, the rest does not. From the cut on, every operation fails with
//! EIO (the disk is gone) until the filesystem is mounted again ([`Disk::mount`]), which shows
//! only what was durable.
//!
//! # The server runs in a process of its own
//!
//! Tests do not mount a [`Disk`] in their own process: they start a [`RemoteDisk`], which runs
//! the `jemput-powerloss-server` binary of this crate (the disk lives there, across mounts) and
//! drives it over a pipe, one line per command (`mount PATH`, `unmount`, `cut`, `cut-after N`,
//! `sync-all`, `ops?`, `cut?`; [`server`] gives the protocol). The test process is then only a
//! client of the mount. An earlier version served the mount from a thread of the test process,
//! which is also a client (it reads back what it checks; SQLite maps `-shm` pages): twice in many
//! runs that process hung in the kernel (`folio_wait_bit`, uninterruptible) and left mounts
//! behind, and no timeout can end a process in that state.
//!
//! Now, if the server stops answering — a command unanswered for 30 s, or the disk still in use
//! after the deadline its test gave — the client aborts the FUSE connection (writing to
//! `/sys/fs/fuse/connections/N/abort`), kills the server with SIGKILL (closing `/dev/fuse` aborts
//! the connection too), and detaches the mount with `umount -l`. Every request still waiting on
//! the mount then fails (ENOTCONN) instead of hanging, so a test fails, never hangs
//! (`tests/mount.rs` freezes a server with SIGSTOP mid-write to check this). When a test process
//! dies, the server reads the end of its input, unmounts and ends.
//!
//! The root package's tests find the binary beside `jemput` (they build it there first: cargo
//! gives a test the paths of its own package's binaries only).
//!
//! # What is run on it
//!
//! `tests/powerloss.rs` (the root package): cuts under a child that saves drafts and seals, under
//! `jemput upload` (uploading, storing receipts, purging), under `jemput init`, and under the hub
//! (`jemput hub init`, then PATCH, completion and receipt signing with its data directory on the
//! disk, and cuts aimed at the hub's completion and receipt signing, where the hub waits at a
//! test-only hold point while the power goes); each with what must hold after the remount, and negative controls that skip one fsync
//! through the test-only `JEMPUT_TEST_SKIP_FSYNC` switch and must be seen failing.
//!
//! SQLite's part (both databases are in WAL mode with `synchronous=FULL`, but for the hub's
//! commit of a `PATCH`'s offset, which may be lost: `docs/hub-protocol.md` §6): in WAL mode a commit
//! is durable once the WAL is fsynced, which `FULL` does at every commit (`NORMAL` would fsync
//! only at checkpoints and could lose the last commits in a power cut; SQLite's documentation,
//! "PRAGMA synchronous" and "Write-Ahead Logging", <https://sqlite.org/pragma.html#pragma_synchronous>,
//! <https://sqlite.org/wal.html>). SQLite fsyncs the directory when it creates a WAL file
//! (`tests/mount.rs`: a WAL made after the last directory fsync keeps its commits), but not when
//! it creates the database file itself: `jemput init` and `jemput hub init` make that name durable
//! by the directory fsync of the config they write last, and the tests cut the power right after
//! each init returns to check it.
//!
//! # The model, and where it comes from
//!
//! This is the strict POSIX contract, the one a portable program must assume, and not the more
//! forgiving behaviour of one filesystem:
//!
//! * fsync(2) (Linux man-pages) says that fsync of a file "does not necessarily ensure that the
//!   entry in the directory containing the file has also reached disk. For that an explicit
//!   fsync() on a file descriptor for the directory is also needed." So a new or renamed name
//!   becomes durable only with its directory's fsync, as here.
//! * Jeff Moyer, "Ensuring data reaches disk", LWN.net, 2011 (<https://lwn.net/Articles/457667/>):
//!   data written with write(2) is only in the page cache until fsync; a newly created file
//!   needs its parent directory fsynced too.
//! * Pillai et al., "All File Systems Are Not Created Equal: On the Complexity of Crafting
//!   Crash-Consistent Applications", OSDI 2014 (the ALICE tool): it models a crash as keeping a
//!   prefix of the operations, with data writes that may be lost or torn unless persisted by
//!   fsync, and directory operations that are persisted by fsync of their directory. ext4 in its
//!   default `data=ordered` mode often persists more than this (its journal commits renames
//!   together), which hides the bugs this filesystem exists to show; we follow the weaker model
//!   so that a program correct here is correct on ext4, XFS and btrfs alike.
//!
//! What it leaves out: timestamps and owners are not made durable apart from data (nobody here
//! depends on them), hard-link counts are reported as 1, and the device never reorders two
//! synced operations (an fsync that returned is durable, as the disk's FLUSH promises).

mod fs;
mod model;
mod remote;
pub mod server;

pub use model::Tear;
pub use remote::{RemoteDisk, RemoteMounted};

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// One simulated disk: the files live here across mounts; a cut drops what was not synced.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    state: Arc<Mutex<model::State>>,
}

impl Disk {
    /// An empty disk (one root directory, durable).
    pub fn new() -> Disk {
        Disk::default()
    }

    fn lock(&self) -> MutexGuard<'_, model::State> {
        // A panic in a filesystem handler must not hide the disk from the test that checks it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Mounts the disk at `at` (an existing empty directory). A disk that was cut comes back with
    /// its durable state and works again.
    pub fn mount(&self, at: &Path) -> io::Result<Mounted> {
        self.lock().power_on();
        let config = {
            let mut c = fuser::Config::default();
            c.mount_options = vec![
                fuser::MountOption::FSName("jemput-powerloss".into()),
                fuser::MountOption::Subtype("powerloss".into()),
                fuser::MountOption::RW,
            ];
            c
        };
        let session = fuser::spawn_mount(fs::PowerFs::new(self.state.clone()), at, &config)?;
        Ok(Mounted {
            session: Some(session),
            at: at.to_path_buf(),
        })
    }

    /// Cuts the power now: everything not synced is gone, the disk answers EIO until remounted.
    pub fn cut(&self, tear: Tear) {
        self.lock().cut(tear);
    }

    /// Arms a cut: the `ops`-th changing operation from now (write, create, rename, fsync, …)
    /// finds the power gone; it and everything after it fail with EIO. 0 disarms.
    pub fn cut_after(&self, ops: u64, tear: Tear) {
        self.lock().arm(ops, tear);
    }

    /// Whether the power has been cut since the last mount.
    pub fn is_cut(&self) -> bool {
        self.lock().dead
    }

    /// Changing operations seen since the disk was made (what [`Disk::cut_after`] counts).
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Makes everything durable, as `sync` followed by a clean shutdown would.
    pub fn sync_all(&self) {
        self.lock().sync_all();
    }
}

/// A mounted [`Disk`]; unmounts on [`Mounted::unmount`] or when dropped.
#[derive(Debug)]
pub struct Mounted {
    session: Option<fuser::BackgroundSession>,
    at: PathBuf,
}

impl Mounted {
    /// Where the disk is mounted.
    pub fn path(&self) -> &Path {
        &self.at
    }

    /// Unmounts and waits for the filesystem thread to end.
    pub fn unmount(mut self) -> io::Result<()> {
        match self.session.take() {
            Some(s) => s.umount_and_join(),
            None => Ok(()),
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = s.umount_and_join();
        }
    }
}

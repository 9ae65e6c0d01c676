//! The power-loss filesystem mounted through FUSE: what survives a cut and what does not.
//!
//! Needs FUSE (`/dev/fuse`, and root or `fusermount3`); without it every test here is skipped with a
//! `SKIPPED` line on stderr, or fails under `JEMPUT_REQUIRE_PEERS=1` (as in CI).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use std::time::{Duration, Instant};

use jemput_powerloss::{RemoteDisk, RemoteMounted, Tear};

fn sync_dir(dir: &Path) {
    File::open(dir).unwrap().sync_all().unwrap();
}

/// A disk served by `jemput-powerloss-server` in a process of its own; its watchdog ends any
/// test that is still on it after two minutes.
fn start() -> RemoteDisk {
    RemoteDisk::start(
        Path::new(env!("CARGO_BIN_EXE_jemput-powerloss-server")),
        Duration::from_secs(120),
    )
    .unwrap()
}

/// Whether anything is mounted at `at`, from `/proc/self/mountinfo` (without touching `at`).
fn mounted_at(at: &Path) -> bool {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let want = at.to_str().unwrap();
    info.lines().any(|l| l.split(' ').nth(4) == Some(want))
}

/// Cuts the power, unmounts, and mounts the same disk again at the same place.
fn cut_and_remount(disk: &RemoteDisk, m: RemoteMounted, tear: Tear) -> RemoteMounted {
    let at = m.path().to_path_buf();
    disk.cut(tear);
    m.unmount().unwrap();
    disk.mount(&at).unwrap()
}

#[test]
fn written_not_synced_vanishes_synced_stays() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path();
    let mut f = File::create(root.join("a")).unwrap();
    f.write_all(b"synced").unwrap();
    f.sync_data().unwrap();
    sync_dir(root);
    f.write_all(b" and not").unwrap();
    drop(f);
    fs::write(root.join("b"), b"never synced").unwrap();
    assert_eq!(fs::read(root.join("a")).unwrap(), b"synced and not");

    let _m = cut_and_remount(&disk, m, Tear::None);
    assert_eq!(fs::read(root.join("a")).unwrap(), b"synced");
    assert!(
        !root.join("b").exists(),
        "an unsynced new file survived the cut"
    );
}

#[test]
fn after_a_cut_every_operation_fails_until_remounted() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path();
    fs::write(root.join("a"), b"x").unwrap();
    disk.cut(Tear::None);
    let e = fs::write(root.join("c"), b"y").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO), "{e}");
    assert!(disk.is_cut());
    m.unmount().unwrap();
    let _m = disk.mount(root).unwrap();
    fs::write(root.join("c"), b"y").unwrap();
}

#[test]
fn a_rename_without_a_directory_fsync_is_undone() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path();
    for (name, body) in [("old", &b"old"[..]), ("tmp", &b"new"[..])] {
        let mut f = File::create(root.join(name)).unwrap();
        f.write_all(body).unwrap();
        f.sync_all().unwrap();
    }
    sync_dir(root);
    fs::rename(root.join("tmp"), root.join("old")).unwrap();
    assert_eq!(fs::read(root.join("old")).unwrap(), b"new");

    let m = cut_and_remount(&disk, m, Tear::None);
    assert_eq!(fs::read(root.join("old")).unwrap(), b"old");
    assert_eq!(fs::read(root.join("tmp")).unwrap(), b"new");

    // The same rename followed by the directory's fsync is kept.
    fs::rename(root.join("tmp"), root.join("old")).unwrap();
    sync_dir(root);
    let _m = cut_and_remount(&disk, m, Tear::None);
    assert_eq!(fs::read(root.join("old")).unwrap(), b"new");
    assert!(!root.join("tmp").exists());
}

#[test]
fn a_new_directory_needs_its_parent_synced() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path();
    fs::create_dir(root.join("kept")).unwrap();
    fs::create_dir(root.join("lost")).unwrap();
    sync_dir(root);
    fs::create_dir(root.join("later")).unwrap();
    let _m = cut_and_remount(&disk, m, Tear::None);
    assert!(root.join("kept").is_dir());
    assert!(root.join("lost").is_dir());
    assert!(!root.join("later").exists());
}

#[test]
fn a_torn_write_keeps_a_prefix() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path();
    let mut f = File::create(root.join("a")).unwrap();
    f.write_all(b"0123456789").unwrap();
    f.sync_all().unwrap();
    sync_dir(root);
    drop(f);
    let mut f = OpenOptions::new()
        .append(true)
        .open(root.join("a"))
        .unwrap();
    f.write_all(b"abcdefgh").unwrap();
    drop(f);
    let _m = cut_and_remount(&disk, m, Tear::Prefix(3));
    assert_eq!(fs::read(root.join("a")).unwrap(), b"0123456789abc");
}

#[test]
fn an_armed_cut_fires_on_the_nth_change() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path();
    disk.cut_after(3, Tear::None);
    let mut done = 0;
    for i in 0..10 {
        if fs::write(root.join(format!("f{i}")), b"x").is_err() {
            break;
        }
        done += 1;
    }
    // Each fs::write is a create and a write: the third change is the second file's create.
    assert_eq!(done, 1);
    assert!(disk.is_cut());
    drop(m);
}

#[test]
fn sqlite_in_wal_mode_keeps_every_committed_transaction() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path();
    let db_path = root.join("q.sqlite");
    {
        let db = rusqlite::Connection::open(&db_path).unwrap();
        db.pragma_update(None, "journal_mode", "WAL").unwrap();
        db.pragma_update(None, "synchronous", "FULL").unwrap();
        db.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .unwrap();
    }
    // SQLite never fsyncs the directory after creating its database file; the program must.
    sync_dir(root);
    // The last connection's close removed the WAL: the next one makes a new WAL file after the
    // directory's last fsync, so its commits survive below only if SQLite fsyncs the directory
    // when it creates a WAL (it does).
    let wal = root.join("q.sqlite-wal");
    assert!(!wal.exists(), "the WAL outlived its last connection");

    let db = rusqlite::Connection::open(&db_path).unwrap();
    db.pragma_update(None, "synchronous", "FULL").unwrap();
    for n in 0..40 {
        db.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            rusqlite::params![n, vec![n as u8; 3000]],
        )
        .unwrap();
    }
    assert!(wal.exists());
    // A transaction in flight when the power goes: its rows are written but never committed.
    disk.cut_after(6, Tear::Prefix(100));
    let tx_result = (|| -> rusqlite::Result<()> {
        db.execute_batch("BEGIN")?;
        for n in 40..80 {
            db.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                rusqlite::params![n, vec![1u8; 3000]],
            )?;
        }
        db.execute_batch("COMMIT")
    })();
    assert!(tx_result.is_err(), "the cut did not reach the transaction");
    drop(db);

    let _m = cut_and_remount(&disk, m, Tear::None);
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let rows: Vec<(i64, Vec<u8>)> = db
        .prepare("SELECT n, body FROM t ORDER BY n")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 40, "committed rows lost or the torn one kept");
    for (n, body) in rows {
        assert_eq!(body, vec![n as u8; 3000]);
    }
}

#[test]
fn a_server_that_stops_answering_is_killed_and_the_client_gets_an_error_not_a_hang() {
    if !jemput_testkit::fuse() {
        return;
    }
    // The server is frozen (SIGSTOP) while the test writes to a file open on its mount: the
    // write waits on the kernel for an answer that never comes. The watchdog's deadline aborts
    // the connection and kills the server, so the write fails and the mount is detached. (A
    // write through a path could instead be resolved again once the mount is detached, and land
    // in the directory beneath; a descriptor cannot move.)
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let root = t.path().to_path_buf();
    let mut f = File::create(root.join("during")).unwrap();
    f.write_all(b"x").unwrap();
    disk.set_deadline(Duration::from_secs(2));
    let stopped = std::process::Command::new("kill")
        .args(["-STOP", &disk.server_pid().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    // Wait until every thread of the server has stopped: one already running could otherwise
    // still answer the write.
    let pid = disk.server_pid();
    let all_stopped = || {
        fs::read_dir(format!("/proc/{pid}/task")).unwrap().all(|t| {
            let stat = fs::read_to_string(t.unwrap().path().join("stat")).unwrap_or_default();
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('T') || rest.starts_with('t'))
        })
    };
    let waiting = Instant::now();
    while !all_stopped() {
        assert!(
            waiting.elapsed() < Duration::from_secs(1),
            "SIGSTOP did not stop the server"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let started = Instant::now();
    let e = f.write_all(b"y").unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            e.raw_os_error(),
            Some(libc::ENOTCONN) | Some(libc::EIO) | Some(libc::ECONNABORTED)
        ),
        "{e}"
    );
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
    // Every later command reports the kill, and nothing is left mounted.
    let err = disk.mount(t.path()).unwrap_err();
    assert!(err.to_string().contains("watchdog: 2 s"), "{err}");
    drop(f);
    drop(m);
    assert!(!mounted_at(&root), "the mount was left behind");
}

#[test]
fn dropping_the_disk_unmounts_and_ends_the_server() {
    if !jemput_testkit::fuse() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    fs::write(t.path().join("a"), b"x").unwrap();
    assert!(mounted_at(t.path()));
    let pid = disk.server_pid();
    drop(m);
    assert!(!mounted_at(t.path()), "unmount left the mount");
    let _m = disk.mount(t.path()).unwrap();
    drop(disk);
    assert!(!mounted_at(t.path()), "the mount outlived its server");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the server still runs (or was not reaped)"
    );
}

#[test]
fn a_mount_still_in_use_is_detached_not_left_behind() {
    if !jemput_testkit::fuse() {
        return;
    }
    // A file held open on the mount (as a hub left running would) makes the unmount fail; the
    // mount is then detached lazily rather than left behind once the disk is dropped.
    let t = tempfile::tempdir().unwrap();
    let disk = start();
    let m = disk.mount(t.path()).unwrap();
    let held = File::create(t.path().join("held")).unwrap();
    assert!(m.unmount().is_err(), "unmounted under an open file");
    drop(disk);
    assert!(!mounted_at(t.path()), "the mount was left behind");
    drop(held);
}

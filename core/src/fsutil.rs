//! Durable file writes: temp file in the same directory, fdatasync, rename, fsync of the directory.
//!
//! Everything jemput must not lose (packets, drafts, keys, config) is written through here, in the
//! order `docs/durability.md` gives. A crash at any point leaves either the old file or the new
//! one, never a torn one; leftovers are temp files named `.tmp-*`, which [`remove_temp_leftovers`]
//! clears on start.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Prefix of every temp file written by [`write_atomic`]; recovery removes files that carry it.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` durably: temp file beside it, fsync, rename, fsync of the directory.
///
/// `mode` sets the Unix permission bits of the new file (e.g. `0o600` for secrets).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_with(path, mode, |f| f.write_all(bytes))
}

/// Like [`write_atomic`], with the content produced by `fill` writing into the temp file.
pub fn write_atomic_with(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(
        "{TEMP_PREFIX}{}-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = create_with_mode(&tmp, mode)?;
        fill(&mut file)?;
        file.flush()?;
        // fdatasync: the data and the size of this new file; its name is made durable by the
        // directory fsync after the rename.
        file.sync_data()?;
        drop(file);
        fs::rename(&tmp, path)?;
        if skipped_for_test("atomic-dir") {
            return Ok(());
        }
        sync_dir(&dir)
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is also removed by recovery on the next start.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Test-only switch: whether `JEMPUT_TEST_SKIP_FSYNC` names `which`, an fsync to skip — the
/// defect a power-loss test (`tests/powerloss.rs`) must detect as its negative control.
/// `atomic-dir`: [`write_atomic_with`] skips the directory fsync after its rename;
/// `hub-packets-dir`: the hub skips the fsync of `packets/` after moving a verified packet in.
/// Unset in production; read once per process.
pub fn skipped_for_test(which: &str) -> bool {
    static SKIP: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    SKIP.get_or_init(|| std::env::var("JEMPUT_TEST_SKIP_FSYNC").ok())
        .as_deref()
        == Some(which)
}

fn create_with_mode(path: &Path, mode: u32) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// fsyncs a directory so that renames and unlinks inside it survive a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    let d = File::open(dir)?;
    rustix::fs::fsync(&d).map_err(io::Error::from)
}

/// Removes `path` and fsyncs its directory.
pub fn remove_durable(path: &Path) -> io::Result<()> {
    fs::remove_file(path)?;
    sync_dir(&parent_dir(path))
}

/// Creates `dir` (and parents) with the given mode if it does not exist, durably: the parent of
/// every directory it creates is fsynced, so a file later made durable inside it cannot vanish
/// with its directory in a power cut (a new name needs its directory's fsync; fsync(2)).
pub fn ensure_dir(dir: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    let parent = parent_dir(dir);
    ensure_dir(&parent, mode)?;
    match fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => sync_dir(&parent),
        // Made meanwhile by someone else, who syncs it.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes `dir` a directory only its owner may enter: creates it (and parents) `0700` if missing,
/// or takes the group and other permissions away from an existing one. Returns the mode an
/// existing directory had when it was tightened; `Err` (EPERM) when the directory is not ours.
pub fn private_dir(dir: &Path) -> io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    if !dir.is_dir() {
        ensure_dir(dir, 0o700)?;
    }
    let mode = fs::metadata(dir)?.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(mode & 0o700))?;
    Ok(Some(mode))
}

/// Before SQLite opens the database `db`: creates it empty and `0600` if missing (SQLite then
/// gives its `-wal` and `-shm` files the same mode), and takes the group and other permissions
/// away from it and from its `-wal`, `-shm` and `-journal` files where they have any. Returns the
/// files it tightened.
pub fn private_sqlite_files(db: &Path) -> io::Result<Vec<PathBuf>> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // Created 0600 only when missing. An existing database is never opened here: closing any
    // descriptor of a file drops every POSIX lock this process holds on it, SQLite's included, and
    // another process closing its connection then believes itself the last one and deletes the
    // write-ahead log this process still writes to (sqlite.org/howtocorrupt.html §2.2.1).
    match fs::symlink_metadata(db) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(db)
            {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    }
    let mut tightened = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        let mode = match fs::metadata(&path) {
            Ok(m) => m.permissions().mode() & 0o7777,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if mode & 0o077 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o700))?;
            tightened.push(path);
        }
    }
    Ok(tightened)
}

/// Removes temp leftovers (`.tmp-*`) of interrupted writes in `dir`; returns the names removed.
pub fn remove_temp_leftovers(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let p = entry.path();
            if entry.file_type()?.is_dir() {
                fs::remove_dir_all(&p)?;
            } else {
                fs::remove_file(&p)?;
            }
            removed.push(p);
        }
    }
    if !removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// Whether an I/O error is the filesystem running out of space (ENOSPC) or quota (EDQUOT).
pub fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) || matches!(e.raw_os_error(), Some(28) | Some(122))
}

/// Free bytes available to unprivileged users on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let st = rustix::fs::statvfs(path).map_err(io::Error::from)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_dir_is_created_0700_and_an_open_one_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let new = t.path().join("a/b");
        assert_eq!(private_dir(&new).unwrap(), None);
        assert_eq!(mode(&new), 0o700);
        let open = t.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(private_dir(&open).unwrap(), Some(0o755));
        assert_eq!(mode(&open), 0o700);
        assert_eq!(private_dir(&open).unwrap(), None);
    }

    #[test]
    fn sqlite_files_are_created_0600_and_open_ones_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let db = t.path().join("q.sqlite");
        assert!(private_sqlite_files(&db).unwrap().is_empty());
        assert_eq!(mode(&db), 0o600);
        assert_eq!(fs::metadata(&db).unwrap().len(), 0);
        fs::write(&db, b"kept").unwrap();
        let wal = t.path().join("q.sqlite-wal");
        fs::write(&wal, b"wal").unwrap();
        for p in [&db, &wal] {
            fs::set_permissions(p, fs::Permissions::from_mode(0o644)).unwrap();
        }
        assert_eq!(
            private_sqlite_files(&db).unwrap(),
            vec![db.clone(), wal.clone()]
        );
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
        assert_eq!(
            fs::read(&db).unwrap(),
            b"kept",
            "an existing database is not truncated"
        );
    }

    #[test]
    fn atomic_write_replaces_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.bin")]);
    }

    #[test]
    fn atomic_write_sets_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        write_atomic(&p, b"k", 0o600).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn failed_fill_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bin");
        write_atomic(&p, b"old", 0o644).unwrap();
        let err = write_atomic_with(&p, 0o644, |_| Err(io::Error::other("boom"))).unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".tmp-x-1"), b"half").unwrap();
        fs::write(dir.path().join("keep"), b"k").unwrap();
        let removed = remove_temp_leftovers(dir.path()).unwrap();
        assert_eq!(removed.len(), 1);
        assert!(dir.path().join("keep").exists());
    }
}

//! The FUSE side: kernel requests answered from the [`State`](crate::model::State) in memory.

use std::ffi::OsStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fuser::{
    Errno, FileAttr, FileHandle, FileType, FopenFlags, Generation, INodeNo, LockOwner, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, Request, WriteFlags,
};

use crate::model::{Fail, Kind, State};

/// Nothing is cached by the kernel: every lookup and attribute comes from the state, so a
/// change in the model (a cut) is seen at once.
const TTL: Duration = Duration::ZERO;

pub struct PowerFs {
    state: Arc<Mutex<State>>,
}

impl PowerFs {
    pub fn new(state: Arc<Mutex<State>>) -> PowerFs {
        PowerFs { state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn errno(f: Fail) -> Errno {
    Errno::from_i32(match f {
        Fail::NoEnt => libc::ENOENT,
        Fail::Exist => libc::EEXIST,
        Fail::NotDir => libc::ENOTDIR,
        Fail::IsDir => libc::EISDIR,
        Fail::NotEmpty => libc::ENOTEMPTY,
        Fail::Inval => libc::EINVAL,
        Fail::Io => libc::EIO,
    })
}

fn attr(s: &State, ino: u64, req: Option<&Request>) -> Result<FileAttr, Fail> {
    let n = s.node(ino)?;
    let (kind, nlink) = match n.kind {
        Kind::File => (FileType::RegularFile, 1),
        Kind::Dir => (FileType::Directory, 2),
    };
    let size = n.data.len() as u64;
    Ok(FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: n.mtime,
        mtime: n.mtime,
        ctime: n.mtime,
        crtime: n.mtime,
        kind,
        perm: n.perm,
        nlink,
        uid: req.map_or(0, |r| r.uid()),
        gid: req.map_or(0, |r| r.gid()),
        rdev: 0,
        blksize: 4096,
        flags: 0,
    })
}

fn perm_of(mode: u32, umask: u32) -> u16 {
    (mode & !umask & 0o7777) as u16
}

impl fuser::Filesystem for PowerFs {
    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let s = self.lock();
        match s
            .lookup(parent.0, name)
            .and_then(|i| attr(&s, i, Some(req)))
        {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn getattr(&self, req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let s = self.lock();
        match s.alive().and_then(|()| attr(&s, ino.0, Some(req))) {
            Ok(a) => reply.attr(&TTL, &a),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<fuser::TimeOrNow>,
        _mtime: Option<fuser::TimeOrNow>,
        _ctime: Option<std::time::SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<std::time::SystemTime>,
        _chgtime: Option<std::time::SystemTime>,
        _bkuptime: Option<std::time::SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let mut s = self.lock();
        let r = s
            .alive()
            .and_then(|()| match size {
                Some(n) => s.set_size(ino.0, n),
                None => Ok(()),
            })
            .and_then(|()| match mode {
                Some(m) => s.set_perm(ino.0, perm_of(m, 0)),
                None => Ok(()),
            })
            .and_then(|()| attr(&s, ino.0, Some(req)));
        match r {
            Ok(a) => reply.attr(&TTL, &a),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        if mode & libc::S_IFMT != libc::S_IFREG {
            return reply.error(Errno::EPERM);
        }
        let mut s = self.lock();
        let r = s.make(parent.0, name, Kind::File, perm_of(mode, umask));
        match r.and_then(|i| attr(&s, i, Some(req))) {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let mut s = self.lock();
        let r = s.make(parent.0, name, Kind::Dir, perm_of(mode, umask));
        match r.and_then(|i| attr(&s, i, Some(req))) {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.lock().unlink(parent.0, name, false) {
            Ok(()) => reply.ok(),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.lock().unlink(parent.0, name, true) {
            Ok(()) => reply.ok(),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let noreplace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        if !(flags - RenameFlags::RENAME_NOREPLACE).is_empty() {
            return reply.error(Errno::EINVAL);
        }
        match self
            .lock()
            .rename(parent.0, name, newparent.0, newname, noreplace)
        {
            Ok(()) => reply.ok(),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn link(
        &self,
        req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let mut s = self.lock();
        let r = s.link(ino.0, newparent.0, newname);
        match r.and_then(|()| attr(&s, ino.0, Some(req))) {
            Ok(a) => reply.entry(&TTL, &a, Generation(0)),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let s = self.lock();
        match s.alive().and_then(|()| s.node(ino.0).map(|_| ())) {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        let mut s = self.lock();
        let r = s.make(parent.0, name, Kind::File, perm_of(mode, umask));
        match r.and_then(|i| attr(&s, i, Some(req))) {
            Ok(a) => reply.created(&TTL, &a, Generation(0), FileHandle(0), FopenFlags::empty()),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.lock().read(ino.0, offset, size) {
            Ok(d) => reply.data(d),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.lock().write(ino.0, offset, data) {
            Ok(()) => reply.written(data.len() as u32),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.lock().sync_file(ino.0) {
            Ok(()) => reply.ok(),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let s = self.lock();
        match s.alive().and_then(|()| s.node(ino.0).map(|_| ())) {
            Ok(()) => reply.opened(FileHandle(0), FopenFlags::empty()),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let s = self.lock();
        let node = match s.alive().and_then(|()| s.node(ino.0)) {
            Ok(n) if n.kind == Kind::Dir => n,
            Ok(_) => return reply.error(Errno::ENOTDIR),
            Err(f) => return reply.error(errno(f)),
        };
        let dots = [
            (ino.0, FileType::Directory, OsStr::new(".")),
            (ino.0, FileType::Directory, OsStr::new("..")),
        ];
        let entries = node.entries.iter().map(|(name, &i)| {
            let kind = match s.nodes.get(&i).map(|n| n.kind) {
                Some(Kind::Dir) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            (i, kind, name.as_os_str())
        });
        for (k, (i, kind, name)) in dots.into_iter().chain(entries).enumerate() {
            if (k as u64) < offset {
                continue;
            }
            if reply.add(INodeNo(i), k as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.lock().sync_dir(ino.0) {
            Ok(()) => reply.ok(),
            Err(f) => reply.error(errno(f)),
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        // Plenty of room: the kit checks free space before it seals.
        let blocks = 1 << 24; // 64 GiB of 4 KiB blocks
        reply.statfs(blocks, blocks, blocks, 1 << 20, 1 << 20, 4096, 255, 4096);
    }
}

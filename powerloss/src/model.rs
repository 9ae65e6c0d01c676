//! The disk's contents in memory: every node's pending and durable state, syncs, and the cut.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::time::SystemTime;

/// What a cut does to the last write that was not yet synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tear {
    /// The write is lost whole, like every other pending change.
    #[default]
    None,
    /// The first `n` bytes of the write reach the disk (over the file's durable data), the rest
    /// is lost: a write torn by the power going mid-way.
    Prefix(usize),
}

/// The root directory's inode number (FUSE's fixed root).
pub const ROOT: u64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

/// One file or directory. Reads see the pending fields; a cut keeps the durable ones.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub perm: u16,
    pub data: Vec<u8>,
    pub entries: BTreeMap<OsString, u64>,
    pub mtime: SystemTime,
    durable_perm: u16,
    durable_data: Vec<u8>,
    durable_entries: BTreeMap<OsString, u64>,
}

impl Node {
    fn new(kind: Kind, perm: u16) -> Node {
        Node {
            kind,
            perm,
            data: Vec::new(),
            entries: BTreeMap::new(),
            mtime: SystemTime::now(),
            // A node starts durable-empty: until a sync it holds nothing on the disk.
            durable_perm: perm,
            durable_data: Vec::new(),
            durable_entries: BTreeMap::new(),
        }
    }
}

/// The errors the filesystem answers (errno values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    NoEnt,
    Exist,
    NotDir,
    IsDir,
    NotEmpty,
    Inval,
    /// The power is gone.
    Io,
}

#[derive(Debug)]
pub struct State {
    pub nodes: HashMap<u64, Node>,
    next_ino: u64,
    /// Changing operations seen so far.
    pub ops: u64,
    armed: Option<(u64, Tear)>,
    /// Power cut and not yet remounted.
    pub dead: bool,
    /// The last write not yet synced: inode, offset, bytes.
    last_write: Option<(u64, u64, Vec<u8>)>,
}

impl Default for State {
    fn default() -> State {
        let mut nodes = HashMap::new();
        nodes.insert(ROOT, Node::new(Kind::Dir, 0o755));
        State {
            nodes,
            next_ino: ROOT + 1,
            ops: 0,
            armed: None,
            dead: false,
            last_write: None,
        }
    }
}

impl State {
    /// Every read-only operation starts here: a disk without power answers nothing.
    pub fn alive(&self) -> Result<(), Fail> {
        if self.dead {
            Err(Fail::Io)
        } else {
            Ok(())
        }
    }

    /// Every changing operation starts here: it is counted, and an armed cut fires on it.
    pub fn change(&mut self) -> Result<(), Fail> {
        self.alive()?;
        self.ops += 1;
        if let Some((at, tear)) = self.armed {
            if self.ops >= at {
                self.cut(tear);
                return Err(Fail::Io);
            }
        }
        Ok(())
    }

    pub fn arm(&mut self, ops: u64, tear: Tear) {
        self.armed = (ops > 0).then_some((self.ops + ops, tear));
    }

    pub fn power_on(&mut self) {
        self.dead = false;
        self.armed = None;
    }

    pub fn cut(&mut self, tear: Tear) {
        for node in self.nodes.values_mut() {
            node.perm = node.durable_perm;
            node.data = node.durable_data.clone();
            node.entries = node.durable_entries.clone();
        }
        if let (Tear::Prefix(n), Some((ino, off, bytes))) = (tear, self.last_write.take()) {
            if let Some(node) = self.nodes.get_mut(&ino) {
                write_at(&mut node.durable_data, off, &bytes[..n.min(bytes.len())]);
                node.data = node.durable_data.clone();
            }
        }
        self.last_write = None;
        self.armed = None;
        self.dead = true;
    }

    pub fn sync_all(&mut self) {
        for node in self.nodes.values_mut() {
            node.durable_perm = node.perm;
            node.durable_data = node.data.clone();
            node.durable_entries = node.entries.clone();
        }
        self.last_write = None;
    }

    pub fn node(&self, ino: u64) -> Result<&Node, Fail> {
        self.nodes.get(&ino).ok_or(Fail::NoEnt)
    }

    fn node_mut(&mut self, ino: u64) -> Result<&mut Node, Fail> {
        self.nodes.get_mut(&ino).ok_or(Fail::NoEnt)
    }

    fn dir(&self, ino: u64) -> Result<&Node, Fail> {
        let n = self.node(ino)?;
        if n.kind == Kind::Dir {
            Ok(n)
        } else {
            Err(Fail::NotDir)
        }
    }

    pub fn lookup(&self, parent: u64, name: &OsStr) -> Result<u64, Fail> {
        self.alive()?;
        self.dir(parent)?
            .entries
            .get(name)
            .copied()
            .ok_or(Fail::NoEnt)
    }

    /// Makes a new file or directory `name` in `parent` (pending until `parent` is fsynced).
    pub fn make(&mut self, parent: u64, name: &OsStr, kind: Kind, perm: u16) -> Result<u64, Fail> {
        self.alive()?;
        if self.dir(parent)?.entries.contains_key(name) {
            return Err(Fail::Exist);
        }
        self.change()?;
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, Node::new(kind, perm));
        let p = self.node_mut(parent)?;
        p.entries.insert(name.to_os_string(), ino);
        p.mtime = SystemTime::now();
        Ok(ino)
    }

    pub fn unlink(&mut self, parent: u64, name: &OsStr, want_dir: bool) -> Result<(), Fail> {
        let ino = self.lookup(parent, name)?;
        let node = self.node(ino)?;
        match (node.kind, want_dir) {
            (Kind::Dir, false) => return Err(Fail::IsDir),
            (Kind::File, true) => return Err(Fail::NotDir),
            (Kind::Dir, true) if !node.entries.is_empty() => return Err(Fail::NotEmpty),
            _ => {}
        }
        self.change()?;
        let p = self.node_mut(parent)?;
        p.entries.remove(name);
        p.mtime = SystemTime::now();
        Ok(())
    }

    pub fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        newparent: u64,
        newname: &OsStr,
        noreplace: bool,
    ) -> Result<(), Fail> {
        let ino = self.lookup(parent, name)?;
        self.dir(newparent)?;
        if let Some(&old) = self.node(newparent)?.entries.get(newname) {
            if noreplace {
                return Err(Fail::Exist);
            }
            let (moving, there) = (self.node(ino)?, self.node(old)?);
            match (moving.kind, there.kind) {
                (Kind::File, Kind::Dir) => return Err(Fail::IsDir),
                (Kind::Dir, Kind::File) => return Err(Fail::NotDir),
                (Kind::Dir, Kind::Dir) if !there.entries.is_empty() => return Err(Fail::NotEmpty),
                _ => {}
            }
        }
        self.change()?;
        self.node_mut(parent)?.entries.remove(name);
        let np = self.node_mut(newparent)?;
        np.entries.insert(newname.to_os_string(), ino);
        np.mtime = SystemTime::now();
        Ok(())
    }

    pub fn link(&mut self, ino: u64, newparent: u64, newname: &OsStr) -> Result<(), Fail> {
        self.alive()?;
        if self.node(ino)?.kind == Kind::Dir {
            return Err(Fail::IsDir);
        }
        if self.dir(newparent)?.entries.contains_key(newname) {
            return Err(Fail::Exist);
        }
        self.change()?;
        self.node_mut(newparent)?
            .entries
            .insert(newname.to_os_string(), ino);
        Ok(())
    }

    pub fn read(&self, ino: u64, offset: u64, size: u32) -> Result<&[u8], Fail> {
        self.alive()?;
        let data = &self.node(ino)?.data;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(size as usize).min(data.len());
        Ok(&data[start..end])
    }

    pub fn write(&mut self, ino: u64, offset: u64, bytes: &[u8]) -> Result<(), Fail> {
        self.alive()?;
        if self.node(ino)?.kind == Kind::Dir {
            return Err(Fail::IsDir);
        }
        self.change()?;
        let node = self.node_mut(ino)?;
        write_at(&mut node.data, offset, bytes);
        node.mtime = SystemTime::now();
        self.last_write = Some((ino, offset, bytes.to_vec()));
        Ok(())
    }

    pub fn set_size(&mut self, ino: u64, size: u64) -> Result<(), Fail> {
        self.alive()?;
        if self.node(ino)?.kind == Kind::Dir {
            return Err(Fail::IsDir);
        }
        let size = usize::try_from(size).map_err(|_| Fail::Inval)?;
        self.change()?;
        let node = self.node_mut(ino)?;
        node.data.resize(size, 0);
        node.mtime = SystemTime::now();
        Ok(())
    }

    pub fn set_perm(&mut self, ino: u64, perm: u16) -> Result<(), Fail> {
        self.alive()?;
        self.node(ino)?;
        self.change()?;
        self.node_mut(ino)?.perm = perm;
        Ok(())
    }

    /// fsync/fdatasync of a file: its data, size and mode become durable.
    pub fn sync_file(&mut self, ino: u64) -> Result<(), Fail> {
        self.alive()?;
        self.node(ino)?;
        self.change()?;
        let node = self.node_mut(ino)?;
        node.durable_data = node.data.clone();
        node.durable_perm = node.perm;
        if matches!(self.last_write, Some((w, _, _)) if w == ino) {
            self.last_write = None;
        }
        Ok(())
    }

    /// fsync of a directory: its entries (names made, moved or removed in it) become durable.
    pub fn sync_dir(&mut self, ino: u64) -> Result<(), Fail> {
        self.alive()?;
        self.dir(ino)?;
        self.change()?;
        let node = self.node_mut(ino)?;
        node.durable_entries = node.entries.clone();
        node.durable_perm = node.perm;
        Ok(())
    }
}

fn write_at(data: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let off = usize::try_from(offset).unwrap_or(usize::MAX);
    let end = off.saturating_add(bytes.len());
    if data.len() < end {
        data.resize(end, 0);
    }
    data[off..end].copy_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &mut State, name: &str) -> u64 {
        s.make(ROOT, OsStr::new(name), Kind::File, 0o644).unwrap()
    }

    #[test]
    fn unsynced_data_and_names_vanish_synced_stay() {
        let mut s = State::default();
        let a = file(&mut s, "a");
        s.write(a, 0, b"kept").unwrap();
        s.sync_file(a).unwrap();
        s.sync_dir(ROOT).unwrap();
        s.write(a, 4, b"-lost").unwrap();
        let b = file(&mut s, "b");
        s.write(b, 0, b"b").unwrap();
        s.sync_file(b).unwrap(); // data synced, but its name never was
        s.cut(Tear::None);
        s.power_on();
        assert_eq!(s.read(a, 0, 100).unwrap(), b"kept");
        assert_eq!(s.lookup(ROOT, OsStr::new("b")), Err(Fail::NoEnt));
    }

    #[test]
    fn a_torn_write_keeps_a_prefix_over_the_durable_data() {
        let mut s = State::default();
        let a = file(&mut s, "a");
        s.write(a, 0, b"0123456789").unwrap();
        s.sync_file(a).unwrap();
        s.sync_dir(ROOT).unwrap();
        s.write(a, 5, b"abcdefgh").unwrap();
        s.cut(Tear::Prefix(3));
        s.power_on();
        assert_eq!(s.read(a, 0, 100).unwrap(), b"01234abc89");
    }

    #[test]
    fn an_armed_cut_fails_that_operation_and_every_later_one() {
        let mut s = State::default();
        let a = file(&mut s, "a");
        s.arm(2, Tear::None);
        s.write(a, 0, b"one").unwrap();
        assert_eq!(s.write(a, 3, b"two"), Err(Fail::Io));
        assert_eq!(s.read(a, 0, 10), Err(Fail::Io));
        assert!(s.dead);
    }
}

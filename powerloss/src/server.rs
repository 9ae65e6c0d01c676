//! The server side of [`RemoteDisk`](crate::RemoteDisk): one [`Disk`] in a process of its own,
//! driven line by line over stdin, answering one line per command on stdout.
//!
//! The protocol (every answer is one line; `err MESSAGE` for a command that failed):
//!
//! | command | answer | what it does |
//! |---|---|---|
//! | `mount PATH` | `ok` | mounts the disk at PATH (its durable state after a cut) |
//! | `unmount` | `ok` | unmounts it (the disk, and what it holds, stays in this process) |
//! | `cut none` / `cut prefix N` | `ok` | cuts the power now, tearing the last unsynced write to N bytes |
//! | `cut-after OPS none` / `cut-after OPS prefix N` | `ok` | arms a cut at the OPS-th changing operation (0 disarms) |
//! | `sync-all` | `ok` | makes everything durable |
//! | `ops?` | `ops N` | changing operations seen so far |
//! | `cut?` | `cut yes` / `cut no` | whether the power has been cut since the last mount |
//! | `quit` | `ok` | unmounts and ends the process |
//!
//! End of input unmounts and ends the process too, so a test process that dies takes its mount
//! with it.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use crate::{Disk, Mounted, Tear};

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Mount(PathBuf),
    Unmount,
    Cut(Tear),
    CutAfter(u64, Tear),
    SyncAll,
    Ops,
    IsCut,
    Quit,
}

fn parse_tear<'a>(mut words: impl Iterator<Item = &'a str>) -> Result<Tear, String> {
    let tear = match (words.next(), words.next()) {
        (Some("none") | None, None) => Tear::None,
        (Some("prefix"), Some(n)) => Tear::Prefix(
            n.parse()
                .map_err(|_| format!("tear prefix {n:?} is not a byte count"))?,
        ),
        (w, _) => return Err(format!("unknown tear {w:?}: none or prefix N")),
    };
    match words.next() {
        Some(extra) => Err(format!("unexpected {extra:?} after the tear")),
        None => Ok(tear),
    }
}

/// Formats a tear as the protocol writes it.
pub fn tear_words(tear: Tear) -> String {
    match tear {
        Tear::None => "none".into(),
        Tear::Prefix(n) => format!("prefix {n}"),
    }
}

impl Command {
    /// Parses one line of the protocol.
    pub fn parse(line: &str) -> Result<Command, String> {
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some(path) = line.strip_prefix("mount ") {
            if path.is_empty() {
                return Err("mount needs a path".into());
            }
            return Ok(Command::Mount(PathBuf::from(path)));
        }
        let mut words = line.split_ascii_whitespace();
        let cmd = match words.next() {
            Some("unmount") => Command::Unmount,
            Some("cut") => Command::Cut(parse_tear(words.by_ref())?),
            Some("cut-after") => {
                let ops = words.next().ok_or("cut-after needs a count")?;
                let ops = ops
                    .parse()
                    .map_err(|_| format!("cut-after {ops:?} is not a count"))?;
                Command::CutAfter(ops, parse_tear(words.by_ref())?)
            }
            Some("sync-all") => Command::SyncAll,
            Some("ops?") => Command::Ops,
            Some("cut?") => Command::IsCut,
            Some("quit") => Command::Quit,
            Some(other) => return Err(format!("unknown command {other:?}")),
            None => return Err("empty command".into()),
        };
        match cmd {
            Command::Cut(_) | Command::CutAfter(..) => Ok(cmd),
            _ => match words.next() {
                Some(extra) => Err(format!("unexpected {extra:?}")),
                None => Ok(cmd),
            },
        }
    }
}

/// Serves `disk` on `input`/`output` until `quit` or the end of `input`; unmounts on the way out.
pub fn serve(disk: &Disk, input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    let mut mounted: Option<Mounted> = None;
    for line in input.lines() {
        let line = line?;
        let answer = match Command::parse(&line) {
            Err(e) => format!("err {e}"),
            Ok(Command::Mount(path)) => match &mounted {
                Some(m) => format!("err already mounted at {}", m.path().display()),
                None => match disk.mount(&path) {
                    Ok(m) => {
                        mounted = Some(m);
                        "ok".into()
                    }
                    Err(e) => format!("err mount {}: {e}", path.display()),
                },
            },
            Ok(Command::Unmount) => match mounted.take() {
                None => "err not mounted".into(),
                Some(m) => match unmount_or_detach(m) {
                    Ok(()) => "ok".into(),
                    Err(e) => format!("err unmount: {e}"),
                },
            },
            Ok(Command::Cut(tear)) => {
                disk.cut(tear);
                "ok".into()
            }
            Ok(Command::CutAfter(ops, tear)) => {
                disk.cut_after(ops, tear);
                "ok".into()
            }
            Ok(Command::SyncAll) => {
                disk.sync_all();
                "ok".into()
            }
            Ok(Command::Ops) => format!("ops {}", disk.ops()),
            Ok(Command::IsCut) => format!("cut {}", if disk.is_cut() { "yes" } else { "no" }),
            Ok(Command::Quit) => {
                let r = mounted.take().map_or(Ok(()), unmount_or_detach);
                writeln!(
                    output,
                    "{}",
                    r.map_or_else(|e| format!("err {e}"), |()| "ok".into())
                )?;
                output.flush()?;
                return Ok(());
            }
        };
        writeln!(output, "{answer}")?;
        output.flush()?;
    }
    match mounted {
        Some(m) => unmount_or_detach(m),
        None => Ok(()),
    }
}

/// Lazily unmounts `at` with `umount -l` (util-linux): gone from the namespace now, released
/// when unused.
pub(crate) fn detach(at: &std::path::Path) {
    use std::process::Stdio;
    let _ = std::process::Command::new("umount")
        .arg("-l")
        .arg(at)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Unmounts; if the mount is still in use, detaches it (`umount -l`) so that it is not left
/// behind, and reports the failed unmount.
///
/// A mount can be busy for a moment without anyone using it: a process being spawned elsewhere
/// holds copies of its parent's descriptors until it execs. So a busy mount is tried again for
/// up to two seconds (with `umount`, util-linux) before it is detached.
fn unmount_or_detach(m: Mounted) -> io::Result<()> {
    let at = m.path().to_path_buf();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let done = loop {
        let done = std::process::Command::new("umount")
            .arg(&at)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if done || std::time::Instant::now() > deadline {
            break done;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let ended = m.unmount();
    if done {
        // Unmounted above: the session's own unmount finds nothing there (EINVAL), and its
        // thread ends as the kernel closes the connection.
        return Ok(());
    }
    ended.inspect_err(|_| detach(&at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_ones_are_refused_with_a_reason() {
        assert_eq!(
            Command::parse("mount /tmp/a b\n"),
            Ok(Command::Mount(PathBuf::from("/tmp/a b")))
        );
        assert_eq!(Command::parse("cut none"), Ok(Command::Cut(Tear::None)));
        assert_eq!(Command::parse("cut"), Ok(Command::Cut(Tear::None)));
        assert_eq!(
            Command::parse("cut prefix 12"),
            Ok(Command::Cut(Tear::Prefix(12)))
        );
        assert_eq!(
            Command::parse("cut-after 7 prefix 3"),
            Ok(Command::CutAfter(7, Tear::Prefix(3)))
        );
        assert_eq!(Command::parse("ops?"), Ok(Command::Ops));
        assert_eq!(Command::parse("cut?"), Ok(Command::IsCut));
        for bad in [
            "",
            "mount ",
            "cut prefix",
            "cut prefix x",
            "cut sideways",
            "cut none 4",
            "cut-after",
            "cut-after -1 none",
            "sync-all now",
            "format c:",
        ] {
            assert!(Command::parse(bad).is_err(), "{bad:?} accepted");
        }
        for t in [Tear::None, Tear::Prefix(9)] {
            assert_eq!(
                Command::parse(&format!("cut {}", tear_words(t))),
                Ok(Command::Cut(t))
            );
        }
    }

    #[test]
    fn the_server_answers_one_line_per_command_without_mounting() {
        let disk = Disk::new();
        let input = b"ops?\ncut?\ncut prefix 4\ncut?\nbogus\nunmount\nsync-all\nquit\nops?\n";
        let mut out = Vec::new();
        serve(&disk, &input[..], &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[..4], ["ops 0", "cut no", "ok", "cut yes"]);
        assert!(lines[4].starts_with("err unknown command"), "{out}");
        assert_eq!(lines[5..], ["err not mounted", "ok", "ok"], "{out}");
    }
}

//! Specifications of the store API: files on disk, rows, transitions, errors.

use super::*;

pub(super) fn meta(id: &str, created: &str) -> PacketMeta {
    PacketMeta {
        packet_id: id.into(),
        kit_id: "kit-7".into(),
        size: 5,
        payload_sha256: "0f".repeat(32),
        created_at: created.parse().unwrap(),
        visit_id: None,
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// A store with packet `p` moved through `path` (starting at sealed).
fn store_with(path: &[State]) -> (tempfile::TempDir, Store) {
    let (dir, mut s) = store();
    s.commit_packet(&meta("p", "2025-03-01T08:00:00Z"), b"bytes")
        .unwrap();
    for &st in path {
        if st == State::Acknowledged {
            s.set_receipt("p", b"receipt").unwrap();
        }
        s.transition("p", st, None).unwrap();
    }
    (dir, s)
}

#[test]
fn open_creates_the_kit_home_layout() {
    let (dir, _s) = store();
    let names = names_in(dir.path());
    for expected in ["packets", "quarantine", "queue.sqlite"] {
        assert!(names.contains(&expected.to_owned()), "{names:?}");
    }
}

#[test]
fn committed_packets_are_listed_oldest_first() {
    let (_dir, mut s) = store();
    s.commit_packet(&meta("b", "2025-03-01T09:00:00Z"), b"two")
        .unwrap();
    s.commit_packet(&meta("a", "2025-03-01T09:00:00.5Z"), b"three")
        .unwrap();
    s.commit_packet(&meta("c", "2025-03-01T08:00:00Z"), b"one")
        .unwrap();
    let list = s.list().unwrap();
    let ids: Vec<&str> = list.iter().map(|e| e.packet_id.as_str()).collect();
    assert_eq!(ids, ["c", "b", "a"]);
    let c = &list[0];
    assert_eq!(c.state, State::Sealed);
    assert_eq!(c.file, "c.jpk");
    assert_eq!(c.kit_id, "kit-7");
    assert_eq!(c.size, 5);
    assert_eq!(c.created_at, "2025-03-01T08:00:00Z".parse().unwrap());
    assert!(c.file_present);
    assert_eq!(s.get("c").unwrap().as_ref(), Some(c));
    assert_eq!(s.get("nope").unwrap(), None);
}

#[test]
fn commit_writes_the_file_and_the_row_and_leaves_no_temp_file() {
    let (_dir, mut s) = store();
    let path = s
        .commit_packet(&meta("p1", "2025-03-01T08:00:00Z"), b"sealed")
        .unwrap();
    assert_eq!(path, s.packets_dir().join("p1.jpk"));
    assert_eq!(fs::read(&path).unwrap(), b"sealed");
    assert_eq!(names_in(s.packets_dir()), ["p1.jpk"]);
    let entry = s.get("p1").unwrap().unwrap();
    assert_eq!(s.path_of(&entry), path);
    let h = s.history("p1").unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].from, h[0].to), (None, State::Sealed));
}

#[test]
fn a_duplicate_packet_id_is_refused_and_the_first_file_kept() {
    let (_dir, mut s) = store();
    let m = meta("p1", "2025-03-01T08:00:00Z");
    s.commit_packet(&m, b"first").unwrap();
    let err = s.commit_packet(&m, b"second").unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate(ref id) if id == "p1"),
        "{err:?}"
    );
    assert_eq!(fs::read(s.packets_dir().join("p1.jpk")).unwrap(), b"first");
    assert_eq!(s.list().unwrap().len(), 1);
}

#[test]
fn an_id_that_cannot_name_a_file_is_refused_before_writing() {
    let (_dir, mut s) = store();
    for bad in ["", "../escape", ".tmp-x", "a/b", "spaced id"] {
        let err = s
            .commit_packet(&meta(bad, "2025-03-01T08:00:00Z"), b"x")
            .unwrap_err();
        assert!(
            matches!(err, StoreError::BadPacketId(_)),
            "{bad:?}: {err:?}"
        );
    }
    assert!(names_in(s.packets_dir()).is_empty());
    assert!(s.list().unwrap().is_empty());
}

#[test]
fn a_failed_file_write_queues_nothing_and_leaves_no_temp_file() {
    let (dir, mut s) = store();
    fs::remove_dir(s.packets_dir()).unwrap();
    let err = s
        .commit_packet(&meta("p1", "2025-03-01T08:00:00Z"), b"x")
        .unwrap_err();
    match &err {
        StoreError::Write { path, source } => {
            assert_eq!(path, &dir.path().join("packets/p1.jpk"));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Write, got {other:?}"),
    }
    assert!(s.list().unwrap().is_empty());
    assert!(s.history("p1").unwrap().is_empty());
    assert!(!names_in(dir.path())
        .iter()
        .any(|n| n.starts_with(fsutil::TEMP_PREFIX)));
}

#[test]
fn every_allowed_transition_succeeds() {
    use State::*;
    let paths: [&[State]; 7] = [
        &[Uploading],
        &[Uploading, Sealed],
        &[Uploading, Acknowledged],
        &[Uploading, Acknowledged, Purged],
        &[Quarantined],
        &[Uploading, Quarantined],
        &[Uploading, Acknowledged, Quarantined],
    ];
    for path in paths {
        let (_dir, s) = store_with(path);
        assert_eq!(s.get("p").unwrap().unwrap().state, *path.last().unwrap());
    }
}

#[test]
fn every_forbidden_transition_is_refused_and_changes_nothing() {
    use State::*;
    let reach: [(State, &[State]); 5] = [
        (Sealed, &[]),
        (Uploading, &[Uploading]),
        (Acknowledged, &[Uploading, Acknowledged]),
        (Purged, &[Uploading, Acknowledged, Purged]),
        (Quarantined, &[Quarantined]),
    ];
    for (from, path) in reach {
        for to in State::ALL {
            if from.can_become(to) {
                continue;
            }
            let (_dir, mut s) = store_with(path);
            let before = s.history("p").unwrap();
            let err = s.transition("p", to, None).unwrap_err();
            match err {
                StoreError::BadTransition { id, from: f, to: t } => {
                    assert_eq!((id.as_str(), f, t), ("p", from, to));
                }
                other => panic!("{from} -> {to}: expected BadTransition, got {other:?}"),
            }
            assert_eq!(s.get("p").unwrap().unwrap().state, from);
            assert_eq!(s.history("p").unwrap(), before);
        }
    }
}

#[test]
fn a_transition_of_an_unknown_packet_is_not_found() {
    let (_dir, mut s) = store();
    let err = s.transition("ghost", State::Uploading, None).unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref id) if id == "ghost"),
        "{err:?}"
    );
}

#[test]
fn history_records_every_transition_with_its_time_and_note() {
    let before = Timestamp::now();
    let (_dir, mut s) = store_with(&[State::Uploading, State::Sealed, State::Uploading]);
    s.set_receipt("p", b"r-1").unwrap();
    s.transition("p", State::Acknowledged, Some("receipt r-1"))
        .unwrap();
    let after = Timestamp::now();
    let h = s.history("p").unwrap();
    let steps: Vec<_> = h.iter().map(|t| (t.from, t.to)).collect();
    use State::*;
    assert_eq!(
        steps,
        [
            (None, Sealed),
            (Some(Sealed), Uploading),
            (Some(Uploading), Sealed),
            (Some(Sealed), Uploading),
            (Some(Uploading), Acknowledged),
        ]
    );
    assert!(h.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(h.iter().all(|t| before <= t.at && t.at <= after));
    assert_eq!(h[4].note.as_deref(), Some("receipt r-1"));
    assert!(h.iter().all(|t| t.packet_id == "p"));
    assert_eq!(s.get("p").unwrap().unwrap().state_since, h[4].at);
}

#[test]
fn purge_removes_the_file_and_keeps_the_row() {
    let (_dir, s) = store_with(&[State::Uploading, State::Acknowledged, State::Purged]);
    assert!(names_in(s.packets_dir()).is_empty());
    let e = s.get("p").unwrap().unwrap();
    assert_eq!(e.state, State::Purged);
    assert!(!e.file_present);
}

#[test]
fn quarantine_moves_the_file_into_quarantine() {
    let (_dir, s) = store_with(&[State::Uploading, State::Quarantined]);
    assert!(names_in(s.packets_dir()).is_empty());
    assert_eq!(names_in(s.quarantine_dir()), ["p.jpk"]);
    let e = s.get("p").unwrap().unwrap();
    assert_eq!(s.path_of(&e), s.quarantine_dir().join("p.jpk"));
    assert_eq!(fs::read(s.path_of(&e)).unwrap(), b"bytes");
    assert!(e.file_present);
}

#[test]
fn reopening_after_drop_keeps_files_rows_and_history() {
    let (dir, s) = store_with(&[State::Uploading]);
    let list = s.list().unwrap();
    let history = s.history("p").unwrap();
    drop(s);
    let mut s = Store::open(dir.path()).unwrap();
    assert_eq!(s.list().unwrap(), list);
    assert_eq!(s.history("p").unwrap(), history);
    s.acknowledge("p", b"receipt", None).unwrap();
    let report = s.recover(&|_| Err("no orphan expected".into())).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn queue_entries_serialize_with_snake_case_states() {
    let (_dir, s) = store_with(&[]);
    let json = serde_json::to_value(s.get("p").unwrap().unwrap()).unwrap();
    assert_eq!(json["state"], "sealed");
    assert_eq!(json["file"], "p.jpk");
    assert_eq!(json["file_present"], true);
    assert_eq!(json["created_at"], "2025-03-01T08:00:00Z");
}

#[test]
fn the_queue_and_its_wal_are_0600_in_a_0700_home_even_in_an_open_directory() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let dir = tempfile::tempdir().unwrap();
    // A home made in an existing world-readable directory, by an older jemput: queue.sqlite 0644.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    drop(Store::open(dir.path()).unwrap());
    let db = dir.path().join(QUEUE_DB);
    fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();

    let mut s = Store::open(dir.path()).unwrap();
    s.commit_packet(&meta("p", "2025-03-01T08:00:00Z"), b"bytes")
        .unwrap();
    assert_eq!(mode(dir.path()), 0o700, "the home is tightened");
    for f in [QUEUE_DB, "queue.sqlite-wal", "queue.sqlite-shm"] {
        let p = dir.path().join(f);
        assert!(p.exists(), "{f} exists while the store is open");
        assert_eq!(mode(&p), 0o600, "{f}");
    }
    assert_eq!(
        s.get("p").unwrap().unwrap().state,
        State::Sealed,
        "nothing lost"
    );
}

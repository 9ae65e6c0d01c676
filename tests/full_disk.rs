//! A full disk while sealing: a real, small tmpfs in a private mount namespace (needs root and
//! `unshare`, as on CI; elsewhere it is skipped with a `SKIPPED` line on stderr, and fails under
//! `JEMPUT_REQUIRE_PEERS=1`). The seal fails with a clear message, the draft survives, the queue is
//! unchanged, no temp file is left; after space is freed the same draft seals.

mod common;

use std::process::Command;

use common::*;

#[test]
fn sealing_on_a_full_disk_keeps_the_draft_and_the_queue() {
    if !jemput_testkit::program("unshare", "apt-get install util-linux") {
        return;
    }
    let probe = Command::new("unshare").args(["-m", "true"]).output();
    if !matches!(probe, Ok(ref o) if o.status.success()) {
        jemput_testkit::missing(
            "root, for `unshare -m` (a private mount namespace with a small tmpfs)",
            "run the tests as root, as CI does",
        );
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (home, _) = kit_with_office(d.path());
    let mnt = d.path().join("small");
    let out = d.path().join("out");
    std::fs::create_dir_all(&mnt).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let script = r#"
set -u
mount -t tmpfs -o size=16m tmpfs "$MNT" || exit 90
cp -a "$KIT"/. "$MNT"/
id=$("$BIN" --home "$MNT" visit new --synthetic --category umum --nik 7408014512500001 --consent resident) || exit 91
echo "$id" > "$OUT/id"
# Fill the disk, leaving room for SQLite but not for a packet (about 180 KB with WSQ fingers).
avail=$(df --output=avail -k "$MNT" | tail -1)
dd if=/dev/zero of="$MNT/filler" bs=1k count=$((avail - 100)) status=none 2>/dev/null
"$BIN" --home "$MNT" seal "$id" > "$OUT/seal1.out" 2> "$OUT/seal1.err"; echo $? > "$OUT/seal1.rc"
"$BIN" --home "$MNT" queue --json > "$OUT/queue1.json" 2> "$OUT/queue1.err"
ls -A "$MNT/packets" > "$OUT/packets1.ls"
"$BIN" --home "$MNT" visit list > "$OUT/drafts1.ls"
rm "$MNT/filler"
"$BIN" --home "$MNT" seal "$id" > "$OUT/seal2.out" 2> "$OUT/seal2.err"; echo $? > "$OUT/seal2.rc"
"$BIN" --home "$MNT" queue --json > "$OUT/queue2.json"
exit 0
"#;
    let st = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .env("MNT", &mnt)
        .env("KIT", &home)
        .env("OUT", &out)
        .env("BIN", assert_cmd::cargo::cargo_bin("jemput"))
        .env("JEMPUT_PASSPHRASE", "rahasia-uji")
        .status()
        .unwrap();
    assert!(st.success(), "setup script failed: {st:?}");
    let read = |n: &str| std::fs::read_to_string(out.join(n)).unwrap();
    let id = read("id").trim().to_string();

    assert_ne!(
        read("seal1.rc").trim(),
        "0",
        "seal succeeded on a full disk"
    );
    let err = read("seal1.err");
    assert!(
        err.contains("disk is full") || err.contains("No space left"),
        "{err}"
    );
    assert!(err.contains("draft is kept"), "{err}");
    let q1: serde_json::Value = serde_json::from_str(&read("queue1.json")).unwrap();
    assert_eq!(q1.as_array().unwrap().len(), 0, "queue changed: {q1}");
    assert_eq!(read("packets1.ls").trim(), "", "packets/ holds leftovers");
    assert!(read("drafts1.ls").contains(&id), "the draft was lost");

    assert_eq!(read("seal2.rc").trim(), "0", "{}", read("seal2.err"));
    let q2: serde_json::Value = serde_json::from_str(&read("queue2.json")).unwrap();
    assert_eq!(q2.as_array().unwrap().len(), 1);
}

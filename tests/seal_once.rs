//! A visit is sealed exactly once, wherever a crash falls between storing its packet and removing
//! its draft.

mod common;

use age::secrecy::SecretString;
use common::*;
use jemput_core::packet::{self, SealParams};
use jemput_kit::home::KitHome;
use jemput_kit::seal;
use jemput_kit::visit::sample::{synthetic_visit, SampleOptions};

fn setup() -> (
    tempfile::TempDir,
    KitHome,
    age::x25519::Identity,
    uuid::Uuid,
) {
    let d = tempfile::tempdir().unwrap();
    let (home_dir, _) = kit_with_office(d.path());
    let home = KitHome::open(&home_dir).unwrap();
    let identity = home
        .unlock_drafts(&SecretString::from("rahasia-uji".to_string()))
        .unwrap();
    let drafts = home.drafts().unwrap();
    let (visit, files) = synthetic_visit(3, &SampleOptions::default());
    for f in &files {
        drafts.save_file(visit.id, &f.name, &f.bytes).unwrap();
    }
    drafts.save_visit(&visit).unwrap();
    (d, home, identity, visit.id)
}

/// Seals the draft the way `seal_draft` does, stopping after the packet file is in place (before
/// the queue row): what a kill at that instant leaves.
fn seal_until_file(home: &KitHome, identity: &age::x25519::Identity, id: uuid::Uuid) -> String {
    let drafts = home.drafts().unwrap();
    let (visit, files) = drafts.load(id, identity).unwrap();
    let key = home.kit_key().unwrap();
    let sealed = packet::seal(
        &visit,
        &files,
        &SealParams {
            kit_id: &home.config.kit_id,
            kit_key: &key,
            recipients: &home.config.office_recipients,
            max_packet_bytes: 1 << 30,
        },
    )
    .unwrap();
    drafts.mark_sealing(id, &sealed.header.packet_id).unwrap();
    let path = home.root.join("packets").join(sealed.file_name());
    jemput_core::fsutil::write_atomic(&path, &sealed.bytes, 0o600).unwrap();
    sealed.header.packet_id
}

#[test]
fn a_kill_after_the_file_but_before_the_row_adopts_and_does_not_reseal() {
    let (_d, home, identity, id) = setup();
    let packet_id = seal_until_file(&home, &identity, id);
    // Restart: recovery adopts the file; sealing the leftover draft finds it instead of sealing again.
    let (mut store, report) = seal::open_store(&home).unwrap();
    assert_eq!(report.adopted, std::slice::from_ref(&packet_id));
    let drafts = home.drafts().unwrap();
    let o = seal::seal_draft(&home, &mut store, &drafts, &identity, id).unwrap();
    assert_eq!(o.packet_id, packet_id);
    assert_eq!(store.list().unwrap().len(), 1);
    assert!(
        drafts.list().unwrap().is_empty(),
        "the draft was not removed"
    );
}

#[test]
fn a_kill_after_the_row_but_before_the_draft_removal_does_not_reseal() {
    let (_d, home, identity, id) = setup();
    let (mut store, _) = seal::open_store(&home).unwrap();
    let drafts = home.drafts().unwrap();
    let first = seal::seal_draft(&home, &mut store, &drafts, &identity, id).unwrap();
    // Put the draft back as a kill before its removal would have left it.
    let (visit, files) = synthetic_visit(3, &SampleOptions::default());
    let mut visit = visit;
    visit.id = id;
    for f in &files {
        drafts.save_file(id, &f.name, &f.bytes).unwrap();
    }
    drafts.save_visit(&visit).unwrap();
    let again = seal::seal_draft(&home, &mut store, &drafts, &identity, id).unwrap();
    assert_eq!(again.packet_id, first.packet_id);
    assert_eq!(store.list().unwrap().len(), 1);
    assert!(drafts.list().unwrap().is_empty());
}

#[test]
fn a_marker_for_a_packet_that_never_landed_seals_normally() {
    let (_d, home, identity, id) = setup();
    let drafts = home.drafts().unwrap();
    drafts
        .mark_sealing(id, "00000000-0000-4000-8000-000000000000")
        .unwrap();
    let (mut store, _) = seal::open_store(&home).unwrap();
    let o = seal::seal_draft(&home, &mut store, &drafts, &identity, id).unwrap();
    assert_ne!(o.packet_id, "00000000-0000-4000-8000-000000000000");
    assert!(o.path.is_file());
    assert_eq!(store.list().unwrap().len(), 1);
}

#[test]
fn sealing_a_sealed_visit_again_returns_its_packet() {
    let (_d, home, identity, id) = setup();
    let (mut store, _) = seal::open_store(&home).unwrap();
    let drafts = home.drafts().unwrap();
    let first = seal::seal_draft(&home, &mut store, &drafts, &identity, id).unwrap();
    let again = seal::seal_draft(&home, &mut store, &drafts, &identity, id).unwrap();
    assert_eq!(again.packet_id, first.packet_id);
    assert_eq!(store.list().unwrap().len(), 1);
}

/// Two seals of one draft at the same instant (a button pressed twice, two `jemput seal`
/// processes: each opens the queue itself) make one packet, and both say which.
#[test]
fn two_seals_of_one_draft_at_once_make_one_packet() {
    for round in 0..4 {
        let (_d, home, identity, id) = setup();
        let start = std::sync::Barrier::new(2);
        let outcomes: Vec<_> = std::thread::scope(|s| {
            let seal_one = || {
                let (mut store, _) = seal::open_store(&home).unwrap();
                let drafts = home.drafts().unwrap();
                start.wait();
                seal::seal_draft(&home, &mut store, &drafts, &identity, id)
            };
            let a = s.spawn(seal_one);
            let b = s.spawn(seal_one);
            [a.join().unwrap(), b.join().unwrap()]
        })
        .into_iter()
        .map(|o| o.unwrap_or_else(|e| panic!("round {round}: a seal failed: {e}")))
        .collect();
        assert_eq!(
            outcomes[0].packet_id, outcomes[1].packet_id,
            "round {round}"
        );
        let (store, _) = seal::open_store(&home).unwrap();
        assert_eq!(
            store.list().unwrap().len(),
            1,
            "round {round}: packets in the queue"
        );
        assert!(home.drafts().unwrap().list().unwrap().is_empty());
    }
}

//! Purging: the file of a packet the hub signed for is removed once it has been acknowledged for
//! the retention period (a kit setting, one day by default), never before and never without a
//! stored receipt. The row and its history stay.

use jiff::{SignedDuration, Timestamp};

use crate::store::{State, Store, StoreError};

/// Purges every acknowledged packet whose acknowledgement is at least `retention` older than
/// `now`; returns their ids, oldest first.
pub fn purge_expired(
    store: &mut Store,
    retention: SignedDuration,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let mut purged = Vec::new();
    for entry in store.list()? {
        if entry.state != State::Acknowledged || !entry.receipt {
            continue;
        }
        let held = now.duration_since(entry.state_since);
        if held < retention {
            continue;
        }
        let note = format!(
            "acknowledged {}h ago; retention is {}h",
            held.as_hours(),
            retention.as_hours()
        );
        store.transition(&entry.packet_id, State::Purged, Some(&note))?;
        purged.push(entry.packet_id);
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PacketMeta;

    fn store_with(ids: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        for id in ids {
            let meta = PacketMeta {
                packet_id: (*id).into(),
                kit_id: "kit-1".into(),
                size: 4,
                payload_sha256: "00".repeat(32),
                created_at: "2025-03-01T08:00:00Z".parse().unwrap(),
                visit_id: None,
            };
            s.commit_packet(&meta, b"data").unwrap();
        }
        (dir, s)
    }

    #[test]
    fn only_packets_acknowledged_for_the_whole_retention_period_are_purged() {
        let (_dir, mut s) = store_with(&["acked", "uploading", "sealed"]);
        s.transition("acked", State::Uploading, None).unwrap();
        s.acknowledge("acked", b"receipt", None).unwrap();
        s.transition("uploading", State::Uploading, None).unwrap();
        s.set_upload("uploading", "http://tus/files/1", 4).unwrap();
        let acked_at = s.get("acked").unwrap().unwrap().state_since;
        let day = SignedDuration::from_hours(24);

        let early = acked_at + SignedDuration::from_hours(23);
        assert!(purge_expired(&mut s, day, early).unwrap().is_empty());
        assert!(s.path_of(&s.get("acked").unwrap().unwrap()).is_file());

        let due = acked_at + day;
        assert_eq!(purge_expired(&mut s, day, due).unwrap(), ["acked"]);
        let e = s.get("acked").unwrap().unwrap();
        assert_eq!(e.state, State::Purged);
        assert!(!e.file_present);
        assert!(e.receipt, "the receipt outlives the file");

        // Uploaded without a receipt, or never uploaded: kept however old.
        let much_later = acked_at + SignedDuration::from_hours(24 * 365);
        assert!(purge_expired(&mut s, day, much_later).unwrap().is_empty());
        for id in ["uploading", "sealed"] {
            assert!(s.get(id).unwrap().unwrap().file_present, "{id}");
        }
    }

    #[test]
    fn a_zero_retention_purges_at_once_but_still_needs_the_receipt() {
        let (_dir, mut s) = store_with(&["p"]);
        s.transition("p", State::Uploading, None).unwrap();
        assert!(
            purge_expired(&mut s, SignedDuration::ZERO, Timestamp::now())
                .unwrap()
                .is_empty()
        );
        s.acknowledge("p", b"receipt", None).unwrap();
        assert_eq!(
            purge_expired(&mut s, SignedDuration::ZERO, Timestamp::now()).unwrap(),
            ["p"]
        );
    }
}

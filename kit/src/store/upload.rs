//! Where a packet's resumable upload stands, and the hub's receipt for it.
//!
//! The upload URL and the last offset the server confirmed are kept so a kit can resume after a
//! restart; on resume the server's own offset (tus `HEAD`) is the truth, never this record
//! (`docs/durability.md`). The receipt is stored as the exact bytes the hub signed for, so it
//! can be verified again at any time. A packet becomes acknowledged, and later purged, only with a
//! receipt stored.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{State, Store, StoreError};

/// A started upload: the server's upload URL and the last offset it confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// The tus upload URL (absolute).
    pub url: String,
    /// Bytes the server confirmed, as of the last `PATCH` or `HEAD`.
    pub offset: u64,
}

impl Store {
    /// Records the upload URL of `packet_id` and the offset the server last confirmed.
    ///
    /// Committed (and synced) before it returns, so after a crash the kit asks this URL again.
    pub fn set_upload(
        &mut self,
        packet_id: &str,
        url: &str,
        offset: u64,
    ) -> Result<(), StoreError> {
        let offset = i64::try_from(offset).map_err(|_| StoreError::Corrupt {
            packet_id: packet_id.to_owned(),
            column: "upload_offset",
            value: offset.to_string(),
        })?;
        self.update_one(
            packet_id,
            "UPDATE packets SET upload_url = ?2, upload_offset = ?3 WHERE packet_id = ?1",
            params![packet_id, url, offset],
        )
    }

    /// Forgets the upload of `packet_id` (the server lost it, or it belongs to another endpoint):
    /// the next attempt creates a new one.
    pub fn clear_upload(&mut self, packet_id: &str) -> Result<(), StoreError> {
        self.update_one(
            packet_id,
            "UPDATE packets SET upload_url = NULL, upload_offset = NULL WHERE packet_id = ?1",
            params![packet_id],
        )
    }

    /// The recorded upload of `packet_id`, if one was started. Unknown packets are
    /// [`StoreError::NotFound`].
    pub fn upload_of(&self, packet_id: &str) -> Result<Option<UploadRecord>, StoreError> {
        let row: Option<(Option<String>, Option<u64>)> = self
            .conn
            .prepare_cached("SELECT upload_url, upload_offset FROM packets WHERE packet_id = ?1")?
            .query_row([packet_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None => Err(StoreError::NotFound(packet_id.to_owned())),
            Some((Some(url), offset)) => Ok(Some(UploadRecord {
                url,
                offset: offset.unwrap_or(0),
            })),
            Some((None, _)) => Ok(None),
        }
    }

    /// Stores the receipt of `packet_id` (the bytes as received; the caller has verified them).
    pub fn set_receipt(&mut self, packet_id: &str, receipt: &[u8]) -> Result<(), StoreError> {
        self.update_one(
            packet_id,
            "UPDATE packets SET receipt = ?2 WHERE packet_id = ?1",
            params![packet_id, receipt],
        )
    }

    /// The stored receipt of `packet_id`, if any. Unknown packets are [`StoreError::NotFound`].
    pub fn receipt_of(&self, packet_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<Option<Vec<u8>>> = self
            .conn
            .prepare_cached("SELECT receipt FROM packets WHERE packet_id = ?1")?
            .query_row([packet_id], |r| r.get(0))
            .optional()?;
        row.ok_or_else(|| StoreError::NotFound(packet_id.to_owned()))
    }

    /// Stores the receipt and moves `packet_id` from uploading to acknowledged in one transaction,
    /// so a crash never leaves an acknowledged packet without its receipt.
    pub fn acknowledge(
        &mut self,
        packet_id: &str,
        receipt: &[u8],
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        let db = self.db.clone();
        let db_err = |e| StoreError::sqlite(&db, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db_err)?;
        let row = super::queue::one(&tx, packet_id)?
            .ok_or_else(|| StoreError::NotFound(packet_id.to_owned()))?;
        if !row.state.can_become(State::Acknowledged) {
            return Err(StoreError::BadTransition {
                id: packet_id.to_owned(),
                from: row.state,
                to: State::Acknowledged,
            });
        }
        tx.execute(
            "UPDATE packets SET receipt = ?2 WHERE packet_id = ?1",
            params![packet_id, receipt],
        )
        .map_err(db_err)?;
        super::queue::set_state(
            &tx,
            packet_id,
            row.state,
            State::Acknowledged,
            jiff::Timestamp::now(),
            note,
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        tracing::info!(packet_id, "packet acknowledged; receipt stored");
        Ok(())
    }

    /// Runs one UPDATE of the row of `packet_id`; no such row is [`StoreError::NotFound`].
    fn update_one(
        &mut self,
        packet_id: &str,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params))
            .map_err(|e| StoreError::sqlite(&self.db, e))?;
        if changed == 0 {
            return Err(StoreError::NotFound(packet_id.to_owned()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::meta;
    use super::*;

    fn store_with_packet() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.commit_packet(&meta("p", "2025-03-01T08:00:00Z"), b"bytes")
            .unwrap();
        (dir, s)
    }

    #[test]
    fn an_upload_url_and_offset_survive_a_reopen_and_can_be_cleared() {
        let (dir, mut s) = store_with_packet();
        assert_eq!(s.upload_of("p").unwrap(), None);
        assert_eq!(s.get("p").unwrap().unwrap().upload_offset, None);
        s.set_upload("p", "http://hub/v1/uploads/abc", 0).unwrap();
        s.set_upload("p", "http://hub/v1/uploads/abc", 65536)
            .unwrap();
        drop(s);
        let mut s = Store::open(dir.path()).unwrap();
        let want = UploadRecord {
            url: "http://hub/v1/uploads/abc".into(),
            offset: 65536,
        };
        assert_eq!(s.upload_of("p").unwrap(), Some(want));
        assert_eq!(s.get("p").unwrap().unwrap().upload_offset, Some(65536));
        s.clear_upload("p").unwrap();
        assert_eq!(s.upload_of("p").unwrap(), None);
    }

    #[test]
    fn upload_and_receipt_calls_on_an_unknown_packet_are_not_found() {
        let (_dir, mut s) = store_with_packet();
        let nf =
            |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound(id)) if id == "x");
        assert!(nf(s.set_upload("x", "u", 1)));
        assert!(nf(s.clear_upload("x")));
        assert!(nf(s.set_receipt("x", b"r")));
        assert!(nf(s.acknowledge("x", b"r", None)));
        assert!(matches!(s.upload_of("x"), Err(StoreError::NotFound(_))));
        assert!(matches!(s.receipt_of("x"), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn acknowledge_stores_the_receipt_and_moves_the_packet_in_one_step() {
        let (_dir, mut s) = store_with_packet();
        let err = s.acknowledge("p", b"{}", None).unwrap_err();
        assert!(matches!(err, StoreError::BadTransition { .. }), "{err:?}");
        assert_eq!(
            s.receipt_of("p").unwrap(),
            None,
            "a refused ack stores nothing"
        );
        s.transition("p", State::Uploading, None).unwrap();
        s.acknowledge("p", b"{\"body\":1}", Some("receipt from hub-1"))
            .unwrap();
        let e = s.get("p").unwrap().unwrap();
        assert_eq!(e.state, State::Acknowledged);
        assert!(e.receipt);
        assert_eq!(s.receipt_of("p").unwrap().unwrap(), b"{\"body\":1}");
        let last = s.history("p").unwrap().pop().unwrap();
        assert_eq!(last.note.as_deref(), Some("receipt from hub-1"));
    }

    #[test]
    fn a_packet_without_a_receipt_can_be_neither_acknowledged_nor_purged() {
        let (_dir, mut s) = store_with_packet();
        s.transition("p", State::Uploading, None).unwrap();
        let err = s.transition("p", State::Acknowledged, None).unwrap_err();
        assert!(
            matches!(err, StoreError::NoReceipt { ref id, to: State::Acknowledged } if id == "p"),
            "{err:?}"
        );
        assert_eq!(s.get("p").unwrap().unwrap().state, State::Uploading);
        s.set_receipt("p", b"r").unwrap();
        s.transition("p", State::Acknowledged, None).unwrap();
    }

    #[test]
    fn an_uploaded_packet_without_a_receipt_is_flagged_in_the_queue() {
        let (_dir, mut s) = store_with_packet();
        s.transition("p", State::Uploading, None).unwrap();
        s.set_upload("p", "http://tus/files/1", 3).unwrap();
        assert!(!s.get("p").unwrap().unwrap().uploaded_without_receipt);
        s.set_upload("p", "http://tus/files/1", 5).unwrap();
        let e = s.get("p").unwrap().unwrap();
        assert!(e.uploaded_without_receipt && !e.receipt);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["uploaded_without_receipt"], true);
        assert_eq!(json["upload_offset"], 5);
    }
}

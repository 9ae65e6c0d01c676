//! What the hub records of an upload in progress; both backends (`uploads` on SQLite,
//! `pg::uploads` on PostgreSQL) read and write these.

use jiff::Timestamp;

use crate::HubError;

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    /// Receiving bytes.
    Open,
    /// Complete, verified and stored; a receipt exists.
    Done,
    /// Ended by the kit (`DELETE`), or expired.
    Terminated,
    /// Complete but refused at verification (`422`); nothing stored.
    Failed,
}

impl UploadState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UploadState::Open => "open",
            UploadState::Done => "done",
            UploadState::Terminated => "terminated",
            UploadState::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: String) -> Result<UploadState, HubError> {
        Ok(match s.as_str() {
            "open" => UploadState::Open,
            "done" => UploadState::Done,
            "terminated" => UploadState::Terminated,
            "failed" => UploadState::Failed,
            _ => {
                return Err(HubError::Corrupt {
                    what: "upload state",
                    value: s,
                })
            }
        })
    }
}

/// One upload as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// 32 lowercase hex digits (128 random bits).
    pub upload_id: String,
    /// The kit that created it; only that kit may touch it.
    pub kit_id: String,
    /// The packet being uploaded (from the header given at creation).
    pub packet_id: String,
    /// The `Upload-Metadata` value as received.
    pub metadata: String,
    /// The packet prelude given at creation (magic, header length, header, outer signature).
    pub prelude: Vec<u8>,
    /// `Upload-Length`.
    pub length: u64,
    /// Bytes received. With the embedded backend not necessarily durable: after a power cut the
    /// `.part` file may hold fewer, and [`Uploads::reconcile`] brings this down to them.
    pub offset: u64,
    pub state: UploadState,
    pub created_at: Timestamp,
    /// Last change (creation or bytes received); expiry counts from here.
    pub updated_at: Timestamp,
    /// Why it failed, when it did.
    pub note: Option<String>,
}

/// What a new upload is created with.
#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    pub kit_id: &'a str,
    pub packet_id: &'a str,
    pub metadata: &'a str,
    pub prelude: &'a [u8],
    pub length: u64,
}

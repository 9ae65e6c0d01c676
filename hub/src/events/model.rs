//! What the events outbox holds and says: the kinds of state change, the event a webhook
//! receives, and where its delivery stands. Both backends' outboxes (`events` on SQLite,
//! `pg::events` on PostgreSQL) read and write these.

use jemput_core::visit::Category;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::HubError;

/// A packet's state change, as posted to webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A kit started uploading the packet (its header verified at creation).
    Received,
    /// Every byte arrived and verified; the hub stored the packet and signed a receipt.
    Verified,
    /// The complete upload failed verification; nothing was stored.
    Rejected,
    /// The hub decrypted the packet with the office identity; inner signature and file hashes hold.
    Opened,
    /// Decrypting or the inner checks failed (`reason` says which).
    OpenFailed,
}

impl EventKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventKind::Received => "received",
            EventKind::Verified => "verified",
            EventKind::Rejected => "rejected",
            EventKind::Opened => "opened",
            EventKind::OpenFailed => "open-failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<EventKind, HubError> {
        Ok(match s {
            "received" => EventKind::Received,
            "verified" => EventKind::Verified,
            "rejected" => EventKind::Rejected,
            "opened" => EventKind::Opened,
            "open-failed" => EventKind::OpenFailed,
            _ => {
                return Err(HubError::Corrupt {
                    what: "event kind",
                    value: s.into(),
                })
            }
        })
    }
}

/// The JSON body of a webhook POST (`schemas/hub-event.schema.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusEvent {
    /// Increasing per hub; a receiver dedupes and orders by it (retries may arrive late).
    pub event_id: i64,
    /// What happened.
    pub event: EventKind,
    /// The hub that saw it.
    pub hub_id: String,
    pub packet_id: String,
    pub kit_id: String,
    /// The packet file's size in bytes, when known.
    pub size: Option<u64>,
    /// Why, for `rejected` and `open-failed`.
    pub reason: Option<String>,
    /// When the state changed.
    pub at: Timestamp,
    /// For `opened`: the visit's category and, when it came from an entry of the hub's worklist,
    /// where that entry is (absent from other events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<OpenedVisit>,
}

/// What an `opened` event says of the visit: its category, from the manifest the kit signed
/// inside the encrypted payload, and the worklist entry it was made for, as the hub's own
/// worklist has it (never from the packet's cleartext header, which anyone on the way can read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenedVisit {
    /// The visit category (`lansia`, `sakit`, …).
    pub category: Category,
    /// The worklist entry the visit was for, when the resident is in the hub's worklist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worklist: Option<WorklistPlace>,
}

/// A worklist entry as an `opened` event carries it: enough for a neighbourhood (RT) to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorklistPlace {
    /// The entry's id in the worklist.
    pub entry_id: String,
    /// Village (desa or kelurahan).
    pub desa: String,
    /// `RT/RW`, e.g. `003/005`, when the worklist has it.
    pub rt_rw: Option<String>,
    /// The resident's name: only to webhooks with `include_name_and_nik`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The resident's NIK, when the worklist has it: only to webhooks with
    /// `include_name_and_nik`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nik: Option<String>,
}

/// Where delivering one event to one webhook stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not tried yet, or to be retried.
    Pending,
    /// The webhook answered 2xx.
    Delivered,
    /// Older than `event_max_age_secs` before it was delivered; never tried again.
    GaveUp,
}

impl DeliveryState {
    pub(crate) fn parse(s: Option<String>) -> Result<DeliveryState, HubError> {
        Ok(match s.as_deref() {
            None | Some("pending") => DeliveryState::Pending,
            Some("delivered") => DeliveryState::Delivered,
            Some("gave_up") => DeliveryState::GaveUp,
            Some(other) => {
                return Err(HubError::Corrupt {
                    what: "delivery state",
                    value: other.into(),
                })
            }
        })
    }
}

/// Where one event stands for one webhook (`jemput hub events --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Delivery {
    pub event: StatusEvent,
    pub url: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
}

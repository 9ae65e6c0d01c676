//! Opening verified packets with the office identity: decrypt, check the inner signature and every
//! file's SHA-256 (the same code as `jemput open`), record the result in `openings`, with its
//! status event in the same transaction. Nothing is extracted.
//!
//! A hub with the office identity opens each packet at completion, before it signs the receipt
//! (`http::complete`), and records the opening right after the receipt ([`record_opened`]). A
//! background task works through the `pending` rows left (a crash between the two, packets stored
//! while the hub had no identity), oldest first. Without an office identity in `hub.toml` the task
//! records `not_opened`; a hub started later with an identity opens those too.
//!
//! The `opened` event names the visit's category and, when the visit was for an entry of the
//! hub's worklist, that entry's id, desa and RT/RW as the worklist has them ([`opened_visit`]).

use std::sync::Arc;
use std::time::Duration;

use crate::CachedSql;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};
use schemars::JsonSchema;
use serde::Serialize;

use crate::events::{self, EventKind, OpenedVisit, WorklistPlace};
use crate::{lock, Backend, Hub, HubError};
use jemput_core::packet::{self, Header};
use jemput_core::visit::{ResidentRef, Visit};
use jemput_core::worklist::WorklistEntry;

/// How often the opener looks for pending packets when nothing wakes it.
const POLL: Duration = Duration::from_secs(2);

/// What became of opening a held packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenState {
    /// Waiting for the opener.
    Pending,
    /// Decrypted; inner signature and file hashes verified.
    Opened,
    /// Decrypting or an inner check failed.
    OpenFailed,
    /// The hub has no office identity configured.
    NotOpened,
}

impl OpenState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OpenState::Pending => "pending",
            OpenState::Opened => "opened",
            OpenState::OpenFailed => "open_failed",
            OpenState::NotOpened => "not_opened",
        }
    }

    /// The status event recording this state makes, if any.
    fn event_kind(self) -> Option<EventKind> {
        match self {
            OpenState::Opened => Some(EventKind::Opened),
            OpenState::OpenFailed => Some(EventKind::OpenFailed),
            OpenState::Pending | OpenState::NotOpened => None,
        }
    }

    pub(crate) fn parse(s: &str) -> Result<OpenState, HubError> {
        Ok(match s {
            "pending" => OpenState::Pending,
            "opened" => OpenState::Opened,
            "open_failed" => OpenState::OpenFailed,
            "not_opened" => OpenState::NotOpened,
            _ => {
                return Err(HubError::Corrupt {
                    what: "opening state",
                    value: s.into(),
                })
            }
        })
    }
}

/// A packet opened at completion, before its receipt: what its opening row and `opened` event
/// will say.
#[derive(Debug)]
pub(crate) struct Opened {
    files: usize,
    visit: OpenedVisit,
}

/// What the hub records of a packet it opened.
pub(crate) fn opened(hub: &Hub, contents: &packet::Verified) -> Opened {
    Opened {
        files: contents.files.len(),
        visit: opened_visit(hub, &contents.manifest.visit),
    }
}

/// Records a packet opened at completion (its receipt is now stored), unless its opening was
/// recorded already.
pub(crate) fn record_opened(
    hub: &Hub,
    header: &Header,
    size: u64,
    opened: &Opened,
) -> Result<(), HubError> {
    record(
        hub,
        &header.packet_id,
        &header.kit_id,
        size,
        Outcome::Opened {
            files: opened.files,
            visit: &opened.visit,
        },
    )
}

/// What became of one opening.
enum Outcome<'a> {
    Opened {
        files: usize,
        visit: &'a OpenedVisit,
    },
    Failed(&'a str),
    NotOpened,
}

impl<'a> Outcome<'a> {
    /// The opening row's state, reason and file count, and the event's visit detail.
    fn parts(
        self,
    ) -> (
        OpenState,
        Option<&'a str>,
        Option<usize>,
        Option<&'a OpenedVisit>,
    ) {
        match self {
            Outcome::Opened { files, visit } => (OpenState::Opened, None, Some(files), Some(visit)),
            Outcome::Failed(why) => (OpenState::OpenFailed, Some(why), None, None),
            Outcome::NotOpened => (OpenState::NotOpened, None, None, None),
        }
    }
}

/// Records the outcome of opening `packet_id`, with its event when there is one. Only a `pending`
/// row changes: an opening is recorded once, with one event, whoever recorded it first.
fn record(
    hub: &Hub,
    packet_id: &str,
    kit_id: &str,
    size: u64,
    outcome: Outcome<'_>,
) -> Result<(), HubError> {
    let db = match &hub.state {
        Backend::Embedded(db) => db,
        Backend::Postgres(pool) => {
            let mut c = crate::pg::conn(pool)?;
            let mut tx = c.transaction()?;
            record_in(&mut tx, packet_id, kit_id, size, outcome)?;
            tx.commit()?;
            return Ok(());
        }
    };
    let (state, reason, files, visit) = outcome.parts();
    let mut conn = lock(db);
    // Without an fsync: a power cut that takes this commit leaves the opening `pending` (its row
    // was committed, synced, with the receipt), and the opener opens the packet again and
    // records it then, event included: nothing is lost, an opening may be done twice.
    crate::storage::unsynced(&mut conn, |conn| -> Result<(), HubError> {
        let tx = conn.transaction()?;
        let changed = tx.exec(
            "UPDATE openings SET state = ?2, reason = ?3, files = ?4, updated_at = ?5
             WHERE packet_id = ?1 AND state = 'pending'",
            params![
                packet_id,
                state.as_str(),
                reason,
                files.map(|f| f as i64),
                crate::ts_text(Timestamp::now())
            ],
        )?;
        if let (Some(kind), 1) = (state.event_kind(), changed) {
            events::enqueue_with_visit(&tx, kind, packet_id, kit_id, Some(size), reason, visit)?;
        }
        tx.commit()?;
        Ok(())
    })?;
    Ok(())
}

/// [`record`] in a PostgreSQL transaction, with the same rule: only a `pending` row changes.
fn record_in(
    tx: &mut postgres::Transaction<'_>,
    packet_id: &str,
    kit_id: &str,
    size: u64,
    outcome: Outcome<'_>,
) -> Result<(), HubError> {
    let (state, reason, files, visit) = outcome.parts();
    let changed = tx.execute(
        "UPDATE openings SET state = $2, reason = $3, files = $4, updated_at = $5
         WHERE packet_id = $1 AND state = 'pending'",
        &[
            &packet_id,
            &state.as_str(),
            &reason,
            &files.map(|f| f as i64),
            &crate::ts_text(Timestamp::now()),
        ],
    )?;
    if let (Some(kind), 1) = (state.event_kind(), changed) {
        crate::pg::events::enqueue(tx, kind, packet_id, kit_id, Some(size), reason, visit)?;
    }
    Ok(())
}

/// What an `opened` event says of `visit`: its category, and the worklist entry it was for as
/// the hub's worklist has it (the name and NIK only when a webhook asks for them). A worklist
/// that cannot be read is logged and the event goes without the entry.
pub(crate) fn opened_visit(hub: &Hub, visit: &Visit) -> OpenedVisit {
    let with_resident = hub.config().webhooks.iter().any(|w| w.include_name_and_nik);
    let worklist = match worklist_index(hub) {
        Ok(index) => index
            .find(&visit.resident.reference)
            .map(|e| WorklistPlace {
                entry_id: e.id.clone(),
                desa: e.desa.clone(),
                rt_rw: e.rt_rw.clone(),
                name: with_resident.then(|| e.name.clone()),
                nik: if with_resident { e.nik.clone() } else { None },
            }),
        Err(e) => {
            tracing::warn!("cannot read the worklist for an opened packet's event: {e}");
            None
        }
    };
    OpenedVisit {
        category: visit.category,
        worklist,
    }
}

/// The hub's worklist indexed by entry id and by NIK.
#[derive(Debug, Default)]
struct WorklistIndex {
    entries: Vec<WorklistEntry>,
    by_id: std::collections::HashMap<String, usize>,
    by_nik: std::collections::HashMap<String, usize>,
}

impl WorklistIndex {
    fn new(entries: Vec<WorklistEntry>) -> WorklistIndex {
        let mut index = WorklistIndex::default();
        for (i, e) in entries.iter().enumerate() {
            index.by_id.entry(e.id.clone()).or_insert(i);
            if let Some(n) = &e.nik {
                index.by_nik.entry(n.clone()).or_insert(i);
            }
        }
        index.entries = entries;
        index
    }

    /// The entry a visit's resident reference names: a worklist id, or a NIK (a kit records the
    /// entry's NIK, not its id, when the worklist gives one).
    fn find(&self, reference: &ResidentRef) -> Option<&WorklistEntry> {
        let i = match reference {
            ResidentRef::Worklist(id) => self.by_id.get(id),
            ResidentRef::Nik(nik) => self.by_nik.get(nik).or_else(|| self.by_id.get(nik)),
        }?;
        self.entries.get(*i)
    }
}

/// Where the worklist was read from and what tells a replaced one from the one read before.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WorklistStamp {
    /// `worklist.json` in the data directory (an import writes a new file and renames it into
    /// place); `None` when there is none.
    File(std::path::PathBuf, Option<FileStamp>),
    /// The `documents` row of a hub on PostgreSQL (named by the hub's data directory): its
    /// `updated_at`; `None` when there is none.
    Shared(std::path::PathBuf, Option<String>),
}

/// What tells a replaced worklist file from the one read before.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    ino: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

static WORKLIST_CACHE: std::sync::Mutex<Option<(WorklistStamp, Arc<WorklistIndex>)>> =
    std::sync::Mutex::new(None);

/// The hub's worklist, read again only when it changed (a worklist may hold 100,000 entries;
/// parsing it for every packet would cost more than opening the packet).
fn worklist_index(hub: &Hub) -> Result<Arc<WorklistIndex>, HubError> {
    use std::os::unix::fs::MetadataExt;
    let stamp = match &hub.state {
        Backend::Embedded(_) => {
            let path = hub.data().join(crate::kit_sync::WORKLIST_FILE);
            let file = match std::fs::metadata(&path) {
                Ok(m) => Some(FileStamp {
                    ino: m.ino(),
                    len: m.len(),
                    modified: m.modified().ok(),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(HubError::io("read", &path)(e)),
            };
            WorklistStamp::File(path, file)
        }
        Backend::Postgres(pool) => WorklistStamp::Shared(
            hub.data().to_path_buf(),
            crate::pg::kit_sync::updated_at(pool, crate::pg::kit_sync::WORKLIST)?,
        ),
    };
    let mut cache = WORKLIST_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((s, index)) = cache.as_ref() {
        if *s == stamp {
            return Ok(index.clone());
        }
    }
    let pool = match &hub.state {
        Backend::Postgres(pool) => Some(pool),
        Backend::Embedded(_) => None,
    };
    let entries = crate::kit_sync::worklist_of(hub.data(), pool)?
        .map(|w| w.entries)
        .unwrap_or_default();
    let index = Arc::new(WorklistIndex::new(entries));
    *cache = Some((stamp, index.clone()));
    Ok(index)
}

/// The oldest pending packet: (packet id, kit id, size).
fn next_pending(hub: &Hub) -> Result<Option<(String, String, u64)>, HubError> {
    let db = match &hub.state {
        Backend::Embedded(db) => db,
        // Each process's opener takes the oldest pending packet no other opener holds: the row
        // stays locked while it is opened (`open_next_shared`).
        Backend::Postgres(_) => unreachable!("the scale-out opener uses open_next_shared"),
    };
    Ok(lock(db)
        .row(
            "SELECT o.packet_id, r.kit_id, r.size FROM openings o
             JOIN receipts r ON r.packet_id = o.packet_id
             WHERE o.state = 'pending' ORDER BY o.updated_at, o.packet_id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)),
        )
        .optional()?)
}

/// Opens one pending packet (or records that it cannot be); `false` when none is pending.
pub fn open_next(hub: &Hub) -> Result<bool, HubError> {
    if let Backend::Postgres(pool) = &hub.state {
        return open_next_shared(hub, pool);
    }
    let Some((packet_id, kit_id, size)) = next_pending(hub)? else {
        return Ok(false);
    };
    open_one(hub, &packet_id, &kit_id, &mut |outcome| {
        record(hub, &packet_id, &kit_id, size, outcome)
    })?;
    Ok(true)
}

/// [`open_next`] with several hub processes on one PostgreSQL database: the pending row is
/// locked (`FOR UPDATE SKIP LOCKED`) from choosing it until its outcome is committed, so two
/// processes never open the same packet, and a process that dies releases it for another.
fn open_next_shared(hub: &Hub, pool: &crate::pg::Pool) -> Result<bool, HubError> {
    let mut c = crate::pg::conn(pool)?;
    let mut tx = c.transaction()?;
    let Some(row) = tx.query_opt(
        "SELECT o.packet_id, r.kit_id, r.size FROM openings o
         JOIN receipts r ON r.packet_id = o.packet_id
         WHERE o.state = 'pending' ORDER BY o.updated_at, o.packet_id LIMIT 1
         FOR UPDATE OF o SKIP LOCKED",
        &[],
    )?
    else {
        return Ok(false);
    };
    let (packet_id, kit_id, size): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
    // The outcome is recorded in the transaction that holds the row: it commits and unlocks
    // together.
    open_one(hub, &packet_id, &kit_id, &mut |outcome| {
        record_in(&mut tx, &packet_id, &kit_id, crate::pg::u(size), outcome)
    })?;
    tx.commit()?;
    Ok(true)
}

/// What recording an opening's outcome takes.
type Recorder<'a> = dyn FnMut(Outcome<'_>) -> Result<(), HubError> + 'a;

/// Opens one packet and hands the outcome to `rec`.
fn open_one(
    hub: &Hub,
    packet_id: &str,
    kit_id: &str,
    rec: &mut Recorder<'_>,
) -> Result<(), HubError> {
    let Some(ids) = hub.identities.as_deref() else {
        return rec(Outcome::NotOpened);
    };
    let kit_key = hub.registry().get(kit_id)?.map(|k| k.kit_key);
    let bytes = match hub.storage().read_packet(packet_id) {
        Ok(b) => Ok(b),
        // An object store that does not answer now: the packet stays pending and is tried again.
        Err(e @ HubError::ObjectStoreUnavailable { .. }) => return Err(e),
        Err(e) => Err(e.to_string()),
    };
    // `check_contents` checks the outer layer again, then the inner signature and every file
    // hash, keeping none of the files (the packet's bytes are still read whole by the storage).
    let result = bytes.and_then(|bytes| {
        packet::check_contents(&bytes[..], ids, kit_key.as_ref()).map_err(|e| e.to_string())
    });
    match result {
        Ok(c) => {
            tracing::info!(packet = %packet_id, files = c.files.len(), "packet opened");
            let visit = opened_visit(hub, &c.manifest.visit);
            rec(Outcome::Opened {
                files: c.files.len(),
                visit: &visit,
            })
        }
        Err(why) => {
            tracing::warn!(packet = %packet_id, "packet could not be opened: {why}");
            rec(Outcome::Failed(&why))
        }
    }
}

/// Puts packets recorded `not_opened` back to `pending` (a hub that now has an identity).
pub(crate) fn requeue_not_opened(hub: &Hub) -> Result<usize, HubError> {
    let db = match &hub.state {
        Backend::Embedded(db) => db,
        Backend::Postgres(pool) => {
            return Ok(crate::pg::conn(pool)?.execute(
                "UPDATE openings SET state = 'pending' WHERE state = 'not_opened'",
                &[],
            )? as usize)
        }
    };
    Ok(lock(db).exec(
        "UPDATE openings SET state = 'pending' WHERE state = 'not_opened'",
        [],
    )?)
}

/// The opener task: opens pending packets one by one until `stop` turns true.
pub(crate) async fn run(
    hub: Arc<Hub>,
    wake: Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let h = hub.clone();
        let more = tokio::task::spawn_blocking(move || open_next(&h))
            .await
            .unwrap_or_else(|_| {
                Err(HubError::Serve(std::io::Error::other(
                    "opening a packet panicked",
                )))
            });
        match more {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!("the packet opener failed: {e}; retrying"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

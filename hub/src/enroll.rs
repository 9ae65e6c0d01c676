//! Enrollment on the hub: one-time tokens (only their hash is stored, with an expiry) and the
//! answer to `POST /v1/enroll` (served by `http::enroll`), which registers a kit's key in exchange
//! for a valid token and gives what the kit needs: office recipients, hub key, certificate
//! fingerprint, hub id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use schemars::JsonSchema;
use serde::Serialize;

use crate::{lock, parse_ts, registry, ts_text, Backend, Hub, HubError};
use jemput_core::wire::auth::REPLAY_WINDOW_SECS;
use jemput_core::wire::enroll::{EnrollRequest, EnrollResponse, EnrollToken, ENROLL_VERSION};

/// Longest a token may live.
pub const MAX_TTL_HOURS: u32 = 30 * 24;
/// Largest enrollment request body read.
pub(crate) const MAX_BODY: usize = 16 * 1024;

/// `jemput hub enroll-token --json`: a token just issued.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IssuedToken {
    /// The token to hand to the field team (shown once; the hub keeps only its hash).
    pub token: String,
    /// The token's id (not secret).
    pub token_id: String,
    /// The name the enrolled kit will get in the registry.
    pub name: Option<String>,
    /// When the token stops working.
    pub expires_at: Timestamp,
    /// The SHA-256 of the hub certificate the token pins.
    pub hub_cert_sha256: String,
}

/// The enrollment tokens of a hub.
#[derive(Debug, Clone)]
pub struct Tokens {
    state: Backend,
}

/// Why an enrollment was refused: an HTTP status and a one-line reason for the kit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status code.
    pub status: StatusCode,
    /// The reason, one line.
    pub message: String,
}

pub(crate) fn refuse(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

impl From<HubError> for Refusal {
    fn from(e: HubError) -> Refusal {
        tracing::error!("enrollment failed: {e}");
        let status = if e.is_database_unavailable() {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        refuse(status, format!("hub error: {e}; try again later"))
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Refusal {
        HubError::from(e).into()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            [("content-type", "text/plain; charset=utf-8")],
            format!("{}\n", self.message),
        )
            .into_response()
    }
}

impl Tokens {
    /// The tokens of the hub in `data` (its own connection; safe beside a running hub).
    pub fn open(data: &std::path::Path) -> Result<Tokens, HubError> {
        Ok(Tokens {
            state: crate::open_backend(data)?,
        })
    }

    pub(crate) fn with_state(state: Backend) -> Tokens {
        Tokens { state }
    }

    /// Issues a token for a hub whose certificate has fingerprint `cert_sha256`, valid for
    /// `ttl_hours`; the kit it enrolls gets `name` in the registry.
    pub fn issue(
        &self,
        name: Option<&str>,
        ttl_hours: u32,
        cert_sha256: &str,
    ) -> Result<IssuedToken, HubError> {
        if ttl_hours == 0 || ttl_hours > MAX_TTL_HOURS {
            return Err(HubError::BadToken(format!(
                "a token lives 1 to {MAX_TTL_HOURS} hours, not {ttl_hours}"
            )));
        }
        let now = Timestamp::now();
        let expires_at = now
            .checked_add(SignedDuration::from_hours(i64::from(ttl_hours)))
            .map_err(|e| HubError::BadToken(e.to_string()))?;
        // Ids are 32 random bits: on the rare collision, draw again.
        for _ in 0..8 {
            let token = EnrollToken::generate(cert_sha256);
            let db = match &self.state {
                Backend::Embedded(db) => db,
                Backend::Postgres(pool) => {
                    if crate::pg::registry::insert_token(pool, &token, name, now, expires_at)? {
                        return Ok(IssuedToken {
                            token: token.to_string(),
                            token_id: token.id,
                            name: name.map(str::to_owned),
                            expires_at,
                            hub_cert_sha256: token.cert_sha256,
                        });
                    }
                    continue;
                }
            };
            let inserted = lock(db).execute(
                "INSERT INTO enroll_tokens (token_id, secret_sha256, name, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (token_id) DO NOTHING",
                params![
                    token.id,
                    EnrollToken::secret_hash(&token.secret),
                    name,
                    ts_text(now),
                    ts_text(expires_at)
                ],
            )?;
            if inserted == 1 {
                return Ok(IssuedToken {
                    token: token.to_string(),
                    token_id: token.id,
                    name: name.map(str::to_owned),
                    expires_at,
                    hub_cert_sha256: token.cert_sha256,
                });
            }
        }
        Err(HubError::BadToken(
            "could not draw an unused token id".into(),
        ))
    }

    /// Checks `req` and, if it holds, registers the kit and uses up the token, in one
    /// transaction. `hub_cert_sha256` is the fingerprint of the certificate this hub serves.
    pub fn redeem(
        &self,
        req: &EnrollRequest,
        hub_cert_sha256: &str,
        now: Timestamp,
    ) -> Result<registry::KitEntry, Refusal> {
        if req.enroll_version != ENROLL_VERSION {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "enrollment version {} is not spoken here (this hub speaks {ENROLL_VERSION})",
                    req.enroll_version
                ),
            ));
        }
        if !registry::valid_kit_id(&req.kit_id) {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "bad kit id {:?}: use 1 to 64 of A-Z a-z 0-9 . _ -",
                    req.kit_id
                ),
            ));
        }
        let skew = (req.t - now.as_second()).abs();
        if skew > REPLAY_WINDOW_SECS {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                format!(
                    "stale request time: t={} is {skew} s from the hub's time {}; check the kit's clock",
                    req.t,
                    now.as_second()
                ),
            ));
        }
        if !req.signature_verifies() {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "bad signature: the enrollment request does not verify with the kit key it carries",
            ));
        }
        let db = match &self.state {
            Backend::Embedded(db) => db,
            Backend::Postgres(pool) => {
                crate::pg::registry::redeem(pool, req, hub_cert_sha256, now)?;
                return registry::Registry::with_state(self.state.clone())
                    .get(&req.kit_id)?
                    .ok_or_else(|| HubError::UnknownKit(req.kit_id.clone()).into());
            }
        };
        let mut conn = lock(db);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        type Row = (
            String,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = tx
            .query_row(
                "SELECT secret_sha256, name, expires_at, used_at, used_by
                 FROM enroll_tokens WHERE token_id = ?1",
                [&req.token_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((secret_hash, name, expires, used_at, used_by)) = row else {
            return Err(unknown_token());
        };
        check_token(
            req,
            hub_cert_sha256,
            now,
            &secret_hash,
            &expires,
            used_at,
            used_by,
        )?;
        let existing: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT kit_key, revoked_at FROM kits WHERE kit_id = ?1",
                [&req.kit_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if check_existing(req, existing)? {
            tx.execute(
                "INSERT INTO kits (kit_id, kit_key, name, added_at, enrolled_with)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    req.kit_id,
                    req.kit_key.to_string(),
                    name,
                    ts_text(now),
                    req.token_id
                ],
            )?;
        }
        tx.execute(
            "UPDATE enroll_tokens SET used_at = ?2, used_by = ?3 WHERE token_id = ?1",
            params![req.token_id, ts_text(now), req.kit_id],
        )?;
        tx.commit()?;
        drop(conn);
        registry::Registry::with_state(self.state.clone())
            .get(&req.kit_id)?
            .ok_or_else(|| HubError::UnknownKit(req.kit_id.clone()).into())
    }
}

/// The refusal of a token this hub never issued (or whose secret is wrong: the same answer).
pub(crate) fn unknown_token() -> Refusal {
    refuse(
        StatusCode::UNAUTHORIZED,
        "unknown enrollment token: this hub never issued it (check it was copied whole, and that this is the hub that issued it)",
    )
}

/// The checks of a token row against a request, whichever database holds it.
pub(crate) fn check_token(
    req: &EnrollRequest,
    hub_cert_sha256: &str,
    now: Timestamp,
    secret_hash: &str,
    expires: &str,
    used_at: Option<String>,
    used_by: Option<String>,
) -> Result<(), Refusal> {
    if !same(secret_hash, &EnrollToken::secret_hash(&req.token_secret)) {
        return Err(unknown_token());
    }
    if let Some(at) = used_at {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "enrollment token {} was already used (by kit {} at {at}); a token enrolls one kit once: ask the office for a new one",
                req.token_id,
                used_by.as_deref().unwrap_or("?")
            ),
        ));
    }
    let expires = parse_ts("token expiry", expires.to_string())?;
    if now >= expires {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "enrollment token {} expired at {expires:.0}; ask the office for a new one",
                req.token_id
            ),
        ));
    }
    if !req.cert_sha256.eq_ignore_ascii_case(hub_cert_sha256) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "the token pins hub certificate {} but this hub's is {hub_cert_sha256}: the token was made for another hub or before the certificate changed",
                req.cert_sha256
            ),
        ));
    }
    Ok(())
}

/// Whether the kit must be registered now, given its row if it has one (key, revoked at).
pub(crate) fn check_existing(
    req: &EnrollRequest,
    existing: Option<(String, Option<String>)>,
) -> Result<bool, Refusal> {
    match existing {
        Some((_, Some(revoked))) => Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "kit {} was revoked at {revoked}; a revoked kit is never enrolled again: set up a new kit home (`jemput init`) and enroll that",
                req.kit_id
            ),
        )),
        Some((key, None)) if key != req.kit_key.to_string() => Err(refuse(
            StatusCode::CONFLICT,
            format!(
                "kit id {} is registered under another key; revoke it at the office first, or enroll a new kit home",
                req.kit_id
            ),
        )),
        // The same kit and key again (it lost the first answer): register nothing new.
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

/// Compares two hex digests without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What the hub hands an enrolled kit besides keys and ids: the settings document.
///
/// HOOK(sync): the `jemput sync` work (signed settings, offline policy) fills this in; until then
/// enrollment carries no settings and kits fetch them with `jemput sync`.
pub fn settings_for_enrolled_kit(
    _hub: &Hub,
    _kit: &registry::KitEntry,
) -> Option<serde_json::Value> {
    None
}

/// The answer to an enrollment request (`POST /v1/enroll`, served by `http::enroll`), or the
/// refusal the kit reads.
pub(crate) fn answer(hub: &Hub, req: &EnrollRequest) -> Result<EnrollResponse, Refusal> {
    let Some(cert_sha256) = hub.cert_sha256() else {
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "this hub has no TLS certificate yet, so it cannot enroll kits; the office restarts it with `jemput hub serve`",
        ));
    };
    let recipients = &hub.config().office_recipients;
    if recipients.is_empty() {
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "this hub knows no office recipient, so an enrolled kit could not seal; the office adds one to office_recipients in hub.toml",
        ));
    }
    let kit = hub.tokens().redeem(req, cert_sha256, Timestamp::now())?;
    tracing::info!(kit = %kit.kit_id, token = %req.token_id, "kit enrolled");
    Ok(EnrollResponse {
        enroll_version: ENROLL_VERSION,
        hub_id: hub.config().hub_id.clone(),
        hub_key: hub.public_key(),
        hub_cert_sha256: cert_sha256.to_string(),
        office_recipients: recipients.clone(),
        settings: settings_for_enrolled_kit(hub, &kit),
        kit_id: kit.kit_id,
        kit_name: kit.name,
    })
}

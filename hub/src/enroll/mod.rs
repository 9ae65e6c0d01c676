//! Enrollment on the hub: one-time tokens (only their hash is stored, with an expiry) and the
//! answer to `POST /v1/enroll` (served by `http::enroll`), which registers a kit's key in exchange
//! for a valid token and gives what the kit needs: office recipients, hub key, certificate
//! fingerprint, hub id.

use crate::CachedSql;
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use schemars::JsonSchema;
use serde::Serialize;

use crate::{lock, registry, ts_text, Backend, Hub, HubError};
use jemput_core::wire::auth::REPLAY_WINDOW_SECS;
use jemput_core::wire::enroll::{EnrollRequest, EnrollResponse, EnrollToken, ENROLL_VERSION};

pub(crate) mod rules;
pub use rules::Refusal;
pub(crate) use rules::{check_existing, check_token, refuse, unknown_token};

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
            let inserted = lock(db).exec(
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
            .row(
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
            .row(
                "SELECT kit_key, revoked_at FROM kits WHERE kit_id = ?1",
                [&req.kit_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if check_existing(req, existing)? {
            tx.exec(
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
        tx.exec(
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

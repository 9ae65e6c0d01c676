//! Enrolling a kit with a hub (`jemput enroll <hub-url> <token>`): pin the hub certificate named
//! in the token, register the kit's key by signing the request, and store what the hub answers
//! (office recipients, hub key, certificate fingerprint, hub URL and id) in the kit config.
//!
//! The exchange is `docs/hub-protocol.md` §7; the token and message formats are
//! [`jemput_core::wire::enroll`].

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use schemars::JsonSchema;
use serde::Serialize;

use crate::home::{HomeError, KitHome};
use crate::pin::{self, CertPin, PinMismatch};
use jemput_core::keys::{self, PublicKey};
use jemput_core::wire::enroll::{EnrollRequest, EnrollResponse, EnrollToken, ENROLL_PATH};

const TIMEOUT: Duration = Duration::from_secs(30);

/// How to enroll.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrollOptions {
    /// Allow a plain `http://` hub URL that is not on loopback (nothing authenticates the hub
    /// then: whoever answers on the path is believed).
    pub insecure_http: bool,
    /// Take the hub's key even when the kit already trusts a different one (the office changed
    /// its hub key on purpose). Without it such an enrollment is refused and nothing changes.
    pub replace_hub_key: bool,
}

/// `jemput enroll --json`: what the kit now holds (`schemas/enroll.schema.json`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EnrollOutcome {
    /// The kit home.
    pub kit_home: PathBuf,
    /// The kit's id, as registered.
    pub kit_id: String,
    /// The kit's name in the hub's registry (from the token), if any.
    pub kit_name: Option<String>,
    /// The hub's base URL, stored as the kit's `hub_url`.
    pub hub_url: String,
    /// The hub's id.
    pub hub_id: String,
    /// The hub's ed25519 key, pinned for receipts.
    pub hub_key: PublicKey,
    /// The pinned SHA-256 of the hub's TLS certificate.
    pub hub_cert_sha256: String,
    /// The office recipients packets are now encrypted to.
    pub office_recipients: Vec<String>,
    /// Whether the hub sent a settings document (reserved; not applied by this version).
    pub settings_received: bool,
}

/// Why enrollment failed; each says what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnrollError {
    #[error(
        "{url:?} is not a hub URL: {why}; give the hub's base URL, e.g. https://10.0.0.2:8470"
    )]
    BadUrl { url: String, why: String },
    #[error("refusing to enroll over plain HTTP with {0}, which is not on this machine: nothing would authenticate the hub. Use the hub's https:// URL, or pass --insecure-http on a network you trust")]
    PlainHttp(String),
    #[error(transparent)]
    PinMismatch(#[from] PinMismatch),
    #[error("cannot reach the hub at {url}: {why}; check the URL, the network and that `jemput hub serve` runs there")]
    Network { url: String, why: String },
    #[error("the hub refused the enrollment (HTTP {status}): {reason}")]
    Refused { status: u16, reason: String },
    #[error("the hub's answer is unusable: {0}; nothing was changed on the kit")]
    BadAnswer(String),
    #[error("this kit trusts hub key {pinned}, but the hub at {url} signs with {offered}: enrolling would switch the key receipts and sync documents are checked with. Nothing was changed on the kit{consumed}. Check the hub URL, and that the hub was made with the office's key (`jemput hub init --hub-key office/hub.ed25519`); if the office replaced its hub key on purpose, enroll again with --replace-hub-key")]
    HubKeyMismatch {
        url: String,
        /// The key the kit trusts (`hub_key` in its config), base64.
        pinned: String,
        /// The key the hub answered with, base64.
        offered: String,
        /// Said when the hub already took the token.
        consumed: &'static str,
    },
    #[error(transparent)]
    Home(#[from] HomeError),
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// Parses a hub base URL: `http`/`https`, a host, no path, query or fragment.
pub fn parse_hub_url(s: &str) -> Result<Url, EnrollError> {
    let bad = |why: &str| EnrollError::BadUrl {
        url: s.into(),
        why: why.into(),
    };
    let url = Url::parse(s.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("it is not http:// or https://"));
    }
    if url.host().is_none() {
        return Err(bad("it has no host"));
    }
    if !(url.path().is_empty() || url.path() == "/") || url.query().is_some() {
        return Err(bad(
            "it has a path or query; give only scheme, host and port",
        ));
    }
    Ok(url)
}

/// Enrolls the kit in `home` with the hub at `hub_url`, and saves what the hub answered in the
/// kit config. Nothing on the kit changes unless the whole exchange succeeds.
pub async fn enroll(
    home: &mut KitHome,
    hub_url: &str,
    token: &EnrollToken,
    opts: EnrollOptions,
) -> Result<EnrollOutcome, EnrollError> {
    let base = parse_hub_url(hub_url)?;
    if base.scheme() == "http" && !is_loopback(&base) && !opts.insecure_http {
        return Err(EnrollError::PlainHttp(base.to_string()));
    }
    let pin: CertPin = token
        .cert_sha256
        .parse()
        .map_err(|e: pin::BadPin| EnrollError::BadAnswer(e.to_string()))?;
    let (http, verifier) = pin::pinned_client(
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("jemput/", env!("CARGO_PKG_VERSION"))),
        &pin,
    );
    let key = home.kit_key()?;
    let req = EnrollRequest::new(
        token,
        &home.config.kit_id,
        &key,
        jiff::Timestamp::now().as_second(),
    );
    if let (Some(pinned), false) = (home.config.hub_key, opts.replace_hub_key) {
        // Ask the hub for its key first, so a mismatch is found before the token is spent.
        let offered = hub_key_of(&http, &verifier, &base).await?;
        if offered != pinned {
            return Err(EnrollError::HubKeyMismatch {
                url: base.as_str().trim_end_matches('/').to_string(),
                pinned: pinned.to_string(),
                offered: offered.to_string(),
                consumed: "",
            });
        }
    }
    let url = base.join(ENROLL_PATH).expect("a fixed path joins");
    let body = serde_json::to_vec(&req).expect("an enrollment request serialises");
    let resp = http
        .post(url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| match verifier.take_mismatch() {
            Some(m) => EnrollError::PinMismatch(m),
            None => EnrollError::Network {
                url: url.to_string(),
                why: error_chain(&e),
            },
        })?;
    let status = resp.status();
    // An error body is read up to a few KiB, an answer up to 1 MiB: never what a server sends.
    let limit = if status == StatusCode::OK {
        1 << 20
    } else {
        crate::upload::tus::MAX_ERROR_BODY
    };
    let body = crate::upload::tus::read_capped_bytes(resp, limit)
        .await
        .map_err(|e| EnrollError::Network {
            url: url.to_string(),
            why: error_chain(&e),
        })?;
    if status != StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        let reason = text.lines().next().unwrap_or("").trim();
        return Err(EnrollError::Refused {
            status: status.as_u16(),
            reason: if reason.is_empty() {
                "no reason given".into()
            } else {
                reason.chars().take(300).collect()
            },
        });
    }
    let answer: EnrollResponse = serde_json::from_slice(&body)
        .map_err(|e| EnrollError::BadAnswer(format!("not an enrollment answer: {e}")))?;
    check_answer(&answer, token, &home.config.kit_id)?;
    if let (Some(pinned), false) = (home.config.hub_key, opts.replace_hub_key) {
        if answer.hub_key != pinned {
            return Err(EnrollError::HubKeyMismatch {
                url: base.as_str().trim_end_matches('/').to_string(),
                pinned: pinned.to_string(),
                offered: answer.hub_key.to_string(),
                consumed: " (the hub used the token and registered the kit; ask the office for a new token)",
            });
        }
    }

    let hub_url = base.as_str().trim_end_matches('/').to_string();
    let c = &mut home.config;
    c.office_recipients = answer.office_recipients.clone();
    c.hub_key = Some(answer.hub_key);
    c.hub_cert_sha256 = Some(pin.to_string());
    c.hub_url = Some(hub_url.clone());
    c.hub_id = Some(answer.hub_id.clone());
    if answer.settings.is_some() {
        // HOOK(sync): a settings document from the hub is applied by the `jemput sync` work;
        // this version receives it but stores nothing from it.
        tracing::warn!("the hub sent settings at enrollment; run `jemput sync` to apply them");
    }
    home.save_config()?;
    Ok(EnrollOutcome {
        kit_home: home.root.clone(),
        kit_id: answer.kit_id,
        kit_name: answer.kit_name,
        hub_url,
        hub_id: answer.hub_id,
        hub_key: answer.hub_key,
        hub_cert_sha256: pin.to_string(),
        office_recipients: answer.office_recipients,
        settings_received: answer.settings.is_some(),
    })
}

/// The hub's signing key, from `GET /v1/info` over the pinned connection.
async fn hub_key_of(
    http: &reqwest::Client,
    verifier: &pin::PinnedVerifier,
    base: &Url,
) -> Result<PublicKey, EnrollError> {
    #[derive(serde::Deserialize)]
    struct Info {
        hub_key: PublicKey,
    }
    let url = base
        .join(jemput_core::wire::tus::INFO_PATH)
        .expect("a fixed path joins");
    let network = |e: &dyn std::error::Error| EnrollError::Network {
        url: url.to_string(),
        why: error_chain(e),
    };
    let resp = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| match verifier.take_mismatch() {
            Some(m) => EnrollError::PinMismatch(m),
            None => network(&e),
        })?;
    let status = resp.status();
    let body = crate::upload::tus::read_capped_bytes(resp, 64 << 10)
        .await
        .map_err(|e| network(&e))?;
    if status != StatusCode::OK {
        return Err(EnrollError::BadAnswer(format!(
            "GET {url} answered HTTP {status} instead of the hub's key"
        )));
    }
    let info: Info = serde_json::from_slice(&body)
        .map_err(|e| EnrollError::BadAnswer(format!("{url} did not name a hub key: {e}")))?;
    Ok(info.hub_key)
}

/// The answer must be for this kit, pin the certificate the token named, and carry usable
/// recipients.
fn check_answer(a: &EnrollResponse, token: &EnrollToken, kit_id: &str) -> Result<(), EnrollError> {
    if a.kit_id != kit_id {
        return Err(EnrollError::BadAnswer(format!(
            "it registered kit {} instead of {kit_id}",
            a.kit_id
        )));
    }
    if !a.hub_cert_sha256.eq_ignore_ascii_case(&token.cert_sha256) {
        return Err(EnrollError::BadAnswer(format!(
            "it names certificate {} but the token pins {}",
            a.hub_cert_sha256, token.cert_sha256
        )));
    }
    if a.office_recipients.is_empty() {
        return Err(EnrollError::BadAnswer(
            "it carries no office recipient".into(),
        ));
    }
    for r in &a.office_recipients {
        keys::parse_recipient(r).map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
    }
    Ok(())
}

/// An error with its causes, one after another (reqwest's own message names only the request).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_urls_are_base_urls_and_plain_http_is_loopback_only() {
        assert!(parse_hub_url("https://10.0.0.2:8470").is_ok());
        assert!(parse_hub_url("https://hub.example/").is_ok());
        assert!(parse_hub_url("https://hub.example/files/").is_err());
        assert!(parse_hub_url("ftp://hub.example").is_err());
        assert!(parse_hub_url("not a url").is_err());
        assert!(is_loopback(&parse_hub_url("http://127.0.0.1:1").unwrap()));
        assert!(is_loopback(&parse_hub_url("http://[::1]:1").unwrap()));
        assert!(is_loopback(&parse_hub_url("http://localhost:1").unwrap()));
        assert!(!is_loopback(&parse_hub_url("http://10.0.0.2:1").unwrap()));
    }
}

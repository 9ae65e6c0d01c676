//! The office console: web pages for office staff that `jemput hub serve` serves under
//! `/console/` on the hub's own listener (and TLS). Staff sign in with an account made by
//! `jemput hub users add` (argon2 hashes, sessions and the audit log in the hub database:
//! `jemput_hub::office`). Every page is rendered on the server (minijinja, Fluent messages in
//! Bahasa Indonesia first and English, through `jemput-web`, the building blocks the operator
//! station shares); the browser holds only a session cookie.
//!
//! - [`guard`]: sign-in, the session cookie, CSRF on every form, admin-only changes.
//! - [`pages`]: packets, one packet's history, kits and enroll tokens, worklist import,
//!   settings, webhooks and undelivered events, the audit log.

pub mod guard;
pub mod pages;

use std::sync::Arc;

use axum::Router;
use jemput_hub::office::Office;
use jemput_hub::{Hub, HubError};
use jemput_web::i18n::{FtlFile, I18n, I18nError, Lang};
use jemput_web::render::{Pages, Template};

/// Where the console lives on the hub.
pub const PREFIX: &str = "/console";

/// The templates: (name, source).
pub const TEMPLATES: &[Template] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("packets.html", include_str!("../templates/packets.html")),
    ("packet.html", include_str!("../templates/packet.html")),
    ("kits.html", include_str!("../templates/kits.html")),
    ("token.html", include_str!("../templates/token.html")),
    ("worklist.html", include_str!("../templates/worklist.html")),
    ("settings.html", include_str!("../templates/settings.html")),
    ("events.html", include_str!("../templates/events.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("message.html", include_str!("../templates/message.html")),
];

/// The Fluent files: Bahasa Indonesia, then English.
pub const FILES: &[FtlFile] = &[
    (
        Lang::Id,
        "console.ftl",
        include_str!("../i18n/id/console.ftl"),
    ),
    (
        Lang::En,
        "console.ftl",
        include_str!("../i18n/en/console.ftl"),
    ),
];

/// The console's stylesheet.
pub const ASSETS: &[jemput_web::assets::Asset] = &[(
    "console.css",
    "text/css; charset=utf-8",
    include_bytes!("../assets/console.css"),
)];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("the console's messages do not load: {0}")]
    I18n(#[from] I18nError),
    #[error("the console's templates do not load: {0}")]
    Template(#[from] minijinja::Error),
}

/// What the console's routes share.
#[derive(Debug)]
pub struct Console {
    pub hub: Arc<Hub>,
    pub office: Office,
    pub i18n: Arc<I18n>,
    pub pages: Pages,
}

/// The console's routes (under [`PREFIX`]) over `hub`.
pub fn router(hub: Arc<Hub>) -> Result<Router, ConsoleError> {
    let office = Office::of(&hub);
    let i18n = Arc::new(I18n::load(FILES)?);
    let pages = Pages::new(i18n.clone(), TEMPLATES)?;
    let console = Arc::new(Console {
        hub,
        office,
        i18n,
        pages,
    });
    Ok(pages::routes(console))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_hold_the_same_messages_and_every_template_id_exists() {
        let (only_id, only_en) = jemput_web::i18n::one_sided(FILES);
        assert!(
            only_id.is_empty() && only_en.is_empty(),
            "only in Indonesian: {only_id:?}; only in English: {only_en:?}"
        );
        let i18n = I18n::load(FILES).unwrap();
        let mut used = jemput_web::i18n::ids_in_templates(TEMPLATES);
        // `t("state-" ~ p.state)`: the prefixes' ids are in MESSAGE_IDS.
        used.retain(|m| !m.ends_with('-'));
        assert!(used.len() > 30, "{used:?}");
        used.extend(pages::MESSAGE_IDS.iter().map(|s| s.to_string()));
        for lang in Lang::ALL {
            let missing: Vec<_> = used.iter().filter(|m| !i18n.has(lang, m)).collect();
            assert!(
                missing.is_empty(),
                "missing in {}: {missing:?}",
                lang.code()
            );
        }
        Pages::new(Arc::new(i18n), TEMPLATES).unwrap();
    }
}

//! The console pages that change something (an admin's, the guard refuses a viewer's `POST`):
//! kits and enroll tokens (with a QR code), revoking a kit, the worklist import with every bad
//! row shown, the settings kits receive. Each change is written to the audit log.

use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use base64::Engine;
use jemput_core::wire::sync::KitSettings;
use jemput_core::worklist::{category_codes, parse_csv, RowProblem, WorklistError};
use jemput_hub::kit_sync::{self, StoredWorklist};
use jemput_hub::office::Session;
use minijinja::{context, Value};
use serde::Deserialize;

use jemput_web::i18n::Lang;

use super::frame::{base, blocking, lang_of, message, redirect, time};
use crate::guard::{self, CSRF_FIELD};
use crate::Console;

/// Largest worklist CSV taken from the browser.
pub const MAX_CSV_BYTES: usize = 8 << 20;

/// Records `action` on `detail` by the session's account; an audit log that cannot be written
/// is reported (the change itself is done).
async fn audit(c: &Console, s: &Session, action: &str, detail: &str) {
    let (office, account) = (c.office.clone(), s.account.clone());
    let (action, detail) = (action.to_string(), detail.to_string());
    blocking(move || {
        if let Err(e) = office.record(&account, &action, &detail) {
            tracing::error!("console audit log: {action} {detail} by {account}: {e}");
        }
    })
    .await
}

pub(crate) async fn kits(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
) -> Response {
    kits_page(&c, &s, StatusCode::OK, None).await
}

async fn kits_page(c: &Console, s: &Session, status: StatusCode, note: Option<String>) -> Response {
    let registry = c.hub.registry().clone();
    let list = match blocking(move || registry.list()).await {
        Ok(l) => l,
        Err(e) => return message(c, s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let rows: Vec<Value> = list
        .iter()
        .map(|k| {
            context! {
                kit_id => k.kit_id,
                name => k.name,
                added_at => time(k.added_at),
                revoked_at => k.revoked_at.map(time),
                last_seen => k.last_seen.map(time),
                enrolled_with => k.enrolled_with,
            }
        })
        .collect();
    c.pages.page(
        status,
        "kits.html",
        &context! { ..base(s, "kits"), ..context! { kits => rows, note => note } },
    )
}

pub(crate) async fn revoke(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let registry = c.hub.registry().clone();
    let kit = id.clone();
    match blocking(move || registry.revoke(&kit)).await {
        Ok(_) => {
            audit(&c, &s, "kit.revoke", &id).await;
            redirect("/console/kits")
        }
        Err(e) => kits_page(&c, &s, StatusCode::BAD_REQUEST, Some(e.to_string())).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    hours: String,
}

/// The token as a QR code: an SVG in a `data:` URL.
pub fn qr_data_url(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

pub(crate) async fn make_token(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
    Form(f): Form<TokenForm>,
) -> Response {
    let hours = match f.hours.trim() {
        "" => 72,
        h => match h.parse::<u32>() {
            Ok(h) => h,
            Err(_) => {
                let text = c.i18n.text(lang_of(&s), "token-bad-hours", None);
                return kits_page(&c, &s, StatusCode::BAD_REQUEST, Some(text)).await;
            }
        },
    };
    let Some(cert) = c.hub.cert_sha256().map(str::to_string) else {
        let text = c.i18n.text(lang_of(&s), "token-no-cert", None);
        return kits_page(&c, &s, StatusCode::CONFLICT, Some(text)).await;
    };
    let name = Some(f.name.trim().to_string()).filter(|n| !n.is_empty());
    let tokens = c.hub.tokens().clone();
    let n = name.clone();
    let issued = match blocking(move || tokens.issue(n.as_deref(), hours, &cert)).await {
        Ok(t) => t,
        Err(e) => return kits_page(&c, &s, StatusCode::BAD_REQUEST, Some(e.to_string())).await,
    };
    audit(
        &c,
        &s,
        "token.issue",
        &format!(
            "{}{}",
            issued.token_id,
            name.map(|n| format!(" ({n})")).unwrap_or_default()
        ),
    )
    .await;
    c.pages.page(
        StatusCode::OK,
        "token.html",
        &context! { ..base(&s, "kits"), ..context! {
            token => issued.token,
            token_id => issued.token_id,
            name => issued.name,
            expires_at => time(issued.expires_at),
            qr => qr_data_url(&issued.token),
            no_recipients => c.hub.config().office_recipients.is_empty(),
        } },
    )
}

pub(crate) async fn worklist(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
) -> Response {
    worklist_page(&c, &s, StatusCode::OK, context! {}).await
}

async fn worklist_page(c: &Console, s: &Session, status: StatusCode, extra: Value) -> Response {
    let data = c.hub.data().to_path_buf();
    let current = match blocking(move || kit_sync::load_worklist(&data)).await {
        Ok(w) => w,
        Err(e) => return message(c, s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let (entries, imported_at, source) = match &current {
        Some(w) => (
            w.entries
                .iter()
                .map(|e| {
                    context! {
                        id => e.id,
                        name => e.name,
                        place => e.place(),
                        category => e.category.code(),
                        kit => e.kit,
                    }
                })
                .collect::<Vec<_>>(),
            Some(time(w.imported_at)),
            Some(w.source.clone()),
        ),
        None => (Vec::new(), None, None),
    };
    c.pages.page(
        status,
        "worklist.html",
        &context! { ..base(s, "worklist"), ..extra, ..context! {
            entries => entries, imported_at => imported_at, source => source,
        } },
    )
}

pub(crate) async fn import_worklist(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
    mut form: Multipart,
) -> Response {
    let lang = lang_of(&s);
    let mut csrf_ok = false;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let text = format!("{}: {e}", c.i18n.text(lang, "worklist-unreadable", None));
                return worklist_page(&c, &s, StatusCode::BAD_REQUEST, context! { error => text })
                    .await;
            }
        };
        match field.name() {
            Some(CSRF_FIELD) => {
                let v = field.text().await.unwrap_or_default();
                csrf_ok = jemput_web::http::same(&v, &s.csrf);
            }
            // The CSRF part comes first in the form; a file before it is not read.
            Some("file") if csrf_ok => {
                let name = field.file_name().unwrap_or("worklist.csv").to_string();
                match field.bytes().await {
                    Ok(b) if b.len() <= MAX_CSV_BYTES => file = Some((name, b.to_vec())),
                    _ => {
                        let text = c.i18n.text(lang, "worklist-too-big", None);
                        return worklist_page(
                            &c,
                            &s,
                            StatusCode::PAYLOAD_TOO_LARGE,
                            context! { error => text },
                        )
                        .await;
                    }
                }
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return guard::csrf_refused();
    }
    let Some((name, bytes)) = file else {
        let text = c.i18n.text(lang, "worklist-no-file", None);
        return worklist_page(&c, &s, StatusCode::BAD_REQUEST, context! { error => text }).await;
    };
    let entries = match parse_csv(&bytes) {
        Ok(e) => e,
        Err(WorklistError::Rows(rows)) => {
            let bad: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let message = row_problem(&c, lang, &r.problem);
                    context! { line => r.line, column => r.column, message => message }
                })
                .collect();
            return worklist_page(
                &c,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                context! { bad_rows => bad, file => name },
            )
            .await;
        }
        Err(e) => {
            return worklist_page(
                &c,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                context! { error => e.to_string(), file => name },
            )
            .await
        }
    };
    let n = entries.len();
    let data = c.hub.data().to_path_buf();
    let stored = StoredWorklist {
        imported_at: jiff::Timestamp::now(),
        source: name.clone(),
        entries,
    };
    if let Err(e) = blocking(move || kit_sync::save_worklist(&data, &stored)).await {
        return message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    audit(&c, &s, "worklist.import", &format!("{name}: {n} entries")).await;
    worklist_page(&c, &s, StatusCode::OK, context! { imported => n }).await
}

/// What is wrong with a worklist row, in the session's language (`worklist-row-<code>`).
fn row_problem(c: &Console, lang: Lang, p: &RowProblem) -> String {
    let mut a = jemput_web::FluentArgs::new();
    match p {
        RowProblem::Unreadable(why) => a.set("why", why.clone()),
        RowProblem::FieldCount { found, expected } => {
            a.set("found", *found);
            a.set("expected", *expected);
        }
        RowProblem::TooLong => a.set("max", jemput_core::worklist::MAX_FIELD_CHARS),
        // The NIK check's message is already in Bahasa Indonesia and English.
        RowProblem::BadNik { value, why } => {
            a.set("value", value.clone());
            a.set("why", why.clone());
        }
        RowProblem::NotACategory(v) => {
            a.set("value", v.clone());
            a.set("codes", category_codes());
        }
        RowProblem::NotAnId(v)
        | RowProblem::NotRtRw(v)
        | RowProblem::NotAKitId(v)
        | RowProblem::DuplicateId(v) => a.set("value", v.clone()),
        RowProblem::NoNikOrId | RowProblem::Empty => {}
        // A problem this console has no words for yet: the English text.
        _ => return p.to_string(),
    }
    c.i18n
        .text(lang, &format!("worklist-row-{}", p.code()), Some(&a))
}

pub(crate) async fn settings(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
) -> Response {
    let data = c.hub.data().to_path_buf();
    match blocking(move || kit_sync::load_settings(&data)).await {
        Ok(k) => {
            let text = toml::to_string_pretty(&k).unwrap_or_default();
            settings_page(&c, &s, StatusCode::OK, &text, None, false)
        }
        Err(e) => message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn settings_page(
    c: &Console,
    s: &Session,
    status: StatusCode,
    text: &str,
    error: Option<String>,
    saved: bool,
) -> Response {
    c.pages.page(
        status,
        "settings.html",
        &context! { ..base(s, "settings"), ..context! { text => text, error => error, saved => saved } },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    settings: String,
}

/// Parses the settings an admin typed: TOML of the kit settings, with a capture policy that
/// holds together.
pub fn parse_settings(text: &str) -> Result<KitSettings, String> {
    let k: KitSettings = toml::from_str(text).map_err(|e| e.to_string())?;
    if let Some(c) = &k.capture {
        c.validate().map_err(|e| e.to_string())?;
    }
    for r in &k.office_recipients {
        jemput_core::keys::parse_recipient(r).map_err(|e| format!("office_recipients: {e}"))?;
    }
    Ok(k)
}

pub(crate) async fn save_settings(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
    Form(f): Form<SettingsForm>,
) -> Response {
    let k = match parse_settings(&f.settings) {
        Ok(k) => k,
        Err(why) => {
            return settings_page(
                &c,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                &f.settings,
                Some(why),
                false,
            )
        }
    };
    let data = c.hub.data().to_path_buf();
    let saved = k.clone();
    if let Err(e) = blocking(move || kit_sync::save_settings(&data, &saved)).await {
        return message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    audit(
        &c,
        &s,
        "settings.save",
        "kit settings (offline and capture policy)",
    )
    .await;
    let text = toml::to_string_pretty(&k).unwrap_or_default();
    settings_page(&c, &s, StatusCode::OK, &text, None, true)
}

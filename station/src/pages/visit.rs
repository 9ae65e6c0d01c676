//! Starting a visit ("Kunjungan baru" → "Mulai kunjungan") from a worklist entry or a resident
//! not on the list — NIK checked, its sex and birth-date warnings confirmed with the resident —
//! and the consent step (resident, family or guardian; refused consent ends the visit with
//! nothing captured). Through the kit's own `new_visit::start` and drafts.
//!
//! Consent given goes on to the first capture step the visit lacks (`capture.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jemput_core::visit::{nik, Category, Consent, ConsentBy, Sex};
use jemput_kit::home::KitHome;
use jemput_kit::new_visit::{start, NewVisit};
use serde::Serialize;
use uuid::Uuid;

use super::view::category_id;
use super::{Base, Ctx};
use crate::security::Session;
use crate::App;

/// The new-visit form as shown (and shown again with what was wrong).
#[derive(Debug, Default, Serialize)]
struct NewVisitView {
    worklist: String,
    nik: String,
    name: String,
    sex: String,
    birth_date: String,
    category: String,
    place: String,
    foreigner: bool,
    categories: Vec<(String, String)>,
    /// A message id: what is wrong.
    error: Option<String>,
    /// The kit's own words about it, in the session's language.
    detail: Option<String>,
    warnings: Vec<(String, String)>,
}

fn categories() -> Vec<(String, String)> {
    Category::ALL
        .into_iter()
        .map(|c| (c.code().to_string(), category_id(c)))
        .collect()
}

fn form_page(app: &App, session: &Session, status: StatusCode, view: NewVisitView) -> Response {
    // The language switch comes back to this form (for the same worklist entry).
    let back = if view.worklist.is_empty() {
        "/visit/new".to_string()
    } else {
        format!("/visit/new?worklist={}", view.worklist)
    };
    app.pages.page(
        status,
        "new_visit.html",
        &Ctx {
            base: Base::new(app, session, &back),
            page: view,
        },
    )
}

/// Whether `path` is the new-visit form's address (`/visit/new`, optionally for a worklist
/// entry) or a visit's consent page (`/visit/{uuid}/consent`): where the language switch may send
/// the browser back to.
pub fn is_visit_path(path: &str) -> bool {
    if path == "/visit/new" {
        return true;
    }
    if let Some(entry) = path.strip_prefix("/visit/new?worklist=") {
        return !entry.is_empty()
            && entry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    }
    path.strip_prefix("/visit/")
        .and_then(|rest| rest.strip_suffix("/consent"))
        .is_some_and(|id| id.parse::<uuid::Uuid>().is_ok())
}

/// `GET /visit/new[?worklist=ID]`: the form, filled from the worklist entry when one is named.
pub async fn new_form(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let mut view = NewVisitView {
        categories: categories(),
        ..Default::default()
    };
    if let Some(id) = q.get("worklist").filter(|w| !w.is_empty()) {
        let entry = KitHome::open(&app.home)
            .ok()
            .and_then(|h| jemput_kit::sync::client::load_state(&h).ok().flatten())
            .and_then(|(_, b)| b.worklist.into_iter().find(|e| &e.id == id));
        match entry {
            Some(e) => {
                view.worklist = e.id.clone();
                view.nik = e.nik.clone().unwrap_or_default();
                view.name = e.name.clone();
                view.category = e.category.code().to_string();
                view.place = e.place();
            }
            None => view.error = Some("visit-not-in-worklist".into()),
        }
    }
    form_page(&app, &session, StatusCode::OK, view)
}

/// `POST /visit/new` ("Mulai kunjungan").
pub async fn new_submit(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(identity) = app.lock.identity(Instant::now()) else {
        return Redirect::to("/unlock").into_response();
    };
    let field = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut view = NewVisitView {
        worklist: field("worklist"),
        nik: field("nik"),
        name: field("name"),
        sex: field("sex"),
        birth_date: field("birth_date"),
        category: field("category"),
        place: field("place"),
        foreigner: f.contains_key("foreigner"),
        categories: categories(),
        ..Default::default()
    };
    let refuse = |mut view: NewVisitView, error: &str, detail: Option<String>| {
        view.error = Some(error.to_string());
        view.detail = detail;
        form_page(&app, &session, StatusCode::UNPROCESSABLE_ENTITY, view)
    };
    if view.nik.is_empty() && view.worklist.is_empty() {
        return refuse(view, "visit-need-nik", None);
    }
    let sex = match view.sex.as_str() {
        "male" => Some(Sex::Male),
        "female" => Some(Sex::Female),
        _ => None,
    };
    let birth_date = match view.birth_date.as_str() {
        "" => None,
        d => match d.parse::<jiff::civil::Date>() {
            Ok(d) => Some(d),
            Err(_) => return refuse(view, "visit-bad-date", None),
        },
    };
    let category = Category::ALL
        .into_iter()
        .find(|c| c.code() == view.category);
    if category.is_none() && view.worklist.is_empty() {
        return refuse(view, "visit-need-category", None);
    }
    // The NIK's own checks, then its warnings: each must be confirmed with the resident.
    let mut confirm = Vec::new();
    if !view.nik.is_empty() {
        let info = match nik::parse(&view.nik) {
            Ok(i) => i,
            Err(e) => {
                let text = crate::i18n::half(&e.to_string(), session.lang);
                return refuse(view, "visit-bad-nik", Some(text));
            }
        };
        let mut unconfirmed = Vec::new();
        for w in nik::cross_check(&info, sex, birth_date) {
            if f.contains_key(&format!("confirm_{}", w.code)) {
                confirm.push(w.code.to_string());
            } else {
                let text = super::review::nik_warning_text(
                    &app.i18n,
                    session.lang,
                    w.code,
                    &view.nik,
                    sex,
                    birth_date,
                );
                unconfirmed.push((w.code.to_string(), text));
            }
        }
        if !unconfirmed.is_empty() {
            view.warnings = unconfirmed;
            return refuse(view, "visit-confirm-warnings", None);
        }
    }
    let new = NewVisit {
        nik: (!view.nik.is_empty()).then(|| view.nik.clone()),
        worklist: (!view.worklist.is_empty()).then(|| view.worklist.clone()),
        name: (!view.name.is_empty()).then(|| view.name.clone()),
        sex,
        birth_date,
        foreigner: view.foreigner,
        category,
        place: view.place.clone(),
        confirm,
        ..Default::default()
    };
    let root = app.home.clone();
    let started = tokio::task::spawn_blocking(move || {
        let home = KitHome::open(&root).map_err(|e| e.to_string())?;
        let drafts = home.drafts().map_err(|e| e.to_string())?;
        let visit = start(&home, &drafts, &new).map_err(|e| e.to_string())?;
        // Read back with the unlocked key: the draft is there and whole.
        drafts
            .load(visit.id, &identity)
            .map(|(v, _)| v.id)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    match started {
        Ok(id) => Redirect::to(&format!("/visit/{id}/consent")).into_response(),
        Err(e) => {
            let text = crate::i18n::half(&e, session.lang);
            refuse(view, "visit-start-failed", Some(text))
        }
    }
}

#[derive(Debug, Serialize)]
struct ConsentView {
    id: String,
    who: String,
    by: String,
    name: String,
    relation: String,
    /// A message id: what is missing.
    error: Option<String>,
    /// Why the draft could not be saved (for a technician).
    detail: Option<String>,
    /// After the answer: `given` or `refused`.
    done: Option<&'static str>,
}

/// Loads the draft `id` with the unlocked key; its resident's name (or reference).
fn load(
    app: &App,
    id: Uuid,
) -> Result<(jemput_kit::visit::Drafts, jemput_core::visit::Visit), String> {
    let identity = app
        .lock
        .identity(Instant::now())
        .ok_or_else(|| "locked".to_string())?;
    let home = KitHome::open(&app.home).map_err(|e| e.to_string())?;
    let drafts = home.drafts().map_err(|e| e.to_string())?;
    let (visit, _) = drafts.load(id, &identity).map_err(|e| e.to_string())?;
    Ok((drafts, visit))
}

fn who(v: &jemput_core::visit::Visit) -> String {
    v.resident
        .name
        .clone()
        .unwrap_or_else(|| match &v.resident.reference {
            jemput_core::visit::ResidentRef::Nik(n) => n.clone(),
            jemput_core::visit::ResidentRef::Worklist(w) => w.clone(),
        })
}

fn consent_page(app: &App, session: &Session, status: StatusCode, view: ConsentView) -> Response {
    let back = format!("/visit/{}/consent", view.id);
    app.pages.page(
        status,
        "consent.html",
        &Ctx {
            base: Base::new(app, session, &back),
            page: view,
        },
    )
}

/// `GET /visit/{id}/consent`.
pub async fn consent_form(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    match load(&app, id) {
        Ok((_, v)) => consent_page(
            &app,
            &session,
            StatusCode::OK,
            ConsentView {
                id: id.to_string(),
                who: who(&v),
                by: "resident".into(),
                name: String::new(),
                relation: String::new(),
                error: None,
                detail: None,
                done: None,
            },
        ),
        Err(e) => (StatusCode::NOT_FOUND, e).into_response(),
    }
}

/// `POST /visit/{id}/consent`: who consents and whether; saved in the draft at once.
pub async fn consent_submit(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if app.lock.locked(Instant::now()).is_some() {
        return Redirect::to("/unlock").into_response();
    }
    let (drafts, mut visit) = match load(&app, id) {
        Ok(x) => x,
        Err(e) => return (StatusCode::NOT_FOUND, e).into_response(),
    };
    let field = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut view = ConsentView {
        id: id.to_string(),
        who: who(&visit),
        by: field("by"),
        name: field("name"),
        relation: field("relation"),
        error: None,
        detail: None,
        done: None,
    };
    let given = match field("decision").as_str() {
        "given" => true,
        "refused" => false,
        _ => {
            view.error = Some("consent-need-decision".into());
            return consent_page(&app, &session, StatusCode::UNPROCESSABLE_ENTITY, view);
        }
    };
    let given_by = match view.by.as_str() {
        "family" | "guardian" if view.name.is_empty() => {
            view.error = Some("consent-need-name".into());
            return consent_page(&app, &session, StatusCode::UNPROCESSABLE_ENTITY, view);
        }
        "family" | "guardian" => {
            let relation = if view.relation.is_empty() {
                if view.by == "family" {
                    "keluarga"
                } else {
                    "wali"
                }
            } else {
                view.relation.as_str()
            };
            ConsentBy::Guardian(format!("{} ({relation})", view.name))
        }
        _ => ConsentBy::Resident,
    };
    visit.consent = Some(Consent {
        given,
        given_by,
        at: jiff::Timestamp::now(),
    });
    if let Err(e) = drafts.save_visit(&visit) {
        view.error = Some("consent-save-failed".into());
        view.detail = Some(e.to_string());
        return consent_page(&app, &session, StatusCode::INTERNAL_SERVER_ERROR, view);
    }
    if given {
        // On to the first capture the visit lacks (its capture steps: `capture.rs`).
        let to = match jemput_kit::visit::progress::first_missing(&visit) {
            Some(step) => format!("/visit/{id}/step/{}", step.id()),
            None => format!("/visit/{id}/review"),
        };
        return Redirect::to(&to).into_response();
    }
    view.done = Some("refused");
    consent_page(&app, &session, StatusCode::OK, view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_new_visit_form_and_a_consent_page_are_visit_paths() {
        assert!(is_visit_path("/visit/new"));
        assert!(is_visit_path("/visit/new?worklist=DEMO-002"));
        assert!(is_visit_path(
            "/visit/0b7d4d2e-5d7e-4f4f-9d59-1d2f3c4b5a69/consent"
        ));
        for bad in [
            "/visit/new?worklist=",
            "/visit/new?worklist=a&b=c",
            "/visit/new?next=//evil.example",
            "/visit/not-a-uuid/consent",
            "//evil.example/visit/new",
            "/visit/0b7d4d2e-5d7e-4f4f-9d59-1d2f3c4b5a69/consent/x",
        ] {
            assert!(!is_visit_path(bad), "{bad}");
        }
    }
}

//! The console's routes and its read-only pages: packets by state with search, one packet's
//! history, webhooks and undelivered events, the audit log; signing in and out and the language.
//! The pages that change something are in [`actions`].

pub mod actions;
pub(crate) mod frame;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use jemput_hub::events::DeliveryState;
use jemput_hub::office::{LoginRefused, Session};
use jemput_hub::packets::{PacketRow, PacketState};
use jemput_web::i18n::Lang;
use minijinja::{context, Value};
use serde::Deserialize;

use crate::guard::{self, cookie, now, COOKIE, LOGIN_COOKIE};
use crate::Console;
use frame::{base, blocking, lang_of, message, redirect, time};

/// Message ids the code (not a template) names.
pub const MESSAGE_IDS: &[&str] = &[
    "state-receiving",
    "state-rejected",
    "state-verified",
    "state-opened",
    "state-open_failed",
    "state-not_opened",
    "delivery-pending",
    "delivery-delivered",
    "delivery-gave_up",
    "login-wrong",
    "login-too-many",
];

/// Every console route, behind the guard.
pub fn routes(c: Arc<Console>) -> Router {
    Router::new()
        .route("/console", get(|| async { redirect("/console/") }))
        .route("/console/", get(packets))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/lang", post(set_lang))
        .route("/console/packets/{id}", get(packet))
        .route("/console/events", get(events))
        .route("/console/audit", get(audit))
        .route("/console/kits", get(actions::kits))
        .route("/console/kits/{id}/revoke", post(actions::revoke))
        .route("/console/tokens", post(actions::make_token))
        .route(
            "/console/worklist",
            get(actions::worklist).post(actions::import_worklist),
        )
        .route(
            "/console/settings",
            get(actions::settings).post(actions::save_settings),
        )
        .route(
            "/console/assets/{name}",
            get(|Path(name): Path<String>| async move {
                jemput_web::assets::serve(crate::ASSETS, &name)
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            c.clone(),
            guard::guard,
        ))
        .with_state(c)
}

pub(crate) fn state_code(s: PacketState) -> &'static str {
    match s {
        PacketState::Receiving => "receiving",
        PacketState::Rejected => "rejected",
        PacketState::Verified => "verified",
        PacketState::Opened => "opened",
        PacketState::OpenFailed => "open_failed",
        PacketState::NotOpened => "not_opened",
    }
}

fn delivery_code(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::GaveUp => "gave_up",
    }
}

fn kind_code(k: jemput_hub::events::EventKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn row_value(p: &PacketRow) -> Value {
    context! {
        packet_id => p.packet_id,
        kit_id => p.kit_id,
        size => p.size,
        received_at => time(p.received_at),
        state => state_code(p.state),
        offset => p.offset,
        files => p.files,
        reason => p.reason,
    }
}

/// The packets page's search: packet id or kit (parts of them), a day (`YYYY-MM-DD`, UTC), a
/// state.
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub kit: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub state: String,
}

impl Search {
    /// Whether `p` is found by this search.
    pub fn matches(&self, p: &PacketRow) -> bool {
        let (q, kit, date) = (self.q.trim(), self.kit.trim(), self.date.trim());
        (q.is_empty() || p.packet_id.contains(q))
            && (kit.is_empty() || p.kit_id.contains(kit))
            && (date.is_empty() || time(p.received_at).starts_with(date))
            && (self.state.is_empty() || state_code(p.state) == self.state)
    }
}

async fn packets(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
    Query(search): Query<Search>,
) -> Response {
    let data = c.hub.data().to_path_buf();
    let all = match blocking(move || jemput_hub::packets::list(&data)).await {
        Ok(p) => p,
        Err(e) => return message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let states = [
        PacketState::Receiving,
        PacketState::Rejected,
        PacketState::Verified,
        PacketState::Opened,
        PacketState::OpenFailed,
        PacketState::NotOpened,
    ];
    let counts: Vec<Value> = states
        .iter()
        .map(|&st| {
            context! { state => state_code(st), n => all.iter().filter(|p| p.state == st).count() }
        })
        .collect();
    // Newest first.
    let found: Vec<Value> = all
        .iter()
        .rev()
        .filter(|p| search.matches(p))
        .map(row_value)
        .collect();
    c.pages.page(
        StatusCode::OK,
        "packets.html",
        &context! { ..base(&s, "packets"), ..context! {
            counts => counts,
            packets => found,
            total => all.len(),
            q => search.q, kit => search.kit, date => search.date, state => search.state,
        } },
    )
}

async fn packet(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let data = c.hub.data().to_path_buf();
    let found = blocking(move || -> Result<_, jemput_hub::HubError> {
        let p = jemput_hub::packets::list(&data)?
            .into_iter()
            .find(|p| p.packet_id == id);
        let deliveries = match &p {
            Some(p) => jemput_hub::events::deliveries(&data)?
                .into_iter()
                .filter(|d| d.event.packet_id == p.packet_id)
                .collect(),
            None => Vec::new(),
        };
        Ok((p, deliveries))
    })
    .await;
    let (p, deliveries) = match found {
        Ok((Some(p), d)) => (p, d),
        Ok((None, _)) => {
            let text = c.i18n.text(lang_of(&s), "packet-unknown", None);
            return message(&c, &s, StatusCode::NOT_FOUND, text);
        }
        Err(e) => return message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let events: Vec<Value> = deliveries
        .iter()
        .map(|d| {
            context! {
                kind => kind_code(d.event.event),
                at => time(d.event.at),
                url => d.url,
                delivery => delivery_code(d.state),
                attempts => d.attempts,
                last_error => d.last_error,
            }
        })
        .collect();
    c.pages.page(
        StatusCode::OK,
        "packet.html",
        &context! { ..base(&s, "packets"), ..context! {
            p => row_value(&p),
            events => events,
            webhooks => c.hub.config().webhooks.len(),
            opens => c.hub.opens_packets(),
        } },
    )
}

async fn events(State(c): State<Arc<Console>>, Extension(s): Extension<Session>) -> Response {
    let data = c.hub.data().to_path_buf();
    let all = match blocking(move || jemput_hub::events::deliveries(&data)).await {
        Ok(d) => d,
        Err(e) => return message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let hooks: Vec<Value> = c
        .hub
        .config()
        .webhooks
        .iter()
        .map(|h| {
            let mine = all.iter().filter(|d| d.url == h.url);
            context! {
                url => h.url,
                delivered => mine.clone().filter(|d| d.state == DeliveryState::Delivered).count(),
                pending => mine.clone().filter(|d| d.state == DeliveryState::Pending).count(),
                gave_up => mine.filter(|d| d.state == DeliveryState::GaveUp).count(),
            }
        })
        .collect();
    let undelivered: Vec<Value> = all
        .iter()
        .filter(|d| d.state != DeliveryState::Delivered)
        .map(|d| {
            context! {
                kind => kind_code(d.event.event),
                packet_id => d.event.packet_id,
                kit_id => d.event.kit_id,
                at => time(d.event.at),
                url => d.url,
                delivery => delivery_code(d.state),
                attempts => d.attempts,
                last_error => d.last_error,
            }
        })
        .collect();
    c.pages.page(
        StatusCode::OK,
        "events.html",
        &context! { ..base(&s, "events"), ..context! { hooks => hooks, undelivered => undelivered } },
    )
}

async fn audit(State(c): State<Arc<Console>>, Extension(s): Extension<Session>) -> Response {
    let office = c.office.clone();
    let log = match blocking(move || office.audit(500)).await {
        Ok(l) => l,
        Err(e) => return message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let rows: Vec<Value> = log
        .iter()
        .map(|e| context! { at => time(e.at), actor => e.actor, action => e.action, detail => e.detail })
        .collect();
    c.pages.page(
        StatusCode::OK,
        "audit.html",
        &context! { ..base(&s, "audit"), ..context! { log => rows } },
    )
}

fn login_form(c: &Console, status: StatusCode, lang: Lang, error: Option<String>) -> Response {
    let token = jemput_web::http::random_token();
    let mut r = c.pages.page(
        status,
        "login.html",
        &context! { lang => lang.code(), csrf => token, error => error },
    );
    r.headers_mut()
        .append(header::SET_COOKIE, cookie(LOGIN_COOKIE, &token, Some(3600)));
    r
}

#[derive(Debug, Deserialize)]
struct LangQuery {
    #[serde(default)]
    lang: String,
}

async fn login_page(State(c): State<Arc<Console>>, Query(q): Query<LangQuery>) -> Response {
    login_form(
        &c,
        StatusCode::OK,
        Lang::parse(&q.lang).unwrap_or_default(),
        None,
    )
}

/// The address sign-in failures are counted against. A connection from one of `trusted`
/// (`trusted_proxies` in hub.toml) carries the browser's address in `X-Forwarded-For`: each proxy
/// appends the address it saw, so the entries are read from the right, past the trusted proxies,
/// and the first other one is the browser's (anything left of it the browser could have written
/// itself). From any other peer the header is ignored.
pub(crate) fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip.to_string(),
            // Not an address: the chain cannot be followed past it.
            Err(_) => break,
        }
    }
    peer.to_string()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    lang: String,
}

async fn login(
    State(c): State<Arc<Console>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = Lang::parse(&f.lang).unwrap_or_default();
    // The browser's address: the connection's, or behind a trusted proxy the one it forwarded.
    let address = client_address(
        peer.map(|Extension(ConnectInfo(a))| a.ip()),
        &headers,
        &c.hub.config().trusted_proxies,
    );
    let office = c.office.clone();
    let name = f.name.trim().to_string();
    let tried = blocking(move || office.login(&name, &f.password, &address, now())).await;
    match tried {
        Ok(Ok(session)) => {
            if lang != Lang::default() {
                let (office, id) = (c.office.clone(), session.id.clone());
                let _ = blocking(move || office.set_lang(&id, lang.code())).await;
            }
            let mut r = redirect("/console/");
            let h = r.headers_mut();
            h.append(header::SET_COOKIE, cookie(COOKIE, &session.id, None));
            h.append(header::SET_COOKIE, cookie(LOGIN_COOKIE, "", Some(0)));
            r
        }
        Ok(Err(LoginRefused::Wrong)) => {
            let text = c.i18n.text(lang, "login-wrong", None);
            login_form(&c, StatusCode::UNAUTHORIZED, lang, Some(text))
        }
        Ok(Err(LoginRefused::TooMany { retry_after_secs })) => {
            let args = fluent_args((retry_after_secs + 59) / 60);
            let text = c.i18n.text(lang, "login-too-many", Some(&args));
            let mut r = login_form(&c, StatusCode::TOO_MANY_REQUESTS, lang, Some(text));
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(e) => {
            tracing::error!("console sign-in: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
    }
}

fn fluent_args(minutes: i64) -> jemput_web::FluentArgs<'static> {
    let mut a = jemput_web::FluentArgs::new();
    a.set("minutes", minutes);
    a
}

async fn logout(State(c): State<Arc<Console>>, Extension(s): Extension<Session>) -> Response {
    let office = c.office.clone();
    let id = s.id.clone();
    if let Err(e) = blocking(move || office.logout(&id)).await {
        tracing::warn!("console sign-out: {e}");
    }
    let mut r = redirect("/console/login");
    r.headers_mut()
        .append(header::SET_COOKIE, cookie(COOKIE, "", Some(0)));
    r
}

#[derive(Debug, Deserialize)]
struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

async fn set_lang(
    State(c): State<Arc<Console>>,
    Extension(s): Extension<Session>,
    Form(f): Form<LangForm>,
) -> Response {
    let lang = Lang::parse(&f.lang).unwrap_or_default();
    let office = c.office.clone();
    let id = s.id.clone();
    if let Err(e) = blocking(move || office.set_lang(&id, lang.code())).await {
        return message(&c, &s, StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    // Only back to a console page.
    let back = if f.back.starts_with("/console/") && !f.back.contains("//") {
        f.back
    } else {
        "/console/".into()
    };
    redirect(&back)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, kit: &str, at: &str, state: PacketState) -> PacketRow {
        PacketRow {
            packet_id: id.into(),
            kit_id: kit.into(),
            size: 1,
            received_at: at.parse().unwrap(),
            state,
            offset: None,
            files: None,
            reason: None,
        }
    }

    #[test]
    fn the_search_finds_by_packet_kit_day_and_state_together() {
        let a = row(
            "8391cd53-aa",
            "kit-3f9a",
            "2026-11-27T09:14:02Z",
            PacketState::Opened,
        );
        let b = row(
            "5be0a7f4-bb",
            "kit-77",
            "2026-11-28T23:59:59Z",
            PacketState::Receiving,
        );
        let search = |q: &str, kit: &str, date: &str, state: &str| Search {
            q: q.into(),
            kit: kit.into(),
            date: date.into(),
            state: state.into(),
        };
        let found = |s: Search| -> Vec<&str> {
            [&a, &b]
                .into_iter()
                .filter(|p| s.matches(p))
                .map(|p| p.packet_id.as_str())
                .collect()
        };
        assert_eq!(found(Search::default()).len(), 2);
        assert_eq!(found(search(" 8391 ", "", "", "")), ["8391cd53-aa"]);
        assert_eq!(found(search("", "kit-77", "", "")), ["5be0a7f4-bb"]);
        assert_eq!(found(search("", "", "2026-11-27", "")), ["8391cd53-aa"]);
        assert_eq!(found(search("", "", "", "receiving")), ["5be0a7f4-bb"]);
        assert!(found(search("8391", "kit-77", "", "")).is_empty());
        assert!(found(search("", "", "2026-11-29", "")).is_empty());
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_browsers_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy() {
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let outer: IpAddr = "10.0.0.2".parse().unwrap();
        let browser = "203.0.113.7";
        let h = forwarded(&[browser]);
        // No proxy trusted: the header is anyone's word.
        assert_eq!(client_address(Some(proxy), &h, &[]), "127.0.0.1");
        // Through the trusted proxy: the browser's.
        assert_eq!(client_address(Some(proxy), &h, &[proxy]), browser);
        // From a peer that is not trusted, even with a trusted proxy configured: ignored.
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(client_address(Some(stranger), &h, &[proxy]), "198.51.100.9");
        // A browser that writes its own header gets the address the proxy appended, not its lie.
        let h = forwarded(&["1.2.3.4", browser]);
        assert_eq!(client_address(Some(proxy), &h, &[proxy]), browser);
        let h = forwarded(&["1.2.3.4, 203.0.113.7"]);
        assert_eq!(client_address(Some(proxy), &h, &[proxy]), browser);
        // Two trusted proxies in a row are both passed.
        let h = forwarded(&["203.0.113.7, 10.0.0.2"]);
        assert_eq!(client_address(Some(proxy), &h, &[proxy, outer]), browser);
        // Garbage or no header: the connection's address.
        let h = forwarded(&["not-an-address"]);
        assert_eq!(client_address(Some(proxy), &h, &[proxy]), "127.0.0.1");
        assert_eq!(
            client_address(Some(proxy), &HeaderMap::new(), &[proxy]),
            "127.0.0.1"
        );
        assert_eq!(client_address(None, &h, &[proxy]), "unknown");
    }
}

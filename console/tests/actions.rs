//! Every console action through the router as a browser would send it: signing in (and its
//! CSRF, rate limit and cookie flags), a viewer refused on every change, CSRF refused on every
//! form, tokens with their QR code, revoking a kit, the worklist import with every bad row, the
//! settings, and the audit log of it all.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use jemput_core::keys::SigningKey;
use jemput_hub::office::{Office, Role, CLI_ACTOR, MAX_FAILURES_PER_ACCOUNT};
use jemput_hub::Hub;
use tower::ServiceExt;

const PASSWORD: &str = "kata-sandi-kantor";

struct Fixture {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    app: Router,
    hub: Arc<Hub>,
}

fn fixture() -> Fixture {
    fixture_with(&[])
}

/// A hub with `trusted_proxies` set in its hub.toml.
fn fixture_with(trusted_proxies: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    jemput_hub::init(&data).unwrap();
    let mut config = jemput_hub::HubConfig::load(&data).unwrap();
    config.trusted_proxies = trusted_proxies.iter().map(|a| a.parse().unwrap()).collect();
    config.save(&data).unwrap();
    let office = Office::open(&data).unwrap();
    office
        .add_account(CLI_ACTOR, "siti", Role::Admin, PASSWORD)
        .unwrap();
    office
        .add_account(CLI_ACTOR, "budi", Role::Viewer, PASSWORD)
        .unwrap();
    let hub = Arc::new(Hub::open(&data).unwrap());
    hub.registry()
        .add("kit-a", &SigningKey::generate().public(), Some("Tim A"))
        .unwrap();
    let app = jemput_console::router(hub.clone()).unwrap();
    Fixture {
        _dir: dir,
        data,
        app,
        hub,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 24).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header(header::HOST, "hub.test");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, "hub.test")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

/// The `value` of the hidden `csrf` input of a page.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..at + 64].to_string()
}

fn set_cookies(a: &Answer) -> Vec<String> {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// Signs `name` in; returns (the session cookie header, the session's CSRF token).
async fn sign_in(app: &Router, name: &str) -> (String, String) {
    let a = try_sign_in(app, name, PASSWORD).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let session = set_cookies(&a)
        .into_iter()
        .find(|c| c.starts_with("jemput_console="))
        .unwrap();
    let cookie = session.split(';').next().unwrap().to_string();
    let page = send(app, get("/console/", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    (cookie, csrf_of(&page.body))
}

async fn try_sign_in(app: &Router, name: &str, password: &str) -> Answer {
    let form = send(app, get("/console/login", None)).await;
    let pre = set_cookies(&form)
        .into_iter()
        .find(|c| c.starts_with("jemput_console_login="))
        .unwrap();
    let pre = pre.split(';').next().unwrap().to_string();
    let body = format!(
        "csrf={}&name={name}&password={password}",
        csrf_of(&form.body)
    );
    send(app, post("/console/login", &pre, &body)).await
}

#[tokio::test]
async fn signing_in_gives_a_secure_session_cookie_and_pages_need_one() {
    let f = fixture();
    // Without a session: pages go to the sign-in page, changes are refused.
    let a = send(&f.app, get("/console/kits", None)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers[header::LOCATION], "/console/login");
    let a = send(&f.app, post("/console/kits/kit-a/revoke", "", "csrf=x")).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = try_sign_in(&f.app, "siti", "salah-sandi").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(
        a.body.contains("Nama akun atau kata sandi salah"),
        "{}",
        a.body
    );
    let a = try_sign_in(&f.app, "siti", PASSWORD).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let session = set_cookies(&a)
        .into_iter()
        .find(|c| c.starts_with("jemput_console="))
        .unwrap();
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(session.contains(flag), "{session}");
    }
    let cookie = session.split(';').next().unwrap();
    let page = send(&f.app, get("/console/kits", Some(cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("kit-a"));
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert!(page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    // Signing out ends the session.
    let csrf = csrf_of(&page.body);
    let a = send(
        &f.app,
        post("/console/logout", cookie, &format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = send(&f.app, get("/console/kits", Some(cookie))).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "the session is gone");
}

#[tokio::test]
async fn signing_in_without_the_form_token_is_refused() {
    let f = fixture();
    let body = format!("name=siti&password={PASSWORD}");
    let a = send(&f.app, post("/console/login", "", &body)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send(
        &f.app,
        post(
            "/console/login",
            "jemput_console_login=aaaa",
            &format!("csrf=bbbb&{body}"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn too_many_failed_sign_ins_are_refused_even_with_the_right_password() {
    let f = fixture();
    for _ in 0..MAX_FAILURES_PER_ACCOUNT {
        let a = try_sign_in(&f.app, "siti", "salah-sandi").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = try_sign_in(&f.app, "siti", PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    assert!(
        a.body.contains("Terlalu banyak percobaan gagal"),
        "{}",
        a.body
    );
    // Another account is not held back by it.
    sign_in(&f.app, "budi").await;
}

#[tokio::test]
async fn a_form_without_the_session_csrf_token_or_from_another_origin_is_refused() {
    let f = fixture();
    let (cookie, csrf) = sign_in(&f.app, "siti").await;
    for form in ["", "csrf=", "csrf=0000"] {
        let a = send(&f.app, post("/console/kits/kit-a/revoke", &cookie, form)).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{form}");
        assert!(a.body.contains("CSRF"));
    }
    let mut req = post(
        "/console/kits/kit-a/revoke",
        &cookie,
        &format!("csrf={csrf}"),
    );
    req.headers_mut()
        .insert(header::ORIGIN, "https://evil.test".parse().unwrap());
    assert_eq!(send(&f.app, req).await.status, StatusCode::FORBIDDEN);
    assert!(!f.hub.registry().get("kit-a").unwrap().unwrap().revoked);
    // A multipart form to a route that does not check its parts is refused too.
    let req = Request::post("/console/settings")
        .header(header::HOST, "hub.test")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body(Body::from("--x--\r\n"))
        .unwrap();
    assert_eq!(send(&f.app, req).await.status, StatusCode::FORBIDDEN);
    // And the worklist import needs its csrf part.
    let a = send(&f.app, worklist_upload(&cookie, "nope", GOOD_CSV)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(jemput_hub::kit_sync::load_worklist(&f.data)
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_admin_revokes_a_kit_and_the_audit_log_says_who() {
    let f = fixture();
    let (cookie, csrf) = sign_in(&f.app, "siti").await;
    let a = send(
        &f.app,
        post(
            "/console/kits/kit-a/revoke",
            &cookie,
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(f.hub.registry().get("kit-a").unwrap().unwrap().revoked);
    let a = send(
        &f.app,
        post(
            "/console/kits/no-such-kit/revoke",
            &cookie,
            &format!("csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let log = send(&f.app, get("/console/audit", Some(&cookie))).await;
    assert!(log.body.contains("kit.revoke"), "{}", log.body);
    let entry = &Office::open(&f.data).unwrap().audit(1).unwrap()[0];
    assert_eq!(
        (
            entry.actor.as_str(),
            entry.action.as_str(),
            entry.detail.as_str()
        ),
        ("siti", "kit.revoke", "kit-a")
    );
}

#[tokio::test]
async fn a_viewer_sees_everything_and_changes_nothing() {
    let f = fixture();
    let (cookie, csrf) = sign_in(&f.app, "budi").await;
    for page in [
        "/console/",
        "/console/kits",
        "/console/worklist",
        "/console/settings",
        "/console/events",
        "/console/audit",
    ] {
        let a = send(&f.app, get(page, Some(&cookie))).await;
        assert_eq!(a.status, StatusCode::OK, "{page}");
    }
    let before = Office::open(&f.data).unwrap().audit(100).unwrap().len();
    for (path, form) in [
        ("/console/kits/kit-a/revoke", String::new()),
        ("/console/tokens", "name=x&hours=1".into()),
        ("/console/settings", "settings=".into()),
    ] {
        let a = send(&f.app, post(path, &cookie, &format!("csrf={csrf}&{form}"))).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
        assert!(a.body.contains("viewer"), "{}", a.body);
    }
    let a = send(&f.app, worklist_upload(&cookie, &csrf, GOOD_CSV)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(!f.hub.registry().get("kit-a").unwrap().unwrap().revoked);
    assert!(jemput_hub::kit_sync::load_worklist(&f.data)
        .unwrap()
        .is_none());
    assert_eq!(
        Office::open(&f.data).unwrap().audit(100).unwrap().len(),
        before
    );
    // The language is the viewer's own to change.
    let a = send(
        &f.app,
        post(
            "/console/lang",
            &cookie,
            &format!("csrf={csrf}&lang=en&back=/console/kits"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let a = send(&f.app, get("/console/kits", Some(&cookie))).await;
    assert!(a.body.contains("Registered kits"), "{}", a.body);
}

#[tokio::test]
async fn a_token_is_shown_once_as_text_and_as_a_qr_code() {
    let f = fixture();
    let (cookie, csrf) = sign_in(&f.app, "siti").await;
    let a = send(
        &f.app,
        post(
            "/console/tokens",
            &cookie,
            &format!("csrf={csrf}&name=Tim+B&hours=24"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("src=\"data:image/svg+xml;base64,"),
        "{}",
        a.body
    );
    let field = "id=\"token\" readonly value=\"";
    let at = a.body.find(field).unwrap() + field.len();
    let token: String = a.body[at..].chars().take_while(|&c| c != '"').collect();
    // As the browser reads the attribute.
    let token = token
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&amp;", "&");
    assert!(token.len() > 40, "{token}");
    let qr = jemput_console::pages::actions::qr_data_url(&token).unwrap();
    assert!(a.body.contains(&qr), "the QR code encodes the token shown");
    let entry = &Office::open(&f.data).unwrap().audit(1).unwrap()[0];
    assert_eq!(entry.action, "token.issue");
    assert!(entry.detail.ends_with("(Tim B)"), "{}", entry.detail);
    // A lifetime that is not a number, or out of range, is said and nothing issued.
    for hours in ["abc", "0", "100000"] {
        let a = send(
            &f.app,
            post(
                "/console/tokens",
                &cookie,
                &format!("csrf={csrf}&hours={hours}"),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{hours}");
    }
    assert_eq!(
        Office::open(&f.data).unwrap().audit(1).unwrap()[0].action,
        "token.issue"
    );
}

const GOOD_CSV: &str = "nik,id,nama,alamat,rt/rw,desa,kategori,catatan,kit\n\
7408014501500003,,Siti Aminah,Jl. Mawar 3,003/005,Lapadi,lansia,,\n\
,WL-2,Budi Santoso,RSUD ruang 4,,Pujungan,rumah_sakit,,\n";

fn worklist_upload(cookie: &str, csrf: &str, csv: &str) -> Request<Body> {
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"wl.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--B--\r\n"
    );
    Request::post("/console/worklist")
        .header(header::HOST, "hub.test")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_worklist_with_bad_rows_shows_every_one_and_imports_nothing() {
    let f = fixture();
    let (cookie, csrf) = sign_in(&f.app, "siti").await;
    let bad = format!(
        "{GOOD_CSV},WL-3,Tanpa Desa,,,,umum,,\n,WL-4,Kategori Salah,,,Lapadi,bukan,,\n,WL-2,Dua Kali,,,Lapadi,umum,,\n"
    );
    let a = send(&f.app, worklist_upload(&cookie, &csrf, &bad)).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(a.body.contains("3 baris salah di wl.csv"), "{}", a.body);
    let table = &a.body[a.body.find("id=\"bad-rows\"").unwrap()..];
    for line in ["<td>4</td>", "<td>5</td>", "<td>6</td>"] {
        assert!(table.contains(line), "row {line} missing: {table}");
    }
    // Each reason in the session's language (Bahasa Indonesia first), not the CLI's English.
    for says in [
        "Kosong",
        "“bukan” bukan kategori; pakai salah satu dari",
        "Id “WL-2” sudah ada di baris sebelumnya",
    ] {
        assert!(table.contains(says), "{says:?} missing: {table}");
    }
    assert!(!table.contains("is not a category"), "{table}");
    assert!(jemput_hub::kit_sync::load_worklist(&f.data)
        .unwrap()
        .is_none());
    let a = send(&f.app, worklist_upload(&cookie, &csrf, GOOD_CSV)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("2 entri diimpor"), "{}", a.body);
    let saved = jemput_hub::kit_sync::load_worklist(&f.data)
        .unwrap()
        .unwrap();
    assert_eq!(saved.entries.len(), 2);
    assert_eq!(saved.source, "wl.csv");
    let entry = &Office::open(&f.data).unwrap().audit(1).unwrap()[0];
    assert_eq!(
        (entry.action.as_str(), entry.detail.as_str()),
        ("worklist.import", "wl.csv: 2 entries")
    );
}

#[tokio::test]
async fn settings_are_checked_before_they_are_saved() {
    let f = fixture();
    let (cookie, csrf) = sign_in(&f.app, "siti").await;
    let page = send(&f.app, get("/console/settings", Some(&cookie))).await;
    assert!(
        page.body.contains("max_days_since_sync = 14"),
        "{}",
        page.body
    );
    let form = |t: &str| {
        let mut s = format!("csrf={csrf}&settings=");
        for b in t.bytes() {
            s.push_str(&format!("%{b:02X}"));
        }
        s
    };
    let a = send(
        &f.app,
        post(
            "/console/settings",
            &cookie,
            &form("[policy]\nmax_days_since_sync = \"x\"\n"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body.contains("Pengaturan tidak disimpan"), "{}", a.body);
    assert_eq!(
        jemput_hub::kit_sync::load_settings(&f.data).unwrap(),
        jemput_core::wire::sync::KitSettings::recommended()
    );
    let a = send(
        &f.app,
        post(
            "/console/settings",
            &cookie,
            &form("[policy]\nmax_days_since_sync = 3\n"),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let s = jemput_hub::kit_sync::load_settings(&f.data).unwrap();
    assert_eq!(s.policy.max_days_since_sync, Some(3));
    assert_eq!(
        Office::open(&f.data).unwrap().audit(1).unwrap()[0].action,
        "settings.save"
    );
}

#[tokio::test]
async fn an_unknown_packet_is_a_page_that_says_so() {
    let f = fixture();
    let (cookie, _) = sign_in(&f.app, "budi").await;
    let a = send(&f.app, get("/console/packets/nope", Some(&cookie))).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body.contains("Hub tidak mengenal paket ini"));
    let a = send(&f.app, get("/console/events", Some(&cookie))).await;
    assert!(a.body.contains("Belum ada webhook"), "{}", a.body);
}

/// One failed sign-in for `name` from `browser`, as HAProxy on 127.0.0.1 forwards it.
async fn fail_through_proxy(app: &Router, name: &str, browser: &str) -> StatusCode {
    let form = send(app, get("/console/login", None)).await;
    let pre = set_cookies(&form)
        .into_iter()
        .find(|c| c.starts_with("jemput_console_login="))
        .unwrap();
    let pre = pre.split(';').next().unwrap().to_string();
    let body = format!("csrf={}&name={name}&password=salah", csrf_of(&form.body));
    let mut req = post("/console/login", &pre, &body);
    req.headers_mut()
        .insert("x-forwarded-for", browser.parse().unwrap());
    let proxy: std::net::SocketAddr = "127.0.0.1:50000".parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(proxy));
    send(app, req).await.status
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_guessing_browser_does_not_lock_out_the_others() {
    // 20 failures (the per-address limit) from one browser, each under another name so the
    // per-account limit stays out of it, then one more try from a second browser.
    async fn second_browser_after_guessing(f: &Fixture) -> StatusCode {
        for i in 0..20 {
            let s = fail_through_proxy(&f.app, &format!("tebak{i}"), "203.0.113.7").await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
        let guesser = fail_through_proxy(&f.app, "tebak-lagi", "203.0.113.7").await;
        assert_eq!(guesser, StatusCode::TOO_MANY_REQUESTS);
        fail_through_proxy(&f.app, "siti", "198.51.100.20").await
    }
    // With the proxy trusted, the second browser is only told its password is wrong…
    let trusted = fixture_with(&["127.0.0.1"]);
    assert_eq!(
        second_browser_after_guessing(&trusted).await,
        StatusCode::UNAUTHORIZED
    );
    // …without it, everyone behind the proxy shares its address and is refused.
    let untrusted = fixture();
    assert_eq!(
        second_browser_after_guessing(&untrusted).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

//! The station's guard over real HTTP on loopback, request by request as a browser (or an
//! attacker's page) would send them: the token URL, the session cookie, the Host check, CSRF and
//! Origin on POST, `no-store`, and the lock.

mod common;

use std::time::Duration;

use common::{csrf_of, get, login, post, send, start, start_locking_after};
use jemput_station::{Options, Station, StationError};

#[test]
fn without_the_url_token_every_request_is_forbidden() {
    let r = start();
    let host = r.addr.to_string();
    for path in ["/", "/unlock", "/home", "/assets/htmx.min.js", "/nowhere"] {
        let a = get(r.addr, path, &host, None);
        assert_eq!(a.status, 403, "{path}: {}", a.head);
        assert!(a.body.contains("Ditolak"), "{}", a.body);
        assert_eq!(a.header("cache-control").as_deref(), Some("no-store"));
    }
    // A wrong token, or a made-up session cookie, is no better.
    let a = get(r.addr, "/?token=00", &host, None);
    assert_eq!(a.status, 403);
    let a = get(r.addr, "/home", &host, Some("jemput_station=made-up"));
    assert_eq!(a.status, 403);
}

#[test]
fn a_foreign_host_is_refused_even_with_a_session() {
    let r = start();
    let cookie = login(&r);
    let port = r.addr.port();
    for host in [
        format!("evil.example:{port}"),
        format!("localhost:{port}"),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
    ] {
        let a = get(r.addr, "/unlock", &host, Some(&cookie));
        assert_eq!(a.status, 403, "Host {host}: {}", a.head);
        assert!(a.body.contains("Host"), "{}", a.body);
    }
    // The token URL under a foreign Host starts no session either.
    let q = &r.url[r.url.find("/?").unwrap()..];
    let a = get(r.addr, q, &format!("evil.example:{port}"), None);
    assert_eq!(a.status, 403);
    assert!(a.header("set-cookie").is_none());
    // The station's own Host works.
    let a = get(r.addr, "/unlock", &r.addr.to_string(), Some(&cookie));
    assert_eq!(a.status, 200, "{}", a.head);
}

#[test]
fn a_post_needs_the_sessions_csrf_token_and_the_stations_origin() {
    let r = start();
    let cookie = login(&r);
    let page = get(r.addr, "/unlock", &r.addr.to_string(), Some(&cookie));
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(page.body.contains("Buka kunci"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let pass = "passphrase=kata+sandi+uji";

    // No token, a wrong one, another session's, a foreign Origin: refused, and still locked.
    let other = login(&r);
    let other_csrf = csrf_of(&get(r.addr, "/unlock", &r.addr.to_string(), Some(&other)).body);
    assert_ne!(other_csrf, csrf);
    let origin = format!("Origin: http://{}\r\n", r.addr);
    for (extra, body) in [
        (origin.clone(), pass.to_string()),
        (origin.clone(), format!("{pass}&csrf={}", "0".repeat(64))),
        (origin.clone(), format!("{pass}&csrf={other_csrf}")),
        (
            "Origin: http://evil.example\r\n".to_string(),
            format!("{pass}&csrf={csrf}"),
        ),
        (
            "X-CSRF-Token: nope\r\n".to_string(),
            format!("{pass}&csrf={csrf}"),
        ),
    ] {
        let a = post(r.addr, "/unlock", &cookie, &extra, &body);
        assert_eq!(a.status, 403, "{extra} {body}: {}", a.head);
        assert!(a.body.contains("CSRF"), "{}", a.body);
    }
    let a = get(r.addr, "/home", &r.addr.to_string(), Some(&cookie));
    assert_eq!(a.status, 303, "still locked");
    assert_eq!(a.header("location").as_deref(), Some("/unlock"));

    // A GET cannot change anything: unlocking by GET is not a route.
    let a = get(
        r.addr,
        "/unlock?passphrase=x",
        &r.addr.to_string(),
        Some(&cookie),
    );
    assert_eq!(a.status, 200);
    // Nor does any other method pass.
    let a = send(
        r.addr,
        &format!(
            "PUT /unlock HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            r.addr
        ),
    );
    assert_eq!(a.status, 405);

    // The wrong passphrase with a valid token: a clear message, still locked.
    let a = post(
        r.addr,
        "/unlock",
        &cookie,
        &origin,
        &format!("passphrase=salah&csrf={csrf}"),
    );
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Kata sandi salah"), "{}", a.body);
    // The right one (the token in the form, no Origin sent): home.
    let a = post(
        r.addr,
        "/unlock",
        &cookie,
        "",
        &format!("{pass}&csrf={csrf}"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location").as_deref(), Some("/home"));
    let home = get(r.addr, "/home", &r.addr.to_string(), Some(&cookie));
    assert_eq!(home.status, 200, "{}", home.body);
    assert_eq!(home.header("cache-control").as_deref(), Some("no-store"));
    assert!(home.body.contains("Beranda"), "{}", home.body);
    assert!(home.body.contains("Kunjungan berjalan"), "{}", home.body);
    // Locking by the header form of the token (as htmx sends it).
    let a = post(
        r.addr,
        "/lock",
        &cookie,
        &format!("X-CSRF-Token: {csrf}\r\n"),
        "",
    );
    assert_eq!(a.status, 303);
    let a = get(r.addr, "/home", &r.addr.to_string(), Some(&cookie));
    assert_eq!(a.status, 303);
}

#[test]
fn the_language_is_the_sessions_and_switches_only_by_post() {
    let r = start();
    let cookie = login(&r);
    let page = get(r.addr, "/unlock", &r.addr.to_string(), Some(&cookie));
    assert!(page.body.contains("<html lang=\"id\">"));
    let csrf = csrf_of(&page.body);
    let a = post(
        r.addr,
        "/lang",
        &cookie,
        "",
        &format!("lang=en&back=/unlock&csrf={csrf}"),
    );
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location").as_deref(), Some("/unlock"));
    let page = get(r.addr, "/unlock", &r.addr.to_string(), Some(&cookie));
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("Unlock the kit"), "{}", page.body);
    // Another session keeps its own language; `back` never leaves the station.
    let other = login(&r);
    let page = get(r.addr, "/unlock", &r.addr.to_string(), Some(&other));
    assert!(page.body.contains("Buka kunci kit"));
    let a = post(
        r.addr,
        "/lang",
        &cookie,
        "",
        &format!("lang=id&back=https://evil.example/&csrf={csrf}"),
    );
    assert_eq!(a.header("location").as_deref(), Some("/"));
    let a = post(
        r.addr,
        "/lang",
        &cookie,
        "",
        &format!("lang=xx&csrf={csrf}"),
    );
    assert_eq!(a.status, 400);
}

#[test]
fn only_a_loopback_address_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let opts = |listen: &str| Options {
        home: dir.path().to_path_buf(),
        listen: listen.parse().unwrap(),
        lock_after: Duration::from_secs(600),
        training: None,
    };
    for addr in ["0.0.0.0:0", "192.0.2.7:8765", "[::]:0"] {
        let e = Station::bind(opts(addr)).unwrap_err();
        assert!(matches!(e, StationError::NotLoopback(_)), "{addr}: {e}");
        assert!(e.to_string().contains("not a loopback address"), "{e}");
    }
    // A loopback address on a directory with no kit: the kit's own error, naming `jemput init`.
    let e = Station::bind(opts("127.0.0.1:0")).unwrap_err();
    assert!(e.to_string().contains("jemput init"), "{e}");
}

#[test]
fn an_idle_station_locks_itself_and_says_so() {
    let r = start_locking_after(Duration::from_secs(2));
    let cookie = login(&r);
    let host = r.addr.to_string();
    let csrf = csrf_of(&get(r.addr, "/unlock", &host, Some(&cookie)).body);
    let a = post(
        r.addr,
        "/unlock",
        &cookie,
        "",
        &format!("passphrase=kata+sandi+uji&csrf={csrf}"),
    );
    assert_eq!(a.status, 303);
    // Activity keeps it open…
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(get(r.addr, "/home", &host, Some(&cookie)).status, 200);
    }
    // …and idle time closes it: home sends to the unlock page, which says why.
    std::thread::sleep(Duration::from_millis(2500));
    let a = get(r.addr, "/home", &host, Some(&cookie));
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location").as_deref(), Some("/unlock"));
    let page = get(r.addr, "/unlock", &host, Some(&cookie));
    assert!(page.body.contains("Kit terkunci otomatis"), "{}", page.body);
}

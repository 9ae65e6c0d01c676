//! Resume, review, seal and upload over HTTP, checked against the kit itself: drafts filled by the
//! kit's synthetic filler (as `jemput visit new --synthetic` fills them), the review showing what
//! the draft holds, sealing through the kit's library into the queue (the packet opened with the
//! office's identity), and the refusals — a missing finger named with the step that fixes it,
//! NIK warnings left unticked — that keep the draft.

mod common;

use age::secrecy::SecretString;
use common::{csrf_of, get, login, post, start_with_office, Running, PASS};
use jemput_core::visit::{Category, ExceptionReason, FingerPosition, Permanence, Sex, Slot, Visit};
use jemput_kit::home::KitHome;
use jemput_kit::new_visit::{start, NewVisit, Synthetic};
use jemput_kit::store::{State, Store};
use jemput_kit::visit::attempt::Subject;
use uuid::Uuid;

const NIK: &str = "7408014512500001"; // a woman born 1950-12-05

struct Session {
    cookie: String,
    csrf: String,
}

fn unlocked(r: &Running) -> Session {
    let cookie = login(r);
    let csrf = csrf_of(&get(r.addr, "/unlock", &r.addr.to_string(), Some(&cookie)).body);
    let a = post(
        r.addr,
        "/unlock",
        &cookie,
        "",
        &format!("passphrase=kata+sandi+uji&csrf={csrf}"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    Session { cookie, csrf }
}

fn identity(r: &Running) -> age::x25519::Identity {
    KitHome::open(&r.home)
        .unwrap()
        .unlock_drafts(&SecretString::from(PASS.to_string()))
        .unwrap()
}

/// A draft filled by the synthetic filler, with finger 7 bandaged for good.
fn synthetic_draft(r: &Running, sex: Sex, seed: u64) -> Visit {
    let home = KitHome::open(&r.home).unwrap();
    let drafts = home.drafts().unwrap();
    start(
        &home,
        &drafts,
        &NewVisit {
            nik: Some(NIK.into()),
            name: Some("Siti Aminah".into()),
            sex: Some(sex),
            birth_date: Some(jiff::civil::date(1950, 12, 5)),
            category: Some(Category::Lansia),
            place: "Desa Lapadi".into(),
            consent: Some("resident".into()),
            synthetic: Some(Synthetic {
                seed,
                ..Default::default()
            }),
            exceptions: vec![(
                Subject::Finger(FingerPosition::new(7).unwrap()),
                ExceptionReason::BandagedOrInjured,
                Permanence::Permanent,
            )],
            ..Default::default()
        },
    )
    .unwrap()
}

fn draft_ids(r: &Running) -> Vec<Uuid> {
    KitHome::open(&r.home)
        .unwrap()
        .drafts()
        .unwrap()
        .list()
        .unwrap()
}

/// `html` with the escapes the templates write for `/` and `'` undone.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&#x27;", "'")
}

/// The part of `html` from `from` up to the next `until`.
fn section<'a>(html: &'a str, from: &str, until: &str) -> &'a str {
    let at = html
        .find(from)
        .unwrap_or_else(|| panic!("no {from} in {html}"));
    let rest = &html[at..];
    &rest[..rest[from.len()..]
        .find(until)
        .map_or(rest.len(), |e| e + from.len())]
}

#[test]
fn a_synthetic_visit_is_reviewed_with_its_scores_and_sealed_into_the_queue() {
    let r = start_with_office();
    let s = unlocked(&r);
    let host = r.addr.to_string();
    let mut v = synthetic_draft(&r, Sex::Female, 11);
    let id = v.id;
    // Finger 1 as a certified (SBI) scanner gives it: with the device's own score.
    if let Some(Slot::Captured(c)) = v.captures.fingers.get_mut(&FingerPosition::new(1).unwrap()) {
        c.device_quality = Some(85.0);
    }
    KitHome::open(&r.home)
        .unwrap()
        .drafts()
        .unwrap()
        .save_visit(&v)
        .unwrap();

    // Resume: every capture is there, so to the review.
    let a = get(r.addr, &format!("/visit/{id}"), &host, Some(&s.cookie));
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location").unwrap(), format!("/visit/{id}/review"));
    // The home page offers it with a distinct accessible name and its progress.
    let home = unescape(&get(r.addr, "/home", &host, Some(&s.cookie)).body);
    assert!(
        home.contains(&format!(
            "href=\"/visit/{id}\" aria-label=\"Lanjutkan: Siti Aminah\">Lanjutkan</a>"
        )),
        "{home}"
    );
    assert!(home.contains("Semua diambil (12/12)"), "{home}");

    let review = get(
        r.addr,
        &format!("/visit/{id}/review"),
        &host,
        Some(&s.cookie),
    );
    assert_eq!(review.status, 200);
    let html = unescape(&review.body);
    assert!(html.contains("Siti Aminah") && html.contains(&format!("NIK {NIK}")));
    // Each finger's row shows its own jemput-fq score from the draft, or its exception.
    for (p, slot) in &v.captures.fingers {
        let row = section(&html, &format!("id=\"finger-{:02}\"", p.code()), "</li>");
        match slot {
            Slot::Captured(c) => {
                let q = c.quality.as_ref().unwrap();
                assert!(row.contains(&format!("Skor {}", q.score)), "{row}");
                assert!(row.contains("jemput-fq/1"), "{row}");
                assert!(row.contains("1 percobaan"), "{row}");
                // The device's own score beside jemput's, where the device gave one.
                assert_eq!(row.contains("skor perangkat 85.0"), p.code() == 1, "{row}");
                assert!(
                    row.contains(&format!("/visit/{id}/file/{}", c.file)),
                    "{row}"
                );
            }
            Slot::Exception(_) => {
                assert_eq!(p.code(), 7);
                assert!(row.contains("Pengecualian"), "{row}");
                assert!(row.contains("diperban atau luka · permanen"), "{row}");
                assert!(!row.contains("Skor"), "{row}");
            }
        }
    }
    let Some(Slot::Captured(sig)) = &v.captures.signature else {
        panic!("a synthetic signature")
    };
    let sig_part = section(&html, "id=\"h-signature\"", "</section>");
    assert!(
        sig_part.contains(&format!("Skor {}", sig.quality.as_ref().unwrap().score)),
        "{sig_part}"
    );
    assert!(html.contains("siap disegel"), "{html}");
    assert!(html.contains("Segel kunjungan"), "{html}");

    // A thumbnail: decrypted from the draft into a PNG, never cached; only files the draft
    // names.
    let a = get(
        r.addr,
        &format!("/visit/{id}/file/finger-01.wsq"),
        &host,
        Some(&s.cookie),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("content-type").as_deref(), Some("image/jpeg"));
    assert_eq!(a.header("cache-control").as_deref(), Some("no-store"));
    // A small JPEG (the body is read as lossy UTF-8: its SOI marker is not UTF-8).
    assert!(
        a.body.starts_with("\u{FFFD}\u{FFFD}\u{FFFD}"),
        "{:?}",
        &a.body[..8]
    );
    let size: usize = a.header("content-length").unwrap().parse().unwrap();
    assert!(size > 1_000 && size < 12_000, "{size}");
    for bad in ["visit.json", "finger-07.wsq", "..%2Fsealing"] {
        let a = get(
            r.addr,
            &format!("/visit/{id}/file/{bad}"),
            &host,
            Some(&s.cookie),
        );
        assert_eq!(a.status, 404, "{bad}: {}", a.body);
    }

    // Sealing needs the CSRF token.
    let a = post(r.addr, &format!("/visit/{id}/seal"), &s.cookie, "", "");
    assert_eq!(a.status, 403);
    assert_eq!(draft_ids(&r), [id]);
    let a = post(
        r.addr,
        &format!("/visit/{id}/seal"),
        &s.cookie,
        "",
        &format!("csrf={}", s.csrf),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        unescape(&a.body).contains("Kunjungan disegel"),
        "{}",
        a.body
    );
    assert!(unescape(&a.body).contains("Unggah sekarang"), "{}", a.body);
    let store = Store::open(&r.home).unwrap();
    let entry = store.find_by_visit(&id.to_string()).unwrap().unwrap();
    assert_eq!(entry.state, State::Sealed);
    assert!(
        unescape(&a.body).contains(&format!(
            "<code id=\"packet-id\">{}</code>",
            entry.packet_id
        )),
        "{}",
        a.body
    );
    assert!(draft_ids(&r).is_empty(), "the draft is gone once sealed");

    // The packet, opened with the office's identity, holds what the review showed.
    let ids = jemput_core::keys::office::load_identities(
        &r.office.join(jemput_core::keys::office::IDENTITY_FILE),
    )
    .unwrap();
    let bytes = std::fs::read(store.path_of(&entry)).unwrap();
    let opened = jemput_core::packet::decrypt(&bytes, &ids, None).unwrap();
    let sealed = &opened.manifest.visit;
    assert_eq!(sealed.id, id);
    assert_eq!(sealed.resident.name.as_deref(), Some("Siti Aminah"));
    assert_eq!(sealed.captures.fingers, v.captures.fingers);
    match &sealed.captures.fingers[&FingerPosition::new(7).unwrap()] {
        Slot::Exception(e) => {
            assert_eq!(e.reason, ExceptionReason::BandagedOrInjured);
            assert_eq!(e.permanence, Permanence::Permanent);
        }
        other => panic!("finger 7: {other:?}"),
    }

    // Resuming a sealed visit says so, with its packet; an unknown or bad id gets a clear page.
    let a = get(r.addr, &format!("/visit/{id}"), &host, Some(&s.cookie));
    assert_eq!(a.status, 200);
    assert!(
        unescape(&a.body).contains("sudah disegel sebelumnya"),
        "{}",
        a.body
    );
    assert!(unescape(&a.body).contains(&entry.packet_id), "{}", a.body);
    let other = Uuid::new_v4();
    let a = get(r.addr, &format!("/visit/{other}"), &host, Some(&s.cookie));
    assert_eq!(a.status, 404);
    assert!(
        unescape(&a.body).contains("Kunjungan ini tidak ada di kit"),
        "{}",
        a.body
    );
    let a = get(r.addr, "/visit/not-a-visit/review", &host, Some(&s.cookie));
    assert_eq!(a.status, 404);
    assert!(unescape(&a.body).contains("tidak valid"), "{}", a.body);

    // Upload now, on a kit with no hub: said plainly, and the packet stays queued.
    let a = post(
        r.addr,
        "/upload",
        &s.cookie,
        "",
        &format!("csrf={}", s.csrf),
    );
    assert_eq!(a.status, 409, "{}", a.body);
    assert!(
        unescape(&a.body).contains("belum punya alamat hub kantor"),
        "{}",
        a.body
    );
    assert_eq!(
        store.get(&entry.packet_id).unwrap().unwrap().state,
        State::Sealed
    );
}

#[test]
fn a_missing_finger_refuses_the_seal_naming_it_and_where_to_take_it() {
    let r = start_with_office();
    let s = unlocked(&r);
    let host = r.addr.to_string();
    let v = synthetic_draft(&r, Sex::Female, 12);
    let id = v.id;
    // Finger 3 is taken out of the draft, as if the visit stopped before it.
    let home = KitHome::open(&r.home).unwrap();
    let drafts = home.drafts().unwrap();
    let (mut visit, _) = drafts.load(id, &identity(&r)).unwrap();
    visit
        .captures
        .fingers
        .remove(&FingerPosition::new(3).unwrap());
    // And the face as the camera step records it: its checks, one failed, forced on the third
    // attempt.
    use jemput_core::imaging::face::{Bound, CheckResult, FaceReport};
    let Some(Slot::Captured(face)) = &mut visit.captures.face else {
        panic!("a synthetic face")
    };
    let report = FaceReport {
        algorithms: vec!["jemput-face/1".into()],
        passed: false,
        checks: vec![
            CheckResult::measure(
                "sharpness",
                412.5,
                150.0,
                Bound::AtLeast,
                "var",
                ("tajam", "sharp"),
                ("buram", "blurred"),
            ),
            CheckResult::measure(
                "highlights_clipped",
                0.031,
                0.02,
                Bound::AtMost,
                "fraction",
                ("terang cukup", "exposure fine"),
                ("kurangi cahaya", "less light"),
            ),
        ],
        width: 480,
        height: 640,
    };
    face.quality = None;
    face.retries = 2;
    face.forced = true;
    face.face_checks = Some(Box::new(report));
    drafts.save_visit(&visit).unwrap();

    // Resume goes to the finger's step; home says where the visit stopped.
    let a = get(r.addr, &format!("/visit/{id}"), &host, Some(&s.cookie));
    assert_eq!(a.status, 303);
    assert_eq!(
        a.header("location").unwrap(),
        format!("/visit/{id}/step/finger-03")
    );
    let home_page = unescape(&get(r.addr, "/home", &host, Some(&s.cookie)).body);
    assert!(
        home_page.contains("Berikutnya: Sidik jari 03 (jari tengah kanan) (11/12)"),
        "{home_page}"
    );

    let a = post(
        r.addr,
        &format!("/visit/{id}/seal"),
        &s.cookie,
        "",
        &format!("csrf={}", s.csrf),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        unescape(&a.body).contains(
            "Sidik jari 03 (jari tengah kanan) belum diambil dan tidak ada pengecualian."
        ),
        "{}",
        a.body
    );
    assert!(
        unescape(&a.body).contains(&format!(
            "<a href=\"/visit/{id}/step/finger-03\">Ke langkah Sidik jari 03 (jari tengah kanan)</a>"
        )),
        "{}",
        a.body
    );
    // The face: every check with its value and threshold, the failed one marked, and the
    // face's score (50 · the weakest check's margin: 0.02 / 0.031 → 32).
    let face_part = section(&unescape(&a.body), "id=\"h-face\"", "</section>").to_string();
    for want in [
        "Ketajaman",
        "412.50 var",
        "≥ 150.00 var",
        "Bagian terlalu terang",
        "0.03 fraction",
        "≤ 0.02 fraction",
        "kurangi cahaya",
        "gagal",
        "lulus",
        "Skor 32",
        "3 percobaan",
        "diambil paksa",
    ] {
        assert!(face_part.contains(want), "{want}: {face_part}");
    }
    // Only the missing finger is named.
    assert!(
        !unescape(&a.body).contains("Sidik jari 04 (jari manis kanan) belum"),
        "{}",
        a.body
    );
    // Nothing sealed, nothing lost.
    assert_eq!(draft_ids(&r), [id]);
    assert!(Store::open(&r.home).unwrap().list().unwrap().is_empty());

    // A visit just started, without consent yet: it resumes at consent, and home says so.
    let fresh = start(
        &home,
        &drafts,
        &NewVisit {
            nik: Some(NIK.into()),
            name: Some("Budi Baru".into()),
            category: Some(Category::Sakit),
            ..Default::default()
        },
    )
    .unwrap();
    let a = get(
        r.addr,
        &format!("/visit/{}", fresh.id),
        &host,
        Some(&s.cookie),
    );
    assert_eq!(
        a.header("location").unwrap(),
        format!("/visit/{}/consent", fresh.id)
    );
    let home_page = unescape(&get(r.addr, "/home", &host, Some(&s.cookie)).body);
    assert!(
        home_page.contains("Berikutnya: Persetujuan (0/12)"),
        "{home_page}"
    );
}

#[test]
fn nik_warnings_must_each_be_ticked_before_the_seal_and_read_in_each_language() {
    let r = start_with_office();
    let s = unlocked(&r);
    let host = r.addr.to_string();
    // The NIK says a woman; the draft says a man.
    let v = synthetic_draft(&r, Sex::Male, 13);
    let id = v.id;
    let review = unescape(
        &get(
            r.addr,
            &format!("/visit/{id}/review"),
            &host,
            Some(&s.cookie),
        )
        .body,
    );
    assert!(
        review.contains("name=\"confirm_nik_sex_mismatch\""),
        "{review}"
    );
    assert!(
        review.contains("NIK menunjukkan perempuan, tetapi jenis kelamin yang diisi laki-laki"),
        "{review}"
    );
    // Not ticked: refused, the draft kept and still unconfirmed.
    let a = post(
        r.addr,
        &format!("/visit/{id}/seal"),
        &s.cookie,
        "",
        &format!("csrf={}", s.csrf),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        unescape(&a.body).contains("centang setiap peringatan NIK"),
        "{}",
        a.body
    );
    assert_eq!(draft_ids(&r), [id]);
    assert!(Store::open(&r.home).unwrap().list().unwrap().is_empty());

    // In English, the station's own message (not core's sentence).
    let a = post(
        r.addr,
        "/lang",
        &s.cookie,
        "",
        &format!("csrf={}&lang=en&back=/home", s.csrf),
    );
    assert_eq!(a.status, 303);
    let review = unescape(
        &get(
            r.addr,
            &format!("/visit/{id}/review"),
            &host,
            Some(&s.cookie),
        )
        .body,
    );
    assert!(
        review.contains("The NIK says female, but the sex entered is male"),
        "{review}"
    );
    let form = format!(
        "csrf={}&nik={NIK}&name=Ani&sex=male&birth_date=1951-01-02&category=lansia",
        s.csrf
    );
    let a = post(r.addr, "/visit/new", &s.cookie, "", &form);
    assert_eq!(a.status, 422);
    assert!(
        unescape(&a.body)
            .contains("The NIK's birth date (05-12-50) differs from the one entered (1951-01-02)"),
        "{}",
        a.body
    );

    // Ticked: confirmed in the draft, then sealed; the packet carries the confirmation.
    let a = post(
        r.addr,
        &format!("/visit/{id}/seal"),
        &s.cookie,
        "",
        &format!("csrf={}&confirm_nik_sex_mismatch=1", s.csrf),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(unescape(&a.body).contains("Visit sealed"), "{}", a.body);
    let store = Store::open(&r.home).unwrap();
    let entry = store.find_by_visit(&id.to_string()).unwrap().unwrap();
    let ids = jemput_core::keys::office::load_identities(
        &r.office.join(jemput_core::keys::office::IDENTITY_FILE),
    )
    .unwrap();
    let opened =
        jemput_core::packet::decrypt(&std::fs::read(store.path_of(&entry)).unwrap(), &ids, None)
            .unwrap();
    assert_eq!(
        opened.manifest.visit.confirmed_warnings,
        ["nik_sex_mismatch"]
    );
}

/// Polls the upload's status fragment, as the page does, until the drain is done.
fn upload_done(r: &Running, s: &Session) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let a = get(
            r.addr,
            "/upload/status",
            &r.addr.to_string(),
            Some(&s.cookie),
        );
        assert_eq!(a.status, 200);
        if !a.body.contains("hx-trigger=\"every 1s\"") {
            return unescape(&a.body);
        }
        assert!(a.body.contains("Mengunggah"), "{}", a.body);
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never ended"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn upload_now_without_a_link_says_so_and_keeps_the_packet_queued() {
    let r = start_with_office();
    let s = unlocked(&r);
    let host = r.addr.to_string();
    // A hub address where nothing answers (a port just freed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let v = synthetic_draft(&r, Sex::Female, 14);
    // Online-only recording (set after the visit started: it needs the hub to start one).
    let mut home = KitHome::open(&r.home).unwrap();
    home.config.hub_url = Some(format!("http://127.0.0.1:{port}"));
    home.config.policy.online_only = Some(true);
    home.save_config().unwrap();
    let a = post(
        r.addr,
        &format!("/visit/{}/seal", v.id),
        &s.cookie,
        "",
        &format!("csrf={}", s.csrf),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    // As `jemput seal` does under online-only, the upload starts at once.
    assert!(
        unescape(&a.body).contains("mode wajib daring: pengunggahan sudah dimulai"),
        "{}",
        a.body
    );
    let first = upload_done(&r, &s);
    assert!(
        first.contains("Tidak ada sambungan ke kantor sekarang"),
        "{first}"
    );

    let a = post(
        r.addr,
        "/upload",
        &s.cookie,
        "",
        &format!("csrf={}", s.csrf),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location").as_deref(), Some("/upload"));
    let done = upload_done(&r, &s);
    let page = unescape(&get(r.addr, "/upload", &host, Some(&s.cookie)).body);
    assert!(page.contains("Unggah ke kantor"), "{page}");
    assert!(
        done.contains("Tidak ada sambungan ke kantor sekarang; paket tetap aman di antrean"),
        "{done}"
    );
    // The kit's English reason only after the operator's words, said to be for the technician.
    assert!(
        done.contains(
            "paket tetap aman di antrean dan diunggah nanti. Pesan untuk teknisi (bahasa Inggris): "
        ),
        "{done}"
    );
    assert!(done.contains("Belum dicoba; tetap di antrean."), "{done}");
    let store = Store::open(&r.home).unwrap();
    let entry = store.find_by_visit(&v.id.to_string()).unwrap().unwrap();
    assert_eq!(entry.state, State::Sealed);
    assert!(done.contains(&entry.packet_id), "{done}");
}

#[test]
fn the_seal_pressed_twice_at_once_makes_one_packet_and_an_interrupted_seal_is_finished() {
    let r = start_with_office();
    let s = unlocked(&r);
    let host = r.addr.to_string();
    let v = synthetic_draft(&r, Sex::Female, 15);
    let id = v.id;
    // Two presses of the button at once.
    let pages: Vec<String> = std::thread::scope(|scope| {
        let presses: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let a = post(
                        r.addr,
                        &format!("/visit/{id}/seal"),
                        &s.cookie,
                        "",
                        &format!("csrf={}", s.csrf),
                    );
                    assert_eq!(a.status, 200, "{}", a.body);
                    unescape(&a.body)
                })
            })
            .collect();
        presses.into_iter().map(|p| p.join().unwrap()).collect()
    });
    let store = Store::open(&r.home).unwrap();
    let packets = store.list().unwrap();
    assert_eq!(packets.len(), 1, "{packets:?}");
    for page in &pages {
        assert!(page.contains(&packets[0].packet_id), "{page}");
    }
    assert!(
        pages.iter().any(|p| p.contains("sudah disegel sebelumnya")),
        "one press finds the visit sealed: {pages:?}"
    );

    // A seal that stopped after marking the draft: the review says so, and sealing finishes it.
    let w = synthetic_draft(&r, Sex::Female, 16);
    let drafts = KitHome::open(&r.home).unwrap().drafts().unwrap();
    drafts.mark_sealing(w.id, "paket-terputus").unwrap();
    let a = get(r.addr, &format!("/visit/{}", w.id), &host, Some(&s.cookie));
    assert_eq!(
        a.header("location").unwrap(),
        format!("/visit/{}/review", w.id)
    );
    let review = unescape(
        &get(
            r.addr,
            &format!("/visit/{}/review", w.id),
            &host,
            Some(&s.cookie),
        )
        .body,
    );
    assert!(
        review.contains("Penyegelan sebelumnya terputus (paket paket-terputus)"),
        "{review}"
    );
    let a = post(
        r.addr,
        &format!("/visit/{}/seal", w.id),
        &s.cookie,
        "",
        &format!("csrf={}", s.csrf),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        unescape(&a.body).contains("Kunjungan disegel"),
        "{}",
        a.body
    );
    assert_eq!(store.list().unwrap().len(), 2);
    assert!(draft_ids(&r).is_empty());
}

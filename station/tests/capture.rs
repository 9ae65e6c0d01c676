//! The capture steps over HTTP on the fast device models (`SimDevices`, as `jemput ui --sim`
//! has them): consent → face → ten fingers (the model's right index needs a second attempt;
//! finger 7 is an exception) → signature → the review address; then the encrypted draft is read
//! back and must hold what the pages showed. And with no devices at all: the step says so in
//! Indonesian with a retry button, and an exception still moves the visit on.

mod common;

use std::time::Duration;

use age::secrecy::SecretString;
use common::{csrf_of, get, login, post, start_with, Answer, Running, PASS};
use jemput_core::visit::{ExceptionReason, FingerPosition, Permanence, Slot, Visit};
use jemput_kit::home::KitHome;
use jemput_station::devices::{DeviceSource, Devices, Opened, SimDevices};

fn draft(home: &std::path::Path) -> Visit {
    let home = KitHome::open(home).unwrap();
    let identity = home
        .unlock_drafts(&SecretString::from(PASS.to_string()))
        .unwrap();
    let drafts = home.drafts().unwrap();
    let ids = drafts.list().unwrap();
    assert_eq!(ids.len(), 1);
    drafts.load(ids[0], &identity).unwrap().0
}

/// Unlocks, starts a visit for a woman born in 1950 (an even year) and gives consent; the
/// session cookie, its CSRF token and where consent sent the browser.
fn start_visit(r: &Running) -> (String, String, String) {
    let cookie = login(r);
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
    let a = post(
        r.addr,
        "/visit/new",
        &cookie,
        "",
        &format!(
            "csrf={csrf}&nik=7408014512500001&name=Ani&sex=female&birth_date=1950-12-05&category=lansia&place=Desa+Lapadi"
        ),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let consent = a.header("location").unwrap();
    let a = post(
        r.addr,
        &consent,
        &cookie,
        "",
        &format!("csrf={csrf}&decision=given&by=resident"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    (cookie, csrf, a.header("location").unwrap())
}

fn page(r: &Running, cookie: &str, path: &str) -> Answer {
    let mut a = get(r.addr, path, &r.addr.to_string(), Some(cookie));
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    // The templates escape `/` in what they show, addresses too; a browser reads it back.
    a.body = a.body.replace("&#x2f;", "/");
    a
}

/// The first `Skor N` (score) shown after `from` in `html`.
fn score_after(html: &str, from: &str) -> u8 {
    let at = html
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in {html}"));
    let rest = &html[at..];
    let s = rest
        .find("Skor ")
        .unwrap_or_else(|| panic!("no score after {from:?}"))
        + 5;
    rest[s..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_visit_is_captured_step_by_step_and_the_draft_holds_what_the_pages_showed() {
    let r = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(SimDevices::new(false))))
    });
    let (cookie, csrf, face) = start_visit(&r);
    let id = face.split('/').nth(2).unwrap().to_string();
    assert_eq!(face, format!("/visit/{id}/step/face"));

    // The face: the page names the button and the backdrop the rule asks for (an even birth
    // year), and the devices the station opened for this visit.
    let p = page(&r, &cookie, &face);
    assert!(p.body.contains(">Ambil foto</button>"), "{}", p.body);
    assert!(p.body.contains(">Pengecualian</button>"), "{}", p.body);
    assert!(
        p.body.contains("Latar yang diminta aturan warna"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("ef01"),
        "the scanner model is open: {}",
        p.body
    );
    let a = post(
        r.addr,
        &format!("{face}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    // The face stays on its page: the photo, every check with its value and threshold.
    assert_eq!(a.header("location").as_deref(), Some(face.as_str()));
    let p = page(&r, &cookie, &face);
    assert!(p.body.contains("Pemeriksaan foto wajah"), "{}", p.body);
    assert!(
        p.body.contains("<td>≥ ") || p.body.contains("<td>≤ "),
        "{}",
        p.body
    );
    let face_score = score_after(&p.body, "id=\"h-shown\"");
    assert!(
        p.body.contains(&format!("/visit/{id}/image/face.jpg")),
        "{}",
        p.body
    );
    let img = get(
        r.addr,
        &format!("/visit/{id}/image/face.jpg"),
        &r.addr.to_string(),
        Some(&cookie),
    );
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type").as_deref(), Some("image/jpeg"));
    assert_eq!(img.header("cache-control").as_deref(), Some("no-store"));
    // "Lanjut" goes to finger 1.
    assert!(
        p.body
            .contains(&format!("href=\"/visit/{id}/step/finger-01\"")),
        "{}",
        p.body
    );

    // Ten fingers: each accepted finger goes on to the next; finger 7 is an exception.
    let mut shown = Vec::new();
    for code in 1..=10u8 {
        let step = format!("/visit/{id}/step/finger-{code:02}");
        let p = page(&r, &cookie, &step);
        assert!(p.body.contains(">Ambil sidik jari</button>"), "{}", p.body);
        assert!(p.body.contains("aria-current=\"step\""), "{}", p.body);
        if code > 1 && code != 8 {
            // The finger before (finger 7 has no score), with its kept score and attempts.
            shown.push(score_after(&p.body, "id=\"h-last\""));
        }
        if code == 3 {
            // The right index needed a second attempt: both attempts are listed.
            let last = &p.body[p.body.find("id=\"h-last\"").unwrap()..];
            assert!(last.contains("Percobaan 1/"), "{last}");
            assert!(last.contains("ulangi"), "{last}");
            assert!(last.contains("Percobaan 2/"), "{last}");
            assert!(last.contains("diulang"), "{last}");
            // The image of each attempt, the one not kept too.
            for n in 1..=2 {
                let url = format!("/visit/{id}/attempt/finger-02/{n}");
                assert!(last.contains(&url), "{last}");
                let img = get(r.addr, &url, &r.addr.to_string(), Some(&cookie));
                assert_eq!(img.status, 200, "{url}");
                assert_eq!(img.header("content-type").as_deref(), Some("image/png"));
                assert_eq!(img.header("cache-control").as_deref(), Some("no-store"));
            }
            let none = format!("/visit/{id}/attempt/finger-02/3");
            assert_eq!(
                get(r.addr, &none, &r.addr.to_string(), Some(&cookie)).status,
                404
            );
            assert!(
                p.body.contains("finger retried"),
                "the hand marks it: {}",
                p.body
            );
        }
        let next = if code == 10 {
            format!("/visit/{id}/step/signature")
        } else {
            format!("/visit/{id}/step/finger-{:02}", code + 1)
        };
        let a = if code == 7 {
            // No reason: refused, nothing recorded.
            let a = post(
                r.addr,
                &format!("{step}/exception"),
                &cookie,
                "",
                &format!("csrf={csrf}&reason=&permanence=permanent"),
            );
            assert_eq!(a.status, 200);
            assert!(a.body.contains("Pilih alasan pengecualian"), "{}", a.body);
            shown.push(0);
            post(
                r.addr,
                &format!("{step}/exception"),
                &cookie,
                "",
                &format!("csrf={csrf}&reason=bandaged&permanence=permanent"),
            )
        } else {
            post(
                r.addr,
                &format!("{step}/capture"),
                &cookie,
                "",
                &format!("csrf={csrf}"),
            )
        };
        assert_eq!(a.status, 303, "finger {code}: {}", a.body);
        assert_eq!(a.header("location"), Some(next), "finger {code}");
    }
    // Finger 10's score on the signature page is not shown; read it from finger 10's own page.
    let p = page(&r, &cookie, &format!("/visit/{id}/step/finger-10"));
    shown.push(score_after(&p.body, "id=\"h-shown\""));
    assert!(
        p.body.contains("finger exception"),
        "the hand marks finger 7: {}",
        p.body
    );

    // The signature: captured, its trace drawn, then on to the review.
    let sig = format!("/visit/{id}/step/signature");
    let p = page(&r, &cookie, &sig);
    assert!(
        p.body.contains(">Ambil tanda tangan</button>"),
        "{}",
        p.body
    );
    let a = post(
        r.addr,
        &format!("{sig}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}&kind=signature"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let p = page(&r, &cookie, &sig);
    assert!(p.body.contains("<polyline points="), "{}", p.body);
    let sig_score = score_after(&p.body, "id=\"h-shown\"");
    // The signature's threshold is 0 by default, which is no threshold: never "ambang 0", on the
    // kept signature or its attempt.
    assert!(!p.body.contains("ambang 0"), "{}", p.body);
    assert!(
        p.body
            .contains(&format!("Skor {sig_score} (tanpa ambang, jemput-sigq/1)")),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains(&format!("skor {sig_score} (tanpa ambang, jemput-sigq/1)")),
        "{}",
        p.body
    );
    assert!(
        p.body.contains(&format!("href=\"/visit/{id}/review\"")),
        "{}",
        p.body
    );

    // The device panel lists each role.
    let d = page(&r, &cookie, "/devices");
    for role in [
        "Kamera",
        "Pemindai sidik jari",
        "Pad tanda tangan",
        "Penerima GPS",
    ] {
        assert!(d.body.contains(role), "{role}: {}", d.body);
    }

    // The draft holds what the pages showed.
    let v = draft(&r.home);
    let score = |s: &Slot| match s {
        Slot::Captured(c) => c.quality.as_ref().unwrap().score,
        Slot::Exception(_) => 0,
    };
    let Some(Slot::Captured(f)) = &v.captures.face else {
        panic!("no face: {:?}", v.captures.face)
    };
    assert!(f.face_checks.is_some());
    assert_eq!(f.quality.as_ref().unwrap().score, face_score);
    let kept: Vec<u8> = FingerPosition::all()
        .map(|p| score(&v.captures.fingers[&p]))
        .collect();
    assert_eq!(kept, shown, "the finger scores the pages showed");
    let Slot::Captured(two) = &v.captures.fingers[&FingerPosition::new(2).unwrap()] else {
        panic!("finger 2 not captured")
    };
    assert_eq!(two.retries, 1);
    assert!(!two.forced);
    match &v.captures.fingers[&FingerPosition::new(7).unwrap()] {
        Slot::Exception(e) => {
            assert_eq!(e.reason, ExceptionReason::BandagedOrInjured);
            assert_eq!(e.permanence, Permanence::Permanent);
        }
        other => panic!("finger 7: {other:?}"),
    }
    assert_eq!(score(v.captures.signature.as_ref().unwrap()), sig_score);
    assert!(
        v.readiness().is_empty(),
        "ready to seal: {:?}",
        v.readiness()
    );
    // A finger's image comes as PNG, decoded from the draft's WSQ in memory.
    let img = get(
        r.addr,
        &format!("/visit/{id}/image/finger-01.wsq"),
        &r.addr.to_string(),
        Some(&cookie),
    );
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(img.header("cache-control").as_deref(), Some("no-store"));
    // Locked: the attempt images are gone with the key.
    let attempt = format!("/visit/{id}/attempt/finger-02/1");
    let host = r.addr.to_string();
    assert_eq!(get(r.addr, &attempt, &host, Some(&cookie)).status, 200);
    assert_eq!(
        post(r.addr, "/lock", &cookie, "", &format!("csrf={csrf}")).status,
        303
    );
    assert_eq!(get(r.addr, &attempt, &host, Some(&cookie)).status, 403);
    // And the devices close: the lock's timer runs at least every 5 s.
    std::thread::sleep(Duration::from_millis(5_500));
    let again = post(
        r.addr,
        "/unlock",
        &cookie,
        "",
        &format!("passphrase=kata+sandi+uji&csrf={csrf}"),
    );
    assert_eq!(again.status, 303);
    let d = page(&r, &cookie, "/devices");
    assert_eq!(d.body.matches("belum dibuka").count(), 4, "{}", d.body);
}

#[test]
fn without_a_device_the_step_says_so_with_a_retry_and_an_exception_still_moves_on() {
    let r = start_with(Duration::from_secs(600), |s| s);
    let (cookie, csrf, face) = start_visit(&r);
    // The trainer's unplug is for the device models only: absent here.
    let a = post(
        r.addr,
        "/devices/trouble",
        &cookie,
        "",
        &format!("csrf={csrf}&role=scanner&action=unplug"),
    );
    assert_eq!(a.status, 404, "{}", a.body);
    assert!(!page(&r, &cookie, "/devices")
        .body
        .contains("Simulasikan gangguan"));
    // The language switch on the new-visit form and on a consent page comes back to that page.
    let id = face.split('/').nth(2).unwrap().to_string();
    let consent = format!("/visit/{id}/consent");
    for (shown, back) in [
        ("/visit/new", "/visit/new"),
        (consent.as_str(), consent.as_str()),
    ] {
        let p = page(&r, &cookie, shown);
        assert!(
            p.body.contains(&format!("name=\"back\" value=\"{back}\"")),
            "{shown}: {}",
            p.body
        );
    }
    for (back, to) in [
        ("/visit/new", "/visit/new"),
        (
            "/visit/new?worklist=DEMO-002",
            "/visit/new?worklist=DEMO-002",
        ),
        (consent.as_str(), consent.as_str()),
        ("/visit/new?worklist=a%26b", "/"),
        ("/visit/not-a-uuid/consent", "/"),
    ] {
        let a = post(
            r.addr,
            "/lang",
            &cookie,
            "",
            &format!("csrf={csrf}&lang=id&back={back}"),
        );
        assert_eq!(a.header("location").as_deref(), Some(to), "{back}");
    }
    // The language switch on a step page comes back to the step.
    let p = page(&r, &cookie, &face);
    assert!(
        p.body.contains(&format!("name=\"back\" value=\"{face}\"")),
        "{}",
        p.body
    );
    let a = post(
        r.addr,
        "/lang",
        &cookie,
        "",
        &format!("csrf={csrf}&lang=en&back={face}"),
    );
    assert_eq!(a.header("location"), Some(face.clone()));
    let p = page(&r, &cookie, &face);
    assert!(p.body.contains(">Take photo</button>"), "{}", p.body);
    post(
        r.addr,
        "/lang",
        &cookie,
        "",
        &format!("csrf={csrf}&lang=id&back=//elsewhere"),
    );
    let a = post(
        r.addr,
        &format!("{face}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 200);
    assert!(a.body.contains("role=\"alert\""), "{}", a.body);
    assert!(
        a.body
            .contains("Kamera tidak terhubung. Colokkan kabel USB-nya"),
        "{}",
        a.body
    );
    assert!(a.body.contains(">Coba lagi</button>"), "{}", a.body);
    assert!(draft(&r.home).captures.face.is_none(), "nothing recorded");
    let a = post(
        r.addr,
        &format!("{face}/exception"),
        &cookie,
        "",
        &format!("csrf={csrf}&reason=other&other=kamera+rusak&permanence=temporary"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let id = face.split('/').nth(2).unwrap();
    assert_eq!(
        a.header("location"),
        Some(format!("/visit/{id}/step/finger-01"))
    );
    match draft(&r.home).captures.face {
        Some(Slot::Exception(e)) => {
            assert_eq!(e.reason, ExceptionReason::Other("kamera rusak".into()));
            assert_eq!(e.permanence, Permanence::Temporary);
        }
        other => panic!("{other:?}"),
    }
    // A step the visit has not is no page; nor is a file it does not hold.
    let host = r.addr.to_string();
    assert_eq!(
        get(
            r.addr,
            &format!("/visit/{id}/step/document-1"),
            &host,
            Some(&cookie)
        )
        .status,
        404
    );
    assert_eq!(
        get(
            r.addr,
            &format!("/visit/{id}/image/face.jpg"),
            &host,
            Some(&cookie)
        )
        .status,
        404
    );
}

/// The models of `SimDevices`, but the first time the fingerprint module is unplugged in the
/// middle of sending its first image; opened again (the retry), it is whole.
struct UnpluggedOnce {
    opens: std::sync::atomic::AtomicU32,
}

impl DeviceSource for UnpluggedOnce {
    fn open(
        &self,
        home: &std::path::Path,
        visit: &Visit,
        face: &jemput_core::imaging::face::FaceSettings,
    ) -> Opened {
        use jemput_drivers::ef01::{Fault, ModelOptions};
        use jemput_drivers::registry::{self, OpenOptions};
        let mut opened = SimDevices::new(false).open(home, visit, face);
        let n = self.opens.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n == 0 {
            let model = ModelOptions {
                finger_after_polls: 0,
                faults: vec![Fault::UnplugMidTransfer { packet: 3 }],
                ..ModelOptions::fast()
            };
            let scanner =
                registry::open_model("ef01", model.into(), true, &OpenOptions::default()).unwrap();
            opened.devices.scanner = None;
            let fresh =
                jemput_kit::visit::SessionDevices::from_opened(home, vec![scanner]).unwrap();
            opened.devices.replace_with(fresh);
        }
        opened
    }

    fn realtime(&self) -> bool {
        false
    }

    fn simulated(&self) -> bool {
        true
    }
}

#[test]
fn a_scanner_unplugged_mid_capture_is_said_in_indonesian_and_the_retry_opens_it_afresh() {
    let r = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(UnpluggedOnce {
            opens: Default::default(),
        })))
    });
    let (cookie, csrf, face) = start_visit(&r);
    let id = face.split('/').nth(2).unwrap().to_string();
    let finger = format!("/visit/{id}/step/finger-01");
    page(&r, &cookie, &finger);
    let a = post(
        r.addr,
        &format!("{finger}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let alert = &a.body[a.body.find("role=\"alert\"").expect("an alert")..];
    let alert = &alert[..alert.find("</div>").unwrap()];
    // In the operator's words, with what to do and a retry; the English words only after, for
    // the technician.
    assert!(
        alert.contains("Pemindai sidik jari tidak terhubung. Colokkan kabel USB-nya"),
        "{alert}"
    );
    assert!(alert.contains("Pesan untuk teknisi"), "{alert}");
    assert!(alert.contains(">Coba lagi</button>"), "{alert}");
    assert!(
        draft(&r.home).captures.fingers.is_empty(),
        "nothing recorded"
    );
    // The panel shows the scanner failed.
    let d = page(&r, &cookie, "/devices");
    assert!(d.body.contains("bermasalah"), "{}", d.body);
    // Retried: the scanner is opened afresh and the finger is captured.
    let a = post(
        r.addr,
        &format!("{finger}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    // On to the first step the visit still lacks in the engine's order: the face, skipped here.
    assert_eq!(a.header("location"), Some(format!("/visit/{id}/step/face")));
    let v = draft(&r.home);
    assert!(matches!(
        v.captures.fingers.get(&FingerPosition::new(1).unwrap()),
        Some(Slot::Captured(_))
    ));
}

/// The trainer's control on the device panel (`--sim` only): the scanner model unplugged in the
/// middle of the next capture says so in Indonesian, nothing captured before is lost, it stays
/// out on a retry until it is plugged in again, and then the finger is captured.
#[test]
fn a_trainer_unplugs_the_scanner_mid_capture_from_the_panel_and_plugs_it_in_again() {
    let r = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(SimDevices::new(false))))
    });
    let (cookie, csrf, face) = start_visit(&r);
    let id = face.split('/').nth(2).unwrap().to_string();
    let capture = |path: &str| {
        post(
            r.addr,
            &format!("{path}/capture"),
            &cookie,
            "",
            &format!("csrf={csrf}"),
        )
    };
    let trouble = |role: &str, action: &str| {
        post(
            r.addr,
            "/devices/trouble",
            &cookie,
            "",
            &format!("csrf={csrf}&role={role}&action={action}"),
        )
    };
    let alert_of = |body: &str| {
        let alert = &body[body.find("role=\"alert\"").expect("an alert")..];
        alert[..alert.find("</div>").unwrap()].to_string()
    };
    page(&r, &cookie, &face);
    assert_eq!(capture(&face).status, 303);
    let finger = format!("/visit/{id}/step/finger-01");
    page(&r, &cookie, &finger);
    // The panel offers the control for the camera, scanner and pad, not the GPS receiver.
    let d = page(&r, &cookie, "/devices");
    assert!(d.body.contains("Simulasikan gangguan"), "{}", d.body);
    assert!(
        d.body
            .contains("aria-label=\"Cabut kabel: Pemindai sidik jari\""),
        "{}",
        d.body
    );
    assert!(!d.body.contains("Cabut kabel: Penerima GPS"), "{}", d.body);
    // The GPS receiver's model cannot be unplugged; a role or action it does not know is refused.
    assert_eq!(trouble("gps", "unplug").status, 400);
    assert_eq!(trouble("printer", "unplug").status, 400);
    assert_eq!(trouble("scanner", "explode").status, 400);
    // Without the CSRF token: refused like every other state change.
    let no_csrf = post(
        r.addr,
        "/devices/trouble",
        &cookie,
        "",
        "role=scanner&action=unplug",
    );
    assert_eq!(no_csrf.status, 403);

    let a = trouble("scanner", "unplug");
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location").as_deref(), Some("/devices"));
    let d = page(&r, &cookie, "/devices");
    assert!(
        d.body
            .contains("Akan tercabut di tengah pengambilan berikutnya."),
        "{}",
        d.body
    );
    let a = capture(&finger);
    assert_eq!(a.status, 200, "{}", a.body);
    let alert = alert_of(&a.body);
    assert!(
        alert.contains("Pemindai sidik jari tidak terhubung. Colokkan kabel USB-nya"),
        "{alert}"
    );
    assert!(alert.contains(">Coba lagi</button>"), "{alert}");
    // Nothing captured before is lost; nothing of the finger recorded.
    let v = draft(&r.home);
    assert!(matches!(v.captures.face, Some(Slot::Captured(_))), "{v:?}");
    assert!(v.captures.fingers.is_empty(), "{:?}", v.captures.fingers);
    // Still out: a retry before plugging it in again says the same.
    let a = capture(&finger);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        alert_of(&a.body).contains("Pemindai sidik jari tidak terhubung."),
        "{}",
        a.body
    );
    let d = page(&r, &cookie, "/devices");
    assert!(d.body.contains("Tercabut (latihan)."), "{}", d.body);
    assert!(
        d.body
            .contains("aria-label=\"Colokkan lagi: Pemindai sidik jari\""),
        "{}",
        d.body
    );
    // Plugged in again: the retry captures the finger and goes on.
    assert_eq!(trouble("scanner", "replug").status, 303);
    let a = capture(&finger);
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        a.header("location"),
        Some(format!("/visit/{id}/step/finger-02"))
    );
    let v = draft(&r.home);
    assert!(matches!(v.captures.face, Some(Slot::Captured(_))));
    assert!(matches!(
        v.captures.fingers.get(&FingerPosition::new(1).unwrap()),
        Some(Slot::Captured(_))
    ));
}

#[test]
fn a_document_only_visit_takes_its_document_photos_with_the_camera() {
    let r = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(SimDevices::new(false))))
    });
    let cookie = login(&r);
    let host = r.addr.to_string();
    let csrf = csrf_of(&get(r.addr, "/unlock", &host, Some(&cookie)).body);
    post(
        r.addr,
        "/unlock",
        &cookie,
        "",
        &format!("passphrase=kata+sandi+uji&csrf={csrf}"),
    );
    let a = post(
        r.addr,
        "/visit/new",
        &cookie,
        "",
        &format!("csrf={csrf}&nik=7408014512500001&sex=female&category=dokumen"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let consent = a.header("location").unwrap();
    let id = consent.split('/').nth(2).unwrap().to_string();
    let a = post(
        r.addr,
        &consent,
        &cookie,
        "",
        &format!("csrf={csrf}&decision=given&by=resident"),
    );
    // A document-only visit has no face, fingers or signature: straight to its document photo.
    let doc = format!("/visit/{id}/step/document-1");
    assert_eq!(a.header("location"), Some(doc.clone()));
    assert_eq!(
        get(
            r.addr,
            &format!("/visit/{id}/step/face"),
            &host,
            Some(&cookie)
        )
        .status,
        404
    );
    let p = page(&r, &cookie, &doc);
    assert!(p.body.contains(">Ambil foto</button>"), "{}", p.body);
    assert!(
        p.body.contains("Kartu Keluarga (KK)"),
        "the document exception names the documents"
    );
    let a = post(
        r.addr,
        &format!("{doc}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location"), Some(doc.clone()));
    let p = page(&r, &cookie, &doc);
    assert!(
        p.body
            .contains(&format!("/visit/{id}/image/document-1.jpg")),
        "{}",
        p.body
    );
    assert!(
        p.body.contains(&format!("href=\"/visit/{id}/review\"")),
        "{}",
        p.body
    );
    assert!(
        p.body.contains(&format!("/visit/{id}/step/document-2")),
        "another photo: {}",
        p.body
    );
    let img = get(
        r.addr,
        &format!("/visit/{id}/image/document-1.jpg"),
        &host,
        Some(&cookie),
    );
    assert_eq!(img.header("content-type").as_deref(), Some("image/jpeg"));
    let v = draft(&r.home);
    assert_eq!(v.captures.documents.len(), 1);
    assert!(v.readiness().is_empty(), "{:?}", v.readiness());
    // A third photo before the second is no step.
    assert_eq!(
        get(
            r.addr,
            &format!("/visit/{id}/step/document-3"),
            &host,
            Some(&cookie)
        )
        .status,
        404
    );
}

#[test]
fn each_attempt_is_streamed_to_the_browser_as_it_is_scored_and_stopping_ends_the_stream() {
    use std::io::{BufRead, BufReader, Write};
    let r = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(SimDevices::new(false))))
    });
    let (cookie, csrf, face) = start_visit(&r);
    let id = face.split('/').nth(2).unwrap().to_string();
    let finger = format!("/visit/{id}/step/finger-02");
    // Finger 1 first, so the model's next finger is the right index (two attempts).
    post(
        r.addr,
        &format!("/visit/{id}/step/finger-01/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    let mut events = std::net::TcpStream::connect(r.addr).unwrap();
    events
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        events,
        "GET /events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
        r.addr
    )
    .unwrap();
    let mut reader = BufReader::new(events);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if line.to_ascii_lowercase().starts_with("content-type") {
            assert!(line.contains("text/event-stream"), "{line}");
        }
    }
    let a = post(
        r.addr,
        &format!("{finger}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 303);
    // Both attempts of the right index, in Indonesian, with the image of each.
    let mut attempts = Vec::new();
    while attempts.len() < 2 {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if let Some(data) = line.strip_prefix("data: ") {
            if data.contains("\"step\":\"finger-02\"") {
                attempts.push(data.trim().to_string());
            }
        }
    }
    assert!(attempts[0].contains("Percobaan 1/"), "{attempts:?}");
    assert!(attempts[0].contains("ulangi"), "{attempts:?}");
    assert!(attempts[1].contains("diterima"), "{attempts:?}");
    assert!(
        attempts[1].contains(&format!("/visit/{id}/attempt/finger-02/2")),
        "{attempts:?}"
    );
    // Stopping the station ends the stream (it would hold the server otherwise).
    drop(r);
    let mut rest = String::new();
    let ended = std::io::Read::read_to_string(&mut reader, &mut rest);
    assert!(
        ended.is_ok(),
        "the stream ends when the station stops: {ended:?}"
    );
}

/// The signature drawn live: while the pad records, each pen sample goes to the browsers as a
/// `pen` event (before the attempt's score), in the pad's units with its extent.
#[test]
fn the_pen_samples_of_a_signature_are_streamed_while_it_is_written() {
    use std::io::{BufRead, BufReader, Write};
    let r = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(SimDevices::new(false))))
    });
    let (cookie, csrf, face) = start_visit(&r);
    let id = face.split('/').nth(2).unwrap().to_string();
    let signature = format!("/visit/{id}/step/signature");
    // The page has the live trace's place (drawn by capture.js).
    let p = page(&r, &cookie, &signature);
    assert!(p.body.contains("id=\"live-trace\""), "{}", p.body);
    let mut events = std::net::TcpStream::connect(r.addr).unwrap();
    events
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        events,
        "GET /events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
        r.addr
    )
    .unwrap();
    let mut reader = BufReader::new(events);
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    let a = post(
        r.addr,
        &format!("{signature}/capture"),
        &cookie,
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    // Every event up to the signature's first attempt.
    let mut pens = Vec::new();
    let mut kind = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if let Some(k) = line.strip_prefix("event: ") {
            kind = k.trim().to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            let v: serde_json::Value = serde_json::from_str(data.trim()).unwrap();
            if v["step"] != "signature" {
                continue;
            }
            match kind.as_str() {
                "pen" => pens.push(v),
                "attempt" => break,
                _ => {}
            }
        }
    }
    let down = pens.iter().filter(|p| p["down"] == true).count();
    assert!(
        down >= 20,
        "pen samples before the score: {} ({down} down)",
        pens.len()
    );
    for p in &pens {
        assert_eq!(p["visit"], id.as_str(), "{p}");
        assert_eq!(p["attempt"], 1, "{p}");
        let (w, h) = (p["w"].as_u64().unwrap(), p["h"].as_u64().unwrap());
        assert!(w > 0 && h > 0, "{p}");
        assert!(
            p["x"].as_u64().unwrap() <= w && p["y"].as_u64().unwrap() <= h,
            "{p}"
        );
    }
}

/// "Foto bukti": a finger's exception with a proof photo taken with the camera model — kept in
/// the encrypted draft beside the exception, shown on the finger's page and linked from the
/// review; an exception recorded again without one drops the photo.
#[test]
fn a_finger_exception_takes_its_proof_photo_with_the_camera() {
    let r = start_with(Duration::from_secs(600), |s| {
        s.with_devices(Devices::new(Box::new(SimDevices::new(false))))
    });
    let (cookie, csrf, face) = start_visit(&r);
    let id = face.split('/').nth(2).unwrap().to_string();
    let finger = format!("/visit/{id}/step/finger-03");
    let p = page(&r, &cookie, &finger);
    assert!(
        p.body.contains("name=\"proof\" value=\"1\"") && p.body.contains("Foto bukti"),
        "{}",
        p.body
    );
    let a = post(
        r.addr,
        &format!("{finger}/exception"),
        &cookie,
        "",
        &format!("csrf={csrf}&reason=bandaged&permanence=permanent&proof=1"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let files = |home: &std::path::Path| {
        let home = KitHome::open(home).unwrap();
        let identity = home
            .unlock_drafts(&SecretString::from(PASS.to_string()))
            .unwrap();
        let drafts = home.drafts().unwrap();
        let ids = drafts.list().unwrap();
        let (v, files) = drafts.load(ids[0], &identity).unwrap();
        (v, files)
    };
    let (v, fs) = files(&r.home);
    let three = FingerPosition::new(3).unwrap();
    match v.captures.fingers.get(&three) {
        Some(Slot::Exception(e)) => {
            assert_eq!(e.reason, ExceptionReason::BandagedOrInjured);
            assert_eq!(e.proof_file.as_deref(), Some("proof-finger-03.jpg"));
        }
        other => panic!("{other:?}"),
    }
    let photo = fs
        .iter()
        .find(|f| f.name == "proof-finger-03.jpg")
        .expect("the proof photo is in the draft");
    assert_eq!(&photo.bytes[..2], &[0xFF, 0xD8], "a JPEG");
    // The finger's page shows it (served from the draft, no-store); the review links it.
    let p = page(&r, &cookie, &finger);
    let src = format!("/visit/{id}/image/proof-finger-03.jpg");
    assert!(p.body.contains(&format!("src=\"{src}\"")), "{}", p.body);
    let img = get(r.addr, &src, &r.addr.to_string(), Some(&cookie));
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type").as_deref(), Some("image/jpeg"));
    let review = page(&r, &cookie, &format!("/visit/{id}/review"));
    assert!(
        review
            .body
            .contains(&format!("href=\"/visit/{id}/file/proof-finger-03.jpg\"")),
        "{}",
        review.body
    );
    // Another finger's exception without the box ticked has none.
    let a = post(
        r.addr,
        &format!("/visit/{id}/step/finger-04/exception"),
        &cookie,
        "",
        &format!("csrf={csrf}&reason=amputated&permanence=permanent"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let (v, _) = files(&r.home);
    match v.captures.fingers.get(&FingerPosition::new(4).unwrap()) {
        Some(Slot::Exception(e)) => assert_eq!(e.proof_file, None),
        other => panic!("{other:?}"),
    }
    // Finger 3's exception recorded again without a photo: the old photo leaves the draft.
    let a = post(
        r.addr,
        &format!("{finger}/exception"),
        &cookie,
        "",
        &format!("csrf={csrf}&reason=bandaged&permanence=temporary"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let (v, fs) = files(&r.home);
    match v.captures.fingers.get(&three) {
        Some(Slot::Exception(e)) => assert_eq!(e.proof_file, None),
        other => panic!("{other:?}"),
    }
    assert!(!fs.iter().any(|f| f.name == "proof-finger-03.jpg"));
}

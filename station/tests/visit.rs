//! Starting a visit and its consent over HTTP, checked in the encrypted draft itself: what the
//! operator entered is what the kit saved, a NIK warning must be confirmed first, and a refusal
//! is recorded as such with nothing captured.

mod common;

use age::secrecy::SecretString;
use common::{csrf_of, get, login, post, start, PASS};
use jemput_core::visit::{ConsentBy, ResidentRef};
use jemput_kit::home::KitHome;

const NIK: &str = "7408014512500001"; // a woman born 1950-12-05

fn drafts(home: &std::path::Path) -> Vec<jemput_core::visit::Visit> {
    let home = KitHome::open(home).unwrap();
    let identity = home
        .unlock_drafts(&SecretString::from(PASS.to_string()))
        .unwrap();
    let drafts = home.drafts().unwrap();
    drafts
        .list()
        .unwrap()
        .into_iter()
        .map(|id| drafts.load(id, &identity).unwrap().0)
        .collect()
}

#[test]
fn a_visit_starts_after_its_nik_warning_is_confirmed_and_records_who_consents() {
    let r = start();
    let cookie = login(&r);
    let host = r.addr.to_string();
    let csrf = csrf_of(&get(r.addr, "/unlock", &host, Some(&cookie)).body);
    // Locked: nothing starts.
    let form = format!(
        "csrf={csrf}&nik={NIK}&name=Ani&sex=male&birth_date=1950-12-05&category=lansia&place=Desa+Lapadi"
    );
    let a = post(r.addr, "/visit/new", &cookie, "", &form);
    assert_eq!(a.header("location").as_deref(), Some("/unlock"));
    let a = post(
        r.addr,
        "/unlock",
        &cookie,
        "",
        &format!("passphrase=kata+sandi+uji&csrf={csrf}"),
    );
    assert_eq!(a.status, 303);

    // The NIK says a woman: the warning comes back to be confirmed, and no draft is made.
    let a = post(r.addr, "/visit/new", &cookie, "", &form);
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("tidak cocok dengan NIK"), "{}", a.body);
    assert!(
        a.body.contains("name=\"confirm_nik_sex_mismatch\""),
        "{}",
        a.body
    );
    assert!(drafts(&r.home).is_empty());
    // A bad NIK: its own message, in Indonesian.
    let bad = form.replace(NIK, "74080145");
    let a = post(r.addr, "/visit/new", &cookie, "", &bad);
    assert_eq!(a.status, 422);
    assert!(a.body.contains("NIK harus 16 digit (ada 8)"), "{}", a.body);

    // Confirmed: the visit starts and is saved at once.
    let a = post(
        r.addr,
        "/visit/new",
        &cookie,
        "",
        &format!("{form}&confirm_nik_sex_mismatch=1"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let consent = a.header("location").unwrap();
    assert!(consent.ends_with("/consent"), "{consent}");
    let saved = drafts(&r.home);
    assert_eq!(saved.len(), 1);
    let v = &saved[0];
    assert_eq!(v.resident.reference, ResidentRef::Nik(NIK.into()));
    assert_eq!(v.resident.name.as_deref(), Some("Ani"));
    assert_eq!(v.confirmed_warnings, ["nik_sex_mismatch"]);
    assert_eq!(v.place.description, "Desa Lapadi");
    assert!(v.consent.is_none());
    assert!(consent.contains(&v.id.to_string()));

    // Consent by a guardian needs a name; then it is recorded with the relation.
    let a = post(
        r.addr,
        &consent,
        &cookie,
        "",
        &format!("csrf={csrf}&decision=given&by=guardian&name="),
    );
    assert_eq!(a.status, 422);
    assert!(a.body.contains("Isi nama keluarga atau wali"), "{}", a.body);
    let a = post(
        r.addr,
        &consent,
        &cookie,
        "",
        &format!("csrf={csrf}&decision=given&by=guardian&name=Budi&relation=anak"),
    );
    // Given: on to the first capture the visit lacks, its face photo.
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        a.header("location"),
        Some(format!("/visit/{}/step/face", v.id))
    );
    let c = drafts(&r.home)[0].consent.clone().unwrap();
    assert!(c.given);
    assert_eq!(c.given_by, ConsentBy::Guardian("Budi (anak)".into()));
}

#[test]
fn a_refused_consent_ends_the_visit_with_nothing_captured() {
    let r = start();
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
        &format!("csrf={csrf}&nik={NIK}&sex=female&category=sakit"),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let consent = a.header("location").unwrap();
    // No decision: asked again, nothing recorded.
    let a = post(
        r.addr,
        &consent,
        &cookie,
        "",
        &format!("csrf={csrf}&by=resident"),
    );
    assert_eq!(a.status, 422);
    assert!(drafts(&r.home)[0].consent.is_none());
    let a = post(
        r.addr,
        &consent,
        &cookie,
        "",
        &format!("csrf={csrf}&decision=refused&by=resident"),
    );
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Warga menolak"), "{}", a.body);
    let v = drafts(&r.home).remove(0);
    let c = v.consent.clone().unwrap();
    assert!(!c.given);
    assert_eq!(c.given_by, ConsentBy::Resident);
    assert!(v.referenced_files().is_empty(), "nothing captured");
    // Home lists it as ended by the refusal.
    let home = get(r.addr, "/home", &host, Some(&cookie));
    assert!(home.body.contains("Persetujuan ditolak"), "{}", home.body);
}

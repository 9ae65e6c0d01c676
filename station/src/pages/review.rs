//! A visit after its capture steps: the resume dispatcher (`GET /visit/{id}`: to the step where
//! the visit stopped, or to the review), the review ("Periksa": every capture with its scores,
//! the exceptions, the warnings still to confirm), its thumbnails (`GET /visit/{id}/file/{name}`,
//! decrypted from the draft in memory, never cached), and sealing ("Segel kunjungan",
//! `POST /visit/{id}/seal`) through the kit's own `seal::seal_draft`, as `jemput seal` does.

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use fluent_bundle::FluentArgs;
use jemput_core::imaging::face::Bound;
use jemput_core::imaging::signature::SignatureKind;
use jemput_core::packet::PacketError;
use jemput_core::visit::check::Problem;
use jemput_core::visit::{
    nik, Capture, ConsentBy, Exception, ExceptionReason, FingerPosition, Permanence, ResidentRef,
    Sex, Slot, Visit,
};
use jemput_kit::home::KitHome;
use jemput_kit::seal::{self, SealError};
use jemput_kit::visit::{progress, DraftError, Step};
use serde::Serialize;
use uuid::Uuid;

use super::view::{category_id, human_bytes};
use super::{Base, Ctx};
use crate::i18n::{I18n, Lang};
use crate::security::Session;
use crate::App;

/// Every message id this module builds in code (the templates' own are read from their source).
pub fn message_ids_used() -> Vec<String> {
    let mut ids: Vec<String> = [
        "review-reason-amputated",
        "review-reason-bandaged",
        "review-reason-unable-to-sign",
        "review-reason-blind",
        "review-reason-refused",
        "review-reason-device-failure",
        "review-reason-poor-quality",
        "review-reason-not-detected",
        "review-reason-other",
        "review-permanence-temporary",
        "review-permanence-permanent",
        "review-problem-no-consent",
        "review-problem-consent-refused",
        "review-problem-bad-nik",
        "review-problem-unconfirmed",
        "review-problem-missing-face",
        "review-problem-missing-finger",
        "review-problem-missing-signature",
        "review-problem-no-documents",
        "review-problem-document-exception",
        "review-problem-fix-consent",
        "review-problem-fix-step",
        "resume-consent",
        "review-nik-warning-sex",
        "review-nik-warning-birth-date",
        "review-sex-male",
        "review-sex-female",
        "review-step-face",
        "review-step-finger",
        "review-step-signature",
        "review-step-document",
        "review-step-location",
        "review-signature-kind-signature",
        "review-signature-kind-simple-mark",
        "review-signature-kind-written-name",
        "review-document-akta",
        "review-document-kia",
        "review-document-kk",
        "review-document-all",
        "resume-unknown",
        "resume-bad-id",
        "resume-already-sealed",
        "review-failed",
        "seal-refused",
        "seal-failed",
        "seal-confirm-first",
        "review-consent-resident",
        "review-consent-guardian",
    ]
    .map(String::from)
    .to_vec();
    ids.extend((1..=10).map(|n| format!("review-finger-{n}")));
    ids.extend(
        FACE_CHECKS
            .iter()
            .map(|c| format!("review-face-check-{}", c.replace('_', "-"))),
    );
    ids
}

/// The message `id` in `lang` with `args`.
fn tr(i18n: &I18n, lang: Lang, id: &str, args: &[(&str, String)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(k.to_string(), v.clone());
    }
    i18n.text(lang, id, Some(&a))
}

/// The face checks core runs, whose names the station words itself.
const FACE_CHECKS: [&str; 8] = [
    "width",
    "height",
    "aspect_ratio",
    "highlights_clipped",
    "shadows_clipped",
    "sharpness",
    "background_uniform",
    "background_colour",
];

/// A face check's name in the operator's words; a check the station does not know (a plugged-in
/// one) by its id.
fn face_check_name(i18n: &I18n, lang: Lang, check: &str) -> String {
    let id = format!("review-face-check-{}", check.replace('_', "-"));
    if i18n.has(lang, &id) {
        tr(i18n, lang, &id, &[])
    } else {
        check.to_string()
    }
}

/// A finger's name, e.g. "jempol kanan".
fn finger_name(i18n: &I18n, lang: Lang, p: FingerPosition) -> String {
    tr(i18n, lang, &format!("review-finger-{}", p.code()), &[])
}

/// A step as the operator reads it: "Foto wajah", "Sidik jari 07 (telunjuk kiri)".
pub fn step_text(i18n: &I18n, lang: Lang, step: Step) -> String {
    match step {
        Step::Location => tr(i18n, lang, "review-step-location", &[]),
        Step::Face => tr(i18n, lang, "review-step-face", &[]),
        Step::Finger(p) => tr(
            i18n,
            lang,
            "review-step-finger",
            &[
                ("n", format!("{:02}", p.code())),
                ("name", finger_name(i18n, lang, p)),
            ],
        ),
        Step::Signature => tr(i18n, lang, "review-step-signature", &[]),
        Step::Document(n) => tr(i18n, lang, "review-step-document", &[("n", n.to_string())]),
    }
}

/// The NIK warning `code` in the operator's language, from the NIK and what was entered (core's
/// own texts are fixed Indonesian and English sentences; these are the station's messages).
pub fn nik_warning_text(
    i18n: &I18n,
    lang: Lang,
    code: &str,
    nik_text: &str,
    sex: Option<Sex>,
    birth: Option<jiff::civil::Date>,
) -> String {
    let sex_word = |s: Sex| {
        tr(
            i18n,
            lang,
            if s == Sex::Female {
                "review-sex-female"
            } else {
                "review-sex-male"
            },
            &[],
        )
    };
    let Ok(info) = nik::parse(nik_text) else {
        return code.to_string();
    };
    match (code, sex, birth) {
        (nik::WARN_SEX, Some(s), _) => tr(
            i18n,
            lang,
            "review-nik-warning-sex",
            &[("nik", sex_word(info.sex)), ("entered", sex_word(s))],
        ),
        (nik::WARN_BIRTH_DATE, _, Some(d)) => tr(
            i18n,
            lang,
            "review-nik-warning-birth-date",
            &[
                (
                    "nik",
                    format!(
                        "{:02}-{:02}-{:02}",
                        info.birth_day, info.birth_month, info.birth_year_2d
                    ),
                ),
                ("entered", d.to_string()),
            ],
        ),
        _ => code.to_string(),
    }
}

fn reason_text(i18n: &I18n, lang: Lang, r: &ExceptionReason) -> String {
    let id = match r {
        ExceptionReason::Amputated => "review-reason-amputated",
        ExceptionReason::BandagedOrInjured => "review-reason-bandaged",
        ExceptionReason::UnableToSign => "review-reason-unable-to-sign",
        ExceptionReason::Blind => "review-reason-blind",
        ExceptionReason::Refused => "review-reason-refused",
        ExceptionReason::DeviceFailure => "review-reason-device-failure",
        ExceptionReason::PoorQuality => "review-reason-poor-quality",
        ExceptionReason::NotDetected => "review-reason-not-detected",
        ExceptionReason::Other(t) => {
            return tr(i18n, lang, "review-reason-other", &[("text", t.clone())])
        }
    };
    tr(i18n, lang, id, &[])
}

#[derive(Debug, Serialize)]
struct ExceptionView {
    reason: String,
    permanence: String,
    permanent: bool,
    proof: Option<String>,
}

fn exception_view(i18n: &I18n, lang: Lang, id: Uuid, e: &Exception) -> ExceptionView {
    ExceptionView {
        reason: reason_text(i18n, lang, &e.reason),
        permanence: tr(
            i18n,
            lang,
            match e.permanence {
                Permanence::Temporary => "review-permanence-temporary",
                Permanence::Permanent => "review-permanence-permanent",
            },
            &[],
        ),
        permanent: e.permanence == Permanence::Permanent,
        proof: e.proof_file.as_ref().map(|f| file_url(id, f)),
    }
}

#[derive(Debug, Serialize)]
struct CheckView {
    check: String,
    passed: bool,
    value: String,
    threshold: String,
    /// `≥` or `≤`.
    bound: &'static str,
    unit: String,
    advice: String,
}

#[derive(Debug, Serialize)]
struct CaptureView {
    /// The thumbnail's address.
    image: Option<String>,
    score: Option<u8>,
    algorithm: Option<String>,
    /// The device's own score (an SBI device's `qualityScore`), one decimal.
    device_score: Option<String>,
    attempts: u32,
    forced: bool,
    checks: Vec<CheckView>,
    kind: Option<String>,
}

#[derive(Debug, Serialize)]
struct SlotView {
    captured: Option<CaptureView>,
    exception: Option<ExceptionView>,
}

fn file_url(id: Uuid, name: &str) -> String {
    format!("/visit/{id}/file/{name}")
}

/// Whether the browser can show the file (after the station turns WSQ into PNG).
fn viewable(name: &str) -> bool {
    [".jpg", ".jpeg", ".png", ".wsq"]
        .iter()
        .any(|e| name.to_ascii_lowercase().ends_with(e))
}

fn capture_view(i18n: &I18n, lang: Lang, id: Uuid, c: &Capture) -> CaptureView {
    let face = c.face_checks.as_deref();
    CaptureView {
        image: viewable(&c.file).then(|| file_url(id, &c.file)),
        score: c
            .quality
            .as_ref()
            .map(|q| q.score)
            .or(face.map(|f| f.quality_score())),
        algorithm: c.quality.as_ref().map(|q| q.algorithm.clone()),
        device_score: c.device_quality.map(|d| format!("{d:.1}")),
        attempts: c.retries + 1,
        forced: c.forced,
        checks: face
            .map(|f| {
                f.checks
                    .iter()
                    .map(|k| CheckView {
                        check: face_check_name(i18n, lang, &k.check),
                        passed: k.passed,
                        value: format!("{:.2}", k.value),
                        threshold: format!("{:.2}", k.threshold),
                        bound: match k.bound {
                            Bound::AtMost => "≤",
                            Bound::AtLeast => "≥",
                        },
                        unit: k.unit.clone(),
                        advice: match lang {
                            Lang::Id => k.message_id.clone(),
                            Lang::En => k.message_en.clone(),
                        },
                    })
                    .collect()
            })
            .unwrap_or_default(),
        kind: c.signature_kind.map(|k| {
            let id = match k {
                SignatureKind::SimpleMark => "review-signature-kind-simple-mark",
                SignatureKind::WrittenName => "review-signature-kind-written-name",
                SignatureKind::Signature => "review-signature-kind-signature",
            };
            tr(i18n, lang, id, &[])
        }),
    }
}

fn slot_view(i18n: &I18n, lang: Lang, id: Uuid, s: Option<&Slot>) -> SlotView {
    match s {
        Some(Slot::Captured(c)) => SlotView {
            captured: Some(capture_view(i18n, lang, id, c)),
            exception: None,
        },
        Some(Slot::Exception(e)) => SlotView {
            captured: None,
            exception: Some(exception_view(i18n, lang, id, e)),
        },
        None => SlotView {
            captured: None,
            exception: None,
        },
    }
}

#[derive(Debug, Serialize)]
struct FingerRow {
    code: String,
    name: String,
    step: String,
    slot: SlotView,
}

#[derive(Debug, Serialize)]
struct DocumentExceptionView {
    what: String,
    exception: ExceptionView,
}

#[derive(Debug, Serialize)]
struct ProblemView {
    text: String,
    /// Where to fix it, and the link's words.
    link: Option<(String, String)>,
}

#[derive(Debug, Serialize)]
struct WarningView {
    code: String,
    text: String,
}

#[derive(Debug, Serialize)]
struct ReviewView {
    id: String,
    who: String,
    reference: String,
    category: String,
    place: String,
    consent: Option<String>,
    biometrics: bool,
    face: SlotView,
    fingers: Vec<FingerRow>,
    signature: SlotView,
    documents: Vec<CaptureView>,
    document_exceptions: Vec<DocumentExceptionView>,
    /// NIK warnings not yet confirmed: each a checkbox in the seal form.
    warnings: Vec<WarningView>,
    /// Everything else that blocks sealing, each with where to fix it.
    problems: Vec<ProblemView>,
    /// A previous seal of this draft stopped midway (its packet id).
    sealing: Option<String>,
    /// A message id: why the last seal was refused or failed.
    error: Option<String>,
    detail: Option<String>,
}

fn who(v: &Visit) -> String {
    v.resident
        .name
        .clone()
        .unwrap_or_else(|| match &v.resident.reference {
            ResidentRef::Nik(n) => n.clone(),
            ResidentRef::Worklist(w) => w.clone(),
        })
}

fn problem_view(i18n: &I18n, lang: Lang, id: Uuid, p: &Problem) -> Option<ProblemView> {
    let step_link = |s: Step| {
        Some((
            format!("/visit/{id}/step/{}", s.id()),
            tr(
                i18n,
                lang,
                "review-problem-fix-step",
                &[("step", step_text(i18n, lang, s))],
            ),
        ))
    };
    let (text, link) = match p {
        // Shown as checkboxes to confirm instead.
        Problem::Unconfirmed(_) => return None,
        Problem::NoConsent => (
            tr(i18n, lang, "review-problem-no-consent", &[]),
            Some((
                format!("/visit/{id}/consent"),
                tr(i18n, lang, "review-problem-fix-consent", &[]),
            )),
        ),
        Problem::ConsentRefused => (tr(i18n, lang, "review-problem-consent-refused", &[]), None),
        Problem::BadNik(e) => (
            tr(
                i18n,
                lang,
                "review-problem-bad-nik",
                &[("why", crate::i18n::half(e, lang))],
            ),
            None,
        ),
        Problem::MissingFace => (
            tr(i18n, lang, "review-problem-missing-face", &[]),
            step_link(Step::Face),
        ),
        Problem::MissingFinger(f) => (
            tr(
                i18n,
                lang,
                "review-problem-missing-finger",
                &[
                    ("n", format!("{:02}", f.code())),
                    ("name", finger_name(i18n, lang, *f)),
                ],
            ),
            step_link(Step::Finger(*f)),
        ),
        Problem::MissingSignature => (
            tr(i18n, lang, "review-problem-missing-signature", &[]),
            step_link(Step::Signature),
        ),
        Problem::NoDocuments => (
            tr(i18n, lang, "review-problem-no-documents", &[]),
            step_link(Step::Document(1)),
        ),
        Problem::DocumentExceptionWithBiometrics => (
            tr(i18n, lang, "review-problem-document-exception", &[]),
            None,
        ),
    };
    Some(ProblemView { text, link })
}

fn review_view(i18n: &I18n, lang: Lang, v: &Visit, sealing: Option<String>) -> ReviewView {
    let id = v.id;
    let reference = match &v.resident.reference {
        ResidentRef::Nik(n) => format!("NIK {n}"),
        ResidentRef::Worklist(w) => w.clone(),
    };
    let consent = v.consent.as_ref().map(|c| match (&c.given_by, c.given) {
        (_, false) => tr(i18n, lang, "review-problem-consent-refused", &[]),
        (ConsentBy::Resident, true) => tr(i18n, lang, "review-consent-resident", &[]),
        (ConsentBy::Guardian(name), true) => tr(
            i18n,
            lang,
            "review-consent-guardian",
            &[("name", name.clone())],
        ),
    });
    let warnings = match &v.resident.reference {
        ResidentRef::Nik(n) => v
            .nik_warnings()
            .into_iter()
            .filter(|w| !v.confirmed_warnings.iter().any(|c| c == w.code))
            .map(|w| WarningView {
                code: w.code.to_string(),
                text: nik_warning_text(
                    i18n,
                    lang,
                    w.code,
                    n,
                    v.resident.sex,
                    v.resident.birth_date,
                ),
            })
            .collect(),
        ResidentRef::Worklist(_) => Vec::new(),
    };
    ReviewView {
        id: id.to_string(),
        who: who(v),
        reference,
        category: category_id(v.category),
        place: v.place.description.clone(),
        consent,
        biometrics: v.category.records_biometrics(),
        face: slot_view(i18n, lang, id, v.captures.face.as_ref()),
        fingers: FingerPosition::all()
            .map(|p| FingerRow {
                code: format!("{:02}", p.code()),
                name: finger_name(i18n, lang, p),
                step: Step::Finger(p).id(),
                slot: slot_view(i18n, lang, id, v.captures.fingers.get(&p)),
            })
            .collect(),
        signature: slot_view(i18n, lang, id, v.captures.signature.as_ref()),
        documents: v
            .captures
            .documents
            .iter()
            .map(|c| capture_view(i18n, lang, id, c))
            .collect(),
        document_exceptions: v
            .captures
            .document_exceptions
            .iter()
            .map(|(d, e)| DocumentExceptionView {
                what: tr(i18n, lang, &format!("review-document-{}", d.code()), &[]),
                exception: exception_view(i18n, lang, id, e),
            })
            .collect(),
        warnings,
        problems: v
            .readiness()
            .iter()
            .filter_map(|p| problem_view(i18n, lang, id, p))
            .collect(),
        sealing,
        error: None,
        detail: None,
    }
}

/// What the kit holds for a visit id.
enum Found {
    /// A draft (and the packet id of a seal that stopped midway, if any).
    Draft(Box<Visit>, Option<String>),
    /// No draft, but a packet in the queue: the visit was sealed.
    Sealed(String),
    Missing,
}

/// Finds the visit `id` on the kit: its draft record (decrypting nothing else), else its packet.
fn find(root: &FsPath, identity: &age::x25519::Identity, id: Uuid) -> Result<Found, String> {
    let home = KitHome::open(root).map_err(|e| e.to_string())?;
    let drafts = home.drafts().map_err(|e| e.to_string())?;
    match drafts.load_record(id, identity) {
        Ok(v) => Ok(Found::Draft(Box::new(v), drafts.sealing_marker(id))),
        Err(DraftError::NotFound(_)) => {
            let store = jemput_kit::store::Store::open(&home.root).map_err(|e| e.to_string())?;
            Ok(
                match store
                    .find_by_visit(&id.to_string())
                    .map_err(|e| e.to_string())?
                {
                    Some(entry) => Found::Sealed(entry.packet_id),
                    None => Found::Missing,
                },
            )
        }
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Debug, Serialize)]
struct Message {
    message: &'static str,
    detail: String,
}

fn message_page(
    app: &App,
    session: &Session,
    status: StatusCode,
    message: &'static str,
    detail: String,
) -> Response {
    app.pages.page(
        status,
        "error.html",
        &Ctx {
            base: Base::new(app, session, "/home"),
            page: Message { message, detail },
        },
    )
}

#[derive(Debug, Serialize)]
struct SealedView {
    packet_id: String,
    size: Option<String>,
    /// Sealed by this request (else found sealed earlier).
    now: bool,
    /// The kit must upload at once (online-only policy): the upload was started.
    uploading: bool,
}

fn sealed_page(app: &App, session: &Session, view: SealedView) -> Response {
    app.pages.page(
        StatusCode::OK,
        "sealed.html",
        &Ctx {
            base: Base::new(app, session, "/home"),
            page: view,
        },
    )
}

/// Looks the visit up off the request threads; `Err` is the response to send instead.
async fn lookup(app: &Arc<App>, session: &Session, id: &str) -> Result<(Uuid, Found), Response> {
    let Some(identity) = app.lock.identity(Instant::now()) else {
        return Err(Redirect::to("/unlock").into_response());
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return Err(message_page(
            app,
            session,
            StatusCode::NOT_FOUND,
            "resume-bad-id",
            id.to_string(),
        ));
    };
    let root = app.home.clone();
    match tokio::task::spawn_blocking(move || find(&root, &identity, id))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
    {
        Ok(Found::Missing) => Err(message_page(
            app,
            session,
            StatusCode::NOT_FOUND,
            "resume-unknown",
            id.to_string(),
        )),
        Ok(Found::Sealed(packet_id)) => Err(sealed_page(
            app,
            session,
            SealedView {
                packet_id,
                size: None,
                now: false,
                uploading: false,
            },
        )),
        Ok(found) => Ok((id, found)),
        Err(detail) => Err(message_page(
            app,
            session,
            StatusCode::INTERNAL_SERVER_ERROR,
            "review-failed",
            detail,
        )),
    }
}

/// `GET /visit/{id}`: resumes a visit where it stopped — consent first, then the first capture
/// it lacks, else the review.
pub async fn resume(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let (id, found) = match lookup(&app, &session, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Found::Draft(v, sealing) = found else {
        unreachable!("lookup answers every other case");
    };
    let to = if sealing.is_some() {
        format!("/visit/{id}/review")
    } else if v.consent.is_none() {
        format!("/visit/{id}/consent")
    } else if v.consent.as_ref().is_some_and(|c| !c.given) {
        format!("/visit/{id}/review")
    } else {
        match progress::first_missing(&v) {
            Some(step) => format!("/visit/{id}/step/{}", step.id()),
            None => format!("/visit/{id}/review"),
        }
    };
    Redirect::to(&to).into_response()
}

fn review_page(app: &App, session: &Session, status: StatusCode, view: ReviewView) -> Response {
    app.pages.page(
        status,
        "review.html",
        &Ctx {
            base: Base::new(app, session, "/home"),
            page: view,
        },
    )
}

/// `GET /visit/{id}/review` ("Periksa").
pub async fn review(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let (_, found) = match lookup(&app, &session, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Found::Draft(v, sealing) = found else {
        unreachable!("lookup answers every other case");
    };
    let view = review_view(&app.i18n, session.lang, &v, sealing);
    review_page(&app, &session, StatusCode::OK, view)
}

/// The longer side of a fingerprint's thumbnail, in pixels (shown at 80: twice for sharp
/// screens).
const FINGER_THUMB_PX: u32 = 160;
/// The longer side of a photo's thumbnail (the face, a document, a proof photo).
const PHOTO_THUMB_PX: u32 = 320;
/// JPEG quality of the thumbnails.
const THUMB_QUALITY: u8 = 75;

/// `img` scaled down to fit `max` pixels on its longer side (a smaller one is kept as it is).
fn fit(img: image::DynamicImage, max: u32) -> image::DynamicImage {
    if img.width().max(img.height()) <= max {
        img
    } else {
        img.thumbnail(max, max)
    }
}

fn jpeg(img: &image::DynamicImage) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, THUMB_QUALITY)
        .encode_image(img)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// A capture file as the review shows it: a small JPEG of a photo or a WSQ fingerprint (the
/// review shows that a capture is there and how it looks, not its ridges: eleven full images
/// would weigh megabytes), a PNG (the signature) as it is.
fn viewable_bytes(name: &str, bytes: Vec<u8>) -> Result<(&'static str, Vec<u8>), String> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
            .map_err(|e| e.to_string())?;
        Ok(("image/jpeg", jpeg(&fit(img, PHOTO_THUMB_PX))?))
    } else if lower.ends_with(".png") {
        Ok(("image/png", bytes))
    } else if lower.ends_with(".wsq") {
        let d = jemput_wsq::decode(&bytes).map_err(|e| e.to_string())?.image;
        let img = image::GrayImage::from_raw(d.width, d.height, d.pixels)
            .ok_or("the WSQ image has the wrong number of pixels")?;
        let img = fit(image::DynamicImage::ImageLuma8(img), FINGER_THUMB_PX);
        Ok(("image/jpeg", jpeg(&img)?))
    } else {
        Err(format!("{name} is not an image"))
    }
}

/// `GET /visit/{id}/file/{name}`: one capture of a draft, decrypted in memory for the review;
/// `Cache-Control: no-store` so the browser keeps no copy.
pub async fn file(
    State(app): State<Arc<App>>,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let Some(identity) = app.lock.identity(Instant::now()) else {
        return (StatusCode::FORBIDDEN, "locked").into_response();
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return (StatusCode::NOT_FOUND, "no such visit").into_response();
    };
    let root = app.home.clone();
    let got = tokio::task::spawn_blocking(move || {
        let home =
            KitHome::open(&root).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let drafts = home
            .drafts()
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        let bytes = drafts
            .load_file(id, &name, &identity)
            .map_err(|e| match e {
                DraftError::NotFound(_) | DraftError::BadName(_) => {
                    (StatusCode::NOT_FOUND, e.to_string())
                }
                e => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            })?;
        viewable_bytes(&name, bytes).map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e))
    })
    .await;
    match got {
        Ok(Ok((content_type, bytes))) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Ok(Err((status, why))) => (status, why).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// What a seal request came to.
enum Sealed {
    Done(seal::SealOutcome, bool),
    /// No draft any more: it was sealed into this packet (a second press of the button).
    Already(String),
    /// The visit is not ready (the draft as it stands now, after any confirmation).
    NotReady(Box<Visit>, Option<String>),
    /// Warnings were left unconfirmed.
    Unconfirmed(Box<Visit>, Option<String>),
    Failed(String),
}

/// One seal at a time: a button pressed twice must not seal one draft into two packets.
static SEALING: Mutex<()> = Mutex::new(());

fn seal_blocking(
    root: &FsPath,
    identity: &age::x25519::Identity,
    id: Uuid,
    confirmed: &[String],
) -> Sealed {
    let _one = SEALING.lock().unwrap_or_else(|p| p.into_inner());
    let run = || -> Result<Sealed, String> {
        let home = KitHome::open(root).map_err(|e| e.to_string())?;
        let drafts = home.drafts().map_err(|e| e.to_string())?;
        let sealing = drafts.sealing_marker(id);
        let mut visit = match drafts.load_record(id, identity) {
            Ok(v) => v,
            Err(DraftError::NotFound(_)) => {
                let store =
                    jemput_kit::store::Store::open(&home.root).map_err(|e| e.to_string())?;
                return Ok(
                    match store
                        .find_by_visit(&id.to_string())
                        .map_err(|e| e.to_string())?
                    {
                        Some(entry) => Sealed::Already(entry.packet_id),
                        None => Sealed::Failed(DraftError::NotFound(id).to_string()),
                    },
                );
            }
            Err(e) => return Err(e.to_string()),
        };
        // The warnings the operator ticked, confirmed in the draft as `jemput visit confirm`
        // does; the others stay and refuse the seal.
        let open: Vec<String> = visit
            .nik_warnings()
            .into_iter()
            .map(|w| w.code.to_string())
            .filter(|c| !visit.confirmed_warnings.contains(c))
            .collect();
        let ticked: Vec<String> = open
            .iter()
            .filter(|c| confirmed.contains(c))
            .cloned()
            .collect();
        if !ticked.is_empty() {
            jemput_kit::new_visit::confirm(&drafts, identity, id, &ticked)
                .map_err(|e| e.to_string())?;
            visit = drafts
                .load_record(id, identity)
                .map_err(|e| e.to_string())?;
        }
        if ticked.len() < open.len() {
            return Ok(Sealed::Unconfirmed(Box::new(visit), sealing));
        }
        let (mut store, _) = seal::open_store(&home).map_err(|e| e.to_string())?;
        match seal::seal_draft(&home, &mut store, &drafts, identity, id) {
            Ok(o) => {
                let online_only = jemput_kit::sync::status::effective_policy(&home)
                    .map(|p| p.online_only().0)
                    .unwrap_or(false);
                Ok(Sealed::Done(o, online_only))
            }
            Err(SealError::Packet(PacketError::Incomplete(_))) => {
                Ok(Sealed::NotReady(Box::new(visit), sealing))
            }
            Err(e) => Err(e.to_string()),
        }
    };
    run().unwrap_or_else(Sealed::Failed)
}

/// `POST /visit/{id}/seal` ("Segel kunjungan"): confirms the warnings ticked, then seals the
/// draft into a packet in the queue; a visit that is not ready is refused with each reason and
/// where to fix it, and nothing is lost.
pub async fn seal(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(identity) = app.lock.identity(Instant::now()) else {
        return Redirect::to("/unlock").into_response();
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return message_page(
            &app,
            &session,
            StatusCode::NOT_FOUND,
            "resume-bad-id",
            id.to_string(),
        );
    };
    let confirmed: Vec<String> = f
        .keys()
        .filter_map(|k| k.strip_prefix("confirm_").map(String::from))
        .collect();
    let root = app.home.clone();
    let done = tokio::task::spawn_blocking(move || seal_blocking(&root, &identity, id, &confirmed))
        .await
        .unwrap_or_else(|e| Sealed::Failed(e.to_string()));
    let lang = session.lang;
    match done {
        Sealed::Done(o, online_only) => {
            let uploading = online_only && super::upload::start(&app).is_ok();
            sealed_page(
                &app,
                &session,
                SealedView {
                    packet_id: o.packet_id,
                    size: Some(human_bytes(o.size)),
                    now: true,
                    uploading,
                },
            )
        }
        Sealed::Already(packet_id) => sealed_page(
            &app,
            &session,
            SealedView {
                packet_id,
                size: None,
                now: false,
                uploading: false,
            },
        ),
        Sealed::NotReady(v, sealing) => {
            let mut view = review_view(&app.i18n, lang, &v, sealing);
            view.error = Some("seal-refused".into());
            review_page(&app, &session, StatusCode::UNPROCESSABLE_ENTITY, view)
        }
        Sealed::Unconfirmed(v, sealing) => {
            let mut view = review_view(&app.i18n, lang, &v, sealing);
            view.error = Some("seal-confirm-first".into());
            review_page(&app, &session, StatusCode::UNPROCESSABLE_ENTITY, view)
        }
        Sealed::Failed(detail) => message_page(
            &app,
            &session,
            StatusCode::INTERNAL_SERVER_ERROR,
            "seal-failed",
            detail,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_warnings_and_steps_read_in_the_sessions_language() {
        let i18n = crate::i18n::load().unwrap();
        let nik = "7408014512500001"; // a woman born 1950-12-05
        let male = Some(Sex::Male);
        let born = Some(jiff::civil::date(1951, 1, 2));
        let id = nik_warning_text(&i18n, Lang::Id, nik::WARN_SEX, nik, male, born);
        assert_eq!(
            id,
            "NIK menunjukkan perempuan, tetapi jenis kelamin yang diisi laki-laki"
        );
        let en = nik_warning_text(&i18n, Lang::En, nik::WARN_BIRTH_DATE, nik, male, born);
        assert_eq!(
            en,
            "The NIK's birth date (05-12-50) differs from the one entered (1951-01-02)"
        );
        let seven = Step::Finger(FingerPosition::new(7).unwrap());
        assert_eq!(
            step_text(&i18n, Lang::Id, seven),
            "Sidik jari 07 (telunjuk kiri)"
        );
        assert_eq!(step_text(&i18n, Lang::En, seven), "Finger 07 (left index)");
    }
}

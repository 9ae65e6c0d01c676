//! What `jemput visit new|check|…` ([`super::visit`]) and `jemput visit capture`
//! ([`super::visit_capture`]) share: the `--exception WHAT=REASON` flag, and the command that
//! fixes each problem a draft still has.

use jemput_core::visit::check::Problem;
use jemput_core::visit::{DocumentKind, ExceptionReason, FingerPosition, Permanence};
use jemput_kit::visit::attempt::Subject;
use uuid::Uuid;

/// What an exception stands for: a biometric capture, or a document-only visit's document photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excused {
    Capture(Subject),
    Document(DocumentKind),
}

/// An exception as the operator gives it: `WHAT=REASON[,permanent|,temporary]`.
pub type ExceptionArg = (Excused, ExceptionReason, Permanence);

/// Parses `--exception WHAT=REASON[,permanent|,temporary]`: WHAT is a finger 1–10, `face`,
/// `signature`, `documents` (every document photo), or one document: `akta`, `kia`, `kk` (also
/// written `documents:kk`).
pub fn parse_exception(s: &str) -> Result<ExceptionArg, String> {
    let (what, rest) = s
        .split_once('=')
        .ok_or("expected WHAT=REASON[,permanent], e.g. 7=bandaged or face=refused")?;
    let what = what.trim();
    let one_document = what
        .strip_prefix("documents:")
        .or_else(|| what.strip_prefix("document:"))
        .unwrap_or(what);
    let excused = match what {
        "face" => Excused::Capture(Subject::Face),
        "signature" => Excused::Capture(Subject::Signature),
        "documents" | "document" => Excused::Document(DocumentKind::All),
        _ => match (one_document.parse::<DocumentKind>(), what.parse::<u8>()) {
            (Ok(d), _) => Excused::Document(d),
            (_, Ok(n)) if FingerPosition::new(n).is_some() => {
                Excused::Capture(Subject::Finger(FingerPosition::new(n).expect("checked")))
            }
            _ => {
                return Err(format!(
                    "{what:?} is no finger, face, signature or document: use a finger 1–10 (1 \
                     right thumb … 10 left little), `face`, `signature`, or `documents` (every \
                     document photo) or one of `akta`, `kia`, `kk`"
                ))
            }
        },
    };
    let (reason, perm) = match rest.rsplit_once(',') {
        Some((r, "permanent")) => (r, Permanence::Permanent),
        Some((r, "temporary")) => (r, Permanence::Temporary),
        _ => (rest, Permanence::Temporary),
    };
    let reason = match reason.trim() {
        "amputated" => ExceptionReason::Amputated,
        "bandaged" => ExceptionReason::BandagedOrInjured,
        "unable_to_sign" => ExceptionReason::UnableToSign,
        "blind" => ExceptionReason::Blind,
        "refused" => ExceptionReason::Refused,
        "device_failure" => ExceptionReason::DeviceFailure,
        r => match r.strip_prefix("other:") {
            Some(t) if !t.trim().is_empty() => ExceptionReason::Other(t.trim().into()),
            _ => {
                return Err(format!(
                    "unknown exception reason {r:?}: use amputated, bandaged, unable_to_sign, \
                     blind, refused, device_failure or other:TEXT"
                ))
            }
        },
    };
    Ok((excused, reason, perm))
}

/// A biometric capture's exception, and a document photo's, as `NewVisit` takes them.
type CaptureException = (Subject, ExceptionReason, Permanence);

type DocumentException = (DocumentKind, ExceptionReason, Permanence);

/// Splits `--exception` flags into the biometric ones and the document photos'.
pub fn split_exceptions(all: Vec<ExceptionArg>) -> (Vec<CaptureException>, Vec<DocumentException>) {
    let mut captures = Vec::new();
    let mut documents = Vec::new();
    for (what, reason, permanence) in all {
        match what {
            Excused::Capture(s) => captures.push((s, reason, permanence)),
            Excused::Document(d) => documents.push((d, reason, permanence)),
        }
    }
    (captures, documents)
}

/// The commands that fix `problems` of the draft `id`, each once: the fingers' share one.
pub fn fixes(problems: &[Problem], id: Uuid) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in problems {
        let fix = match p {
            Problem::MissingFinger(_) => format!(
                "jemput visit capture {id} --only fingers --scanner SEL; for a finger that cannot \
                 be taken: jemput visit capture {id} --exception N=REASON"
            ),
            p => fix_for(p, id),
        };
        if !out.contains(&fix) {
            out.push(fix);
        }
    }
    out
}

/// The command that fixes `problem` of the draft `id`.
pub fn fix_for(problem: &Problem, id: Uuid) -> String {
    let capture = format!("jemput visit capture {id}");
    match problem {
        Problem::NoConsent => format!("{capture} --consent resident (or --consent guardian:NAME)"),
        Problem::ConsentRefused => format!(
            "nothing is sealed without consent: jemput visit discard {id} --reason \"consent refused\""
        ),
        Problem::BadNik(_) => format!(
            "a draft's NIK cannot be changed: jemput visit discard {id} --reason \"wrong NIK\", \
             then jemput visit new with the right one"
        ),
        Problem::Unconfirmed(w) => format!(
            "check it with the resident, then jemput visit confirm {id} {}",
            w.code
        ),
        Problem::MissingFace => format!(
            "{capture} --only face --camera SEL; if it cannot be taken: {capture} --exception face=REASON"
        ),
        Problem::MissingFinger(f) => format!(
            "{capture} --only fingers --scanner SEL; if it cannot be taken: {capture} --exception {}=REASON",
            f.code()
        ),
        Problem::MissingSignature => format!(
            "{capture} --only signature --pad SEL; if the resident cannot sign: {capture} --exception signature=unable_to_sign"
        ),
        Problem::NoDocuments => format!(
            "{capture} --only documents --camera SEL; if they cannot be taken: {capture} --exception documents=REASON (or akta=, kia=, kk= for one)"
        ),
        Problem::DocumentExceptionWithBiometrics => format!(
            "a draft keeps its exceptions: jemput visit discard {id} --reason \"document exception in a biometric visit\", then start it again"
        ),
    }
}

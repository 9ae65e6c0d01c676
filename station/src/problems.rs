//! An error that reaches the operator, in the operator's words: the kit classifies it
//! ([`jemput_kit::visit::OperatorProblem`]: what to do, on which device) and this puts it into a
//! sentence from `i18n/<lang>/problems.ftl` — what happened and what to do, Bahasa Indonesia first.
//! The English message of the error itself stays beside it, for the technician.

use fluent_bundle::FluentArgs;
use jemput_kit::visit::{OperatorProblem, ProblemKind, WaitedFor};

use crate::i18n::{I18n, Lang};

/// The message id of a kind of problem (`problems.ftl`). Names every kind: a new one does not
/// compile until it has its words.
pub fn message_id(kind: &ProblemKind) -> &'static str {
    match kind {
        ProblemKind::Unplugged => "problem-unplugged",
        ProblemKind::Busy { holder: None } => "problem-busy",
        ProblemKind::Busy { holder: Some(_) } => "problem-busy-holder",
        ProblemKind::NoPermission => "problem-no-permission",
        ProblemKind::WrongDevice => "problem-wrong-device",
        ProblemKind::DeviceFault => "problem-device-fault",
        ProblemKind::Timeout(WaitedFor::Finger) => "problem-timeout-finger",
        ProblemKind::Timeout(WaitedFor::Signature) => "problem-timeout-signature",
        ProblemKind::Timeout(WaitedFor::Photo) => "problem-timeout-photo",
        ProblemKind::Timeout(WaitedFor::Fix) => "problem-timeout-fix",
        ProblemKind::Cancelled => "problem-cancelled",
        ProblemKind::BadData => "problem-bad-data",
        ProblemKind::PoorQuality => "problem-poor-quality",
        ProblemKind::Storage => "problem-storage",
        ProblemKind::Other => "problem-other",
    }
}

/// The message id naming the device of `problem` (`problem-role-scanner`, …, `problem-role-none`).
pub fn role_id(problem: &OperatorProblem) -> String {
    format!("problem-role-{}", problem.role.map_or("none", |r| r.id()))
}

/// What happened and what to do, in `lang`.
pub fn problem_text(i18n: &I18n, lang: Lang, problem: &OperatorProblem) -> String {
    let mut args = FluentArgs::new();
    args.set("device", i18n.text(lang, &role_id(problem), None));
    if let ProblemKind::Busy {
        holder: Some(holder),
    } = &problem.kind
    {
        args.set("holder", holder.clone());
    }
    i18n.text(lang, message_id(&problem.kind), Some(&args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jemput_kit::visit::{
        open_problem, CaptureError, DeviceError, DeviceRole, DraftError, OpenError, NO_FINGER,
    };
    use std::time::Duration;

    #[test]
    fn every_kind_of_problem_on_every_device_has_its_words_in_both_languages() {
        let i18n = crate::i18n::load().unwrap();
        let roles = DeviceRole::ALL.into_iter().map(Some).chain([None]);
        for role in roles {
            for kind in ProblemKind::examples() {
                let p = OperatorProblem {
                    kind: kind.clone(),
                    role,
                    device: None,
                };
                let mut texts = Vec::new();
                for lang in Lang::ALL {
                    assert!(i18n.has(lang, message_id(&kind)), "{kind:?} in {lang:?}");
                    assert!(i18n.has(lang, &role_id(&p)), "{role:?} in {lang:?}");
                    let text = problem_text(&i18n, lang, &p);
                    assert!(
                        !text.starts_with("problem-") && !text.contains('{') && text.len() > 30,
                        "{kind:?} {role:?} {lang:?}: {text:?}"
                    );
                    texts.push(text);
                }
                assert_ne!(texts[0], texts[1], "{kind:?}: the same in both languages");
            }
        }
    }

    #[test]
    fn real_errors_render_in_indonesian() {
        let i18n = crate::i18n::load().unwrap();
        let finger = |source| CaptureError::Device {
            what: "capturing finger 2 (right index)".into(),
            source,
        };
        let busy = OpenError::Busy {
            path: "/dev/ttyUSB0".into(),
            held_by: Some("ModemManager (pid 812)".into()),
        };
        let cases = [
            (
                finger(DeviceError::Disconnected).operator_problem(),
                "Pemindai sidik jari tidak terhubung. Colokkan kabel USB-nya (periksa juga kabel dan hub USB), lalu coba lagi.",
            ),
            (
                finger(DeviceError::Timeout(Duration::from_secs(10), NO_FINGER))
                    .operator_problem(),
                "Tidak ada jari di pemindai. Minta warga menempelkan jarinya rata di kaca pemindai, lalu coba lagi.",
            ),
            (
                open_problem(&busy, Some(DeviceRole::Scanner)),
                "Pemindai sidik jari sedang dipakai program lain (ModemManager (pid 812)). Tutup program itu, lalu coba lagi.",
            ),
            (
                CaptureError::Device {
                    what: "taking the face photo (attempt 1)".into(),
                    source: DeviceError::Io(std::io::Error::from_raw_os_error(13)),
                }
                .operator_problem(),
                "Kamera tidak bisa dibuka karena akun laptop ini belum diberi izin. Minta teknisi memberi izin (aturan udev jemput), lalu coba lagi.",
            ),
            (
                CaptureError::Device {
                    what: "recording the signature (attempt 2)".into(),
                    source: DeviceError::Protocol("bad packet".into()),
                }
                .operator_problem(),
                "Pad tanda tangan mengalami gangguan. Cabut kabelnya, tunggu lima detik, colokkan lagi, lalu coba lagi.",
            ),
            (
                CaptureError::Draft(DraftError::DiskFull {
                    path: "/kit/drafts/x.age".into(),
                    source: std::io::Error::from_raw_os_error(28),
                })
                .operator_problem(),
                "Data tidak dapat disimpan di laptop (disk penuh atau rusak). Hasil yang sudah tersimpan tetap aman. Minta teknisi mengosongkan ruang disk, lalu coba lagi.",
            ),
        ];
        for (problem, indonesian) in cases {
            assert_eq!(problem_text(&i18n, Lang::Id, &problem), indonesian);
            // English is there for who asks for it, and is not what Indonesian shows.
            let english = problem_text(&i18n, Lang::En, &problem);
            assert_ne!(english, indonesian);
            assert!(english.contains("try again"), "{english}");
        }
    }
}

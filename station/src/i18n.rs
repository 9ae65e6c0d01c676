//! Every operator-facing string: Project Fluent bundles, Bahasa Indonesia (the default) and
//! English, from `station/i18n/<lang>/*.ftl` embedded in the binary.
//!
//! Pages name a message by its id (`t("unlock-title")` in a template); [`I18n::text`] formats it
//! in the session's language. A unit test checks that both languages hold the same ids and that
//! every id a template or the code uses exists.

pub use jemput_web::i18n::{message_ids, I18n, I18nError, Lang};

/// The Indonesian or the English half of a kit message written "id / en".
pub(crate) fn half(text: &str, lang: Lang) -> String {
    match (text.split_once(" / "), lang) {
        (Some((id, _)), Lang::Id) => id.to_string(),
        (Some((_, en)), Lang::En) => en.to_string(),
        (None, _) => text.to_string(),
    }
}

/// The Fluent files of each language, embedded: (language, file name, source).
pub const FILES: &[jemput_web::i18n::FtlFile] = &[
    (
        Lang::Id,
        "station.ftl",
        include_str!("../i18n/id/station.ftl"),
    ),
    (
        Lang::Id,
        "unlock.ftl",
        include_str!("../i18n/id/unlock.ftl"),
    ),
    (Lang::Id, "home.ftl", include_str!("../i18n/id/home.ftl")),
    (Lang::Id, "visit.ftl", include_str!("../i18n/id/visit.ftl")),
    (
        Lang::Id,
        "review.ftl",
        include_str!("../i18n/id/review.ftl"),
    ),
    (
        Lang::Id,
        "problems.ftl",
        include_str!("../i18n/id/problems.ftl"),
    ),
    (
        Lang::Id,
        "capture.ftl",
        include_str!("../i18n/id/capture.ftl"),
    ),
    (
        Lang::Id,
        "devices.ftl",
        include_str!("../i18n/id/devices.ftl"),
    ),
    (
        Lang::En,
        "station.ftl",
        include_str!("../i18n/en/station.ftl"),
    ),
    (
        Lang::En,
        "unlock.ftl",
        include_str!("../i18n/en/unlock.ftl"),
    ),
    (Lang::En, "home.ftl", include_str!("../i18n/en/home.ftl")),
    (Lang::En, "visit.ftl", include_str!("../i18n/en/visit.ftl")),
    (
        Lang::En,
        "review.ftl",
        include_str!("../i18n/en/review.ftl"),
    ),
    (
        Lang::En,
        "problems.ftl",
        include_str!("../i18n/en/problems.ftl"),
    ),
    (
        Lang::En,
        "capture.ftl",
        include_str!("../i18n/en/capture.ftl"),
    ),
    (
        Lang::En,
        "devices.ftl",
        include_str!("../i18n/en/devices.ftl"),
    ),
];

/// The station's messages, both languages.
pub fn load() -> Result<I18n, I18nError> {
    I18n::load(FILES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_bundle::FluentArgs;
    use jemput_core::visit::nik;
    use std::collections::BTreeSet;

    fn ids(lang: Lang) -> BTreeSet<String> {
        jemput_web::i18n::ids_of(FILES, lang)
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        let (id, en) = (ids(Lang::Id), ids(Lang::En));
        assert!(id.len() > 20, "{id:?}");
        let only_id: Vec<_> = id.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&id).collect();
        assert!(
            only_id.is_empty() && only_en.is_empty(),
            "only in Indonesian: {only_id:?}; only in English: {only_en:?}"
        );
        // And the bundles load (no syntax error, no id twice) and know every one.
        let i18n = load().unwrap();
        for lang in Lang::ALL {
            for m in &id {
                assert!(i18n.has(lang, m), "{m} missing from {}", lang.code());
            }
        }
    }

    #[test]
    fn every_id_a_template_or_the_code_uses_exists() {
        let i18n = load().unwrap();
        let mut used = BTreeSet::new();
        for (name, source) in crate::render::TEMPLATES {
            for part in source.split("t(\"").skip(1) {
                let id = part.split('"').next().unwrap();
                assert!(!id.is_empty(), "{name}: an empty message id");
                used.insert(id.to_string());
            }
        }
        assert!(used.len() > 20, "{used:?}");
        used.extend(crate::pages::view::message_ids_used());
        used.extend(crate::pages::review::message_ids_used());
        used.extend(
            crate::pages::upload::MESSAGE_IDS
                .iter()
                .map(|s| s.to_string()),
        );
        used.extend(crate::pages::capture_view::message_ids_used());
        used.extend(crate::pages::slap_view::message_ids_used());
        used.extend(crate::devices::message_ids_used());
        for lang in Lang::ALL {
            let missing: Vec<_> = used.iter().filter(|m| !i18n.has(lang, m)).collect();
            assert!(
                missing.is_empty(),
                "missing in {}: {missing:?}",
                lang.code()
            );
        }
    }

    #[test]
    fn messages_are_formatted_with_their_arguments_in_each_language() {
        let i18n = load().unwrap();
        let mut args = FluentArgs::new();
        args.set("minutes", 10);
        assert_eq!(
            i18n.text(Lang::Id, "unlock-auto-locked", Some(&args)),
            "Kit terkunci otomatis setelah 10 menit tanpa kegiatan."
        );
        assert_eq!(
            i18n.text(Lang::En, "unlock-auto-locked", Some(&args)),
            "The kit locked itself after 10 minutes without activity."
        );
        assert_eq!(
            i18n.text(Lang::Id, "no-such-message", None),
            "no-such-message"
        );
    }

    #[test]
    fn a_kit_message_shows_in_the_sessions_language() {
        let e = nik::parse("12").unwrap_err().to_string();
        assert_eq!(half(&e, Lang::Id), "NIK harus 16 digit (ada 2)");
        assert_eq!(half(&e, Lang::En), "NIK must be 16 digits (got 2)");
        assert_eq!(half("one language only", Lang::En), "one language only");
    }
}

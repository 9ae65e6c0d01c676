//! Every operator-facing string: Project Fluent bundles, Bahasa Indonesia (the default) and
//! English, from `station/i18n/<lang>/*.ftl` embedded in the binary.
//!
//! Pages name a message by its id (`t("unlock-title")` in a template); [`I18n::text`] formats it
//! in the session's language. A unit test checks that both languages hold the same ids and that
//! every id a template or the code uses exists.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};

/// The languages of the station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Bahasa Indonesia, the default.
    #[default]
    Id,
    /// English.
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Id, Lang::En];

    /// The BCP 47 code (`id`, `en`), as in `<html lang>` and the `i18n/` folders.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// `id` or `en`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == s)
    }
}

/// The Fluent files of each language, embedded: (language, file name, source).
pub const FILES: &[(Lang, &str, &str)] = &[
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

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum I18nError {
    #[error("i18n/{lang}/{file}: {why}")]
    Bad {
        lang: &'static str,
        file: &'static str,
        why: String,
    },
}

/// The bundles of both languages.
pub struct I18n {
    id: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("I18n { id, en }")
    }
}

impl I18n {
    /// Parses the embedded files; a syntax error or an id defined twice is an error.
    pub fn load() -> Result<I18n, I18nError> {
        let bundle = |lang: Lang| -> Result<FluentBundle<FluentResource>, I18nError> {
            let langid = lang
                .code()
                .parse::<unic_langid::LanguageIdentifier>()
                .expect("a valid language code");
            let mut b = FluentBundle::new_concurrent(vec![langid]);
            // The pages are left-to-right in both languages: no Unicode isolation marks around
            // the values put into a message.
            b.set_use_isolating(false);
            for (l, file, source) in FILES.iter().filter(|f| f.0 == lang) {
                let bad = |why: String| I18nError::Bad {
                    lang: l.code(),
                    file,
                    why,
                };
                let res = FluentResource::try_new(source.to_string())
                    .map_err(|(_, errs)| bad(format!("{errs:?}")))?;
                b.add_resource(res)
                    .map_err(|errs| bad(format!("{errs:?}")))?;
            }
            Ok(b)
        };
        Ok(I18n {
            id: bundle(Lang::Id)?,
            en: bundle(Lang::En)?,
        })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }

    /// Whether `id` is a message of `lang`.
    pub fn has(&self, lang: Lang, id: &str) -> bool {
        self.bundle(lang).has_message(id)
    }

    /// The message `id` in `lang` with `args`; a missing message shows its id (and is logged),
    /// so a page never fails for want of a string.
    pub fn text(&self, lang: Lang, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!("no Fluent message {id:?} in {}", lang.code());
            return id.to_string();
        };
        let mut errors = Vec::new();
        let text = bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned();
        if !errors.is_empty() {
            tracing::warn!("Fluent message {id:?} in {}: {errors:?}", lang.code());
        }
        text
    }
}

/// The message ids a Fluent source defines (messages, not terms).
pub fn message_ids(source: &str) -> Vec<String> {
    source
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(lang: Lang) -> BTreeSet<String> {
        FILES
            .iter()
            .filter(|f| f.0 == lang)
            .flat_map(|f| message_ids(f.2))
            .collect()
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
        let i18n = I18n::load().unwrap();
        for lang in Lang::ALL {
            for m in &id {
                assert!(i18n.has(lang, m), "{m} missing from {}", lang.code());
            }
        }
    }

    #[test]
    fn every_id_a_template_or_the_code_uses_exists() {
        let i18n = I18n::load().unwrap();
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
        let i18n = I18n::load().unwrap();
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
}

//! Fluent bundles for Bahasa Indonesia (the default) and English, built from the `.ftl` sources a
//! front end embeds. Pages name a message by its id; [`I18n::text`] formats it in the session's
//! language, and a missing message shows its id rather than failing the page.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};

/// The languages of jemput's web pages.
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

/// One embedded Fluent file: (language, file name, source).
pub type FtlFile = (Lang, &'static str, &'static str);

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
    /// Parses `files`; a syntax error or an id defined twice is an error.
    pub fn load(files: &[FtlFile]) -> Result<I18n, I18nError> {
        let bundle = |lang: Lang| -> Result<FluentBundle<FluentResource>, I18nError> {
            let langid = lang
                .code()
                .parse::<unic_langid::LanguageIdentifier>()
                .expect("a valid language code");
            let mut b = FluentBundle::new_concurrent(vec![langid]);
            // The pages are left-to-right in both languages: no Unicode isolation marks around
            // the values put into a message.
            b.set_use_isolating(false);
            for &(l, file, source) in files.iter().filter(|f| f.0 == lang) {
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

/// The ids `files` define in `lang`.
pub fn ids_of(files: &[FtlFile], lang: Lang) -> std::collections::BTreeSet<String> {
    files
        .iter()
        .filter(|f| f.0 == lang)
        .flat_map(|f| message_ids(f.2))
        .collect()
}

/// The message ids templates name as `t("…")`.
pub fn ids_in_templates(templates: &[(&str, &str)]) -> std::collections::BTreeSet<String> {
    templates
        .iter()
        .flat_map(|(_, source)| source.split("t(\"").skip(1))
        .filter_map(|part| part.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The ids defined in one language only: (only Indonesian, only English). Both empty when the
/// two languages hold the same messages.
pub fn one_sided(files: &[FtlFile]) -> (Vec<String>, Vec<String>) {
    let (id, en) = (ids_of(files, Lang::Id), ids_of(files, Lang::En));
    (
        id.difference(&en).cloned().collect(),
        en.difference(&id).cloned().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[FtlFile] = &[
        (Lang::Id, "a.ftl", "hi = Halo { $who }!\nonly-id = x\n"),
        (Lang::En, "a.ftl", "hi = Hello { $who }!\n"),
    ];

    #[test]
    fn messages_are_formatted_in_each_language_and_a_missing_one_shows_its_id() {
        let i18n = I18n::load(FILES).unwrap();
        let mut args = FluentArgs::new();
        args.set("who", "Ani");
        assert_eq!(i18n.text(Lang::Id, "hi", Some(&args)), "Halo Ani!");
        assert_eq!(i18n.text(Lang::En, "hi", Some(&args)), "Hello Ani!");
        assert_eq!(i18n.text(Lang::En, "only-id", None), "only-id");
        assert_eq!(one_sided(FILES), (vec!["only-id".to_string()], vec![]));
        let bad: &[FtlFile] = &[(Lang::Id, "b.ftl", "x = 1\nx = 2\n")];
        assert!(I18n::load(bad).is_err(), "an id defined twice is refused");
        assert_eq!(
            ids_in_templates(&[("p.html", "{{ t(\"a-b\") }} {{ t(\"c\", n=1) }}")])
                .into_iter()
                .collect::<Vec<_>>(),
            ["a-b", "c"]
        );
    }
}

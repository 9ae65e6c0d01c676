//! Server-rendered pages: minijinja templates a front end embeds, HTML-escaped (names ending in
//! `.html`), with `t("message-id", name=value…)` giving the Fluent message in the language the
//! page's context names as `lang`.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, ErrorKind, State};
use serde::Serialize;

use crate::i18n::{I18n, Lang};

/// One embedded template: (name, source).
pub type Template = (&'static str, &'static str);

/// The page renderer.
pub struct Pages {
    env: Environment<'static>,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pages")
    }
}

/// A Fluent argument from a template value: numbers stay numbers (plural rules), the rest text.
fn fluent_value(v: &Value) -> FluentValue<'static> {
    if let Some(i) = v.as_i64() {
        return FluentValue::from(i);
    }
    if v.kind() == ValueKind::Number {
        if let Ok(f) = f64::try_from(v.clone()) {
            return FluentValue::from(f);
        }
    }
    FluentValue::from(v.to_string())
}

impl Pages {
    /// Loads every template; a syntax error is reported here, at start.
    pub fn new(i18n: Arc<I18n>, templates: &[Template]) -> Result<Pages, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in templates {
            env.add_template(name, source)?;
        }
        env.add_function(
            "t",
            move |state: &State, id: String, kwargs: Kwargs| -> Result<String, minijinja::Error> {
                let lang = state
                    .lookup("lang")
                    .and_then(|l| l.as_str().and_then(Lang::parse))
                    .ok_or_else(|| {
                        minijinja::Error::new(
                            ErrorKind::UndefinedError,
                            "no `lang` to translate in",
                        )
                    })?;
                let mut args = FluentArgs::new();
                for key in kwargs.args() {
                    let v: Value = kwargs.get(key)?;
                    args.set(key.to_string(), fluent_value(&v));
                }
                kwargs.assert_all_used()?;
                Ok(i18n.text(lang, &id, Some(&args)))
            },
        );
        Ok(Pages { env })
    }

    /// Renders `template` with `ctx` (which must carry `lang`).
    pub fn render<S: Serialize>(
        &self,
        template: &str,
        ctx: &S,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template(template)?.render(ctx)
    }

    /// Renders a page with `status`; a template error is logged and answered with a plain 500.
    pub fn page<S: Serialize>(&self, status: StatusCode, template: &str, ctx: &S) -> Response {
        match self.render(template, ctx) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!("rendering {template}: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("Halaman gagal dibuat / the page failed to render: {e}"),
                )
                    .into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::FtlFile;

    #[test]
    fn templates_escape_what_they_show_and_translate_with_arguments() {
        const FILES: &[FtlFile] = &[
            (Lang::Id, "a.ftl", "n = { $n } paket\n"),
            (Lang::En, "a.ftl", "n = { $n } packets\n"),
        ];
        let pages = Pages::new(
            Arc::new(I18n::load(FILES).unwrap()),
            &[("p.html", "{{ name }} {{ t(\"n\", n=3) }}")],
        )
        .unwrap();
        let html = pages
            .render(
                "p.html",
                &minijinja::context! { lang => "en", name => "<b>&" },
            )
            .unwrap();
        assert_eq!(html, "&lt;b&gt;&amp; 3 packets");
        // A template cannot render without the page's language.
        assert!(pages
            .render("p.html", &minijinja::context! { name => "x" })
            .is_err());
    }
}

//! The station's pages: minijinja templates embedded from `station/templates/`, rendered by
//! `jemput_web::render::Pages` (HTML-escaped, `t("message-id", name=value…)` giving the Fluent
//! message in the session's language).

use std::sync::Arc;

pub use jemput_web::render::Pages;

use crate::i18n::I18n;

/// The templates: (name, source). Names ending in `.html` are HTML-escaped.
pub const TEMPLATES: &[jemput_web::render::Template] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("unlock.html", include_str!("../templates/unlock.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("link.html", include_str!("../templates/link.html")),
    (
        "new_visit.html",
        include_str!("../templates/new_visit.html"),
    ),
    ("consent.html", include_str!("../templates/consent.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("review.html", include_str!("../templates/review.html")),
    ("sealed.html", include_str!("../templates/sealed.html")),
    ("upload.html", include_str!("../templates/upload.html")),
    (
        "upload_status.html",
        include_str!("../templates/upload_status.html"),
    ),
    (
        "capture_step.html",
        include_str!("../templates/capture_step.html"),
    ),
    (
        "capture_slap.html",
        include_str!("../templates/capture_slap.html"),
    ),
    (
        "capture_devices.html",
        include_str!("../templates/capture_devices.html"),
    ),
    (
        "exception_fields.html",
        include_str!("../templates/exception_fields.html"),
    ),
    ("devices.html", include_str!("../templates/devices.html")),
];

/// The station's page renderer, over every template of [`TEMPLATES`].
pub fn pages(i18n: Arc<I18n>) -> Result<Pages, minijinja::Error> {
    Pages::new(i18n, TEMPLATES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Environment;

    #[test]
    fn templates_escape_what_they_show_and_translate_with_arguments() {
        let pages = pages(Arc::new(crate::i18n::load().unwrap())).unwrap();
        let mut env = Environment::new();
        env.add_template("x.html", "{{ name }}").unwrap();
        let html = env
            .get_template("x.html")
            .unwrap()
            .render(minijinja::context! { name => "<b>&" })
            .unwrap();
        assert_eq!(html, "&lt;b&gt;&amp;");
        let page = pages
            .render(
                "link.html",
                &minijinja::context! { lang => "en", link => minijinja::context! { state => "none" } },
            )
            .unwrap();
        assert!(page.contains("No office hub is set"), "{page}");
        // A template cannot render without the session's language.
        assert!(pages
            .render(
                "link.html",
                &minijinja::context! { link => minijinja::context! { state => "none" } }
            )
            .is_err());
    }
}

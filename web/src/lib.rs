//! The generic parts of jemput's two web front ends, the operator station (`jemput ui`,
//! `jemput-station`) and the office console (`jemput hub serve`, `jemput-console`): Fluent
//! messages in Bahasa Indonesia and English ([`i18n`]), minijinja pages that call them
//! ([`render`]), random tokens, cookies, form bodies and security headers ([`http`]), and
//! embedded assets ([`assets`]). Each front end keeps its own messages, templates, guard and
//! pages.

pub mod assets;
pub mod http;
pub mod i18n;
pub mod render;

/// Arguments of a Fluent message, for [`i18n::I18n::text`].
pub use fluent_bundle::FluentArgs;

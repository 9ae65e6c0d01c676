//! The files the pages load, embedded in the binary: the station's CSS and the vendored htmx
//! (`station/assets/README.md` records its version and licence).

use axum::extract::Path;
use axum::response::Response;

/// (name, content type, bytes).
pub const ASSETS: &[jemput_web::assets::Asset] = &[
    (
        "station.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/station.css"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/htmx.min.js"),
    ),
    (
        "capture.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/capture.js"),
    ),
];

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    jemput_web::assets::serve(ASSETS, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The colour `--name` of the station's CSS.
    fn colour(css: &str, name: &str) -> [f64; 3] {
        let decl = format!("--{name}: #");
        let at = css.find(&decl).unwrap_or_else(|| panic!("no --{name}")) + decl.len();
        let hex = &css[at..at + 6];
        let c = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap() as f64 / 255.0;
        [c(0), c(2), c(4)]
    }

    /// WCAG 2.1 relative luminance and contrast ratio.
    fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
        let lum = |c: [f64; 3]| {
            let l = c.map(|x| {
                if x <= 0.03928 {
                    x / 12.92
                } else {
                    ((x + 0.055) / 1.055).powf(2.4)
                }
            });
            0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn text_colours_meet_wcag_aa_contrast_on_their_backgrounds() {
        let css = std::str::from_utf8(ASSETS[0].2).unwrap();
        let white = [1.0, 1.0, 1.0];
        assert!((contrast(white, [0.0, 0.0, 0.0]) - 21.0).abs() < 1e-9);
        // (text, background, least ratio): 4.5:1 for text, 3:1 for the focus ring.
        let pairs = [
            ("ink", "paper", 4.5),
            ("ink", "page", 4.5),
            ("ink", "note-bg", 4.5),
            ("ink", "past", 4.5),
            ("muted", "paper", 4.5),
            ("muted", "page", 4.5),
            ("muted", "past", 4.5),
            ("paper", "brand", 4.5),
            ("brand", "paper", 4.5),
            ("ok", "paper", 4.5),
            ("warn", "paper", 4.5),
            ("warn", "note-bg", 4.5),
            ("error", "paper", 4.5),
            ("error", "past", 4.5),
            ("focus", "paper", 3.0),
            ("focus-on-brand", "brand", 3.0),
        ];
        for (fg, bg, least) in pairs {
            let r = contrast(colour(css, fg), colour(css, bg));
            assert!(r >= least, "--{fg} on --{bg}: {r:.2}:1 < {least}:1");
        }
    }

    #[test]
    fn the_vendored_htmx_is_the_recorded_release() {
        let (_, _, js) = ASSETS.iter().find(|a| a.0 == "htmx.min.js").unwrap();
        let readme = include_str!("../assets/README.md");
        assert!(readme.contains("htmx.org@2.0.11"));
        // htmx.min.js states its own version.
        assert!(std::str::from_utf8(js)
            .unwrap()
            .contains("version:\"2.0.11\""));
    }
}

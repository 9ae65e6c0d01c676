//! The repository stands alone: every `docs/NAME.md §N` a source file or document cites names a
//! file that exists and a section it has, every relative Markdown link leads to a file in the
//! repository, and nothing points outside it (to a `reference/` folder or `../shared`).

use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The text files of the repository worth checking (skips build output, fuzz corpora, node_modules).
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | ".git" | "node_modules" | "corpus" | "artifacts" | "fixtures"
            ) {
                files(&path, out);
            }
        } else if [".rs", ".md", ".sh", ".toml", ".mjs", ".ftl", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
            || name == "run"
        {
            out.push(path);
        }
    }
}

/// The section numbers a document has: "1", "1.2", … from headings like `## 1. Title`.
fn sections(doc: &str) -> Vec<String> {
    doc.lines()
        .filter_map(|line| {
            let rest = line.trim_start_matches('#');
            if rest.len() == line.len() {
                return None;
            }
            let number: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.');
            (!number.is_empty()).then(|| number.to_string())
        })
        .collect()
}

/// Every `docs/NAME.md` citation in `text`, with the section after it (`§1.2`) if there is one.
fn citations(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("docs/") {
        let tail = &rest[at + 5..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let len = name.len();
        let after = &tail[len..];
        if let Some(after_md) = after.strip_prefix(".md") {
            // "§3", "§ 3", or ") §3" after a Markdown link.
            let after_md = after_md.trim_start_matches(')').trim_start();
            let section = after_md.strip_prefix('§').map(|s| {
                s.trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect::<String>()
                    .trim_end_matches('.')
                    .to_string()
            });
            found.push((name, section.filter(|s| !s.is_empty())));
        }
        rest = &tail[len..];
    }
    found
}

#[test]
fn every_cited_document_and_section_exists() {
    let mut all = Vec::new();
    files(Path::new(ROOT), &mut all);
    assert!(all.len() > 100, "the walk found only {} files", all.len());
    let mut problems = Vec::new();
    let mut checked = 0;
    let this = Path::new(ROOT).join("tests/doc_citations.rs");
    for file in all.iter().filter(|f| **f != this) {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for (name, section) in citations(&text) {
            let doc = Path::new(ROOT).join("docs").join(format!("{name}.md"));
            let Ok(doc_text) = fs::read_to_string(&doc) else {
                problems.push(format!(
                    "{}: cites docs/{name}.md, which does not exist",
                    file.display()
                ));
                continue;
            };
            checked += 1;
            if let Some(section) = section {
                if !sections(&doc_text).contains(&section) {
                    problems.push(format!(
                        "{}: cites docs/{name}.md §{section}, which has no such section",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} citations found: is the scan broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn nothing_points_outside_the_repository() {
    let mut all = Vec::new();
    files(Path::new(ROOT), &mut all);
    let this = Path::new(ROOT).join("tests/doc_citations.rs");
    let mut problems = Vec::new();
    for file in all.iter().filter(|f| **f != this) {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            for needle in [
                "../shared",
                "reference/devices",
                "reference/formats",
                "reference/field",
                "reference/testing",
                "DESIGN.md",
            ] {
                if line.contains(needle) {
                    problems.push(format!("{}:{}: {needle}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "references to files outside the repository:\n{}",
        problems.join("\n")
    );
}

#[test]
fn relative_markdown_links_lead_to_files_in_the_repository() {
    let mut all = Vec::new();
    files(Path::new(ROOT), &mut all);
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in all
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "md"))
    {
        let text = fs::read_to_string(file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let Some(end) = tail.find(')') else { break };
            let target = &tail[..end];
            rest = &tail[end..];
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty()
                || path.contains("://")
                || path.starts_with("mailto:")
                || path.contains(' ')
            {
                continue;
            }
            checked += 1;
            if !file.parent().unwrap().join(path).exists() {
                problems.push(format!(
                    "{}: link to {target}, which is not in the repository",
                    file.display()
                ));
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} relative links found: is the scan broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scanners_find_what_they_look_for() {
    assert_eq!(
        citations(
            "see docs/devices.md §1.4 and [docs/field.md](docs/field.md) §4, docs/testing.md."
        ),
        vec![
            ("devices".to_string(), Some("1.4".to_string())),
            ("field".to_string(), None),
            ("field".to_string(), Some("4".to_string())),
            ("testing".to_string(), None),
        ]
    );
    assert_eq!(
        sections("# T\n## 1. A\n### 1.2 B\n## Notes\n"),
        vec!["1", "1.2"]
    );
}

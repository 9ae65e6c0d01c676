//! `jemput completions SHELL` and `jemput man --out DIR`: the scripts name the subcommands, and
//! there is one rendered man page for every subcommand the command line itself lists.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;
use predicates::prelude::*;

/// The names of the subcommands `jemput <path…> --help` lists under "Commands:", without `help`.
fn listed_subcommands(path: &[String]) -> Vec<String> {
    let out = jemput().args(path).arg("--help").output().unwrap();
    assert!(out.status.success(), "{path:?} --help failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in text.lines() {
        if line == "Commands:" {
            in_commands = true;
            continue;
        }
        if in_commands {
            // Entries are indented by two spaces; a wrapped description line by more.
            if !line.starts_with("  ") {
                break;
            }
            if line.starts_with("   ") {
                continue;
            }
            let name = line.split_whitespace().next().unwrap().to_string();
            if name != "help" {
                names.push(name);
            }
        }
    }
    names
}

/// Every command reachable from `jemput` through `--help`, as man page names (`jemput-hub-serve`).
fn every_command() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(path) = todo.pop() {
        let mut page = String::from("jemput");
        for p in &path {
            page.push('-');
            page.push_str(p);
        }
        found.insert(page);
        for sub in listed_subcommands(&path) {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
    }
    found
}

#[test]
fn completions_name_the_subcommands_in_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = jemput().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "completions {shell} failed");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in [
            "enroll",
            "agent",
            "hub",
            "serve",
            "enroll-token",
            "completions",
            "home",
        ] {
            assert!(
                script.contains(word),
                "the {shell} completions do not mention {word}"
            );
        }
    }
    // Each is the shell's own form, not one text for all.
    let bash = jemput().args(["completions", "bash"]).output().unwrap();
    assert!(String::from_utf8_lossy(&bash.stdout).contains("complete -F"));
    let fish = jemput().args(["completions", "fish"]).output().unwrap();
    assert!(String::from_utf8_lossy(&fish.stdout).contains("complete -c jemput"));
}

#[test]
fn bash_accepts_the_completion_script() {
    let out = jemput().args(["completions", "bash"]).output().unwrap();
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("jemput.bash");
    std::fs::write(&file, &out.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!("source '{}' && complete -p jemput", file.display()))
        .output()
        .expect("bash is needed to load the completion script");
    assert!(
        check.status.success(),
        "bash refused the script: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("jemput"));
}

#[test]
fn completions_to_a_full_disk_fail_with_a_message_not_a_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jemput"))
        .args(["completions", "zsh"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot write the zsh completions"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unknown_shell_is_refused_with_the_choices() {
    jemput()
        .args(["completions", "cmd.exe"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("bash").and(predicate::str::contains("fish")));
}

#[test]
fn man_writes_one_rendered_page_per_subcommand() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("man1");
    // 2026-12-06T12:00:00Z: the reproducible-builds date every page carries.
    jemput()
        .args(["man", "--out"])
        .arg(&out)
        .env("SOURCE_DATE_EPOCH", "1796558400")
        .assert()
        .success()
        .stdout(predicate::str::contains("jemput-hub-serve.1"));
    let written: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let expected: BTreeSet<String> = every_command()
        .into_iter()
        .map(|c| format!("{c}.1"))
        .collect();
    assert!(
        expected.len() > 40,
        "only {} commands found",
        expected.len()
    );
    assert_eq!(written, expected);
    // The hidden test harness gets no page.
    assert!(!written.contains("jemput-stress-seal.1"));

    for page in &expected {
        let text = std::fs::read_to_string(out.join(page)).unwrap();
        let name = page.trim_end_matches(".1");
        let th = text
            .lines()
            .find(|l| l.starts_with(".TH "))
            .unwrap_or_else(|| panic!("{page} has no .TH header"));
        assert_eq!(
            th,
            format!(
                ".TH {} 1 2026-12-06 \"jemput {}\" \"jemput manual\"",
                name.to_uppercase(),
                env!("CARGO_PKG_VERSION")
            ),
            "{page}"
        );
        assert!(text.contains(".SH NAME"), "{page} has no NAME section");
        assert!(text.contains(".SH SYNOPSIS"), "{page} has no SYNOPSIS");
    }

    // groff renders every page without a warning (-k: the pages are UTF-8, read through preconv
    // as man-db does), and a page shows its name and an option of that command.
    if !jemput_testkit::program("groff", "apt-get install groff-base") {
        return;
    }
    for page in &expected {
        let rendered = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(out.join(page))
            .output()
            .unwrap();
        assert!(rendered.status.success(), "groff failed on {page}");
        assert!(
            rendered.stderr.is_empty(),
            "groff warned on {page}: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
    }
    let text = Command::new("groff")
        .args(["-k", "-man", "-Tutf8"])
        .arg(out.join("jemput-hub-serve.1"))
        .env("GROFF_NO_SGR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).replace(['\u{8}'], "");
    assert!(text.contains("jemput-hub-serve"), "{text}");
    assert!(text.contains("listen"), "{text}");
}

#[test]
fn man_takes_a_date_and_refuses_a_bad_one() {
    let d = tempfile::tempdir().unwrap();
    jemput()
        .args(["man", "--date", "2027-01-31", "--out"])
        .arg(d.path())
        .assert()
        .success();
    let page = std::fs::read_to_string(d.path().join("jemput.1")).unwrap();
    assert!(page.contains(".TH JEMPUT 1 2027-01-31 "), "{page}");
    jemput()
        .args(["man", "--date", "31/01/2027", "--out"])
        .arg(d.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains("--date"));
    jemput()
        .args(["man", "--out"])
        .arg(d.path())
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .assert()
        .failure()
        .stderr(predicate::str::contains("SOURCE_DATE_EPOCH"));
}

#[test]
fn man_into_a_path_that_cannot_be_a_directory_says_so() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    jemput()
        .args(["man", "--out"])
        .arg(&file)
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot create"));
}

//! The committed udev rules are exactly what the ID tables generate, and every line is a rule udev
//! can parse.
//!
//! Regenerate after changing an ID table:
//! `JEMPUT_UPDATE_UDEV=1 cargo test -p jemput-drivers --test udev`.

use std::path::PathBuf;
use std::process::Command;

use jemput_drivers::udev;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../udev")
        .join(udev::FILE_NAME)
}

#[test]
fn the_committed_rules_are_what_the_id_tables_generate() {
    let path = committed_path();
    let generated = udev::rules();
    if std::env::var_os("JEMPUT_UPDATE_UDEV").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "{} differs from jemput_drivers::udev::rules() (first difference at line {}).\n\
             An ID table or the generator changed, or the file was edited by hand: regenerate with\n  \
             JEMPUT_UPDATE_UDEV=1 cargo test -p jemput-drivers --test udev\n\
             and commit the file.",
            path.display(),
            first + 1
        );
    }
}

#[test]
fn every_rule_line_follows_the_udev_rule_grammar() {
    let text = udev::rules();
    let mut rules = 0;
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(e) = check_rule(line) {
            panic!("line {}: {e}\n  {line}", n + 1);
        }
        rules += 1;
    }
    assert!(rules >= 10, "only {rules} rules");
}

#[test]
fn the_grammar_check_rejects_what_udev_rejects() {
    let good = r#"SUBSYSTEM=="tty", ATTRS{idVendor}=="10c4", TAG+="uaccess", ENV{ID_MM_DEVICE_IGNORE}="1""#;
    assert_eq!(check_rule(good), Ok(()));
    for (bad, why) in [
        (r#"SUBSYSTEM=="tty" ATTRS{idVendor}=="10c4""#, "comma"),
        (
            r#"SUBSYSTEM=="tty", ATTRS{idVendor}=="10c4"#,
            "closing quote",
        ),
        (r#"SUBSYSTEM=="tty", ATTR{idVendor}=10c4"#, "quote"),
        (r#"SUBSYSTEMS="usb""#, "match-only"),
        (r#"SUBSYSTEM=="tty", TAG=+"uaccess""#, "quote"),
        (r#"SUBSYSTEM=="tty", ENV="1""#, "needs {attribute}"),
        (
            r#"SUBSYSTEM=="tty", ENV{ID_MM_DEVICE_IGNORE}:="1""#,
            "operator",
        ),
        (r#"SUBSYSTEM=="tty", ATRS{idVendor}=="10c4""#, "unknown key"),
        (r#"SUBSYSTEM=="tty", ATTRS{idVendor}=="10c4","#, "trailing"),
    ] {
        match check_rule(bad) {
            Err(e) => assert!(e.contains(why), "{bad}: {e}"),
            Ok(()) => panic!("accepted {bad}"),
        }
    }
}

/// A `udevadm` that has `verify` (systemd 253 or later): `JEMPUT_UDEVADM`, else the system's,
/// else the one `scripts/install-test-peers` unpacks from bookworm-backports into
/// /opt/jemput-test/udevadm (Debian 12's own udev, 252, has no `verify`).
fn udevadm_with_verify() -> Option<std::path::PathBuf> {
    let candidates = match std::env::var_os("JEMPUT_UDEVADM") {
        Some(p) => vec![std::path::PathBuf::from(p)],
        None => jemput_testkit::find_program("udevadm")
            .into_iter()
            .chain([std::path::PathBuf::from("/opt/jemput-test/udevadm/udevadm")])
            .collect(),
    };
    candidates.into_iter().find(|u| {
        !jemput_testkit::hidden("udevadm")
            && Command::new(u)
                .args(["verify", "--help"])
                .output()
                .is_ok_and(|o| o.status.success())
    })
}

/// systemd's own check of the rules file, `udevadm verify`, beside the grammar check above.
#[test]
fn udevadm_verify_accepts_the_rules() {
    let Some(udevadm) = udevadm_with_verify() else {
        jemput_testkit::missing(
            "`udevadm verify` (systemd/udev 253 or later; Debian 12 has 252)",
            "scripts/install-test-peers unpacks bookworm-backports' udevadm into \
             /opt/jemput-test/udevadm, or set JEMPUT_UDEVADM",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(udev::FILE_NAME);
    std::fs::write(&file, udev::rules()).unwrap();
    let out = Command::new(&udevadm)
        .args(["verify", "--resolve-names=never"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "udevadm verify failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Keys udev knows, whether they take `{attribute}`, and whether they match, assign, or both
/// (udev(7), "Rules Syntax"). Only what a device-access rule may use; anything else is an error
/// here so a typo cannot slip through.
const KEYS: &[(&str, Attr, Use)] = &[
    ("ACTION", Attr::No, Use::Match),
    ("ATTR", Attr::Yes, Use::Both),
    ("ATTRS", Attr::Yes, Use::Match),
    ("DRIVER", Attr::No, Use::Match),
    ("DRIVERS", Attr::No, Use::Match),
    ("ENV", Attr::Yes, Use::Both),
    ("GOTO", Attr::No, Use::Assign),
    ("GROUP", Attr::No, Use::Assign),
    ("KERNEL", Attr::No, Use::Match),
    ("KERNELS", Attr::No, Use::Match),
    ("LABEL", Attr::No, Use::Assign),
    ("MODE", Attr::No, Use::Assign),
    ("SUBSYSTEM", Attr::No, Use::Match),
    ("SUBSYSTEMS", Attr::No, Use::Match),
    ("SYMLINK", Attr::No, Use::Both),
    ("TAG", Attr::No, Use::Both),
    ("TAGS", Attr::No, Use::Match),
];

#[derive(Clone, Copy, PartialEq)]
enum Attr {
    Yes,
    No,
}

#[derive(Clone, Copy, PartialEq)]
enum Use {
    Match,
    Assign,
    Both,
}

/// Checks one rule line: `KEY[{attr}]OP"value"` tokens separated by `, `.
fn check_rule(line: &str) -> Result<(), String> {
    let mut rest = line;
    loop {
        let key_len = rest
            .find(|c: char| !c.is_ascii_uppercase())
            .unwrap_or(rest.len());
        let key = &rest[..key_len];
        let Some(&(_, attr, usage)) = KEYS.iter().find(|(k, _, _)| *k == key) else {
            return Err(format!("unknown key {key:?}"));
        };
        rest = &rest[key_len..];
        if let Some(after) = rest.strip_prefix('{') {
            let close = after
                .find('}')
                .ok_or_else(|| format!("{key}{{ without closing }}"))?;
            let name = &after[..close];
            if attr == Attr::No || name.is_empty() {
                return Err(format!("{key} takes no {{attribute}} here"));
            }
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-/.*".contains(c))
            {
                return Err(format!("bad attribute name {name:?}"));
            }
            rest = &after[close + 1..];
        } else if attr == Attr::Yes {
            return Err(format!("{key} needs {{attribute}}"));
        }
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("no operator after {key}"))?;
        let is_match = op == "==" || op == "!=";
        match (usage, is_match) {
            (Use::Match, false) => return Err(format!("{key} is match-only, not {op}")),
            (Use::Assign, true) => return Err(format!("{key} is assign-only, not {op}")),
            // udev refuses `:=` and `-=` on ENV.
            (_, false) if key == "ENV" && (op == ":=" || op == "-=") => {
                return Err(format!("ENV does not take operator {op}"))
            }
            _ => {}
        }
        rest = &rest[op.len()..];
        let value = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("value of {key} must be in double quotes"))?;
        let close = value
            .find('"')
            .ok_or_else(|| format!("value of {key} has no closing quote"))?;
        rest = &value[close + 1..];
        if rest.is_empty() {
            return Ok(());
        }
        if rest.trim_end() == "," {
            return Err("trailing comma".into());
        }
        rest = rest
            .strip_prefix(", ")
            .ok_or_else(|| format!("expected a comma and a space after {key}'s value"))?;
    }
}

//! `jemput doctor`: checks a kit and says, for each finding, what to do.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use crate::home::{HomeError, KitHome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warning,
    Error,
}

/// One check and its result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Finding {
    /// Stable name of the check, e.g. `home`, `keys`, `office_recipient`, `serial_access`.
    pub check: String,
    pub status: Status,
    pub message: String,
    /// What to do about it (absent when all is well).
    pub fix: Option<String>,
}

/// `jemput doctor --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    pub kit_home: std::path::PathBuf,
    /// The worst status of all findings.
    pub status: Status,
    pub findings: Vec<Finding>,
}

fn finding(check: &str, status: Status, message: String, fix: Option<String>) -> Finding {
    Finding {
        check: check.into(),
        status,
        message,
        fix,
    }
}

/// Below this much free disk the kit refuses nothing yet, but warns; below a tenth of it, an error.
pub const FREE_DISK_WARN: u64 = 500 * 1024 * 1024;

/// Runs every check on the kit home at `root`.
pub fn check(root: &Path) -> Report {
    let mut f = Vec::new();
    match KitHome::open(root) {
        Err(e @ HomeError::NotInitialised(_)) => f.push(finding(
            "home",
            Status::Error,
            e.to_string(),
            Some(format!(
                "jemput init --home {} --office-recipient age1…",
                root.display()
            )),
        )),
        Err(e) => f.push(finding("config", Status::Error, e.to_string(), None)),
        Ok(home) => kit_checks(&home, &mut f),
    }
    serial_checks(&mut f);
    let status = f.iter().map(|x| x.status).max().unwrap_or(Status::Ok);
    Report {
        kit_home: root.into(),
        status,
        findings: f,
    }
}

fn kit_checks(home: &KitHome, f: &mut Vec<Finding>) {
    f.push(finding(
        "config",
        Status::Ok,
        format!("kit {} at {}", home.config.kit_id, home.root.display()),
        None,
    ));
    // Before anything below opens the queue: opening it makes these private.
    let too_open = permission_checks(home, f);
    let keys = home.keys_dir();
    for (file, what) in [
        ("kit.ed25519", "kit signing key"),
        ("draft.key.age", "draft key"),
    ] {
        let p = keys.join(file);
        match std::fs::metadata(&p) {
            Err(e) => f.push(finding(
                "keys",
                Status::Error,
                format!("{what} {} is unreadable: {e}", p.display()),
                Some(
                    "restore the kit home from its backup, or re-create the kit with `jemput init`"
                        .into(),
                ),
            )),
            Ok(m) if m.permissions().mode() & 0o077 != 0 => f.push(finding(
                "keys",
                Status::Error,
                format!(
                    "{what} {} is readable by others (mode {:o})",
                    p.display(),
                    m.permissions().mode() & 0o777
                ),
                Some(format!("chmod 600 {}", p.display())),
            )),
            Ok(_) => f.push(finding(
                "keys",
                Status::Ok,
                format!("{what} present and private"),
                None,
            )),
        }
    }
    if let Err(e) = home.kit_key() {
        f.push(finding("keys", Status::Error, e.to_string(), None));
    }
    f.push(if home.config.office_recipients.is_empty() {
        finding(
            "office_recipient",
            Status::Error,
            "no office recipient: nothing can be sealed".into(),
            Some("jemput config set office-recipient age1… (from `jemput office keygen`)".into()),
        )
    } else {
        finding(
            "office_recipient",
            Status::Ok,
            format!(
                "{} office recipient(s)",
                home.config.office_recipients.len()
            ),
            None,
        )
    });
    f.push(match home.config.hub_key {
        None => finding(
            "hub_key",
            Status::Warning,
            "no hub key pinned: receipts from the hub cannot be verified".into(),
            Some("jemput config set hub-key <hub.pub from the office>".into()),
        ),
        Some(_) => finding("hub_key", Status::Ok, "hub key pinned".into(), None),
    });
    match jemput_core::fsutil::free_bytes(&home.root) {
        Ok(free) if free < FREE_DISK_WARN / 10 => f.push(finding(
            "disk",
            Status::Error,
            format!("only {} MiB free on the kit's disk", free >> 20),
            Some("free disk space before the next visit (upload and purge old packets)".into()),
        )),
        Ok(free) if free < FREE_DISK_WARN => f.push(finding(
            "disk",
            Status::Warning,
            format!("{} MiB free on the kit's disk", free >> 20),
            Some("free disk space soon".into()),
        )),
        Ok(free) => f.push(finding(
            "disk",
            Status::Ok,
            format!("{} MiB free", free >> 20),
            None,
        )),
        Err(e) => f.push(finding(
            "disk",
            Status::Warning,
            format!("cannot read free space: {e}"),
            None,
        )),
    }
    clock_check(home, f);
    let opened = crate::seal::open_store(home);
    after_the_queue_opened(f, &too_open);
    match opened {
        Err(e) => f.push(finding("queue", Status::Error, e.to_string(), None)),
        Ok((store, report)) => {
            if !report.missing.is_empty() {
                f.push(finding(
                    "queue",
                    Status::Error,
                    format!(
                        "{} sealed packet file(s) are MISSING: {}",
                        report.missing.len(),
                        report.missing.join(", ")
                    ),
                    Some(
                        "look for the files in backups; the visits may have to be recorded again"
                            .into(),
                    ),
                ));
            }
            let entries = store.list().unwrap_or_default();
            let quarantined = entries
                .iter()
                .filter(|e| e.state == crate::store::State::Quarantined)
                .count();
            if quarantined > 0 {
                f.push(finding(
                    "queue",
                    Status::Warning,
                    format!("{quarantined} packet(s) in quarantine/ failed verification"),
                    Some("send the quarantine/ files to the office for inspection".into()),
                ));
            }
            f.push(finding(
                "queue",
                Status::Ok,
                format!("{} packet(s) in the queue", entries.len()),
                None,
            ));
        }
    }
}

/// What must be private to the kit's user: the home (0700: its file names are packet ids) and
/// the queue database with its WAL files (0600: packet ids, upload URLs, receipts).
fn private_paths(home: &KitHome) -> Vec<(std::path::PathBuf, &'static str, &'static str)> {
    let mut paths = vec![(home.root.clone(), "the kit home", "700")];
    let db = crate::store::QUEUE_DB;
    for name in [db.to_owned(), format!("{db}-wal"), format!("{db}-shm")] {
        let p = home.root.join(name);
        if p.exists() {
            paths.push((p, "the queue database", "600"));
        }
    }
    paths
}

fn mode_of(p: &Path) -> Option<u32> {
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// One finding per path open to other users (with the chmod that fixes it), or one that all is
/// private; returns the index of each such finding with its path.
fn permission_checks(home: &KitHome, f: &mut Vec<Finding>) -> Vec<(usize, std::path::PathBuf)> {
    let mut too_open = Vec::new();
    for (path, what, chmod) in private_paths(home) {
        if let Some(mode) = mode_of(&path).filter(|m| m & 0o077 != 0) {
            too_open.push((f.len(), path.clone()));
            f.push(finding(
                "permissions",
                Status::Error,
                format!(
                    "{what} {} is open to other users (mode {mode:o}, should be {chmod})",
                    path.display()
                ),
                Some(format!("chmod {chmod} {}", path.display())),
            ));
        }
    }
    if too_open.is_empty() {
        f.push(finding(
            "permissions",
            Status::Ok,
            "the kit home is 0700 and the queue database 0600".into(),
            None,
        ));
    }
    too_open
}

/// Opening the queue makes the home and the queue private (as every jemput command does): a path
/// found open and private now is a warning that it was open until now, no longer an error.
fn after_the_queue_opened(f: &mut [Finding], too_open: &[(usize, std::path::PathBuf)]) {
    for (i, path) in too_open {
        if mode_of(path).is_some_and(|m| m & 0o077 == 0) {
            let x = &mut f[*i];
            x.status = Status::Warning;
            x.message.push_str(
                "; opening the queue for this check made it private, but other users could read it until now",
            );
        }
    }
}

fn clock_check(home: &KitHome, f: &mut Vec<Finding>) {
    let now = jiff::Timestamp::now();
    let floor: jiff::Timestamp = "2025-01-01T00:00:00Z".parse().expect("a valid time");
    if now < floor {
        f.push(finding(
            "clock",
            Status::Error,
            format!("the system clock says {now}, before this software was built"),
            Some(
                "set the date and time (or let the laptop sync over the network) before recording"
                    .into(),
            ),
        ));
        return;
    }
    let newest = crate::store::Store::open(&home.root)
        .and_then(|s| s.list())
        .ok()
        .and_then(|l| l.into_iter().map(|e| e.created_at).max());
    match newest {
        Some(t) if t > now => f.push(finding(
            "clock",
            Status::Warning,
            format!("the clock went backwards: a packet was sealed at {t}, now is {now}"),
            Some("check the date and time; visit times are recorded from this clock".into()),
        )),
        _ => f.push(finding(
            "clock",
            Status::Ok,
            format!("clock reads {now}"),
            None,
        )),
    }
}

fn serial_checks(f: &mut Vec<Finding>) {
    use jemput_drivers::discover::{serial_ports, Access};
    let ports = serial_ports();
    let modem_manager = process_running("ModemManager");
    let rules_installed = Path::new("/etc/udev/rules.d/60-jemput.rules").exists()
        || Path::new("/lib/udev/rules.d/60-jemput.rules").exists();
    for p in &ports {
        let name = p.path.display();
        match &p.access {
            Access::Accessible => {}
            Access::PermissionDenied { fix } => f.push(finding(
                "serial_access",
                Status::Error,
                format!("{name}: permission denied"),
                Some(fix.clone()),
            )),
            Access::Busy { held_by } => f.push(finding(
                "serial_busy",
                Status::Warning,
                format!(
                    "{name} is busy{}",
                    held_by.as_deref().map(|h| format!(" (held by {h})")).unwrap_or_default()
                ),
                Some(if held_by.as_deref().is_some_and(|h| h.contains("ModemManager")) {
                    "install jemput's udev rules (udev/) so ModemManager leaves the adapter alone".into()
                } else {
                    "close the program that holds it".into()
                }),
            )),
            Access::Unavailable { reason } => f.push(finding(
                "serial_access",
                Status::Warning,
                format!("{name}: {reason}"),
                None,
            )),
        }
    }
    if modem_manager && !rules_installed {
        f.push(finding(
            "modem_manager",
            Status::Warning,
            "ModemManager is running and jemput's udev rules are not installed: it may probe fingerprint modules and pens on USB-serial adapters".into(),
            Some("sudo cp udev/60-jemput.rules /etc/udev/rules.d/ && sudo udevadm control --reload".into()),
        ));
    }
    f.push(finding(
        "serial_devices",
        Status::Ok,
        format!("{} serial port(s) found", ports.len()),
        None,
    ));
}

fn process_running(name: &str) -> bool {
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten().any(|e| {
                std::fs::read_to_string(e.path().join("comm"))
                    .map(|c| c.trim() == name)
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

//! The VM tier: tests/vm/run.sh boots Debian 12's kernel in QEMU (TCG), attaches `jemput sim ptp`
//! through USB/IP and vhci-hcd, and captures a photo with gphoto2 (the independent oracle) and
//! with jemput's own PTP driver through the guest's real USB stack. About half a minute.
//!
//! Without QEMU, gphoto2, a static busybox or the kernel package the script exits 77 and this test
//! prints "skipped: <why>" straight to the terminal (past the test harness's capture), so a
//! skipped tier is never a silent pass. `JEMPUT_VM=0` skips it on purpose.

use std::io::Write;
use std::process::Command;

/// Writes to the real stderr: the test harness captures `eprintln!`, not this.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[test]
fn ptp_model_over_usbip_captures_with_gphoto2_and_jemput_in_a_vm() {
    if std::env::var("JEMPUT_VM").is_ok_and(|v| v == "0") {
        say("vm tier skipped: JEMPUT_VM=0");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/run.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("JEMPUT_BIN", env!("CARGO_BIN_EXE_jemput"))
        .output()
        .expect("bash runs tests/vm/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        say(&format!("vm tier {}", stdout.trim()));
        return;
    }
    assert!(
        out.status.success(),
        "the VM tier failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for check in [
        "attach",
        "enumerate",
        "gphoto2-summary",
        "gphoto2-capture",
        "jemput-capture",
    ] {
        assert!(
            stdout.contains(&format!("RESULT {check} pass")),
            "{check} did not pass:\n{stdout}"
        );
    }
    for line in stdout
        .lines()
        .filter(|l| l.starts_with("BENCH") || l.starts_with("VM run"))
    {
        say(&format!("vm tier: {line}"));
    }
}

//! The skip line reaches a real `cargo test` run: this test binary runs its own ignored child
//! test (which asks for a program no machine has) in a child process, the way `cargo test` runs
//! it — output captured, since the child passes — and reads what the child printed.

use std::process::{Command, Output};

const CHILD: &str = "child_asks_for_a_program_no_machine_has";
const NEEDS: &str = "needs jemput-testkit-no-such-program (nothing installs it)";

fn run_child(require: Option<&str>, threads: &str) -> Output {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--ignored", "--exact", CHILD, "--test-threads", threads])
        .env_remove(jemput_testkit::REQUIRE_VAR)
        .env_remove("RUST_TEST_NOCAPTURE");
    if let Some(v) = require {
        c.env(jemput_testkit::REQUIRE_VAR, v);
    }
    c.output().unwrap()
}

#[test]
fn a_missing_peer_is_skipped_with_a_line_on_stderr_past_the_harness_capture() {
    for threads in ["1", "2"] {
        let out = run_child(None, threads);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "{stdout}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("SKIPPED")).count(),
            1,
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("\nSKIPPED {CHILD}: {NEEDS}\n")),
            "with {threads} test thread(s), stderr was:\n{stderr}"
        );
    }
    // Anything but 1 is not "required".
    let out = run_child(Some("0"), "2");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("SKIPPED {CHILD}: {NEEDS}")));
}

#[test]
fn with_jemput_require_peers_1_the_missing_peer_fails_the_test_with_the_same_line() {
    let out = run_child(Some("1"), "2");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 failed"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "SKIPPED {CHILD}: {NEEDS} — JEMPUT_REQUIRE_PEERS=1 makes a missing peer a failure"
        )),
        "the panic message is in the failure report:\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("SKIPPED"), "no skip line: {stderr}");
}

#[test]
#[ignore = "the child of the tests above (run in a process of its own)"]
fn child_asks_for_a_program_no_machine_has() {
    let found = jemput_testkit::program("jemput-testkit-no-such-program", "nothing installs it");
    assert!(!found);
}

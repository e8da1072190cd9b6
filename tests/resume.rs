//! Real processes competing for the ledger: a second run while the first holds the lock, a run
//! killed outright, and Ctrl-C. A gated terraform stand-in (tests/fixtures) holds the first run
//! inside a step until the test opens the gate.

mod support;

use std::time::Duration;

use predicates::prelude::*;
use support::gate::{Gate, signal, spawn};

#[test]
fn a_second_run_exits_3_naming_the_first_runs_pid() {
    let gate = Gate::new();
    let ctx = gate.context(1);
    let mut first = spawn(&ctx, &["run", "preflight"]);
    gate.wait_closed(Duration::from_secs(60));
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "deployment is locked by pid {} (deploy run preflight) since",
            first.id()
        )));
    gate.open();
    assert!(first.wait().unwrap().success());
    assert_eq!(ctx.step_status("preflight"), "completed");
}

#[test]
fn a_killed_run_is_resumed_by_the_next_run() {
    let gate = Gate::new();
    let ctx = gate.context(1);
    let mut first = spawn(&ctx, &["all", "--auto-approve", "--only", "preflight"]);
    gate.wait_closed(Duration::from_secs(60));
    signal(&first, rustix::process::Signal::KILL);
    first.wait().unwrap();
    assert_eq!(ctx.step_status("preflight"), "in_progress");
    gate.open();

    ctx.deploy()
        .args(["all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success()
        .stderr(predicate::str::contains("ended without releasing the lock"))
        .stderr(predicate::str::contains("Completed preflight"));
    let state = ctx.state_json();
    assert_eq!(state["steps"]["preflight"]["status"], "completed");
    let audit = std::fs::read_to_string(ctx.state_dir().join("checkpoints.log")).unwrap();
    assert!(audit.contains("\"to\":\"interrupted\""), "{audit}");
}

#[test]
fn ctrl_c_records_interrupted_and_exits_130() {
    let gate = Gate::new();
    let ctx = gate.context(1);
    let mut first = spawn(&ctx, &["all", "--auto-approve", "--only", "preflight"]);
    gate.wait_closed(Duration::from_secs(60));
    signal(&first, rustix::process::Signal::INT);
    let status = first.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let rec = &ctx.state_json()["steps"]["preflight"];
    assert_eq!(rec["status"], "interrupted");
    // The lock was released: the next run goes ahead and resumes.
    gate.open();
    ctx.deploy()
        .args(["all", "--auto-approve", "--only", "preflight"])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("was interrupted")
                .or(predicate::str::contains("Completed preflight")),
        );
    assert_eq!(ctx.step_status("preflight"), "completed");
}

#[test]
fn of_two_runs_started_together_the_loser_always_names_the_holder() {
    let ctx = support::TestContext::with(support::Kind::Ministack);
    let mut refusals = 0;
    for _ in 0..20 {
        let args = ["all", "--auto-approve", "--only", "preflight"];
        let a = spawn(&ctx, &args);
        let b = spawn(&ctx, &args);
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            if out.status.code() == Some(3) {
                refusals += 1;
                assert!(err.contains("deployment is locked by pid "), "{err}");
                assert!(err.contains("(deploy all)"), "{err}");
            } else {
                assert!(out.status.success(), "{err}");
            }
        }
    }
    assert!(refusals > 0, "the two runs never overlapped");
}

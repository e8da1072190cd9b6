//! The binary's behaviour that needs no AWS: configuration errors, the ledger view, the lock,
//! and refusing to prompt without a terminal.

mod support;

use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::TestContext;

const STEPS: [&str; 7] = [
    "preflight",
    "iam",
    "infrastructure",
    "lambdas",
    "test-events",
    "pre-destroy",
    "destroy",
];

#[test]
fn status_json_on_an_empty_ledger_lists_all_seven_steps_not_started() {
    let ctx = TestContext::offline();
    let out = ctx.deploy().args(["status", "--json"]).assert().success();
    let doc: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let steps = doc["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, STEPS);
    assert!(steps.iter().all(|s| s["status"] == "not_started"));
    assert_eq!(doc["next"], "`deploy all`");
}

#[test]
fn malformed_config_exits_2_naming_file_line_and_key() {
    let ctx = TestContext::offline().config("[eventbus]\narchive_retention_days = \"seven\"\n");
    let out = ctx.deploy().args(["status"]).assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("deploy.toml:"), "{err}");
    assert!(err.contains("archive_retention_days"), "{err}");
    assert!(err.contains("[eventbus]"), "{err}");
}

#[test]
fn unknown_key_is_rejected_with_the_allowed_keys() {
    let ctx = TestContext::offline().config("[iam]\nmode = \"auto\"\npolicy = \"x\"\n");
    ctx.deploy()
        .args(["plan"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown field `policy`"))
        .stderr(predicate::str::contains("expected `mode`"));
}

#[test]
fn invalid_value_names_key_and_what_is_allowed() {
    let ctx = TestContext::offline().config("[lambdas.audit]\nmemory = 64\n");
    ctx.deploy()
        .args(["status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lambdas.audit.memory"))
        .stderr(predicate::str::contains("an integer from 128 to 10240"));
}

#[test]
fn all_without_terminal_or_auto_approve_refuses_at_once() {
    let ctx = TestContext::offline();
    let start = Instant::now();
    ctx.deploy()
        .args(["all"])
        .write_stdin("")
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--auto-approve"));
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!ctx.state_dir().join("state.json").exists(), "nothing ran");
}

#[test]
fn a_held_lock_makes_a_second_run_exit_3_naming_the_holder() {
    let ctx = TestContext::offline();
    let _held = ctx.lock_ledger("deploy all");
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "deployment is locked by pid {} (deploy all) since",
            std::process::id()
        )));
}

#[test]
fn wait_lock_gives_up_after_the_duration() {
    let ctx = TestContext::offline();
    let _held = ctx.lock_ledger("deploy all");
    let start = Instant::now();
    ctx.deploy()
        .args(["reset", "--wait-lock", "1s"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("gave up after waiting 1s"));
    assert!(start.elapsed() >= Duration::from_secs(1));
}

#[test]
fn unknown_step_is_a_usage_error() {
    let ctx = TestContext::offline();
    ctx.deploy()
        .args(["run", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown step `nope`"))
        .stderr(predicate::str::contains("infrastructure"));
}

#[test]
fn corrupt_ledger_is_reported_and_left_alone() {
    let ctx = TestContext::offline();
    std::fs::create_dir_all(ctx.state_dir()).unwrap();
    std::fs::write(ctx.state_dir().join("state.json"), "{ torn").unwrap();
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is corrupt"))
        .stderr(predicate::str::contains("deploy reset --rebuild"));
    assert_eq!(
        std::fs::read_to_string(ctx.state_dir().join("state.json")).unwrap(),
        "{ torn"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let ctx = TestContext::offline();
    ctx.deploy()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("3    the deployment is locked"))
        .stdout(predicate::str::contains("130  interrupted"));
}

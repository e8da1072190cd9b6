//! The binary's behaviour that needs no AWS: configuration errors, the ledger view, the lock,
//! and refusing to prompt without a terminal.

mod support;

use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::TestContext;

const STEPS: [&str; 8] = [
    "preflight",
    "iam",
    "infrastructure",
    "lambdas",
    "test-events",
    "contract",
    "pre-destroy",
    "destroy",
];

#[test]
fn status_json_on_an_empty_ledger_lists_every_step_not_started() {
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

#[tokio::test]
async fn a_held_lock_makes_a_second_run_exit_3_naming_the_holder() {
    let ctx = TestContext::offline();
    let _held = ctx.lock_ledger("deploy all").await;
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "deployment is locked by pid {} (deploy all) since",
            std::process::id()
        )));
}

#[tokio::test]
async fn wait_lock_gives_up_after_the_duration() {
    let ctx = TestContext::offline();
    let _held = ctx.lock_ledger("deploy all").await;
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

#[test]
fn every_destroy_path_refuses_at_once_without_a_terminal_or_auto_approve() {
    let ctx = TestContext::offline();
    for args in [
        &["destroy"][..],
        &["run", "destroy"],
        &["run", "999"],
        &["run", "pre-destroy"],
        &["run", "998"],
    ] {
        ctx.deploy()
            .args(args)
            .write_stdin("")
            .timeout(Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--auto-approve"));
    }
    assert!(
        !ctx.state_root().exists(),
        "nothing ran, nothing was written"
    );
}

#[tokio::test]
async fn reset_rebuild_recovers_a_corrupt_ledger_from_the_audit_log() {
    let ctx = TestContext::offline();
    {
        let mut l = ctx.lock_ledger("deploy all").await;
        l.transition("preflight", deploy_state::StepStatus::Completed, |r| {
            r.attempts = 1
        })
        .await
        .unwrap();
        l.transition("iam", deploy_state::StepStatus::Failed, |r| {
            r.last_error = Some("AccessDenied".into())
        })
        .await
        .unwrap();
    }
    let state = ctx.state_dir().join("state.json");
    std::fs::write(&state, "garbage").unwrap();
    // The error gives the advice; the advice works.
    ctx.deploy()
        .args(["status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("deploy reset --rebuild"));
    ctx.deploy()
        .args(["reset", "--rebuild"])
        .assert()
        .success()
        .stderr(predicate::str::contains("state.json.corrupt-"));
    let out = ctx.deploy().args(["status", "--json"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |step: &str| {
        doc["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == step)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("preflight"), "completed");
    assert_eq!(status("iam"), "failed");
    let kept = std::fs::read_dir(ctx.state_dir())
        .unwrap()
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("state.json.corrupt-")
        })
        .expect("the corrupt file is kept");
    assert_eq!(std::fs::read(kept.path()).unwrap(), b"garbage");
}

#[test]
fn out_of_range_durations_and_bad_names_are_usage_errors_naming_the_value() {
    let ctx = TestContext::offline();
    ctx.deploy()
        .args(["status", "--wait-lock", "99999999999999999999h"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("99999999999999999999h"));
    let ctx = ctx.config("[eventbus]\nname = \"team/events\"\n");
    ctx.deploy()
        .args(["plan"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("team/events"))
        .stderr(predicate::str::contains("eventbus.name"));
}

#[test]
fn an_unknown_profile_is_named_with_the_profiles_that_exist() {
    let ctx = TestContext::offline();
    let aws_config = ctx.path().join("aws-config");
    std::fs::write(
        &aws_config,
        "[default]\n[profile ops]\nregion = us-east-1\n",
    )
    .unwrap();
    let empty_credentials = ctx.path().join("aws-credentials");
    std::fs::write(&empty_credentials, "").unwrap();
    ctx.deploy()
        .env("AWS_CONFIG_FILE", &aws_config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty_credentials)
        .env("AWS_PROFILE", "opps")
        .args(["all", "--auto-approve"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`opps`"))
        .stderr(predicate::str::contains("default, ops"));
}

#[test]
fn without_a_configuration_file_here_or_above_the_error_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = TestContext::offline();
    let mut cmd = ctx.deploy();
    cmd.current_dir(dir.path())
        .args(["status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no deploy.toml in"))
        .stderr(predicate::str::contains("deploy init"));
    // A configuration in a parent directory is found, as cargo finds Cargo.toml.
    let sub = ctx.path().join("lambdas-work");
    std::fs::create_dir_all(&sub).unwrap();
    let mut cmd = ctx.deploy();
    cmd.current_dir(&sub)
        .args(["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&ctx.environment));
}

#[test]
fn completions_are_generated_for_the_shells() {
    let ctx = TestContext::offline();
    for shell in ["bash", "zsh", "fish"] {
        ctx.deploy()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("destroy"));
    }
}

//! Output for machines and people: the NDJSON stream of `--json` (validated line by line against
//! the checked-in schema), the outputs file and `deploy outputs`, GitHub Actions' groups,
//! annotations, step summary and outputs file, and `plan --detailed-exitcode`. ministack, real
//! terraform (and the stand-ins that fail on purpose).
//!
//! One deploy as CI runs it ([`ci::CI`]) is made once per test process; each test reads one
//! behaviour off what it printed and wrote, or off the stack it made (the tests that change the
//! configuration or tear the stack down hold it alone).

#[path = "machine_output/ci.rs"]
mod ci;
mod support;

use std::time::Duration;

use ci::{CI, TIMEOUT, github_outputs, of_type, standin, stream};
use predicates::prelude::*;
use serde_json::Value;
use support::{Kind, TestContext};

#[tokio::test(flavor = "multi_thread")]
async fn a_ci_deploy_streams_json_lines_that_follow_the_schema_and_end_with_the_exit_code() {
    let d = CI.read().await;
    let lines = stream(&d.stdout);
    assert_eq!(of_type(&lines, "run_finished")[0]["exit_code"], d.code);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_names_the_deployment_and_its_six_steps() {
    let d = CI.read().await;
    let lines = stream(&d.stdout);
    let started = &of_type(&lines, "run_started")[0];
    assert_eq!(
        started["deployment"]["environment"],
        d.ctx.environment.as_str()
    );
    assert_eq!(started["steps"].as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_shows_each_terraform_resource_of_infrastructure() {
    let d = CI.read().await;
    let lines = stream(&d.stdout);
    let resources: Vec<&str> = of_type(&lines, "step_progress")
        .iter()
        .filter(|l| l["step"] == "infrastructure")
        .filter_map(|l| l["resource"]["address"].as_str())
        .collect();
    assert!(resources.contains(&"aws_sqs_queue.dlq"), "{resources:?}");
    assert!(
        resources.contains(&"aws_cloudwatch_event_bus.this"),
        "{resources:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_apply_streams_one_retry_and_a_summary_after_attempt_2() {
    let d = CI.read().await;
    let lines = stream(&d.stdout);
    let retries = of_type(&lines, "retry");
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(retries[0]["step"], "infrastructure");
    let infra = of_type(&lines, "step_finished")
        .into_iter()
        .find(|l| l["step"] == "infrastructure")
        .unwrap();
    assert_eq!(infra["attempts"], 2);
    assert!(
        infra["summary"].as_str().unwrap().contains("added"),
        "{infra}"
    );
}

/// People: a line per resource event (the output is not a terminal).
#[tokio::test(flavor = "multi_thread")]
async fn off_a_terminal_each_resource_event_is_one_line() {
    let d = CI.read().await;
    let stderr = &d.stderr;
    assert!(
        stderr.contains("aws_sqs_queue.dlq: create start"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aws_sqs_queue.dlq: create complete"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_groups_come_in_pairs_and_nothing_is_coloured() {
    let d = CI.read().await;
    let stderr = &d.stderr;
    let opened = stderr.matches("::group::").count();
    assert_eq!(opened, stderr.matches("::endgroup::").count(), "{stderr}");
    assert!(opened >= 5, "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no ANSI escape");
    assert!(!d.summary.contains('\u{1b}'));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_step_summary_has_one_row_per_step() {
    let d = CI.read().await;
    let md = &d.summary;
    for step in [
        "preflight",
        "iam",
        "infrastructure",
        "lambdas",
        "test-events",
        "contract",
    ] {
        assert_eq!(
            md.lines()
                .filter(|l| l.starts_with(&format!("| {step} |")))
                .count(),
            1,
            "one row for {step}:\n{md}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn github_outputs_hold_the_bus_arn_and_the_rules_as_a_multi_line_value() {
    let d = CI.read().await;
    let gh_out = github_outputs(&d.github_output);
    assert!(
        gh_out["bus_arn"].starts_with("arn:aws:events:"),
        "{gh_out:?}"
    );
    let rules: Value = serde_json::from_str(&gh_out["rules"]).unwrap();
    assert_eq!(
        rules.as_object().unwrap().len(),
        7,
        "a multi-line value: {gh_out:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_arn_in_the_outputs_file_exists() {
    let d = CI.read().await;
    let doc = &d.outputs;
    let sdk = d.ctx.sdk().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let bus = events
        .describe_event_bus()
        .name(doc["bus_name"].as_str().unwrap())
        .send()
        .await
        .expect("the bus exists");
    assert_eq!(bus.arn(), doc["bus_arn"].as_str());
    for (name, _) in doc["rules"].as_object().unwrap() {
        events
            .describe_rule()
            .name(name)
            .event_bus_name(doc["bus_name"].as_str().unwrap())
            .send()
            .await
            .expect("the rule exists");
    }
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    for (_, arn) in doc["functions"].as_object().unwrap() {
        lambda
            .get_function()
            .function_name(arn.as_str().unwrap())
            .send()
            .await
            .expect("the function exists");
    }
    let iam = aws_sdk_iam::Client::new(&sdk);
    for key in ["publisher_role_arn", "processor_role_arn", "dlq_role_arn"] {
        let name = doc[key].as_str().unwrap().rsplit('/').next().unwrap();
        iam.get_role().role_name(name).send().await.expect(key);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_outputs_prints_one_value_raw() {
    let d = CI.read().await;
    d.ctx
        .deploy()
        .args(["outputs", "bus_arn"])
        .assert()
        .success()
        .stdout(format!("{}\n", d.outputs["bus_arn"].as_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_detailed_exitcode_is_0_when_nothing_would_run() {
    let d = CI.read().await;
    d.ctx
        .deploy()
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_detailed_exitcode_is_8_with_the_diff_once_the_configuration_changes() {
    let d = CI.write().await;
    let _changed = support::shared::FileEdit::new(&d.ctx.config_path(), |text| {
        format!("{text}\n[eventbus]\narchive_retention_days = 3\n")
    });
    d.ctx
        .deploy()
        .args(["plan", "--detailed-exitcode", "--diff"])
        .timeout(TIMEOUT)
        .assert()
        .code(8)
        .stdout(predicate::str::contains(
            "aws_cloudwatch_event_archive.this (update)",
        ));
}

/// `destroy --json`: the same stream. The stack is gone afterwards: the next test to want it
/// (none, in a whole run: this one sorts last) deploys it again.
#[tokio::test(flavor = "multi_thread")]
async fn the_teardown_streams_the_same_schema() {
    let d = CI.write().await;
    let out = d
        .ctx
        .deploy()
        .args(["destroy", "--auto-approve", "--json"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    d.leave_for_repair();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = stream(&out.stdout);
    assert_eq!(of_type(&lines, "run_finished")[0]["exit_code"], 0);
}

#[test]
fn a_failing_run_streams_its_failure_and_exit_code() {
    let ctx = TestContext::with(Kind::Ministack)
        .terraform_binary(&standin("terraform-standin-already-exists"));
    let out = ctx
        .deploy()
        .args(["all", "--auto-approve", "--json"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines = stream(&out.stdout);
    let failed = of_type(&lines, "step_finished")
        .into_iter()
        .find(|l| l["status"] == "failed")
        .expect("a failed step");
    assert_eq!(failed["step"], "infrastructure");
    assert_eq!(failed["critical"], true);
    assert_eq!(of_type(&lines, "run_finished")[0]["exit_code"], 1);
}

#[test]
fn a_configuration_error_is_an_annotation_on_its_line() {
    let gh = tempfile::tempdir().unwrap();
    let ctx = TestContext::offline()
        .config("[eventbus]\nname = \"team/events\"\n")
        .env("GITHUB_ACTIONS", "true")
        .env(
            "GITHUB_STEP_SUMMARY",
            gh.path().join("s.md").to_str().unwrap(),
        );
    let line = std::fs::read_to_string(ctx.config_path())
        .unwrap()
        .lines()
        .position(|l| l.contains("team/events"))
        .unwrap()
        + 1;
    let out = ctx
        .deploy()
        .args(["all", "--auto-approve", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "::error file=deploy.toml,line={line},title=deploy%3A eventbus.name::"
        )),
        "{stderr}"
    );
    let lines = stream(&out.stdout);
    let diag = &of_type(&lines, "diagnostic")[0];
    assert_eq!(diag["line"], line);
    assert_eq!(diag["key"], "eventbus.name");
    assert_eq!(of_type(&lines, "run_finished")[0]["exit_code"], 2);
}

#[test]
fn a_person_sees_the_plan_before_approving_infrastructure_and_ctrl_c_exits_130() {
    use expectrl::Expect;
    let ctx = TestContext::with(Kind::Ministack);
    let mut p = approved_up_to_infrastructure(&ctx);
    // Terraform's plan, resource by resource, before the question.
    p.expect("infrastructure would change:").unwrap();
    p.expect("+ aws_sqs_queue.dlq (create)").unwrap();
    p.expect("Plan: ").unwrap();
    p.expect("Run infrastructure").unwrap();
    p.send("\u{3}").unwrap();
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut p, &mut rest);
    let status = p.get_process().wait().unwrap();
    assert_eq!(
        status,
        expectrl::process::unix::WaitStatus::Exited(p.get_process().pid(), 130),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    assert!(
        String::from_utf8_lossy(&rest).contains("\u{1b}[?25h"),
        "the cursor is shown again: {:?}",
        String::from_utf8_lossy(&rest)
    );
    assert_ne!(ctx.step_status("infrastructure"), "completed");
}

/// Ctrl-C while the plan shown before a question is being made (terraform running): the run
/// ends with 130 once the plan is done, without asking a question nobody will answer.
#[test]
fn an_interrupt_while_the_plan_is_made_exits_130_without_asking() {
    use expectrl::Expect;
    use expectrl::process::unix::{Signal, WaitStatus};
    let ctx = TestContext::with(Kind::Ministack);
    let mut p = approved_up_to_infrastructure(&ctx);
    let pid = p.get_process().pid().as_raw();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !runs_terraform(pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "terraform never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    p.get_process_mut().signal(Signal::SIGINT).unwrap();
    p.expect("interrupted").unwrap();
    let status = p.get_process().wait().unwrap();
    assert_eq!(status, WaitStatus::Exited(p.get_process().pid(), 130));
    assert_ne!(ctx.step_status("infrastructure"), "completed");
}

/// `deploy all` in a pty, with preflight and iam approved: what comes next is infrastructure's
/// plan and question.
fn approved_up_to_infrastructure(ctx: &TestContext) -> expectrl::session::OsSession {
    use expectrl::{Expect, Session};
    let mut cmd = ctx.std_command();
    cmd.args(["all"]);
    let mut p = Session::spawn(cmd).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(120)));
    for step in ["Run preflight", "Run iam"] {
        p.expect(step).unwrap();
        p.send_line("").unwrap();
    }
    p
}

/// Whether a child of process `pid` runs terraform.
fn runs_terraform(pid: i32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // "pid (comm) state ppid ...": the parent is the fourth field.
        let ppid = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split(' ').nth(1))
            .and_then(|p| p.parse::<i32>().ok());
        ppid == Some(pid) && stat.contains("(terraform)")
    })
}

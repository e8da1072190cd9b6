//! Output for machines and people: the NDJSON stream of `--json` (validated line by line against
//! the checked-in schema), the outputs file and `deploy outputs`, GitHub Actions' groups,
//! annotations, step summary and outputs file, and `plan --detailed-exitcode`. ministack, real
//! terraform (and the stand-ins that fail on purpose).

mod support;

use std::path::Path;
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;
use support::{Kind, TestContext, repo_root};

const TIMEOUT: Duration = Duration::from_secs(400);

fn standin(name: &str) -> String {
    repo_root()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Every line of `stdout` parsed and validated against docs/events.schema.json.
fn stream(stdout: &[u8]) -> Vec<Value> {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("docs/events.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for l in &lines {
        let errors: Vec<String> = validator.iter_errors(l).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{l}\n{errors:?}");
    }
    assert_eq!(lines.first().unwrap()["type"], "version");
    assert_eq!(lines.last().unwrap()["type"], "run_finished");
    let run_ids: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(run_ids.len(), 1, "one run id");
    lines
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

/// `$GITHUB_OUTPUT` read the way the runner reads it: `name=value`, or `name<<DELIM` ... `DELIM`.
fn github_outputs(path: &Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = std::collections::BTreeMap::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some((name, delim)) = l.split_once("<<") {
            let mut value = Vec::new();
            for v in lines.by_ref() {
                if v == delim {
                    break;
                }
                value.push(v);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = l.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_in_ci_streams_events_groups_a_summary_and_outputs() {
    let counter = tempfile::tempdir().unwrap();
    let gh = tempfile::tempdir().unwrap();
    let summary = gh.path().join("summary.md");
    let outputs = gh.path().join("outputs.txt");
    let outputs_file = gh.path().join("deploy-outputs.json");
    // The first apply fails with a timeout (a stand-in): the stream shows the retry.
    let ctx = TestContext::with(Kind::Ministack)
        .terraform_binary(&standin("terraform-standin-timeout-once"))
        .env("STANDIN_STATE_DIR", counter.path().to_str().unwrap())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .env("GITHUB_OUTPUT", outputs.to_str().unwrap());
    let out = ctx
        .deploy()
        .args(["all", "--auto-approve", "--json", "--outputs-file"])
        .arg(&outputs_file)
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let lines = stream(&out.stdout);
    assert_eq!(
        of_type(&lines, "run_finished")[0]["exit_code"],
        out.status.code().unwrap()
    );
    let started = &of_type(&lines, "run_started")[0];
    assert_eq!(
        started["deployment"]["environment"],
        ctx.environment.as_str()
    );
    assert_eq!(started["steps"].as_array().unwrap().len(), 5);
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

    // People: a line per resource event (the output is not a terminal), groups in pairs, no
    // colour codes.
    assert!(
        stderr.contains("aws_sqs_queue.dlq: create start"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aws_sqs_queue.dlq: create complete"),
        "{stderr}"
    );
    let opened = stderr.matches("::group::").count();
    assert_eq!(opened, stderr.matches("::endgroup::").count(), "{stderr}");
    assert!(opened >= 5, "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no ANSI escape");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(!md.contains('\u{1b}'));
    for step in [
        "preflight",
        "iam",
        "infrastructure",
        "lambdas",
        "test-events",
    ] {
        assert_eq!(
            md.lines()
                .filter(|l| l.starts_with(&format!("| {step} |")))
                .count(),
            1,
            "one row for {step}:\n{md}"
        );
    }
    let gh_out = github_outputs(&outputs);
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

    // The outputs file: every ARN in it exists.
    let doc: Value = serde_json::from_slice(&std::fs::read(&outputs_file).unwrap()).unwrap();
    let sdk = ctx.sdk().await;
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
    ctx.deploy()
        .args(["outputs", "bus_arn"])
        .assert()
        .success()
        .stdout(format!("{}\n", doc["bus_arn"].as_str().unwrap()));

    // plan --detailed-exitcode: 0 unchanged, 8 once the configuration changes.
    ctx.deploy()
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
    let changed = ctx.config("[eventbus]\narchive_retention_days = 3\n");
    changed
        .deploy()
        .args(["plan", "--detailed-exitcode", "--diff"])
        .timeout(TIMEOUT)
        .assert()
        .code(8)
        .stdout(predicate::str::contains(
            "aws_cloudwatch_event_archive.this (update)",
        ));

    // destroy --json: the same stream.
    let out = changed
        .deploy()
        .args(["destroy", "--auto-approve", "--json"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert!(out.status.success());
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
    use expectrl::{Expect, Session};
    let ctx = TestContext::with(Kind::Ministack);
    let mut cmd = ctx.std_command();
    cmd.args(["all"]);
    let mut p = Session::spawn(cmd).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(120)));
    for step in ["Run preflight", "Run iam"] {
        p.expect(step).unwrap();
        p.send_line("").unwrap();
    }
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

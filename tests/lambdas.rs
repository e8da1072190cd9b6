//! The `lambdas` step against ministack with real terraform: both functions deployed and Active,
//! wired to the logger rule and the dead-letter queue, recorded in the inventory; a second run
//! updates nothing; editing one function's code updates exactly that function; a permission or
//! target changed behind the step's back is put right.

mod support;

use std::path::{Path, PathBuf};

use aws_sdk_lambda::types::{FunctionResponseType, LastUpdateStatus, State};
use predicates::prelude::*;
use support::{Kind, TestContext, repo_root};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A project on ministack whose Lambda sources are its own copy (the test edits them).
fn context_with_own_lambdas() -> (TestContext, PathBuf) {
    let ctx = TestContext::with(Kind::Ministack);
    let lambdas = ctx.path().join("lambdas");
    copy_dir(&repo_root().join("lambdas"), &lambdas);
    let text = std::fs::read_to_string(ctx.config_path()).unwrap();
    let from = format!("{}/lambdas/", repo_root().display());
    assert!(text.contains(&from));
    let text = text.replace(&from, &format!("{}/", lambdas.display()));
    std::fs::write(ctx.config_path(), text).unwrap();
    (ctx, lambdas)
}

/// The latest log of `step`.
fn step_log(ctx: &TestContext, step: &str) -> String {
    std::fs::read_to_string(ctx.state_dir().join("logs").join(format!("{step}.log"))).unwrap()
}

fn output(ctx: &TestContext, step: &str, key: &str) -> String {
    ctx.state_json()["steps"][step]["outputs"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no output {key} of {step}"))
        .to_string()
}

struct Function {
    sha: String,
    revision: String,
}

async fn function(client: &aws_sdk_lambda::Client, name: &str) -> Function {
    let c = client
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .configuration
        .unwrap();
    assert_eq!(c.state(), Some(&State::Active), "{name}");
    assert_eq!(
        c.last_update_status(),
        Some(&LastUpdateStatus::Successful),
        "{name}"
    );
    Function {
        sha: c.code_sha256().unwrap().to_string(),
        revision: c.revision_id().unwrap_or_default().to_string(),
    }
}

async fn permission_source(client: &aws_sdk_lambda::Client, function: &str, sid: &str) -> String {
    let policy = client
        .get_policy()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let stmt = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {policy}"));
    assert_eq!(stmt["Principal"]["Service"], "events.amazonaws.com");
    assert_eq!(stmt["Action"], "lambda:InvokeFunction");
    stmt["Condition"]["ArnLike"]["AWS:SourceArn"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn lambdas_deploy_wire_skip_unchanged_code_and_update_only_the_edited_function() {
    let (ctx, lambdas) = context_with_own_lambdas();
    let env = ctx.environment.clone();
    let logger = format!("{env}-event-logger");
    let processor = format!("{env}-dead-letter-processor");
    let sdk = ctx.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let events = aws_sdk_eventbridge::Client::new(&sdk);

    ctx.deploy()
        .args(["run", "infrastructure"])
        .assert()
        .success();
    ctx.deploy().args(["run", "lambdas"]).assert().success();
    assert_eq!(ctx.step_status("lambdas"), "completed");
    let bus = output(&ctx, "infrastructure", "event_bus_name");
    let dlq_arn = output(&ctx, "infrastructure", "dlq_arn");
    let logger_rule = format!("{env}-all-events-to-logger");
    let rule_arns: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&output(&ctx, "infrastructure", "rule_arns")).unwrap();
    let logger_rule_arn = rule_arns[&logger_rule].clone();

    // Both functions exist, Active, with the settings and environment asked for.
    let first_logger = function(&lambda, &logger).await;
    let first_processor = function(&lambda, &processor).await;
    let conf = lambda
        .get_function_configuration()
        .function_name(&processor)
        .send()
        .await
        .unwrap();
    assert_eq!(conf.runtime().unwrap().as_str(), "nodejs20.x");
    assert_eq!(conf.handler(), Some("index.handler"));
    let vars = conf.environment().unwrap().variables().unwrap();
    assert_eq!(vars.get("EVENT_BUS_NAME"), Some(&bus));
    assert!(vars.get("DLQ_URL").unwrap().ends_with("-eventbridge-dlq"));

    // The logger is the target of the logger rule, with the DLQ as its dead-letter config.
    let targets = events
        .list_targets_by_rule()
        .rule(&logger_rule)
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    let target = targets
        .targets()
        .iter()
        .find(|t| t.id() == "event-logger")
        .expect("logger target");
    assert!(target.arn().ends_with(&format!(":function:{logger}")));
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some(dlq_arn.as_str())
    );
    assert!(target.retry_policy().is_some());
    assert_eq!(
        targets.targets().len(),
        1,
        "the DLQ is never a plain target"
    );

    // The invoke permission is scoped to the rule.
    let sid = format!("deploy-events-{logger_rule}");
    assert_eq!(
        permission_source(&lambda, &logger, &sid).await,
        logger_rule_arn
    );

    // The DLQ feeds the processor, reporting batch item failures.
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(&processor)
        .send()
        .await
        .unwrap();
    let m = mappings.event_source_mappings();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].event_source_arn(), Some(dlq_arn.as_str()));
    assert!(
        m[0].function_response_types()
            .contains(&FunctionResponseType::ReportBatchItemFailures)
    );

    // Everything is in the owned-resource inventory.
    let state = ctx.state_json();
    let owned: Vec<(String, String)> = state["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["created_by"] == "lambdas")
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("function", logger.as_str()),
        ("function", processor.as_str()),
        ("permission", sid.as_str()),
        ("target", "event-logger"),
        ("event-source-mapping", m[0].uuid().unwrap()),
    ] {
        assert!(
            owned.iter().any(|(k, n)| k == want.0 && n == want.1),
            "{want:?} not in {owned:?}"
        );
    }

    // Second run: nothing changed, so nothing runs.
    ctx.deploy()
        .args(["run", "lambdas"])
        .assert()
        .success()
        .stderr(predicate::str::contains("up to date"));
    // Forced: the step runs, but compares hashes and updates nothing.
    ctx.deploy()
        .args(["run", "lambdas", "--force"])
        .assert()
        .success();
    let log = step_log(&ctx, "lambdas");
    assert!(
        log.contains(&format!("{logger}: code unchanged (sha256 matches)")),
        "{log}"
    );
    assert!(
        log.contains(&format!("{processor}: code unchanged (sha256 matches)")),
        "{log}"
    );
    assert!(!log.contains("code updated"), "{log}");
    assert_eq!(
        function(&lambda, &logger).await.revision,
        first_logger.revision
    );
    assert_eq!(
        function(&lambda, &processor).await.revision,
        first_processor.revision
    );

    // Editing the logger's code updates exactly the logger.
    let index = lambdas.join("event-logger/index.mjs");
    let mut code = std::fs::read_to_string(&index).unwrap();
    code.push_str("// edited by the test\n");
    std::fs::write(&index, code).unwrap();
    ctx.deploy().args(["run", "lambdas"]).assert().success();
    let log = step_log(&ctx, "lambdas");
    assert!(log.contains(&format!("{logger}: code updated")), "{log}");
    assert!(
        log.contains(&format!("{processor}: code unchanged (sha256 matches)")),
        "{log}"
    );
    assert_ne!(function(&lambda, &logger).await.sha, first_logger.sha);
    let now_processor = function(&lambda, &processor).await;
    assert_eq!(now_processor.sha, first_processor.sha);
    assert_eq!(now_processor.revision, first_processor.revision);

    // A permission for another source under our statement id is replaced by the right one.
    lambda
        .remove_permission()
        .function_name(&logger)
        .statement_id(&sid)
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name(&logger)
        .statement_id(&sid)
        .action("lambda:InvokeFunction")
        .principal("events.amazonaws.com")
        .source_arn("arn:aws:events:us-east-1:000000000000:rule/elsewhere/other")
        .send()
        .await
        .unwrap();
    ctx.deploy()
        .args(["run", "lambdas", "--force"])
        .assert()
        .success();
    assert!(step_log(&ctx, "lambdas").contains("invoke permission for"));
    assert_eq!(
        permission_source(&lambda, &logger, &sid).await,
        logger_rule_arn
    );

    // A target removed behind the step's back makes the step run again and restores it.
    events
        .remove_targets()
        .rule(&logger_rule)
        .event_bus_name(&bus)
        .ids("event-logger")
        .send()
        .await
        .unwrap();
    ctx.deploy().args(["run", "lambdas"]).assert().success();
    let log = step_log(&ctx, "lambdas");
    assert!(
        log.contains("resources missing: target event-logger"),
        "{log}"
    );
    let targets = events
        .list_targets_by_rule()
        .rule(&logger_rule)
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    assert!(targets.targets().iter().any(|t| t.id() == "event-logger"));
    // Still exactly one mapping: the existing one was reused every time.
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(&processor)
        .send()
        .await
        .unwrap();
    assert_eq!(mappings.event_source_mappings().len(), 1);
}

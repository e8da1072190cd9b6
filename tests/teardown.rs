//! Two-phase teardown that touches only what this deployment owns, `status --live`, and the
//! live check before a completed step is skipped. Real terraform; ministack, and moto for the
//! order AWS enforces (a rule with targets cannot be deleted).

mod support;

use std::time::Duration;

use predicates::prelude::*;
use support::aws::leftovers;
use support::gate::{At, Gate, signal, spawn};
use support::{Kind, TestContext};

const TIMEOUT: Duration = Duration::from_secs(400);

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Resources of other teams in the same account and region, named to tempt a sloppy sweep.
async fn create_foreign(ctx: &TestContext) -> Vec<String> {
    let sdk = ctx.sdk().await;
    let env = &ctx.environment;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let other_bus = format!("{env}-other-team-bus");
    events
        .create_event_bus()
        .name(&other_bus)
        .send()
        .await
        .unwrap();
    events
        .put_rule()
        .name(format!("{env}-other-rule"))
        .event_bus_name(&other_bus)
        .event_pattern(r#"{"source":["other.team"]}"#)
        .send()
        .await
        .unwrap();
    let q = sqs
        .create_queue()
        .queue_name(format!("{env}-eventbridge-dlq-other"))
        .send()
        .await
        .unwrap();
    let q_attrs = sqs
        .get_queue_attributes()
        .queue_url(q.queue_url().unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let q_arn =
        q_attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    events
        .put_targets()
        .rule(format!("{env}-other-rule"))
        .event_bus_name(&other_bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("other")
                .arn(q_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (name, role) = (
        format!("{env}-something-else"),
        format!("{env}-event-processor-role-other"),
    );
    support::aws::create_function(&lambda, &iam, &name, &role).await;
    vec![
        format!("bus {other_bus}"),
        format!("function {env}-something-else"),
        format!("queue {env}-eventbridge-dlq-other"),
        format!("role {env}-event-processor-role-other"),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn full_cycle_with_drift_repair_leaves_foreign_resources_alone() {
    // Terraform through the counting stand-in (never gated), to prove the no-op run starts none.
    let gate = Gate::new();
    let ctx = gate.apply(TestContext::with(Kind::Ministack), At::Invocation(0));
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let invocations = || std::fs::read_to_string(gate.path().join("count")).unwrap();
    let before = invocations();
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "nothing to do: every step is up to date",
        ));
    assert_eq!(invocations(), before, "the no-op run started terraform");
    let out = ctx
        .deploy()
        .args(["status", "--live", "--json"])
        .assert()
        .success();
    assert_eq!(json(out.get_output())["verdict"], "healthy");

    // A rule deleted behind deploy's back is drift: named, and repaired by `deploy all`.
    let rule = format!("{}-video-uploaded-to-thumbnail", ctx.environment);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk().await);
    events
        .delete_rule()
        .name(&rule)
        .event_bus_name(format!("{}-application-events", ctx.environment))
        .send()
        .await
        .unwrap();
    ctx.deploy()
        .args(["status", "--live"])
        .assert()
        .code(7)
        .stdout(predicate::str::contains(format!(
            "MISSING  rule                   {rule}"
        )));
    ctx.deploy()
        .args(["plan"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "run   infrastructure  resources missing: rule {rule}"
        )));
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    ctx.deploy().args(["status", "--live"]).assert().success();

    let foreign = create_foreign(&ctx).await;
    ctx.deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let found = leftovers(&ctx).await;
    let ours: Vec<&String> = found
        .iter()
        .filter(|f| !f.contains("-other") && !f.contains("something-else"))
        .collect();
    assert!(ours.is_empty(), "left behind: {ours:?}");
    for f in &foreign {
        let present = found
            .iter()
            .any(|x| x == f || (f.starts_with("queue ") && x.ends_with(&f[6..])));
        assert!(present, "foreign {f} was destroyed; found {found:?}");
    }

    ctx.deploy().args(["status", "--live"]).assert().code(4);
    ctx.deploy()
        .args(["destroy", "--auto-approve"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing to do"));
}

#[test]
fn destroy_killed_after_pre_destroy_completes_when_run_again() {
    let gate = Gate::new();
    let ctx = gate.apply(
        TestContext::with(Kind::Ministack),
        At::Subcommand("destroy"),
    );
    ctx.deploy()
        .args(["run", "infrastructure"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let mut first = spawn(&ctx, &["destroy", "--auto-approve"]);
    gate.wait_closed(Duration::from_secs(120));
    assert_eq!(ctx.step_status("pre-destroy"), "completed");
    signal(&first, rustix::process::Signal::KILL);
    first.wait().unwrap();
    gate.open();
    ctx.deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::contains("Completed destroy"));
    let state = ctx.state_json();
    assert!(state["destroyed_at"].is_string(), "{state}");
    assert_eq!(state["inventory"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn against_moto_steps_one_by_one_then_destroy_leaves_nothing() {
    let ctx = TestContext::with(Kind::Moto);
    for step in ["preflight", "iam", "infrastructure", "lambdas"] {
        ctx.deploy()
            .args(["run", step])
            .timeout(TIMEOUT)
            .assert()
            .success();
    }
    ctx.deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let found = leftovers(&ctx).await;
    assert!(found.is_empty(), "left behind on moto: {found:?}");
}

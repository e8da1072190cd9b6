//! Upgrade: a deployment made by the previous release (built by
//! `scripts/ensure-previous-release`, its own stack and functions), then `deploy all` with this
//! one: nothing is replaced (every rule, queue, function, role and the bus keep their ARNs and
//! ids; the function targets, which invoked the functions unqualified, now invoke their alias
//! `live`) and `status --live` reports it healthy.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use assert_cmd::Command;
use support::{Kind, TestContext, repo_root};

/// Everything the stack consists of, by name: ARN (and a role's id, which a replacement changes).
async fn inventory(ctx: &TestContext) -> BTreeMap<String, String> {
    let sdk = ctx.sdk().await;
    let env = &ctx.environment;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let mut out = BTreeMap::new();
    let bus = format!("{env}-application-events");
    let b = events.describe_event_bus().name(&bus).send().await.unwrap();
    out.insert(format!("bus {bus}"), b.arn().unwrap().to_string());
    for r in events
        .list_rules()
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap()
        .rules()
    {
        out.insert(
            format!("rule {}", r.name().unwrap()),
            r.arn().unwrap().to_string(),
        );
        let targets = events
            .list_targets_by_rule()
            .rule(r.name().unwrap())
            .event_bus_name(&bus)
            .send()
            .await
            .unwrap();
        for t in targets.targets() {
            out.insert(
                format!("target {}/{}", r.name().unwrap(), t.id()),
                t.arn().to_string(),
            );
        }
    }
    for q in sqs
        .list_queues()
        .queue_name_prefix(env)
        .send()
        .await
        .unwrap()
        .queue_urls()
    {
        out.insert(format!("queue {q}"), q.clone());
    }
    for f in ["event-logger", "dead-letter-processor"] {
        let name = format!("{env}-{f}");
        let c = lambda
            .get_function()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        let conf = c.configuration().unwrap();
        out.insert(
            format!("function {name}"),
            conf.function_arn().unwrap().to_string(),
        );
    }
    let roles = iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap();
    for role in &roles {
        if role.role_name().starts_with(env.as_str()) {
            out.insert(
                format!("role {}", role.role_name()),
                format!("{} {}", role.arn(), role.role_id()),
            );
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_of_the_previous_release_upgrades_with_nothing_replaced() {
    let previous = PathBuf::from(std::env::var("DEPLOY_PREVIOUS_RELEASE").expect(
        "DEPLOY_PREVIOUS_RELEASE: the directory `scripts/ensure-previous-release` prints \
         (scripts/test sets it)",
    ));
    let ctx = TestContext::with(Kind::Ministack);
    // The previous release's configuration: the same deployment, its own stack and functions.
    let current = std::fs::read_to_string(ctx.config_path()).unwrap();
    // (It had its routes in its HCL: no hub tables.)
    let old_root = previous.join("src");
    let without_hub = &current[..current.find(deploy_config::HUB_MARKER).unwrap()];
    std::fs::write(
        ctx.config_path(),
        without_hub.replace(
            &repo_root().display().to_string(),
            &old_root.display().to_string(),
        ),
    )
    .unwrap();
    Command::from_std(ctx.command_of(&previous.join("deploy")))
        .args(["all", "--auto-approve"])
        .assert()
        .success();
    let before = inventory(&ctx).await;
    assert!(before.len() >= 15, "{before:#?}");

    std::fs::write(ctx.config_path(), current).unwrap();
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .assert()
        .success();
    let mut after = inventory(&ctx).await;
    // The functions' targets moved to their alias (the same target, its ARN qualified).
    let mut moved = Vec::new();
    for (key, arn) in after.iter_mut().filter(|(k, _)| k.starts_with("target ")) {
        if let Some(function) = arn.strip_suffix(":live") {
            *arn = function.to_string();
            moved.push(key.clone());
        }
    }
    let function_targets: Vec<&String> = before
        .iter()
        .filter(|(k, a)| k.starts_with("target ") && a.contains(":function:"))
        .map(|(k, _)| k)
        .collect();
    assert!(!function_targets.is_empty(), "{before:#?}");
    assert_eq!(
        function_targets,
        moved.iter().collect::<Vec<_>>(),
        "every function target moved to the alias"
    );
    assert_eq!(after, before, "no resource replaced, none added or removed");
    let note = ctx.state_json()["steps"]["infrastructure"]["note"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !note.contains("destroyed") || note.contains(" 0 destroyed"),
        "{note}"
    );
    ctx.deploy().args(["status", "--live"]).assert().success();
}

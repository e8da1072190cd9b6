//! Ownership proven by tags: every resource carries the deployment's tags; a deployment whose
//! state was lost is adopted or destroyed by them, and nothing foreign is touched. ministack,
//! real terraform.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use predicates::prelude::*;
use support::aws::{fingerprint, leftovers};
use support::{Kind, TestContext};

const TIMEOUT: Duration = Duration::from_secs(400);

fn ours(ctx: &TestContext) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("Project".to_string(), "hub".to_string()),
        ("Environment".to_string(), ctx.environment.clone()),
        ("Region".to_string(), ctx.region.clone()),
        ("ManagedBy".to_string(), "deploy".to_string()),
    ])
}

fn carries(found: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(k, v)| found.get(k) == Some(v))
}

fn deploy_all(ctx: &TestContext) {
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
}

fn lose_the_state(ctx: &TestContext) {
    std::fs::remove_dir_all(ctx.state_root()).unwrap();
}

/// A resource whose tags a test reads.
enum Tagged {
    /// An EventBridge bus or rule, by ARN.
    Events(String),
    Queue(String),
    Role(String),
    Function(String),
    /// A log group, by ARN (without the trailing `:*`).
    LogGroup(String),
}

/// The tags AWS reports for `what`.
async fn tags(sdk: &aws_config::SdkConfig, what: Tagged) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> = match what {
        Tagged::Events(arn) => {
            let out = aws_sdk_eventbridge::Client::new(sdk)
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .unwrap();
            let tags = out.tags().iter();
            tags.map(|t| (t.key().into(), t.value().into())).collect()
        }
        Tagged::Queue(name) => {
            let sqs = aws_sdk_sqs::Client::new(sdk);
            let url = sqs.get_queue_url().queue_name(name).send().await.unwrap();
            let out = sqs
                .list_queue_tags()
                .queue_url(url.queue_url().unwrap())
                .send()
                .await
                .unwrap();
            out.tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect()
        }
        Tagged::Role(name) => {
            let out = aws_sdk_iam::Client::new(sdk)
                .list_role_tags()
                .role_name(name)
                .send()
                .await
                .unwrap();
            let tags = out.tags().iter();
            tags.map(|t| (t.key().into(), t.value().into())).collect()
        }
        Tagged::Function(name) => {
            let out = aws_sdk_lambda::Client::new(sdk)
                .get_function()
                .function_name(name)
                .send()
                .await
                .unwrap();
            out.tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect()
        }
        Tagged::LogGroup(arn) => {
            let out = aws_sdk_cloudwatchlogs::Client::new(sdk)
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .unwrap();
            out.tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect()
        }
    };
    pairs.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_resource_carries_the_tags_and_a_lost_state_is_adopted() {
    let ctx = TestContext::with(Kind::Ministack);
    deploy_all(&ctx);
    let env = ctx.environment.clone();
    let want = ours(&ctx);
    let sdk = ctx.sdk().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let bus = events
        .describe_event_bus()
        .name(format!("{env}-application-events"))
        .send()
        .await
        .unwrap();
    let mut tagged = vec![("bus".to_string(), Tagged::Events(bus.arn().unwrap().into()))];
    let rules = events
        .list_rules()
        .event_bus_name(format!("{env}-application-events"))
        .send()
        .await
        .unwrap();
    let ours_rules = rules.rules().iter().filter(|r| r.managed_by().is_none());
    for r in ours_rules {
        let arn = r.arn().unwrap().to_string();
        tagged.push((format!("rule {:?}", r.name()), Tagged::Events(arn)));
    }
    assert_eq!(tagged.len(), 1 + 7, "the bus and the 7 routes' rules");
    let dlq = format!("{env}-eventbridge-dlq");
    tagged.push((format!("queue {dlq}"), Tagged::Queue(dlq)));
    for role in [
        "event-publisher-role",
        "event-processor-role",
        "eventbridge-dlq-role",
    ] {
        let role = format!("{env}-{role}");
        tagged.push((format!("role {role}"), Tagged::Role(role)));
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    for f in ["event-logger", "dead-letter-processor"] {
        let name = format!("{env}-{f}");
        tagged.push((format!("function {name}"), Tagged::Function(name.clone())));
        let group = format!("/aws/lambda/{name}");
        let groups = logs
            .describe_log_groups()
            .log_group_name_prefix(&group)
            .send()
            .await
            .unwrap();
        let arn = groups.log_groups()[0].arn().unwrap().trim_end_matches(":*");
        tagged.push((format!("log group {group}"), Tagged::LogGroup(arn.into())));
    }
    for (what, resource) in tagged {
        let found = tags(&sdk, resource).await;
        assert!(carries(&found, &want), "{what}: {found:?}");
    }
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    // The state is lost; adopt rebuilds it from the tags, and then nothing is left to do.
    let before = fingerprint(&ctx).await;
    lose_the_state(&ctx);
    ctx.deploy()
        .args(["adopt", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "event-bus {env}-application-events"
        )));
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing to do"));
    assert_eq!(fingerprint(&ctx).await, before, "nothing was replaced");
    ctx.deploy()
        .args(["status", "--live"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Healthy"));

    // A resource made behind the tool's back with this deployment's tags is an orphan.
    let stray = format!("{env}-stray");
    sqs.create_queue()
        .queue_name(&stray)
        .set_tags(Some(want.clone().into_iter().collect()))
        .send()
        .await
        .unwrap();
    ctx.deploy()
        .args(["status", "--live"])
        .assert()
        .code(7)
        .stdout(predicate::str::contains(format!("queue {stray}")))
        .stdout(predicate::str::contains("ORPHAN"));
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_by_discovery_removes_exactly_what_carries_the_tags() {
    let ctx = TestContext::with(Kind::Ministack);
    deploy_all(&ctx);
    let env = ctx.environment.clone();
    let sdk = ctx.sdk().await;
    // Foreign resources, named to tempt a sweep: this deployment's bus and function names in
    // another region; a rule tagged for another environment; a queue with a similar name and no
    // tags.
    let west = ctx.fresh_copy().region("us-west-2");
    let west_sdk = west.sdk().await;
    let west_events = aws_sdk_eventbridge::Client::new(&west_sdk);
    west_events
        .create_event_bus()
        .name(format!("{env}-application-events"))
        .send()
        .await
        .unwrap();
    let west_lambda = aws_sdk_lambda::Client::new(&west_sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let logger = format!("{env}-event-logger");
    support::aws::create_function(&west_lambda, &iam, &logger, &format!("foreign-{env}")).await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    events
        .put_rule()
        .name(format!("{env}-other-environment-rule"))
        .event_pattern(r#"{"source":["other"]}"#)
        .tags(
            aws_sdk_eventbridge::types::Tag::builder()
                .key("Project")
                .value("hub")
                .build()
                .unwrap(),
        )
        .tags(
            aws_sdk_eventbridge::types::Tag::builder()
                .key("Environment")
                .value("someone-else")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    sqs.create_queue()
        .queue_name(format!("{env}-eventbridge-dlq-similar"))
        .send()
        .await
        .unwrap();

    lose_the_state(&ctx);
    // A first run is killed as soon as it starts removing; the next completes it.
    let mut first = support::gate::spawn(&ctx, &["destroy", "--discover", "--auto-approve"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let state = ctx.state_dir().join("state.json");
    while std::time::Instant::now() < deadline {
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        if text.contains("\"created_by\": \"destroy-discovered\"") {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    support::gate::signal(&first, rustix::process::Signal::KILL);
    first.wait().unwrap();
    ctx.deploy()
        .args(["destroy", "--discover", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let mut left = leftovers(&ctx).await;
    left.retain(|l| !l.contains("-other-environment-rule") && !l.contains("-similar"));
    assert_eq!(left, Vec::<String>::new());
    // The foreign ones survive.
    west_events
        .describe_event_bus()
        .name(format!("{env}-application-events"))
        .send()
        .await
        .expect("the other region's bus survives");
    west_lambda
        .get_function()
        .function_name(&logger)
        .send()
        .await
        .expect("the other region's function survives");
    events
        .describe_rule()
        .name(format!("{env}-other-environment-rule"))
        .send()
        .await
        .expect("the other environment's rule survives");
    sqs.get_queue_url()
        .queue_name(format!("{env}-eventbridge-dlq-similar"))
        .send()
        .await
        .expect("the similar queue survives");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tagged_role_in_the_way_is_adopted_and_an_untagged_queue_stops_the_run() {
    // What a lost CreateRole answer leaves: the role, tagged, unknown to Terraform's state.
    let ctx = TestContext::with(Kind::Ministack);
    let env = ctx.environment.clone();
    let sdk = ctx.sdk().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let role = format!("{env}-event-publisher-role");
    let mut create = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
    for (k, v) in ours(&ctx) {
        create = create.tags(
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .unwrap(),
        );
    }
    let made = create.send().await.unwrap();
    let role_id = made.role().unwrap().role_id().to_string();
    ctx.deploy()
        .args(["all", "--auto-approve", "-v"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("adopting role {role}")));
    let after = iam.get_role().role_name(&role).send().await.unwrap();
    assert_eq!(
        after.role().unwrap().role_id(),
        role_id,
        "adopted, not replaced"
    );
    ctx.deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert!(
        iam.get_role().role_name(&role).send().await.is_err(),
        "destroy removed it"
    );

    // A queue with the DLQ's name, made beforehand without tags, stops the run; it survives.
    let other = TestContext::with(Kind::Ministack);
    let sqs = aws_sdk_sqs::Client::new(&other.sdk().await);
    let dlq = format!("{}-eventbridge-dlq", other.environment);
    sqs.create_queue().queue_name(&dlq).send().await.unwrap();
    other
        .deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("queue {dlq}")))
        .stderr(predicate::str::contains("stopped before any change"));
    sqs.get_queue_url()
        .queue_name(&dlq)
        .send()
        .await
        .expect("the queue survives");
}

//! The `infrastructure` step with real terraform against the emulators.
//!
//! An apply costs about 30 s (the provider waits for the SQS queue's attributes), so one stack
//! is deployed once per test process ([`deployed`]) and shared by the read-only tests; only the
//! behaviours that need their own apply (retry after a timeout, moto) make another.

mod support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use predicates::prelude::*;
use support::{Kind, TestContext};
use tokio::sync::{RwLock, RwLockReadGuard};

const TIMEOUT: Duration = Duration::from_secs(300);

static STACK: OnceLock<TestContext> = OnceLock::new();
/// Read-only tests of the shared stack hold it for reading; the one test that changes the
/// stack holds it for writing.
static SHARED: RwLock<()> = RwLock::const_new(());

/// The shared stack, for reading.
async fn deployed() -> (&'static TestContext, RwLockReadGuard<'static, ()>) {
    let ctx = stack();
    (ctx, SHARED.read().await)
}

/// A stack deployed once on the shared ministack: preflight and iam, then
/// `deploy all --only infrastructure`.
fn stack() -> &'static TestContext {
    STACK.get_or_init(|| {
        let ctx = TestContext::with(Kind::Ministack);
        for step in ["preflight", "iam"] {
            ctx.deploy().args(["run", step]).assert().success();
        }
        let started = Instant::now();
        ctx.deploy()
            .args(["all", "--auto-approve", "--only", "infrastructure"])
            .timeout(TIMEOUT)
            .assert()
            .success()
            .stderr(predicate::str::contains("Completed infrastructure"));
        eprintln!(
            "fresh stack: deploy all --only infrastructure took {:.1}s",
            started.elapsed().as_secs_f64()
        );
        ctx
    })
}

fn bus(ctx: &TestContext) -> String {
    format!("{}-application-events", ctx.environment)
}

fn dlq(ctx: &TestContext) -> String {
    format!("{}-eventbridge-dlq", ctx.environment)
}

fn archive(ctx: &TestContext) -> String {
    format!("{}-event-archive", ctx.environment)
}

/// The rules of the default hub (the routes the configuration gives), by name.
fn rule_names(ctx: &TestContext) -> Vec<String> {
    let text = std::fs::read_to_string(ctx.config_path()).unwrap();
    deploy_config::parse(
        &ctx.config_path(),
        &text,
        &deploy_config::Overrides::default(),
    )
    .unwrap()
    .rule_names()
}

fn step_log(ctx: &TestContext) -> String {
    std::fs::read_to_string(ctx.state_dir().join("logs/infrastructure.log")).unwrap()
}

/// Rules on the bus, except the one EventBridge manages for the archive.
async fn our_rules(events: &aws_sdk_eventbridge::Client, bus: &str) -> Vec<String> {
    let rules = events
        .list_rules()
        .event_bus_name(bus)
        .send()
        .await
        .unwrap();
    let mut names: Vec<String> = rules
        .rules()
        .iter()
        .filter_map(|r| r.name().map(str::to_string))
        .filter(|n| !n.starts_with("Events-Archive-"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn infrastructure_creates_bus_seven_rules_archive_queue_and_three_roles() {
    let (ctx, _reading) = deployed().await;
    let sdk = ctx.sdk().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    events
        .describe_event_bus()
        .name(bus(ctx))
        .send()
        .await
        .unwrap();
    let mut expected = rule_names(ctx);
    expected.sort();
    assert_eq!(our_rules(&events, &bus(ctx)).await, expected);
    let logger = events
        .describe_rule()
        .name(format!("{}-all-events-to-logger", ctx.environment))
        .event_bus_name(bus(ctx))
        .send()
        .await
        .unwrap();
    assert!(logger.event_pattern().unwrap().contains("custom."));
    let a = events
        .describe_archive()
        .archive_name(archive(ctx))
        .send()
        .await
        .unwrap();
    assert!(a.event_source_arn().unwrap().ends_with(&bus(ctx)));

    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .get_queue_url()
        .queue_name(dlq(ctx))
        .send()
        .await
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url.queue_url().unwrap())
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(
        attrs[&QueueAttributeName::MessageRetentionPeriod],
        "1209600"
    );
    assert!(attrs[&QueueAttributeName::Policy].contains("events.amazonaws.com"));

    let iam = aws_sdk_iam::Client::new(&sdk);
    for role in [
        "event-publisher-role",
        "event-processor-role",
        "eventbridge-dlq-role",
    ] {
        let name = format!("{}-{role}", ctx.environment);
        iam.get_role().role_name(&name).send().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_and_owned_resources_are_recorded_but_never_the_managed_archive_rule() {
    let (ctx, _reading) = deployed().await;
    let state = ctx.state_json();
    let step = &state["steps"]["infrastructure"];
    assert_eq!(step["status"], "completed");
    assert_eq!(step["attempts"], 1);
    let out = &step["outputs"];
    assert_eq!(out["event_bus_name"], bus(ctx).as_str());
    let listed: Vec<String> = serde_json::from_str(out["rule_names"].as_str().unwrap()).unwrap();
    assert_eq!(listed, rule_names(ctx));
    assert!(out["dlq_arn"].as_str().unwrap().ends_with(&dlq(ctx)));

    let inventory = state["inventory"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&str> {
        inventory
            .iter()
            .filter(|r| r["kind"] == kind && r["created_by"] == "infrastructure")
            .map(|r| r["name"].as_str().unwrap())
            .collect()
    };
    assert_eq!(of("event-bus"), [bus(ctx)]);
    assert_eq!(of("rule").len(), 7);
    assert!(of("rule").iter().all(|r| !r.starts_with("Events-Archive-")));
    assert_eq!(of("queue"), [dlq(ctx)]);
    assert_eq!(of("archive"), [archive(ctx)]);
    assert_eq!(of("role").len(), 3);
    assert!(of("schema-registry").is_empty());
    let rule = inventory.iter().find(|r| r["kind"] == "rule").unwrap();
    assert_eq!(rule["attributes"]["bus"], bus(ctx).as_str());

    let tfvars = ctx.state_dir().join("terraform/terraform.tfvars.json");
    let vars: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tfvars).unwrap()).unwrap();
    assert_eq!(vars["environment"], ctx.environment.as_str());
    assert_eq!(vars["enable_schema_registry"], false);
    // The routes are data: every rule comes from the configuration, none is named in HCL.
    assert_eq!(vars["routes"].as_object().unwrap().len(), 7);
    let hcl = std::fs::read_to_string(support::repo_root().join("terraform/rules.tf")).unwrap();
    assert!(
        !hcl.contains("audio-uploaded"),
        "no route named in the stack"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_event_put_to_the_bus_does_not_land_in_the_dlq() {
    let (ctx, _reading) = deployed().await;
    let sdk = ctx.sdk().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = sqs
        .get_queue_url()
        .queue_name(dlq(ctx))
        .send()
        .await
        .unwrap();
    let url = url.queue_url().unwrap().to_string();
    let dlq_arn = ctx.state_json()["steps"]["infrastructure"]["outputs"]["dlq_arn"]
        .as_str()
        .unwrap()
        .to_string();
    for rule in rule_names(ctx) {
        let targets = events
            .list_targets_by_rule()
            .rule(&rule)
            .event_bus_name(bus(ctx))
            .send()
            .await
            .unwrap();
        assert!(
            targets.targets().iter().all(|t| t.arn() != dlq_arn),
            "rule {rule} sends events straight to the DLQ"
        );
    }
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(bus(ctx))
        .source("custom.upload-service")
        .detail_type("Audio Uploaded")
        .detail(r#"{"userId":"u1","fileId":"0b5c7a1e-1111-4222-8333-944455556666"}"#)
        .build();
    let put = events.put_events().entries(entry).send().await.unwrap();
    assert_eq!(put.failed_entry_count(), 0);
    // Absence can only be shown by waiting: long-poll the queue for a few seconds.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .wait_time_seconds(1)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        assert!(
            got.messages().is_empty(),
            "the DLQ received {:?}",
            got.messages()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_skips_force_plans_without_apply_and_a_retention_change_reapplies() {
    let ctx = stack();
    let _changing = SHARED.write().await;
    let first_log = step_log(ctx);
    ctx.deploy()
        .args(["run", "infrastructure"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "Skipped infrastructure: up to date",
        ));
    assert_eq!(step_log(ctx), first_log, "the skipped step did not run");

    ctx.deploy()
        .args(["run", "infrastructure", "--force"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let forced = step_log(ctx);
    assert!(forced.contains("-detailed-exitcode"), "{forced}");
    assert!(forced.contains("plan: no changes"), "{forced}");
    assert!(
        forced.contains("nothing to apply (apply skipped)"),
        "{forced}"
    );
    assert!(!forced.contains("$ terraform apply"), "{forced}");

    let config = std::fs::read_to_string(ctx.config_path()).unwrap();
    std::fs::write(
        ctx.config_path(),
        format!("{config}\n[eventbus]\narchive_retention_days = 3\n"),
    )
    .unwrap();
    let started = Instant::now();
    ctx.deploy()
        .args(["run", "infrastructure"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::contains("Completed infrastructure"));
    eprintln!("retention change: {:.1}s", started.elapsed().as_secs_f64());
    let changed = step_log(ctx);
    assert!(changed.contains("inputs changed in tfvars"), "{changed}");
    assert!(changed.contains("$ terraform apply"), "{changed}");
    // A change that deletes nothing is planned and applied by one terraform process.
    assert!(
        changed.contains("planned and applied by one terraform process"),
        "{changed}"
    );
    assert!(!changed.contains("$ terraform plan"), "{changed}");
    let sdk = ctx.sdk().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let a = events
        .describe_archive()
        .archive_name(archive(ctx))
        .send()
        .await
        .unwrap();
    assert_eq!(a.retention_days(), Some(3));
}

fn standin(name: &str) -> String {
    support::repo_root()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn a_timeout_on_the_first_apply_is_retried_and_completes_on_attempt_2() {
    let counter = tempfile::tempdir().unwrap();
    // The product's default budget (120 s), so the retry comes whatever init and plan cost
    // under the suite's load.
    let ctx = TestContext::with(Kind::Ministack)
        .terraform_binary(&standin("terraform-standin-timeout-once"))
        .retry_seconds(120)
        .env("STANDIN_STATE_DIR", counter.path().to_str().unwrap());
    ctx.deploy()
        .args(["run", "infrastructure"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::contains("transient"));
    let step = &ctx.state_json()["steps"]["infrastructure"];
    assert_eq!(step["status"], "completed");
    assert_eq!(step["attempts"], 2);
    let count = std::fs::read_to_string(counter.path().join("apply-count")).unwrap();
    assert_eq!(count.trim(), "2");
}

#[test]
fn already_exists_fails_the_step_with_the_import_hint() {
    let ctx = TestContext::with(Kind::Ministack)
        .terraform_binary(&standin("terraform-standin-already-exists"));
    ctx.deploy()
        .args(["run", "infrastructure"])
        .timeout(TIMEOUT)
        .assert()
        .failure()
        .stderr(predicate::str::contains("aws_cloudwatch_event_bus.this"))
        .stderr(predicate::str::contains("already exists in AWS"))
        .stderr(predicate::str::contains("terraform import"))
        .stderr(predicate::str::contains("different environment name"));
    let step = &ctx.state_json()["steps"]["infrastructure"];
    assert_eq!(step["status"], "failed");
    assert_eq!(step["attempts"], 1, "already exists is not retried");
}

#[test]
fn init_without_any_provider_source_names_the_plugin_mirror_setting() {
    let empty = tempfile::tempdir().unwrap();
    let ctx = TestContext::offline().env(
        "DEPLOY_TERRAFORM_PLUGIN_MIRROR",
        empty.path().to_str().unwrap(),
    );
    ctx.deploy()
        .args(["run", "infrastructure"])
        .timeout(TIMEOUT)
        .assert()
        .failure()
        .stderr(predicate::str::contains("no provider source is reachable"))
        .stderr(predicate::str::contains("[terraform] plugin_mirror"))
        .stderr(predicate::str::contains("DEPLOY_TERRAFORM_PLUGIN_MIRROR"));
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_applies_the_stack_then_plans_no_changes() {
    let ctx = TestContext::with(Kind::Moto);
    let started = Instant::now();
    ctx.deploy()
        .args(["run", "infrastructure"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    eprintln!("moto: fresh apply {:.1}s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    ctx.deploy()
        .args(["run", "infrastructure", "--force"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    eprintln!("moto: forced plan {:.1}s", started.elapsed().as_secs_f64());
    let log = step_log(&ctx);
    assert!(log.contains("plan: no changes"), "{log}");
    assert!(!log.contains("$ terraform apply"), "{log}");

    // moto, like AWS, adds a managed rule for the archive: it is on the bus, never ours.
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk().await);
    assert_eq!(our_rules(&events, &bus(&ctx)).await.len(), 7);
    let state = ctx.state_json();
    let managed = state["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"].as_str().unwrap().starts_with("Events-Archive-"));
    assert!(!managed, "the archive's managed rule is not ours");
}

//! Changing a live hub, against ministack with real terraform: a change expands, is verified,
//! then contracts; renamed routes (queue and function targets) end healthy with the old rule
//! gone only after the new one is in place; a queue that holds messages is never deleted
//! without consent (exit 9, named with its depth), whether a change retires it or `destroy`
//! would delete it; `deploy plan` lists what a pending change expands and retires.

mod support;

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use support::{Kind, TestContext};

const TIMEOUT: Duration = Duration::from_secs(600);

fn route(key: &str, target: &str) -> String {
    format!("[routes.{key}]\nevents = [\"user-registered\"]\ntargets = [{target}]\n")
}

fn healthy(ctx: &TestContext) {
    let out = ctx
        .deploy()
        .args(["status", "--live"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "status --live\n{text}");
}

async fn queue_url(ctx: &TestContext, name: &str) -> Option<String> {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk().await);
    let out = sqs.get_queue_url().queue_name(name).send().await.ok()?;
    out.queue_url().map(str::to_string)
}

async fn send(ctx: &TestContext, queue: &str, n: usize) {
    for i in 0..n {
        send_event(ctx, queue, &format!("m{i}")).await;
    }
}

/// One message in `queue`, an event with the id `id`.
async fn send_event(ctx: &TestContext, queue: &str, id: &str) {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk().await);
    let url = queue_url(ctx, queue).await.expect("the queue exists");
    let body = format!("{{\"id\":\"{id}\",\"source\":\"custom.test\",\"detail-type\":\"X\"}}");
    sqs.send_message()
        .queue_url(&url)
        .message_body(body)
        .send()
        .await
        .unwrap();
}

/// `destroy --auto-approve` refused (exit 9): its stderr.
fn destroy_refused(ctx: &TestContext) -> String {
    let out = ctx
        .deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(9), "{text}");
    text
}

/// Messages in the queue: waiting, and received but not deleted.
async fn depth(ctx: &TestContext, queue: &str) -> u64 {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk().await);
    let url = queue_url(ctx, queue).await.expect("the queue exists");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let a = attrs.attributes().unwrap();
    let n = |k: QueueAttributeName| a[&k].parse::<u64>().unwrap();
    n(QueueAttributeName::ApproximateNumberOfMessages)
        + n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
}

/// Reads the queue empty, as its consumer would.
async fn drain(ctx: &TestContext, queue: &str) {
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk().await);
    let url = queue_url(ctx, queue).await.expect("the queue exists");
    while depth(ctx, queue).await > 0 {
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in got.messages() {
            let handle = m.receipt_handle().unwrap();
            sqs.delete_message()
                .queue_url(&url)
                .receipt_handle(handle)
                .send()
                .await
                .unwrap();
        }
    }
}

/// Every resource event of a `--json` run: (action, address), in order.
fn resource_events(ndjson: &str) -> Vec<(String, String)> {
    ndjson
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "step_progress" && v["resource"]["phase"] == "start")
        .filter_map(|v| {
            let r = &v["resource"];
            Some((r["action"].as_str()?.into(), r["address"].as_str()?.into()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_route_with_a_queue_target_is_created_before_the_old_one_goes() {
    let ctx =
        TestContext::with(Kind::Ministack).config(&route("orders-a", "{ sqs = \"orders-inbox\" }"));
    assert_eq!(ctx.deploy_all(&[]).0, Some(0));
    let ctx = ctx.replace_config(&route("orders-b", "{ sqs = \"orders-inbox\" }"));
    let env = ctx.environment.clone();
    let (code, text) = ctx.deploy_all(&["--json"]);
    assert_eq!(code, Some(0), "{text}");
    let events = resource_events(&text);
    let first_delete = events.iter().position(|(a, _)| a == "delete");
    let last_create = events.iter().rposition(|(a, _)| a == "create");
    assert!(
        first_delete.is_some(),
        "the old rule is deleted: {events:?}"
    );
    assert!(
        last_create < first_delete,
        "every create comes before any delete: {events:?}"
    );
    let rules = support::aws::rule_names(&ctx).await;
    assert!(rules.contains(&format!("{env}-orders-b")), "{rules:?}");
    assert!(!rules.contains(&format!("{env}-orders-a")), "{rules:?}");
    healthy(&ctx);
    // Nothing pending any more: the next run does nothing.
    let (code, text) = ctx.deploy_all(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nothing to do"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_route_with_a_function_target_moves_the_target_and_stays_healthy() {
    let ctx =
        TestContext::with(Kind::Ministack).config(&route("log-a", "{ lambda = \"event-logger\" }"));
    assert_eq!(ctx.deploy_all(&[]).0, Some(0));
    let ctx = ctx.replace_config(&route("log-b", "{ lambda = \"event-logger\" }"));
    let (code, text) = ctx.deploy_all(&[]);
    assert_eq!(code, Some(0), "{text}");
    let env = ctx.environment.clone();
    let rules = support::aws::rule_names(&ctx).await;
    assert!(!rules.contains(&format!("{env}-log-a")), "{rules:?}");
    let inventory = ctx.state_json()["inventory"].clone();
    let on_old_rule = inventory
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["attributes"]["rule"] == format!("{env}-log-a"))
        .count();
    assert_eq!(
        on_old_rule, 0,
        "the old rule's target is forgotten: {inventory}"
    );
    healthy(&ctx);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_swapped_queue_holding_messages_is_kept_until_it_is_read_empty() {
    let ctx =
        TestContext::with(Kind::Ministack).config(&route("orders", "{ sqs = \"orders-inbox\" }"));
    assert_eq!(ctx.deploy_all(&[]).0, Some(0));
    let old = format!("{}-orders-inbox", ctx.environment);
    send(&ctx, &old, 2).await;
    let ctx = ctx.replace_config(&route("orders", "{ sqs = \"orders-inbox-v2\" }"));
    let plan = ctx
        .deploy()
        .args(["plan"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&plan.stdout).to_string();
    assert!(plan.contains("expands queue"), "{plan}");
    assert!(
        plan.contains(&format!("retires queue {old} (2 message(s)")),
        "{plan}"
    );

    let (code, text) = ctx.deploy_all(&[]);
    assert_eq!(code, Some(9), "{text}");
    assert!(
        text.contains(&old) && text.contains("2 message(s)"),
        "{text}"
    );
    assert_eq!(
        depth(&ctx, &old).await,
        2,
        "the queue and its messages are kept"
    );
    assert!(
        queue_url(&ctx, &format!("{old}-v2")).await.is_some(),
        "the new queue exists"
    );

    drain(&ctx, &old).await;
    let (code, text) = ctx.deploy_all(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        queue_url(&ctx, &old).await.is_none(),
        "the empty queue is removed"
    );
    healthy(&ctx);
}

#[tokio::test(flavor = "multi_thread")]
async fn discarding_messages_removes_the_queue_and_the_audit_log_records_how_many() {
    let ctx =
        TestContext::with(Kind::Ministack).config(&route("orders", "{ sqs = \"orders-inbox\" }"));
    assert_eq!(ctx.deploy_all(&[]).0, Some(0));
    let old = format!("{}-orders-inbox", ctx.environment);
    send(&ctx, &old, 3).await;
    let ctx = ctx.replace_config("");
    let (code, text) = ctx.deploy_all(&["--discard-messages"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(queue_url(&ctx, &old).await.is_none());
    let audit = std::fs::read_to_string(ctx.state_dir().join("checkpoints.log")).unwrap();
    let discarded: Vec<serde_json::Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "messages-discarded")
        .collect();
    assert_eq!(discarded.len(), 1, "{audit}");
    assert_eq!(discarded[0]["queue"], old.as_str());
    assert_eq!(discarded[0]["messages"], 3);
    healthy(&ctx);
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_with_messages_in_the_dead_letter_queue_deletes_nothing_until_consent() {
    let ctx = TestContext::with(Kind::Ministack);
    assert_eq!(ctx.deploy_all(&[]).0, Some(0));
    // The dead-letter processor's mapping would consume them: off first.
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk().await);
    let processor = format!("{}-dead-letter-processor", ctx.environment);
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(&processor)
        .send()
        .await
        .unwrap();
    for m in mappings.event_source_mappings() {
        lambda
            .update_event_source_mapping()
            .uuid(m.uuid().unwrap())
            .enabled(false)
            .send()
            .await
            .unwrap();
    }
    let dlq = format!("{}-eventbridge-dlq", ctx.environment);
    send(&ctx, &dlq, 3).await;
    let text = destroy_refused(&ctx);
    assert!(
        text.contains(&dlq) && text.contains("3 message(s)"),
        "{text}"
    );
    assert_eq!(depth(&ctx, &dlq).await, 3);
    assert!(
        lambda
            .get_function()
            .function_name(&processor)
            .send()
            .await
            .is_ok(),
        "nothing was deleted"
    );
    ctx.deploy()
        .args(["destroy", "--auto-approve", "--discard-messages"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(support::aws::leftovers(&ctx).await, Vec::<String>::new());
}

/// `test-events`' own events left in a consumer queue (a receive whose delete was lost) are the
/// tool's: a teardown takes them out before its guard. Anyone else's message still stops it.
#[tokio::test(flavor = "multi_thread")]
async fn a_teardown_takes_out_test_events_own_events_and_stops_for_anyone_elses() {
    let ctx =
        TestContext::with(Kind::Ministack).config(&route("orders", "{ sqs = \"orders-inbox\" }"));
    assert_eq!(ctx.deploy_all(&[]).0, Some(0));
    let results = std::fs::read_to_string(ctx.state_dir().join("test-results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    let own = results["events"][0]["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    let queue = format!("{}-orders-inbox", ctx.environment);
    send_event(&ctx, &queue, &own).await;
    send(&ctx, &queue, 1).await;
    let text = destroy_refused(&ctx);
    assert!(
        text.contains(&format!("{queue} (1 message(s)")),
        "only the foreign message is counted: {text}"
    );
    assert_eq!(depth(&ctx, &queue).await, 1, "the foreign message stays");
    drain(&ctx, &queue).await;
    ctx.deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(support::aws::leftovers(&ctx).await, Vec::<String>::new());
}

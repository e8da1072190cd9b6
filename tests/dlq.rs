//! `deploy dlq show|export|redrive` against ministack with real terraform, on one deployed stack
//! the tests share (each holds it alone: they all fill and empty its dead-letter queue). Dead
//! letters are written as EventBridge writes them, with the dead-letter processor paused; what a
//! redrive re-publishes is counted where its route delivers it (a queue of the deployment).

#[path = "dlq/stack.rs"]
mod stack;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use stack::{Failure, Stack, counts, eventually, ids, original_ids, throttled};
use support::shared::Shared;
use support::{Kind, TestContext, gate};

static STACK: Shared<Stack> = Shared::new();

const DELIVERY: Duration = Duration::from_secs(30);
const EMPTY: (u64, u64) = (0, 0);

/// `n` test events tagged `tag`, in the dead-letter queue as failed deliveries of the inbox
/// route; returns them.
async fn dead_letters(stack: &Stack, tag: &str, n: usize) -> Vec<Value> {
    let events: Vec<Value> = (0..n)
        .map(|i| stack::event(tag, i, json!({"n": i, "nested": {"k": [1, 2]}})))
        .collect();
    let rule = stack.rule_arn("redrive-inbox");
    let aws = stack.aws().await;
    aws.dead_letters(&stack.dlq_url, &events, &throttled(&rule))
        .await;
    events
}

#[tokio::test(flavor = "multi_thread")]
async fn show_reports_depth_and_counts_and_leaves_every_message_in_the_queue() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let aws = stack.aws().await;
    dead_letters(&stack, "show", 3).await;
    let logger = stack.rule_arn("all-events-to-logger");
    let mut other = stack::event("show", 3, json!({}));
    other["source"] = json!("dlqtest.other");
    other["detail-type"] = json!("Other");
    let denied = Failure {
        rule_arn: &logger,
        error_code: "NO_PERMISSIONS",
        error_message: "not authorized",
    };
    aws.dead_letters(&stack.dlq_url, &[other], &denied).await;

    let (code, doc) = stack.dlq_json(&["show"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        doc["depth"],
        json!({"visible": 4, "in_flight": 0}),
        "{doc:#}"
    );
    assert_eq!(doc["read"], 4);
    assert_eq!(doc["sample"], false);
    assert_eq!(
        doc["by_source"],
        json!({stack::SOURCE: 3, "dlqtest.other": 1})
    );
    let detail_types = json!({stack::DETAIL_TYPE: 3, "Other": 1});
    assert_eq!(doc["by_detail_type"], detail_types);
    let inbox = stack.rule_arn("redrive-inbox");
    assert_eq!(doc["by_rule"], json!({inbox: 3, logger: 1}));
    let codes = json!({"THROTTLING": 3, "NO_PERMISSIONS": 1});
    assert_eq!(doc["by_error_code"], codes);
    assert!(doc["oldest_age_seconds"].is_u64(), "{doc:#}");
    let sample = doc["messages"].as_array().unwrap();
    assert_eq!(sample.len(), 4, "{doc:#}");
    for m in sample {
        assert!(m["event_id"].as_str().unwrap().starts_with("show-"), "{m}");
        assert!(
            m["error_code"].is_string() && m["error_message"].is_string(),
            "{m}"
        );
    }
    assert_eq!(
        aws.depth(&stack.dlq_url).await,
        (4, 0),
        "consumed or hidden"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn show_says_its_counts_are_of_a_sample_when_the_queue_holds_more_than_it_read() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let aws = stack.aws().await;
    dead_letters(&stack, "sample", 4).await;
    // One message held by someone else (a consumer): show cannot read it.
    let held = aws.sqs.receive_message().queue_url(&stack.dlq_url);
    held.visibility_timeout(60).send().await.unwrap();

    let (code, text, stderr) = stack.dlq_text(&["show"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("4 messages (3 visible, 1 in flight)"),
        "{text}"
    );
    assert!(text.contains("A sample: 3 messages read of 4"), "{text}");
    assert!(text.contains(&format!("3  {}", stack::SOURCE)), "{text}");
    assert_eq!(aws.depth(&stack.dlq_url).await, (3, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn export_writes_each_original_event_as_a_line_and_deletes_nothing() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let mut events = dead_letters(&stack, "export", 3).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kept.jsonl");

    let (code, doc) = stack.dlq_json(&["export", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc, ["written", "deleted"]), [3, 0], "{doc:#}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.ends_with('\n'), "{text}");
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_id = |e: &Value| e["id"].as_str().unwrap().to_string();
    lines.sort_by_key(by_id);
    events.sort_by_key(by_id);
    assert_eq!(lines, events, "each line the original event");
    let aws = stack.aws().await;
    assert_eq!(aws.depth(&stack.dlq_url).await, (3, 0), "deleted or hidden");
}

#[tokio::test(flavor = "multi_thread")]
async fn export_with_delete_empties_the_queue_once_every_line_is_written() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let events = dead_letters(&stack, "moved", 3).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("moved.jsonl");

    let (code, doc) = stack.dlq_json(&["export", file.to_str().unwrap(), "--delete"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc, ["written", "deleted"]), [3, 3], "{doc:#}");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ids(&lines), ids(&events));
    assert_eq!(doc["left"], json!({"visible": 0, "in_flight": 0}));
    assert_eq!(stack.aws().await.depth(&stack.dlq_url).await, EMPTY);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_refuses_a_file_that_exists_or_cannot_be_created_with_exit_2() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    dead_letters(&stack, "refused", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("earlier.jsonl");
    std::fs::write(&existing, "{\"id\":\"earlier\"}\n").unwrap();

    let (code, _, stderr) = stack.dlq_text(&["export", existing.to_str().unwrap(), "--delete"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("exists"), "{stderr}");
    let kept = std::fs::read_to_string(&existing).unwrap();
    assert_eq!(
        kept, "{\"id\":\"earlier\"}\n",
        "an earlier export overwritten"
    );
    let (code, _, stderr) = stack.dlq_text(&["export", "/nonexistent/dir/x.jsonl"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stack.aws().await.depth(&stack.dlq_url).await, (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_delivers_each_event_to_its_route_empties_the_queue_and_then_sends_nothing() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let aws = stack.aws().await;
    let mut events = dead_letters(&stack, "redrive", 2).await;
    // A rule of the default bus names no bus: the event goes to the deployment's.
    let third = stack::event("redrive", 2, json!({}));
    let default_bus_rule = "arn:aws:events:us-east-1:000000000000:rule/somewhere";
    let third_letters = [third.clone()];
    aws.dead_letters(&stack.dlq_url, &third_letters, &throttled(default_bus_rule))
        .await;
    events.push(third);

    let (code, doc) = stack.dlq_json(&["redrive"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        counts(&doc, ["sent", "refused", "failed"]),
        [3, 0, 0],
        "{doc:#}"
    );
    assert_eq!(doc["left"], json!({"visible": 0, "in_flight": 0}));
    let delivered = aws
        .delivered(&stack.inbox_url, &ids(&events), DELIVERY)
        .await;
    for e in &delivered {
        assert_eq!(e["detail"]["_replay"]["attempt"], 1, "{e}");
        assert_eq!(e["detail"]["_replay"]["lastErrorCode"], "THROTTLING", "{e}");
        assert_eq!(e["source"], stack::SOURCE, "{e}");
        assert_eq!(e["detail-type"], stack::DETAIL_TYPE, "{e}");
    }
    assert_eq!(aws.depth(&stack.dlq_url).await, EMPTY);

    let (code, doc) = stack.dlq_json(&["redrive"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(counts(&doc, ["sent", "refused", "failed"]), [0, 0, 0]);
    assert_eq!(doc["messages"], json!([]), "{doc:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redrive_killed_partway_and_run_again_delivers_all_fifty_and_leaves_none() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let aws = stack.aws().await;
    let events = dead_letters(&stack, "killed", 50).await;
    assert_eq!(aws.depth(&stack.dlq_url).await, (50, 0));

    let mut child = gate::spawn(&stack.ctx, &["dlq", "redrive", "--rate", "5"]);
    eventually(DELIVERY, "the first deletes", || async {
        let (visible, in_flight) = aws.depth(&stack.dlq_url).await;
        (visible + in_flight < 50).then_some(())
    })
    .await;
    gate::signal(&child, rustix::process::Signal::KILL);
    child.wait().unwrap();
    let (visible, in_flight) = aws.depth(&stack.dlq_url).await;
    assert!(
        visible + in_flight > 0,
        "killed after the end: nothing left to test"
    );
    // The kill may land between a receive and its deletes: such messages stay hidden for a
    // while. Hide a few as it would have (for less long), so the second run meets them.
    let hidden = aws.sqs.receive_message().queue_url(&stack.dlq_url);
    let hidden = hidden.max_number_of_messages(3).visibility_timeout(10);
    assert!(!hidden.send().await.unwrap().messages().is_empty());

    let (code, doc) = stack.dlq_json(&["redrive"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        doc["left"],
        json!({"visible": 0, "in_flight": 0}),
        "{doc:#}"
    );
    let delivered = aws
        .delivered(&stack.inbox_url, &ids(&events), DELIVERY)
        .await;
    assert_eq!(original_ids(&delivered), ids(&events));
    assert_eq!(aws.depth(&stack.dlq_url).await, EMPTY);
}

/// Three dead letters re-published before: 3 times (the limit), twice, and never.
async fn replayed_letters(stack: &Stack) -> [Value; 3] {
    let replayed = |n: u64| json!({"_replay": {"attempt": n, "originalEventId": "first"}});
    let letters = [
        stack::event("guard", 0, replayed(3)),
        stack::event("guard", 1, replayed(2)),
        stack::event("guard", 2, json!({})),
    ];
    let rule = stack.rule_arn("redrive-inbox");
    let aws = stack.aws().await;
    aws.dead_letters(&stack.dlq_url, &letters, &throttled(&rule))
        .await;
    letters
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_at_the_republish_limit_is_refused_and_stays_in_the_queue() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let aws = stack.aws().await;
    let [at_limit, _, fresh] = replayed_letters(&stack).await;

    let (code, doc) = stack.dlq_json(&["redrive"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        counts(&doc, ["sent", "refused", "failed"]),
        [2, 1, 0],
        "{doc:#}"
    );
    assert_eq!(doc["max_republish"], 3);
    let messages = doc["messages"].as_array().unwrap();
    let refused: Vec<&Value> = messages
        .iter()
        .filter(|m| m["outcome"] == "refused")
        .collect();
    assert_eq!(refused[0]["event_id"], at_limit["id"], "{doc:#}");
    let left = aws.peek_bodies(&stack.dlq_url).await;
    assert_eq!(left, vec![at_limit], "left in the queue");

    let fresh_id = fresh["id"].as_str().unwrap().to_string();
    let wanted = BTreeSet::from(["first".to_string(), fresh_id]);
    let delivered = aws.delivered(&stack.inbox_url, &wanted, DELIVERY).await;
    let attempt = |e: &Value| e["detail"]["_replay"]["attempt"].as_u64().unwrap();
    let attempts: BTreeSet<u64> = delivered.iter().map(attempt).collect();
    assert_eq!(attempts, BTreeSet::from([1, 3]), "counters: {delivered:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reports_what_it_would_send_and_sends_and_deletes_nothing() {
    let stack = STACK.write().await;
    let _paused = stack.quiet().await;
    let aws = stack.aws().await;
    let [at_limit, ..] = replayed_letters(&stack).await;

    let (code, doc) = stack.dlq_json(&["redrive", "--dry-run"]);
    assert_eq!(code, 0, "{doc:#}");
    let reported = counts(&doc, ["would_send", "sent", "refused", "failed"]);
    assert_eq!(reported, [2, 0, 1, 0], "{doc:#}");
    assert_eq!(
        doc["left"],
        json!({"visible": 3, "in_flight": 0}),
        "{doc:#}"
    );
    let (code, text, stderr) = stack.dlq_text(&["redrive", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("would send 2, nothing sent or deleted"),
        "{text}"
    );
    assert!(
        text.contains("1 refused by the loop guard (limit 3"),
        "{text}"
    );
    let refused = format!("refused    event {}", at_limit["id"].as_str().unwrap());
    assert!(text.contains(&refused), "{text}");

    assert_eq!(
        aws.depth(&stack.dlq_url).await,
        (3, 0),
        "a dry run took something"
    );
    assert_eq!(
        aws.depth(&stack.inbox_url).await,
        EMPTY,
        "a dry run sent something"
    );
}

#[test]
fn with_no_dead_letter_queue_deployed_each_command_exits_4() {
    let ctx = TestContext::with(Kind::Ministack);
    let file = ctx.path().join("out.jsonl");
    let export = vec!["export", file.to_str().unwrap()];
    for args in [vec!["show"], export, vec!["redrive"]] {
        let out = ctx.deploy().arg("dlq").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(stderr.contains("no dead-letter queue"), "{stderr}");
    }
    assert!(!file.exists(), "no file made when nothing is deployed");
}

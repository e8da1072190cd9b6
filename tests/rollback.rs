//! A change that fails its verification is rolled back, against ministack with real terraform:
//! the event-logger's code broken (it throws on every event), or the logger route's pattern
//! changed so that no example matches it. `deploy all` returns to the last good deployment and
//! exits 11 naming the failed check; `--no-rollback` keeps the failed change until `deploy
//! rollback`; a rollback killed (`kill -9`) is finished by the next run; a deploy after a
//! rollback is the new last good one. One stack is shared (see `rollback/stack.rs`).
//!
//! What ministack cannot show: it runs an EventBridge-to-Lambda delivery without Lambda's
//! asynchronous retry and on-failure destination path (a delivery the function fails is dropped
//! there), while a direct asynchronous `Invoke` (InvocationType `Event`) goes through it; the
//! on-failure destination is tested that way.

#[path = "rollback/stack.rs"]
mod stack;
mod support;

use std::io::BufRead;
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use stack::{BROKEN, LOGGER_PATTERN, STACK, Stack};

const ROLLED_BACK: i32 = 11;
const DEADLINE: Duration = Duration::from_secs(60);

async fn alias_version(stack: &Stack) -> String {
    let lambda = aws_sdk_lambda::Client::new(&stack.ctx.sdk().await);
    let alias = lambda
        .get_alias()
        .function_name(stack.logger())
        .name("live");
    let out = alias.send().await.unwrap();
    out.function_version().unwrap().to_string()
}

async fn logger_pattern(stack: &Stack) -> String {
    let events = aws_sdk_eventbridge::Client::new(&stack.ctx.sdk().await);
    let rule = format!("{}-all-events-to-logger", stack.env());
    let bus = format!("{}-application-events", stack.env());
    let out = events.describe_rule().name(rule).event_bus_name(bus);
    out.send()
        .await
        .unwrap()
        .event_pattern()
        .unwrap()
        .to_string()
}

/// Same JSON, whatever the spacing.
fn same_json(a: &str, b: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(a).unwrap()
        == serde_json::from_str::<serde_json::Value>(b).unwrap()
}

fn assert_healthy(stack: &Stack) {
    let (code, text) = stack.run(&["status", "--live"]);
    assert_eq!(code, Some(0), "status --live: {text}");
}

/// Publishes `n` events 5 a second; returns their ids (what the logger logs of each).
async fn publish(stack: &Stack, n: usize) -> Vec<String> {
    let events = aws_sdk_eventbridge::Client::new(&stack.ctx.sdk().await);
    let bus = format!("{}-application-events", stack.env());
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut markers = Vec::new();
    for i in 0..n {
        tick.tick().await;
        let marker = format!("rb-{}-{i}", std::process::id());
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&bus)
            .source("custom.rollback-test")
            .detail_type("Rollback Test")
            .detail(format!("{{\"marker\":\"{marker}\"}}"))
            .build();
        let out = events.put_events().entries(entry).send().await.unwrap();
        assert_eq!(out.failed_entry_count(), 0);
        markers.push(out.entries()[0].event_id().unwrap().to_string());
    }
    markers
}

/// Everything the logger logged since `since` (milliseconds), every page.
async fn logged(stack: &Stack, since: i64) -> String {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&stack.ctx.sdk().await);
    let group = format!("/aws/lambda/{}", stack.logger());
    let (mut text, mut token) = (String::new(), None);
    loop {
        let page = logs.filter_log_events().log_group_name(&group);
        let page = page.start_time(since).set_next_token(token).send().await;
        let Ok(page) = page else { return text };
        text.extend(page.events().iter().filter_map(|e| e.message()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return text;
        }
    }
}

/// Polls the logger's log group until every event id is logged (or the deadline passes).
async fn wait_logged(stack: &Stack, markers: &[String], since: i64) {
    let start = Instant::now();
    loop {
        let text = logged(stack, since).await;
        let missing: Vec<&String> = markers.iter().filter(|m| !text.contains(*m)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "not logged: {missing:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Messages in the queue at `url`: visible and in flight.
async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let got = sqs.get_queue_attributes().queue_url(url);
    let got = got.attribute_names(A::ApproximateNumberOfMessages);
    let got = got.attribute_names(A::ApproximateNumberOfMessagesNotVisible);
    let got = got.send().await.unwrap();
    let attrs = got.attributes().unwrap();
    let n = |k: A| {
        attrs
            .get(&k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    n(A::ApproximateNumberOfMessages) + n(A::ApproximateNumberOfMessagesNotVisible)
}

/// Polls the dead-letter queue for a message containing `marker`; returns its body (the
/// message stays in the queue).
async fn find_in_dlq(sqs: &aws_sdk_sqs::Client, url: &str, marker: &str) -> String {
    let start = Instant::now();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10);
        let got = got.visibility_timeout(0).wait_time_seconds(1).send().await;
        for m in got.unwrap().messages() {
            let body = m.body().unwrap_or_default();
            if body.contains(marker) {
                return body.to_string();
            }
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{marker} never reached the dead-letter queue"
        );
    }
}

/// Every line of a `--json` stream, each valid against docs/events.schema.json.
fn valid_stream(stdout: &[u8]) -> Vec<serde_json::Value> {
    let schema = std::fs::read(support::repo_root().join("docs/events.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for l in &lines {
        let errors: Vec<String> = validator.iter_errors(l).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{l}\n{errors:?}");
    }
    lines
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throwing_logger_is_rolled_back_and_its_async_failures_reach_the_dlq() {
    let stack = STACK.write().await;
    let good = alias_version(&stack).await;
    let broken = stack.break_logger();
    let (code, text) = stack.run(&["all", "--auto-approve"]);
    assert_eq!(code, Some(ROLLED_BACK), "{text}");
    assert!(text.contains("rolled back"), "{text}");
    assert!(
        text.contains("all-events-to-logger"),
        "the failed route is named: {text}"
    );
    assert_eq!(alias_version(&stack).await, good, "the alias is back");
    // Every event published once the rollback finished is logged (by the good version).
    let since = jiff::Timestamp::now().as_millisecond() - 60_000;
    let ids = publish(&stack, 10).await;
    wait_logged(&stack, &ids, since).await;
    let (code, text) = stack.run(&["run", "test-events"]);
    assert_eq!(code, Some(0), "test-events after the rollback: {text}");

    // $LATEST still holds the broken code (everything invokes the alias): an asynchronous
    // invocation of it fails, and Lambda hands the event to its on-failure destination.
    let lambda = aws_sdk_lambda::Client::new(&stack.ctx.sdk().await);
    let marker = format!("async-{}", std::process::id());
    let payload =
        format!("{{\"source\":\"custom.rollback-test\",\"detail\":{{\"marker\":\"{marker}\"}}}}");
    let invoke = lambda
        .invoke()
        .function_name(stack.logger())
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload));
    assert_eq!(invoke.send().await.unwrap().status_code(), 202);
    let (sqs, url) = dlq(&stack).await;
    let record = find_in_dlq(&sqs, &url, &marker).await;
    assert!(record.contains(BROKEN), "the error is recorded: {record}");
    // Visible or held in flight by the dead-letter processor (which leaves such records).
    let (code, text) = stack.run(&["status", "--live"]);
    assert_eq!(
        code,
        Some(7),
        "a dead-letter queue holding it is degraded: {text}"
    );
    assert!(text.contains("1 message(s) waiting"), "{text}");
    empty(&sqs, &url).await;
    drop(broken);
}

/// A function that fails one event type only loses none of them: each failed asynchronous
/// invocation reaches the on-failure destination (the hub's DLQ) with its error, the other
/// events are processed, and `status --live` reports the DLQ's depth as degraded. (Direct
/// asynchronous invocations: see the top of this file for why not through the bus.)
#[tokio::test(flavor = "multi_thread")]
async fn a_function_failing_one_event_type_sends_those_to_the_dlq_and_processes_the_rest() {
    let stack = STACK.write().await;
    let poisoned = stack.poison_logger("Rollback Poison");
    let (code, text) = stack.run(&["all", "--auto-approve"]);
    assert_eq!(code, Some(0), "no example is of that type: {text}");
    let lambda = aws_sdk_lambda::Client::new(&stack.ctx.sdk().await);
    let since = jiff::Timestamp::now().as_millisecond() - 60_000;
    let pid = std::process::id();
    let mut sent = Vec::new();
    for (i, detail_type) in [
        "Rollback Poison",
        "Rollback Test",
        "Rollback Poison",
        "Rollback Test",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("one-type-{pid}-{i}");
        let payload = serde_json::json!({"id": id, "source": "custom.rollback-test",
            "detail-type": detail_type, "detail": {"marker": id}});
        let invoke = lambda
            .invoke()
            .function_name(stack.logger())
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.to_string()));
        assert_eq!(invoke.send().await.unwrap().status_code(), 202);
        sent.push((id, *detail_type == "Rollback Poison"));
    }
    let (sqs, url) = dlq(&stack).await;
    for (id, _) in sent.iter().filter(|(_, poison)| *poison) {
        let record = find_in_dlq(&sqs, &url, id).await;
        assert!(record.contains(BROKEN), "the error is recorded: {record}");
    }
    let processed: Vec<String> = sent
        .iter()
        .filter(|(_, p)| !p)
        .map(|(id, _)| id.clone())
        .collect();
    wait_logged(&stack, &processed, since).await;
    assert_eq!(
        depth(&sqs, &url).await,
        2,
        "only the failed type is dead-lettered"
    );
    let (code, text) = stack.run(&["status", "--live"]);
    assert_eq!(code, Some(7), "{text}");
    assert!(text.contains("2 message(s) waiting"), "{text}");
    empty(&sqs, &url).await;
    drop(poisoned);
    let (code, text) = stack.run(&["all", "--auto-approve"]);
    assert_eq!(code, Some(0), "the logger as it was: {text}");
}

/// The hub's dead-letter queue: a client and its URL.
async fn dlq(stack: &Stack) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&stack.ctx.sdk().await);
    let dlq = format!("{}-eventbridge-dlq", stack.env());
    let url = sqs.get_queue_url().queue_name(dlq).send().await.unwrap();
    let url = url.queue_url().unwrap().to_string();
    (sqs, url)
}

/// The queue emptied for the next test (a purge takes what is in flight too).
async fn empty(sqs: &aws_sdk_sqs::Client, url: &str) {
    sqs.purge_queue().queue_url(url).send().await.unwrap();
    let start = Instant::now();
    while depth(sqs, url).await > 0 {
        assert!(start.elapsed() < DEADLINE, "the queue stays non-empty");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pattern_no_example_matches_is_rolled_back_even_when_the_rollback_is_killed() {
    let stack = STACK.write().await;
    let edit = stack.unmatch_logger_route();
    let mut child = stack
        .ctx
        .std_command()
        .args(["all", "--auto-approve", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the rollback's terraform apply started.
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        seen.push(line);
        if v["type"] == "step_progress" && v["step"] == "rollback" && v["resource"].is_object() {
            let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
            rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert!(
        stack.document("rollback/pending.json").is_some(),
        "killed during the rollback: {}",
        seen.join("\n")
    );
    let killed = valid_stream(seen.join("\n").as_bytes());
    let phases: Vec<&str> = killed
        .iter()
        .filter(|v| v["type"] == "rollback")
        .filter_map(|v| v["phase"].as_str())
        .collect();
    assert_eq!(
        phases,
        ["possible", "started"],
        "the stream says it may roll back, then does"
    );
    let mut again = stack.ctx.deploy();
    again.args(["all", "--auto-approve", "--json"]);
    let out = again.timeout(Duration::from_secs(600)).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(ROLLED_BACK), "{text}");
    assert!(text.contains("a rollback did not finish"), "{text}");
    assert!(text.contains("all-events-to-logger"), "{text}");
    let lines = valid_stream(&out.stdout);
    let finished = lines
        .iter()
        .find(|v| v["type"] == "rollback" && v["phase"] == "finished");
    let finished = finished.expect("the stream says what it rolled back");
    let checks = finished["failed_checks"].to_string();
    assert!(checks.contains("all-events-to-logger"), "{finished}");
    assert!(stack.document("rollback/pending.json").is_none());
    assert!(same_json(&logger_pattern(&stack).await, LOGGER_PATTERN));
    assert_healthy(&stack);
    let (_, plan) = stack.run(&["plan"]);
    assert!(plan.contains("last rollback"), "{plan}");
    drop(edit);
    let (code, plan) = stack.run(&["plan"]);
    assert_eq!(code, Some(0), "{plan}");
    assert!(plan.contains("may roll back"), "{plan}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_rollback_keeps_the_failed_change_until_deploy_rollback() {
    let stack = STACK.write().await;
    let good = alias_version(&stack).await;
    let broken = stack.break_logger();
    let (code, text) = stack.run(&["all", "--auto-approve", "--no-rollback"]);
    assert_eq!(code, Some(1), "{text}");
    assert_ne!(alias_version(&stack).await, good, "the failed change stays");
    let (code, text) = stack.run(&["status", "--live"]);
    assert_eq!(code, Some(7), "{text}");
    assert!(text.contains("verification"), "{text}");
    drop(broken);
    let (code, text) = stack.run(&["rollback"]);
    assert_eq!(code, Some(2), "no terminal, no --auto-approve: {text}");
    let (code, text) = stack.run(&["rollback", "--auto-approve"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(alias_version(&stack).await, good);
    assert_healthy(&stack);

    // A deployment with no last good one recorded has nothing to roll back to.
    let fresh = support::TestContext::with(support::Kind::Ministack);
    let out = fresh.deploy().args(["rollback", "--auto-approve"]).output();
    let out = out.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("no last good deployment"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_after_a_rollback_is_the_new_last_good_one() {
    let stack = STACK.write().await;
    let before = stack.document("rollback/last-good.json").unwrap();
    {
        let _broken = stack.break_logger();
        let (code, text) = stack.run(&["all", "--auto-approve"]);
        assert_eq!(code, Some(ROLLED_BACK), "{text}");
    }
    let _fixed = stack.touch_logger("a fix");
    let (code, text) = stack.run(&["all", "--auto-approve"]);
    assert_eq!(code, Some(0), "{text}");
    let after = stack.document("rollback/last-good.json").unwrap();
    assert_ne!(after["recorded_at"], before["recorded_at"]);
    let live = alias_version(&stack).await;
    assert_eq!(after["aliases"][stack.logger()], live, "{after}");
    let lambda = aws_sdk_lambda::Client::new(&stack.ctx.sdk().await);
    for f in [
        stack.logger(),
        format!("{}-dead-letter-processor", stack.env()),
    ] {
        let out = lambda.list_versions_by_function().function_name(&f);
        let out = out.send().await.unwrap();
        let numbered: Vec<&str> = out
            .versions()
            .iter()
            .filter_map(|v| v.version())
            .filter(|v| *v != "$LATEST")
            .collect();
        assert!(numbered.len() <= 2, "{f}: {numbered:?}");
    }
    assert_healthy(&stack);
}
